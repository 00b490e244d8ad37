/**
 * Retrieval metrics: how a similarity product is judged. Each track asks for its nearest tracks, the way the
 * UI's track page asks (other artists, other releases), and a hit is relevant when it shares something with
 * the query (a style, a genre, a label; or, for artist retrieval, the artist itself, other releases only).
 *
 * Pure functions of arrays. Rankings are exact (every candidate scored), so the figures describe the vectors,
 * not the approximate index that serves them.
 */

/** What a track is, as far as relevance goes. */
export interface RetrievalItem {
  id: number
  artists: readonly number[]
  release: number
  labels: readonly number[]
  styles: readonly string[]
  genres: readonly string[]
}

export const RELATIONS = ['style', 'genre', 'label', 'artist'] as const
export type Relation = (typeof RELATIONS)[number]

export interface RetrievalFigure {
  relation: Relation
  k: number
  /** mean over queries of the relevant share of the first k */
  precision: number
  /** mean over queries of AP@k (averagePrecisionAtK) */
  map: number
  /** the share of relevant pairs among each query's candidates, averaged over queries: random ranking's precision */
  chance: number
  /** precision / chance */
  lift: number
  /** queries with at least one relevant candidate (the others cannot be scored and are left out) */
  queries: number
}

/** Share of the first k that are relevant. A ranking shorter than k counts its missing places as misses. */
export function precisionAtK(relevant: ArrayLike<boolean | number>, k: number): number {
  checkK(k)
  let hits = 0
  for (let i = 0; i < Math.min(k, relevant.length); i++) if (relevant[i]) hits++
  return hits / k
}

/**
 * AP@k: Σ over the first k places i that are relevant of precision@i, divided by min(k, relevantTotal), so a
 * ranking that puts every reachable relevant item first scores 1. NaN without relevant items.
 */
export function averagePrecisionAtK(
  relevant: ArrayLike<boolean | number>,
  relevantTotal: number,
  k: number,
): number {
  checkK(k)
  if (relevantTotal <= 0) return Number.NaN
  let hits = 0
  let sum = 0
  for (let i = 0; i < Math.min(k, relevant.length); i++) {
    if (relevant[i]) {
      hits++
      sum += hits / (i + 1)
    }
  }
  return sum / Math.min(k, relevantTotal)
}

/** Whether `b` may be retrieved for query `a` under `relation`, and whether it is relevant. */
function candidacy(
  relation: Relation,
  a: RetrievalItem,
  b: RetrievalItem,
): { candidate: boolean; relevant: boolean } {
  if (a.id === b.id || a.release === b.release) return { candidate: false, relevant: false }
  const sameArtist = intersects(a.artists, b.artists)
  if (relation === 'artist') return { candidate: true, relevant: sameArtist }
  if (sameArtist) return { candidate: false, relevant: false }
  const relevant =
    relation === 'style'
      ? intersects(a.styles, b.styles)
      : relation === 'genre'
        ? intersects(a.genres, b.genres)
        : intersects(a.labels, b.labels)
  return { candidate: true, relevant }
}

function intersects<T>(a: readonly T[], b: readonly T[]): boolean {
  for (const x of a) if (b.includes(x)) return true
  return false
}

/**
 * Precision@k, mAP@k, chance and lift per relation, ranking every candidate by cosine similarity of the given
 * vectors (ties by position, i.e. stable). `vectors[i]` belongs to `items[i]`; they need not be unit length.
 */
export function retrievalFigures(
  vectors: readonly Float32Array[],
  items: readonly RetrievalItem[],
  options: { k?: number; relations?: readonly Relation[] } = {},
): RetrievalFigure[] {
  const k = options.k ?? 10
  checkK(k)
  if (vectors.length !== items.length)
    throw new RangeError(`${vectors.length} vectors for ${items.length} items`)
  const n = items.length
  const unit = vectors.map(normalised)
  const sims = new Float32Array(n)
  const order = new Uint32Array(n)
  const acc = new Map<Relation, { p: number; ap: number; chance: number; q: number }>()
  const relations = options.relations ?? RELATIONS
  for (const r of relations) acc.set(r, { p: 0, ap: 0, chance: 0, q: 0 })
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) sims[b] = dot(unit[a], unit[b])
    for (let b = 0; b < n; b++) order[b] = b
    order.sort((x, y) => sims[y] - sims[x] || x - y)
    for (const r of relations) {
      const ranked: boolean[] = []
      let candidates = 0
      let relevantTotal = 0
      for (let i = 0; i < n; i++) {
        const c = candidacy(r, items[a], items[order[i]])
        if (!c.candidate) continue
        candidates++
        if (c.relevant) relevantTotal++
        ranked.push(c.relevant)
      }
      if (!relevantTotal) continue
      const s = acc.get(r)!
      s.p += precisionAtK(ranked, k)
      s.ap += averagePrecisionAtK(ranked, relevantTotal, k)
      s.chance += relevantTotal / candidates
      s.q++
    }
  }
  return relations.map((relation) => {
    const s = acc.get(relation)!
    const precision = s.q ? s.p / s.q : Number.NaN
    const chance = s.q ? s.chance / s.q : Number.NaN
    return {
      relation,
      k,
      precision,
      map: s.q ? s.ap / s.q : Number.NaN,
      chance,
      lift: precision / chance,
      queries: s.q,
    }
  })
}

function normalised(v: Float32Array): Float32Array {
  let norm = 0
  for (let i = 0; i < v.length; i++) norm += v[i] * v[i]
  norm = Math.sqrt(norm)
  if (!(norm > 0) || !Number.isFinite(norm))
    throw new RangeError('a vector has no direction (zero or non-finite)')
  const out = new Float32Array(v.length)
  for (let i = 0; i < v.length; i++) out[i] = v[i] / norm
  return out
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i] * b[i]
  return s
}

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`)
}

/**
 * The math of mixes, paths and radio over search vectors (unit length; similarity = (1 + cosine) / 2).
 * Pure functions of arrays: the service fetches candidates and their vectors, these choose and order them.
 */

/** A track that may go into a mix or a path, with what the rules need to know of it. */
export interface MixCandidate {
  id: number
  /** its search vector (unit length) */
  vector: Float32Array
  /** its artists (track credits, else the release's): the variety cap counts each */
  artists: readonly number[]
  /** recordingKey(title, artists): the same recording on another release has the same key */
  recording: string
}

/** Cosine above which two tracks count as the same audio (a re-release, a duplicate file). */
export const NEAR_DUPLICATE_COSINE = 0.99

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`vectors of ${a.length} and ${b.length} values`)
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i] * b[i]
  return s
}

/** (1 + cosine) / 2 of two unit vectors: the API's similarity scale (0.5 = as related as random tracks). */
export function similarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return (1 + Math.min(1, Math.max(-1, dot(a, b)))) / 2
}

export function normalize(v: Float32Array): Float32Array {
  const n = Math.sqrt(dot(v, v))
  if (!(n > 0)) throw new RangeError('a zero vector has no direction')
  return v.map((x) => x / n)
}

/** The direction of the mean of unit vectors (the seeds' centre). */
export function meanDirection(vectors: readonly Float32Array[]): Float32Array {
  if (!vectors.length) throw new RangeError('no vectors')
  const m = new Float32Array(vectors[0].length)
  for (const v of vectors) for (let i = 0; i < m.length; i++) m[i] += v[i]
  return normalize(m)
}

/**
 * Spherical interpolation between unit vectors a (t = 0) and b (t = 1): the point at fraction t of the great
 * arc, so equal steps of t are equal angles and every waypoint is a unit vector. Nearly equal vectors fall
 * back to a normalised lerp (sin Ω ≈ 0); exactly opposite ones have no single arc and are refused.
 */
export function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  const cos = Math.min(1, Math.max(-1, dot(a, b)))
  const omega = Math.acos(cos)
  const sin = Math.sin(omega)
  if (sin < 1e-6) {
    if (cos < 0) throw new RangeError('opposite vectors: no single arc between them')
    return normalize(a.map((x, i) => (1 - t) * x + t * b[i]))
  }
  const wa = Math.sin((1 - t) * omega) / sin
  const wb = Math.sin(t * omega) / sin
  return a.map((x, i) => wa * x + wb * b[i])
}

/**
 * What makes two tracks the same recording: the title lower-cased, accents and bracketed remaster/version
 * notes removed, punctuation folded to spaces, plus the sorted artist ids. "Song (2011 Remaster)" by artist 7
 * and "song" by artist 7 share a key; "Song (Live)" does not (a different performance).
 */
export function recordingKey(title: string, artists: readonly number[]): string {
  const t = title
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[([][^)\]]*\b(remaster(ed)?|mono|stereo|version|\d{4})\b[^)\]]*[)\]]/g, ' ')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
  return `${t}|${[...artists].sort((x, y) => x - y).join(',')}`
}

/** What is already in (or was played before) a mix: nothing the same, or nearly the same, may follow. */
export class PlayedSet {
  private readonly ids = new Set<number>()
  private readonly recordings = new Set<string>()
  private readonly vectors: Float32Array[] = []

  add(c: Pick<MixCandidate, 'id' | 'vector' | 'recording'>): void {
    this.ids.add(c.id)
    this.recordings.add(c.recording)
    this.vectors.push(c.vector)
  }

  /** The same track, the same recording, or a vector within NEAR_DUPLICATE_COSINE of one already played. */
  repeats(c: Pick<MixCandidate, 'id' | 'vector' | 'recording'>): boolean {
    if (this.ids.has(c.id) || this.recordings.has(c.recording)) return true
    return this.vectors.some((v) => dot(v, c.vector) > NEAR_DUPLICATE_COSINE)
  }
}

export interface OrderMixInput {
  /** where the mix starts from: the last track played (a seed, or the radio's last track) */
  start: Float32Array
  /** the seeds' centre: the mix keeps coming back to it */
  centre: Float32Array
  candidates: readonly MixCandidate[]
  first: number
  /** at most this many tracks per artist */
  maxPerArtist: number
  /** weight of the last track against the centre (0: the seeds' top-k; 1: a random walk) */
  alpha: number
  /** seeds and earlier tracks: never repeated */
  played: PlayedSet
}

/**
 * A mix that flows: greedily, the next track is the candidate with the highest
 * α·sim(last, c) + (1 − α)·sim(centre, c) that repeats nothing played and whose artists are under the cap.
 * Returns candidates in play order (at most `first`; fewer when the candidates run out).
 * Cost: candidates × |played| once, then first × candidates vector products (a pick rules out its repeats
 * as it is made, so no step compares with the whole mix again).
 */
export function orderMix(input: OrderMixInput): MixCandidate[] {
  const { candidates, centre, alpha, maxPerArtist, played } = input
  const toCentre = candidates.map((c) => similarity(centre, c.vector))
  // neither rule relaxes as the mix grows, so a candidate ruled out stays out
  const ruledOut = Uint8Array.from(candidates, (c) => (played.repeats(c) ? 1 : 0))
  const perArtist = new Map<number, number>()
  const mix: MixCandidate[] = []
  let last = input.start
  while (mix.length < input.first) {
    let best = -1
    let bestScore = -Infinity
    for (let i = 0; i < candidates.length; i++) {
      if (ruledOut[i]) continue
      const c = candidates[i]
      if (c.artists.some((a) => (perArtist.get(a) ?? 0) >= maxPerArtist)) {
        ruledOut[i] = 1
        continue
      }
      const score = alpha * similarity(last, c.vector) + (1 - alpha) * toCentre[i]
      if (score > bestScore || (score === bestScore && c.id < candidates[best].id))
        [best, bestScore] = [i, score]
    }
    if (best < 0) break
    const pick = candidates[best]
    ruledOut[best] = 1
    played.add(pick)
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i]
      if (
        !ruledOut[i] &&
        (c.recording === pick.recording || dot(c.vector, pick.vector) > NEAR_DUPLICATE_COSINE)
      )
        ruledOut[i] = 1
    }
    for (const a of pick.artists) perArtist.set(a, (perArtist.get(a) ?? 0) + 1)
    mix.push(pick)
    last = pick.vector
  }
  return mix
}

/** The waypoints of a path of `tracks` tracks (ends included): the inner points of the arc from a to b. */
export function pathWaypoints(from: Float32Array, to: Float32Array, tracks: number): Float32Array[] {
  const out: Float32Array[] = []
  for (let i = 1; i < tracks - 1; i++) out.push(slerp(from, to, i / (tracks - 1)))
  return out
}

export interface ChoosePathInput {
  from: MixCandidate
  to: MixCandidate
  /** the inner waypoints, in order along the arc (pathWaypoints) */
  waypoints: readonly Float32Array[]
  /** per waypoint: the candidates nearest it */
  nearWaypoint: readonly (readonly MixCandidate[])[]
}

/**
 * The tracks of a path: `from`, at most one candidate per waypoint, then `to`, with the similarity to `to`
 * strictly rising all along. Among such paths: the one with the most tracks, then the one whose tracks lie
 * nearest their waypoints (sum of similarities). Greedy "nearest that is closer than the last step" lost
 * most steps: one early overshoot (a track already very near `to`) left later waypoints nothing to offer.
 * Dynamic programming over (waypoint, candidate), O((waypoints · candidates)²). A waypoint left without a
 * track is skipped: the path gets shorter rather than step back. Repeats (of the ends, or of a recording
 * already on the path) are dropped, which keeps the rise.
 */
export function choosePath(input: ChoosePathInput): { tracks: MixCandidate[]; skipped: number } {
  const { from, to, waypoints } = input
  const ends = new PlayedSet()
  ends.add(from)
  ends.add(to)
  const start = similarity(from.vector, to.vector)
  interface Node {
    c: MixCandidate
    wp: number
    toEnd: number
    fit: number
    count: number
    sum: number
    prev: Node | null
  }
  const layers: Node[][] = input.nearWaypoint.map((near, wp) =>
    near
      .filter((c) => !ends.repeats(c))
      .map((c) => ({
        c,
        wp,
        toEnd: similarity(c.vector, to.vector),
        fit: similarity(c.vector, waypoints[wp]),
        count: 0,
        sum: 0,
        prev: null,
      }))
      .filter((n) => n.toEnd > start),
  )
  let best: Node | null = null
  const better = (a: { count: number; sum: number }, b: { count: number; sum: number } | null) =>
    !b || a.count > b.count || (a.count === b.count && a.sum > b.sum)
  for (let i = 0; i < layers.length; i++) {
    for (const n of layers[i]) {
      n.count = 1
      n.sum = n.fit
      for (let j = 0; j < i; j++) {
        for (const p of layers[j]) {
          if (p.toEnd >= n.toEnd) continue
          const cand = { count: p.count + 1, sum: p.sum + n.fit }
          if (better(cand, n)) [n.count, n.sum, n.prev] = [cand.count, cand.sum, p]
        }
      }
      if (better(n, best)) best = n
    }
  }
  const middle: MixCandidate[] = []
  for (let n = best; n; n = n.prev) middle.unshift(n.c)
  const played = ends
  const tracks = [from]
  for (const c of middle) {
    if (played.repeats(c)) continue
    played.add(c)
    tracks.push(c)
  }
  tracks.push(to)
  return { tracks, skipped: waypoints.length - (tracks.length - 2) }
}

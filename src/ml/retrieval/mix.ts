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
 */
export function orderMix(input: OrderMixInput): MixCandidate[] {
  const { centre, alpha, maxPerArtist, played } = input
  const toCentre = input.candidates.map((c) => similarity(centre, c.vector))
  const used = new Uint8Array(input.candidates.length)
  const perArtist = new Map<number, number>()
  const out: MixCandidate[] = []
  let last = input.start
  while (out.length < input.first) {
    let best = -1
    let bestScore = -Infinity
    for (let i = 0; i < input.candidates.length; i++) {
      if (used[i]) continue
      const c = input.candidates[i]
      if (played.repeats(c) || c.artists.some((a) => (perArtist.get(a) ?? 0) >= maxPerArtist)) {
        used[i] = 1 // neither rule relaxes as the mix grows
        continue
      }
      const score = alpha * similarity(last, c.vector) + (1 - alpha) * toCentre[i]
      if (score > bestScore || (score === bestScore && c.id < input.candidates[best].id)) [best, bestScore] = [i, score]
    }
    if (best < 0) break
    const c = input.candidates[best]
    used[best] = 1
    played.add(c)
    for (const a of c.artists) perArtist.set(a, (perArtist.get(a) ?? 0) + 1)
    out.push(c)
    last = c.vector
  }
  return out
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
  /** per waypoint, in order along the arc: candidates nearest that waypoint first */
  nearWaypoint: readonly (readonly MixCandidate[])[]
}

/**
 * The tracks of a path: `from`, then per waypoint its nearest candidate that repeats nothing on the path and
 * is strictly closer to `to` than the step before (so similarity to `to` rises all along), then `to`.
 * A waypoint with no such candidate is skipped: the path gets shorter rather than step back.
 */
export function choosePath(input: ChoosePathInput): { tracks: MixCandidate[]; skipped: number } {
  const { from, to } = input
  const played = new PlayedSet()
  played.add(from)
  played.add(to)
  const tracks = [from]
  let previous = similarity(from.vector, to.vector)
  let skipped = 0
  for (const near of input.nearWaypoint) {
    const pick = near.find((c) => !played.repeats(c) && similarity(c.vector, to.vector) > previous)
    if (!pick) {
      skipped++
      continue
    }
    played.add(pick)
    tracks.push(pick)
    previous = similarity(pick.vector, to.vector)
  }
  tracks.push(to)
  return { tracks, skipped }
}

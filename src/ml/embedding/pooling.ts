/**
 * Track embeddings from patch embeddings: the mean over a track's patches, scaled to unit length (so that
 * cosine distance and dot product agree, and every model's vectors live on the same sphere).
 */

/** Scales `v` to unit L2 norm in place; a zero vector stays zero (nothing to point at). Returns `v`. */
export function l2Normalize(v: Float32Array): Float32Array {
  let sum = 0
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i]
  if (sum === 0 || !Number.isFinite(sum)) return v
  const inv = 1 / Math.sqrt(sum)
  for (let i = 0; i < v.length; i++) v[i] *= inv
  return v
}

/** Unit-length mean of `rows` vectors of `dims` values stored back to back. */
export function meanNormalized(rows: Float32Array, dims: number): Float32Array {
  if (dims < 1 || rows.length % dims !== 0 || rows.length === 0) {
    throw new RangeError(`expected a non-empty multiple of ${dims} values, got ${rows.length}`)
  }
  const n = rows.length / dims
  const acc = new Float64Array(dims)
  for (let r = 0; r < n; r++) for (let i = 0; i < dims; i++) acc[i] += rows[r * dims + i]
  const out = new Float32Array(dims)
  for (let i = 0; i < dims; i++) out[i] = acc[i] / n
  return l2Normalize(out)
}

/** Cosine distance (0 = same direction, 2 = opposite), what pgvector's `<=>` computes. */
export function cosineDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`dimension mismatch: ${a.length} vs ${b.length}`)
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i]
    na += a[i] * a[i]
    nb += b[i] * b[i]
  }
  const denom = Math.sqrt(na * nb)
  return denom === 0 ? 1 : 1 - dot / denom
}

/** Similarity in 0..1 from a cosine distance: 1 = same direction, 0.5 = orthogonal, 0 = opposite. */
export function similarityFromDistance(distance: number): number {
  return Math.min(1, Math.max(0, 1 - distance / 2))
}

/**
 * Accumulates patch embeddings per track as they come out of batched forward passes (a batch may hold the
 * tail of one track and the head of the next; a long track spans several batches) and hands back each
 * track's unit-length mean once all of its patches have been added. With `normalize: false` it hands back
 * the plain mean: class scores are averaged over a track's patches as Essentia does, not rescaled.
 */
export class TrackPooler {
  private readonly sums = new Map<number, { acc: Float64Array; seen: number; expected: number }>()
  private readonly normalize: boolean

  constructor(
    readonly dims: number,
    options: { normalize?: boolean } = {},
  ) {
    this.normalize = options.normalize ?? true
  }

  /** Announces a track and how many patches it has (≥ 1). */
  expect(trackId: number, patches: number): void {
    if (!Number.isInteger(patches) || patches < 1)
      throw new RangeError(`track ${trackId}: patch count must be ≥ 1, got ${patches}`)
    if (this.sums.has(trackId)) throw new RangeError(`track ${trackId} is already being pooled`)
    this.sums.set(trackId, { acc: new Float64Array(this.dims), seen: 0, expected: patches })
  }

  /**
   * Adds row `row` of `rows` ([n, dims]) as one patch of `trackId`. Returns the track's pooled vector when
   * that was its last patch, else null.
   */
  add(trackId: number, rows: Float32Array, row: number): Float32Array | null {
    const s = this.sums.get(trackId)
    if (!s) throw new RangeError(`track ${trackId} was not announced`)
    const base = row * this.dims
    for (let i = 0; i < this.dims; i++) s.acc[i] += rows[base + i]
    if (++s.seen < s.expected) return null
    this.sums.delete(trackId)
    const out = new Float32Array(this.dims)
    for (let i = 0; i < this.dims; i++) out[i] = s.acc[i] / s.seen
    return this.normalize ? l2Normalize(out) : out
  }

  /** Tracks announced whose patches have not all arrived. */
  get pending(): number {
    return this.sums.size
  }
}

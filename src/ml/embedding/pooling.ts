/**
 * Track embeddings from patch embeddings: the mean over a track's patches (with `mean-std` pooling followed
 * by each dimension's standard deviation over them), scaled to unit length (so that cosine distance and dot
 * product agree, and every model's vectors live on the same sphere).
 */

/**
 * How a track's patch vectors become its vector: `mean`, or `mean-std`, the mean and then each dimension's
 * standard deviation over the patches (population form; twice the width). The deviation keeps how the
 * sound moves over the track, which the mean loses and the mel-statistics baseline keeps per band
 * (docs/evaluation.md, "Training settings").
 */
export const TRACK_POOLINGS = ['mean', 'mean-std'] as const
export type TrackPooling = (typeof TRACK_POOLINGS)[number]

export function isTrackPooling(s: unknown): s is TrackPooling {
  return typeof s === 'string' && (TRACK_POOLINGS as readonly string[]).includes(s)
}

/** The width of a track vector pooled from patch vectors of `dims` values. */
export function trackVectorDims(dims: number, pooling: TrackPooling): number {
  return pooling === 'mean-std' ? 2 * dims : dims
}

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
  return pooledNormalized(rows, dims, 'mean')
}

/** Unit-length track vector (`pooling`) of `rows` patch vectors of `dims` values stored back to back. */
export function pooledNormalized(rows: Float32Array, dims: number, pooling: TrackPooling): Float32Array {
  if (dims < 1 || rows.length % dims !== 0 || rows.length === 0) {
    throw new RangeError(`expected a non-empty multiple of ${dims} values, got ${rows.length}`)
  }
  const sums = new PatchSums(dims, pooling)
  for (let r = 0; r < rows.length / dims; r++) sums.add(rows, r)
  return l2Normalize(sums.pooled())
}

/** Running sums (and sums of squares, for `mean-std`) of one track's patch vectors, in float64. */
class PatchSums {
  private readonly sum: Float64Array
  private readonly squares: Float64Array | null
  seen = 0

  constructor(
    private readonly dims: number,
    private readonly pooling: TrackPooling,
  ) {
    this.sum = new Float64Array(dims)
    this.squares = pooling === 'mean-std' ? new Float64Array(dims) : null
  }

  add(rows: Float32Array, row: number): void {
    const base = row * this.dims
    for (let i = 0; i < this.dims; i++) this.sum[i] += rows[base + i]
    if (this.squares) for (let i = 0; i < this.dims; i++) this.squares[i] += rows[base + i] * rows[base + i]
    this.seen++
  }

  /** The mean (then, for `mean-std`, the deviations), not normalised. */
  pooled(): Float32Array {
    const out = new Float32Array(trackVectorDims(this.dims, this.pooling))
    for (let i = 0; i < this.dims; i++) {
      const mean = this.sum[i] / this.seen
      out[i] = mean
      // E[x²] − mean² can fall a rounding error below 0 when every patch is alike
      if (this.squares) out[this.dims + i] = Math.sqrt(Math.max(this.squares[i] / this.seen - mean * mean, 0))
    }
    return out
  }
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
 * track's unit-length vector (`pooling`, default the mean) once all of its patches have been added. With
 * `normalize: false` it hands back the plain mean: class scores are averaged over a track's patches as
 * Essentia does, not rescaled.
 */
export class TrackPooler {
  private readonly sums = new Map<number, { acc: PatchSums; expected: number }>()
  private readonly normalize: boolean
  private readonly pooling: TrackPooling

  constructor(
    readonly dims: number,
    options: { normalize?: boolean; pooling?: TrackPooling } = {},
  ) {
    this.normalize = options.normalize ?? true
    this.pooling = options.pooling ?? 'mean'
  }

  /** Width of the vectors handed back. */
  get outputDims(): number {
    return trackVectorDims(this.dims, this.pooling)
  }

  /** Announces a track and how many patches it has (≥ 1). */
  expect(trackId: number, patches: number): void {
    if (!Number.isInteger(patches) || patches < 1)
      throw new RangeError(`track ${trackId}: patch count must be ≥ 1, got ${patches}`)
    if (this.sums.has(trackId)) throw new RangeError(`track ${trackId} is already being pooled`)
    this.sums.set(trackId, { acc: new PatchSums(this.dims, this.pooling), expected: patches })
  }

  /**
   * Adds row `row` of `rows` ([n, dims]) as one patch of `trackId`. Returns the track's pooled vector when
   * that was its last patch, else null.
   */
  add(trackId: number, rows: Float32Array, row: number): Float32Array | null {
    const s = this.sums.get(trackId)
    if (!s) throw new RangeError(`track ${trackId} was not announced`)
    s.acc.add(rows, row)
    if (s.acc.seen < s.expected) return null
    this.sums.delete(trackId)
    const out = s.acc.pooled()
    return this.normalize ? l2Normalize(out) : out
  }

  /** Tracks announced whose patches have not all arrived. */
  get pending(): number {
    return this.sums.size
  }
}

/**
 * How a patch's backbone vector is read from the encoder's last feature map (its activations at each
 * time × frequency position): `mean` is the encoder's own global average (what training sees); `mean-std`
 * appends each channel's standard deviation over the positions and `mean-max` its maximum, so that how a
 * feature varies across the patch is kept as the mel-statistics baseline keeps each band's deviation;
 * `gem` is the generalised mean (p = 3) of the activations clamped at 1e-6, between the mean and the max.
 */
export const MAP_POOLINGS = ['mean', 'mean-std', 'mean-max', 'gem'] as const
export type MapPooling = (typeof MAP_POOLINGS)[number]

export function isMapPooling(s: string): s is MapPooling {
  return (MAP_POOLINGS as readonly string[]).includes(s)
}

/** Values per channel a pooling gives (mean-std and mean-max: two). */
export function mapPoolingWidth(pooling: MapPooling): number {
  return pooling === 'mean-std' || pooling === 'mean-max' ? 2 : 1
}

const GEM_P = 3
const GEM_FLOOR = 1e-6

/**
 * map: `n` feature maps of `positions` × `channels` values, channels fastest (tfjs's NHWC with H×W
 * flattened) → `n` rows of `channels × mapPoolingWidth(pooling)` values: the means (or GeM) first, then the
 * deviations (population form) or maxima in the same channel order.
 */
export function poolFeatureMap(
  map: Float32Array,
  n: number,
  channels: number,
  pooling: MapPooling,
): Float32Array {
  if (n < 1 || channels < 1 || map.length % (n * channels) !== 0 || map.length === 0)
    throw new RangeError(`expected ${n} maps of a multiple of ${channels} values, got ${map.length}`)
  const positions = map.length / (n * channels)
  const width = mapPoolingWidth(pooling)
  const out = new Float32Array(n * channels * width)
  for (let s = 0; s < n; s++) {
    const base = s * positions * channels
    const row = s * channels * width
    for (let c = 0; c < channels; c++) {
      let sum = 0
      let max = -Infinity
      for (let p = 0; p < positions; p++) {
        const v = map[base + p * channels + c]
        if (pooling === 'gem') sum += Math.max(v, GEM_FLOOR) ** GEM_P
        else sum += v
        if (v > max) max = v
      }
      const mean = sum / positions
      if (pooling === 'gem') {
        out[row + c] = mean ** (1 / GEM_P)
        continue
      }
      out[row + c] = mean
      if (pooling === 'mean-max') out[row + channels + c] = max
      else if (pooling === 'mean-std') {
        let sq = 0
        for (let p = 0; p < positions; p++) sq += (map[base + p * channels + c] - mean) ** 2
        out[row + channels + c] = Math.sqrt(sq / positions)
      }
    }
  }
  return out
}

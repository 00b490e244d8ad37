/**
 * The no-learning baseline of retrieval: a track described by its mel frames' per-band mean and standard
 * deviation (a timbre-and-loudness summary any learned model should beat), each dimension then standardised
 * over the library so that no band dominates the cosine by its scale alone.
 */

/** [mean of band 0 … band b−1, std of band 0 … band b−1] over the frames (row-major [frames][bands]). */
export function melStatistics(frames: Float32Array, bands: number): Float32Array {
  if (!Number.isInteger(bands) || bands < 1)
    throw new RangeError(`bands must be a positive integer, got ${bands}`)
  if (frames.length % bands !== 0)
    throw new RangeError(`${frames.length} values are not whole frames of ${bands} bands`)
  const count = frames.length / bands
  if (!count) throw new RangeError('no frames')
  const sum = new Float64Array(bands)
  const squares = new Float64Array(bands)
  for (let f = 0; f < count; f++) {
    for (let b = 0; b < bands; b++) {
      const v = frames[f * bands + b]
      sum[b] += v
      squares[b] += v * v
    }
  }
  const out = new Float32Array(2 * bands)
  for (let b = 0; b < bands; b++) {
    const mean = sum[b] / count
    out[b] = mean
    out[bands + b] = Math.sqrt(Math.max(squares[b] / count - mean * mean, 0))
  }
  return out
}

/** Each dimension shifted to mean 0 and scaled to standard deviation 1 over the vectors (constant ones to 0). */
export function standardise(vectors: readonly Float32Array[]): Float32Array[] {
  if (!vectors.length) return []
  const d = vectors[0].length
  const mean = new Float64Array(d)
  const squares = new Float64Array(d)
  for (const v of vectors) {
    if (v.length !== d) throw new RangeError(`vectors of ${v.length} and ${d} dims`)
    for (let j = 0; j < d; j++) {
      mean[j] += v[j]
      squares[j] += v[j] * v[j]
    }
  }
  const n = vectors.length
  const scale = new Float64Array(d)
  for (let j = 0; j < d; j++) {
    mean[j] /= n
    const sd = Math.sqrt(Math.max(squares[j] / n - mean[j] * mean[j], 0))
    scale[j] = sd > 1e-9 ? 1 / sd : 0
  }
  return vectors.map((v) => {
    const out = new Float32Array(d)
    for (let j = 0; j < d; j++) out[j] = (v[j] - mean[j]) * scale[j]
    return out
  })
}

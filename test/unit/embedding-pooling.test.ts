import { describe, expect, it } from 'vitest'
import {
  cosineDistance,
  l2Normalize,
  mapPoolingWidth,
  meanNormalized,
  poolFeatureMap,
  pooledNormalized,
  trackVectorDims,
  similarityFromDistance,
  TrackPooler,
} from '../../src/ml/embedding/pooling.ts'
import { decodeVectorSend, encodeEmbeddingCopy } from '../../src/db/repositories/embedding.repository.ts'

const f32 = (...v: number[]) => Float32Array.from(v)

describe('track pooling', () => {
  it('normalises to unit length and leaves a zero vector alone', () => {
    expect(Array.from(l2Normalize(f32(3, 4)))).toEqual([0.6000000238418579, 0.800000011920929])
    expect(Array.from(l2Normalize(f32(0, 0, 0)))).toEqual([0, 0, 0])
  })

  it('takes the mean of the rows, then normalises', () => {
    // mean of (1, 0) and (0, 3) = (0.5, 1.5); length √2.5
    const v = meanNormalized(f32(1, 0, 0, 3), 2)
    expect(v[0]).toBeCloseTo(0.5 / Math.sqrt(2.5), 6)
    expect(v[1]).toBeCloseTo(1.5 / Math.sqrt(2.5), 6)
    expect(() => meanNormalized(f32(1, 2, 3), 2)).toThrow(/multiple of 2/)
  })

  it('pools tracks whose patches arrive across batches, in any interleaving', () => {
    const p = new TrackPooler(2)
    p.expect(10, 3)
    p.expect(11, 1)
    const batch1 = f32(1, 0, /* t10 */ 0, 2 /* t11 */)
    expect(p.add(10, batch1, 0)).toBeNull()
    const t11 = p.add(11, batch1, 1)!
    expect(Array.from(t11)).toEqual([0, 1])
    const batch2 = f32(0, 1, 2, 0)
    expect(p.add(10, batch2, 0)).toBeNull()
    const t10 = p.add(10, batch2, 1)! // mean (1, 1/3)
    expect(t10[0]).toBeCloseTo(1 / Math.hypot(1, 1 / 3), 6)
    expect(t10[1]).toBeCloseTo(1 / 3 / Math.hypot(1, 1 / 3), 6)
    expect(p.pending).toBe(0)
    expect(() => p.add(12, batch2, 0)).toThrow(/not announced/)
    expect(() => p.expect(13, 0)).toThrow(/≥ 1/)
  })

  it('mean-std: the mean, then the deviation of each dimension over the patches, then unit length', () => {
    // patches (1, 0) and (3, 4): mean (2, 2), deviations (1, 2); length √13
    const want = [2, 2, 1, 2].map((x) => x / Math.sqrt(13))
    const v = pooledNormalized(f32(1, 0, 3, 4), 2, 'mean-std')
    expect(v.length).toBe(4)
    want.forEach((w, i) => expect(v[i]).toBeCloseTo(w, 6))
    expect(trackVectorDims(2, 'mean-std')).toBe(4)
    expect(trackVectorDims(2, 'mean')).toBe(2)
    // the same patches arriving one per batch through the pooler
    const p = new TrackPooler(2, { pooling: 'mean-std' })
    expect(p.outputDims).toBe(4)
    p.expect(7, 2)
    expect(p.add(7, f32(9, 9, 1, 0), 1)).toBeNull()
    const t7 = p.add(7, f32(3, 4), 0)!
    want.forEach((w, i) => expect(t7[i]).toBeCloseTo(w, 6))
    // alike patches: deviations 0, not NaN from a rounding error below 0
    const same = pooledNormalized(f32(0.1, 0.7, 0.1, 0.7, 0.1, 0.7), 2, 'mean-std')
    expect(Array.from(same.subarray(2))).toEqual([0, 0])
  })

  it('hands back the plain mean when asked not to normalise (class scores)', () => {
    const p = new TrackPooler(2, { normalize: false })
    p.expect(1, 2)
    expect(p.add(1, f32(0.2, 0.9), 0)).toBeNull()
    const v = p.add(1, f32(0.4, 0.5), 0)!
    expect(v[0]).toBeCloseTo(0.3, 6)
    expect(v[1]).toBeCloseTo(0.7, 6)
  })

  it('maps cosine distance to a 0..1 similarity', () => {
    expect(cosineDistance(f32(1, 0), f32(2, 0))).toBeCloseTo(0, 7)
    expect(cosineDistance(f32(1, 0), f32(0, 1))).toBeCloseTo(1, 7)
    expect(cosineDistance(f32(1, 0), f32(-1, 0))).toBeCloseTo(2, 7)
    expect(similarityFromDistance(0)).toBe(1)
    expect(similarityFromDistance(1)).toBe(0.5)
    expect(similarityFromDistance(2)).toBe(0)
    expect(similarityFromDistance(-1e-7)).toBe(1)
  })
})

describe('feature-map pooling', () => {
  // 2 maps × 2 positions × 2 channels, channels fastest. Map 0: channel 0 reads 1, 3; channel 1 reads −2, 4.
  // Map 1: channel 0 reads 0, 0; channel 1 reads 5, 5.
  const map = f32(1, -2, 3, 4, /* map 1 */ 0, 5, 0, 5)
  const close = (got: Float32Array, want: number[]) => {
    expect(got.length).toBe(want.length)
    want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 5))
  }

  it('mean: the mean of each channel over the positions', () => {
    close(poolFeatureMap(map, 2, 2, 'mean'), [2, 1, 0, 5])
  })

  it('mean-std: the means, then the population deviations', () => {
    // channel 0 of map 0: mean 2, deviations ±1 → 1; channel 1: mean 1, deviations ±3 → 3
    close(poolFeatureMap(map, 2, 2, 'mean-std'), [2, 1, 1, 3, 0, 5, 0, 0])
    expect(mapPoolingWidth('mean-std')).toBe(2)
  })

  it('mean-max: the means, then the maxima', () => {
    close(poolFeatureMap(map, 2, 2, 'mean-max'), [2, 1, 3, 4, 0, 5, 0, 5])
  })

  it('gem: the cube root of the mean cube of the activations clamped at 1e-6', () => {
    // map 0: ((1 + 27) / 2)^(1/3) = 14^(1/3) = 2.4101423; (−2 → 1e-6: (0 + 64) / 2)^(1/3) = 32^(1/3) = 3.1748021
    close(poolFeatureMap(map, 2, 2, 'gem'), [2.4101423, 3.1748021, 1e-6, 5])
    expect(mapPoolingWidth('gem')).toBe(1)
  })

  it('refuses a buffer that is not whole maps', () => {
    expect(() => poolFeatureMap(f32(1, 2, 3), 1, 2, 'mean')).toThrow(/multiple of 2/)
    expect(() => poolFeatureMap(f32(), 1, 2, 'mean')).toThrow(RangeError)
  })
})

describe('vector wire formats', () => {
  it('writes binary COPY rows byte by byte as PostgreSQL reads them', () => {
    const b = encodeEmbeddingCopy(7, 'projection', [
      { trackId: 2 ** 40 + 5, vector: f32(1.5, -2), patches: 3 },
    ])
    expect(b.subarray(0, 11).toString('latin1')).toBe('PGCOPY\n\xff\r\n\0')
    let o = 19
    expect(b.readInt16BE(o)).toBe(5) // fields
    expect(b.readInt32BE((o += 2))).toBe(4)
    expect(b.readInt32BE((o += 4))).toBe(7) // model_id
    expect(b.readInt32BE((o += 4))).toBe(10)
    expect(b.subarray((o += 4), o + 10).toString()).toBe('projection')
    expect(b.readInt32BE((o += 10))).toBe(8)
    expect(b.readBigInt64BE((o += 4))).toBe(BigInt(2 ** 40 + 5))
    expect(b.readInt32BE((o += 8))).toBe(4 + 8) // vector: dims, unused, 2 floats
    expect(Array.from(decodeVectorSend(b.subarray((o += 4), o + 12)))).toEqual([1.5, -2])
    expect(b.readInt32BE((o += 12))).toBe(4)
    expect(b.readInt32BE((o += 4))).toBe(3) // patches
    expect(b.readInt16BE((o += 4))).toBe(-1) // trailer
    expect(b.length).toBe(o + 2)
  })
})

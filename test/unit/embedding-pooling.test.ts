import { describe, expect, it } from 'vitest'
import {
  cosineDistance,
  l2Normalize,
  meanNormalized,
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

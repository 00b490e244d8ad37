import { describe, expect, it } from 'vitest'
import {
  accuracy,
  averagePrecision,
  macroAveragePrecision,
  macroRocAuc,
  oneHot,
  rocAuc,
} from '../../src/ml/metrics.ts'

const f32 = (...v: number[]) => Float32Array.from(v)
const u8 = (...v: number[]) => Uint8Array.from(v)

describe('rocAuc', () => {
  it('counts ordered positive/negative pairs', () => {
    // pairs (pos, neg): (0.35, 0.1) ✓ (0.35, 0.4) ✗ (0.8, 0.1) ✓ (0.8, 0.4) ✓ → 3/4
    expect(rocAuc(f32(0.1, 0.4, 0.35, 0.8), u8(0, 0, 1, 1))).toBeCloseTo(0.75, 6)
  })

  it('counts a tie between a positive and a negative as half a pair (midranks)', () => {
    // positives 0.9, 0.7; negatives 0.7, 0.3, 0.7: 0.9 wins 3; 0.7 wins 1 and ties 2 → (3 + 1 + 2·½)/6 = 5/6
    expect(rocAuc(f32(0.9, 0.7, 0.7, 0.3, 0.7), u8(1, 1, 0, 0, 0))).toBeCloseTo(5 / 6, 6)
    expect(rocAuc(f32(0.5, 0.5, 0.5, 0.5), u8(1, 0, 1, 0))).toBeCloseTo(0.5, 6)
  })

  it('does not depend on the order of tied examples', () => {
    const a = rocAuc(f32(0.2, 0.2, 0.2, 0.6, 0.6, 0.1), u8(1, 0, 0, 1, 0, 1))
    const b = rocAuc(f32(0.6, 0.2, 0.1, 0.2, 0.6, 0.2), u8(0, 0, 1, 1, 1, 0))
    // positives 0.2, 0.6, 0.1 vs negatives 0.2, 0.2, 0.6: 0.2 → 1 tie·2 = 1; 0.6 → 2 + ½; 0.1 → 0 → 3.5/9
    expect(a).toBeCloseTo(3.5 / 9, 6)
    expect(b).toBeCloseTo(a, 12)
  })

  it('is 1 for a perfect ranking, 0 for an inverted one, NaN with one class only', () => {
    expect(rocAuc(f32(0.1, 0.2, 0.3), u8(0, 1, 1))).toBe(1)
    expect(rocAuc(f32(0.3, 0.2, 0.1), u8(0, 1, 1))).toBe(0)
    expect(rocAuc(f32(0.3, 0.2), u8(1, 1))).toBeNaN()
    expect(rocAuc(f32(0.3, 0.2), u8(0, 0))).toBeNaN()
  })

  it('handles infinite scores and rejects NaN and length mismatches', () => {
    expect(rocAuc(f32(-Infinity, Infinity, Infinity), u8(0, 1, 0))).toBeCloseTo(0.75, 6)
    expect(() => rocAuc(f32(Number.NaN, 1), u8(0, 1))).toThrow(/score 0 is NaN/)
    expect(() => rocAuc(f32(1, 2), u8(0))).toThrow(/differ in length/)
  })
})

describe('averagePrecision', () => {
  it('sums precision at each recall step', () => {
    // descending: 0.8 (+) P=1 R=½; 0.4 (−); 0.35 (+) P=⅔ R=1 → ½·1 + ½·⅔
    expect(averagePrecision(f32(0.1, 0.4, 0.35, 0.8), u8(0, 0, 1, 1))).toBeCloseTo(0.5 + 1 / 3, 6)
  })

  it('takes the precision after a whole run of tied scores', () => {
    // 0.9 (+) P=1 R=½; run of 0.7 (+,−,−) → P=2/4 R=1 → ½ + ½·½
    expect(averagePrecision(f32(0.9, 0.7, 0.7, 0.3, 0.7), u8(1, 1, 0, 0, 0))).toBeCloseTo(0.75, 6)
    // all tied: precision is the base rate
    expect(averagePrecision(f32(0.5, 0.5, 0.5, 0.5), u8(1, 0, 0, 0))).toBeCloseTo(0.25, 6)
    // a tie must not reward putting the positive first
    expect(averagePrecision(f32(0.5, 0.5, 0.1), u8(1, 0, 0))).toBeCloseTo(0.5, 6)
    expect(averagePrecision(f32(0.5, 0.5, 0.1), u8(0, 1, 0))).toBeCloseTo(0.5, 6)
  })

  it('is 1 for a perfect ranking and NaN without positives', () => {
    expect(averagePrecision(f32(0.9, 0.8, 0.1), u8(1, 1, 0))).toBe(1)
    expect(averagePrecision(f32(0.9, 0.8), u8(0, 0))).toBeNaN()
  })
})

describe('macro metrics', () => {
  // 4 examples × 3 classes; class 2 has no positives and is skipped
  const scores = f32(0.9, 0.1, 0.0, 0.2, 0.8, 0.3, 0.6, 0.7, 0.2, 0.1, 0.3, 0.1)
  const labels = u8(1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0)

  it('averages the classes that have positives and negatives and says how many were skipped', () => {
    const roc = macroRocAuc(scores, labels, 3)
    // class 0: pos 0.9, 0.6 vs neg 0.2, 0.1 → 1; class 1: pos 0.8, 0.7 vs neg 0.1, 0.3 → 1
    expect(roc).toMatchObject({ evaluated: 2, skipped: 1 })
    expect(roc.value).toBeCloseTo(1, 6)
    expect(roc.perClass[2]).toBeNaN()
    const worse = macroRocAuc(f32(0.9, 0.1, 0, 0.2, 0.8, 0.3, 0.6, 0.05, 0.2, 0.1, 0.3, 0.1), labels, 3)
    // class 1 now: pos 0.8, 0.05 vs neg 0.1, 0.3 → (2 + 0)/4 = ½ → macro (1 + ½)/2
    expect(worse.value).toBeCloseTo(0.75, 6)
    const ap = macroAveragePrecision(
      f32(0.9, 0.1, 0, 0.2, 0.8, 0.3, 0.6, 0.05, 0.2, 0.1, 0.3, 0.1),
      labels,
      3,
    )
    // class 1 descending: 0.8 (+) P=1; 0.3 (−); 0.1 (−); 0.05 (+) P=2/4 → ½ + ½·½ = 0.75; class 0: 1
    expect(ap.value).toBeCloseTo((1 + 0.75) / 2, 6)
    expect(ap.skipped).toBe(1)
  })

  it('skips a class that every example has', () => {
    const m = macroRocAuc(f32(0.2, 0.4, 0.9, 0.6), u8(1, 0, 1, 1), 2)
    expect(m).toMatchObject({ evaluated: 1, skipped: 1 })
    expect(m.value).toBeCloseTo(1, 6) // class 1: pos 0.6 vs neg 0.4
  })

  it('rejects matrices of the wrong shape', () => {
    expect(() => macroRocAuc(f32(1, 2, 3), u8(1, 0, 1), 2)).toThrow(/whole number of rows/)
  })
})

describe('accuracy', () => {
  it('compares the arg-max of each row with the true class', () => {
    const scores = f32(0.7, 0.2, 0.1, 0.1, 0.1, 0.8, 0.3, 0.3, 0.4, 0.5, 0.5, 0)
    expect(accuracy(scores, [0, 2, 1, 0], 3)).toBeCloseTo(0.75, 6) // row 2 predicts class 2; row 3 ties → first
    expect(accuracy(new Float32Array(0), [], 3)).toBeNaN()
  })

  it('one-hot rows feed the macro metrics', () => {
    expect(Array.from(oneHot([2, 0], 3))).toEqual([0, 0, 1, 1, 0, 0])
    expect(() => oneHot([3], 3)).toThrow(/outside/)
  })
})

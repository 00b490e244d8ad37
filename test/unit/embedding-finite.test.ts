import { describe, expect, it } from 'vitest'
import { firstNonFinite, firstNonFiniteRow } from '../../src/ml/embedding/finite.ts'

describe('finding values no vector may hold', () => {
  it('firstNonFinite gives the index of the first NaN or ±Infinity, −1 when all are finite', () => {
    expect(firstNonFinite(Float32Array.of(0, -1, 3.4e38, -0))).toBe(-1)
    expect(firstNonFinite(Float32Array.of(0, NaN, Infinity))).toBe(1)
    expect(firstNonFinite([1, 2, -Infinity])).toBe(2)
    expect(firstNonFinite([])).toBe(-1)
  })
  it('firstNonFiniteRow names the first bad row, where and what its bad value is', () => {
    const rows = [
      { trackId: 1, vector: Float32Array.of(1, 0) },
      { trackId: 2, vector: Float32Array.of(0, Infinity) },
      { trackId: 3, vector: Float32Array.of(NaN, 0) },
    ]
    expect(firstNonFiniteRow(rows)).toEqual({ row: rows[1], index: 1, value: Infinity })
    expect(firstNonFiniteRow(rows.slice(0, 1))).toBeNull()
  })
})

import { describe, expect, it } from 'vitest'
import { slerp, slerpSteps } from '../../src/ml/mix/slerp.ts'

const close = (actual: ArrayLike<number>, expected: number[], digits = 6) => {
  expect(actual.length).toBe(expected.length)
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i], digits)
}
const norm = (v: ArrayLike<number>) => Math.hypot(...Array.from(v))

describe('slerp', () => {
  it('follows the great circle at even angles, not the chord', () => {
    // 90° apart: a third of the way is 30° from a, where the chord's point would be at 26.6° and shorter
    close(slerp([1, 0], [0, 1], 1 / 3), [Math.cos(Math.PI / 6), Math.sin(Math.PI / 6)])
    close(slerp([1, 0, 0], [0, 1, 0], 0.5), [Math.SQRT1_2, Math.SQRT1_2, 0])
    // 120° apart, halfway: 60° from each
    const b = [Math.cos((2 * Math.PI) / 3), Math.sin((2 * Math.PI) / 3)]
    close(slerp([1, 0], b, 0.5), [0.5, Math.sqrt(3) / 2])
  })

  it('starts at a, ends at b, stays on the unit sphere, and scales its inputs first', () => {
    close(slerp([3, 0], [0, 2], 0), [1, 0])
    close(slerp([3, 0], [0, 2], 1), [0, 1])
    for (const t of [0.1, 0.37, 0.9]) expect(norm(slerp([2, 1, -1], [-1, 4, 0.5], t))).toBeCloseTo(1, 6)
  })

  it('handles equal and opposite directions, refusing only what has no answer', () => {
    close(slerp([1, 1], [2, 2], 0.4), [Math.SQRT1_2, Math.SQRT1_2])
    close(slerp([1, 0], [-1, 0], 0.25), [1, 0]) // any great circle would do; the normalised chord stays put
    expect(() => slerp([1, 0], [-1, 0], 0.5)).toThrow(/no direction/)
    expect(() => slerp([0, 0], [1, 0], 0.5)).toThrow(/a has no direction/)
    expect(() => slerp([1, 0], [1, 0, 0], 0.5)).toThrow(/dimension mismatch/)
    expect(() => slerp([1, 0], [0, 1], 1.5)).toThrow(/0\.\.1/)
  })

  it('gives the interior points of a path at even steps', () => {
    const pts = slerpSteps([1, 0], [0, 1], 2)
    expect(pts).toHaveLength(2)
    close(pts[0], [Math.cos(Math.PI / 6), Math.sin(Math.PI / 6)])
    close(pts[1], [Math.cos(Math.PI / 3), Math.sin(Math.PI / 3)])
    expect(slerpSteps([1, 0], [0, 1], 0)).toEqual([])
  })
})

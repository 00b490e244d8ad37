import { describe, expect, it } from 'vitest'
import { BadInputError } from '../../src/errors.ts'
import { firstOf } from '../../src/resolvers/list-limit.ts'
import { curvePoints } from '../../src/services/training-runs.service.ts'

describe('lists that say their maximum', () => {
  const steps = (n: number) => Array.from({ length: n }, (_, i) => (i + 1) * 5)

  it('a training curve: whole when short, else an even sample keeping the first and last point', () => {
    expect(curvePoints(steps(4), 10)).toEqual([5, 10, 15, 20])
    // 11 points into 5: indices 0, 2.5→3, 5, 7.5→8, 10 (Math.round)
    expect(curvePoints(steps(11), 5)).toEqual([5, 20, 30, 45, 55])
    expect(curvePoints(steps(11), 2)).toEqual([5, 55])
    expect(curvePoints(steps(11), 1)).toEqual([55])
    const long = curvePoints(steps(20_000), 1000)
    expect(long).toHaveLength(1000)
    expect([long[0], long.at(-1)]).toEqual([5, 100_000])
    expect([...long].sort((a, b) => a - b)).toEqual(long)
    for (const bad of [0, 5001, 1.5]) expect(() => curvePoints(steps(3), bad)).toThrow(BadInputError)
  })

  it('a whole list: the first `first`, `first` from 1 to the maximum', () => {
    expect(firstOf([1, 2, 3], 2)).toEqual([1, 2])
    expect(firstOf([1, 2, 3], 1000)).toEqual([1, 2, 3])
    expect(() => firstOf([1], 0)).toThrow('first: must be an integer from 1 to 1000')
    expect(() => firstOf([1], 1001)).toThrow(BadInputError)
  })
})

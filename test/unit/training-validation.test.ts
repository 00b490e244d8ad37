import { describe, expect, it } from 'vitest'
import {
  centreRows,
  heldOutItems,
  heldOutPrecision,
  spreadPatches,
  type HeldOutItem,
} from '../../src/ml/training/validation.ts'

const f32 = (...v: number[]) => Float32Array.from(v)

describe('held-out retrieval validation', () => {
  it('ranks the other items, leaves out the excluded ones, and averages precision@k and chance over queries', () => {
    // four items on a line (unit vectors in 2-d); a and b share group g, c and d share h; c is on a's release
    const items: HeldOutItem[] = [
      { trackId: 1, patches: [0], groups: ['g'], exclude: 'r1' },
      { trackId: 2, patches: [0], groups: ['g'], exclude: 'r2' },
      { trackId: 3, patches: [0], groups: ['h'], exclude: 'r1' },
      { trackId: 4, patches: [0], groups: ['h'], exclude: 'r3' },
    ]
    const c = Math.SQRT1_2
    const vectors = f32(1, 0, c, c, 1, 0, 0, 1)
    // query 1: candidates 2 (0.71, relevant) and 4 (0); 3 is its release. P@1 = 1, chance 1/2
    // query 2: candidates 1 (0.71, rel), 3 (0.71, not), 4 (0.71, not): ties stay in item order → P@1 = 1, chance 1/3
    // query 3: candidates 2 (0.71), 4 (0, rel) → P@1 = 0, chance 1/2
    // query 4: candidates 2 (0.71), 1 (0), 3 (0, rel) → P@1 = 0, chance 1/3
    const f = heldOutPrecision(vectors, items, 1)
    expect(f.queries).toBe(4)
    expect(f.precision).toBeCloseTo(0.5, 9)
    expect(f.chance).toBeCloseTo((1 / 2 + 1 / 3 + 1 / 2 + 1 / 3) / 4, 9)
    // k larger than the candidates: precision counts the missing places as misses of k = candidates
    expect(heldOutPrecision(vectors, items, 10).precision).toBeCloseTo((1 / 2 + 1 / 3 + 1 / 2 + 1 / 3) / 4, 9)
  })

  it('skips queries with no relevant candidate', () => {
    const items: HeldOutItem[] = [
      { trackId: 1, patches: [0], groups: ['g'] },
      { trackId: 2, patches: [0], groups: ['h'] },
    ]
    expect(heldOutPrecision(f32(1, 0, 0, 1), items, 1)).toEqual({ precision: NaN, chance: NaN, queries: 0 })
  })

  it('makes two items per track (its halves) for the track association, one per track otherwise', () => {
    const validation = {
      groups: new Map([
        ['t7', [7]],
        ['t8', [8]],
      ]),
      trackGroups: new Map([
        [7, ['t7']],
        [8, ['t8']],
      ]),
    }
    const counts = new Map([
      [7, 9],
      [8, 1],
    ])
    const items = heldOutItems(validation, (t) => counts.get(t)!, { samePatchTrack: true })
    expect(items).toEqual([
      { trackId: 7, patches: [1, 3], groups: ['t7'] },
      { trackId: 7, patches: [5, 7], groups: ['t7'] },
    ]) // track 8 has one patch: no halves
    const artists = {
      groups: new Map([['a1', [7, 8]]]),
      trackGroups: new Map([
        [7, ['a1']],
        [8, ['a1']],
      ]),
    }
    expect(
      heldOutItems(artists, (t) => counts.get(t)!, { samePatchTrack: false, trackExclude: (t) => `r${t}` }),
    ).toEqual([
      { trackId: 7, patches: [1, 3, 5, 7], groups: ['a1'], exclude: 'r7' },
      { trackId: 8, patches: [0], groups: ['a1'], exclude: 'r8' },
    ])
    expect(spreadPatches(3)).toEqual([0, 1, 2])
  })

  it('centres rows on their mean and scales them to unit length', () => {
    const rows = centreRows(f32(2, 1, 0, 1), 2)
    expect(Array.from(rows)).toEqual([1, 0, -1, 0])
  })
})

import { describe, expect, it } from 'vitest'
import { artistSplit, type SplitName } from '../../src/ml/probes/split.ts'
import { SeededRandom } from '../../src/random/seeded-random.ts'

/** A random catalogue: tracks with one artist, some with a featured second one, a few with none. */
function world(seed: number, tracks = 600, artists = 80) {
  const rng = new SeededRandom(seed)
  const ids = Array.from({ length: tracks }, (_, i) => 1000 + i * 3)
  const artistsOf = new Map<number, string[]>()
  for (const t of ids) {
    const r = rng.next()
    if (r < 0.05) continue
    const a = [`a${rng.int(artists)}`]
    if (r > 0.98) a.push(`a${rng.int(artists)}`)
    artistsOf.set(t, a)
  }
  return { ids, artistsOf }
}

describe('artistSplit', () => {
  it('never puts one artist in two splits, collaborations included', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { ids, artistsOf } = world(seed)
      const split = artistSplit(ids, artistsOf, { seed })
      expect(split.size).toBe(ids.length)
      const splitOfArtist = new Map<string, SplitName>()
      for (const t of ids) {
        for (const a of artistsOf.get(t) ?? []) {
          const s = splitOfArtist.get(a)
          if (s) expect(split.get(t), `artist ${a}`).toBe(s)
          else splitOfArtist.set(a, split.get(t)!)
        }
      }
      const sizes = { train: 0, validation: 0, test: 0 }
      for (const s of split.values()) sizes[s]++
      // 80 artists in groups of ~7 tracks: shares within a few points of 70/15/15
      expect(sizes.train / ids.length).toBeGreaterThan(0.6)
      expect(sizes.validation / ids.length).toBeGreaterThan(0.08)
      expect(sizes.test / ids.length).toBeGreaterThan(0.08)
    }
  })

  it('is a function of the seed, whatever the input order', () => {
    const { ids, artistsOf } = world(9)
    const a = artistSplit(ids, artistsOf, { seed: 42 })
    const b = artistSplit([...ids].reverse(), new Map([...artistsOf].reverse()), { seed: 42 })
    expect([...b].sort((x, y) => x[0] - y[0])).toEqual([...a].sort((x, y) => x[0] - y[0]))
    const c = artistSplit(ids, artistsOf, { seed: 43 })
    expect(ids.filter((t) => a.get(t) !== c.get(t)).length).toBeGreaterThan(50)
  })

  it('follows the fractions asked for and leaves out empty splits', () => {
    const { ids, artistsOf } = world(3)
    const split = artistSplit(ids, artistsOf, {
      seed: 1,
      fractions: { train: 0.5, validation: 0, test: 0.5 },
    })
    const values = [...split.values()]
    expect(values).not.toContain('validation')
    expect(Math.abs(values.filter((s) => s === 'test').length / ids.length - 0.5)).toBeLessThan(0.06)
    expect(() =>
      artistSplit(ids, artistsOf, { seed: 1, fractions: { train: 0, validation: 1, test: 1 } }),
    ).toThrow(/train/)
  })
})

describe('stratified artistSplit', () => {
  /** 8 classes × 7 artists × 6 tracks; class k's artists play only class k. */
  const ids: number[] = []
  const artistsOf = new Map<number, string[]>()
  const classesOf = new Map<number, number[]>()
  for (let k = 0; k < 8; k++) {
    for (let a = 0; a < 7; a++) {
      for (let t = 0; t < 6; t++) {
        const id = ids.length + 1
        ids.push(id)
        artistsOf.set(id, [`c${k}a${a}`])
        classesOf.set(id, [k])
      }
    }
  }
  const classesPerSplit = (split: Map<number, SplitName>) => {
    const seen: Record<SplitName, Set<number>> = { train: new Set(), validation: new Set(), test: new Set() }
    for (const [t, s] of split) seen[s].add(classesOf.get(t)![0])
    return { train: seen.train.size, validation: seen.validation.size, test: seen.test.size }
  }

  it('puts every class in every split when each class has enough artists, still by artist', () => {
    for (const seed of [1, 2, 3]) {
      const split = artistSplit(ids, artistsOf, { seed, classesOf })
      expect(classesPerSplit(split)).toEqual({ train: 8, validation: 8, test: 8 })
      const splitOfArtist = new Map<string, SplitName>()
      for (const t of ids) {
        const a = artistsOf.get(t)![0]
        expect(splitOfArtist.get(a) ?? split.get(t)).toBe(split.get(t))
        splitOfArtist.set(a, split.get(t)!)
      }
    }
  })

  it('does better than the unstratified split, which leaves classes out of small splits', () => {
    const missing = [1, 2, 3, 4, 5, 6].map((seed) => {
      const c = classesPerSplit(artistSplit(ids, artistsOf, { seed }))
      return 24 - c.train - c.validation - c.test
    })
    expect(missing.reduce((a, b) => a + b)).toBeGreaterThan(0)
  })
})

import { describe, expect, it } from 'vitest'
import { melStatistics, standardise } from '../../src/ml/retrieval/mel-statistics.ts'
import {
  averagePrecisionAtK,
  precisionAtK,
  retrievalFigures,
  type RetrievalItem,
} from '../../src/ml/retrieval/metrics.ts'
import { applySearchTransform, fitSearchTransform } from '../../src/ml/retrieval/transform.ts'
import { SeededRandom } from '../../src/random/seeded-random.ts'

describe('precision@k and AP@k', () => {
  it('counts the relevant share of the first k, missing places as misses', () => {
    expect(precisionAtK([1, 0, 1, 1, 0], 4)).toBe(0.75)
    expect(precisionAtK([true, false], 4)).toBe(0.25)
  })

  it('averages precision at each relevant place, over min(k, relevant)', () => {
    // relevant at 1 and 3: (1/1 + 2/3) / min(3, 2)
    expect(averagePrecisionAtK([1, 0, 1], 2, 3)).toBeCloseTo((1 + 2 / 3) / 2, 12)
    // 5 relevant exist, k = 3, hits at 2 and 3: (1/2 + 2/3) / 3
    expect(averagePrecisionAtK([0, 1, 1, 1], 5, 3)).toBeCloseTo((1 / 2 + 2 / 3) / 3, 12)
    expect(averagePrecisionAtK([1, 1], 2, 10)).toBe(1)
    expect(averagePrecisionAtK([0, 0], 0, 10)).toBeNaN()
  })
})

describe('retrievalFigures', () => {
  const item = (id: number, artist: number, release: number, styles: string[], label = 1): RetrievalItem => ({
    id,
    artists: [artist],
    release,
    labels: [label],
    styles,
    genres: ['Electronic'],
  })
  // Four tracks on a line of angles; track 0's ranking: 1 (0.1 rad), 2 (1 rad), 3 (2 rad).
  const at = (angle: number) => Float32Array.of(Math.cos(angle), Math.sin(angle))
  const vectors = [at(0), at(0.1), at(1), at(2)]

  it('ranks by cosine and scores the relation, by hand', () => {
    const items = [
      item(10, 1, 100, ['House']),
      item(11, 2, 101, ['Techno']),
      item(12, 3, 102, ['House']),
      item(13, 4, 103, ['House']),
    ]
    const [style] = retrievalFigures(vectors, items, { k: 2, relations: ['style'] })
    // query 0: candidates 1,2,3 ranked [1,2,3] → relevant [0,1,1]: P@2 = 1/2, AP@2 = (1/2)/2, chance 2/3
    // query 1 (Techno): no relevant candidate → left out
    // query 2: sims to 0 cos(1) = .540, to 1 cos(.9) = .622, to 3 cos(1) = .540 (a tie, broken by position)
    //   → order 1, 0, 3 → relevant [0,1,1]
    //   P@2 = 1/2, AP@2 = (1/2)/2, chance 2/3
    // query 3: sims to 0 cos 2 = −.416, to 1 cos 1.9 = −.323, to 2 cos 1 = .540 → order 2,1,0 → [1,0,1]
    //   P@2 = 1/2, AP@2 = 1/2, chance 2/3
    expect(style.queries).toBe(3)
    expect(style.precision).toBeCloseTo(0.5, 12)
    expect(style.map).toBeCloseTo((0.25 + 0.25 + 0.5) / 3, 12)
    expect(style.chance).toBeCloseTo(2 / 3, 12)
    expect(style.lift).toBeCloseTo(0.75, 12)
  })

  it('leaves the query artist and release out, except artist retrieval keeps the artist on other releases', () => {
    const items = [
      item(10, 1, 100, ['House']),
      item(11, 1, 100, ['House']), // same release: never a candidate
      item(12, 1, 101, ['House']), // same artist, other release
      item(13, 2, 102, ['Techno']),
    ]
    const [style, artist] = retrievalFigures(vectors, items, { k: 1, relations: ['style', 'artist'] })
    // style, query 0: candidates 13 only (12 shares the artist) → not relevant; query 3: candidates 0,1,2, none House… Techno
    expect(style.queries).toBe(0)
    // artist, query 0: candidates 12 (rank 1, relevant), 13 → P@1 = 1, chance 1/2
    // query 1: same as 0 by symmetry of release; query 2: candidates 0, 1 (both artist 1), 3 → ranked by
    //   sims to 2: 1 (.622), 0 (.540), 3 (.540) → [1,1,0]: P@1 1, chance 2/3. query 3: no relevant.
    expect(artist.queries).toBe(3)
    expect(artist.precision).toBe(1)
    expect(artist.chance).toBeCloseTo((1 / 2 + 1 / 2 + 2 / 3) / 3, 12)
  })
})

describe('search transform', () => {
  const rng = new SeededRandom(7)
  // A narrow cone: a large common offset plus a small spread along two axes (4 dims).
  const cone = Array.from({ length: 200 }, () =>
    Float32Array.of(10, 3 * (rng.next() - 0.5), 0.3 * (rng.next() - 0.5), 0),
  )

  it('raw keeps directions; center removes the cone; outputs are unit length', () => {
    const raw = fitSearchTransform(cone, { kind: 'raw' })
    const a = applySearchTransform(raw, cone[0])
    expect(Math.hypot(...a)).toBeCloseTo(1, 6)
    expect(a[0]).toBeGreaterThan(0.98)
    const center = fitSearchTransform(cone, { kind: 'center' })
    expect(center.mean![0]).toBeCloseTo(10, 5)
    const c = applySearchTransform(center, cone[0])
    expect(Math.hypot(...c)).toBeCloseTo(1, 6)
    expect(Math.abs(c[0])).toBeLessThan(1e-4)
  })

  it('whiten finds the principal axes with their variances and equalises them', () => {
    const t = fitSearchTransform(cone, { kind: 'whiten', dims: 2, shrinkage: 0 })
    expect(t.outDims).toBe(2)
    // variance of uniform(−a/2, a/2) is a²/12
    expect(t.variances![0]).toBeCloseTo(9 / 12, 1)
    expect(t.variances![1]).toBeCloseTo(0.09 / 12, 3)
    // the first component is axis 1, the second axis 2 (up to sign)
    const c0 = t.components!.slice(0, 4).map((v) => v * Math.sqrt(t.variances![0]))
    expect(Math.abs(c0[1])).toBeCloseTo(1, 3)
    // whitened coordinates have unit variance along each kept component (before normalising)
    const proj = cone.map((v) => {
      const x = v.map((y, j) => y - t.mean![j])
      return [0, 1].map((c) => x.reduce((s, y, j) => s + y * t.components![c * 4 + j], 0))
    })
    for (const c of [0, 1]) {
      const variance = proj.reduce((s, p) => s + p[c] ** 2, 0) / (cone.length - 1)
      expect(variance).toBeCloseTo(1, 2)
    }
  })

  it('keeps at most fitted − 1 components, and refuses a vector of the wrong width', () => {
    const t = fitSearchTransform(cone.slice(0, 3), { kind: 'whiten', dims: 128 })
    expect(t.outDims).toBe(2)
    expect(() => applySearchTransform(t, [1, 2])).toThrow(/takes 4/)
  })
})

describe('mel statistics', () => {
  it('per-band mean and standard deviation, then standardised over tracks', () => {
    // 3 frames of 2 bands
    const s = melStatistics(Float32Array.of(1, 10, 2, 10, 3, 10), 2)
    expect(Array.from(s)).toEqual([2, 10, Math.fround(Math.sqrt(2 / 3)), 0])
    const z = standardise([Float32Array.of(1, 5), Float32Array.of(3, 5)])
    expect(Array.from(z[0])).toEqual([-1, 0])
    expect(Array.from(z[1])).toEqual([1, 0])
  })
})

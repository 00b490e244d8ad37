import { describe, expect, it } from 'vitest'
import { bandCondition, bandScoreBound, bandsByBound, inAnyBand, isSettled, searchScoreBound, TRIGRAM_BANDS } from '../../src/db/trigram-bands.ts'

/**
 * The best search score a text of n trigrams reaches against a query of q, found by trying every number
 * of shared trigrams: similarity shared / (q + n − shared), word similarity at most shared / q.
 */
function bruteBound(q: number, n: number): number {
  let best = 0
  for (let shared = 0; shared <= Math.min(q, n); shared++) {
    const sim = q + n - shared === 0 ? 0 : shared / (q + n - shared)
    best = Math.max(best, (sim + shared / q) / 2)
  }
  return best
}

describe('trigram bands', () => {
  it('cover every trigram count exactly once, in order', () => {
    expect(TRIGRAM_BANDS[0].lo).toBe(0)
    expect(TRIGRAM_BANDS.at(-1)!.hi).toBeNull()
    for (let i = 1; i < TRIGRAM_BANDS.length; i++) expect(TRIGRAM_BANDS[i].lo).toBe(TRIGRAM_BANDS[i - 1].hi! + 1)
  })

  it('bound the search score exactly: no text scores above it, and some text can reach it', () => {
    for (let q = 1; q <= 40; q++)
      for (let n = 0; n <= 80; n++) expect(searchScoreBound(q, n), `q=${q} n=${n}`).toBeCloseTo(bruteBound(q, n), 12)
    expect(searchScoreBound(0, 5)).toBe(0) // a query with no trigrams matches nothing
  })

  it("give each band its best text's bound", () => {
    for (let q = 1; q <= 40; q++)
      for (const band of TRIGRAM_BANDS) {
        let best = 0
        for (let n = band.lo; n <= (band.hi ?? 200); n++) best = Math.max(best, searchScoreBound(q, n))
        expect(bandScoreBound(q, band), `q=${q} band ${band.lo}-${band.hi}`).toBeCloseTo(best, 12)
      }
  })

  it('order the bands best bound first: the query’s own length first, then its neighbours', () => {
    const order = bandsByBound(5).map((b) => [b.band.lo, Number(b.bound.toFixed(3))])
    expect(order.slice(0, 4)).toEqual([[5, 1], [7, 0.857], [0, 0.8], [9, 0.778]])
    expect(bandsByBound(0)).toEqual([]) // nothing to search
    for (let q = 1; q <= 40; q++) {
      const bounds = bandsByBound(q).map((b) => b.bound)
      expect(bounds).toEqual([...bounds].sort((a, b) => b - a))
      expect(bounds[0]).toBe(1)
    }
  })

  it('settle only when the k best strictly beat the bound, with room for rounding', () => {
    const hits = [{ score: 1 }, { score: 0.8 }, { score: 0.7 }]
    expect(isSettled(hits, 3, 0.69)).toBe(true)
    expect(isSettled(hits, 3, 0.7)).toBe(false) // a tie could still come with a smaller id
    expect(isSettled(hits, 3, 0.69995)).toBe(false) // within rounding of the bound
    expect(isSettled(hits, 4, 0.1)).toBe(false) // not enough hits yet
  })

  it('write band conditions as the partial indexes’ predicates', () => {
    expect(bandCondition('t.title_trigrams', { lo: 5, hi: 6 })).toBe('t.title_trigrams BETWEEN 5 AND 6')
    expect(bandCondition('n', { lo: 24, hi: null })).toBe('n >= 24')
    const any = inAnyBand('c', 'x % $1')
    expect(any.match(/ OR /g)).toHaveLength(TRIGRAM_BANDS.length - 1)
    expect(any).toContain('(c BETWEEN 0 AND 4 AND x % $1)')
  })
})

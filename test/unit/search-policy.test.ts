import { describe, expect, it } from 'vitest'
import type { SearchHit, SearchType } from '../../src/db/repositories/search.repository.ts'
import { SEARCH_DEPTH, searchWindow } from '../../src/services/search.service.ts'
import { typesReadInIdOrder, wholePages } from '../../src/services/search/equal-texts.ts'
import { passQueries, searchPasses } from '../../src/services/search/passes.ts'
import { bySearchRank, mergeHits } from '../../src/services/search/ranking.ts'

const hit = (type: SearchType, id: number, score: number): SearchHit => ({
  type,
  id,
  text: `${type} ${id}`,
  score,
})
const keys = (hits: SearchHit[]) => hits.map((h) => `${h.type}:${h.id}`)

describe('ranking: search’s order, and merging the hits of two passes', () => {
  it('ranks by score, then type, then id, as the statements’ ORDER BY score DESC, type, id', () => {
    const hits = [hit('RELEASE', 5, 0.8), hit('ARTIST', 9, 0.8), hit('ARTIST', 2, 0.8), hit('TRACK', 1, 0.9)]
    expect(keys([...hits].sort(bySearchRank))).toEqual(['TRACK:1', 'ARTIST:2', 'ARTIST:9', 'RELEASE:5'])
  })

  it('keeps each hit once and the best `take` of both', () => {
    const earlier = [hit('TRACK', 1, 0.9), hit('ARTIST', 2, 0.5)]
    const pass = [hit('TRACK', 1, 0.9), hit('RELEASE', 3, 0.7), hit('LABEL', 4, 0.2)]
    expect(keys(mergeHits(earlier, pass, 3))).toEqual(['TRACK:1', 'RELEASE:3', 'ARTIST:2'])
    expect(keys(mergeHits(earlier, pass, 10))).toEqual(['TRACK:1', 'RELEASE:3', 'ARTIST:2', 'LABEL:4'])
    // the earlier pass's few hits survive a later pass that did not find them
    expect(keys(mergeHits(earlier, [], 10))).toEqual(['TRACK:1', 'ARTIST:2'])
  })
})

describe('equal texts: which types read their texts equal to the query in id order', () => {
  const costs = { scanRows: 30_000, bandTextCost: 4 }
  it('reads a type whose page turns up within half the rows read, when the band would fetch a quarter as many texts', () => {
    const equalTexts = {
      TRACK: { share: 0.01, count: 500 }, // 10 / 0.01 = 1,000 rows ≤ 15,000; 500 × 4 = 2,000 ≥ 1,000
      RELEASE: { share: 0.0005, count: 10_000 }, // 20,000 rows: more than half the rows read
      ARTIST: { share: 0.01, count: 200 }, // 1,000 rows, but 200 × 4 = 800: the band is cheaper
    }
    expect(typesReadInIdOrder(equalTexts, ['ARTIST', 'LABEL', 'RELEASE', 'TRACK'], 10, costs)).toEqual([
      'TRACK',
    ])
    expect(typesReadInIdOrder(equalTexts, ['ARTIST', 'RELEASE'], 10, costs)).toEqual([])
    expect(typesReadInIdOrder({}, ['TRACK'], 10, costs)).toEqual([]) // no statistics (no ANALYZE yet)
  })

  it('takes both bounds inclusively', () => {
    // 7,500 / 0.5 = 15,000 rows: exactly half the rows read; the band fetches 3,750 × 4 = 15,000
    expect(typesReadInIdOrder({ TRACK: { share: 0.5, count: 3750 } }, ['TRACK'], 7500, costs)).toEqual([
      'TRACK',
    ])
    expect(typesReadInIdOrder({ TRACK: { share: 0.5, count: 3749 } }, ['TRACK'], 7500, costs)).toEqual([])
    expect(typesReadInIdOrder({ TRACK: { share: 0.5, count: 1e6 } }, ['TRACK'], 7501, costs)).toEqual([])
  })

  it('keeps only the types where a whole page turned up, ranked', () => {
    const read = [
      hit('TRACK', 7, 1),
      hit('RELEASE', 2, 1),
      hit('TRACK', 3, 1),
      hit('RELEASE', 9, 1),
      hit('TRACK', 5, 1),
    ]
    expect(keys(wholePages(read, 3))).toEqual(['TRACK:3', 'TRACK:5', 'TRACK:7'])
    expect(keys(wholePages(read, 2))).toEqual(['RELEASE:2', 'RELEASE:9', 'TRACK:3', 'TRACK:5', 'TRACK:7'])
    expect(wholePages(read, 4)).toEqual([])
  })
})

describe('passQueries: the tsqueries of a pass', () => {
  const likes = [
    ['persuadr', 'persuader'],
    ['stockholm', 'stockhom'],
  ]
  it('gives a word the dictionary lacks its likes and its prefix; a word it has, its likes in the typo pass only', () => {
    const plan = { words: ['persuadr', 'stockholm'], known: false, unknown: ['persuadr'], shortWords: [] }
    const [typo, fewer] = searchPasses(2, false)
    expect(passQueries(typo, plan, likes)).toEqual(['persuadr:* | persuader', 'stockholm | stockhom'])
    expect(passQueries(fewer, plan, likes)).toEqual(['persuadr:* | persuader', 'stockholm'])
  })

  it('skips the typo pass when no known word has a like: it would search the words as typed again', () => {
    const plan = { words: ['love', 'mix'], known: true, unknown: [], shortWords: [] }
    const [typed, typo] = searchPasses(2, true)
    expect(passQueries(typed, plan, [])).toEqual(['love', 'mix'])
    expect(passQueries(typo, plan, [['love'], ['mix']])).toBeNull()
    expect(passQueries(typo, plan, [['love', 'glove'], ['mix']])).toEqual(['love | glove', 'mix'])
  })

  it('wants every short word of a query that has only short words, as one word', () => {
    const plan = { words: [], known: true, unknown: [], shortWords: ['dj', 'k'] }
    expect(passQueries(searchPasses(0, true)[0], plan, [])).toEqual(['dj & k'])
  })
})

describe('searchWindow: the hits a page reads', () => {
  it('reads one hit past the page, which tells whether a next one exists, until results end', () => {
    expect(SEARCH_DEPTH).toBe(1000)
    expect(searchWindow(10, 0)).toEqual({ first: 10, read: 11 })
    expect(searchWindow(5, 990)).toEqual({ first: 5, read: 6 }) // hit 996 may follow
    expect(searchWindow(5, 995)).toEqual({ first: 5, read: 5 }) // the last page: nothing follows
    expect(searchWindow(50, 990)).toEqual({ first: 10, read: 10 }) // cut at the end of results
  })
})

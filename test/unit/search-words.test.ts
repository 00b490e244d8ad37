import { describe, expect, it } from 'vitest'
import {
  combinations,
  ENOUGH_HITS,
  isLastPass,
  MAX_WORD_SETS,
  passExpressions,
  RELAXED_ENOUGH_SCORE,
  searchPasses,
  type SearchPass,
  PREFIX_MIN_LENGTH,
  wordQuery,
} from '../../src/services/search/passes.ts'
import { DictionaryWords, MAX_WORD_LENGTH, searchWords } from '../../src/db/search-words.ts'
import { trigramCount } from '../../src/db/trigram-bands.ts'

describe('searchWords: the dictionary’s words of a text', () => {
  it('splits on anything but letters and digits, lower-cases, keeps 3 to 100 characters', () => {
    expect(searchWords("Can't Get Enough (Extended Version) - Part 2")).toEqual([
      'can',
      'get',
      'enough',
      'extended',
      'version',
      'part',
    ])
    expect(searchWords('DJ X-Press 2000')).toEqual(['press', '2000'])
    expect(searchWords('a'.repeat(MAX_WORD_LENGTH) + ' ' + 'b'.repeat(MAX_WORD_LENGTH + 1))).toEqual([
      'a'.repeat(MAX_WORD_LENGTH),
    ])
  })

  it('lower-cases one character for one, as PostgreSQL does, and leaves out superscripts', () => {
    expect(searchWords('ΕΛΛΑΣ İPEK Straße Dark² Ωmega')).toEqual(['ελλασ', 'ipek', 'straße', 'dark', 'ωmega'])
  })
})

describe('DictionaryWords: the words an import sends', () => {
  it('gives each word once, as searchWords splits it, ASCII or not', () => {
    const d = new DictionaryWords()
    const texts = [
      'The Persuader',
      'Stockholm',
      'the persuader (remix)',
      'Jesper Dahlbäck',
      'Dahlbäck Remix',
      'Östermalm / Stockholm',
      'A b c',
    ]
    for (const t of texts) d.add(t)
    const words = d.take()
    expect(words).toEqual([...new Set(texts.flatMap(searchWords))])
    expect(d.take()).toEqual([])
    d.add('THE PERSUADER')
    expect(d.take()).toEqual([]) // still cached: not sent again
  })

  it('gets the same words from the importer’s pass (trigramCount splitting ASCII texts) as from add', () => {
    const texts = [
      'The Persuader',
      'Stockholm (Original Mix)',
      "Can't Get Enough - Part 2",
      'DJ X-Press 2000',
      'Jesper Dahlbäck',
      'mix MIX Mix remix',
    ]
    const fast = new DictionaryWords()
    const counts = texts.map((t) => trigramCount(t, fast))
    expect(counts).toEqual(texts.map((t) => trigramCount(t)))
    expect(fast.take()).toEqual([...new Set(texts.flatMap(searchWords))])
    const long = Array.from({ length: 3000 }, (_, i) => `word${i}`).join(' ') // past the trigram table: counted another way
    trigramCount(long, fast)
    expect(fast.take()).toEqual(searchWords(long))
  })

  it('sends again a word the cache lost, and never loses one it has not sent', () => {
    const d = new DictionaryWords()
    const many = Array.from({ length: 600_000 }, (_, i) => `w${i.toString(36)}x`)
    for (const w of many) d.add(w)
    const first = d.take()
    // every word, once: also words whose first hashes collide (about 80 pairs among 600k 32-bit hashes)
    expect(first.length).toBe(many.length)
    expect(new Set(first).size).toBe(many.length)
    for (const w of [...many].reverse()) d.add(w) // the last words added are still there
    const again = d.take()
    expect(again.length).toBeGreaterThan(many.length / 2) // 600k words do not fit 65k places
    expect(again.length).toBeLessThan(many.length)
  })
})

describe('wordQuery: a query word and its likes as a tsquery', () => {
  it('matches any of them, the query word also as a prefix when asked and of PREFIX_MIN_LENGTH letters or more', () => {
    expect(PREFIX_MIN_LENGTH).toBe(5)
    expect(wordQuery(['horizn', 'horizon', 'hori'], true)).toBe('horizn:* | horizon | hori')
    expect(wordQuery(['horizn', 'horizon', 'hori'], false)).toBe('horizn | horizon | hori')
    expect(wordQuery(['love'], true)).toBe('love')
  })
})

describe('searchPasses: which words a title must contain, pass by pass', () => {
  const sizes = (passes: SearchPass[]) =>
    passes.map(
      (p) => `${p.wordSets.map((s) => s.length).join(',')}${{ none: '', all: '+', unknown: '~' }[p.likes]}`,
    )
  it('the words as typed, then with their likes, then all but one, … down to half of them', () => {
    expect(searchPasses(0, true)).toEqual([{ wordSets: [[0]], likes: 'none', capped: true }])
    expect(searchPasses(1, true)).toEqual([
      { wordSets: [[0]], likes: 'none', capped: false },
      { wordSets: [[0]], likes: 'all', capped: false },
    ])
    // only the passes wanting fewer words than the query has are capped
    for (const p of searchPasses(4, true)) expect(p.capped).toBe(p.wordSets[0].length < 4)
    expect(searchPasses(2, true).map((p) => p.wordSets)).toEqual([[[0, 1]], [[0, 1]], [[0], [1]]])
    expect(sizes(searchPasses(3, true))).toEqual(['3', '3+', '2,2,2~'])
    expect(sizes(searchPasses(5, true))).toEqual(['5', '5+', '4,4,4,4,4~', '3,3,3,3,3,3,3,3,3,3~'])
  })

  it('matches the likes of every word in the typo pass, and of the words the dictionary lacks only in the passes wanting fewer', () => {
    const [typed, typo, fewer] = searchPasses(3, true)
    const words = ['enough', 'get', 'stokholm']
    const likes = [['enough', 'enou'], ['get'], ['stokholm', 'stockholm']]
    expect(passExpressions(typed, words, ['stokholm'], likes)).toEqual([['enough'], ['get'], ['stokholm']])
    expect(passExpressions(typo, words, ['stokholm'], likes)).toEqual(likes)
    expect(passExpressions(fewer, words, ['stokholm'], likes)).toEqual([
      ['enough'],
      ['get'],
      ['stokholm', 'stockholm'],
    ])
    expect(passExpressions(fewer, words, [], likes)).toEqual([['enough'], ['get'], ['stokholm']])
  })

  it('skips the words as typed when one is not in the dictionary: they would find nothing new', () => {
    expect(sizes(searchPasses(2, false))).toEqual(['2+', '1,1~'])
    expect(sizes(searchPasses(1, false))).toEqual(['1+'])
  })

  it('stops before a pass of more than MAX_WORD_SETS sets', () => {
    for (let n = 1; n <= 20; n++) {
      const passes = searchPasses(n, true)
      expect(passes.slice(0, 2).map((p) => p.wordSets)).toEqual([combinations(n, n), combinations(n, n)])
      for (const p of passes) expect(p.wordSets.length).toBeLessThanOrEqual(MAX_WORD_SETS)
      // after the first two, each pass's sets are one word smaller than the last's
      passes.slice(2).forEach((p, i) => expect(p.wordSets.every((s) => s.length === n - 1 - i)).toBe(true))
    }
    expect(searchPasses(8, true).at(-1)!.wordSets[0].length).toBe(5) // C(8,4) = 70 sets: not tried
    expect(ENOUGH_HITS).toBeGreaterThan(0)
  })

  it('stops after a pass with ENOUGH_HITS hits; after a capped pass only if the ENOUGH_HITS-th scores RELAXED_ENOUGH_SCORE', () => {
    const [typed, typo, fewer] = searchPasses(5, true)
    const page = (scores: number[]) => scores.map((score) => ({ score }))
    const poor = page(Array(ENOUGH_HITS + 5).fill(RELAXED_ENOUGH_SCORE - 0.01))
    expect(isLastPass(typed, poor)).toBe(true)
    expect(isLastPass(typo, poor)).toBe(true)
    expect(isLastPass(fewer, poor)).toBe(false)
    expect(isLastPass(typed, poor.slice(0, ENOUGH_HITS - 1))).toBe(false)
    // the ENOUGH_HITS-th decides, not the page's last: pages of any size stop at the same pass
    const good = page([...Array(ENOUGH_HITS).fill(RELAXED_ENOUGH_SCORE), ...Array(30).fill(0.1)])
    expect(isLastPass(fewer, good)).toBe(true)
    expect(isLastPass(fewer, good.slice(0, ENOUGH_HITS))).toBe(true)
  })

  it('combinations: every k-subset once, ascending', () => {
    const c = combinations(6, 3)
    expect(c.length).toBe(20)
    expect(new Set(c.map((s) => s.join())).size).toBe(20)
    for (const s of c) expect([...s].sort((a, b) => a - b)).toEqual(s)
    expect(combinations(4, 0)).toEqual([[]])
  })
})

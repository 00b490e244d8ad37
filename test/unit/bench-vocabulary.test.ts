import { describe, expect, it } from 'vitest'
import { HEAPS_BETA, HeapsTitles } from '../../bench/support/vocabulary.ts'
import { searchWords } from '../../src/db/search-words.ts'
import { fixtureReleaseRecords } from '../support/dumps.ts'

const titleWords = (record: string) =>
  [...record.replace(/<videos>[\s\S]*?<\/videos>/g, '').matchAll(/<title>([^<]*)<\/title>/g)].flatMap((m) =>
    searchWords(m[1]),
  )

describe('the bench catalog’s growing vocabulary (bench/support/vocabulary.ts)', () => {
  const records = fixtureReleaseRecords()

  it('keeps the first copy as it is, and the common words and the shape of every title in the others', () => {
    const titles = new HeapsTitles(records, 100_000)
    expect(titles.rewrite(records[1], 0)).toBe(records[1])
    const copy = titles.rewrite(records[1], 5)
    expect(copy).not.toBe(records[1])
    // everything but the titles' rare words is unchanged: ids, artists, positions, durations
    const skeleton = (r: string) => r.replace(/<title>[^<]*<\/title>/g, '<title/>')
    expect(skeleton(copy)).toBe(skeleton(records[1]))
    expect(copy).toContain('<title>Inner City Lullaby</title>') // three common words
    expect(titles.rewrite(records[1], 5)).toBe(copy) // the same copy is the same text
    expect(titles.rewrite(records[1], 6)).not.toBe(copy)
    // a word with letters beyond ASCII stays whole: its ASCII pieces rewritten apart made a new word per copy
    expect(records[0]).toContain('<title>S&#246;dermalm</title>')
    expect(titles.rewrite(records[0], 5)).toContain('<title>S&#246;dermalm</title>')
  })

  it('grows the vocabulary as the fixture’s times (N / 1000)^β', () => {
    const n = 50_000
    const titles = new HeapsTitles(records, n)
    const words = new Set<string>()
    for (let i = 0; i < n; i++)
      for (const w of titleWords(titles.rewrite(records[i % records.length], Math.floor(i / records.length))))
        words.add(w)
    const fixture = new Set(records.flatMap(titleWords)).size
    const target = fixture * (n / records.length) ** HEAPS_BETA
    expect(words.size / target).toBeGreaterThan(0.85)
    expect(words.size / target).toBeLessThan(1.15)
    // the fixture's common words keep their share: "the" once per fixture occurrence per copy
    const count = (w: string) => records.flatMap(titleWords).filter((x) => x === w).length
    let the = 0
    for (let i = 0; i < 3_000; i++)
      the += titleWords(titles.rewrite(records[i % records.length], Math.floor(i / records.length))).filter(
        (x) => x === 'the',
      ).length
    expect(the).toBe(3 * count('the'))
  })
})

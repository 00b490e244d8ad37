/**
 * The bands of text length that search reads its candidates in: each searchable text has a stored count
 * of its distinct trigrams (`title_trigrams`, `name_trigrams`: `cardinality(show_trgm(text))`) and one
 * partial GIN index of its words per band of that count (migrations 1765000000000, 1765400000000). Here:
 * the importer's count, the columns and views that hold it, and the bands as the migrations indexed them.
 * In which order search reads the bands, and when it stops, is search's own (src/services/search/band-order.ts).
 */

import {
  nextWordHash,
  nextWordHash2,
  WORD_HASH_SEED,
  WORD_HASH_SEED_2,
  type DictionaryWords,
} from './search-words.ts'

/**
 * pg_trgm's count of a text's distinct trigrams (`cardinality(show_trgm(text))`), computed by the importer
 * so the database need not: for a text of ASCII characters only, where pg_trgm's rules are plain — words
 * are runs of letters and digits, lower-cased, each padded with two spaces before and one after, and
 * every three consecutive characters of a padded word are a trigram. Beyond ASCII, which characters are
 * letters and how they lower-case depends on the database's locale, and pg_trgm hashes multibyte
 * trigrams, so the count is left to the database: null. (An import stores texts as PostgreSQL counts
 * them either way; the search test compares every row.)
 *
 * Given `words`, the text's words go to the search dictionary in the same pass (src/db/search-words.ts):
 * the importer reads every title once for both.
 */
export function trigramCount(text: string, words: DictionaryWords | null = null): number | null {
  const n = asciiTrigramCount(text, words)
  if (n === null || n < 0) words?.add(text)
  if (n === null) return null
  return Math.min(n < 0 ? countWithSet(text) : n, MAX_TRIGRAM_COUNT)
}

/**
 * The stored counts are smallints: longer texts are counted as this many, which only loosens their
 * bound (it falls with the count), so search stays exact.
 */
export const MAX_TRIGRAM_COUNT = 32767

/** The count for ASCII text; null beyond ASCII; −1 for a text too long for the table (countWithSet counts it). */
function asciiTrigramCount(text: string, words: DictionaryWords | null): number | null {
  // Distinct trigrams are counted in an open-addressing table whose slots belong to the current call only
  // when stamped with its generation: no clearing, no allocation (this runs for every title of a dump).
  if (++generation === 0x7fffffff) {
    STAMPS.fill(0)
    generation = 1
  }
  let distinct = 0
  let a = 32 // the two characters before the current one, in the padded word (a space: not in a word)
  let b = 32
  let inWord = false
  let wordStart = 0
  let wordHash = 0
  let wordHash2 = 0
  for (let i = 0; i <= text.length; i++) {
    let c = i < text.length ? text.charCodeAt(i) : 32
    if (c > 127) return null
    if (c >= 65 && c <= 90) c += 32 // A-Z → a-z
    const word = (c >= 97 && c <= 122) || (c >= 48 && c <= 57)
    if (word) {
      if (!inWord) {
        a = b = 32 // the padding before a word
        inWord = true
        wordStart = i
        wordHash = WORD_HASH_SEED
        wordHash2 = WORD_HASH_SEED_2
      }
      wordHash = nextWordHash(wordHash, c)
      wordHash2 = nextWordHash2(wordHash2, c)
    } else if (inWord) {
      if (words !== null) words.word(wordHash, wordHash2, text, wordStart, i)
      c = 32 // the padding after a word: one trigram ends with it
      inWord = false
    } else continue
    const key = (a << 14) | (b << 7) | c
    if (distinct >= SLOTS / 2) return -1 // a very long text: no need to be clever
    let slot = Math.imul(key, 0x9e3779b1) >>> (32 - SLOT_BITS)
    while (STAMPS[slot] === generation && KEYS[slot] !== key) slot = (slot + 1) & (SLOTS - 1)
    if (STAMPS[slot] !== generation) {
      STAMPS[slot] = generation
      KEYS[slot] = key
      distinct++
    }
    a = b
    b = c
  }
  return distinct
}
const SLOT_BITS = 12
const SLOTS = 1 << SLOT_BITS
const KEYS = new Int32Array(SLOTS)
const STAMPS = new Int32Array(SLOTS)
let generation = 0

/** The same count for ASCII text of any length, the plain way. */
function countWithSet(text: string): number {
  const seen = new Set<string>()
  for (const w of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    const padded = `  ${w} `
    for (let i = 0; i + 3 <= padded.length; i++) seen.add(padded.slice(i, i + 3))
  }
  return seen.size
}

/** The column holding the trigram count of the searchable text column `text` (`title` → `title_trigrams`). */
export function trigramCountColumn(text: string): string {
  return `${text}_trigrams`
}

/**
 * The view search reads a searchable table's texts from: (id, text, trigram count), sorted by the count,
 * with the bands' indexes (migration 1765200000000); `track` → `track_search`.
 */
export function searchView(table: string): string {
  return `${table}_search`
}

/** A band of trigram counts, `hi` inclusive; null: no upper end. */
export interface TrigramBand {
  lo: number
  hi: number | null
}

/**
 * The bands, as the migration indexed them (migration 1765300000000: each band is one partial index, so
 * changing these needs a migration that rebuilds them; the integration test checks every band is served
 * by its index). One count per band from 5 to 13, where the best hits of common words are and the bound
 * falls fastest: a band's statement scores every candidate it holds, and "the" at a million releases
 * scored the 17,859 tracks of counts 7 and 8 to settle its page at count 7 (4,307), 80 ms for the search,
 * 34 ms with a band per count. Wider in the long tail: each band's index build reads its view once more.
 */
export const TRIGRAM_BANDS: readonly TrigramBand[] = [
  { lo: 0, hi: 4 },
  { lo: 5, hi: 5 },
  { lo: 6, hi: 6 },
  { lo: 7, hi: 7 },
  { lo: 8, hi: 8 },
  { lo: 9, hi: 9 },
  { lo: 10, hi: 10 },
  { lo: 11, hi: 11 },
  { lo: 12, hi: 12 },
  { lo: 13, hi: 13 },
  { lo: 14, hi: 15 },
  { lo: 16, hi: 17 },
  { lo: 18, hi: 20 },
  { lo: 21, hi: 23 },
  { lo: 24, hi: null },
]

/** The SQL condition selecting a band's rows, written exactly as its partial index's predicate so the planner matches them. */
export function bandCondition(countColumn: string, band: TrigramBand): string {
  return band.hi === null
    ? `${countColumn} >= ${band.lo}`
    : `${countColumn} BETWEEN ${band.lo} AND ${band.hi}`
}

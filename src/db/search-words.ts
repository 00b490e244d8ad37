/**
 * The search dictionary: every distinct word of the catalog's searchable texts (artist and label names;
 * master, release and track titles), in table `search_word` with a trigram index of its own.
 *
 * Search finds its candidates by words, not by whole-text trigram similarity: a title is a candidate when it
 * holds every word of the query (src/services/search.service.ts), which an index of the titles' words
 * (wordsVectorSql) answers from each word's list of titles, led by the rarest, so a rare word costs what its
 * few titles cost; whole-text similarity has to read every list of the query's trigrams, common ones ("er ",
 * " th") included, which on the full dump means millions of entries per query. Typos are where words help
 * most and cost most: "persuadr" is no title's word. The dictionary, a few million short words at most, is
 * small enough to search by trigram similarity, and turns a misspelt word into the catalog's words like it
 * ("persuader", "persuade") before the titles are read.
 *
 * A word is a run of letters and digits, lower-cased, as pg_trgm splits words; the dictionary keeps only
 * words of MIN_WORD_LENGTH characters or more (a shorter one has no trigram of its own for its index to
 * look up, and one typo rarely leaves it like the word meant) and none longer than MAX_WORD_LENGTH (a
 * B-tree key has a size limit; no one types such a word). The titles' word index holds words of any length.
 */

export const MIN_WORD_LENGTH = 3
export const MAX_WORD_LENGTH = 100

/** The SQL pattern splitting a lower-cased text into words (and separators): the same rule in SQL. */
export const WORD_SEPARATOR_SQL = `'[^[:alnum:]]+'`

/**
 * The words of the SQL text `text`, of any length, as a tsvector: what the search views' band indexes hold
 * (migration 1765400000000; a query must spell it exactly so for the planner to use them). The separators
 * become spaces first so that the text search parser, which knows URLs, hyphenated words and decimals,
 * sees only the runs of letters and digits the dictionary splits ("Nu-Dub" → nu, dub; "12.5" → 12, 5).
 *
 * Why a word index rather than trigrams: a word's posting list holds the texts with that word, where
 * `title ~* 'love'` read the lists of its trigrams ("lov", "ove"), each the texts of every word holding it
 * (glove, over, groove), and a pasted title's relaxed passes read several such lists per word set. Median
 * of 24 queries at a million releases 16.8–19.8 → 6.6–7.3 ms, at 8M 58–77 → 27–28 ms; a pasted title
 * 184–190 → 55–58 and 833 → 146–157 ms; the indexes a third smaller (312 against 460 MB at 1M).
 */
export function wordsVectorSql(text: string): string {
  return `to_tsvector('simple'::regconfig, regexp_replace(lower(${text}), ${WORD_SEPARATOR_SQL}, ' ', 'g'))`
}

/** The words of `text` in the dictionary's sense, in order, repeats kept. */
export function searchWords(text: string): string[] {
  const out: string[] = []
  for (const w of lowerEach(text).split(NON_WORD))
    if (w.length >= MIN_WORD_LENGTH && w.length <= MAX_WORD_LENGTH) out.push(w)
  return out
}
/** Every word of `text` (runs of letters and digits, lower-cased as PostgreSQL does), of any length, in order: what wordsVectorSql indexes. */
export function wordsOf(text: string): string[] {
  return lowerEach(text)
    .split(NON_WORD)
    .filter((w) => w.length > 0)
}
// Letters and decimal digits, as PostgreSQL's [[:alnum:]] classes them (superscripts and fractions are not).
const NON_WORD = /[^\p{L}\p{Nd}\p{Nl}]+/u

/**
 * Lower-cases character by character, one character for one, as PostgreSQL's lower() does (towlower):
 * JavaScript's toLowerCase looks at context (a final Σ becomes ς) and may lengthen (İ becomes i̇).
 */
function lowerEach(text: string): string {
  const lower = text.toLowerCase()
  if (lower.length === text.length && !lower.includes('ς')) return lower // the usual case: no İ, no Σ
  let out = ''
  for (const ch of text) {
    const l = ch.toLowerCase()
    out += l.length === ch.length ? l : String.fromCodePoint(l.codePointAt(0)!)
  }
  return out
}

/**
 * Collects the dictionary words of the texts an import writes, leaving out words it has recently sent: a
 * direct-mapped cache of word hashes (fixed size, so memory stays flat over a dump of millions of words)
 * that the common words ("the", "mix", "remix") never leave. A word that falls out of the cache is sent
 * again, which the writer's ON CONFLICT absorbs. ASCII texts are split and hashed by trigramCount, in the
 * pass that counts their trigrams; only a word the cache does not hold becomes a string.
 */
export class DictionaryWords {
  /** per set, two words' two hashes each (0, 0: empty) */
  private readonly slots = new Int32Array(4 << SET_BITS)
  private words: string[] = []

  /** Adds the words of any text (the importer's ASCII texts come through `word`, split by trigramCount). */
  add(text: string): void {
    for (const w of searchWords(text)) {
      let h = WORD_HASH_SEED
      let g = WORD_HASH_SEED_2
      for (let i = 0; i < w.length; i++) {
        const c = w.charCodeAt(i)
        h = nextWordHash(h, c)
        g = nextWordHash2(g, c)
      }
      if (this.fresh(h, g)) this.words.push(w)
    }
  }

  /**
   * Adds the ASCII word text[start, end), of hashes `h` and `g` (nextWordHash and nextWordHash2 over its
   * lower-cased characters), if the dictionary keeps words of its length; sliced only if it is new.
   */
  word(h: number, g: number, text: string, start: number, end: number): void {
    const length = end - start
    if (length >= MIN_WORD_LENGTH && length <= MAX_WORD_LENGTH && this.fresh(h, g))
      this.words.push(text.slice(start, end).toLowerCase())
  }

  /** The words collected since the last call. */
  take(): string[] {
    const out = this.words
    this.words = []
    return out
  }

  /**
   * True, and remembered, when the cache does not hold the word of hashes h, g. Two ways per set (16 bytes,
   * one cache line): the newest word first, the one before it second, so two common words of one set do
   * not keep pushing each other out.
   */
  private fresh(h: number, g: number): boolean {
    const s = this.slots
    const i = (Math.imul(h, 0x9e3779b1) >>> (32 - SET_BITS)) << 2
    if ((s[i] === h && s[i + 1] === g) || (s[i + 2] === h && s[i + 3] === g)) return false
    s[i + 2] = s[i]
    s[i + 3] = s[i + 1]
    s[i] = h
    s[i + 1] = g
    return true
  }
}

/**
 * Two FNV-1a hashes of a word (different primes), each kept to 30 bits so that V8 keeps them small
 * integers (a 32-bit hash is a heap number at times, and loops computing it were deoptimised). Together
 * 60 bits: two words of a whole dump's few million share both about once in 10^5 dumps, so the cache
 * compares hashes only — comparing the words themselves cost a third memory access per word, and the
 * parse thread, the import's bottleneck, spent 10 µs more per release. Start from the seeds, then
 * `h = nextWordHash(h, c)` per lower-cased character.
 */
export const WORD_HASH_SEED = 0x811c9dc5 & 0x3fffffff
export const WORD_HASH_SEED_2 = 0x050c5d1f
export const nextWordHash = (h: number, c: number): number => Math.imul(h ^ c, 0x01000193) & 0x3fffffff
export const nextWordHash2 = (g: number, c: number): number => Math.imul(g ^ c, 0x2127599b) & 0x3fffffff

/** 2^15 sets of 2 words (512 kB): the common words stay; a table much larger than the CPU's cache cost more in misses. */
const SET_BITS = 15

/**
 * A bench catalog whose titles have a vocabulary that grows like a real one. Renumbering the fixture's
 * 1,000 releases repeats every title N / 1,000 times, so the catalog keeps the fixture's 10k words at any
 * size: a word seen once in the fixture is in a thousand titles at a million releases, the search
 * dictionary never grows, and no query meets a long tail. A real dump's vocabulary keeps growing with its
 * size (Heaps' law, V = K·n^β: names, other languages, misspellings).
 *
 * HeapsTitles rewrites the titles of each copy after the first: the fixture's common words (seen at least
 * HEAD_COUNT times in its titles: "the", "mix", "love", "untitled", "persuader") stay, so they keep their
 * share of the catalog and whole titles like "Untitled" keep their duplicates; each rarer word becomes a
 * made-up word, picked per copy and word from a pool sized so that the vocabulary at N releases is the
 * fixture's times (N / 1,000)^β. The made-up words come from a character model of the fixture's own words
 * (each letter drawn given the two before it), so their trigrams are as common as real words' trigrams,
 * which is what the trigram indexes see.
 */
import { fnv1a32 } from '../../src/random/seeded-random.ts'
import { Rng } from '../../src/synth/prng.ts'
import { searchWords } from '../../src/db/search-words.ts'

/** A fixture word seen this many times or more in the fixture's titles is kept everywhere. */
export const HEAD_COUNT = 3

/**
 * Heaps' exponent for the vocabulary's growth beyond the fixture. English prose has 0.4–0.6; titles full
 * of names and other languages grow faster, so the upper end: about 1M words at 4M releases, 1.8M at the
 * full dump's 12M.
 */
export const HEAPS_BETA = 0.55

/**
 * Titles are `<title>…</title>` elements; a token is a run of ASCII letters, digits and numeric character
 * references (the dump writes letters beyond ASCII as `&#246;`), or another entity. Only tokens of ASCII
 * alone are replaced: rewriting the ASCII pieces of "S&#246;dermalm" one by one made a new word of every
 * copy (4.6M dictionary words at 8M releases, where the target was 1.5M).
 * Videos have titles too, which are not searched: their words are not counted (they are rewritten alike).
 */
const TITLE = /<title>([^<]*)<\/title>/g
const VIDEOS = /<videos>[\s\S]*?<\/videos>/g
const TOKEN = /(?:&#\d+;|[A-Za-z0-9])+|&[^;]*;/g

export class HeapsTitles {
  private readonly counts = new Map<string, number>()
  private readonly model: CharacterModel
  private readonly pool: string[] = []
  private readonly made = new Set<string>()
  private readonly poolSize: number

  /** `records`: the fixture's release records; `releases`: how many the catalog will have. */
  constructor(records: readonly string[], releases: number) {
    const words: string[] = []
    for (const record of records)
      for (const m of record.replace(VIDEOS, '').matchAll(TITLE))
        for (const w of searchWords(decodeEntities(m[1]))) words.push(w)
    for (const w of words) this.counts.set(w, (this.counts.get(w) ?? 0) + 1)
    this.model = new CharacterModel(words.filter((w) => /^[a-z]+$/.test(w)))
    const vocabulary = this.counts.size * Math.max(1, releases / records.length) ** HEAPS_BETA
    this.poolSize = Math.max(1, Math.round(vocabulary - this.counts.size))
  }

  /** `record` (one of the fixture's) as copy `copy`: unchanged for copy 0, its rare title words replaced after. */
  rewrite(record: string, copy: number): string {
    if (copy === 0) return record
    return record.replace(
      TITLE,
      (_, title: string) => `<title>${title.replace(TOKEN, (token) => this.word(token, copy))}</title>`,
    )
  }

  private word(token: string, copy: number): string {
    if (token.includes('&') || token.length < 3 || /^[0-9]+$/.test(token)) return token
    if ((this.counts.get(token.toLowerCase()) ?? 0) >= HEAD_COUNT) return token
    const made = this.poolWord(fnv1a32(`${token.toLowerCase()}\u0001${copy}`) % this.poolSize)
    return token[0] === token[0].toUpperCase() ? made[0].toUpperCase() + made.slice(1) : made
  }

  /**
   * The pool's word `i`. The pool is made in order, each word new (not a fixture word, not an earlier pool
   * word), so word i is the same whatever the order of use and the vocabulary grows by the pool's size.
   */
  private poolWord(i: number): string {
    while (this.pool.length <= i) {
      const rng = new Rng(fnv1a32(`pool\u0001${this.pool.length}`))
      let w = this.model.word(rng)
      while (this.counts.has(w) || this.made.has(w)) w = this.model.word(rng)
      this.made.add(w)
      this.pool.push(w)
    }
    return this.pool[i]
  }
}

/** Letters given the two before them (^ pads a word's start, $ ends it), counted over real words. */
class CharacterModel {
  private readonly next = new Map<string, { chars: string[]; weights: number[] }>()

  constructor(words: readonly string[]) {
    const counts = new Map<string, Map<string, number>>()
    for (const w of words) {
      const padded = `^^${w}$`
      for (let i = 2; i < padded.length; i++) {
        const state = padded.slice(i - 2, i)
        const c = padded[i]
        const m = counts.get(state) ?? new Map<string, number>()
        m.set(c, (m.get(c) ?? 0) + 1)
        counts.set(state, m)
      }
    }
    for (const [state, m] of counts) this.next.set(state, { chars: [...m.keys()], weights: [...m.values()] })
  }

  /** A word of 3 to 14 letters. */
  word(rng: Rng): string {
    for (;;) {
      let w = ''
      let state = '^^'
      for (;;) {
        const t = this.next.get(state)
        if (!t) break
        const c = t.chars[rng.weighted(t.weights)]
        if (c === '$') break
        w += c
        state = state[1] + c
        if (w.length > 14) break
      }
      if (w.length >= 3 && w.length <= 14) return w
    }
  }
}

/** The XML entities a title's words are counted without (the importer decodes them; &#1086; is one letter). */
function decodeEntities(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(
      /&(amp|lt|gt|quot|apos);/g,
      (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e]!,
    )
}

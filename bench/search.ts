/**
 * Search benchmark: `npm run bench:search [-- --releases 100000 --repeat 5]`.
 *
 * Loads a fresh database on the real server (fixture artists, labels and masters, plus a releases dump of N
 * records made by renumbering the fixture releases, about 9.4 tracks each: with `--vocabulary fixture`, the
 * default, each fixture title is there N / 1000 times and the vocabulary stays the fixture's; with
 * `--vocabulary heaps` the fixture's common words stay and the rest are made up, so the vocabulary grows as a
 * real catalog's, bench/support/vocabulary.ts) and times the catalog search (all five types, one page of 10)
 * for common words, rare words, typos and phrases:
 *   - search: as the API runs it (words and the dictionary, src/db/search-words.ts; partial word indexes
 *     per band of text length, best band first, stopping when the page is settled; prepared statements);
 *   - one statement: the same search with each pass as one statement scoring every candidate, over one
 *     word index per text (built for the comparison, timed); its hits must equal search's (checked);
 *   - trigram: search as it was before words and bands, one statement scoring every trigram candidate
 *     (`%` similarity or `<%` word similarity) over one trigram index per text (built beside the word indexes): what a typo or a rare word cost.
 * Each: the median of --repeat runs after one unmeasured run. Ends with one JSON line. `--search-only` times
 * the first column alone (the others take minutes on a catalog of a million releases).
 *
 * Server: DATABASE_URL if set (a fresh database is created beside it), else postgresql://postgres@127.0.0.1:5432.
 */
import 'reflect-metadata'
import fs from 'node:fs'
import { SearchService, type SearchType } from '../src/services/search.service.ts'
import { wordsVectorSql } from '../src/db/search-words.ts'
import { CountingQueryable } from '../src/db/sql.ts'
import { createServerTestDatabase, tmpDir } from '../test/support/database.ts'
import { loadBenchCatalog, type BenchVocabulary } from './support/catalog.ts'
import { oneStatementSearch, SEARCH_TEXTS, trigramSearchSql } from '../test/support/search-reference.ts'

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : def
}
const RELEASES = arg('releases', 100_000)
const REPEAT = arg('repeat', 5)
const SEARCH_ONLY = process.argv.includes('--search-only')
const VOCABULARY = vocabularyArg()

function vocabularyArg(): BenchVocabulary {
  const i = process.argv.indexOf('--vocabulary')
  const v = i >= 0 ? process.argv[i + 1] : 'fixture'
  if (v !== 'fixture' && v !== 'heaps')
    throw new Error(`--vocabulary: expected fixture or heaps, got ${JSON.stringify(v)}`)
  return v
}
const TERMS = [
  'love',
  'mix',
  'remix',
  'the',
  'untitled',
  'intro',
  'dub',
  'night',
  'soul',
  'dreams',
  'deep house',
  'original mix',
  'stockholm',
  'persuader',
  'persuadr',
  'stokholm',
  'horizn',
  'dj',
  'persuader stockholm',
  "Can't Get Enough (Extended Version)",
]
const ALL: SearchType[] = SEARCH_TEXTS.map((s) => s.type)
const PAGE = 10

async function median(run: () => Promise<unknown>): Promise<number> {
  await run()
  const times: number[] = []
  for (let i = 0; i < REPEAT; i++) {
    const t0 = performance.now()
    await run()
    times.push(performance.now() - t0)
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]
}

const started = performance.now()
const t = await createServerTestDatabase()
const dumpDir = tmpDir('discograph-bench-search-')
try {
  await loadBenchCatalog(t.db, RELEASES, dumpDir, VOCABULARY)
  const { rows: sizes } = await t.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM track`)
  // as the API runs it: named prepared statements (planned once per connection)
  const repo = new SearchService(new CountingQueryable(t.db.pool, true))
  const banded = new Map<string, number>()
  const hits = new Map<string, unknown>()
  for (const term of TERMS) {
    banded.set(term, await median(() => repo.search(term, ALL, PAGE, 0)))
    if (!SEARCH_ONLY) hits.set(term, await repo.search(term, ALL, PAGE, 0))
  }
  const mid = (m: Map<string, number>) => [...m.values()].sort((a, b) => a - b)[Math.floor(m.size / 2)]
  const max = (m: Map<string, number>) => Math.max(...m.values())
  if (SEARCH_ONLY) {
    for (const term of TERMS)
      console.log(`${JSON.stringify(term).padEnd(38)} ${banded.get(term)!.toFixed(1).padStart(6)} ms`)
    console.log(
      JSON.stringify({
        releases: RELEASES,
        vocabulary: VOCABULARY,
        tracks: sizes[0].n,
        search_median_ms: Number(mid(banded).toFixed(1)),
        search_max_ms: Number(max(banded).toFixed(1)),
        per_query_ms: Object.fromEntries(TERMS.map((q) => [q, Number(banded.get(q)!.toFixed(1))])),
      }),
    )
  } else {
    const t0 = performance.now()
    for (const s of SEARCH_TEXTS) {
      await t.db.pool.query(
        `CREATE INDEX ${s.view}_${s.text}_words_all ON ${s.view} USING gin (${wordsVectorSql(s.text)})`,
      )
      await t.db.pool.query(
        `CREATE INDEX ${s.view}_${s.text}_trgm_all ON ${s.view} USING gin (${s.text} gin_trgm_ops)`,
      )
    }
    const indexSeconds = (performance.now() - t0) / 1000
    await t.db.pool.query('ANALYZE')
    const single = new Map<string, number>()
    const trigram = new Map<string, number>()
    const sql = trigramSearchSql(ALL)
    console.log(
      `${RELEASES} releases (${VOCABULARY} vocabulary), ${sizes[0].n} tracks; median of ${REPEAT} runs, one page of ${PAGE} over all five types`,
    )
    console.log(
      `${'query'.padEnd(38)} ${'search'.padStart(9)} ${'one stmt'.padStart(9)} ${'trigram'.padStart(9)}`,
    )
    for (const term of TERMS) {
      single.set(term, await median(() => oneStatementSearch(t.db.pool, term, ALL, PAGE, 0)))
      const rows = await oneStatementSearch(t.db.pool, term, ALL, PAGE, 0)
      if (JSON.stringify(rows) !== JSON.stringify(hits.get(term)))
        throw new Error(`banded and one-statement search differ for ${JSON.stringify(term)}`)
      trigram.set(term, await median(() => t.db.pool.query(sql, [term, PAGE])))
      const ms = (m: Map<string, number>) => `${m.get(term)!.toFixed(1).padStart(6)} ms`
      console.log(`${JSON.stringify(term).padEnd(38)} ${ms(banded)} ${ms(single)} ${ms(trigram)}`)
    }
    const { rows: words } = await t.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM search_word`)
    console.log(
      `median over queries: search ${mid(banded).toFixed(1)} ms, one statement ${mid(single).toFixed(1)} ms, trigram ${mid(trigram).toFixed(1)} ms; ` +
        `slowest: ${max(banded).toFixed(1)}, ${max(single).toFixed(1)}, ${max(trigram).toFixed(1)} ms (one index per text built in ${indexSeconds.toFixed(1)} s; dictionary ${words[0].n} words)`,
    )
    console.log(
      JSON.stringify({
        releases: RELEASES,
        vocabulary: VOCABULARY,
        tracks: sizes[0].n,
        dictionary_words: words[0].n,
        search_median_ms: Number(mid(banded).toFixed(1)),
        search_max_ms: Number(max(banded).toFixed(1)),
        one_statement_median_ms: Number(mid(single).toFixed(1)),
        one_statement_max_ms: Number(max(single).toFixed(1)),
        trigram_median_ms: Number(mid(trigram).toFixed(1)),
        trigram_max_ms: Number(max(trigram).toFixed(1)),
        per_query_ms: Object.fromEntries(
          TERMS.map((q) => [q, [banded, single, trigram].map((m) => Number(m.get(q)!.toFixed(1)))]),
        ),
        total_s: Math.round((performance.now() - started) / 1000),
      }),
    )
  }
} finally {
  await t.dispose()
  fs.rmSync(dumpDir, { recursive: true, force: true })
}

/**
 * Search benchmark: `npm run bench:search [-- --releases 100000 --repeat 5]`.
 *
 * Loads a fresh database on the real server (fixture artists, labels and masters, plus a releases dump of N
 * records made by renumbering the fixture releases: about 9.4 tracks each) and times the catalog search
 * (all five types, one page of 10) for common words, rare words, typos and phrases:
 *   - banded: the search as the API runs it (src/db/trigram-bands.ts: partial trigram indexes per band of
 *     text length, best band first, stopping when the page is settled; prepared statements);
 *   - single: the search as one statement scoring every trigram candidate, over one trigram index per
 *     text (what search was before bands; those indexes are built for the comparison, timed).
 * Each: the median of --repeat runs after one unmeasured run; both must return the same hits (checked).
 * Ends with one JSON line.
 *
 * Server: DATABASE_URL if set (a fresh database is created beside it), else postgresql://postgres@127.0.0.1:5432.
 */
import 'reflect-metadata'
import fs from 'node:fs'
import { CatalogReadRepository, type SearchType } from '../src/db/repositories/catalog-read.repository.ts'
import { CountingQueryable } from '../src/db/sql.ts'
import { createServerTestDatabase, tmpDir } from '../test/support/database.ts'
import { loadBenchCatalog } from './support/catalog.ts'
import { SEARCH_TEXTS, singleStatementSearchSql } from '../test/support/search-reference.ts'

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : def
}
const RELEASES = arg('releases', 100_000)
const REPEAT = arg('repeat', 5)
const TERMS = ['love', 'mix', 'remix', 'the', 'dub', 'night', 'soul', 'dreams', 'deep house', 'original mix', 'stockholm', 'persuader', 'persuadr', 'stokholm', "Can't Get Enough (Extended Version)"]
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
  await loadBenchCatalog(t.db, RELEASES, dumpDir)
  const { rows: sizes } = await t.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM track`)
  // as the API runs it: named prepared statements (planned once per connection)
  const repo = new CatalogReadRepository(new CountingQueryable(t.db.pool, true))
  const banded = new Map<string, number>()
  const hits = new Map<string, unknown>()
  for (const term of TERMS) {
    banded.set(term, await median(() => repo.search(term, ALL, PAGE, 0)))
    hits.set(term, await repo.search(term, ALL, PAGE, 0))
  }
  const t0 = performance.now()
  for (const s of SEARCH_TEXTS) await t.db.pool.query(`CREATE INDEX ${s.table}_${s.text}_trgm_all ON ${s.table} USING gin (${s.text} gin_trgm_ops)`)
  const indexSeconds = (performance.now() - t0) / 1000
  await t.db.pool.query('ANALYZE')
  const single = new Map<string, number>()
  const sql = singleStatementSearchSql(ALL)
  console.log(`${RELEASES} releases, ${sizes[0].n} tracks; median of ${REPEAT} runs, one page of ${PAGE} over all five types`)
  console.log(`${'query'.padEnd(38)} ${'banded'.padStart(9)} ${'single'.padStart(9)}`)
  for (const term of TERMS) {
    single.set(term, await median(() => t.db.pool.query(sql, [term, PAGE, 0])))
    const { rows } = await t.db.pool.query(sql, [term, PAGE, 0])
    if (JSON.stringify(rows) !== JSON.stringify(hits.get(term))) throw new Error(`banded and single-statement search differ for ${JSON.stringify(term)}`)
    console.log(`${JSON.stringify(term).padEnd(38)} ${banded.get(term)!.toFixed(1).padStart(6)} ms ${single.get(term)!.toFixed(1).padStart(6)} ms`)
  }
  const mid = (m: Map<string, number>) => [...m.values()].sort((a, b) => a - b)[Math.floor(m.size / 2)]
  const max = (m: Map<string, number>) => Math.max(...m.values())
  console.log(`median over queries: banded ${mid(banded).toFixed(1)} ms, single ${mid(single).toFixed(1)} ms; slowest: banded ${max(banded).toFixed(1)} ms, single ${max(single).toFixed(1)} ms (single's indexes built in ${indexSeconds.toFixed(1)} s)`)
  console.log(
    JSON.stringify({
      releases: RELEASES,
      tracks: sizes[0].n,
      banded_median_ms: Number(mid(banded).toFixed(1)),
      banded_max_ms: Number(max(banded).toFixed(1)),
      single_median_ms: Number(mid(single).toFixed(1)),
      single_max_ms: Number(max(single).toFixed(1)),
      per_query_ms: Object.fromEntries(TERMS.map((q) => [q, [Number(banded.get(q)!.toFixed(1)), Number(single.get(q)!.toFixed(1))]])),
      total_s: Math.round((performance.now() - started) / 1000),
    }),
  )
} finally {
  await t.dispose()
  fs.rmSync(dumpDir, { recursive: true, force: true })
}

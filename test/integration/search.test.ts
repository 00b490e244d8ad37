import 'reflect-metadata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CatalogReadRepository, type SearchType } from '../../src/db/repositories/catalog-read.repository.ts'
import { bandCondition, TRIGRAM_BANDS } from '../../src/db/trigram-bands.ts'
import { importDiscogs } from '../../src/ingest/discogs/import.ts'
import { FIXTURES } from '../support/cli.ts'
import { createServerTestDatabase, type TestDatabase } from '../support/database.ts'
import { SEARCH_TEXTS, singleStatementSearchSql } from '../support/search-reference.ts'

describe('search in bands of title length (real server, fixture catalog)', () => {
  let t: TestDatabase
  let repo: CatalogReadRepository
  const q = async <R extends object>(sql: string, params: unknown[] = []) => (await t.db.pool.query<R & Record<string, unknown>>(sql, params)).rows
  beforeAll(async () => {
    t = await createServerTestDatabase()
    await importDiscogs(t.db, [FIXTURES])
    repo = new CatalogReadRepository(t.db.pool)
  }, 120_000)
  afterAll(async () => {
    await t?.dispose()
  })

  it('serves every band of every searchable text from its own partial index', async () => {
    const client = await t.db.pool.connect()
    try {
      await client.query('SET enable_seqscan = off')
      for (const s of SEARCH_TEXTS)
        for (const [i, band] of TRIGRAM_BANDS.entries()) {
          const { rows } = await client.query(
            `EXPLAIN (FORMAT JSON) SELECT id FROM ${s.table} WHERE ${bandCondition(s.count, band)} AND (${s.text} % $1 OR $1 <% ${s.text})`,
            ['love'],
          )
          expect(JSON.stringify(rows[0]['QUERY PLAN'])).toContain(`"Index Name":"${s.table}_${s.text}_trgm_${i}"`)
        }
    } finally {
      await client.query('RESET enable_seqscan')
      client.release()
    }
  })

  it('uses the band indexes even on this small catalog, where matching every title of a band looks cheap at pg_trgm’s own operator costs', async () => {
    for (const s of SEARCH_TEXTS) {
      const { rows } = await t.db.pool.query(
        `EXPLAIN (FORMAT JSON) SELECT id FROM ${s.table} WHERE ${bandCondition(s.count, TRIGRAM_BANDS.at(-1)!)} AND ${s.text} % $1
         UNION SELECT id FROM ${s.table} WHERE ${bandCondition(s.count, TRIGRAM_BANDS.at(-1)!)} AND $1 <% ${s.text}`,
        ['stockholm'],
      )
      expect(JSON.stringify(rows[0]['QUERY PLAN']), s.table).not.toContain('"Seq Scan"')
    }
  })

  it('finds exactly the hits that scoring every candidate finds: common and rare words, typos, phrases, pages, type subsets', async () => {
    // Real texts of the catalog as queries too (whole, and with a letter dropped), besides common words.
    const samples = await q<{ text: string }>(
      `(SELECT title AS text FROM track WHERE title IS NOT NULL ORDER BY md5(title) LIMIT 8)
       UNION ALL (SELECT title FROM release ORDER BY md5(title) LIMIT 4)
       UNION ALL (SELECT name FROM artist ORDER BY md5(name) LIMIT 4)`,
    )
    const queries = [
      'love', 'mix', 'remix', 'dub', 'the', 'a', 'deep house', 'original mix', 'night', 'soul', 'stockholm',
      'persuadr', 'untitled', 'intro', 'part 2', 'vol. 1', 'über', 'dj', 'x',
      ...samples.map((r) => r.text),
      ...samples.map((r) => r.text.slice(0, Math.floor(r.text.length / 2)) + r.text.slice(Math.floor(r.text.length / 2) + 1)),
    ]
    const all = SEARCH_TEXTS.map((s) => s.type)
    const cases: [SearchType[], number, number][] = [[all, 10, 0], [all, 5, 10], [['TRACK'], 25, 3], [['ARTIST', 'LABEL'], 10, 0], [['RELEASE', 'MASTER', 'TRACK'], 3, 2]]
    let compared = 0
    let nonEmpty = 0
    for (const query of queries)
      for (const [types, limit, offset] of cases) {
        const expected = await q(singleStatementSearchSql(types), [query, limit + offset, offset])
        const got = await repo.search(query, types, limit, offset)
        expect(got, `${query} ${types} ${limit}/${offset}`).toEqual(expected)
        compared++
        if (expected.length > 0) nonEmpty++
      }
    expect(compared).toBe(queries.length * cases.length)
    expect(nonEmpty).toBeGreaterThan(compared / 2) // the comparison saw real hits, not empty lists agreeing
  })

  it('reads only the bands it needs: a query whose exact title exists stops after its own band', async () => {
    const statements: string[] = []
    const counting = { query: (text: string, values?: unknown[]) => (statements.push(text), t.db.pool.query(text, values)) }
    const hits = await new CatalogReadRepository(counting as never).search('Stockholm', ['RELEASE'], 1, 0)
    expect(hits).toEqual([{ type: 'RELEASE', id: 1, text: 'Stockholm', score: 1 }])
    expect(statements.length).toBe(2) // the query's trigram count, then one band
  })
})

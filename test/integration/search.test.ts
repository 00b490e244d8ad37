import 'reflect-metadata'
import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  SEARCH_LOCK_TIMEOUT_MS,
  SearchRepository,
  type SearchType,
} from '../../src/db/repositories/search.repository.ts'
import { SearchService } from '../../src/services/search.service.ts'
import { BAND_TEXT_COST } from '../../src/services/search/equal-texts.ts'
import { UnavailableError } from '../../src/errors.ts'
import { CountingQueryable } from '../../src/db/sql.ts'
import { wordsVectorSql } from '../../src/db/search-words.ts'
import { bandCondition, TRIGRAM_BANDS } from '../../src/db/trigram-bands.ts'
import { importDiscogs } from '../../src/ingest/discogs/import.ts'
import { FIXTURES } from '../support/cli.ts'
import { createServerTestDatabase, tmpDir, type TestDatabase } from '../support/database.ts'
import { oneStatementSearch, SEARCH_TEXTS } from '../support/search-reference.ts'

const ALL: SearchType[] = SEARCH_TEXTS.map((s) => s.type)

describe('search by words, in bands of title length (real server, fixture catalog)', () => {
  let t: TestDatabase
  let repo: SearchRepository
  let search: SearchService
  const q = async <R extends object>(sql: string, params: unknown[] = []) =>
    (await t.db.pool.query<R & Record<string, unknown>>(sql, params)).rows
  const plan = async (sql: string, params: unknown[]) =>
    JSON.stringify((await q(`EXPLAIN (FORMAT JSON) ${sql}`, params))[0]['QUERY PLAN'])
  beforeAll(async () => {
    t = await createServerTestDatabase()
    await importDiscogs(t.db, [FIXTURES])
    repo = new SearchRepository(t.db.pool)
    search = new SearchService(t.db.pool)
  }, 120_000)
  afterAll(async () => {
    await t?.dispose()
  })

  it('serves every band of every searchable text from its own partial index of words', async () => {
    const client = await t.db.pool.connect()
    try {
      await client.query('SET enable_seqscan = off')
      for (const s of SEARCH_TEXTS)
        for (const [i, band] of TRIGRAM_BANDS.entries()) {
          const { rows } = await client.query(
            `EXPLAIN (FORMAT JSON) SELECT id FROM ${s.view} WHERE ${bandCondition(s.count, band)} AND ${wordsVectorSql(s.text)} @@ $1::tsquery`,
            ['love'],
          )
          expect(JSON.stringify(rows[0]['QUERY PLAN']), `${s.view} ${i}`).toContain(
            `"Index Name":"${s.view}_${s.text}_words_${i}"`,
          )
        }
    } finally {
      await client.query('RESET enable_seqscan')
      client.release()
    }
  })

  it('uses the band indexes even on this small catalog, and the dictionary’s at pg_trgm’s raised operator costs', async () => {
    for (const s of SEARCH_TEXTS)
      for (const band of TRIGRAM_BANDS) {
        const sql = `SELECT id FROM ${s.view} WHERE ${bandCondition(s.count, band)} AND ${wordsVectorSql(s.text)} @@ $1::tsquery`
        expect(await plan(sql, ['stockholm | stockhom']), s.view).not.toContain('"Seq Scan"')
      }
    expect(await plan(`SELECT word FROM search_word WHERE word % $1`, ['persuadr'])).toContain(
      '"Index Name":"search_word_trgm"',
    )
  })

  it('finds a misspelt word through the dictionary: the catalog’s words like it', async () => {
    expect(await repo.searchPlan('Persuadr stokholm persuadr')).toEqual({
      trigrams: 18,
      words: ['persuadr', 'stokholm'],
      known: false,
      unknown: ['persuadr', 'stokholm'],
      shortWords: [],
      equalTexts: {},
    })
    expect(await repo.wordAlternatives(['persuadr', 'stokholm'])).toEqual([
      ['persuadr', 'persuader'],
      ['stokholm', 'stockholm'],
    ])
    expect(await repo.searchPlan('The Persuader')).toMatchObject({ known: true, unknown: [] })
    expect(await repo.searchPlan('DJ K. dj')).toMatchObject({ words: [], shortWords: ['dj', 'k'] })
    // a word the dictionary lacks may be one being typed: it also matches the words it begins ("persu" is
    // too unlike "persuader" to be one of its likes); a word the dictionary has is matched whole
    expect(await repo.searchPlan('persu')).toMatchObject({ unknown: ['persu'] })
    expect(await repo.wordAlternatives(['persu'])).not.toContainEqual(expect.arrayContaining(['persuader']))
    expect((await search.search('persu', ['ARTIST'], 1, 0))[0]).toMatchObject({ text: 'The Persuader' })
    const [{ n }] = await q<{ n: number }>(
      `SELECT count(*)::int AS n FROM track_search WHERE ${wordsVectorSql('title')} @@ 'dream:*' AND NOT ${wordsVectorSql('title')} @@ 'dream'`,
    )
    expect(n).toBeGreaterThan(0) // "Dreams", "Dreamer" …
    for (const h of await search.search('dream', ['TRACK'], 50, 0)) expect(h.text).toMatch(/\bdream\b/i)
    expect((await search.search('persuadr', ['ARTIST'], 1, 0))[0]).toMatchObject({
      id: 1,
      text: 'The Persuader',
    })
    expect((await search.search('stokholm', ['RELEASE'], 1, 0))[0]).toMatchObject({
      id: 1,
      text: 'Stockholm',
    })
    // a word of the catalog is searched as typed first (and matches longer words it begins): the
    // catalog's "Stockhom" (sic) comes only with its likes, when "stockholm" alone finds fewer than 10
    expect(await repo.wordAlternatives(['stockholm'])).toEqual([['stockholm', 'stockhom']])
    // a word of four letters or fewer is not looked up: one typo rarely leaves it that like the word meant
    const short = await q<{ word: string }>(
      `SELECT s.word FROM search_word s
        WHERE length(s.word) = 4 AND EXISTS (SELECT 1 FROM search_word d WHERE similarity(d.word, s.word) >= 0.5 AND strpos(d.word, s.word) = 0)
        ORDER BY s.word LIMIT 1`,
    )
    expect(short.length).toBe(1) // a word with likes in the dictionary, which it is not searched with
    expect(await repo.wordAlternatives([short[0].word, 'persuadr'])).toEqual([
      [short[0].word],
      ['persuadr', 'persuader'],
    ])
    const hits = await search.search('stockholm', ALL, 20, 0)
    expect(hits.some((h) => /stockhom/i.test(h.text))).toBe(
      hits.filter((h) => /stockholm/i.test(h.text)).length < 10,
    )
  })

  it('wants every word; when too few titles have them all, most of them; a query of only short words wants them', async () => {
    const all = await search.search('persuader stockholm', ALL, 20, 0)
    // no text holds both words: relaxed to either, the artist and the release both found
    expect(all.map((h) => `${h.type}:${h.text}`)).toEqual(
      expect.arrayContaining(['ARTIST:The Persuader', 'RELEASE:Stockholm']),
    )
    // a query whose words are all together somewhere finds only texts with all of them (enough of them here)
    const [{ n }] = await q<{ n: number }>(
      `SELECT count(*)::int AS n FROM track WHERE ${wordsVectorSql('title')} @@ 'original:* & mix'`,
    )
    expect(n).toBeGreaterThanOrEqual(10)
    const strict = await search.search('original mix', ['TRACK'], 50, 0)
    expect(strict.length).toBe(Math.min(n, 50))
    for (const h of strict) expect(h.text).toMatch(/\boriginal.*\bmix\b|\bmix\b.*\boriginal/i)
    const short = await search.search('dj', ['ARTIST'], 5, 0)
    expect(short.length).toBe(5)
    for (const h of short) expect(h.text).toMatch(/\bdj\b/i)
    // nothing to match (no letter or digit): no hits, and no error
    expect(await search.search('!? -- …', ALL, 10, 0)).toEqual([])
  })

  it('scores at most the cap’s candidates per band and type in a pass that wants fewer words, or short words', async () => {
    const capped = new SearchService(t.db.pool, { candidateCap: 1 })
    for (const query of ['love persuader', 'dj']) {
      const all = await search.search(query, ALL, 50, 0)
      const some = await capped.search(query, ALL, 50, 0)
      expect(some.length, query).toBeLessThan(all.length)
      expect(some.length, query).toBeLessThanOrEqual(ALL.length * TRIGRAM_BANDS.length)
      expect(some.length, query).toBeGreaterThan(0)
    }
    // a pass wanting every word is not capped
    expect(await capped.search('original mix', ['TRACK'], 30, 0)).toEqual(
      await search.search('original mix', ['TRACK'], 30, 0),
    )
  })

  it('keeps the few hits that hold every word when a capped pass then takes a sample without them', async () => {
    const capped = new SearchService(t.db.pool, { candidateCap: 1 })
    // one track holds all three words (theme, the, stargazers); about thirty hold two of them
    const query = 'Theme Of The Stargazers'
    const [{ all, two }] = await q<{ all: number; two: number }>(
      `SELECT count(*) FILTER (WHERE words @@ 'theme & the & stargazers')::int AS all,
              count(*) FILTER (WHERE words @@ '(theme & the) | stargazers')::int AS two
         FROM (SELECT ${wordsVectorSql('title')} AS words FROM track) t`,
    )
    expect(all).toBe(1)
    expect(two).toBeGreaterThan(20)
    const hits = await capped.search(query, ['TRACK'], 10, 0)
    expect(hits[0]).toMatchObject({ text: query, score: 1 })
    expect(hits.length).toBeGreaterThan(1) // and the sample's
  })

  it('finds exactly the hits that scoring every candidate finds: common and rare words, typos, phrases, pages, type subsets', async () => {
    // Real texts of the catalog as queries too (whole, and with a letter dropped), besides common words.
    const samples = await q<{ text: string }>(
      `(SELECT title AS text FROM track WHERE title IS NOT NULL ORDER BY md5(title) LIMIT 8)
       UNION ALL (SELECT title FROM release ORDER BY md5(title) LIMIT 4)
       UNION ALL (SELECT name FROM artist ORDER BY md5(name) LIMIT 4)`,
    )
    const queries = [
      'love',
      'mix',
      'remix',
      'dub',
      'the',
      'a',
      'deep house',
      'original mix',
      'night',
      'soul',
      'stockholm',
      'persuadr',
      'untitled',
      'Untitled',
      'allegro',
      'let it be',
      'intro',
      'part 2',
      'vol. 1',
      'über',
      'dj',
      'x',
      "Can't Get Enough (Extended Version)",
      ...samples.map((r) => r.text),
      ...samples.map(
        (r) =>
          r.text.slice(0, Math.floor(r.text.length / 2)) + r.text.slice(Math.floor(r.text.length / 2) + 1),
      ),
    ]
    const cases: [SearchType[], number, number][] = [
      [ALL, 10, 0],
      [ALL, 5, 10],
      [['TRACK'], 25, 3],
      [['ARTIST', 'LABEL'], 10, 0],
      [['RELEASE', 'MASTER', 'TRACK'], 3, 2],
    ]
    let compared = 0
    let nonEmpty = 0
    for (const query of queries)
      for (const [types, limit, offset] of cases) {
        const expected = await oneStatementSearch(t.db.pool, query, types, limit, offset)
        const got = await search.search(query, types, limit, offset)
        expect(got, `${query} ${types} ${limit}/${offset}`).toEqual(expected)
        compared++
        if (expected.length > 0) nonEmpty++
      }
    expect(compared).toBe(queries.length * cases.length)
    expect(nonEmpty).toBeGreaterThan(compared / 2) // the comparison saw real hits, not empty lists agreeing
  })

  it('matches at most the 8 longest words of a long query, so a 200-character query stays one cheap search', async () => {
    const words = Array.from({ length: 50 }, (_, i) => `w${(i + 10).toString(36)}q`) // 50 distinct words no title holds
    const query = words.join(' ').slice(0, 200)
    const plan = await repo.searchPlan(`Stockholm Persuader ${query}`)
    expect(plan.words.length).toBe(8)
    expect(plan.words).toEqual(expect.arrayContaining(['persuader', 'stockholm']))
    const statements: string[] = []
    const counting = {
      query: (text: string, values?: unknown[]) => (statements.push(text), t.db.pool.query(text, values)),
    }
    await new SearchService(counting as never).search(query, ALL, 10, 0)
    expect(Math.max(...statements.map((sql) => (sql.match(/~\*/g) ?? []).length))).toBeLessThanOrEqual(
      56 * 5 * ALL.length,
    )
  })

  it('takes a page of texts equal to a common title from the first rows in id order, when statistics say they are common', async () => {
    // the fixture has 77 tracks titled "Untitled" among 9,430: the importer's ANALYZE lists the title as common
    const plan = await repo.searchPlan('untitled', ALL)
    expect(plan.equalTexts.TRACK!.share).toBeGreaterThan(0.005)
    expect(plan.equalTexts.TRACK!.count).toBeGreaterThan(50)
    expect(plan.equalTexts.ARTIST).toBeUndefined()
    expect((await repo.searchPlan('untitled', ['ARTIST'])).equalTexts).toEqual({})
    const statements: string[] = []
    const counting = {
      query: (text: string, values?: unknown[]) => (statements.push(text), t.db.pool.query(text, values)),
    }
    // 77 "Untitled" are few enough for the band here; a catalog of 30 times the fixture's would take this path
    const sees = (db: unknown) => new SearchService(db as never, { bandTextCost: 30 * BAND_TEXT_COST })
    expect((await new SearchService(counting as never).search('untitled', ['TRACK'], 10, 0)).length).toBe(10)
    expect(statements.some((sql) => sql.includes('title_trigrams BETWEEN'))).toBe(true)
    statements.length = 0
    const hits = await sees(counting).search('untitled', ['TRACK'], 10, 0)
    expect(hits).toEqual(await oneStatementSearch(t.db.pool, 'untitled', ['TRACK'], 10, 0))
    expect(hits.every((h) => h.score === 1)).toBe(true)
    expect(statements.length).toBe(2) // the plan, then the first rows in id order: no band is read
    expect(statements[1]).toContain('ORDER BY id LIMIT 30000')
    // whatever the page and types, the hits are the reference's
    for (const query of ['untitled', 'Untitled', 'UNTITLED!', 'allegro', 'let it be', 'intro', 'adagio'])
      for (const [types, limit, offset] of [
        [ALL, 10, 0],
        [ALL, 5, 10],
        [['TRACK'], 25, 3],
        [['RELEASE', 'MASTER', 'TRACK'], 3, 2],
      ] as const)
        expect(
          await sees(t.db.pool).search(query, types, limit, offset),
          `${query} ${types} ${limit}/${offset}`,
        ).toEqual(await oneStatementSearch(t.db.pool, query, types, limit, offset))
    // a page beyond the equal texts, and a common title with fewer than a page: the bands answer, as exactly
    for (const [query, limit, offset] of [
      ['untitled', 10, 75],
      ['let it be', 10, 0],
    ] as const) {
      statements.length = 0
      expect(await sees(counting).search(query, ['TRACK'], limit, offset)).toEqual(
        await oneStatementSearch(t.db.pool, query, ['TRACK'], limit, offset),
      )
      expect(statements.some((sql) => sql.includes('title_trigrams BETWEEN'))).toBe(true)
    }
  })

  it('plans its prepared statements once for any query (generic plans), in a read-only transaction of its own', async () => {
    const pool = new pg.Pool({ connectionString: t.db.url, max: 1 })
    try {
      const db = new CountingQueryable(pool, true)
      const hits = await new SearchService(db).search("Can't Get Enough (Extended Version)", ALL, 10, 0)
      expect(hits).toEqual(await search.search("Can't Get Enough (Extended Version)", ALL, 10, 0))
      // the pool's one connection: every search statement prepared there was planned generically, and
      // PostgreSQL plans a statement's first five executions for their values unless told otherwise
      const [plans] = (
        await pool.query(
          `SELECT count(*)::int AS statements, sum(custom_plans)::int AS custom, sum(generic_plans)::int AS generic,
                  current_setting('plan_cache_mode') AS mode, current_setting('transaction_read_only') AS read_only
             FROM pg_prepared_statements WHERE statement LIKE '%similarity(%'`,
        )
      ).rows
      expect(plans).toMatchObject({ custom: 0, mode: 'auto', read_only: 'off' })
      expect(plans.generic).toBeGreaterThanOrEqual(plans.statements)
      expect(plans.statements).toBeGreaterThan(1)
      expect(db.statements).toBeGreaterThan(3 + plans.statements) // counted on the lent connection too: BEGIN, SET, COMMIT and the search
    } finally {
      await pool.end()
    }
  })

  it('answers UNAVAILABLE within the lock timeout, not after it, while an import rebuilds a search view', async () => {
    const pool = new pg.Pool({ connectionString: t.db.url, max: 2 })
    const importer = await pool.connect()
    try {
      const db = new CountingQueryable(pool, true)
      // a refresh holds its view until it commits
      await importer.query('BEGIN')
      await importer.query('REFRESH MATERIALIZED VIEW track_search')
      const started = performance.now()
      const error = await new SearchService(db).search('love', ALL, 10, 0).catch((e: unknown) => e)
      const waited = performance.now() - started
      expect(error).toBeInstanceOf(UnavailableError)
      expect((error as UnavailableError).code).toBe('UNAVAILABLE')
      expect(waited).toBeGreaterThanOrEqual(SEARCH_LOCK_TIMEOUT_MS - 50)
      expect(waited).toBeLessThan(SEARCH_LOCK_TIMEOUT_MS + 3000)
      await importer.query('ROLLBACK')
      expect((await new SearchService(db).search('love', ALL, 10, 0)).length).toBe(10)
      // the pool's connection is back to PostgreSQL's default
      expect((await pool.query(`SELECT current_setting('lock_timeout') AS t`)).rows[0].t).toBe('0')
    } finally {
      importer.release()
      await pool.end()
    }
  })

  it('pages of one query are pages of one ranking, whether or not the words had to be relaxed', async () => {
    for (const query of ['persuader stockholm', 'love', "Can't Get Enough (Extended Version)"]) {
      const whole = await search.search(query, ALL, 30, 0)
      const pages = [
        ...(await search.search(query, ALL, 3, 0)),
        ...(await search.search(query, ALL, 7, 3)),
        ...(await search.search(query, ALL, 20, 10)),
      ]
      expect(pages, query).toEqual(whole)
    }
  })

  it('reads only the bands it needs: a common word stops before the long titles', async () => {
    const statements: string[] = []
    const counting = {
      query: (text: string, values?: unknown[]) => (statements.push(text), t.db.pool.query(text, values)),
    }
    const hits = await new SearchService(counting as never).search('mix', ['TRACK'], 10, 0)
    expect(hits.length).toBe(10)
    expect(statements.length).toBeGreaterThanOrEqual(2) // the plan, then at least one band
    expect(statements.length).toBeLessThan(1 + TRIGRAM_BANDS.length)
    // correctly spelt words with enough hits: the dictionary's likes are never looked up
    expect(statements.some((sql) => sql.includes('similarity(d.word'))).toBe(false)
  })
})

describe('search while an import rebuilds the search views (real server)', () => {
  let t: TestDatabase
  const dir = tmpDir()
  const releases = (title: string) =>
    `<releases>${[1, 2, 3].map((id) => `<release id="${id}"><title>${id === 1 ? title : `Other ${id}`}</title><tracklist><track><position>1</position><title>Song ${id}</title></track></tracklist></release>`).join('')}</releases>`
  const write = (date: string, title: string) => {
    const file = path.join(dir, `discogs_${date}_releases.xml`)
    fs.writeFileSync(file, releases(title))
    return file
  }
  beforeAll(async () => {
    t = await createServerTestDatabase()
    await importDiscogs(t.db, [write('20250101', 'Quixotic Zebra')])
  }, 120_000)
  afterAll(async () => {
    await t?.dispose()
  })

  it('answers from the live view while a re-import builds the next one, and from the new one after the swap', async () => {
    const search = new SearchService(new CountingQueryable(t.db.pool, true))
    const titles = async (query: string) => (await search.search(query, ['RELEASE'], 5, 0)).map((h) => h.text)
    expect(await titles('quixotic')).toEqual(['Quixotic Zebra'])
    // A reader that keeps the view open delays the swap; the rebuild must not lock search out meanwhile.
    const reader = await t.db.pool.connect()
    const watcher = await t.db.pool.connect()
    try {
      await reader.query('BEGIN')
      await reader.query('SELECT count(*) FROM release_search')
      const imported = importDiscogs(t.db, [write('20250201', 'Jubilant Walrus')])
      const waiting = async () =>
        (
          await watcher.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          )
        ).rows[0].n > 0
      const deadline = performance.now() + 60_000
      while (!(await waiting())) {
        if (performance.now() > deadline) throw new Error('the import never waited for the reader')
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      // the import now waits to put its view in place; search still answers, from the live view
      const started = performance.now()
      expect(await titles('quixotic')).toEqual(['Quixotic Zebra'])
      expect(await titles('jubilant')).toEqual([])
      expect(performance.now() - started).toBeLessThan(SEARCH_LOCK_TIMEOUT_MS)
      await reader.query('COMMIT')
      await imported
    } finally {
      await reader.query('ROLLBACK').catch(() => undefined) // if the test failed while it held the view
      reader.release()
      watcher.release()
    }
    expect(await titles('jubilant')).toEqual(['Jubilant Walrus'])
    expect(await titles('quixotic')).toEqual([])
    // the next view took the live one's name and indexes; nothing is left behind
    const { rows } = await t.db.pool.query(
      `SELECT relname FROM pg_class WHERE relname LIKE '%\\_next' ORDER BY relname`,
    )
    expect(rows).toEqual([])
    const { rows: indexes } = await t.db.pool.query(
      `SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = 'release_search'`,
    )
    expect(indexes[0].n).toBe(TRIGRAM_BANDS.length + 1) // the bands and the unique id
  })
})

describe('relaxing a pasted title past many poor matches (real server, a catalog made for it)', () => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await createServerTestDatabase()
    // Ten long titles hold 4 of the query's 5 words, the song itself only 3: wanting 4 words finds ten hits,
    // all poor (0.30), and without a better stopping rule the song was never looked for.
    const medley =
      "Immortal Megamix: Can You Feel It / Don't Stop 'Til You Get Enough / Billie Jean / Black Or White (Immortal Version)"
    const tracks = [...Array.from({ length: 10 }, () => medley), "Can't Get Enough"].map(
      (title, i) => `<track><position>${i + 1}</position><title>${title}</title></track>`,
    )
    const file = path.join(tmpDir(), 'discogs_20250101_releases.xml')
    fs.writeFileSync(
      file,
      `<releases><release id="1"><title>Medleys</title><tracklist>${tracks.join('')}</tracklist></release></releases>`,
    )
    await importDiscogs(t.db, [file])
  }, 120_000)
  afterAll(async () => {
    await t?.dispose()
  })

  it('goes on wanting fewer words while the page’s hits are poor, and ranks the song first', async () => {
    const hits = await new SearchService(t.db.pool).search(
      "Can't Get Enough (Extended Version)",
      ['TRACK'],
      10,
      0,
    )
    expect(hits[0]).toMatchObject({ text: "Can't Get Enough" })
    expect(hits[0].score).toBeGreaterThan(0.5)
    expect(hits.slice(1).map((h) => h.score)).toEqual(Array(9).fill(hits[1].score)) // then the medleys
  })

  it('still matches the likes of a word the dictionary lacks when it wants fewer words', async () => {
    const repo = new SearchRepository(t.db.pool)
    const search = new SearchService(t.db.pool)
    // "enoughh" is no title's word: only its like "enough" finds the song, in the pass wanting 3 of 5 words
    expect((await repo.searchPlan("Can't Get Enoughh (Extended Version)")).unknown).toEqual([
      'enoughh',
      'extended',
    ])
    const hits = await search.search("Can't Get Enoughh (Extended Version)", ['TRACK'], 10, 0)
    expect(hits[0]).toMatchObject({ text: "Can't Get Enough" })
  })
})

import 'reflect-metadata'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STAGE_TABLES } from '../../src/db/repositories/catalog-staging.ts'
import { SearchService } from '../../src/services/search.service.ts'
import { DeferredIndexRepository } from '../../src/db/repositories/deferred-index.repository.ts'
import { ImportSession } from '../../src/db/repositories/import-session.ts'
import { DumpFormatError } from '../../src/errors.ts'
import { importDiscogs } from '../../src/ingest/discogs/import.ts'
import { parseRelease } from '../../src/ingest/discogs/records.ts'
import { XmlRecordReader } from '../../src/ingest/discogs/xml-records.ts'
import {
  createEmbeddedTestDatabase,
  createServerTestDatabase,
  tmpDir,
  type TestDatabase,
} from '../support/database.ts'
import { MAX_WORD_LENGTH, MIN_WORD_LENGTH, WORD_SEPARATOR_SQL } from '../../src/db/search-words.ts'

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures/discogs')
const fixture = (type: string) => path.join(FIXTURES, `discogs_20200806_${type}.xml.gz`)
const releasesXml = () => zlib.gunzipSync(fs.readFileSync(fixture('releases'))).toString('utf8')

/** Track counts per release of the fixture, from the pure parser: what a whole record must have. */
function fixtureTrackCounts(): Map<number, number> {
  const r = new XmlRecordReader()
  r.feed(releasesXml())
  const out = new Map<number, number>()
  for (let ev = r.next(); ev; ev = r.next())
    if (ev.kind === 'record') {
      const rec = parseRelease(ev.node, () => {})!
      out.set(rec.id, rec.tracks.length)
    }
  return out
}

describe.each([
  ['server', createServerTestDatabase],
  ['embedded', createEmbeddedTestDatabase],
] as const)('importDiscogs on the %s database', (kind, create) => {
  let t: TestDatabase
  let dir: string
  const q = async (sql: string, params: unknown[] = []) => (await t.db.pool.query(sql, params)).rows
  beforeAll(async () => {
    t = await create()
    dir = tmpDir('discograph-ingest-')
  })
  /** Rows whose stored trigram count is not pg_trgm's, and rows whose text the database had to count. */
  const trigramCounts = async () =>
    (
      await q(
        ['artist:name', 'label:name', 'master:title', 'release:title', 'track:title']
          .map((x) => x.split(':'))
          .map(
            ([
              table,
              text,
            ]) => `SELECT count(*) FILTER (WHERE ${text}_trigrams IS DISTINCT FROM cardinality(show_trgm(${text})))::int AS wrong,
                                       count(*) FILTER (WHERE ${text} ~ '[^\x01-\x7f]')::int AS beyond_ascii FROM ${table}`,
          )
          .join(' UNION ALL '),
      )
    ).reduce((a, r) => ({ wrong: a.wrong + r.wrong, beyondAscii: a.beyondAscii + r.beyond_ascii }), {
      wrong: 0,
      beyondAscii: 0,
    })
  afterAll(async () => {
    await t?.dispose()
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  })

  it('staging tables match the layout the encoder writes', async () => {
    for (const [table, columns] of Object.entries(STAGE_TABLES)) {
      const rows = await q(
        `SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`,
        [table],
      )
      expect(
        rows.map((r) => r.column_name),
        table,
      ).toEqual(columns.map(([c]) => c))
    }
  })

  it('imports the four fixture dumps (a directory argument)', async () => {
    const progress: string[] = []
    const s = await importDiscogs(t.db, [FIXTURES], { onProgress: (p) => progress.push(p.type) })
    expect(s.types).toEqual({
      artists: { records: 1000, inserted: 1000, updated: 0, unchanged: 0, missing: 0 },
      labels: { records: 1000, inserted: 1000, updated: 0, unchanged: 0, missing: 0 },
      masters: { records: 1000, inserted: 1000, updated: 0, unchanged: 0, missing: 0 },
      releases: { records: 1000, inserted: 1000, updated: 0, unchanged: 0, missing: 0 },
    })
    expect(s.files.map((f) => f.type)).toEqual(['artists', 'labels', 'masters', 'releases'])
    expect(new Set(progress)).toEqual(new Set(['artists', 'labels', 'masters', 'releases']))
    expect(s.unknownTotal).toBe(0)
    expect(s.rows.track).toBe(9430) // 9178 tracks + 252 sub-tracks
    expect(s.rows.release_credit).toBe(3811)
    const [{ n }] = await q(`SELECT count(*)::int AS n FROM track`)
    expect(n).toBe(9430)
    // Every searchable text has pg_trgm's trigram count: counted by the importer, or (beyond ASCII) by the database.
    const counts = await trigramCounts()
    expect(counts.wrong).toBe(0)
    expect(counts.beyondAscii).toBeGreaterThan(100)
    // Nothing is left in the GIN indexes' pending lists, which every search scan would read in full: the
    // fixture files are small, so their rows went into the existing indexes (no deferred rebuild).
    const [{ pages }] = await q(
      `SELECT coalesce(sum(gin_clean_pending_list(c.oid)), 0)::int AS pages
         FROM pg_class c JOIN pg_am am ON am.oid = c.relam
        WHERE am.amname = 'gin' AND c.relnamespace = current_schema()::regnamespace`,
    )
    expect(pages).toBe(0)
    // and the planner's statistics are fresh: search reads the most common titles
    const searched = ['artist', 'label', 'master', 'release', 'track']
    const analyzed = await q(
      `SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL AND relname = ANY($1) ORDER BY relname`,
      [[...searched, ...searched.map((table) => `${table}_search`), 'search_word']],
    )
    expect(analyzed.map((r) => r.relname)).toEqual([
      'artist',
      'artist_search',
      'label',
      'label_search',
      'master',
      'master_search',
      'release',
      'release_search',
      'search_word',
      'track',
      'track_search',
    ])
    // search's views hold every searchable text as its table does
    for (const [table, text] of [
      'artist:name',
      'label:name',
      'master:title',
      'release:title',
      'track:title',
    ].map((x) => x.split(':'))) {
      const [d] = await q(
        `SELECT (SELECT count(*) FROM ${table}_search)::int AS n,
                (SELECT count(*) FROM (SELECT id, ${text}, ${text}_trigrams FROM ${table} WHERE ${text}_trigrams IS NOT NULL
                                       EXCEPT SELECT * FROM ${table}_search) x)::int AS missing,
                (SELECT count(*) FROM ${table} WHERE ${text} IS NOT NULL)::int AS texts`,
      )
      expect(d, table).toEqual({ n: d.texts, missing: 0, texts: expect.any(Number) })
      expect(d.n, table).toBeGreaterThan(0)
    }
    expect(s.analyzeSeconds).toBeGreaterThan(0)
  })

  it('fills the search dictionary with every word of the searchable texts, as PostgreSQL splits them', async () => {
    const texts = ['artist:name', 'label:name', 'master:title', 'release:title', 'track:title'].map((x) =>
      x.split(':'),
    )
    const [diff] = await q(
      `WITH expected AS (
         SELECT DISTINCT w FROM (${texts.map(([table, text]) => `SELECT ${text} AS text FROM ${table}`).join(' UNION ALL ')}) t,
                regexp_split_to_table(lower(t.text), ${WORD_SEPARATOR_SQL}) AS w
          WHERE length(w) BETWEEN ${MIN_WORD_LENGTH} AND ${MAX_WORD_LENGTH})
       SELECT (SELECT count(*) FROM expected)::int AS expected,
              (SELECT array_agg(w) FROM (SELECT w FROM expected EXCEPT SELECT word FROM search_word) m) AS missing,
              (SELECT array_agg(word) FROM (SELECT word FROM search_word EXCEPT SELECT w FROM expected) x) AS extra`,
    )
    expect(diff.expected).toBeGreaterThan(5000)
    expect(diff.missing).toBeNull()
    expect(diff.extra).toBeNull()
  })

  it('release 1: Stockholm by The Persuader on Svek', async () => {
    const [r] = await q(`SELECT * FROM release WHERE id = 1`)
    expect(r).toMatchObject({
      title: 'Stockholm',
      status: 'Accepted',
      country: 'Sweden',
      released: '1999-03-00',
      year: 1999,
      master_id: 1660109,
      is_main_release: true,
      data_quality: 'Needs Vote',
      first_seen_dump: '20200806',
      last_seen_dump: '20200806',
      missing_since_dump: null,
    })
    expect(r.notes).toMatch(/^The song titles are the names of six of Stockholm's 82 districts/)
    expect(await q(`SELECT artist_id, name, anv, role FROM release_artist WHERE release_id = 1`)).toEqual([
      { artist_id: 1, name: 'The Persuader', anv: null, role: null },
    ])
    expect(await q(`SELECT artist_id, name, role FROM release_credit WHERE release_id = 1`)).toEqual([
      { artist_id: 239, name: 'Jesper Dahlbäck', role: 'Music By [All Tracks By]' },
    ])
    expect(await q(`SELECT label_id, name, catno FROM release_label WHERE release_id = 1`)).toEqual([
      { label_id: 5, name: 'Svek', catno: 'SK032' },
    ])
    expect(await q(`SELECT genre FROM release_genre WHERE release_id = 1`)).toEqual([{ genre: 'Electronic' }])
    expect(await q(`SELECT style FROM release_style WHERE release_id = 1`)).toEqual([{ style: 'Deep House' }])
    expect(await q(`SELECT name, qty, text, descriptions FROM release_format WHERE release_id = 1`)).toEqual([
      { name: 'Vinyl', qty: '2', text: null, descriptions: ['12"', '33 ⅓ RPM'] },
    ])
    const ids = await q(
      `SELECT type, description, value FROM release_identifier WHERE release_id = 1 ORDER BY ord`,
    )
    expect(ids).toHaveLength(5)
    expect(ids[0]).toEqual({ type: 'Matrix / Runout', description: 'A-Side Runout', value: 'MPO SK 032 A1' })
    expect(
      await q(
        `SELECT company_id, name, entity_type, entity_type_name FROM release_company WHERE release_id = 1 ORDER BY ord`,
      ),
    ).toEqual([
      { company_id: 271046, name: 'The Globe Studios', entity_type: '23', entity_type_name: 'Recorded At' },
      { company_id: 56025, name: 'MPO', entity_type: '17', entity_type_name: 'Pressed By' },
    ])
    const videos = await q(
      `SELECT src, duration_s, embed, title FROM release_video WHERE release_id = 1 ORDER BY ord`,
    )
    expect(videos[0]).toEqual({
      src: 'https://www.youtube.com/watch?v=MpmbntGDyNE',
      duration_s: 296,
      embed: true,
      title: 'The Persuader - Östermalm',
    })
    const tracks = await q(
      `SELECT track_key, position, title, duration_s, sequence, type, parent_id FROM track WHERE release_id = 1 ORDER BY sequence`,
    )
    expect(tracks.map((x) => x.position)).toEqual(['A', 'B1', 'B2', 'C1', 'C2', 'D'])
    expect(tracks.map((x) => x.track_key)).toEqual(['A', 'B1', 'B2', 'C1', 'C2', 'D'])
    expect(tracks.map((x) => x.duration_s)).toEqual([285, 371, 169, 338, 292, 316])
    expect(tracks.map((x) => x.sequence)).toEqual([1, 2, 3, 4, 5, 6])
    expect(tracks[0]).toMatchObject({ title: 'Östermalm', type: 'track', parent_id: null })
  })

  it('artists, labels and masters', async () => {
    const [a] = await q(`SELECT * FROM artist WHERE id = 1`)
    expect(a).toMatchObject({
      name: 'The Persuader',
      real_name: 'Jesper Dahlbäck',
      data_quality: 'Needs Vote',
    })
    expect(a.name_variations).toEqual(['Persuader', 'The Presuader'])
    expect(a.urls).toEqual(['https://en.wikipedia.org/wiki/Jesper_Dahlbäck'])
    const aliases = await q(`SELECT alias_id, alias_name FROM artist_alias WHERE artist_id = 1 ORDER BY ord`)
    expect(aliases).toHaveLength(7)
    expect(aliases[0]).toEqual({ alias_id: 239, alias_name: 'Jesper Dahlbäck' })
    expect(
      await q(`SELECT member_id, member_name FROM artist_member WHERE group_id = 2 ORDER BY ord`),
    ).toEqual([
      { member_id: 26, member_name: 'Alexi Delano' },
      { member_id: 27, member_name: 'Cari Lekebusch' },
    ])

    const [planetE] = await q(`SELECT * FROM label WHERE id = 1`)
    expect(planetE).toMatchObject({ name: 'Planet E', data_quality: 'Correct', parent_id: null })
    expect(planetE.contact_info).toMatch(/^Planet E Communications/)
    expect(planetE.urls).toHaveLength(13)
    const [{ n: subs }] = await q(`SELECT count(*)::int AS n FROM label_sublabel WHERE label_id = 1`)
    expect(subs).toBe(8)
    const [child] = await q(
      `SELECT id, parent_id, parent_name FROM label WHERE parent_name = 'Goldhead Music'`,
    )
    expect(child.parent_id).toBe(4711)

    const [m] = await q(`SELECT * FROM master WHERE id = 113`)
    expect(m).toMatchObject({
      title: 'Moments In Time',
      main_release_id: 116925,
      year: 2002,
      data_quality: 'Correct',
    })
    expect(await q(`SELECT style FROM master_style WHERE master_id = 113 ORDER BY style`)).toEqual([
      { style: 'Tech House' },
      { style: 'Techno' },
    ])
    expect(await q(`SELECT genre FROM master_genre WHERE master_id = 113`)).toEqual([{ genre: 'Electronic' }])
    expect(await q(`SELECT artist_id, name FROM master_artist WHERE master_id = 113`)).toEqual([
      { artist_id: 3225, name: 'Vince Watson' },
    ])
    const [{ n: videos }] = await q(`SELECT count(*)::int AS n FROM master_video WHERE master_id = 113`)
    expect(videos).toBeGreaterThan(5)
  })

  it('sub-tracks point to their index track; headings are typed', async () => {
    const subs = await q(
      `SELECT c.track_key, p.track_key AS parent_key, p.type AS parent_type FROM track c JOIN track p ON p.id = c.parent_id`,
    )
    expect(subs).toHaveLength(252)
    for (const s of subs) {
      expect(s.track_key.startsWith(`${s.parent_key}/`)).toBe(true)
      expect(s.parent_type).toBe('index')
    }
    const [{ n }] = await q(
      `SELECT count(*)::int AS n FROM track WHERE type = 'heading' AND position IS NULL`,
    )
    expect(n).toBeGreaterThan(0)
  })

  it('importing the same files again changes nothing and keeps track ids', async () => {
    const before = await q(`SELECT id, release_id, track_key FROM track ORDER BY id`)
    const s = await importDiscogs(t.db, [FIXTURES])
    expect(s.inserted + s.updated + s.missing).toBe(0)
    expect(s.unchanged).toBe(4000)
    expect(s.rows).toEqual({})
    expect(await q(`SELECT id, release_id, track_key FROM track ORDER BY id`)).toEqual(before)
  })

  it('a newer dump updates, marks what disappeared, keeps track ids; a later one clears the marks', async () => {
    const ids = async () =>
      Object.fromEntries(
        (await q(`SELECT track_key, id FROM track WHERE release_id = 1`)).map((r) => [r.track_key, r.id]),
      )
    const before = await ids()
    const xml = releasesXml()
    const edited = xml
      .replace('<title>Stockholm</title>', '<title>Stockholm (Remasterisé)</title>')
      .replace(/<track><position>D<\/position>.*?<\/track>/, '')
      .replace(/<release id="2" [\s\S]*?<\/release>\n/, '')
    expect(edited).not.toBe(xml)
    const newer = path.join(dir, 'discogs_20210101_releases.xml') // plain XML this time
    fs.writeFileSync(newer, edited)
    const s = await importDiscogs(t.db, [newer])
    expect(s.types.releases).toEqual({ records: 999, inserted: 0, updated: 1, unchanged: 998, missing: 1 })
    const [r1] = await q(`SELECT title, last_seen_dump, missing_since_dump FROM release WHERE id = 1`)
    expect(r1).toEqual({
      title: 'Stockholm (Remasterisé)',
      last_seen_dump: '20210101',
      missing_since_dump: null,
    })
    expect((await trigramCounts()).wrong).toBe(0) // the merge counted the changed title
    // and search finds it by its new title: the import refreshed the search views
    const search = new SearchService(t.db.pool)
    expect((await search.search('Remasterisé', ['RELEASE'], 5, 0)).map((h) => [h.id, h.text])).toContainEqual(
      [1, 'Stockholm (Remasterisé)'],
    )
    const [r2] = await q(`SELECT title, last_seen_dump, missing_since_dump FROM release WHERE id = 2`)
    expect(r2).toMatchObject({ last_seen_dump: '20200806', missing_since_dump: '20210101' })
    expect(await ids()).toEqual(before)
    const tracks = await q(
      `SELECT track_key, missing_since_dump FROM track WHERE release_id = 1 ORDER BY sequence`,
    )
    expect(tracks.filter((x) => x.missing_since_dump === '20210101').map((x) => x.track_key)).toEqual(['D'])
    // Unchanged records are not rewritten, only noted as seen.
    const [{ n: seen }] = await q(`SELECT count(*)::int AS n FROM release WHERE last_seen_dump = '20210101'`)
    expect(seen).toBe(999)

    // The original content comes back in a still newer dump: marks clear, ids hold.
    const later = path.join(dir, 'discogs_20220101_releases.xml.gz')
    fs.writeFileSync(later, zlib.gzipSync(xml))
    const s2 = await importDiscogs(t.db, [later])
    expect(s2.types.releases).toMatchObject({ inserted: 0, updated: 1, unchanged: 999, missing: 0 })
    expect(await q(`SELECT title, missing_since_dump FROM release WHERE id IN (1, 2) ORDER BY id`)).toEqual([
      { title: 'Stockholm', missing_since_dump: null },
      { title: expect.any(String), missing_since_dump: null },
    ])
    expect((await search.search('Remasterisé', ['RELEASE'], 5, 0)).map((h) => h.id)).not.toContain(1)
    const [{ n: missingTracks }] = await q(
      `SELECT count(*)::int AS n FROM track WHERE missing_since_dump IS NOT NULL`,
    )
    expect(missingTracks).toBe(0)
    expect(await ids()).toEqual(before)
  })

  it('tolerates the 2024–2026 format drift and counts unknown elements', async () => {
    const qty = '9'.repeat(64)
    const releases = `<releases>
<release id="900001"><artists><artist><id>1</id><name>The Persuader</name></artist></artists><title>Drift</title>
  <labels><label name="Svek" catno="SK1" id="5"/><label catno="none" id=""/></labels>
  <series><series name="Drift Series" catno="7" id="4242"/></series>
  <formats><format name="CD" qty="${qty}" text="Remastered"><descriptions><description>Album</description></descriptions></format></formats>
  <companies><company><id></id><name>Plant</name><entity_type>17</entity_type><entity_type_name>Pressed By</entity_type_name></company><company><name>No Id</name></company></companies>
  <tracklist>
    <track><position></position><title>Part One</title><duration></duration></track>
    <track><position>Video</position><title>Clip</title><duration>1:02:03</duration></track>
    <track><position>1</position><title>Medley</title><duration>10:00</duration><sub_tracks>
      <track><position>1a</position><title>A</title><duration>5:00</duration></track>
      <track><position>1b</position><title>B</title><duration>soon</duration><extraartists><artist><id/><name>Anon</name><role>Vocals</role></artist></extraartists></track>
    </sub_tracks></track>
    <track><position>2</position><title>Twin</title><duration>3:00</duration></track>
    <track><position>2</position><title>Twin</title><duration>3:00</duration></track>
  </tracklist>
  <released>2025-00-00</released><sparkle>new</sparkle>
</release>
</releases>`
    const labels = `<labels><label><id>900002</id><contactinfo>somewhere</contactinfo></label></labels>`
    const rf = path.join(dir, 'discogs_20250101_releases.xml')
    const lf = path.join(dir, 'discogs_20250101_labels.xml')
    fs.writeFileSync(rf, releases)
    fs.writeFileSync(lf, labels)
    const s = await importDiscogs(t.db, [lf, rf])
    expect(s.unknownElements).toEqual({ 'release/sparkle': 1 })
    expect(s.unknownTotal).toBe(1)
    const [r] = await q(`SELECT status, year, released FROM release WHERE id = 900001`)
    expect(r).toEqual({ status: null, year: 2025, released: '2025-00-00' })
    expect(await q(`SELECT name, qty, text FROM release_format WHERE release_id = 900001`)).toEqual([
      { name: 'CD', qty, text: 'Remastered' },
    ])
    expect(await q(`SELECT series_id, name, catno FROM release_series WHERE release_id = 900001`)).toEqual([
      { series_id: 4242, name: 'Drift Series', catno: '7' },
    ])
    expect(
      await q(`SELECT label_id, name, catno FROM release_label WHERE release_id = 900001 ORDER BY ord`),
    ).toEqual([
      { label_id: 5, name: 'Svek', catno: 'SK1' },
      { label_id: null, name: null, catno: 'none' },
    ])
    expect(
      await q(`SELECT company_id, name FROM release_company WHERE release_id = 900001 ORDER BY ord`),
    ).toEqual([
      { company_id: null, name: 'Plant' },
      { company_id: null, name: 'No Id' },
    ])
    const tracks = await q(
      `SELECT t.track_key, t.type, t.duration_s, t.duration_text, p.track_key AS parent
         FROM track t LEFT JOIN track p ON p.id = t.parent_id WHERE t.release_id = 900001 ORDER BY t.sequence`,
    )
    expect(tracks).toEqual([
      { track_key: '#1', type: 'heading', duration_s: null, duration_text: null, parent: null },
      { track_key: 'Video', type: 'track', duration_s: 3723, duration_text: '1:02:03', parent: null },
      { track_key: '1', type: 'index', duration_s: 600, duration_text: '10:00', parent: null },
      { track_key: '1/1a', type: 'track', duration_s: 300, duration_text: '5:00', parent: '1' },
      { track_key: '1/1b', type: 'track', duration_s: null, duration_text: 'soon', parent: '1' },
      { track_key: '#4', type: 'track', duration_s: 180, duration_text: '3:00', parent: null },
      { track_key: '#5', type: 'track', duration_s: 180, duration_text: '3:00', parent: null },
    ])
    expect(
      await q(
        `SELECT c.artist_id, c.name, c.role FROM track_credit c JOIN track t ON t.id = c.track_id WHERE t.release_id = 900001`,
      ),
    ).toEqual([{ artist_id: null, name: 'Anon', role: 'Vocals' }])
    expect(await q(`SELECT name, contact_info FROM label WHERE id = 900002`)).toEqual([
      { name: null, contact_info: 'somewhere' },
    ])
  })
})

describe('bad input (server)', () => {
  let t: TestDatabase
  let dir: string
  const q = async (sql: string, params: unknown[] = []) => (await t.db.pool.query(sql, params)).rows
  beforeAll(async () => {
    t = await createServerTestDatabase()
    dir = tmpDir('discograph-ingest-bad-')
  })
  afterAll(async () => {
    await t?.dispose()
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  })

  async function failure(p: Promise<unknown>): Promise<DumpFormatError> {
    try {
      await p
    } catch (err) {
      expect(err).toBeInstanceOf(DumpFormatError)
      return err as DumpFormatError
    }
    throw new Error('expected a DumpFormatError')
  }

  /** Every committed release is whole: it has exactly the fixture's number of tracks. */
  async function expectWholeRecords() {
    const expected = fixtureTrackCounts()
    const rows = await q(
      `SELECT r.id, count(t.id)::int AS n FROM release r LEFT JOIN track t ON t.release_id = r.id GROUP BY r.id`,
    )
    for (const r of rows) expect(r.n, `release ${r.id}`).toBe(expected.get(r.id))
    return rows.length
  }

  it('a truncated gzip: DumpFormatError naming the file, whole records committed, re-run resumes', async () => {
    const gz = fs.readFileSync(fixture('releases'))
    const file = path.join(dir, 'discogs_20200806_releases.xml.gz')
    fs.writeFileSync(file, gz.subarray(0, Math.floor(gz.length * 0.6)))
    const err = await failure(importDiscogs(t.db, [file], { batchRecords: 100 }))
    expect(err.message).toContain(file)
    expect(err.message).toMatch(/gzip/)
    expect(err.where.lastGoodId).toBeGreaterThan(0)
    const committed = await expectWholeRecords()
    expect(committed).toBeGreaterThan(300)
    expect(committed).toBeLessThan(1000)
    const [state] = await q(
      `SELECT status, records FROM discogs_import WHERE dump_date = '20200806' AND type = 'releases'`,
    )
    expect(state.status).toBe('failed')
    expect(Number(state.records)).toBeGreaterThanOrEqual(committed)
    // Nothing is marked missing after a failed file.
    const [{ n }] = await q(`SELECT count(*)::int AS n FROM release WHERE missing_since_dump IS NOT NULL`)
    expect(n).toBe(0)

    // The same file again resumes after what was committed (and fails at the same place).
    const again = await failure(importDiscogs(t.db, [file], { batchRecords: 100, worker: false }))
    expect(again.where.lastGoodId).toBe(err.where.lastGoodId)
    // The whole file then completes the import.
    fs.writeFileSync(file, gz)
    const s = await importDiscogs(t.db, [file])
    expect(s.types.releases!.records).toBe(1000)
    expect(await expectWholeRecords()).toBe(1000)
  })

  it('an XML syntax error in the middle: the records before it are committed whole', async () => {
    const xml = releasesXml()
    const at = xml.indexOf('<release id="')
    let start = at
    for (let i = 0; i < 500; i++) start = xml.indexOf('<release id="', start + 1)
    const id = Number(/<release id="(\d+)"/.exec(xml.slice(start))![1])
    const broken = xml.slice(0, start) + xml.slice(start).replace('</title>', '</titel>')
    const file = path.join(dir, 'discogs_20200807_releases.xml')
    fs.writeFileSync(file, broken)
    await q(`TRUNCATE release CASCADE`)
    const err = await failure(importDiscogs(t.db, [file]))
    expect(err.message).toContain(file)
    expect(err.message).toMatch(/XML syntax error: <\/titel> does not close <title>/)
    expect(err.where.id).toBe(id)
    expect(err.where.record).toBe(501)
    expect(err.where.byteOffset).toBeGreaterThan(Buffer.byteLength(xml.slice(0, start)))
    expect(await expectWholeRecords()).toBe(500)
  })

  it('a wrong file: a PNG, or XML with another root', async () => {
    const png = path.join(dir, 'discogs_20200808_releases.xml.gz')
    fs.writeFileSync(png, Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'))
    const e1 = await failure(importDiscogs(t.db, [png]))
    expect(e1.message).toContain(png)
    expect(e1.message).toMatch(/not XML/)

    const other = path.join(dir, 'catalog.xml')
    fs.writeFileSync(other, '<catalog><item id="1"/></catalog>')
    const e2 = await failure(importDiscogs(t.db, [other], { dumpDate: '20200808' }))
    expect(e2.message).toMatch(/root element <catalog>/)

    const mislabeled = path.join(dir, 'discogs_20200808_artists.xml')
    fs.writeFileSync(mislabeled, '<labels><label><id>1</id><name>x</name></label></labels>')
    const e3 = await failure(importDiscogs(t.db, [mislabeled]))
    expect(e3.message).toMatch(/named as artists but holds <labels>/)

    const undated = path.join(dir, 'labels.xml')
    fs.writeFileSync(undated, '<labels></labels>')
    const e4 = await failure(importDiscogs(t.db, [undated]))
    expect(e4.message).toMatch(/unknown dump date/)
  })
})

describe('bulk import with deferred indexes (server)', () => {
  let t: TestDatabase
  let dir: string
  const q = async (sql: string) => (await t.db.pool.query(sql)).rows
  const indexes = async () =>
    (
      await q(
        `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()
            AND (tablename LIKE 'release%' OR tablename LIKE 'track%') ORDER BY 1`,
      )
    ).map((r) => r.indexname)
  beforeAll(async () => {
    t = await createServerTestDatabase()
    dir = tmpDir('discograph-ingest-defer-')
  })
  afterAll(async () => {
    await t?.dispose()
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  })

  const keys = async () =>
    (
      await q(
        `SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text ~ '^(release|track)'
          ORDER BY 1`,
      )
    ).map((r) => `${r.conname} ${r.convalidated}`)

  it('defers the child tables’ primary keys too, never the keys the merge and the foreign keys need', async () => {
    const all = await indexes()
    const session = await ImportSession.open(t.db)
    const deferredIndexes = new DeferredIndexRepository(session)
    try {
      const deferred = await deferredIndexes.deferIndexes('releases')
      expect(deferred).toEqual(
        expect.arrayContaining([
          'release_credit_pkey',
          'track_credit_pkey',
          'release_style_pkey',
          'track_parent',
          'track_search_title_words_0',
          'release_search_id',
        ]),
      )
      expect(deferred).not.toContain('release_pkey')
      expect(deferred).not.toContain('track_pkey')
      expect(deferred.filter((n) => n.startsWith('track_release_id_track_key'))).toEqual([])
      expect(await indexes()).not.toContain('release_credit_pkey')
      expect((await deferredIndexes.restoreDeferredIndexes()).sort()).toEqual([...deferred].sort())
    } finally {
      await session.close()
    }
    expect(await indexes()).toEqual(all)
  })

  it('drops secondary indexes while loading and rebuilds them, also when the file fails', async () => {
    const all = await indexes()
    const allKeys = await keys()
    expect(allKeys).toContain('track_parent_id_fkey true')
    expect(all).toContain('track_parent')
    const gz = fs.readFileSync(fixture('releases'))
    const file = path.join(dir, 'discogs_20200806_releases.xml.gz')
    fs.writeFileSync(file, gz.subarray(0, Math.floor(gz.length * 0.5)))
    await expect(importDiscogs(t.db, [file], { deferIndexes: true })).rejects.toBeInstanceOf(DumpFormatError)
    expect(await indexes()).toEqual(all)
    expect(await q(`SELECT * FROM discogs_deferred_index`)).toEqual([])

    fs.writeFileSync(file, gz)
    const s = await importDiscogs(t.db, [file], { deferIndexes: true })
    expect(s.types.releases!.records).toBe(1000)
    expect(s.indexRebuildSeconds).toBeGreaterThan(0)
    expect(await indexes()).toEqual(all)
    const [{ n }] = await q(`SELECT count(*)::int AS n FROM track WHERE release_id = 1`)
    expect(n).toBe(6)
    // Foreign keys stay (their checks were skipped in the direct loads, whose rows satisfy them) and hold.
    expect(await keys()).toEqual(allKeys)
    const orphans = await q(`
      SELECT (SELECT count(*) FROM track t WHERE NOT EXISTS (SELECT 1 FROM release r WHERE r.id = t.release_id))
           + (SELECT count(*) FROM track t WHERE t.parent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM track p WHERE p.id = t.parent_id))
           + (SELECT count(*) FROM track_credit c WHERE NOT EXISTS (SELECT 1 FROM track t WHERE t.id = c.track_id))
           + (SELECT count(*) FROM release_credit c WHERE NOT EXISTS (SELECT 1 FROM release r WHERE r.id = c.release_id)) AS n`)
    expect(Number(orphans[0].n)).toBe(0)
    const [{ parents }] = await q(`SELECT count(*)::int AS parents FROM track WHERE parent_id IS NOT NULL`)
    expect(parents).toBeGreaterThan(0)
  })
})

import 'reflect-metadata'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importAudio } from '../../src/ingest/audio/import.ts'
import { readManifest } from '../../src/ingest/audio/manifest.ts'
import { importDiscogs } from '../../src/ingest/discogs/import.ts'
import { writeSyntheticCatalog, type SynthSummary } from '../../src/synth/catalog-writer.ts'
import { worldOptions } from '../../src/synth/world.ts'
import { withId3v23, withVorbisComments } from '../support/audio-tags.ts'
import { createServerTestDatabase, tmpDir, type TestDatabase } from '../support/database.ts'
import { SearchService } from '../../src/services/search.service.ts'

const AUDIO_FIXTURES = path.resolve(import.meta.dirname, '../fixtures/audio')

describe('matching audio files to tracks by their tags (real server)', () => {
  let t: TestDatabase
  let root: string
  let synth: SynthSummary
  beforeAll(async () => {
    t = await createServerTestDatabase()
    root = tmpDir('discograph-audio-match-')
    synth = await writeSyntheticCatalog({
      ...worldOptions('tiny', { seed: 1 }),
      out: path.join(root, 'catalog'),
      sampleRate: 22050,
      channels: 2,
      dumpDate: '20250101',
    })
  })
  afterAll(async () => {
    await t?.dispose()
    if (root) fs.rmSync(root, { recursive: true, force: true })
  })

  /** path → "release position" of each linked file under `dir`. */
  async function links(dir: string): Promise<Map<string, string>> {
    const { rows } = await t.db.pool.query(
      `SELECT a.path, t.release_id || ' ' || t.position AS track FROM audio_file a JOIN track t ON t.id = a.track_id
        WHERE left(a.path, length($1)) = $1`,
      [dir + '/'],
    )
    return new Map(rows.map((r) => [r.path, r.track]))
  }

  it('matches nothing before the catalog is there; after a Discogs import, a re-run matches every file by its tags', async () => {
    const dir = path.join(synth.out, 'audio')
    const before = await importAudio(t.db, dir, {
      dataDir: t.config.dataDir,
      search: new SearchService(t.db.pool),
    })
    expect(before.files.new).toBe(synth.audioFiles)
    expect(before.match).toMatchObject({ linked: 0, unmatched: synth.audioFiles, errors: 0 })
    expect(before.reasons).toEqual({ 'no-candidates': synth.audioFiles })

    await importDiscogs(t.db, Object.values(synth.dumps))
    const after = await importAudio(t.db, dir, {
      dataDir: t.config.dataDir,
      search: new SearchService(t.db.pool),
    })
    // unchanged files are not read again, only matched again from the tags stored the first time
    expect(after.files).toMatchObject({ unchanged: synth.audioFiles, new: 0, rematched: synth.audioFiles })
    expect(after.features.decoded).toBe(0)
    expect(after.match).toMatchObject({
      linked: synth.audioFiles,
      byMethod: { tags: synth.audioFiles, manifest: 0 },
    })

    // every file went to the track the manifest names, reissues (same titles, another year) included
    const expected = new Map(
      readManifest(synth.manifest).map((r) => [r.path, `${r.releaseId} ${r.position}`]),
    )
    expect(await links(dir)).toEqual(expected)
    const { rows } = await t.db.pool.query(
      `SELECT count(DISTINCT r.title) AS titles, count(*) AS releases FROM release r`,
    )
    expect(Number(rows[0].titles)).toBeLessThan(Number(rows[0].releases)) // the world does have a same-titled reissue
  })

  it('uses Discogs ids written by taggers, reports ambiguous and unmatched files with reasons, links a track once', async () => {
    const dir = path.join(root, 'tagged')
    fs.mkdirSync(dir)
    const { rows: rel } = await t.db.pool.query(
      `SELECT r.id, r.title, r.year, min(ra.name) AS artist,
              array_agg(t.position ORDER BY t.sequence) AS positions, array_agg(t.title ORDER BY t.sequence) AS titles
         FROM release r JOIN track t ON t.release_id = r.id JOIN release_artist ra ON ra.release_id = r.id
        WHERE t.type = 'track' GROUP BY r.id ORDER BY r.id`,
    )
    const unique = rel.filter(
      (r) => rel.filter((o) => o.title === r.title).length === 1 && r.positions.length >= 2,
    )
    const twins = rel.filter((r) => rel.filter((o) => o.title === r.title).length > 1)
    expect(unique.length).toBeGreaterThanOrEqual(2)
    expect(twins.length).toBeGreaterThanOrEqual(2)
    const [a, b] = unique
    const mp3 = fs.readFileSync(path.join(AUDIO_FIXTURES, 'tone.mp3'))
    const flac = fs.readFileSync(path.join(AUDIO_FIXTURES, 'tone.flac'))
    const put = (name: string, data: Buffer) => fs.writeFileSync(path.join(dir, name), data)
    // a tagger's release id and position: exact
    put(
      'id-and-position.mp3',
      withId3v23(mp3, { 'TXXX:DISCOGS_RELEASE_ID': String(a.id), TRCK: a.positions[1], TIT2: 'whatever' }),
    )
    // the same track again, by name only: it loses the track to the file with the Discogs id
    put(
      'same-by-name.mp3',
      withId3v23(mp3, { TIT2: a.titles[1], TPE1: a.artist, TALB: a.title, TYER: String(a.year), TRCK: '2' }),
    )
    // a release id and a title: chosen among that release's tracks
    put(
      'id-and-title.flac',
      withVorbisComments(flac, { DISCOGS_RELEASE_ID: String(b.id), TITLE: b.titles[1], TRACKNUMBER: '2' }),
    )
    // a track of an original and its reissue, without the year or number that would tell them apart
    put(
      'twin.mp3',
      withId3v23(mp3, { TIT2: twins[0].titles[0], TPE1: twins[0].artist, TALB: twins[0].title }),
    )
    put(
      'unknown.mp3',
      withId3v23(mp3, { TIT2: 'Nothing Like It', TPE1: 'Nobody Known', TALB: 'No Such Album' }),
    )
    put('foreign-id.mp3', withId3v23(mp3, { 'TXXX:DISCOGS_RELEASE_ID': '123' }))
    put('no-tags.mp3', mp3)
    put('title-only.mp3', withId3v23(mp3, { TIT2: a.titles[0] }))

    const s = await importAudio(t.db, dir, {
      dataDir: t.config.dataDir,
      search: new SearchService(t.db.pool),
    })
    expect(s.files.new).toBe(8)
    expect(s.match).toMatchObject({ linked: 2, duplicate: 1, ambiguous: 1, unmatched: 4, errors: 0 })
    expect(s.match.byMethod).toEqual({ manifest: 0, 'discogs-id': 2, tags: 0 })
    const got = await links(dir)
    expect(got.get(path.join(dir, 'id-and-position.mp3'))).toBe(`${a.id} ${a.positions[1]}`)
    expect(got.get(path.join(dir, 'id-and-title.flac'))).toBe(`${b.id} ${b.positions[1]}`)
    expect(s.duplicates).toEqual([
      {
        path: path.join(dir, 'same-by-name.mp3'),
        trackId: expect.any(Number),
        linkedTo: path.join(dir, 'id-and-position.mp3'),
      },
    ])
    expect(s.ambiguous).toEqual([
      {
        path: path.join(dir, 'twin.mp3'),
        reason: 'close-candidates',
        note: expect.stringContaining(String(twins[1].id)),
      },
    ])
    expect(s.ambiguous[0].note).toContain(String(twins[0].id))
    const reasons = Object.fromEntries(s.unmatched.map((u) => [path.basename(u.path), u.reason]))
    expect(reasons).toEqual({
      'unknown.mp3': 'no-candidates',
      'foreign-id.mp3': 'discogs-release-not-in-catalog',
      'no-tags.mp3': 'no-tags',
      'title-only.mp3': 'too-few-tags',
    })
    expect(s.reasons).toEqual({
      'track-claimed-by-another-file': 1,
      'close-candidates': 1,
      'no-candidates': 1,
      'discogs-release-not-in-catalog': 1,
      'no-tags': 1,
      'too-few-tags': 1,
    })

    // the synthetic WAV of that track (imported above from another folder) claims it by tags too: claims are
    // resolved over the whole collection, and the Discogs id beat it
    const wav = [...readManifest(synth.manifest)].find(
      (r) => r.releaseId === a.id && r.position === a.positions[1],
    )!.path
    expect((await links(path.dirname(wav))).get(wav)).toBeUndefined()

    // the winner goes away: of the two claims by tags that remain, equal in score, the first path takes the
    // track, whatever the order the files were read in; nothing is decoded
    fs.rmSync(path.join(dir, 'id-and-position.mp3'))
    const again = await importAudio(t.db, dir, {
      dataDir: t.config.dataDir,
      search: new SearchService(t.db.pool),
    })
    expect(again.files).toMatchObject({ removed: 1, unchanged: 7 })
    expect(again.features.decoded).toBe(0)
    expect((await links(path.dirname(wav))).get(wav)).toBe(`${a.id} ${a.positions[1]}`)
    expect(again.duplicates).toEqual([
      { path: path.join(dir, 'same-by-name.mp3'), trackId: expect.any(Number), linkedTo: wav },
    ])
    // no track has two files, no file two tracks (the UNIQUE column guarantees it; this checks the rows exist)
    const { rows: dup } = await t.db.pool.query(
      `SELECT track_id FROM audio_file WHERE track_id IS NOT NULL GROUP BY track_id HAVING count(*) > 1`,
    )
    expect(dup).toEqual([])
  })

  it('stops between files when aborted, keeps what it committed, and the next run does the rest', async () => {
    const dir = path.join(root, 'copy')
    fs.cpSync(path.join(synth.out, 'audio'), dir, { recursive: true })
    const abort = new AbortController()
    const err = await importAudio(t.db, dir, {
      dataDir: t.config.dataDir,
      search: new SearchService(t.db.pool),
      signal: abort.signal,
      onProgress: (p) => p.done === 3 && abort.abort(),
    }).catch((e) => e)
    expect(err).toBeInstanceOf(Error)
    expect(err.name).toBe('AbortError')
    const { rows } = await t.db.pool.query(
      `SELECT count(*)::int AS n FROM audio_file WHERE left(path, length($1)) = $1`,
      [dir + '/'],
    )
    expect(rows[0].n).toBe(3)
    const rest = await importAudio(t.db, dir, {
      dataDir: t.config.dataDir,
      search: new SearchService(t.db.pool),
    })
    expect(rest.files).toMatchObject({ new: synth.audioFiles - 3, unchanged: 3 })
    // same content as the folder imported first: read and hashed, never decoded
    expect(rest.features).toEqual({ decoded: 0, computed: 0, reused: synth.audioFiles - 3 })
    expect(rest.match.duplicate + rest.match.linked).toBe(synth.audioFiles)
  })
})

import 'reflect-metadata'
import fs from 'node:fs'
import path from 'node:path'
import { SubsonicAPI } from 'subsonic-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EmbeddingRepository } from '../../src/db/repositories/embedding.repository.ts'
import { ModelRepository } from '../../src/db/repositories/model.repository.ts'
import { importDiscogs } from '../../src/ingest/discogs/import.ts'
import { cosineDistance } from '../../src/ml/embedding/pooling.ts'
import { slerp } from '../../src/ml/retrieval/mix.ts'
import { SeededRandom } from '../../src/random/seeded-random.ts'
import { AuthService } from '../../src/services/auth.service.ts'
import { LibraryService } from '../../src/services/library.service.ts'
import { ScrobbleService } from '../../src/services/scrobble.service.ts'
import { refitSearchVectors } from '../../src/services/search-vectors.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { runCli } from '../support/cli.ts'
import { createServerTestDatabase, tmpDir, type TestDatabase } from '../support/database.ts'
import { linkSynthAudio } from '../support/link-audio.ts'

/**
 * The Subsonic API as a music player uses it: a real OpenSubsonic client (the `subsonic-api` package) and
 * plain HTTP against the served API over a synthetic catalog with audio and vectors. Response shapes are
 * checked against the OpenSubsonic specification's required fields (openapi/schemas in
 * opensubsonic/open-subsonic-api: Child, AlbumID3, ArtistID3, Playlist, Genre, SonicMatch).
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any

const REQUIRED: Record<string, string[]> = {
  Child: ['id', 'isDir', 'title'],
  AlbumID3: ['id', 'name', 'songCount', 'duration', 'created'],
  ArtistID3: ['id', 'name'],
  Playlist: ['id', 'name', 'songCount', 'duration', 'created', 'changed'],
  Genre: ['value', 'songCount', 'albumCount'],
}

function expectShape(kind: keyof typeof REQUIRED, o: Json): void {
  for (const f of REQUIRED[kind]) expect(o, `${kind} lacks ${f}: ${JSON.stringify(o)}`).toHaveProperty(f)
  expect(typeof o.id === 'string' || kind === 'Genre').toBe(true)
  for (const f of ['songCount', 'duration', 'albumCount', 'year', 'track', 'discNumber', 'size', 'bitRate']) {
    if (o[f] !== undefined) expect(Number.isInteger(o[f]), `${kind}.${f} = ${o[f]}`).toBe(true)
  }
  for (const f of ['created', 'changed'])
    if (o[f] !== undefined) expect(Number.isNaN(Date.parse(o[f])), `${kind}.${f}`).toBe(false)
}

function expectChild(o: Json): void {
  expectShape('Child', o)
  expect(o).toMatchObject({ isDir: false, isVideo: false, type: 'music', mediaType: 'song' })
  expect(o.id).toMatch(/^tr-\d+$/)
  expect(o.albumId).toMatch(/^al-\d+$/)
  expect(o.parent).toBe(o.albumId)
  expect(o.contentType).toBe('audio/wav')
  expect(o.suffix).toBe('wav')
  expect(o.duration).toBeGreaterThan(0)
  expect(o.size).toBeGreaterThan(0)
  expect(o.bitRate).toBeGreaterThan(0)
  expect(o.track).toBeGreaterThan(0)
  expect(o.discNumber).toBeGreaterThan(0)
}

const DIMS = 8

describe('Subsonic API (OpenSubsonic) over a synthetic catalog with audio', () => {
  let t: TestDatabase
  let api: TestApi
  let synth: string
  let linked: number[]
  let vectors: Map<number, Float32Array>
  let alice: { key: string; id: number }
  let bob: { key: string; id: number }
  let client: SubsonicAPI
  const rest = (method: string, params: Record<string, string | string[]> = {}, init?: RequestInit) => {
    const u = new URL(`${api.url}/rest/${method}`)
    for (const [k, v] of Object.entries(params))
      for (const x of Array.isArray(v) ? v : [v]) u.searchParams.append(k, x)
    return fetch(u, init)
  }
  /** A JSON method's `subsonic-response`, with the key given (alice's by default). */
  const json = async (
    method: string,
    params: Record<string, string | string[]> = {},
    key = alice.key,
  ): Promise<Json> =>
    (await (await rest(method, { f: 'json', apiKey: key, ...params })).json())['subsonic-response']

  beforeAll(async () => {
    t = await createServerTestDatabase()
    synth = tmpDir('discograph-subsonic-synth-')
    const made = await runCli(['synth', '--out', synth, '--size', 'tiny', '--fast'])
    expect(made.code, made.stderr).toBe(0)
    await importDiscogs(t.db, [synth])
    linked = await linkSynthAudio(t.db.pool, synth, t.config.dataDir)
    vectors = await embedByStyle(t, linked)
    const auth = new AuthService(t.db.pool, { publicRead: false })
    const a = await auth.createKey('alice', 'reader')
    const b = await auth.createKey('bob', 'reader')
    alice = { key: a.key, id: a.row.id }
    bob = { key: b.key, id: b.row.id }
    api = await startTestApi(t, { publicRead: false })
    client = new SubsonicAPI({ url: api.url, auth: { apiKey: alice.key } })
  }, 180_000)
  afterAll(async () => {
    await api?.close()
    await t?.dispose()
    if (synth) fs.rmSync(synth, { recursive: true, force: true })
  })

  describe('authentication', () => {
    it('takes an API key as apiKey, or as the password plain or enc:-hex; answers the spec’s codes otherwise', async () => {
      expect((await client.ping()).status).toBe('ok')
      const code = async (params: Record<string, string>) =>
        (await (await rest('ping', { f: 'json', ...params })).json())['subsonic-response']
      expect((await code({ u: 'anyone', p: alice.key })).status).toBe('ok')
      expect((await code({ u: 'anyone', p: 'enc:' + Buffer.from(alice.key).toString('hex') })).status).toBe(
        'ok',
      )
      const failed = async (params: Record<string, string>) => {
        const r = await code(params)
        expect(r.status).toBe('failed')
        expect(r).toMatchObject({ version: '1.16.1', openSubsonic: true, type: 'discograph' })
        return r.error.code
      }
      expect(await failed({})).toBe(10)
      expect(await failed({ u: 'alice', p: 'dg_wrong' })).toBe(40)
      expect(await failed({ u: 'alice', p: 'enc:' + Buffer.from('dg_wrong').toString('hex') })).toBe(40)
      expect(await failed({ p: alice.key })).toBe(10)
      expect(await failed({ u: 'alice', t: 'abc', s: 'def' })).toBe(41)
      expect(await failed({ apiKey: 'dg_nope' })).toBe(44)
      expect(await failed({ apiKey: alice.key, u: 'alice' })).toBe(43)
      // the real client's password login is token auth (md5 of password + salt): keys are hashed, so 41
      const tokenClient = new SubsonicAPI({ url: api.url, auth: { username: 'alice', password: alice.key } })
      const viaToken = await tokenClient.ping()
      expect(viaToken.status).toBe('failed')
      expect((viaToken as Json).error.code).toBe(41)
    })

    it('lists its OpenSubsonic extensions without credentials', async () => {
      const r = (await (await rest('getOpenSubsonicExtensions', { f: 'json' })).json())['subsonic-response']
      expect(r.status).toBe('ok')
      expect(r.openSubsonicExtensions.map((e: Json) => e.name).sort()).toEqual([
        'apiKeyAuthentication',
        'formPost',
        'sonicSimilarity',
      ])
      for (const e of r.openSubsonicExtensions) expect(e.versions).toEqual([1])
    })
  })

  describe('encodings and transport', () => {
    it('answers XML by default, with and without .view, the envelope per spec', async () => {
      for (const m of ['ping', 'ping.view']) {
        const r = await rest(m, { apiKey: alice.key })
        expect(r.headers.get('content-type')).toMatch(/^text\/xml/)
        const xml = await r.text()
        expect(xml).toMatch(
          /^<\?xml version="1.0" encoding="UTF-8"\?>\n<subsonic-response xmlns="http:\/\/subsonic.org\/restapi" status="ok" version="1.16.1" type="discograph" serverVersion="[^"]+" openSubsonic="true"\/>$/,
        )
      }
      const err = await (await rest('getSong', { apiKey: alice.key, id: 'tr-999999999' })).text()
      expect(err).toMatch(
        /<subsonic-response [^>]*status="failed"[^>]*><error code="70" message="[^"]+"\/><\/subsonic-response>$/,
      )
    })

    it('writes nested elements, attributes and text in XML as JSON has them', async () => {
      const albumId = `al-${(await q(`SELECT t.release_id FROM track t WHERE t.id = $1`, [linked[0]]))[0].release_id}`
      const xml = await (await rest('getAlbum.view', { apiKey: alice.key, id: albumId })).text()
      const j = (await json('getAlbum', { id: albumId })).album
      expect(xml).toContain(`<album id="${albumId}" name="${escapeXml(j.name)}"`)
      expect(xml.match(/<song /g)?.length).toBe(j.song.length)
      expect(xml).toContain(
        `<song id="${j.song[0].id}" parent="${albumId}" isDir="false" title="${escapeXml(j.song[0].title)}"`,
      )
      const genres = await (await rest('getGenres', { apiKey: alice.key })).text()
      const first = (await json('getGenres')).genres.genre[0]
      expect(genres).toContain(
        `<genre songCount="${first.songCount}" albumCount="${first.albumCount}">${escapeXml(first.value)}</genre>`,
      )
    })

    it('takes parameters in a POST form body (formPost), credentials included', async () => {
      const poster = new SubsonicAPI({ url: api.url, auth: { apiKey: alice.key }, post: true })
      const r = await poster.getAlbumList2({ type: 'alphabeticalByName', size: 500 })
      expect(r.status).toBe('ok')
      expect(r.albumList2.album!.length).toBe(await releasesWithAudio())
      const form = new URLSearchParams({ f: 'json', u: 'x', p: alice.key, id: `tr-${linked[1]}` })
      const viaForm = await (
        await rest(
          'getSong.view',
          {},
          { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        )
      ).json()
      expect(viaForm['subsonic-response'].song.id).toBe(`tr-${linked[1]}`)
    })

    it('answers unknown methods "not implemented" (0), missing parameters 10, unknown ids and cover art 70', async () => {
      expect((await json('getPodcasts')).error.code).toBe(0)
      expect((await json('getAlbum')).error.code).toBe(10)
      expect((await json('getAlbum', { id: 'al-1' })).error.code).toBe(70)
      expect((await json('getAlbum', { id: 'nonsense' })).error.code).toBe(70)
      expect((await json('getCoverArt', { id: `al-1` })).error.code).toBe(70)
    })
  })

  describe('browsing the library', () => {
    it('browses artists → artist → album → song, with stable Discogs-derived ids and the library’s counts', async () => {
      const artists = await client.getArtists()
      expect(artists.artists.ignoredArticles).toBeTypeOf('string')
      const all = artists.artists.index!.flatMap((i) => i.artist ?? [])
      expect(all.length).toBeGreaterThan(0)
      for (const a of all) {
        expectShape('ArtistID3', a)
        expect(a.id).toMatch(/^ar-\d+$/)
      }
      // every library song is reached once through its album, and every album through an artist
      const seen = new Set<string>()
      const albumIds = new Set<string>()
      for (const a of all) {
        const { artist } = await client.getArtist({ id: a.id })
        expect(artist.album?.length).toBe(a.albumCount)
        for (const al of artist.album ?? []) albumIds.add(al.id)
      }
      expect(albumIds.size).toBe(await releasesWithAudio())
      for (const id of albumIds) {
        const { album } = await client.getAlbum({ id })
        expectShape('AlbumID3', album)
        expect(album.song!.length).toBe(album.songCount)
        expect(album.duration).toBe(album.song!.reduce((s, x) => s + (x.duration ?? 0), 0))
        for (const s of album.song!) {
          expectChild(s)
          expect(s.albumId).toBe(id)
          seen.add(s.id)
        }
        expect(album.song!.map((s) => s.track)).toEqual(
          [...album.song!.map((s) => s.track)].sort((x, y) => x! - y!),
        )
      }
      expect([...seen].sort()).toEqual(linked.map((id) => `tr-${id}`).sort())
      const { song } = await client.getSong({ id: `tr-${linked[2]}` })
      expectChild(song)
      const [row] = await q(
        `SELECT t.title, t.release_id, r.year FROM track t JOIN release r ON r.id = t.release_id WHERE t.id = $1`,
        [linked[2]],
      )
      expect(song).toMatchObject({ title: row.title, albumId: `al-${row.release_id}`, year: row.year })
    })

    it('lists folders, indexes, genres with counts, and album and artist info', async () => {
      expect((await client.getMusicFolders()).musicFolders.musicFolder).toEqual([
        { id: 1, name: 'Discograph library' },
      ])
      const idx = await json('getIndexes')
      expect(idx.indexes.lastModified).toBeGreaterThan(0)
      expect(idx.indexes.index.flatMap((i: Json) => i.artist).length).toBe(
        (await client.getArtists()).artists.index!.flatMap((i) => i.artist ?? []).length,
      )
      const genres = (await client.getGenres()).genres.genre!
      for (const g of genres) expectShape('Genre', g)
      const [style] = await q(
        `SELECT s.style, count(DISTINCT t.id)::int AS songs, count(DISTINCT t.release_id)::int AS albums
           FROM audio_file af JOIN track t ON t.id = af.track_id JOIN release_style s ON s.release_id = t.release_id
          GROUP BY s.style ORDER BY 2 DESC, 1 LIMIT 1`,
      )
      expect(genres.find((g) => g.value === style.style)).toMatchObject({
        songCount: style.songs,
        albumCount: style.albums,
      })
      const byGenre = await client.getSongsByGenre({ genre: style.style, count: 500 })
      expect(byGenre.songsByGenre.song!.length).toBe(style.songs)

      const { artist } = await client.getArtist({
        id: (await client.getArtists()).artists.index![0].artist![0].id,
      })
      const info = await client.getArtistInfo2({ id: artist.id })
      expect(info.status).toBe('ok')
      for (const s of info.artistInfo2.similarArtist ?? []) {
        expectShape('ArtistID3', s)
        expect(s.id).not.toBe(artist.id)
      }
      expect((info.artistInfo2.similarArtist ?? []).length).toBeGreaterThan(0)
      expect((await json('getAlbumInfo2', { id: artist.album![0].id })).status).toBe('ok')
      const top = await client.getTopSongs({ artist: artist.name, count: 3 })
      expect(top.topSongs.song!.length).toBeGreaterThan(0)
    })

    it('lists albums by each getAlbumList2 type, random songs, and filters by year and genre', async () => {
      const list = async (type: string, extra: Record<string, string | number> = {}) =>
        (await client.getAlbumList2({ type: type as 'random', size: 500, ...extra })).albumList2.album ?? []
      const byName = await list('alphabeticalByName')
      expect(byName.map((a) => a.name.toLowerCase())).toEqual(
        [...byName.map((a) => a.name.toLowerCase())].sort(),
      )
      for (const a of byName) expectShape('AlbumID3', a)
      for (const type of ['random', 'newest', 'alphabeticalByArtist'])
        expect((await list(type)).length).toBe(byName.length)
      expect(await list('starred')).toEqual([])
      const years = byName
        .map((a) => a.year!)
        .filter(Boolean)
        .sort()
      const [lo, hi] = [years[0], years[Math.floor(years.length / 2)]]
      const ranged = await list('byYear', { fromYear: hi, toYear: lo })
      expect(ranged.length).toBe(years.filter((y) => y >= lo && y <= hi).length)
      expect(ranged.map((a) => a.year)).toEqual([...ranged.map((a) => a.year)].sort((x, y) => y! - x!))
      const genre = byName[0].genre!
      expect((await list('byGenre', { genre })).map((a) => a.id)).toContain(byName[0].id)
      expect((await list('byGenre', { genre: 'No Such Style' })).length).toBe(0)
      expect((await json('getAlbumList2', { type: 'byYear' })).error.code).toBe(0)
      const page = await client.getAlbumList2({ type: 'alphabeticalByName', size: 2, offset: 1 })
      expect(page.albumList2.album!.map((a) => a.id)).toEqual(byName.slice(1, 3).map((a) => a.id))

      const random = (await client.getRandomSongs({ size: 5 })).randomSongs.song!
      expect(new Set(random.map((s) => s.id)).size).toBe(5)
      for (const s of random) expectChild(s)
      const inRange = (await client.getRandomSongs({ size: 500, fromYear: lo, toYear: lo })).randomSongs.song!
      for (const s of inRange) expect(s.year).toBe(lo)
    })
  })

  describe('compilations', () => {
    it("gives a compilation's songs their own artists, and lists the compilation under them", async () => {
      const [row] = await q(
        `SELECT t.id, t.release_id, ta.artist_id, ra.artist_id AS release_artist
           FROM audio_file af JOIN track t ON t.id = af.track_id JOIN track_artist ta ON ta.track_id = t.id
           JOIN release_artist ra ON ra.release_id = t.release_id
          WHERE ta.artist_id <> ra.artist_id LIMIT 1`,
      )
      expect(row, 'the synthetic catalog has a compilation with audio').toBeDefined()
      const { song } = await client.getSong({ id: `tr-${row.id}` })
      expect(song.artistId).toBe(`ar-${row.artist_id}`)
      const { album } = await client.getAlbum({ id: `al-${row.release_id}` })
      expect(album.artistId).toBe(`ar-${row.release_artist}`)
      const { artist } = await client.getArtist({ id: `ar-${row.artist_id}` })
      expect(artist.album!.map((a) => a.id)).toContain(`al-${row.release_id}`)
    })
  })

  describe('search3', () => {
    it('finds a song, its album and artist by words of them, ranked, and everything for an empty query', async () => {
      const { song } = await client.getSong({ id: `tr-${linked[3]}` })
      const r = await client.search3({ query: song.title, songCount: 5 })
      expect(r.searchResult3.song![0].title).toBe(song.title)
      for (const s of r.searchResult3.song!) expectChild(s)
      // a prefix of the artist's name, as typed so far
      const prefix = song.artist!.split(' ')[0].slice(0, 4)
      const byArtist = await client.search3({ query: prefix, artistCount: 50, songCount: 500 })
      expect(
        byArtist.searchResult3.artist!.some((a) => a.name.toLowerCase().includes(prefix.toLowerCase())),
      ).toBe(true)
      for (const a of byArtist.searchResult3.artist!) expectShape('ArtistID3', a)
      const albums = await client.search3({ query: song.album!, albumCount: 5, songCount: 0, artistCount: 0 })
      expect(albums.searchResult3.album![0].id).toBe(song.albumId)
      expect(albums.searchResult3.song ?? []).toEqual([])
      const everything = await client.search3({
        query: '""',
        songCount: 500,
        albumCount: 500,
        artistCount: 500,
      })
      expect(everything.searchResult3.song!.length).toBe(linked.length)
      expect(everything.searchResult3.album!.length).toBe(await releasesWithAudio())
      const paged = await client.search3({
        query: '',
        songCount: 3,
        songOffset: 3,
        albumCount: 0,
        artistCount: 0,
      })
      expect(paged.searchResult3.song!.map((s) => s.id)).toEqual(
        everything.searchResult3.song!.slice(3, 6).map((s) => s.id),
      )
      // a typo in a long word: the catalog's dictionary knows the word meant
      const word = [song.title, song.album!, song.artist!]
        .flatMap((x) => x.split(/[^A-Za-z]+/))
        .find((w) => w.length >= 6)!
      const typo = word + word.at(-1) // "circle" → "circlee": no word begins so, and the dictionary's like it (0.67)
      const viaTypo = await client.search3({ query: typo, songCount: 500, albumCount: 50, artistCount: 50 })
      const hay = [
        ...viaTypo.searchResult3.song!.flatMap((s) => [s.title, s.album, s.artist]),
        ...(viaTypo.searchResult3.album ?? []).map((a) => a.name),
        ...(viaTypo.searchResult3.artist ?? []).map((a) => a.name),
      ]
      expect(
        hay.some((h) => h?.toLowerCase().includes(word.toLowerCase())),
        `${typo} finds ${word}`,
      ).toBe(true)
    })
  })

  describe('search3 follows the library', () => {
    it('makes the search texts before the first search answers, even while a warm-up makes them', async () => {
      await q(`DELETE FROM library_search; DELETE FROM library_search_state`)
      const library = new LibraryService(t.db)
      library.warmSearch()
      const all = {
        artistCount: 0,
        artistOffset: 0,
        albumCount: 0,
        albumOffset: 0,
        songCount: 500,
        songOffset: 0,
      }
      const [first, second] = await Promise.all([
        library.search({ query: '', ...all }),
        library.search({ query: '', ...all }),
      ])
      expect(first.songs.length).toBe(linked.length)
      expect(second.songs.length).toBe(linked.length)
      expect((await q(`SELECT count(*)::int AS n FROM library_search WHERE kind = 'song'`))[0].n).toBe(
        linked.length,
      )
    })

    it('leaves out a track whose audio is unlinked, and finds it again once linked (the texts catch up within seconds)', async () => {
      const { song } = await client.getSong({ id: `tr-${linked[9]}` })
      const found = async () =>
        (
          (await client.search3({ query: song.title, songCount: 500, albumCount: 0, artistCount: 0 }))
            .searchResult3.song ?? []
        ).map((s) => s.id)
      expect(await found()).toContain(song.id)
      const [row] = await q(`DELETE FROM audio_file WHERE track_id = $1 RETURNING *`, [linked[9]])
      await new Promise((r) => setTimeout(r, 2100))
      expect(await found()).not.toContain(song.id)
      expect((await json('getSong', { id: song.id })).error.code).toBe(70)
      const columns = Object.keys(row)
      await q(
        `INSERT INTO audio_file (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
        columns.map((c) => row[c]),
      )
      // the first search after the change answers from the texts as they were, and makes them again behind
      const deadline = Date.now() + 30_000
      let back = false
      while (!back && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500))
        back = (await found()).includes(song.id)
      }
      expect(back).toBe(true)
    })
  })

  describe('streaming', () => {
    it('streams and downloads the file, with byte ranges (206)', async () => {
      const [file] = await q(`SELECT path FROM audio_file WHERE track_id = $1`, [linked[0]])
      const bytes = fs.readFileSync(file.path)
      const full = await client.stream({ id: `tr-${linked[0]}` })
      expect(full.status).toBe(200)
      expect(full.headers.get('content-type')).toBe('audio/wav')
      expect(full.headers.get('accept-ranges')).toBe('bytes')
      expect(Buffer.from(await full.arrayBuffer()).equals(bytes)).toBe(true)
      const part = await rest(
        'stream.view',
        { apiKey: alice.key, id: `tr-${linked[0]}` },
        { headers: { range: 'bytes=100-1123' } },
      )
      expect(part.status).toBe(206)
      expect(part.headers.get('content-range')).toBe(`bytes 100-1123/${bytes.length}`)
      expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 1124))).toBe(true)
      const tail = await rest(
        'stream',
        { apiKey: alice.key, id: `tr-${linked[0]}` },
        { headers: { range: `bytes=${bytes.length}-` } },
      )
      expect(tail.status).toBe(416)
      const dl = await client.download({ id: `tr-${linked[0]}` })
      expect(dl.headers.get('content-disposition')).toBe(
        `attachment; filename*=UTF-8''${encodeURIComponent(path.basename(file.path))}`,
      )
      expect(Buffer.from(await dl.arrayBuffer()).length).toBe(bytes.length)
      expect((await json('stream', { id: 'tr-999999999' })).error.code).toBe(70)
      expect((await json('stream', { id: `tr-${linked[0]}`, apiKey: 'dg_nope' })).error.code).toBe(44)
    })
  })

  describe('playlists and scrobbles, per key', () => {
    it('creates, reads, updates and deletes playlists owned by the key; others see them only when public', async () => {
      const songs = linked.slice(0, 4).map((id) => `tr-${id}`)
      const created = await client.createPlaylist({ name: 'Night drive', songId: songs.slice(0, 3) })
      expect(created.status).toBe('ok')
      const p = (created as Json).playlist
      expectShape('Playlist', p)
      expect(p).toMatchObject({
        name: 'Night drive',
        owner: 'alice',
        songCount: 3,
        public: false,
        readonly: false,
      })
      expect(p.id).toMatch(/^pl-\d+$/)
      expect(p.entry.map((e: Json) => e.id)).toEqual(songs.slice(0, 3))
      expect(p.duration).toBe(p.entry.reduce((s: number, e: Json) => s + e.duration, 0))

      expect((await client.getPlaylists()).playlists.playlist!.map((x) => x.id)).toEqual([p.id])
      expect((await json('getPlaylists', {}, bob.key)).playlists.playlist ?? []).toEqual([])
      expect((await json('getPlaylist', { id: p.id }, bob.key)).error.code).toBe(70)
      expect((await json('deletePlaylist', { id: p.id }, bob.key)).error.code).toBe(70)

      // a POSTed form: add one, remove the first, rename, make public
      const poster = new SubsonicAPI({ url: api.url, auth: { apiKey: alice.key }, post: true })
      expect(
        (
          await poster.updatePlaylist({
            playlistId: p.id,
            name: 'Night drive 2',
            songIdToAdd: [songs[3]],
            songIndexToRemove: [0],
            public: true,
          })
        ).status,
      ).toBe('ok')
      const after = (await client.getPlaylist({ id: p.id })).playlist
      expect(after.entry!.map((e) => e.id)).toEqual([songs[1], songs[2], songs[3]])
      expect(after).toMatchObject({ name: 'Night drive 2', public: true, songCount: 3 })
      const seenByBob = (await json('getPlaylist', { id: p.id }, bob.key)).playlist
      expect(seenByBob).toMatchObject({ readonly: true, owner: 'alice' })
      expect((await json('updatePlaylist', { playlistId: p.id, name: 'mine now' }, bob.key)).error.code).toBe(
        50,
      )
      expect((await json('updatePlaylist', { playlistId: p.id, songIndexToRemove: '9' })).error.code).toBe(0)
      expect((await json('createPlaylist', { name: 'bad', songId: 'tr-999999999' })).error.code).toBe(70)

      // createPlaylist with playlistId replaces the songs
      const replaced = await json('createPlaylist', { playlistId: p.id, songId: [songs[0]] })
      expect(replaced.playlist.entry.map((e: Json) => e.id)).toEqual([songs[0]])
      expect((await client.deletePlaylist({ id: p.id })).status).toBe('ok')
      expect((await json('getPlaylist', { id: p.id })).error.code).toBe(70)
    })

    it('stores scrobbles per key, readable as recent plays, and lists recently played albums', async () => {
      const since = new Date(Date.now() - 60_000)
      const at = Date.now() - 1000
      expect((await client.scrobble({ id: `tr-${linked[5]}`, time: at, submission: true })).status).toBe('ok')
      expect(
        (
          await json('scrobble', {
            id: [`tr-${linked[6]}`, `tr-${linked[7]}`],
            time: [String(at + 1), String(at + 2)],
          })
        ).status,
      ).toBe('ok')
      expect((await json('scrobble', { id: `tr-${linked[8]}`, submission: 'false' })).status).toBe('ok')
      const scrobbles = new ScrobbleService(t.db.pool)
      const plays = await scrobbles.recentPlays(alice.id, since)
      expect(plays.map((p) => p.trackId)).toEqual([linked[7], linked[6], linked[5]])
      expect(plays[2].playedAt.getTime()).toBe(at)
      expect(
        (await scrobbles.recentPlays(alice.id, since, { nowPlaying: true })).map((p) => p.trackId),
      ).toContain(linked[8])
      expect(await scrobbles.recentPlays(bob.id, since)).toEqual([])
      const recent = (await client.getAlbumList2({ type: 'recent', size: 10 })).albumList2.album!
      const [row] = await q(`SELECT release_id FROM track WHERE id = $1`, [linked[7]])
      expect(recent[0].id).toBe(`al-${row.release_id}`)
      expect((await json('getAlbumList2', { type: 'recent' }, bob.key)).albumList2.album ?? []).toEqual([])
      expect((await json('scrobble', { id: 'tr-999999999' })).error.code).toBe(70)
    })
  })

  describe('similar songs and sonic paths', () => {
    it('getSimilarSongs2 and getSimilarSongs give library songs of other artists, nearest first', async () => {
      const { song } = await client.getSong({ id: `tr-${linked[0]}` })
      const bySong = (await client.getSimilarSongs({ id: song.id, count: 5 })).similarSongs.song!
      expect(bySong.length).toBeGreaterThan(0)
      for (const s of bySong) {
        expectChild(s)
        expect(s.id).not.toBe(song.id)
        expect(s.artistId).not.toBe(song.artistId)
      }
      const byArtist = (await client.getSimilarSongs2({ id: song.artistId!, count: 5 })).similarSongs2.song!
      expect(byArtist.length).toBeGreaterThan(0)
      for (const s of byArtist) expect(s.artistId).not.toBe(song.artistId)
      // nearest first, by the vectors written
      const d = bySong.map((s) =>
        cosineDistance(vectors.get(linked[0])!, vectors.get(Number(s.id.slice(3)))!),
      )
      expect(d).toEqual([...d].sort((x, y) => x - y))
    })

    it('getSonicSimilarTracks answers sonicMatch entries with distance and similarity in 0..1', async () => {
      const r = await client.customJSON<Json>('getSonicSimilarTracks', { id: `tr-${linked[0]}`, count: 6 })
      expect(r.status).toBe('ok')
      const m = r.sonicSimilarTracksResult.sonicMatch
      expect(m).toHaveLength(6)
      for (const x of m) {
        expectChild(x)
        expect(x.distance).toBeGreaterThanOrEqual(0)
        expect(x.distance).toBeLessThanOrEqual(1)
        expect(x.similarity).toBeCloseTo(1 - x.distance, 6)
        expect(x.distance).toBeCloseTo(
          cosineDistance(vectors.get(linked[0])!, vectors.get(Number(x.id.slice(3)))!) / 2,
          5,
        )
      }
      expect(m.map((x: Json) => x.distance)).toEqual(
        [...m.map((x: Json) => x.distance)].sort((a: number, b: number) => a - b),
      )
      expect(m.map((x: Json) => x.id)).not.toContain(`tr-${linked[0]}`)
      expect((await json('getSonicSimilarTracks', { id: 'tr-999999999' })).error.code).toBe(70)
    })

    it('findSonicPath starts and ends with its seeds and steps through the nearest unused songs along the slerp', async () => {
      const [from, to] = farthestPair(linked, vectors)
      const r = await client.customJSON<Json>('findSonicPath', {
        startSongId: `tr-${from}`,
        endSongId: `tr-${to}`,
        count: 5,
      })
      expect(r.status).toBe('ok')
      const ids = r.findSonicPathResult.sonicMatch.map((x: Json) => Number(x.id.slice(3)))
      expect(ids).toHaveLength(5)
      expect(ids[0]).toBe(from)
      expect(ids.at(-1)).toBe(to)
      expect(new Set(ids).size).toBe(5)
      expect(r.findSonicPathResult.sonicMatch[0].distance).toBeCloseTo(0, 6)
      // each step is the nearest song to its point on the great circle that the path does not hold yet
      const used = new Set([from, to])
      for (let i = 1; i <= 3; i++) {
        const target = slerp(vectors.get(from)!, vectors.get(to)!, i / 4)
        const nearest = linked
          .filter((id) => !used.has(id))
          .sort(
            (a, b) => cosineDistance(target, vectors.get(a)!) - cosineDistance(target, vectors.get(b)!),
          )[0]
        expect(ids[i]).toBe(nearest)
        used.add(nearest)
      }
      expect((await json('findSonicPath', { startSongId: `tr-${from}` })).error.code).toBe(10)
      expect(
        (await json('findSonicPath', { startSongId: `tr-${from}`, endSongId: `tr-${from}` })).error.code,
      ).toBe(0)
    })
  })

  describe('ids', () => {
    // last: it imports the dumps again
    it('stay the same across a re-import of the catalog', async () => {
      const before = (await client.getAlbumList2({ type: 'alphabeticalByName', size: 500 })).albumList2.album!
      const songs = (await client.search3({ query: '', songCount: 500, albumCount: 0, artistCount: 0 }))
        .searchResult3.song!
      await importDiscogs(t.db, [synth])
      expect(
        (await client.getAlbumList2({ type: 'alphabeticalByName', size: 500 })).albumList2.album!.map(
          (a) => a.id,
        ),
      ).toEqual(before.map((a) => a.id))
      for (const s of songs.slice(0, 5)) expect((await client.getSong({ id: s.id })).song.title).toBe(s.title)
    })
  })

  const q = async (sql: string, values: unknown[] = []): Promise<Json[]> =>
    (await t.db.pool.query(sql, values)).rows
  const releasesWithAudio = async () =>
    (
      await q(
        `SELECT count(DISTINCT t.release_id)::int AS n FROM audio_file af JOIN track t ON t.id = af.track_id`,
      )
    )[0].n
})

/** Vectors carrying the catalog's structure: one direction per release style, plus noise per track. */
async function embedByStyle(t: TestDatabase, trackIds: number[]): Promise<Map<number, Float32Array>> {
  const { model } = await new ModelRepository(t.db.pool).register({
    name: 'subsonic-vectors',
    kind: 'onnx',
    config: {},
    dims: { projection: DIMS },
    fingerprint: 'subsonic-test',
  })
  const { rows } = await t.db.pool.query<{ id: string; style: string | null }>(
    `SELECT t.id, (SELECT min(style) FROM release_style s WHERE s.release_id = t.release_id) AS style FROM track t WHERE t.id = ANY($1::int8[]) ORDER BY t.id`,
    [trackIds],
  )
  const rng = new SeededRandom(11)
  const centres = new Map<string, Float32Array>()
  const out = new Map<number, Float32Array>()
  for (const r of rows) {
    const key = r.style ?? 'none'
    if (!centres.has(key))
      centres.set(
        key,
        Float32Array.from({ length: DIMS }, () => rng.next() * 2 - 1),
      )
    const v = Float32Array.from(centres.get(key)!, (x) => x + (rng.next() - 0.5) * 0.8)
    const norm = Math.hypot(...v)
    out.set(
      Number(r.id),
      v.map((x) => x / norm),
    )
  }
  const repo = new EmbeddingRepository(t.db.pool, t.db.kind)
  await repo.write(
    model.id,
    'projection',
    [...out].map(([trackId, vector]) => ({ trackId, vector, patches: 1 })),
  )
  // as `embed` does after writing (raw: these vectors need no centring to be compared)
  await refitSearchVectors(t.db, model.id, 'projection', { kind: 'raw' })
  await repo.ensureIndex(model.id, 'projection', DIMS)
  await repo.recomputeCentroids(model.id, 'projection')
  return out
}

function farthestPair(ids: number[], vectors: Map<number, Float32Array>): [number, number] {
  let best: [number, number] = [ids[0], ids[1]]
  let far = -1
  for (const a of ids)
    for (const b of ids) {
      const d = a < b ? cosineDistance(vectors.get(a)!, vectors.get(b)!) : -1
      if (d > far) [far, best] = [d, [a, b]]
    }
  return best
}

function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
}

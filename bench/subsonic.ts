/**
 * Subsonic API benchmark: `npm run bench:subsonic [-- --releases 10000 --library 20000 --repeat 30]`.
 *
 * Loads a fresh database on the real server with the bench catalog (bench/support/catalog.ts: fixture
 * artists, labels and masters, and N renumbered fixture releases), makes a library of the first `--library`
 * tracks (audio_file rows pointing at one fixture WAV: the methods timed never read the file), gives them
 * 64-wide vectors clustered by style (one direction per style, noise per track), with the HNSW index and
 * centroids, then starts the API in this process and times, through the `subsonic-api` client (JSON over
 * HTTP, one request at a time):
 *   getAlbumList2 (newest, alphabeticalByName, random; 50), search3 (a common word, a rare word, a typo,
 *   the empty query as clients syncing the library send it; 20 of each type), getSimilarSongs2 (an artist;
 *   50 songs) and getSimilarSongs (a song), getSonicSimilarTracks, findSonicPath (25 songs).
 * Each: median and p95 of --repeat runs after one unmeasured run, and the API process's CPU per request
 * (process.cpuUsage over the runs; PostgreSQL's CPU is not in it). Ends with one JSON line.
 *
 * Server: DATABASE_URL if set (a fresh database is created beside it), else postgresql://postgres@127.0.0.1:5432.
 */
import 'reflect-metadata'
import fs from 'node:fs'
import path from 'node:path'
import { SubsonicAPI } from 'subsonic-api'
import { startApiServer } from '../src/api/http-server.ts'
import { EmbeddingRepository } from '../src/db/repositories/embedding.repository.ts'
import { ModelRepository } from '../src/db/repositories/model.repository.ts'
import { JobQueue } from '../src/jobs/queue.ts'
import { createLogger } from '../src/logger.ts'
import { SeededRandom } from '../src/random/seeded-random.ts'
import { AuthService } from '../src/services/auth.service.ts'
import { refitSearchVectors } from '../src/services/search-vectors.ts'
import { REPO_ROOT } from '../test/support/cli.ts'
import { createServerTestDatabase, tmpDir } from '../test/support/database.ts'
import { loadBenchCatalog } from './support/catalog.ts'

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : def
}
const RELEASES = arg('releases', 10_000)
const LIBRARY = arg('library', 20_000)
const REPEAT = arg('repeat', 30)
const DIMS = 64

const started = performance.now()
const t = await createServerTestDatabase()
const dumpDir = tmpDir('discograph-bench-subsonic-')
try {
  await loadBenchCatalog(t.db, RELEASES, dumpDir)
  const wav = fs.readdirSync(path.join(REPO_ROOT, 'test/fixtures/audio')).find((f) => f.endsWith('.wav'))
  if (!wav) throw new Error('no WAV file in test/fixtures/audio')
  const file = path.join(REPO_ROOT, 'test/fixtures/audio', wav)
  console.error(`making a library of ${LIBRARY} tracks with ${DIMS}-wide vectors…`)
  const { rows: library } = await t.db.pool.query<{ id: string; style: string | null }>(
    `SELECT t.id, (SELECT min(style) FROM release_style s WHERE s.release_id = t.release_id) AS style
       FROM track t WHERE t.type = 'track' ORDER BY t.id LIMIT $1`,
    [LIBRARY],
  )
  await t.db.pool.query(
    `INSERT INTO audio_file (path, size, mtime_ms, sha256, status, format, duration_s, track_id, match_method)
     SELECT $1 || '#' || id, 4800000, 0, NULL, 'ok', 'wav', 150 + id % 200, id, 'manifest' FROM unnest($2::int8[]) AS u (id)`,
    [file, library.map((r) => r.id)],
  )
  const { model } = await new ModelRepository(t.db.pool).register({
    name: 'bench-vectors',
    kind: 'onnx',
    config: {},
    dims: { projection: DIMS },
    fingerprint: 'bench-subsonic',
  })
  const rng = new SeededRandom(5)
  const centres = new Map<string, Float32Array>()
  const vectors = library.map((r) => {
    const key = r.style ?? 'none'
    if (!centres.has(key))
      centres.set(
        key,
        Float32Array.from({ length: DIMS }, () => rng.next() * 2 - 1),
      )
    const v = Float32Array.from(centres.get(key)!, (x) => x + (rng.next() - 0.5) * 0.8)
    const norm = Math.hypot(...v)
    return { trackId: Number(r.id), vector: v.map((x) => x / norm), patches: 1 }
  })
  const embeddings = new EmbeddingRepository(t.db.pool, t.db.kind)
  await embeddings.write(model.id, 'projection', vectors)
  await refitSearchVectors(t.db, model.id, 'projection', { kind: 'raw' })
  await embeddings.ensureIndex(model.id, 'projection', DIMS)
  await embeddings.recomputeCentroids(model.id, 'projection')
  await t.db.pool.query('ANALYZE')

  const { key } = await new AuthService(t.db.pool, { publicRead: false }).createKey('bench', 'reader')
  const queue = await JobQueue.start(t.db)
  const api = await startApiServer(
    { db: t.db, config: t.config, logger: createLogger('silent'), queue },
    { port: 0, host: '127.0.0.1' },
  )
  try {
    const client = new SubsonicAPI({ url: api.url, auth: { apiKey: key } })
    const { rows: picks } = await t.db.pool.query<{ track: string; artist: number; title: string }>(
      `SELECT t.id AS track, ra.artist_id AS artist, t.title FROM audio_file af JOIN track t ON t.id = af.track_id
         JOIN release_artist ra ON ra.release_id = t.release_id AND ra.artist_id IS NOT NULL
        ORDER BY t.id LIMIT 1 OFFSET $1`,
      [Math.floor(LIBRARY / 2)],
    )
    const [pick] = picks
    const last = vectors.at(-1)!.trackId
    const ok = async (r: Promise<{ status: string }>) => {
      const res = await r
      if (res.status !== 'ok') throw new Error(JSON.stringify(res))
    }
    const cases: [string, () => Promise<void>][] = [
      ['getAlbumList2 newest', () => ok(client.getAlbumList2({ type: 'newest', size: 50 }))],
      [
        'getAlbumList2 alphabeticalByName',
        () => ok(client.getAlbumList2({ type: 'alphabeticalByName', size: 50, offset: 100 })),
      ],
      ['getAlbumList2 random', () => ok(client.getAlbumList2({ type: 'random', size: 50 }))],
      ['search3 "love"', () => ok(client.search3({ query: 'love' }))],
      [`search3 ${JSON.stringify(pick.title)}`, () => ok(client.search3({ query: pick.title }))],
      ['search3 "persuadr" (typo)', () => ok(client.search3({ query: 'persuadr' }))],
      [
        'search3 "" (500 songs)',
        () => ok(client.search3({ query: '', songCount: 500, albumCount: 0, artistCount: 0 })),
      ],
      [
        'getSimilarSongs2 (artist, 50)',
        () => ok(client.getSimilarSongs2({ id: `ar-${pick.artist}`, count: 50 })),
      ],
      ['getSimilarSongs (song, 50)', () => ok(client.getSimilarSongs({ id: `tr-${pick.track}`, count: 50 }))],
      [
        'getSonicSimilarTracks (10)',
        () => ok(client.customJSON('getSonicSimilarTracks', { id: `tr-${pick.track}`, count: 10 })),
      ],
      [
        'findSonicPath (25)',
        () =>
          ok(
            client.customJSON('findSonicPath', {
              startSongId: `tr-${pick.track}`,
              endSongId: `tr-${last}`,
              count: 25,
            }),
          ),
      ],
    ]
    // the first search after the library changed makes the library's search texts (library_search)
    const sync0 = performance.now()
    await ok(client.search3({ query: 'sync' }))
    const syncMs = round(performance.now() - sync0)
    console.log(
      `${'search3, first (makes the search texts)'.padEnd(40)} ${syncMs.toFixed(1).padStart(11)} ms`,
    )
    const results: Record<string, { p50: number; p95: number; cpuMs: number }> = {}
    for (const [name, run] of cases) {
      await run()
      const times: number[] = []
      const cpu0 = process.cpuUsage()
      for (let i = 0; i < REPEAT; i++) {
        const t0 = performance.now()
        await run()
        times.push(performance.now() - t0)
      }
      const cpu = process.cpuUsage(cpu0)
      times.sort((a, b) => a - b)
      const r = {
        p50: round(times[Math.floor(times.length / 2)]),
        p95: round(times[Math.min(times.length - 1, Math.floor(times.length * 0.95))]),
        cpuMs: round((cpu.user + cpu.system) / 1000 / REPEAT),
      }
      results[name] = r
      console.log(
        `${name.padEnd(40)} p50 ${r.p50.toFixed(1).padStart(7)} ms   p95 ${r.p95.toFixed(1).padStart(7)} ms   API CPU ${r.cpuMs.toFixed(1).padStart(6)} ms/request`,
      )
    }
    const { rows: sizes } = await t.db.pool.query<{ tracks: number; albums: number }>(
      `SELECT count(*)::int AS tracks, count(DISTINCT t.release_id)::int AS albums FROM audio_file af JOIN track t ON t.id = af.track_id`,
    )
    console.log(
      JSON.stringify({
        releases: RELEASES,
        library: sizes[0],
        dims: DIMS,
        repeat: REPEAT,
        firstSearchMs: syncMs,
        results,
        seconds: round((performance.now() - started) / 1000),
      }),
    )
  } finally {
    await api.close()
    await queue.stop()
  }
} finally {
  await t.dispose()
  fs.rmSync(dumpDir, { recursive: true, force: true })
}

function round(x: number): number {
  return Math.round(x * 10) / 10
}

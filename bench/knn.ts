/**
 * Nearest-neighbour benchmark: `npm run bench:knn [-- --sizes 100000,1000000 --dims 512 --extra 100000x1280]`.
 *
 * For each (tracks, dims): a fresh, migrated database on the real server gets a synthetic catalog (10 tracks
 * per release, 10 releases per artist, years and countries by formula) and clustered unit vectors (genre →
 * style → artist → release → track), bulk-loaded through the embedding repository (binary COPY); then
 * the HNSW index is built (timed), and similarTracks runs through the similarity service: p50/p99 latency
 * and recall@10 against exact search (brute force over the same vectors in this process), unfiltered and
 * behind a decade filter (~17 % of tracks), at several ef_search values. hnswlib-node builds and queries an
 * in-process index of the same vectors with the same M / ef_construction / ef for comparison.
 * Ends with one JSON line.
 *
 * Query passes are pluggable (`QueryPass`): the service pass is built in; another (e.g. through GraphQL)
 * can be added by importing runKnnBench and passing it.
 *
 * Options (argv, or the env variable in brackets):
 *   --sizes      track counts, comma-separated [KNN_SIZES] (default 100000,1000000)
 *   --dims       width for --sizes [KNN_DIMS] (default 512)
 *   --extra      more runs as NxD, comma-separated [KNN_EXTRA] (default 100000x1280)
 *   --queries    timed queries per setting [KNN_QUERIES] (default 300)
 *   --recall     queries checked against exact search [KNN_RECALL] (default 100)
 *   --ef         ef_search values [KNN_EF] (default 40,100,200; the service default is 100)
 *   --hnswlib-max  largest run that also builds hnswlib-node [KNN_HNSWLIB_MAX] (default 100000: its build is
 *                  single-threaded, ~15 min at 1M here; pass 1000000 for the 1M comparison)
 *   --m, --ef-construction  HNSW build parameters (default: the repository's, m 16, ef_construction 128)
 * Diagnostics: KNN_EXPLAIN=1 logs the plans of one plain and one filtered query; KNN_KEEP_DB=1 keeps the database.
 * Server: DATABASE_URL if set (a fresh database is created beside it), else postgresql://postgres@127.0.0.1:5432.
 */
import 'reflect-metadata'
import crypto from 'node:crypto'
import os from 'node:os'
import { pathToFileURL } from 'node:url'
import * as tf from '@tensorflow/tfjs'
import hnswlib from 'hnswlib-node'
import { loadConfig } from '../src/config/config.ts'
import { migrate, openDatabase, type Database } from '../src/db/database.ts'
import {
  EmbeddingRepository,
  HNSW_DEFAULTS,
  type EmbeddingRow,
} from '../src/db/repositories/embedding.repository.ts'
import { ModelRepository, type ModelSpace } from '../src/db/repositories/model.repository.ts'
import { knnSql } from '../src/db/repositories/similarity.repository.ts'
import { initBackend } from '../src/ml/engine/backend.ts'
import { SeededRandom } from '../src/random/seeded-random.ts'
import { SimilarityService, type TrackSimilarityFilter } from '../src/services/similarity.service.ts'
import { createScratchDatabase } from '../test/support/database.ts'

const TRACKS_PER_RELEASE = 10
const RELEASES_PER_ARTIST = 10
const FIRST = 10
const COUNTRIES = ['US', 'UK', 'DE', 'FR', 'JP', 'NL', 'IT', 'SE']
const yearOf = (release: number) => 1960 + ((release * 7) % 60)
/** The filtered pass: one decade (releases 1970–1979, ~17 % of tracks). */
const DECADE: TrackSimilarityFilter = { yearFrom: 1970, yearTo: 1979 }

function opt(name: string, env: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : (process.env[env] ?? def)
}
const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)

/** Answers "the `first` tracks most similar to this track" — the thing timed. */
export type SimilarQuery = (
  trackId: number,
  first: number,
  filter?: TrackSimilarityFilter,
) => Promise<number[]>

export interface QueryPass {
  name: string
  /** One query function per ef_search value (a pass that cannot set it may ignore `ef`). */
  open(ctx: {
    db: Database
    model: string
    ef: number
  }): Promise<{ query: SimilarQuery; close(): Promise<void> }>
}

export const servicePass: QueryPass = {
  name: 'service',
  async open({ db, model, ef }) {
    const service = new SimilarityService(db, { scan: { efSearch: ef } })
    return {
      query: async (trackId, first, filter) =>
        (await service.similarTracks({ trackIds: [trackId], model, first, filter })).tracks.map(
          (t) => t.trackId,
        ),
      close: async () => undefined,
    }
  },
}

export interface BenchOptions {
  runs: { n: number; dims: number }[]
  queries: number
  recallQueries: number
  efs: number[]
  hnswlibMax: number
  m: number
  efConstruction: number
}

export interface Vectors {
  n: number
  dims: number
  data: Float32Array
}

/**
 * Unit vectors shaped like a music catalogue: genre → style → artist → release → track, each level a
 * Gaussian offset from its parent (weights 1, 0.8, 0.7, 0.5, 0.5). Row i is track i+1 of release
 * floor(i/10)+1 of artist floor(i/100)+1; artists are spread over 300 styles in 20 genres. A track's
 * nearest neighbours are its release-mates, then its artist's other tracks, then its style's.
 * (Flat, equidistant clusters with nothing above the artist are the pathological case for graph indexes:
 * with them, recall@10 at 1M fell to 0.78 at ef_search 100, for hnswlib-node as for pgvector.)
 */
export function syntheticVectors(n: number, dims: number, seed = 1): Vectors {
  // A table of Gaussian draws indexed by a xorshift stream: fast enough for 10⁹ values, plenty random here.
  const rng = new SeededRandom(seed)
  const table = new Float32Array(1 << 16)
  for (let i = 0; i < table.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng.next()))
    const a = 2 * Math.PI * rng.next()
    table[i] = r * Math.cos(a)
    table[i + 1] = r * Math.sin(a)
  }
  let x = (seed * 2654435761) >>> 0 || 1
  const gauss = () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return table[(x >>> 0) & 0xffff]
  }
  const vectorsOf = (count: number, scale: number) =>
    Float32Array.from({ length: count * dims }, () => scale * gauss())
  const GENRES = 20
  const STYLES = 300
  const genres = vectorsOf(GENRES, 1)
  const styles = vectorsOf(STYLES, 0.8)
  const data = new Float32Array(n * dims)
  const base = new Float32Array(dims)
  const release = new Float32Array(dims)
  const perArtist = TRACKS_PER_RELEASE * RELEASES_PER_ARTIST
  for (let i = 0; i < n; i++) {
    if (i % perArtist === 0) {
      const artist = i / perArtist
      const style = (artist * 7919) % STYLES
      const genre = style % GENRES
      for (let k = 0; k < dims; k++)
        base[k] = genres[genre * dims + k] + styles[style * dims + k] + 0.7 * gauss()
    }
    if (i % TRACKS_PER_RELEASE === 0) for (let k = 0; k < dims; k++) release[k] = base[k] + 0.5 * gauss()
    let norm = 0
    const o = i * dims
    for (let k = 0; k < dims; k++) {
      const v = release[k] + 0.5 * gauss()
      data[o + k] = v
      norm += v * v
    }
    const inv = 1 / Math.sqrt(norm)
    for (let k = 0; k < dims; k++) data[o + k] *= inv
  }
  return { n, dims, data }
}

/**
 * Exact top-k by cosine for many queries at once (unit vectors: dot products), on the ML engine's native
 * sgemm in chunks of rows; `keep` restricts the candidates (the filtered pass). The query row itself is
 * never its own neighbour.
 */
function exactTopK(v: Vectors, queries: number[], k: number, keep?: (row: number) => boolean): number[][] {
  const { data, dims, n } = v
  const q = new Float32Array(queries.length * dims)
  queries.forEach((r, i) => q.set(data.subarray(r * dims, (r + 1) * dims), i * dims))
  const qt = tf.tensor2d(q, [queries.length, dims])
  const best = queries.map(() => ({ rows: [] as number[], scores: [] as number[] }))
  const CHUNK = 32_768
  for (let start = 0; start < n; start += CHUNK) {
    const m = Math.min(CHUNK, n - start)
    const scores = tf.tidy(() =>
      tf.matMul(qt, tf.tensor2d(data.subarray(start * dims, (start + m) * dims), [m, dims]), false, true),
    )
    const s = scores.dataSync() as Float32Array
    scores.dispose()
    queries.forEach((self, qi) => {
      const b = best[qi]
      for (let j = 0; j < m; j++) {
        const row = start + j
        const score = s[qi * m + j]
        if (b.rows.length === k && score <= b.scores[k - 1]) continue
        if (row === self || (keep && !keep(row))) continue
        let at = b.rows.length
        while (at > 0 && b.scores[at - 1] < score) at--
        b.rows.splice(at, 0, row)
        b.scores.splice(at, 0, score)
        if (b.rows.length > k) {
          b.rows.pop()
          b.scores.pop()
        }
      }
    })
  }
  qt.dispose()
  return best.map((b) => b.rows)
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}
const round = (x: number, d = 2) => Number(x.toFixed(d))
const log = (msg: string) => console.error(`[knn ${new Date().toISOString().slice(11, 19)}] ${msg}`)

export async function freshDatabase(): Promise<{ db: Database; drop: () => Promise<void> }> {
  const scratch = await createScratchDatabase(
    process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
    'discograph_bench_knn',
  )
  const db = await openDatabase({
    ...loadConfig({ ...process.env, DATABASE_URL: scratch.url, LOG_LEVEL: 'silent' }),
    dbPoolMax: 4,
  })
  await migrate(db)
  return {
    db,
    drop: async () => {
      await db.close()
      await scratch.drop()
    },
  }
}

/** Releases, artists and tracks by formula; returns track ids in row order. */
export async function syntheticCatalog(db: Database, n: number): Promise<number[]> {
  const releases = Math.ceil(n / TRACKS_PER_RELEASE)
  await db.pool.query(
    `INSERT INTO release (id, title, year, country)
     SELECT r, 'Release ' || r, 1960 + (r * 7) % 60, ($2::text[])[1 + (r * 3) % 8] FROM generate_series(1, $1::int) r`,
    [releases, COUNTRIES],
  )
  await db.pool.query(
    `INSERT INTO release_artist (release_id, ord, artist_id, name) SELECT r, 0, 1 + (r - 1) / ${RELEASES_PER_ARTIST}, 'A' FROM generate_series(1, $1::int) r`,
    [releases],
  )
  await db.pool.query(
    `INSERT INTO track (release_id, track_key, sequence, position, type)
     SELECT 1 + (i - 1) / ${TRACKS_PER_RELEASE}, 'T' || i, i, 'T' || i, 'track' FROM generate_series(1, $1::int) i`,
    [n],
  )
  const { rows } = await db.pool.query(`SELECT id FROM track ORDER BY release_id, sequence`)
  return rows.map((r) => Number(r.id))
}

interface PassFigures {
  pass: string
  ef: number
  p50_ms: number
  p99_ms: number
  recall10: number
  filtered_p50_ms: number
  filtered_p99_ms: number
  filtered_recall10: number
}

export async function runKnnBench(
  options: BenchOptions,
  passes: QueryPass[] = [servicePass],
): Promise<Record<string, unknown>> {
  const results: Record<string, unknown>[] = []
  for (const { n, dims } of options.runs) {
    const started = performance.now()
    log(`${n} × ${dims}: generating vectors`)
    const vectors = syntheticVectors(n, dims)
    const { db, drop } = await freshDatabase()
    try {
      const space: ModelSpace = dims === 512 ? 'projection' : 'backbone'
      const trackIds = await syntheticCatalog(db, n)
      const rowOf = new Map(trackIds.map((id, i) => [id, i]))
      const { model } = await new ModelRepository(db.pool).register({
        name: `bench-${n}x${dims}`,
        kind: 'random',
        config: { synthetic: true },
        dims: { [space]: dims },
        fingerprint: `bench:${n}:${dims}:${crypto.randomUUID()}`,
      })
      const repo = new EmbeddingRepository(db.pool, db.kind)
      log(`${n} × ${dims}: loading`)
      let t0 = performance.now()
      const chunk = 10_000
      for (let i = 0; i < n; i += chunk) {
        const rows: EmbeddingRow[] = []
        for (let r = i; r < Math.min(n, i + chunk); r++)
          rows.push({
            trackId: trackIds[r],
            vector: vectors.data.subarray(r * dims, (r + 1) * dims),
            patches: 1,
          })
        await repo.write(model.id, space, rows)
      }
      const loadSeconds = (performance.now() - t0) / 1000
      await db.pool.query('VACUUM ANALYZE') // fresh tables: plans need their statistics
      // The graph should fit in maintenance_work_mem or the build slows down many times over.
      const mwm = Math.min(8192, Math.max(256, Math.ceil((n * (dims * 4 + 600) * 1.3) / 2 ** 20)))
      log(
        `${n} × ${dims}: loaded in ${loadSeconds.toFixed(1)} s; building HNSW (maintenance_work_mem ${mwm} MB)`,
      )
      t0 = performance.now()
      await repo.ensureIndex(model.id, space, dims, {
        m: options.m,
        efConstruction: options.efConstruction,
        maintenanceWorkMem: `${mwm}MB`,
      })
      const buildSeconds = (performance.now() - t0) / 1000
      const { rows: size } = await db.pool.query(`SELECT pg_relation_size($1) AS bytes`, [
        `track_embedding_hnsw_${model.id}_${space}`,
      ])
      log(
        `${n} × ${dims}: HNSW built in ${buildSeconds.toFixed(1)} s (${(Number(size[0].bytes) / 2 ** 20).toFixed(0)} MB)`,
      )

      const rng = new SeededRandom(n + dims)
      const timed = Array.from({ length: options.queries }, () => rng.int(n))
      const checked = timed.slice(0, Math.min(options.recallQueries, options.queries))
      const inDecade = (row: number) => {
        const y = yearOf(Math.floor(row / TRACKS_PER_RELEASE) + 1)
        return y >= 1970 && y <= 1979
      }
      t0 = performance.now()
      const truth = exactTopK(vectors, checked, FIRST)
      const truthFiltered = exactTopK(vectors, checked, FIRST, inDecade)
      log(
        `${n} × ${dims}: exact answers for ${checked.length} queries in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      )
      const recall = (answers: number[][], expected: number[][]) => {
        let hit = 0
        let total = 0
        answers.forEach((a, i) => {
          const want = new Set(expected[i])
          hit += a.filter((row) => want.has(row)).length
          total += want.size
        })
        return hit / total
      }

      if (process.env.KNN_EXPLAIN) {
        // Diagnostics: the plans of one unfiltered and one filtered query, as the service runs them.
        for (const filter of [{}, DECADE]) {
          const f = { excludeTracks: [trackIds[timed[0]]], ...filter }
          const { text, values } = knnSql(
            { modelId: model.id, space, dims },
            { trackIds: [trackIds[timed[0]]] },
            FIRST,
            f,
            false,
            4 * FIRST,
          )
          const c = await db.pool.connect()
          try {
            await c.query(
              'BEGIN; SET LOCAL hnsw.iterative_scan = relaxed_order; SET LOCAL hnsw.ef_search = 100',
            )
            const plan = await c.query(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values)
            log(plan.rows.map((r) => r['QUERY PLAN']).join('\n'))
          } finally {
            await c.query('ROLLBACK')
            c.release()
          }
        }
      }
      const passFigures: PassFigures[] = []
      for (const pass of passes) {
        for (const ef of options.efs) {
          const { query, close } = await pass.open({ db, model: model.name, ef })
          try {
            const measure = async (filter?: TrackSimilarityFilter) => {
              for (const r of timed.slice(0, 20)) await query(trackIds[r], FIRST, filter) // warm up
              const ms: number[] = []
              const answers: number[][] = []
              for (const [i, r] of timed.entries()) {
                const s = performance.now()
                const ids = await query(trackIds[r], FIRST, filter)
                ms.push(performance.now() - s)
                if (i < checked.length) answers.push(ids.map((id) => rowOf.get(id)!))
              }
              return { ms, answers }
            }
            const plain = await measure()
            const decade = await measure(DECADE)
            const f: PassFigures = {
              pass: pass.name,
              ef,
              p50_ms: round(percentile(plain.ms, 50)),
              p99_ms: round(percentile(plain.ms, 99)),
              recall10: round(recall(plain.answers, truth), 4),
              filtered_p50_ms: round(percentile(decade.ms, 50)),
              filtered_p99_ms: round(percentile(decade.ms, 99)),
              filtered_recall10: round(recall(decade.answers, truthFiltered), 4),
            }
            passFigures.push(f)
            log(`${n} × ${dims}: ${pass.name} ef ${ef}: ${JSON.stringify(f)}`)
          } finally {
            await close()
          }
        }
      }

      let hnswlibFigures: Record<string, number> | null = null
      if (n <= options.hnswlibMax) {
        log(`${n} × ${dims}: hnswlib-node build`)
        const index = new hnswlib.HierarchicalNSW('cosine', dims)
        index.initIndex(n, options.m, options.efConstruction, 100)
        t0 = performance.now()
        const point = new Array<number>(dims)
        for (let r = 0; r < n; r++) {
          for (let k = 0; k < dims; k++) point[k] = vectors.data[r * dims + k]
          index.addPoint(point, r)
        }
        const hBuild = (performance.now() - t0) / 1000
        const perEf: Record<string, number> = {}
        for (const ef of options.efs) {
          index.setEf(ef)
          const ms: number[] = []
          const answers: number[][] = []
          for (const [i, r] of timed.entries()) {
            for (let k = 0; k < dims; k++) point[k] = vectors.data[r * dims + k]
            const s = performance.now()
            const res = index.searchKnn(point, FIRST + 1)
            ms.push(performance.now() - s)
            if (i < checked.length) answers.push(res.neighbors.filter((x) => x !== r).slice(0, FIRST))
          }
          perEf[`ef${ef}_p50_ms`] = round(percentile(ms, 50), 3)
          perEf[`ef${ef}_recall10`] = round(recall(answers, truth), 4)
        }
        hnswlibFigures = { build_s: round(hBuild, 1), ...perEf }
        log(`${n} × ${dims}: hnswlib-node ${JSON.stringify(hnswlibFigures)}`)
      }

      const main = passFigures.find((f) => f.pass === 'service' && f.ef === 100) ?? passFigures[0]
      results.push({
        n,
        dims,
        load_s: round(loadSeconds, 1),
        hnsw_build_s: round(buildSeconds, 1),
        hnsw_mb: Math.round(Number(size[0].bytes) / 2 ** 20),
        passes: passFigures,
        hnswlib: hnswlibFigures,
        ratio_build: hnswlibFigures ? round(buildSeconds / hnswlibFigures.build_s, 2) : null,
        ratio_p50:
          hnswlibFigures && main ? round(main.p50_ms / hnswlibFigures[`ef${main.ef}_p50_ms`], 1) : null,
        wall_s: round((performance.now() - started) / 1000, 1),
      })
    } finally {
      if (process.env.KNN_KEEP_DB) log(`kept database ${db.url}`)
      else await drop()
    }
  }
  return {
    bench: 'knn',
    m: options.m,
    ef_construction: options.efConstruction,
    cores: os.cpus().length,
    first: FIRST,
    filtered: 'decade (~17 %)',
    runs: results,
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dims = Number(opt('dims', 'KNN_DIMS', '512'))
  const runs = [
    ...list(opt('sizes', 'KNN_SIZES', '100000,1000000')).map((s) => ({ n: Number(s), dims })),
    ...list(opt('extra', 'KNN_EXTRA', '100000x1280')).map((s) => {
      const [n, d] = s.split('x').map(Number)
      return { n, dims: d }
    }),
  ]
  const options: BenchOptions = {
    runs,
    queries: Number(opt('queries', 'KNN_QUERIES', '300')),
    recallQueries: Number(opt('recall', 'KNN_RECALL', '100')),
    efs: list(opt('ef', 'KNN_EF', '40,100,200')).map(Number),
    hnswlibMax: Number(opt('hnswlib-max', 'KNN_HNSWLIB_MAX', '100000')),
    m: Number(opt('m', 'KNN_M', String(HNSW_DEFAULTS.m))),
    efConstruction: Number(
      opt('ef-construction', 'KNN_EF_CONSTRUCTION', String(HNSW_DEFAULTS.efConstruction)),
    ),
  }
  await initBackend('native') // exact answers by sgemm
  const started = performance.now()
  // The GraphQL pass: the same questions through `discograph serve` over loopback (the target is
  // stated through GraphQL); `--passes service` skips it.
  const { graphqlPass } = await import('./knn-graphql-pass.ts')
  const passes = list(opt('passes', 'KNN_PASSES', 'service,graphql')).map((name) => {
    const pass = { service: servicePass, graphql: graphqlPass }[name]
    if (!pass) throw new Error(`--passes: unknown pass ${name} (service, graphql)`)
    return pass
  })
  const out = await runKnnBench(options, passes)
  console.log(JSON.stringify({ ...out, wall_s: round((performance.now() - started) / 1000, 1) }))
}

/**
 * Load benchmark: `npm run bench:load [-- --releases 1000000 --embedded 100000 --connections 64 --seconds 60]`.
 *
 * The real `discograph serve` (the built CLI, bin/discograph.js; `npm run build` first), spawned over a
 * catalog of `--releases` releases (the bench catalog, growing vocabulary) of which `--embedded` tracks have
 * synthetic clustered vectors of one model (bench/support/load-catalog.ts). The catalog is built once and
 * kept: on the server in a PostgreSQL database named for its size (discograph_load_<R>r_<E>e beside
 * DATABASE_URL's, else on 127.0.0.1:5432), with `--embedded-db` in a PGlite DATA_DIR of that name under the
 * system's temporary folder; re-running finds it and skips the build.
 *
 * autocannon then drives the server's /graphql over loopback with `--connections` for `--seconds` (after
 * `--warmup` seconds unmeasured) on a weighted mix of what the web UI sends (src/web/static/app.js QUERIES):
 *   release page 25 %, artist page 15 %, search 30 % (common words 14, rare catalog words 8, typos 8),
 *   similarTracks 20 % (unfiltered 12, filtered by style and years or excluding the seed's artist 8),
 *   instantMix 10 %.
 * Prints throughput, p50/p95/p99 over all requests and per kind, errors (transport errors, timeouts,
 * non-2xx and responses carrying GraphQL errors, by code: the goal is 0), the server's RSS sampled every
 * second (start, mid, end, max, and the series), the load average, and one JSON line.
 *
 * Options (argv):
 *   --releases N      catalog size (default 1000000; with --embedded-db 100000)
 *   --embedded N      tracks with vectors (default 100000; with --embedded-db 10000)
 *   --connections N   (default 64; with --embedded-db 8)
 *   --seconds N       measured time (default 60)
 *   --warmup N        unmeasured seconds first (default 10)
 *   --embedded-db     the embedded default (no DATABASE_URL: PGlite) instead of PostgreSQL
 *   --build-only      build (or find) the catalog and stop
 */
import 'reflect-metadata'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import autocannon from 'autocannon'
import pg from 'pg'
import { toGlobalId } from '../src/api/global-id.ts'
import { CLI_BUILT, REPO_ROOT } from '../test/support/cli.ts'
import { ADMIN_URL } from '../test/support/database.ts'
import {
  cachedEmbeddedCatalog,
  cachedServerCatalog,
  LOAD_MODEL,
  type CachedCatalog,
  type LoadCatalogSize,
} from './support/load-catalog.ts'
import { freePort } from './support/free-port.ts'

const EMBEDDED_DB = process.argv.includes('--embedded-db')
function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`)
  const v = i >= 0 ? Number(process.argv[i + 1]) : def
  if (!Number.isInteger(v) || v < 0)
    throw new Error(`--${name}: expected a whole number, got ${process.argv[i + 1]}`)
  return v
}
const SIZE: LoadCatalogSize = {
  releases: arg('releases', EMBEDDED_DB ? 100_000 : 1_000_000),
  embedded: arg('embedded', EMBEDDED_DB ? 10_000 : 100_000),
}
const CONNECTIONS = arg('connections', EMBEDDED_DB ? 8 : 64)
const SECONDS = arg('seconds', 60)
const WARMUP = arg('warmup', 10)
const log = (msg: string) => console.error(`[load ${new Date().toISOString().slice(11, 19)}] ${msg}`)
const loadavg = () => os.loadavg().map((x) => Number(x.toFixed(2)))

// What the web UI sends (src/web/static/app.js QUERIES), so the mix costs what a browser's pages cost.
const TRACK_FIELDS = `id title position duration audio { url } release { discogsId title year styles { name } artists { name } }`
const Q = {
  search: `query Search($q: String!, $first: Int, $types: [SearchType!]) {
    search(query: $q, first: $first, types: $types) { edges { score text node { __typename
      ... on Artist { discogsId } ... on Label { discogsId } ... on Release { discogsId year country }
      ... on Master { discogsId year } ... on Track { id audio { url } release { discogsId title } } } } } }`,
  release: `query Release($id: Int!) { release(discogsId: $id) { id discogsId title year country released notes
    styles { name } genres { name } artists { name artist { discogsId name } }
    labels { catalogNumber label { discogsId name } }
    tracks(first: 100) { edges { node { id position title duration type audio { url } } } } } }`,
  artist: `query Artist($id: Int!) { artist(discogsId: $id) { id discogsId name realName profile
    releases(first: 50) { totalCount edges { node { discogsId title year } } } } }`,
  similar: `query Similar($id: ID!, $first: Int, $model: String, $filter: SimilarityFilter) {
    similarTracks(track: $id, first: $first, model: $model, filter: $filter) { similarity track { ${TRACK_FIELDS} } } }`,
  mix: `query Mix($id: ID!, $model: String) { instantMix(seeds: [$id], first: 25, model: $model) { tracks { similarity track { ${TRACK_FIELDS} } } } }`,
}

// Words every catalog of the bench's vocabulary has many titles with (bench:search's common words).
const COMMON = ['love', 'mix', 'remix', 'the', 'night', 'dub', 'soul', 'dreams', 'deep house', 'original mix']

/** What the requests are made of, read from the catalog before the server starts. */
interface Inputs {
  releaseIds: number[]
  artistIds: number[]
  rareWords: string[]
  tracks: number[]
  styles: string[]
}

async function readInputs(db: pg.ClientBase): Promise<Inputs> {
  const ids = async (sql: string) => (await db.query<{ v: unknown }>(sql)).rows.map((r) => r.v)
  return {
    releaseIds: (await ids(`SELECT id AS v FROM release ORDER BY random() LIMIT 50000`)) as number[],
    artistIds: (await ids(`SELECT id AS v FROM artist ORDER BY random() LIMIT 2000`)) as number[],
    // The dictionary is mostly rare words (the growing vocabulary makes them up); 6+ letters, as people type.
    rareWords: (await ids(
      `SELECT word AS v FROM search_word WHERE length(word) >= 6 ORDER BY random() LIMIT 2000`,
    )) as string[],
    tracks: (
      await ids(
        `SELECT e.track_id AS v FROM track_embedding e JOIN model m ON m.id = e.model_id
         WHERE m.name = '${LOAD_MODEL}' ORDER BY random() LIMIT 5000`,
      )
    ).map(Number),
    styles: (await ids(
      `SELECT style AS v FROM release_style GROUP BY style ORDER BY count(*) DESC LIMIT 30`,
    )) as string[],
  }
}

/** A word with one edit a typist makes: a letter dropped, doubled or two swapped. */
function typo(word: string): string {
  const i = 1 + Math.floor(Math.random() * (word.length - 2))
  switch (Math.floor(Math.random() * 3)) {
    case 0:
      return word.slice(0, i) + word.slice(i + 1)
    case 1:
      return word.slice(0, i) + word[i] + word.slice(i)
    default:
      return word.slice(0, i - 1) + word[i] + word[i - 1] + word.slice(i + 1)
  }
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]

interface Kind {
  name: string
  weight: number
  body: () => { query: string; variables: Record<string, unknown> }
}

function requestKinds(inputs: Inputs): Kind[] {
  const track = () => toGlobalId('Track', pick(inputs.tracks))
  const search = (q: string) => ({ query: Q.search, variables: { q, first: 20 } })
  return [
    {
      name: 'release',
      weight: 25,
      body: () => ({ query: Q.release, variables: { id: pick(inputs.releaseIds) } }),
    },
    {
      name: 'artist',
      weight: 15,
      body: () => ({ query: Q.artist, variables: { id: pick(inputs.artistIds) } }),
    },
    { name: 'search:common', weight: 14, body: () => search(pick(COMMON)) },
    { name: 'search:rare', weight: 8, body: () => search(pick(inputs.rareWords)) },
    {
      name: 'search:typo',
      weight: 8,
      body: () => search(typo(Math.random() < 0.5 ? pick(inputs.rareWords) : pick(COMMON.slice(0, 8)))),
    },
    {
      name: 'similar',
      weight: 12,
      body: () => ({ query: Q.similar, variables: { id: track(), first: 20, model: LOAD_MODEL } }),
    },
    {
      name: 'similar:filtered',
      weight: 8,
      body: () => {
        const from = 1960 + Math.floor(Math.random() * 40)
        const filter =
          Math.random() < 0.5
            ? { styles: [pick(inputs.styles), pick(inputs.styles)], yearFrom: from, yearTo: from + 15 }
            : { excludeSameArtist: true, excludeSameRelease: true }
        return { query: Q.similar, variables: { id: track(), first: 20, model: LOAD_MODEL, filter } }
      },
    },
    {
      name: 'instantMix',
      weight: 10,
      body: () => ({ query: Q.mix, variables: { id: track(), model: LOAD_MODEL } }),
    },
  ]
}

function weightedPicker(kinds: Kind[]): () => Kind {
  const total = kinds.reduce((s, k) => s + k.weight, 0)
  return () => {
    let r = Math.random() * total
    for (const k of kinds) if ((r -= k.weight) < 0) return k
    return kinds[kinds.length - 1]
  }
}

/** `discograph serve` on the catalog; resolves once /healthz says ready. */
async function startServer(catalog: CachedCatalog): Promise<{ child: ChildProcess; url: string }> {
  if (!fs.existsSync(new URL('../dist/src/cli/main.js', import.meta.url)))
    throw new Error('the CLI is not built: run `npm run build` first (bench:load serves the built CLI)')
  const port = await freePort()
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: catalog.dataDir,
    LOG_LEVEL: 'warn',
    PORT: String(port),
  }
  if (catalog.databaseUrl) env.DATABASE_URL = catalog.databaseUrl
  else delete env.DATABASE_URL
  const child = spawn(process.execPath, [CLI_BUILT, 'serve', '--worker', 'no'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString()
    if (stderr.length > 100_000) stderr = stderr.slice(-50_000)
  })
  const url = `http://127.0.0.1:${port}`
  const end = Date.now() + 300_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`discograph serve exited (${child.exitCode}):\n${stderr}`)
    const ok = await fetch(`${url}/healthz`)
      .then((r) => r.ok)
      .catch(() => false)
    if (ok) return { child, url }
    if (Date.now() > end) throw new Error(`discograph serve not ready after 300 s:\n${stderr}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** The process's resident set in MB (Linux /proc), or NaN once it is gone. */
function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Math.round(Number(m[1]) / 1024) : NaN
  } catch {
    return NaN
  }
}

/** The server's V8 heap in use and its external memory (MB), from its own /metrics (prom-client's defaults). */
async function heapMb(url: string): Promise<{ heap: number; external: number }> {
  const text = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })
    .then((r) => r.text())
    .catch(() => '')
  const metric = (name: string) => {
    const m = new RegExp(`^discograph_${name} (\\S+)$`, 'm').exec(text)
    return m ? Math.round(Number(m[1]) / 2 ** 20) : NaN
  }
  return { heap: metric('nodejs_heap_size_used_bytes'), external: metric('nodejs_external_memory_bytes') }
}

const percentile = (xs: number[], p: number) =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : NaN

interface Outcome {
  latencies: Map<string, number[]>
  graphqlErrors: Map<string, number>
}

/** One autocannon run of the mix; per kind, latencies (ms) and GraphQL error codes from the bodies. */
async function drive(url: string, kinds: Kind[], seconds: number, outcome?: Outcome) {
  const next = weightedPicker(kinds)
  interface Ctx {
    kind?: string
    started?: number
  }
  return autocannon({
    url: `${url}/graphql`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 30,
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (req, context: Ctx) => {
          const kind = next()
          context.kind = kind.name
          context.started = performance.now()
          return { ...req, body: JSON.stringify(kind.body()) }
        },
        onResponse: (status, body, context: Ctx) => {
          if (!outcome) return
          const ms = performance.now() - context.started!
          const list = outcome.latencies.get(context.kind!) ?? []
          list.push(ms)
          outcome.latencies.set(context.kind!, list)
          let codes: string[] = []
          try {
            const parsed = JSON.parse(body) as { errors?: { extensions?: { code?: string } }[] }
            codes = (parsed.errors ?? []).map((e) => e.extensions?.code ?? 'NO_CODE')
          } catch {
            codes = [`UNPARSEABLE_${status}`]
          }
          for (const code of new Set(codes)) {
            const key = `${context.kind} ${code}`
            outcome.graphqlErrors.set(key, (outcome.graphqlErrors.get(key) ?? 0) + 1)
          }
        },
      },
    ],
  })
}

async function main() {
  const started = performance.now()
  let catalog: CachedCatalog
  if (EMBEDDED_DB) catalog = await cachedEmbeddedCatalog(SIZE)
  else {
    const admin = process.env.DATABASE_URL ?? ADMIN_URL
    catalog = await cachedServerCatalog(admin, SIZE)
  }
  if (process.argv.includes('--build-only')) return

  // Inputs are read before the server starts: the embedded database admits one process at a time.
  let inputs: Inputs
  if (catalog.databaseUrl) {
    const c = new pg.Client({ connectionString: catalog.databaseUrl })
    await c.connect()
    inputs = await readInputs(c).finally(() => c.end())
  } else {
    const { openDatabase } = await import('../src/db/database.ts')
    const { loadConfig } = await import('../src/config/config.ts')
    const db = await openDatabase({
      ...loadConfig({ LOG_LEVEL: 'silent' }),
      dataDir: catalog.dataDir,
      databaseUrl: undefined,
    })
    const c = await db.pool.connect()
    inputs = await readInputs(c).finally(() => c.release())
    await db.close()
  }
  const kinds = requestKinds(inputs)

  log(
    `serving ${catalog.databaseUrl ? 'PostgreSQL' : 'the embedded database'}: ${SIZE.releases} releases, ${SIZE.embedded} embedded tracks`,
  )
  const { child, url } = await startServer(catalog)
  try {
    log(`warm-up ${WARMUP} s at ${CONNECTIONS} connections`)
    if (WARMUP) await drive(url, kinds, WARMUP)
    const rss: { t: number; mb: number }[] = []
    const t0 = performance.now()
    const sample = () => rss.push({ t: Math.round((performance.now() - t0) / 1000), mb: rssMb(child.pid!) })
    sample()
    const sampler = setInterval(sample, 1000)
    const heap: { heap: number; external: number }[] = []
    const heapSampler = setInterval(() => void heapMb(url).then((h) => heap.push(h)), 5000)
    const loadBefore = loadavg()
    const outcome: Outcome = { latencies: new Map(), graphqlErrors: new Map() }
    log(`measuring ${SECONDS} s at ${CONNECTIONS} connections`)
    const result = await drive(url, kinds, SECONDS, outcome)
    clearInterval(sampler)
    clearInterval(heapSampler)
    sample()
    const loadAfter = loadavg()
    if (child.exitCode !== null) throw new Error(`the server exited during the run (${child.exitCode})`)

    const graphqlErrors = [...outcome.graphqlErrors.values()].reduce((s, n) => s + n, 0)
    const mbs = rss.map((r) => r.mb)
    const memory = {
      start: mbs[0],
      mid: mbs[Math.floor(mbs.length / 2)],
      end: mbs[mbs.length - 1],
      max: Math.max(...mbs),
    }
    console.log(
      `${SIZE.releases} releases, ${SIZE.embedded} embedded, ${catalog.databaseUrl ? 'PostgreSQL' : 'embedded PGlite'}; ` +
        `${CONNECTIONS} connections × ${SECONDS} s; load average ${loadBefore.join(' ')} → ${loadAfter.join(' ')} (${os.cpus().length} cores)`,
    )
    console.log(
      `all       ${result.requests.average.toFixed(1)} req/s (${result.requests.total} requests), ` +
        `p50 ${result.latency.p50} ms, p97.5 ${result.latency.p97_5} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms`,
    )
    const perKind: Record<string, unknown> = {}
    for (const k of kinds) {
      const xs = outcome.latencies.get(k.name) ?? []
      const f = {
        n: xs.length,
        p50: Math.round(percentile(xs, 50)),
        p95: Math.round(percentile(xs, 95)),
        p99: Math.round(percentile(xs, 99)),
      }
      perKind[k.name] = f
      console.log(
        `${k.name.padEnd(17)} ${String(f.n).padStart(6)} requests  p50 ${f.p50} ms  p95 ${f.p95} ms  p99 ${f.p99} ms`,
      )
    }
    const all = [...outcome.latencies.values()].flat()
    const overall = {
      p50: Math.round(percentile(all, 50)),
      p95: Math.round(percentile(all, 95)),
      p99: Math.round(percentile(all, 99)),
    }
    console.log(`all (measured here) p50 ${overall.p50} ms, p95 ${overall.p95} ms, p99 ${overall.p99} ms`)
    console.log(
      `errors: ${result.errors} transport, ${result.timeouts} timeouts, ${result.non2xx} non-2xx, ${graphqlErrors} with GraphQL errors` +
        (graphqlErrors ? ` (${[...outcome.graphqlErrors].map(([k, n]) => `${k}: ${n}`).join(', ')})` : ''),
    )
    console.log(
      `server RSS: start ${memory.start} MB, mid ${memory.mid} MB, end ${memory.end} MB, max ${memory.max} MB; every 5 s: ${rss
        .filter((r) => r.t % 5 === 0)
        .map((r) => r.mb)
        .join(' ')}`,
    )
    console.log(
      `server V8 heap used every 5 s (MB): ${heap.map((h) => h.heap).join(' ')}; external: ${heap.map((h) => h.external).join(' ')}`,
    )
    console.log(
      JSON.stringify({
        database: catalog.databaseUrl ? 'postgresql' : 'embedded',
        releases: SIZE.releases,
        embedded: SIZE.embedded,
        connections: CONNECTIONS,
        seconds: SECONDS,
        rps: Number(result.requests.average.toFixed(1)),
        requests: result.requests.total,
        ...overall,
        autocannon_p50: result.latency.p50,
        autocannon_p99: result.latency.p99,
        errors: result.errors,
        timeouts: result.timeouts,
        non2xx: result.non2xx,
        graphql_errors: graphqlErrors,
        rss_mb: memory,
        heap_used_mb: heap.map((h) => h.heap),
        per_kind: perKind,
        load_before: loadBefore,
        load_after: loadAfter,
        catalog_build_s: Math.round(catalog.buildSeconds),
        total_s: Math.round((performance.now() - started) / 1000),
      }),
    )
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
  }
}

await main()

/**
 * GraphQL benchmark: `npm run bench:graphql [-- --releases 20000 --seconds 8 --connections 8 --warmup 2]`.
 *
 * Loads a fresh database on the real server (fixture artists, labels and masters, plus a releases dump of N
 * records made by renumbering the fixture releases), starts `discograph serve`'s HTTP server and, in the
 * same process, a minimal raw-SQL HTTP handler answering the same questions through `pg` with hand-written
 * SQL (json_agg, one statement each). autocannon drives each over loopback for a fixed time:
 *   (a) one release by discogsId with artists, labels and tracklist,
 *   (b) a search (the raw side: the repository's search SQL called directly, prepared, no GraphQL),
 *   (c) a 50-release page with artists, labels, styles and tracks.
 * Prints requests/s and p50/p99 latency for both and the GraphQL/raw throughput ratio; ends with one JSON line.
 * A second API server executing with graphql-js instead of graphql-jit is driven too (`graphql-js` column,
 * `*_graphqljs_*` keys), so the executor's effect is measured side by side under the same load: each
 * executor in two halves, A-B-B-A around the raw handler.
 */
import 'reflect-metadata'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import autocannon from 'autocannon'
import { startApiServer } from '../src/api/http-server.ts'
import { encodeCursor } from '../src/api/pagination.ts'
import { SearchService, type SearchType } from '../src/services/search.service.ts'
import { CountingQueryable } from '../src/db/sql.ts'
import { JobQueue } from '../src/jobs/queue.ts'
import { createLogger } from '../src/logger.ts'
import { createServerTestDatabase, tmpDir } from '../test/support/database.ts'
import { loadBenchCatalog } from './support/catalog.ts'

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : def
}
const RELEASES = arg('releases', 20_000)
const SECONDS = arg('seconds', 8)
const CONNECTIONS = arg('connections', 8)
const WARMUP_SECONDS = arg('warmup', 2)
const ALL_TYPES: SearchType[] = ['ARTIST', 'LABEL', 'MASTER', 'RELEASE', 'TRACK']
const SEARCH_TERMS = [
  'stockholm',
  'persuader',
  'love',
  'deep house',
  'remix',
  'night',
  'dub',
  'soul',
  'mix',
  'dreams',
]

const Q_RELEASE = `query($id: Int!) { release(discogsId: $id) { title year artists { name artist { name } } labels { catalogNumber label { name } }
  tracks(first: 100) { edges { node { position title duration } } } } }`
const Q_SEARCH = `query($q: String!) { search(query: $q, first: 10) { edges { score text node { __typename ... on Node { id } } } } }`
const Q_PAGE = `query($after: String) { releases(first: 50, after: $after) { edges { node { title year artists { name } labels { catalogNumber label { name } }
  styles { name } tracks(first: 20) { edges { node { position title duration } } } } } } }`

const RELEASE_JSON = `json_build_object('title', r.title, 'year', r.year,
  'artists', (SELECT coalesce(json_agg(json_build_object('name', a.name, 'artist', CASE WHEN ar.id IS NULL THEN NULL ELSE json_build_object('name', ar.name) END) ORDER BY a.ord), '[]')
              FROM release_artist a LEFT JOIN artist ar ON ar.id = a.artist_id WHERE a.release_id = r.id),
  'labels', (SELECT coalesce(json_agg(json_build_object('catalogNumber', l.catno, 'label', CASE WHEN lb.id IS NULL THEN NULL ELSE json_build_object('name', lb.name) END) ORDER BY l.ord), '[]')
             FROM release_label l LEFT JOIN label lb ON lb.id = l.label_id WHERE l.release_id = r.id),
  %EXTRA%
  'tracks', (SELECT coalesce(json_agg(json_build_object('position', t.position, 'title', t.title, 'duration', t.duration_s) ORDER BY t.sequence), '[]')
             FROM (SELECT * FROM track t WHERE t.release_id = r.id AND t.parent_id IS NULL ORDER BY t.sequence LIMIT %TRACKS%) t))`
const RAW_RELEASE = `SELECT ${RELEASE_JSON.replace('%EXTRA%', '').replace('%TRACKS%', '100')} AS release FROM release r WHERE r.id = $1`
const RAW_PAGE = `SELECT json_agg(x.release ORDER BY x.id) AS releases FROM (
  SELECT r.id, ${RELEASE_JSON.replace('%EXTRA%', `'styles', (SELECT coalesce(json_agg(json_build_object('name', s.style) ORDER BY s.style), '[]') FROM release_style s WHERE s.release_id = r.id),`).replace('%TRACKS%', '20')} AS release
  FROM release r WHERE r.id > $1 ORDER BY r.id LIMIT 50) x`
const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]
const randomId = () => 1 + Math.floor(Math.random() * RELEASES)

interface Figures {
  rps: number
  p50: number
  p99: number
  errors: number
}

async function drive(url: string, body: () => string, seconds = SECONDS): Promise<Figures> {
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }],
  })
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  }
}

/** Two halves of one measurement: mean throughput and median, the worse p99. */
function combine(x: Figures, y: Figures): Figures {
  return {
    rps: Math.round((x.rps + y.rps) / 2),
    p50: (x.p50 + y.p50) / 2,
    p99: Math.max(x.p99, y.p99),
    errors: x.errors + y.errors,
  }
}

const started = performance.now()
const t = await createServerTestDatabase({ dbPoolMax: 10 }) // the server's default pool size
const dumpDir = tmpDir('discograph-bench-graphql-')
try {
  await loadBenchCatalog(t.db, RELEASES, dumpDir)
  const queue = await JobQueue.start(t.db)
  const api = await startApiServer(
    { db: t.db, config: t.config, logger: createLogger('silent'), queue },
    { port: 0, host: '127.0.0.1' },
  )
  const apiJs = await startApiServer(
    { db: t.db, config: t.config, logger: createLogger('silent'), queue, executor: 'graphql-js' },
    { port: 0, host: '127.0.0.1' },
  )

  // The baseline: the same answers through pg with hand-written SQL, no GraphQL, no DataLoader.
  const search = new SearchService(new CountingQueryable(t.db.pool, true))
  const raw = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', async () => {
      const { variables: v } = JSON.parse(Buffer.concat(chunks).toString())
      if (req.url === '/b') {
        // Search has no one-statement form worth comparing (it reads bands until the page is settled):
        // the raw side runs the repository's SQL directly, as many statements as the API's.
        const hits = await search.search(v.q, ALL_TYPES, 11, 0)
        return res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ data: { hits } }))
      }
      const [text, params] =
        req.url === '/a'
          ? [RAW_RELEASE, [v.id]]
          : [RAW_PAGE, [v.after ? Number(Buffer.from(v.after, 'base64url').toString().slice(2)) : 0]]
      const { rows } = await t.db.pool.query(text, params)
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: rows[0] }))
    })
  })
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', () => r()))
  const rawUrl = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`

  const scenarios = {
    a_release: { query: Q_RELEASE, path: '/a', vars: () => ({ id: randomId() }) },
    b_search: { query: Q_SEARCH, path: '/b', vars: () => ({ q: pick(SEARCH_TERMS) }) },
    c_page50: {
      query: Q_PAGE,
      path: '/c',
      vars: () => ({ after: encodeCursor(Math.floor(Math.random() * (RELEASES - 60))) }),
    },
  }
  const figures: Record<
    string,
    { graphql: Figures; raw: Figures; ratio: number; graphqljs: Figures; ratiojs: number }
  > = {}
  const ratio = (a: Figures, b: Figures) => Math.round((a.rps / b.rps) * 100) / 100
  for (const [name, s] of Object.entries(scenarios)) {
    const gqlBody = () => JSON.stringify({ query: s.query, variables: s.vars() })
    const rawBody = () => JSON.stringify({ variables: s.vars() })
    // Whichever side ran first used to pay for cold PostgreSQL buffers and cold code (measured: up to 35 % on
    // (a)); a short unmeasured pass over all three first.
    for (const url of [`${api.url}/graphql`, `${rawUrl}${s.path}`, `${apiJs.url}/graphql`])
      await drive(url, url.endsWith('/graphql') ? gqlBody : rawBody, WARMUP_SECONDS)
    // The two executors in A-B-B-A order around the raw handler: load drifts over a run, and the side
    // measured first had up to 45 % less on (a) in either order.
    const jit1 = await drive(`${api.url}/graphql`, gqlBody, SECONDS / 2)
    const js1 = await drive(`${apiJs.url}/graphql`, gqlBody, SECONDS / 2)
    const rawF = await drive(`${rawUrl}${s.path}`, rawBody)
    const js2 = await drive(`${apiJs.url}/graphql`, gqlBody, SECONDS / 2)
    const jit2 = await drive(`${api.url}/graphql`, gqlBody, SECONDS / 2)
    const graphql = combine(jit1, jit2)
    const graphqljs = combine(js1, js2)
    figures[name] = {
      graphql,
      raw: rawF,
      ratio: ratio(graphql, rawF),
      graphqljs,
      ratiojs: ratio(graphqljs, rawF),
    }
    const errors = graphql.errors + rawF.errors + graphqljs.errors
    console.log(
      `${name.padEnd(10)} graphql ${String(graphql.rps).padStart(6)} req/s p50 ${graphql.p50} ms p99 ${graphql.p99} ms | raw SQL ${String(rawF.rps).padStart(6)} req/s p50 ${rawF.p50} ms p99 ${rawF.p99} ms | ratio ${figures[name].ratio}` +
        ` | graphql-js ${String(graphqljs.rps).padStart(6)} req/s p50 ${graphqljs.p50} ms p99 ${graphqljs.p99} ms, ratio ${figures[name].ratiojs}${errors ? ` (errors: ${graphql.errors}/${rawF.errors}/${graphqljs.errors})` : ''}`,
    )
  }
  await api.close()
  await apiJs.close()
  await queue.stop()
  raw.close()
  console.log(
    JSON.stringify({
      releases: RELEASES,
      connections: CONNECTIONS,
      seconds_each: SECONDS,
      ...Object.fromEntries(
        Object.entries(figures).flatMap(([k, f]) => [
          [`${k}_graphql_rps`, f.graphql.rps],
          [`${k}_raw_rps`, f.raw.rps],
          [`${k}_ratio`, f.ratio],
          [`${k}_graphql_p50_ms`, f.graphql.p50],
          [`${k}_graphql_p99_ms`, f.graphql.p99],
          [`${k}_graphqljs_rps`, f.graphqljs.rps],
          [`${k}_graphqljs_ratio`, f.ratiojs],
        ]),
      ),
      total_s: Math.round((performance.now() - started) / 1000),
    }),
  )
} finally {
  await t.dispose()
  fs.rmSync(dumpDir, { recursive: true, force: true })
}

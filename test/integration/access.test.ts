import fs from 'node:fs'
import path from 'node:path'
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  type GraphQLInputType,
  type GraphQLObjectType,
} from 'graphql'
import { createClient } from 'graphql-ws'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApiServer, type ApiServer } from '../../src/api/http-server.ts'
import { buildSchema } from '../../src/api/schema.ts'
import { importDiscogs } from '../../src/ingest/discogs/import.ts'
import { JobQueue } from '../../src/jobs/queue.ts'
import { createLogger } from '../../src/logger.ts'
import { AuthService, SIGNED_PATH_SECONDS } from '../../src/services/auth.service.ts'
import { FIXTURES, REPO_ROOT } from '../support/cli.ts'
import { createServerTestDatabase, type TestDatabase } from '../support/database.ts'

/**
 * Who may have what, as a table: every route × every kind of caller × every access configuration, over
 * real HTTP (and WebSocket) against served apps on one real PostgreSQL database.
 */

const AUDIO_FILE = path.join(REPO_ROOT, 'test/fixtures/audio/tone-44k-stereo.wav')
const METRICS_TOKEN = 'prometheus-scrapes-with-this-token'
const URL_SECRET = 'a-shared-secret-of-at-least-32-characters'

const CALLERS = ['no key', 'forged key', 'reader key', 'admin key', 'metrics token'] as const
type Caller = (typeof CALLERS)[number]
const MODES = ['public', 'key', 'public, METRICS_TOKEN', 'key, METRICS_TOKEN'] as const
type Mode = (typeof MODES)[number]

/**
 * What each caller gets, in CALLERS order: an HTTP status, a GraphQL error code (HTTP 200 or 400), `data`,
 * `complete` (a subscription that ended without data: the run it watches does not exist, but it was let
 * in) or `closed 4403` (a WebSocket refused at connection).
 */
type Outcome = number | string
const same = (row: Outcome[]): Record<Mode, Outcome[]> => ({
  public: row,
  key: row,
  'public, METRICS_TOKEN': row,
  'key, METRICS_TOKEN': row,
})
const byReadAccess = (pub: Outcome[], key: Outcome[]): Record<Mode, Outcome[]> => ({
  public: pub,
  key,
  'public, METRICS_TOKEN': pub,
  'key, METRICS_TOKEN': key,
})

//                                                   no key              forged        reader         admin   metrics token
const EXPECTED: Record<string, Record<Mode, Outcome[]>> = {
  'POST /graphql, a catalog read': byReadAccess(
    /*                                         */ ['data', 401, 'data', 'data', 401],
    /*                                         */ ['UNAUTHENTICATED', 401, 'data', 'data', 401],
  ),
  'GET /graphql, a catalog read': byReadAccess(
    /*                                         */ ['data', 401, 'data', 'data', 401],
    /*                                         */ ['UNAUTHENTICATED', 401, 'data', 'data', 401],
  ),
  'POST /graphql, jobs': same(['UNAUTHENTICATED', 401, 'FORBIDDEN', 'data', 401]),
  'POST /graphql, one job': same(['UNAUTHENTICATED', 401, 'FORBIDDEN', 'data', 401]),
  'POST /graphql, an admin mutation': same(['UNAUTHENTICATED', 401, 'FORBIDDEN', 'data', 401]),
  'subscription jobProgress': same(['UNAUTHENTICATED', 'closed 4403', 'FORBIDDEN', 'data', 'closed 4403']),
  'subscription trainingCurve': byReadAccess(
    /*                                         */ [
      'complete',
      'closed 4403',
      'complete',
      'complete',
      'closed 4403',
    ],
    /*                                         */ [
      'UNAUTHENTICATED',
      'closed 4403',
      'complete',
      'complete',
      'closed 4403',
    ],
  ),
  'GET /audio/tracks/<id>': byReadAccess(
    /*                                         */ [200, 401, 200, 200, 401],
    /*                                         */ [401, 401, 200, 200, 401],
  ),
  'GET /metrics': {
    public: [200, 200, 200, 200, 200],
    key: [401, 401, 403, 200, 401],
    'public, METRICS_TOKEN': [401, 401, 403, 200, 200],
    'key, METRICS_TOKEN': [401, 401, 403, 200, 200],
  },
  'GET /graphql (GraphiQL page)': same([200, 200, 200, 200, 200]),
  'GET /vendor/graphiql.min.js': same([200, 200, 200, 200, 200]),
  'GET / (web UI)': same([200, 200, 200, 200, 200]),
  'GET /app.js (web UI)': same([200, 200, 200, 200, 200]),
  'GET /healthz': same([200, 200, 200, 200, 200]),
}

describe('access: every route × caller × READ_ACCESS and METRICS_TOKEN', () => {
  let t: TestDatabase
  let queue: JobQueue
  let auth: AuthService
  const servers = {} as Record<Mode, ApiServer>
  const headers = {} as Record<Caller, Record<string, string>>
  let trackId: number
  let jobId: string

  beforeAll(async () => {
    t = await createServerTestDatabase()
    await importDiscogs(t.db, [FIXTURES])
    const { rows } = await t.db.pool.query(
      `SELECT t.id FROM track t WHERE t.release_id = 1 ORDER BY t.id LIMIT 1`,
    )
    trackId = Number(rows[0].id)
    await t.db.pool.query(
      `INSERT INTO audio_file (path, size, mtime_ms, sha256, status, format, n_frames, duration_s, track_id, match_method)
       VALUES ($1, $2, 0, repeat('0', 64), 'ok', 'wav', 150, 1.5, $3, 'manifest')`,
      [AUDIO_FILE, fs.statSync(AUDIO_FILE).size, trackId],
    )
    queue = await JobQueue.start(t.db)
    // a job as an import leaves it: a server path in its payload, its worker's host:pid
    jobId = (await queue.enqueue('import-audio', { dir: '/srv/private/music' }, 'ops')).id
    await t.db.pool.query(`UPDATE job SET worker = 'db-host-7:4242' WHERE id = $1`, [jobId])
    auth = new AuthService(t.db.pool, { publicRead: false, urlSigningSecret: URL_SECRET })
    headers['no key'] = {}
    headers['forged key'] = { authorization: 'Bearer dg_forgedforgedforgedforgedforgedforgedforged' }
    headers['reader key'] = { authorization: `Bearer ${(await auth.createKey('app', 'reader')).key}` }
    headers['admin key'] = { authorization: `Bearer ${(await auth.createKey('ops', 'admin')).key}` }
    headers['metrics token'] = { authorization: `Bearer ${METRICS_TOKEN}` }
    for (const mode of MODES) {
      const config = {
        ...t.config,
        publicRead: mode.startsWith('public'),
        metricsToken: mode.endsWith('METRICS_TOKEN') ? METRICS_TOKEN : undefined,
        urlSigningSecret: URL_SECRET,
      }
      servers[mode] = await startApiServer(
        { db: t.db, config, logger: createLogger('silent'), queue },
        { port: 0, host: '127.0.0.1' },
      )
    }
  }, 120_000)
  afterAll(async () => {
    for (const s of Object.values(servers)) await s.close()
    await queue?.stop()
    await t?.dispose()
  })

  async function gqlOutcome(res: Response): Promise<Outcome> {
    if (res.status !== 200 && res.status !== 400) return res.status
    const body = await res.json()
    return body.errors?.[0]?.extensions?.code ?? (body.data ? 'data' : `no data: ${JSON.stringify(body)}`)
  }

  const post = (
    base: string,
    h: Record<string, string>,
    query: string,
    variables: Record<string, unknown> = {},
  ) =>
    fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...h },
      body: JSON.stringify({ query, variables }),
    })

  function subscribe(
    base: string,
    h: Record<string, string>,
    query: string,
    variables: Record<string, unknown>,
  ): Promise<Outcome> {
    const client = createClient({
      url: base.replace('http', 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      connectionParams: h,
      retryAttempts: 0,
      lazy: true,
    })
    return new Promise<Outcome>((resolve) => {
      client.subscribe(
        { query, variables },
        {
          next: (m) => resolve(m.errors ? (m.errors[0].extensions?.code as string) : 'data'),
          error: (e) =>
            resolve(
              Array.isArray(e)
                ? (e[0].extensions?.code as string)
                : `closed ${(e as { code?: number }).code}`,
            ),
          complete: () => resolve('complete'),
        },
      )
    }).finally(() => client.dispose())
  }

  const status = async (res: Response) => (await res.arrayBuffer(), res.status)

  const ROUTES: Record<string, (base: string, h: Record<string, string>) => Promise<Outcome>> = {
    'POST /graphql, a catalog read': async (base, h) =>
      gqlOutcome(await post(base, h, `{ release(discogsId: 1) { title } }`)),
    'GET /graphql, a catalog read': async (base, h) =>
      gqlOutcome(
        await fetch(`${base}/graphql?query=${encodeURIComponent('{ release(discogsId: 1) { title } }')}`, {
          headers: { 'apollo-require-preflight': 'true', ...h },
        }),
      ),
    'POST /graphql, jobs': async (base, h) =>
      gqlOutcome(
        await post(base, h, `{ jobs(first: 5) { edges { node { id payload worker log { message } } } } }`),
      ),
    'POST /graphql, one job': async (base, h) =>
      gqlOutcome(await post(base, h, `query($id: ID!) { job(id: $id) { payload worker } }`, { id: jobId })),
    'POST /graphql, an admin mutation': async (base, h) =>
      gqlOutcome(await post(base, h, `mutation { embed(model: "random") { id } }`)),
    'subscription jobProgress': (base, h) =>
      subscribe(base, h, `subscription($id: ID!) { jobProgress(id: $id) { state payload } }`, { id: jobId }),
    'subscription trainingCurve': (base, h) =>
      subscribe(base, h, `subscription { trainingCurve(idOrName: "no-such-run") { step } }`, {}),
    'GET /audio/tracks/<id>': async (base, h) =>
      status(await fetch(`${base}/audio/tracks/${trackId}`, { headers: h })),
    'GET /metrics': async (base, h) => status(await fetch(`${base}/metrics`, { headers: h })),
    'GET /graphql (GraphiQL page)': async (base, h) =>
      status(await fetch(`${base}/graphql`, { headers: { accept: 'text/html', ...h } })),
    'GET /vendor/graphiql.min.js': async (base, h) =>
      status(await fetch(`${base}/vendor/graphiql.min.js`, { headers: h })),
    'GET / (web UI)': async (base, h) => status(await fetch(`${base}/`, { headers: h })),
    'GET /app.js (web UI)': async (base, h) => status(await fetch(`${base}/app.js`, { headers: h })),
    'GET /healthz': async (base, h) => status(await fetch(`${base}/healthz`, { headers: h })),
  }

  it('answers each caller as the table says', async () => {
    expect(Object.keys(ROUTES).sort()).toEqual(Object.keys(EXPECTED).sort())
    const got: Record<string, Record<Mode, Outcome[]>> = {}
    for (const [route, run] of Object.entries(ROUTES)) {
      got[route] = {} as Record<Mode, Outcome[]>
      for (const mode of MODES) {
        got[route][mode] = []
        for (const caller of CALLERS) got[route][mode].push(await run(servers[mode].url, headers[caller]))
      }
    }
    // one comparison of the whole table, so a failure shows every cell that differs at once
    expect(got).toEqual(EXPECTED)
  })

  /** Root fields only admin keys may have; every other root field is a read. */
  const ADMIN_ONLY = ['Query.jobs', 'Query.job', 'Subscription.jobProgress', 'Mutation.*']
  /** what a key owns (playlists) needs a key of any role, even where reading is public */
  const KEY_HOLDER = ['Query.playlists', 'Mutation.saveMix']

  /** A value of `type` the schema accepts (required input fields only), for calling a field without caring what it answers. */
  function sample(type: GraphQLInputType): unknown {
    if (isNonNullType(type)) return sample(type.ofType)
    if (isListType(type)) return [sample(type.ofType)]
    if (isInputObjectType(type))
      return Object.fromEntries(
        Object.values(type.getFields())
          .filter((f) => isNonNullType(f.type))
          .map((f) => [f.name, sample(f.type)]),
      )
    if (isEnumType(type)) return type.getValues()[0].name // as a client sends it (the value is the internal word)
    return (
      ({ Int: 1, Float: 1, Boolean: true, JSON: {} } as Record<string, unknown>)[type.name] ??
      '00000000-0000-0000-0000-000000000000'
    )
  }

  it('checks every root field of the schema, so a new field cannot forget its check', async () => {
    const schema = buildSchema()
    const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter(
      Boolean,
    ) as GraphQLObjectType[]
    const refusals: string[] = []
    let fields = 0
    for (const root of roots) {
      for (const field of Object.values(root.getFields())) {
        fields++
        const name = `${root.name}.${field.name}`
        const required = field.args.filter((a) => isNonNullType(a.type))
        const vars = required.map((a, i) => `$a${i}: ${a.type}`).join(', ')
        const selection = isLeafType(getNamedType(field.type)) ? '' : ' { __typename }'
        const call = `${root.name.toLowerCase()}${vars ? `(${vars})` : ''} { ${field.name}${required.length ? `(${required.map((a, i) => `${a.name}: $a${i}`).join(', ')})` : ''}${selection} }`
        const variables = Object.fromEntries(required.map((a, i) => [`a${i}`, sample(a.type)]))
        const keyHolder = KEY_HOLDER.includes(name)
        const adminOnly = !keyHolder && (ADMIN_ONLY.includes(name) || ADMIN_ONLY.includes(`${root.name}.*`))
        for (const [mode, caller, expected] of [
          ['key', 'no key', 'UNAUTHENTICATED'],
          ['public', 'no key', adminOnly || keyHolder ? 'UNAUTHENTICATED' : 'let in'],
          ['key', 'reader key', adminOnly ? 'FORBIDDEN' : 'let in'],
          ['public', 'reader key', adminOnly ? 'FORBIDDEN' : 'let in'],
        ] as const) {
          const base = servers[mode].url
          const outcome =
            root.name === 'Subscription'
              ? await subscribe(base, headers[caller], call, variables)
              : await gqlOutcome(await post(base, headers[caller], call, variables))
          const got = outcome === 'UNAUTHENTICATED' || outcome === 'FORBIDDEN' ? outcome : 'let in'
          if (got !== expected)
            refusals.push(`${name}, READ_ACCESS=${mode}, ${caller}: ${outcome}, expected ${expected}`)
        }
      }
    }
    expect(fields).toBeGreaterThan(30)
    expect(refusals).toEqual([])
  })

  it('refuses with 401 and a Bearer challenge, or 403 naming the role, in the GraphQL error shape', async () => {
    const anon = await fetch(`${servers.key.url}/audio/tracks/${trackId}`)
    expect(anon.status).toBe(401)
    expect(anon.headers.get('www-authenticate')).toBe('Bearer')
    expect((await anon.json()).errors[0]).toMatchObject({
      extensions: { code: 'UNAUTHENTICATED' },
      message: expect.stringMatching(/READ_ACCESS=key/),
    })
    const reader = await fetch(`${servers.key.url}/metrics`, { headers: headers['reader key'] })
    expect((await reader.json()).errors[0]).toMatchObject({
      extensions: { code: 'FORBIDDEN' },
      message: expect.stringMatching(/app is a reader key/),
    })
  })

  it('streams the file itself, seekable, to whoever may read', async () => {
    const whole = await fetch(`${servers.key.url}/audio/tracks/${trackId}`, {
      headers: headers['reader key'],
    })
    expect(Buffer.from(await whole.arrayBuffer()).equals(fs.readFileSync(AUDIO_FILE))).toBe(true)
    expect(whole.headers.get('cache-control')).toMatch(/^private/)
    const part = await fetch(`${servers.key.url}/audio/tracks/${trackId}`, {
      headers: { ...headers['reader key'], range: 'bytes=0-99' },
    })
    expect(part.status).toBe(206)
    expect((await part.arrayBuffer()).byteLength).toBe(100)
    // past the end: 416 with the size; a cached copy revalidated by its ETag: 304, no body
    const size = fs.statSync(AUDIO_FILE).size
    const past = await fetch(`${servers.key.url}/audio/tracks/${trackId}`, {
      headers: { ...headers['reader key'], range: `bytes=${size}-` },
    })
    expect(past.status).toBe(416)
    expect(past.headers.get('content-range')).toBe(`bytes */${size}`)
    const etag = whole.headers.get('etag')
    expect(etag).toBeTruthy()
    const again = await fetch(`${servers.key.url}/audio/tracks/${trackId}`, {
      // as a browser revalidates (fetch itself would add no-cache to a conditional request, refusing a 304)
      headers: { ...headers['reader key'], 'if-none-match': etag!, 'cache-control': 'max-age=0' },
    })
    expect(again.status).toBe(304)
    expect(
      (await fetch(`${servers.key.url}/audio/tracks/999999999`, { headers: headers['reader key'] })).status,
    ).toBe(404)
    // the key as x-api-key, as GraphQL takes it
    expect(
      (
        await fetch(`${servers.key.url}/audio/tracks/${trackId}`, {
          headers: { 'x-api-key': headers['reader key'].authorization.slice(7) },
        })
      ).status,
    ).toBe(200)
  })

  describe('audio URLs for <audio src>, which sends no headers', () => {
    const audioUrl = async (mode: Mode, h: Record<string, string>) => {
      const res = await post(
        servers[mode].url,
        h,
        `{ release(discogsId: 1) { tracks { edges { node { audio { url } } } } } }`,
      )
      const body = await res.json()
      return body.data.release.tracks.edges
        .map((e: { node: { audio: { url: string } | null } }) => e.node.audio?.url)
        .find(Boolean) as string
    }

    it('are plain paths when reading is public, and signed for the key that asked when it is not', async () => {
      expect(await audioUrl('public', {})).toBe(`/audio/tracks/${trackId}`)
      const signed = await audioUrl('key', headers['reader key'])
      expect(signed).toMatch(new RegExp(`^/audio/tracks/${trackId}\\?token=\\d+\\.\\d+\\.[A-Za-z0-9_-]{43}$`))
      const expiresAt = Number(/token=(\d+)/.exec(signed)![1])
      expect(expiresAt - Date.now() / 1000).toBeGreaterThan(SIGNED_PATH_SECONDS - 60)
      expect(expiresAt - Date.now() / 1000).toBeLessThanOrEqual(SIGNED_PATH_SECONDS)
      const res = await fetch(`${servers.key.url}${signed}`, { headers: { range: 'bytes=10-19' } })
      expect(res.status).toBe(206)
      expect(Buffer.from(await res.arrayBuffer()).equals(fs.readFileSync(AUDIO_FILE).subarray(10, 20))).toBe(
        true,
      )
    })

    it('open one path only, until they expire, while their key lives', async () => {
      const signed = await audioUrl('key', headers['reader key'])
      const token = new URL(signed, 'http://x').searchParams.get('token')!
      const base = servers.key.url
      expect((await fetch(`${base}/audio/tracks/${trackId + 1}?token=${token}`)).status).toBe(401)
      expect((await fetch(`${base}/metrics?token=${token}`)).status).toBe(401)
      const tampered = token.replace(/^(\d+)/, (s) => String(Number(s) + 3600))
      expect((await fetch(`${base}/audio/tracks/${trackId}?token=${tampered}`)).status).toBe(401)
      const keyId = Number(token.split('.')[1])
      const expired = auth.signedUrl(
        `/audio/tracks/${trackId}`,
        { role: 'reader', keyId },
        Math.floor(Date.now() / 1000) - SIGNED_PATH_SECONDS - 1,
      )
      const refused = await fetch(`${base}${expired}`)
      expect(refused.status).toBe(401)
      expect((await refused.json()).errors[0].message).toMatch(/expired/)
      // another server sharing URL_SIGNING_SECRET takes it
      expect((await fetch(`${servers['key, METRICS_TOKEN'].url}${signed}`)).status).toBe(200)

      const { key, row } = await auth.createKey('soon-revoked', 'reader')
      const revocable = await audioUrl('key', { authorization: `Bearer ${key}` })
      expect((await fetch(`${base}${revocable}`)).status).toBe(200)
      await auth.revokeKey(row.id)
      expect((await fetch(`${base}${revocable}`)).status).toBe(401)
    })

    it('never take the API key itself in the URL', async () => {
      const key = headers['reader key'].authorization.slice(7)
      expect((await fetch(`${servers.key.url}/audio/tracks/${trackId}?key=${key}`)).status).toBe(401)
      expect((await fetch(`${servers.key.url}/audio/tracks/${trackId}?token=${key}`)).status).toBe(401)
    })
  })

  it('GraphiQL’s page names nothing of the catalog when reading needs a key', async () => {
    const page = async (mode: Mode) => (await fetch(`${servers[mode].url}/graphiql`)).text()
    expect(await page('public')).toContain('release(discogsId: 1)')
    const keyOnly = await page('key')
    expect(keyOnly).toContain('Reading needs an API key here')
    expect(keyOnly).not.toMatch(/discogsId|Stockholm|Persuader/) // the fixture's release 1, by The Persuader
  })

  it('admin keys see the jobs readers may not: payload paths, log lines, worker host:pid', async () => {
    const res = await post(
      servers.key.url,
      headers['admin key'],
      `query($id: ID!) { job(id: $id) { payload worker } }`,
      { id: jobId },
    )
    expect((await res.json()).data.job).toEqual({
      payload: { dir: '/srv/private/music' },
      worker: 'db-host-7:4242',
    })
  })
})

import { afterAll, beforeAll, expect } from 'vitest'
import type { Config } from '../../src/config/config.ts'
import { startApiServer, type ApiDeps, type ApiServer } from '../../src/api/http-server.ts'
import { JobQueue } from '../../src/jobs/queue.ts'
import { importDiscogs } from '../../src/ingest/discogs/import.ts'
import { createLogger } from '../../src/logger.ts'
import { FIXTURES } from './cli.ts'
import type { TestDatabase } from './database.ts'

export interface GqlResponse {
  status: number
  headers: Headers
  body: {
    // tests read whatever shape the query asked for
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    data?: any
    errors?: { message: string; path?: string[]; extensions?: { code?: string; [k: string]: unknown } }[]
  }
}

export interface TestApi {
  url: string
  server: ApiServer
  gql(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GqlResponse>
  /** The `data` of a query that must succeed (the test fails with the errors otherwise). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data(query: string, variables?: Record<string, unknown>): Promise<any>
  close(): Promise<void>
}

/** The real API server (HTTP on a free loopback port) over a test database. */
export async function startTestApi(
  t: TestDatabase,
  overrides: Partial<Config> = {},
  deps: Pick<ApiDeps, 'mapOptions'> = {},
): Promise<TestApi> {
  const config = { ...t.config, ...overrides }
  const queue = await JobQueue.start(t.db)
  const server = await startApiServer(
    {
      db: t.db,
      config,
      logger: createLogger((process.env.TEST_LOG_LEVEL as 'silent') ?? 'silent'),
      queue,
      ...deps,
    },
    { port: 0, host: '127.0.0.1' },
  )
  const api: TestApi = {
    url: server.url,
    server,
    async gql(query, variables = {}, headers = {}) {
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      })
      return { status: res.status, headers: res.headers, body: await res.json() }
    },
    async data(query, variables) {
      const r = await api.gql(query, variables)
      expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined()
      return r.body.data
    },
    async close() {
      await server.close()
      await queue.stop()
    },
  }
  return api
}

/**
 * For one describe block: a test database (`create`) with the fixture dumps imported and the API over it,
 * set up before its tests and closed after them. `t` and `api` are there once the block's tests run.
 */
export function useFixtureApi(
  create: () => Promise<TestDatabase>,
  overrides: (t: TestDatabase) => Partial<Config> = () => ({}),
): { readonly t: TestDatabase; readonly api: TestApi } {
  const fixture = {} as { t: TestDatabase; api: TestApi }
  beforeAll(async () => {
    fixture.t = await create()
    await importDiscogs(fixture.t.db, [FIXTURES])
    fixture.api = await startTestApi(fixture.t, overrides(fixture.t))
  }, 120_000)
  afterAll(async () => {
    await fixture.api?.close()
    await fixture.t?.dispose()
  })
  return fixture
}

import 'reflect-metadata'
import { createClient } from 'graphql-ws'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jobHandlers } from '../../src/jobs/handlers/index.ts'
import { JobQueue } from '../../src/jobs/queue.ts'
import { JobWorker } from '../../src/jobs/worker.ts'
import { createLogger } from '../../src/logger.ts'
import { AuthService } from '../../src/services/auth.service.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { FIXTURES } from '../support/cli.ts'
import { createServerTestDatabase, type TestDatabase } from '../support/database.ts'

/** The admin API end to end: a mutation queues a real import, a worker runs it, a subscription watches it. */
describe('jobs over GraphQL: admin mutations, a worker, graphql-ws subscriptions', () => {
  let t: TestDatabase
  let api: TestApi
  let queue: JobQueue
  let worker: JobWorker
  let admin: string

  beforeAll(async () => {
    t = await createServerTestDatabase()
    api = await startTestApi(t)
    queue = await JobQueue.start(t.db)
    worker = new JobWorker(
      queue,
      { db: t.db, config: t.config, logger: createLogger('silent') },
      { handlers: jobHandlers, names: ['import-discogs'], heartbeatSeconds: 1 },
    )
    await worker.start()
    admin = (await new AuthService(t.db.pool, { publicRead: true }).createKey('jobs-admin', 'admin')).key
  }, 120_000)
  afterAll(async () => {
    await worker?.stop()
    await queue?.stop()
    await api?.close()
    await t?.dispose()
  })

  it('queues importDiscogs with an admin key and streams its progress to the end', async () => {
    const queued = await api.gql(
      `mutation($files: [String!]!) { importDiscogs(files: $files) { id state name createdBy } }`,
      { files: [FIXTURES] },
      { authorization: `Bearer ${admin}` },
    )
    expect(queued.body.errors).toBeUndefined()
    const job = queued.body.data.importDiscogs
    expect(job).toMatchObject({ state: 'queued', name: 'import-discogs', createdBy: 'jobs-admin' })

    const client = createClient({
      url: api.url.replace('http', 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${admin}` },
    })
    const seen: { state: string; progress: number | null }[] = []
    try {
      await new Promise<void>((resolve, reject) => {
        client.subscribe<{ jobProgress: { state: string; progress: number | null } }>(
          {
            query: `subscription($id: ID!) { jobProgress(id: $id) { state progress message } }`,
            variables: { id: job.id },
          },
          {
            next: (m) =>
              m.errors ? reject(new Error(JSON.stringify(m.errors))) : seen.push(m.data!.jobProgress),
            error: reject,
            complete: resolve,
          },
        )
      })
    } finally {
      await client.dispose()
    }
    expect(seen.at(-1)!.state).toBe('succeeded')
    expect(seen.some((s) => s.state === 'running')).toBe(true)
    const progress = seen.map((s) => s.progress ?? 0)
    expect([...progress].sort((a, b) => a - b)).toEqual(progress)

    const r = await api.gql(
      `query($id: ID!) { job(id: $id) { state rate rateUnit result log { message } } release(discogsId: 1) { title } }`,
      { id: job.id },
      { authorization: `Bearer ${admin}` },
    )
    expect(r.body.errors).toBeUndefined()
    const d = r.body.data
    expect(d.job.state).toBe('succeeded')
    expect(d.job.log.length).toBeGreaterThan(0)
    // the import service's rate, as the CLI's bar shows it
    expect(d.job.rateUnit).toBe('records/s')
    expect(d.job.rate).toBeGreaterThan(0)
    expect(d.release.title).toBe('Stockholm')
  })

  it('refuses subscriptions with a revoked key', async () => {
    const auth = new AuthService(t.db.pool, { publicRead: true })
    const { key, row } = await auth.createKey('soon-revoked', 'reader')
    await auth.revokeKey(row.id)
    const client = createClient({
      url: api.url.replace('http', 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key}` },
      retryAttempts: 0,
    })
    const outcome = await new Promise<string>((resolve) => {
      client.subscribe(
        { query: `subscription { jobProgress(id: "00000000-0000-0000-0000-000000000000") { state } }` },
        {
          next: () => resolve('data'),
          error: (e) => resolve(String((e as Error).message ?? e)),
          complete: () => resolve('complete'),
        },
      )
    })
    await client.dispose()
    expect(outcome).not.toBe('data')
  })
})

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
    expect(job).toMatchObject({ state: 'QUEUED', name: 'import-discogs', createdBy: 'jobs-admin' })

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
    expect(seen.at(-1)!.state).toBe('SUCCEEDED')
    expect(seen.some((s) => s.state === 'RUNNING')).toBe(true)
    const progress = seen.map((s) => s.progress ?? 0)
    expect([...progress].sort((a, b) => a - b)).toEqual(progress)

    const r = await api.gql(
      `query($id: ID!) { job(id: $id) { state rate rateUnit result log { message } } release(discogsId: 1) { title } }`,
      { id: job.id },
      { authorization: `Bearer ${admin}` },
    )
    expect(r.body.errors).toBeUndefined()
    const d = r.body.data
    expect(d.job.state).toBe('SUCCEEDED')
    expect(d.job.log.length).toBeGreaterThan(0)
    // the import service's rate, as the CLI's bar shows it
    expect(d.job.rateUnit).toBe('records/s')
    expect(d.job.rate).toBeGreaterThan(0)
    expect(d.release.title).toBe('Stockholm')
  })

  it('queues startTraining with enum options as the config the run reads; jobs filters by state', async () => {
    const admin_ = { authorization: `Bearer ${admin}` }
    const start = (input: string) =>
      api.gql(`mutation { startTraining(input: ${input}) { id state name payload } }`, {}, admin_)
    const queued = await start(`{ association: ARTIST, size: TINY, steps: 40, name: "typed", seed: null }`)
    expect(queued.body.errors).toBeUndefined()
    const job = queued.body.data.startTraining
    // the enums arrive as the training config's own words; an option sent as null is not given
    expect(job).toMatchObject({
      state: 'QUEUED',
      name: 'train',
      payload: { config: { association: 'artist', size: 'tiny', steps: 40 }, name: 'typed' },
    })
    expect(Object.keys(job.payload.config).sort()).toEqual(['association', 'size', 'steps'])

    // a word outside the enum is refused by GraphQL; a value out of the config's bounds by the job's schema
    const song = await start(`{ association: SONG }`)
    expect(song.body.errors?.[0].message).toMatch(/TrainingAssociation/)
    const lower = await start(`{ association: track }`)
    expect(lower.body.errors?.[0].message).toMatch(/TrainingAssociation/)
    const tiny = await start(`{ association: TRACK, batchSize: 1 }`)
    expect(tiny.body.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/^payload: config\.batchSize: /),
      extensions: { code: 'BAD_USER_INPUT' },
    })

    const list = await api.gql(
      `query { jobs(first: 100, state: QUEUED) { edges { node { id state } } } }`,
      {},
      admin_,
    )
    expect(list.body.errors).toBeUndefined()
    const nodes = list.body.data.jobs.edges.map((e: { node: { id: string; state: string } }) => e.node)
    expect(nodes).toContainEqual({ id: job.id, state: 'QUEUED' })
    expect(nodes.every((n: { state: string }) => n.state === 'QUEUED')).toBe(true)
    const cancelled = await api.gql(
      `mutation($id: ID!) { cancelJob(id: $id) { state } }`,
      { id: job.id },
      admin_,
    )
    expect(cancelled.body.data.cancelJob.state).toBe('CANCELLED')
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

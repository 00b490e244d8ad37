import { createClient, type Client } from 'graphql-ws'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import crypto from 'node:crypto'
import { JOB_CHANNEL, ListenChangeFeed, TRAINING_RUN_CHANNEL } from '../../src/db/change-feed.ts'
import { TrainingRunRepository } from '../../src/db/repositories/training-run.repository.ts'
import { JobQueue } from '../../src/jobs/queue.ts'
import { AuthService } from '../../src/services/auth.service.ts'
import { startApiServer, type ApiServer } from '../../src/api/http-server.ts'
import { createLogger } from '../../src/logger.ts'
import {
  createEmbeddedTestDatabase,
  createServerTestDatabase,
  type TestDatabase,
} from '../support/database.ts'

/** Subscriptions on a server learn of job and training-run changes by LISTEN/NOTIFY, on one connection, not by polling. */
describe('job and training-run subscriptions by LISTEN/NOTIFY', () => {
  let t: TestDatabase
  let api: ApiServer
  let queue: JobQueue
  let served: JobQueue
  let admin: string
  /** Reads of a job by the API's subscriptions (the server's own queue, counted). */
  let reads = 0

  beforeAll(async () => {
    t = await createServerTestDatabase()
    queue = await JobQueue.start(t.db)
    served = await JobQueue.start(t.db)
    const get = served.jobs.get.bind(served.jobs)
    served.jobs.get = (id) => (reads++, get(id))
    api = await startApiServer(
      { db: t.db, config: t.config, logger: createLogger('silent'), queue: served },
      { port: 0, host: '127.0.0.1' },
    )
    admin = (await new AuthService(t.db.pool, { publicRead: true }).createKey('ops', 'admin')).key
  })
  afterAll(async () => {
    await api?.close()
    await served?.stop()
    await queue?.stop()
    await t?.dispose()
  })

  const listeners = async () =>
    (
      await t.db.pool.query(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`,
      )
    ).rows.map((r) => r.pid as number)

  it('wakes a watcher at each write of the job or training run that subscribers show (and not at another job’s)', async () => {
    const feed = new ListenChangeFeed(t.db.pool.options)
    try {
      await feed.ready(JOB_CHANNEL)
      const job = await queue.enqueue('embed', { model: 'm' })
      const other = await queue.enqueue('embed', { model: 'other' })
      const writes: [string, () => Promise<unknown>][] = [
        ['markRunning', () => queue.jobs.markRunning(job.id, 'host:1')],
        ['progress', () => queue.jobs.progress(job.id, { progress: 0.5 })],
        ['appendLog', () => queue.jobs.appendLog(job.id, 'info', 'half way')],
        ['finish', () => queue.jobs.finish(job.id, 'succeeded', { result: {} })],
        ['requeue', () => queue.jobs.requeue(job.id, async () => {})],
        ['requestCancel', () => queue.jobs.requestCancel(job.id, async () => {})],
      ]
      const runs = new TrainingRunRepository(t.db.pool)
      const run = crypto.randomUUID()
      await runs.create({
        id: run,
        name: 'woken',
        association: 'track',
        config: {},
        totalSteps: 3,
        checkpointDir: '/tmp/none',
      })
      const runWrites: [string, () => Promise<unknown>][] = [
        ['start', () => runs.start(run, 'cpu')],
        ['checkpoint', () => runs.checkpoint(run, 1, [{ step: 1, epoch: 0, at: new Date().toISOString() }])],
        ['truncateHistory', () => runs.truncateHistory(run, 0)],
        ['finish', () => runs.finish(run, 'failed', { error: 'x' })],
      ]
      await feed.ready(TRAINING_RUN_CHANNEL)
      for (const [name, write] of runWrites) {
        const wait = feed.watch(TRAINING_RUN_CHANNEL, run)
        const started = performance.now()
        await write()
        await wait.next(10_000)
        expect(performance.now() - started, name).toBeLessThan(2000)
        wait.close()
      }
      for (const [name, write] of writes) {
        const wait = feed.watch(JOB_CHANNEL, job.id)
        // another job's change does not wake it: the wait runs out (100 ms)
        await queue.jobs.progress(other.id, { progress: 0.1 })
        let started = performance.now()
        await wait.next(100)
        expect(performance.now() - started, `${name}: woken by another job`).toBeGreaterThanOrEqual(95)
        started = performance.now()
        await write()
        await wait.next(10_000)
        expect(performance.now() - started, name).toBeLessThan(2000)
        wait.close()
      }
    } finally {
      await feed.close()
    }
  })

  function subscribe(
    client: Client,
    id: string,
    seen: { progress: number | null; at: number }[],
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      client.subscribe<{ jobProgress: { progress: number | null } }>(
        { query: `subscription($id: ID!) { jobProgress(id: $id) { state progress } }`, variables: { id } },
        {
          next: (m) =>
            m.errors
              ? reject(new Error(JSON.stringify(m.errors)))
              : seen.push({ progress: m.data!.jobProgress.progress, at: performance.now() }),
          error: reject,
          complete: resolve,
        },
      )
    })
  }

  const until = async (ok: () => boolean, ms: number) => {
    const end = performance.now() + ms
    while (!ok()) {
      if (performance.now() > end) throw new Error(`not within ${ms} ms`)
      await new Promise((r) => setTimeout(r, 10))
    }
  }

  it('pushes each change to every subscriber at once, over one LISTEN connection, and survives losing it', async () => {
    const job = await queue.enqueue('embed', { model: 'watched' })
    const client = createClient({
      url: api.url.replace('http', 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${admin}` },
    })
    const seen = Array.from({ length: 12 }, () => [] as { progress: number | null; at: number }[])
    const ended = seen.map((s) => subscribe(client, job.id, s))
    try {
      await until(() => seen.every((s) => s.length === 1), 10_000)
      // each subscriber's first answer is read before the feed's LISTEN is issued, which on a busy machine
      // can come later: wait for it, then there must be exactly one for all twelve
      for (const end = performance.now() + 10_000; (await listeners()).length === 0;) {
        if (performance.now() > end) break
        await new Promise((r) => setTimeout(r, 20))
      }
      expect(await listeners()).toHaveLength(1)
      // idle, nobody reads (polling every 500 ms would have read 12 times a turn)
      await new Promise((r) => setTimeout(r, 300))
      const idleFrom = reads
      await new Promise((r) => setTimeout(r, 1500))
      expect(reads - idleFrom).toBe(0)

      // Between writes the subscriptions wait on the feed, whose fallback read comes after 5 s: an update
      // within 2 s of its write came by NOTIFY.
      for (const [i, fraction] of [0.25, 0.5].entries()) {
        await new Promise((r) => setTimeout(r, 300))
        const written = performance.now()
        await queue.jobs.progress(job.id, { progress: fraction })
        await until(() => seen.every((s) => s.length === i + 2), 2000)
        for (const s of seen) expect(s.at(-1)!.progress).toBe(fraction)
        expect(Math.max(...seen.map((s) => s.at(-1)!.at - written))).toBeLessThan(2000)
      }

      // the listening connection dies; the subscriptions read again, listen again and go on
      const [pid] = await listeners()
      await t.db.pool.query(`SELECT pg_terminate_backend($1)`, [pid])
      const again = async () => (await listeners()).filter((p) => p !== pid)
      const end = performance.now() + 5000
      while ((await again()).length !== 1 && performance.now() < end)
        await new Promise((r) => setTimeout(r, 50))
      expect(await again()).toHaveLength(1)
      const written = performance.now()
      await queue.jobs.finish(job.id, 'succeeded', { result: {} })
      await Promise.all(ended)
      for (const s of seen) expect(s.at(-1)!.progress).toBe(1)
      expect(performance.now() - written).toBeLessThan(2000)
    } finally {
      await client.dispose()
    }
  })

  it('forgets a subscriber as soon as it leaves: a later change reads nothing', async () => {
    const job = await queue.enqueue('embed', { model: 'left' })
    const client = createClient({
      url: api.url.replace('http', 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${admin}` },
    })
    const seen: { progress: number | null; at: number }[] = []
    void subscribe(client, job.id, seen).catch(() => {})
    await until(() => seen.length === 1, 10_000)
    await client.dispose()
    await new Promise((r) => setTimeout(r, 300))
    const before = reads
    await queue.jobs.progress(job.id, { progress: 0.9 })
    await new Promise((r) => setTimeout(r, 500))
    expect(reads - before).toBe(0)
  })

  it('pushes a training run’s curve as it grows, asked for by name, without reading in between', async () => {
    const runs = new TrainingRunRepository(t.db.pool)
    const id = crypto.randomUUID()
    await runs.create({
      id,
      name: 'curve-watched',
      association: 'track',
      config: {},
      totalSteps: 3,
      checkpointDir: '/tmp/none',
    })
    let runReads = 0
    const get = TrainingRunRepository.prototype.get
    TrainingRunRepository.prototype.get = function (this: TrainingRunRepository, idOrName: string) {
      runReads++
      return get.call(this, idOrName)
    }
    const client = createClient({ url: api.url.replace('http', 'ws') + '/graphql', webSocketImpl: WebSocket })
    const steps: { status: string; step: number; points: number }[] = []
    try {
      const ended = new Promise<void>((resolve, reject) => {
        client.subscribe<{ trainingCurve: { status: string; step: number; history: unknown[] } }>(
          {
            query: `subscription { trainingCurve(idOrName: "curve-watched") { status step history { step } } }`,
          },
          {
            next: (m) =>
              m.errors
                ? reject(new Error(JSON.stringify(m.errors)))
                : steps.push({
                    status: m.data!.trainingCurve.status,
                    step: m.data!.trainingCurve.step,
                    points: m.data!.trainingCurve.history.length,
                  }),
            error: reject,
            complete: resolve,
          },
        )
      })
      await until(() => steps.length === 1, 10_000)
      await new Promise((r) => setTimeout(r, 300))
      const idleFrom = runReads
      await new Promise((r) => setTimeout(r, 1500))
      expect(runReads - idleFrom).toBe(0)
      await runs.start(id, 'cpu')
      await until(() => steps.at(-1)!.status === 'running', 2000)
      for (const step of [1, 2]) {
        await runs.checkpoint(id, step, [{ step, epoch: 0, loss: 1 / step, at: new Date().toISOString() }])
        await until(() => steps.at(-1)!.step === step, 2000)
      }
      await runs.finish(id, 'succeeded', { metrics: {} })
      await ended
      expect(steps).toEqual([
        { status: 'created', step: 0, points: 0 },
        { status: 'running', step: 0, points: 0 },
        { status: 'running', step: 1, points: 1 },
        { status: 'running', step: 2, points: 2 },
        { status: 'succeeded', step: 2, points: 2 },
      ])
    } finally {
      TrainingRunRepository.prototype.get = get
      await client.dispose()
    }
  })
})

describe('job subscriptions on the embedded database (no notifications: polling)', () => {
  it('writes jobs through the notifying statements and still pushes their changes', async () => {
    const t = await createEmbeddedTestDatabase()
    const queue = await JobQueue.start(t.db)
    const api = await startApiServer(
      { db: t.db, config: t.config, logger: createLogger('silent'), queue },
      { port: 0, host: '127.0.0.1' },
    )
    const admin = (await new AuthService(t.db.pool, { publicRead: true }).createKey('ops', 'admin')).key
    const client = createClient({
      url: api.url.replace('http', 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${admin}` },
    })
    try {
      const job = await queue.enqueue('embed', { model: 'embedded' })
      const seen: (number | null)[] = []
      const ended = new Promise<void>((resolve, reject) => {
        client.subscribe<{ jobProgress: { progress: number | null } }>(
          {
            query: `subscription($id: ID!) { jobProgress(id: $id) { progress } }`,
            variables: { id: job.id },
          },
          {
            next: (m) =>
              m.errors
                ? reject(new Error(JSON.stringify(m.errors)))
                : seen.push(m.data!.jobProgress.progress),
            error: reject,
            complete: resolve,
          },
        )
      })
      expect(await queue.jobs.markRunning(job.id, 'host:1')).toBe(true)
      await queue.jobs.progress(job.id, { progress: 0.5 })
      await queue.jobs.appendLog(job.id, 'info', 'half way')
      await new Promise((r) => setTimeout(r, 1200))
      await queue.jobs.finish(job.id, 'succeeded', { result: {} })
      await ended
      expect(seen).toContain(0.5)
      expect(seen.at(-1)).toBe(1)
      expect((await queue.get(job.id)).log.map((l) => l.message)).toEqual(['half way'])
    } finally {
      await client.dispose()
      await api.close()
      await queue.stop()
      await t.dispose()
    }
  })
})

import { createClient, type Client } from 'graphql-ws'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { JOB_CHANNEL, ListenChangeFeed } from '../../src/db/change-feed.ts'
import { JobQueue } from '../../src/jobs/queue.ts'
import { AuthService } from '../../src/services/auth.service.ts'
import { startApiServer, type ApiServer } from '../../src/api/http-server.ts'
import { createLogger } from '../../src/logger.ts'
import { createServerTestDatabase, type TestDatabase } from '../support/database.ts'

/** Subscriptions on a server learn of job changes by LISTEN/NOTIFY, on one connection, not by polling. */
describe('job subscriptions by LISTEN/NOTIFY', () => {
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
    api = await startApiServer({ db: t.db, config: t.config, logger: createLogger('silent'), queue: served }, { port: 0, host: '127.0.0.1' })
    admin = (await new AuthService(t.db.pool, { publicRead: true }).createKey('ops', 'admin')).key
  })
  afterAll(async () => {
    await api?.close()
    await served?.stop()
    await queue?.stop()
    await t?.dispose()
  })

  const listeners = async () =>
    (await t.db.pool.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`)).rows.map((r) => r.pid as number)

  it('wakes a watcher at each write of the job: progress, log, state (and not before)', async () => {
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
        ['requeue', () => queue.jobs.requeue(job.id)],
        ['requestCancel', () => queue.jobs.requestCancel(job.id)],
      ]
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

  function subscribe(client: Client, id: string, seen: { progress: number | null; at: number }[]): Promise<void> {
    return new Promise((resolve, reject) => {
      client.subscribe<{ jobProgress: { progress: number | null } }>(
        { query: `subscription($id: ID!) { jobProgress(id: $id) { state progress } }`, variables: { id } },
        { next: (m) => (m.errors ? reject(new Error(JSON.stringify(m.errors))) : seen.push({ progress: m.data!.jobProgress.progress, at: performance.now() })), error: reject, complete: resolve },
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
    const client = createClient({ url: api.url.replace('http', 'ws') + '/graphql', webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${admin}` } })
    const seen = Array.from({ length: 12 }, () => [] as { progress: number | null; at: number }[])
    const ended = seen.map((s) => subscribe(client, job.id, s))
    try {
      await until(() => seen.every((s) => s.length === 1), 10_000)
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
      while ((await again()).length !== 1 && performance.now() < end) await new Promise((r) => setTimeout(r, 50))
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
    const client = createClient({ url: api.url.replace('http', 'ws') + '/graphql', webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${admin}` } })
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
})

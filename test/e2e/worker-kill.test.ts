import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { JobQueue } from '../../src/jobs/queue.ts'
import { CLI_SOURCE, REPO_ROOT } from '../support/cli.ts'
import { createServerTestDatabase, tmpDir, type TestDatabase } from '../support/database.ts'
import { writeRenumberedReleaseDump } from '../support/dumps.ts'

function startWorker(databaseUrl: string): ChildProcess {
  return spawn(process.execPath, [CLI_SOURCE, 'worker', '--heartbeat-seconds', '1', '--stale-seconds', '4'], {
    cwd: REPO_ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  })
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (ok(v)) return v
    if (Date.now() > end) throw new Error(`timed out waiting; last: ${JSON.stringify(v).slice(0, 500)}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('a worker killed mid-job', () => {
  let t: TestDatabase
  let queue: JobQueue
  const dir = tmpDir()
  const workers: ChildProcess[] = []
  const RELEASES = 30_000

  beforeAll(async () => {
    t = await createServerTestDatabase()
    queue = await JobQueue.start(t.db)
  })
  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL')
    await queue?.stop()
    await t?.dispose()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('leaves its job to another worker, which resumes it and loses nothing', async () => {
    const file = writeRenumberedReleaseDump(dir, RELEASES)
    const job = await queue.enqueue('import-discogs', { files: [file] })
    const first = startWorker(t.config.databaseUrl!)
    workers.push(first)
    await until(
      () => queue.get(job.id),
      (j) => j.state === 'running' && (j.progress ?? 0) > 0.15,
      120_000,
    )
    first.kill('SIGKILL') // no cleanup, no goodbye: the job row still says running
    const committed = Number((await t.db.pool.query('SELECT count(*) FROM release')).rows[0].count)
    expect(committed).toBeGreaterThan(0)
    expect(committed).toBeLessThan(RELEASES)

    workers.push(startWorker(t.config.databaseUrl!))
    const done = await until(
      () => queue.get(job.id),
      (j) => j.state === 'succeeded' || j.state === 'failed',
      180_000,
    )
    expect(done.state, done.error ?? '').toBe('succeeded')
    expect(done.attempts).toBe(2)
    expect(done.log.some((l) => /stopped responding/.test(l.message))).toBe(true)
    const result = done.result as { files: { resumedAfter: number }[] }
    expect(result.files[0].resumedAfter).toBeGreaterThan(0) // resumed, not restarted
    const { rows } = await t.db.pool.query(
      'SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM release',
    )
    expect(rows[0]).toEqual({ n: RELEASES, d: RELEASES })
    const tracks = await t.db.pool.query(`SELECT count(*)::int AS n FROM track WHERE release_id = 1`)
    expect(tracks.rows[0].n).toBe(6)
  })
})

import crypto from 'node:crypto'
import PgBoss from 'pg-boss'
import type { Database } from '../db/database.ts'
import type { Queryable } from '../db/sql.ts'
import { BadInputError } from '../errors.ts'
import { JobService, type JobListFilter, type JobRow } from '../services/job.service.ts'
import { isJobName, jobNames, jobRetry, parsePayload, type JobName, type JobPayload } from './catalogue.ts'

/** pg-boss writing on a transaction of ours. */
const txDb = (tx: Queryable): PgBoss.Db => ({ executeSql: (text, values) => tx.query(text, values) })

/** pg-boss's own expiry is only a last resort: a dead worker is detected by heartbeats (see JobWorker). */
const EXPIRE_IN_HOURS = 23

/**
 * The job queue on the same Postgres as the catalog: pg-boss for dispatch, retries with backoff and sharing
 * between workers on several machines; the `job` table (JobService) for state people look at.
 */
export class JobQueue {
  readonly boss: PgBoss
  readonly jobs: JobService

  private constructor(db: Database) {
    this.boss = new PgBoss({
      db: { executeSql: (text, values) => db.pool.query(text, values) },
      schema: 'pgboss',
      supervise: true,
      schedule: false,
      maintenanceIntervalSeconds: 60,
    })
    this.jobs = new JobService(db.pool)
  }

  static async start(db: Database): Promise<JobQueue> {
    const q = new JobQueue(db)
    q.boss.on('error', () => {}) // surfaced through job state; pg-boss re-emits transient poll errors here
    await q.boss.start()
    for (const name of jobNames) {
      if (!(await q.boss.getQueue(name))) {
        await q.boss.createQueue(name, {
          name,
          ...jobRetry[name],
          retryBackoff: true,
          expireInHours: EXPIRE_IN_HOURS,
        })
      }
    }
    return q
  }

  async stop(): Promise<void> {
    await this.boss.stop({ graceful: true, wait: true, timeout: 10_000 })
  }

  /** Validates and enqueues; the job row and the pg-boss job are written in one transaction. */
  async enqueue<N extends JobName>(name: N, payload: JobPayload<N>, createdBy?: string): Promise<JobRow> {
    if (!isJobName(name)) throw new BadInputError(`unknown job ${name}`, 'name')
    const data = parsePayload(name, payload)
    const id = crypto.randomUUID()
    return this.jobs.create({ id, name, payload: data, createdBy }, (tx) =>
      this.boss.send(name, data as object, { id, db: txDb(tx) }),
    )
  }

  get(id: string): Promise<JobRow> {
    return this.jobs.require(id)
  }

  list(filter: JobListFilter = {}): Promise<JobRow[]> {
    return this.jobs.list(filter)
  }

  /**
   * A queued job is cancelled at once; a running one is aborted by its worker at the next heartbeat. The job
   * row and pg-boss's record change in one transaction: a server killed in between (measured by
   * `npm run bench:faults`) must not leave a job cancelled here that pg-boss would still hand to a worker.
   */
  async cancel(id: string): Promise<JobRow> {
    const job = await this.get(id)
    if (job.state === 'succeeded' || job.state === 'failed' || job.state === 'cancelled') {
      throw new BadInputError(`job ${id} already ${job.state}`, 'id')
    }
    return this.jobs.requestCancel(id, async (tx, updated) => {
      if (updated.state === 'cancelled') await this.boss.cancel(job.name, id, { db: txDb(tx) })
    })
  }

  /**
   * Runs a failed or cancelled job again (a training job resumes from its last checkpoint). In one
   * transaction with pg-boss's retry or resume: a job the table says is queued is one pg-boss will run.
   */
  async retry(id: string): Promise<JobRow> {
    const job = await this.get(id)
    if (job.state !== 'failed' && job.state !== 'cancelled') {
      throw new BadInputError(`only failed or cancelled jobs can be retried; job ${id} is ${job.state}`, 'id')
    }
    await this.jobs.requeue(id, (tx) =>
      job.state === 'cancelled'
        ? this.boss.resume(job.name, id, { db: txDb(tx) })
        : this.boss.retry(job.name, id, { db: txDb(tx) }),
    )
    return this.get(id)
  }
}

import type pg from 'pg'
import { JOB_CHANNEL, notifying as notifyingOn } from '../change-feed.ts'
import { inTransaction, type Queryable } from '../sql.ts'

/** A job's writes notify its watchers (jobProgress subscriptions) in the same statement. */
const notifying = (update: string) => notifyingOn(JOB_CHANNEL, update)

export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const
export type JobState = (typeof JOB_STATES)[number]

export interface JobRow {
  id: string
  name: string
  payload: unknown
  state: JobState
  progress: number | null
  rate: number | null
  rateUnit: string | null
  etaS: number | null
  message: string | null
  log: { at: string; level: string; message: string }[]
  result: unknown
  error: string | null
  attempts: number
  worker: string | null
  cancelRequested: boolean
  createdBy: string | null
  createdAt: Date
  /** `created_at` to the microsecond (a Date keeps milliseconds): where a page of jobs ends, with `id`. */
  createdAtExact: string
  startedAt: Date | null
  heartbeatAt: Date | null
  finishedAt: Date | null
}

const columns = `id, name, payload, state, progress, rate, rate_unit AS "rateUnit", eta_s AS "etaS", message, log,
  result, error, attempts, worker, cancel_requested AS "cancelRequested", created_by AS "createdBy",
  created_at AS "createdAt", to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "createdAtExact", started_at AS "startedAt", heartbeat_at AS "heartbeatAt", finished_at AS "finishedAt"`

/** Keeps at most this many recent log lines per job: enough to see what it is doing, bounded in size. */
export const JOB_LOG_LINES = 50

/** Where a page of jobs ended: the last job's exact creation time and id (jobs created together share the time). */
export interface JobKey {
  createdAt: string
  id: string
}

/** What a worker reports of a running job; absent fields keep their value (but the ETA, which lapses). */
export interface JobProgressFields {
  /** 0..1 */
  progress?: number
  rate?: number
  rateUnit?: string
  etaS?: number
  message?: string
}

export interface NewJob {
  id: string
  name: string
  payload: unknown
  createdBy?: string
}

/** All SQL on the `job` table. */
export class JobRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Writes a job's row and, in the same transaction, whatever `alongside` writes on the connection it is
   * handed (the queue's own record of the job): both are kept or neither.
   */
  async create(job: NewJob, alongside: (tx: Queryable) => Promise<unknown>): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      await c.query(`INSERT INTO job (id, name, payload, created_by) VALUES ($1, $2, $3, $4)`, [
        job.id,
        job.name,
        JSON.stringify(job.payload),
        job.createdBy ?? null,
      ])
      await alongside(c)
    })
  }

  /** Several jobs in one statement (so they share one `created_at`, as jobs created in one transaction do). */
  async createMany(jobs: NewJob[]): Promise<void> {
    await this.pool.query(
      `INSERT INTO job (id, name, payload, created_by)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::text[]) ON CONFLICT (id) DO NOTHING`,
      [
        jobs.map((j) => j.id),
        jobs.map((j) => j.name),
        jobs.map((j) => JSON.stringify(j.payload)),
        jobs.map((j) => j.createdBy ?? null),
      ],
    )
  }

  async get(id: string): Promise<JobRow | null> {
    const { rows } = await this.pool.query(`SELECT ${columns} FROM job WHERE id = $1`, [id])
    return rows[0] ?? null
  }

  async getMany(ids: readonly string[]): Promise<JobRow[]> {
    const { rows } = await this.pool.query(`SELECT ${columns} FROM job WHERE id = ANY($1::uuid[])`, [ids])
    return rows
  }

  /** Newest first, ties by id; `after` is where the previous page ended (keyset: deep pages cost what the first does). */
  async list(filter: { state?: JobState; name?: string; limit: number; after?: JobKey }): Promise<JobRow[]> {
    const { rows } = await this.pool.query(
      `SELECT ${columns} FROM job
        WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR name = $2)
          AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
        ORDER BY created_at DESC, id DESC LIMIT $5`,
      [
        filter.state ?? null,
        filter.name ?? null,
        filter.after?.createdAt ?? null,
        filter.after?.id ?? null,
        filter.limit,
      ],
    )
    return rows
  }

  /** Claims the job for a worker; false when it was cancelled meanwhile. */
  async markRunning(id: string, worker: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      notifying(`UPDATE job SET state = 'running', worker = $2, attempts = attempts + 1, started_at = now(),
              heartbeat_at = now(), error = NULL, finished_at = NULL
        WHERE id = $1 AND state <> 'cancelled' AND NOT cancel_requested RETURNING id`),
      [id, worker],
    )
    return rowCount === 1
  }

  async progress(id: string, p: JobProgressFields): Promise<void> {
    await this.pool.query(
      notifying(`UPDATE job SET progress = COALESCE($2, progress), rate = COALESCE($3, rate),
              rate_unit = COALESCE($4, rate_unit), eta_s = $5, message = COALESCE($6, message), heartbeat_at = now()
        WHERE id = $1 RETURNING id`),
      [id, p.progress ?? null, p.rate ?? null, p.rateUnit ?? null, p.etaS ?? null, p.message ?? null],
    )
  }

  async appendLog(id: string, level: string, message: string): Promise<void> {
    const line = JSON.stringify([{ at: new Date().toISOString(), level, message }])
    await this.pool.query(
      notifying(`UPDATE job SET log = (SELECT COALESCE(jsonb_agg(e ORDER BY n), '[]'::jsonb) FROM (
                 SELECT e, n FROM jsonb_array_elements(log || $2::jsonb) WITH ORDINALITY AS t(e, n)
                 ORDER BY n DESC LIMIT ${JOB_LOG_LINES}) last)
        WHERE id = $1 RETURNING id`),
      [id, line],
    )
  }

  /** Heartbeat; returns whether cancellation was requested so the worker can abort the handler. */
  async heartbeat(id: string): Promise<boolean> {
    const { rows } = await this.pool.query(
      `UPDATE job SET heartbeat_at = now() WHERE id = $1 RETURNING cancel_requested AS "cancelRequested"`,
      [id],
    )
    return rows[0]?.cancelRequested ?? false
  }

  async finish(
    id: string,
    state: Exclude<JobState, 'running'>,
    fields: { result?: unknown; error?: string },
  ) {
    await this.pool.query(
      notifying(`UPDATE job SET state = $2, result = $3, error = $4, finished_at = CASE WHEN $2 = 'queued' THEN NULL ELSE now() END,
              eta_s = NULL, progress = CASE WHEN $2 = 'succeeded' THEN 1 ELSE progress END
        WHERE id = $1 RETURNING id`),
      [id, state, fields.result === undefined ? null : JSON.stringify(fields.result), fields.error ?? null],
    )
  }

  /**
   * Cancels a queued job at once, marks a running one for its worker to abort; `alongside` runs on the same
   * transaction with the updated row (the queue cancels its own record of a job cancelled here), so a process
   * killed in between leaves both as they were.
   */
  async requestCancel(
    id: string,
    alongside: (tx: Queryable, row: JobRow) => Promise<unknown>,
  ): Promise<JobRow | null> {
    return inTransaction(this.pool, async (c) => {
      const { rows } = await c.query(
        notifying(`UPDATE job SET cancel_requested = true,
              state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END,
              finished_at = CASE WHEN state = 'queued' THEN now() ELSE finished_at END
        WHERE id = $1 RETURNING ${columns}`),
        [id],
      )
      if (rows[0]) await alongside(c, rows[0])
      return rows[0] ?? null
    })
  }

  /** Back to the queue; `alongside` (the queue's own retry or resume) on the same transaction: both or neither. */
  async requeue(id: string, alongside: (tx: Queryable) => Promise<unknown>): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      await c.query(
        notifying(
          `UPDATE job SET state = 'queued', cancel_requested = false, error = NULL, finished_at = NULL, worker = NULL WHERE id = $1 RETURNING id`,
        ),
        [id],
      )
      await alongside(c)
    })
  }

  /** Running jobs whose worker has not been heard from for `staleSeconds`. */
  async stale(staleSeconds: number): Promise<{ id: string; name: string; worker: string | null }[]> {
    const { rows } = await this.pool.query(
      `SELECT id, name, worker FROM job WHERE state = 'running' AND heartbeat_at < now() - make_interval(secs => $1)`,
      [staleSeconds],
    )
    return rows
  }
}

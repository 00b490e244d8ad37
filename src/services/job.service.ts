import type pg from 'pg'
import {
  JOB_STATES,
  JobRepository,
  type JobKey,
  type JobProgressFields,
  type JobRow,
  type JobState,
  type NewJob,
} from '../db/repositories/job.repository.ts'
import type { Queryable } from '../db/sql.ts'
import { NotFoundError } from '../errors.ts'

export { JOB_STATES }
export type { JobKey, JobProgressFields, JobRow, JobState, NewJob }

export interface JobListFilter {
  state?: JobState
  name?: string
  /** at most MAX_JOB_PAGE */
  limit?: number
  after?: JobKey
}

/** The most jobs one page lists; a page asks for 50 when it does not say. */
const MAX_JOB_PAGE = 500
const DEFAULT_JOB_PAGE = 50

/**
 * The `job` table as people and workers see it: what a job is, where it stands, its progress and log. What
 * runs a job and when is the queue's (src/jobs/queue.ts, pg-boss); it records each step here.
 */
export class JobService {
  private readonly jobs: JobRepository

  constructor(pool: pg.Pool) {
    this.jobs = new JobRepository(pool)
  }

  /** Records a new job together with its dispatch: `dispatch` writes on the same transaction, so both or neither. */
  async create(job: NewJob, dispatch: (tx: Queryable) => Promise<unknown>): Promise<JobRow> {
    await this.jobs.create(job, dispatch)
    return this.require(job.id)
  }

  get(id: string): Promise<JobRow | null> {
    return this.jobs.get(id)
  }

  /** The job, or NotFoundError naming it. */
  async require(id: string): Promise<JobRow> {
    const job = await this.jobs.get(id)
    if (!job) throw new NotFoundError('job', id)
    return job
  }

  /** Newest first; `after` is where the previous page ended. */
  list(filter: JobListFilter = {}): Promise<JobRow[]> {
    return this.jobs.list({ ...filter, limit: Math.min(filter.limit ?? DEFAULT_JOB_PAGE, MAX_JOB_PAGE) })
  }

  /** Claims the job for a worker; false when it was cancelled meanwhile. */
  markRunning(id: string, worker: string): Promise<boolean> {
    return this.jobs.markRunning(id, worker)
  }

  progress(id: string, fields: JobProgressFields): Promise<void> {
    return this.jobs.progress(id, fields)
  }

  appendLog(id: string, level: string, message: string): Promise<void> {
    return this.jobs.appendLog(id, level, message)
  }

  /** Says the worker is alive; answers whether cancellation was requested. */
  heartbeat(id: string): Promise<boolean> {
    return this.jobs.heartbeat(id)
  }

  finish(
    id: string,
    state: Exclude<JobState, 'running'>,
    fields: { result?: unknown; error?: string },
  ): Promise<void> {
    return this.jobs.finish(id, state, fields)
  }

  /**
   * Cancels a queued job at once; marks a running one for its worker to abort. `dispatch` writes on the same
   * transaction, handed the updated row: both or neither.
   */
  async requestCancel(
    id: string,
    dispatch: (tx: Queryable, row: JobRow) => Promise<unknown>,
  ): Promise<JobRow> {
    return (await this.jobs.requestCancel(id, dispatch)) ?? this.require(id)
  }

  /** Back to the queue, as if new (its attempts counted on), with `dispatch` on the same transaction. */
  requeue(id: string, dispatch: (tx: Queryable) => Promise<unknown>): Promise<void> {
    return this.jobs.requeue(id, dispatch)
  }

  /** Running jobs whose worker has not been heard from for `staleSeconds`. */
  stale(staleSeconds: number): Promise<{ id: string; name: string; worker: string | null }[]> {
    return this.jobs.stale(staleSeconds)
  }
}

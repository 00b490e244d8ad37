import os from 'node:os'
import type PgBoss from 'pg-boss'
import type { Config } from '../config/config.ts'
import type { Database } from '../db/database.ts'
import type { Logger } from '../logger.ts'
import { jobNames, jobPayloads, jobRetry, type JobName, type JobPayload } from './catalogue.ts'
import type { JobQueue } from './queue.ts'

export interface JobProgress {
  /** 0..1 */
  fraction?: number
  rate?: number
  rateUnit?: string
  message?: string
}

export interface JobContext {
  jobId: string
  attempt: number
  signal: AbortSignal
  db: Database
  config: Config
  logger: Logger
  progress(p: JobProgress): void
  log(level: 'info' | 'warn' | 'error', message: string): void
}

export type JobHandler<N extends JobName> = (payload: JobPayload<N>, ctx: JobContext) => Promise<unknown>
export type JobHandlers = { [N in JobName]?: () => Promise<JobHandler<N>> }

export class JobCancelledError extends Error {
  constructor(id: string) {
    super(`job ${id} was cancelled`)
    this.name = 'JobCancelledError'
  }
}

export interface WorkerOptions {
  handlers: JobHandlers
  names?: JobName[]
  heartbeatSeconds?: number
  /** A running job whose heartbeat is older than this is handed to another worker. */
  staleSeconds?: number
  pollingIntervalSeconds?: number
}

/**
 * Runs jobs from the queue. Each running job heartbeats; every worker also reaps jobs of workers that
 * stopped heartbeating (killed, machine lost) by failing them in pg-boss, which retries them with backoff
 * on whichever worker is free — the handler then resumes from its own checkpoints.
 */
export class JobWorker {
  readonly id = `${os.hostname()}:${process.pid}`
  private readonly heartbeatMs: number
  private readonly staleSeconds: number
  private reaper?: NodeJS.Timeout
  private readonly running = new Map<string, AbortController>()

  constructor(
    private readonly queue: JobQueue,
    private readonly deps: { db: Database; config: Config; logger: Logger },
    private readonly options: WorkerOptions,
  ) {
    this.heartbeatMs = (options.heartbeatSeconds ?? 5) * 1000
    this.staleSeconds = options.staleSeconds ?? 30
  }

  async start(): Promise<void> {
    const names = (this.options.names ?? jobNames).filter((n) => this.options.handlers[n])
    for (const name of names) {
      await this.queue.boss.work(
        name,
        {
          batchSize: 1,
          includeMetadata: true,
          pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 1,
        },
        async ([job]) => this.run(name, job),
      )
    }
    this.reaper = setInterval(
      () => void this.reap().catch((err) => this.deps.logger.warn({ err }, 'reaper')),
      this.heartbeatMs,
    )
    this.deps.logger.info({ worker: this.id, queues: names }, 'worker started')
  }

  async stop(): Promise<void> {
    clearInterval(this.reaper)
    for (const c of this.running.values()) c.abort(new Error('worker stopping'))
    await this.queue.boss.offWork({ wait: true } as never).catch(() => {})
  }

  private async run(name: JobName, job: PgBoss.JobWithMetadata<unknown>): Promise<unknown> {
    const { jobs } = this.queue
    const logger = this.deps.logger.child({ job: job.id, name })
    if (!(await jobs.markRunning(job.id, this.id))) {
      await this.queue.boss.cancel(name, job.id)
      return null
    }
    const controller = new AbortController()
    this.running.set(job.id, controller)
    const started = Date.now()
    let pending: Promise<unknown> = Promise.resolve()
    let lastWrite = 0
    const ctx: JobContext = {
      jobId: job.id,
      attempt: job.retryCount + 1,
      signal: controller.signal,
      db: this.deps.db,
      config: this.deps.config,
      logger,
      progress: (p) => {
        const now = Date.now()
        if (now - lastWrite < 500 && (p.fraction ?? 0) < 1) return // bounded write rate
        lastWrite = now
        const f = p.fraction
        const etaS = f && f > 0 && f < 1 ? ((now - started) / 1000) * ((1 - f) / f) : undefined
        pending = pending
          .then(() =>
            jobs.progress(job.id, {
              progress: f,
              rate: p.rate,
              rateUnit: p.rateUnit,
              etaS,
              message: p.message,
            }),
          )
          .catch(() => {})
      },
      log: (level, message) => {
        logger[level](message)
        pending = pending.then(() => jobs.appendLog(job.id, level, message)).catch(() => {})
      },
    }
    const beat = setInterval(async () => {
      try {
        if (await jobs.heartbeat(job.id)) controller.abort(new JobCancelledError(job.id))
      } catch (err) {
        logger.warn({ err }, 'heartbeat failed')
      }
    }, this.heartbeatMs)
    try {
      const payload = jobPayloads[name].parse(job.data) as never
      const handler = (await this.options.handlers[name]!()) as JobHandler<JobName>
      const result = await handler(payload, ctx)
      await pending
      if (controller.signal.aborted) throw controller.signal.reason
      await jobs.finish(job.id, 'succeeded', { result: result ?? null })
      return result ?? null
    } catch (err) {
      await pending
      if (controller.signal.aborted && controller.signal.reason instanceof JobCancelledError) {
        await jobs.finish(job.id, 'cancelled', { error: 'cancelled' })
        await this.queue.boss.cancel(name, job.id)
        return null
      }
      const message = err instanceof Error ? err.message : String(err)
      const willRetry = job.retryCount < jobRetry[name].retryLimit
      await jobs.appendLog(job.id, 'error', message)
      await jobs.finish(job.id, willRetry ? 'queued' : 'failed', { error: message })
      throw err
    } finally {
      clearInterval(beat)
      this.running.delete(job.id)
    }
  }

  /** Hands jobs of dead workers back to the queue (or fails them once their retries are used up). */
  private async reap(): Promise<void> {
    for (const s of await this.queue.jobs.stale(this.staleSeconds)) {
      if (this.running.has(s.id)) continue
      const name = s.name as JobName
      await this.queue.boss.fail(name, s.id, { error: `worker ${s.worker} stopped responding` })
      const after = await this.queue.boss.getJobById(name, s.id)
      const state = after?.state === 'failed' ? 'failed' : 'queued'
      await this.queue.jobs.appendLog(
        s.id,
        'warn',
        `worker ${s.worker} stopped responding; ${state === 'queued' ? 'retrying' : 'giving up'}`,
      )
      await this.queue.jobs.finish(s.id, state, { error: `worker ${s.worker} stopped responding` })
      this.deps.logger.warn({ job: s.id, worker: s.worker, state }, 'reaped job of a lost worker')
    }
  }
}

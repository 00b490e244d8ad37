import fs from 'node:fs'
import { decodeCursor, encodeOpaque } from '../api/cursor.ts'
import type { Database } from '../db/database.ts'
import { BadInputError } from '../errors.ts'
import type { JobName, JobPayload } from '../jobs/catalogue.ts'
import type { TrainingRequest } from '../ml/training/config.ts'
import type { JobQueue } from '../jobs/queue.ts'
import type { AuthService, Viewer } from '../services/auth.service.ts'
import type { JobKey, JobRow, JobState } from '../services/job.service.ts'
import { curvePoints, findRun, listRuns, type TrainingRunRow } from '../services/training-runs.service.ts'
import { JOB_CHANNEL, TRAINING_RUN_CHANNEL, type ChangeFeed } from '../db/change-feed.ts'

/** The schema's TrainingInput: a training request and the run's name (its enums arrive as the config's words). */
type TrainingInput = TrainingRequest & { name?: string | null }

/** What the jobs module needs in the GraphQL context. */
export interface JobsContext {
  viewer: Viewer
  auth: AuthService
  jobs: JobQueue
  db: Database
  /** When watched rows change (NOTIFY on a server, polling on the embedded database). */
  changes: ChangeFeed
}

export const jobsTypeDefs = fs.readFileSync(new URL('../schema/jobs.graphql', import.meta.url), 'utf8')

const FINAL: JobState[] = ['succeeded', 'failed', 'cancelled']

function toJob(j: JobRow) {
  return {
    ...j,
    etaSeconds: j.etaS,
    createdAt: j.createdAt.toISOString(),
    startedAt: j.startedAt?.toISOString() ?? null,
    finishedAt: j.finishedAt?.toISOString() ?? null,
  }
}

export function toRun(r: TrainingRunRow) {
  return { ...r, createdAt: r.createdAt.toISOString(), finishedAt: r.finishedAt?.toISOString() ?? null }
}

/** A page ends at a job's exact creation time (to the microsecond) and id: jobs created together share the time. */
function cursorOf(j: JobRow): string {
  return encodeOpaque(`${j.createdAtExact}|${j.id}`)
}

function keyOfCursor(cursor: string): JobKey {
  const [createdAt, id] = decodeCursor(
    cursor,
    /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/,
    'after',
  )
  return { createdAt, id }
}

function enqueue<N extends JobName>(ctx: JobsContext, name: N, payload: JobPayload<N>) {
  ctx.auth.assertAdmin(ctx.viewer)
  return ctx.jobs.enqueue(name, payload, ctx.viewer.keyName).then(toJob)
}

/**
 * Changes of a row, read from the database: a worker may run on another machine, so the database is the
 * only place every server can watch. The row is read again when `changes` says it changed, and at the latest
 * after the feed's `fallbackMs` (every 500 ms on the embedded database, which notifies nothing). Ends when
 * `done` says so, or when the subscriber leaves:
 * `return()` of an async generator waits for its pending await, so the iterator's own `return` first ends
 * the wait (else a departed subscriber's watch lived up to `fallbackMs` on, and read the row once more).
 */
function watch<T, R>(w: {
  load: () => Promise<T | null>
  fingerprint: (v: T) => string
  done: (v: T) => boolean
  emit: (v: T) => R
  /** `channel` notified with `key(row)` (a row asked for by name is known by id only once read) */
  changes: { feed: ChangeFeed; channel: string; key: (v: T) => string }
}): AsyncIterableIterator<R> {
  let stopped = false
  let stop!: () => void
  const left = new Promise<void>((resolve) => (stop = resolve))
  async function* run(): AsyncGenerator<R> {
    let last = ''
    let key: string | undefined
    while (!stopped) {
      // registered before the read, so that a change between the read and the wait still wakes it
      const wait = key !== undefined ? w.changes.feed.watch(w.changes.channel, key) : undefined
      try {
        const v = await w.load()
        if (!v || stopped) return
        const f = w.fingerprint(v)
        if (f !== last) {
          last = f
          yield w.emit(v)
        }
        if (w.done(v)) return
        if (!wait) {
          key = w.changes.key(v) // read once more, now registered
          continue
        }
        await Promise.race([wait.next(w.changes.feed.fallbackMs), left])
      } finally {
        wait?.close()
      }
    }
  }
  const rows = run()
  return {
    next: () => rows.next(),
    return: (value?: R) => {
      stopped = true
      stop()
      return rows.return(value as R)
    },
    throw: (err?: unknown) => rows.throw(err),
    [Symbol.asyncIterator]() {
      return this
    },
  }
}

export const jobsResolvers = {
  TrainingRun: {
    history: (r: TrainingRunRow, a: { points: number }) => curvePoints(r.history, a.points),
  },
  Query: {
    jobs: async (_: unknown, a: { first: number; after?: string; state?: JobState }, ctx: JobsContext) => {
      ctx.auth.assertAdmin(ctx.viewer)
      if (a.first < 1 || a.first > 100) throw new BadInputError('must be between 1 and 100', 'first')
      const rows = await ctx.jobs.list({
        state: a.state,
        limit: a.first + 1,
        ...(a.after ? { after: keyOfCursor(a.after) } : {}),
      })
      const page = rows.slice(0, a.first)
      return {
        edges: page.map((j) => ({ cursor: cursorOf(j), node: toJob(j) })),
        pageInfo: {
          hasNextPage: rows.length > a.first,
          endCursor: page.length ? cursorOf(page[page.length - 1]) : null,
        },
      }
    },
    job: async (_: unknown, a: { id: string }, ctx: JobsContext) => {
      ctx.auth.assertAdmin(ctx.viewer)
      const j = await ctx.jobs.jobs.get(a.id)
      return j && toJob(j)
    },
    trainingRuns: async (_: unknown, a: { first: number }, ctx: JobsContext) => {
      ctx.auth.assertCanRead(ctx.viewer)
      return (await listRuns(ctx.db, a.first)).map(toRun)
    },
    trainingRun: async (_: unknown, a: { idOrName: string }, ctx: JobsContext) => {
      ctx.auth.assertCanRead(ctx.viewer)
      const r = await findRun(ctx.db, a.idOrName)
      return r && toRun(r)
    },
  },
  Mutation: {
    importDiscogs: (_: unknown, a: { files: string[]; dumpDate?: string }, ctx: JobsContext) =>
      enqueue(ctx, 'import-discogs', { files: a.files, ...(a.dumpDate ? { dumpDate: a.dumpDate } : {}) }),
    importAudio: (_: unknown, a: { dir: string; manifest?: string; patchHop?: number }, ctx: JobsContext) =>
      enqueue(ctx, 'import-audio', {
        dir: a.dir,
        ...(a.manifest ? { manifest: a.manifest } : {}),
        ...(a.patchHop ? { patchHop: a.patchHop } : {}),
      }),
    startTraining: (_: unknown, a: { input: TrainingInput }, ctx: JobsContext) => {
      // GraphQL passes an option the client sent as null; the job takes it as not given (its default).
      const { name, ...config } = Object.fromEntries(
        Object.entries(a.input).filter(([, v]) => v != null),
      ) as TrainingInput
      return enqueue(ctx, 'train', { config, ...(name ? { name } : {}) })
    },
    embed: (_: unknown, a: { model: string }, ctx: JobsContext) => enqueue(ctx, 'embed', { model: a.model }),
    trainProbe: (_: unknown, a: { models: string[]; task: string }, ctx: JobsContext) =>
      enqueue(ctx, 'train-probe', { models: a.models, task: a.task }),
    importOnnxHead: (
      _: unknown,
      a: { file: string; model: string; metadata?: string; name?: string },
      ctx: JobsContext,
    ) =>
      enqueue(ctx, 'import-onnx-head', {
        file: a.file,
        model: a.model,
        ...(a.metadata ? { metadata: a.metadata } : {}),
        ...(a.name ? { name: a.name } : {}),
      }),
    evaluate: (_: unknown, a: { models?: string[]; tasks?: string[] }, ctx: JobsContext) =>
      enqueue(ctx, 'evaluate', {
        ...(a.models ? { models: a.models } : {}),
        ...(a.tasks ? { tasks: a.tasks } : {}),
      }),
    cancelJob: async (_: unknown, a: { id: string }, ctx: JobsContext) => {
      ctx.auth.assertAdmin(ctx.viewer)
      return toJob(await ctx.jobs.cancel(a.id))
    },
    retryJob: async (_: unknown, a: { id: string }, ctx: JobsContext) => {
      ctx.auth.assertAdmin(ctx.viewer)
      return toJob(await ctx.jobs.retry(a.id))
    },
  },
  Subscription: {
    jobProgress: {
      subscribe: (_: unknown, a: { id: string }, ctx: JobsContext) => {
        ctx.auth.assertAdmin(ctx.viewer)
        return watch({
          load: () => ctx.jobs.jobs.get(a.id),
          fingerprint: (j) => `${j.state}|${j.progress}|${j.message}|${j.log.length}|${j.attempts}`,
          done: (j) => FINAL.includes(j.state),
          emit: (j) => ({ jobProgress: toJob(j) }),
          changes: { feed: ctx.changes, channel: JOB_CHANNEL, key: (j) => j.id },
        })
      },
    },
    trainingCurve: {
      subscribe: (_: unknown, a: { idOrName: string }, ctx: JobsContext) => {
        ctx.auth.assertCanRead(ctx.viewer)
        return watch({
          load: () => findRun(ctx.db, a.idOrName),
          fingerprint: (r) => `${r.status}|${r.step}|${r.history.length}`,
          done: (r) => r.status === 'succeeded' || r.status === 'failed' || r.status === 'stopped',
          emit: (r) => ({ trainingCurve: toRun(r) }),
          changes: { feed: ctx.changes, channel: TRAINING_RUN_CHANNEL, key: (r) => r.id },
        })
      },
    },
  },
}

import fs from 'node:fs'
import type { JobRow, JobState } from '../db/repositories/job.repository.ts'
import { TrainingRunRepository, type TrainingRunRow } from '../db/repositories/training-run.repository.ts'
import { BadInputError } from '../errors.ts'
import type { JobName, JobPayload } from '../jobs/catalogue.ts'
import type { JobQueue } from '../jobs/queue.ts'
import type { AuthService, Viewer } from '../services/auth.service.ts'

/** What the jobs module needs in the GraphQL context. */
export interface JobsContext {
  viewer: Viewer
  auth: AuthService
  jobs: JobQueue
  runs: TrainingRunRepository
}

export const jobsTypeDefs = fs.readFileSync(new URL('../schema/jobs.graphql', import.meta.url), 'utf8')

const POLL_MS = 500
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

function cursorOf(j: JobRow): string {
  return Buffer.from(j.createdAt.toISOString()).toString('base64url')
}

function enqueue<N extends JobName>(ctx: JobsContext, name: N, payload: JobPayload<N>) {
  ctx.auth.assertAdmin(ctx.viewer)
  return ctx.jobs.enqueue(name, payload, ctx.viewer.keyName).then(toJob)
}

/**
 * Changes of a row, polled from the database: a worker may run on another machine, so the database is the
 * only place every server can watch. Ends when `done` says so.
 */
async function* watch<T>(load: () => Promise<T | null>, fingerprint: (v: T) => string, done: (v: T) => boolean): AsyncGenerator<T> {
  let last = ''
  for (;;) {
    const v = await load()
    if (!v) return
    const f = fingerprint(v)
    if (f !== last) {
      last = f
      yield v
    }
    if (done(v)) return
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
}

export const jobsResolvers = {
  Query: {
    jobs: async (_: unknown, a: { first: number; after?: string; state?: JobState }, ctx: JobsContext) => {
      ctx.auth.assertCanRead(ctx.viewer)
      if (a.first < 1 || a.first > 100) throw new BadInputError('must be between 1 and 100', 'first')
      const before = a.after ? new Date(Buffer.from(a.after, 'base64url').toString()) : undefined
      if (before && Number.isNaN(before.getTime())) throw new BadInputError('is not a cursor of this list', 'after')
      const rows = await ctx.jobs.list({ state: a.state, limit: a.first + 1, before })
      const page = rows.slice(0, a.first)
      return {
        edges: page.map((j) => ({ cursor: cursorOf(j), node: toJob(j) })),
        pageInfo: { hasNextPage: rows.length > a.first, endCursor: page.length ? cursorOf(page[page.length - 1]) : null },
      }
    },
    job: async (_: unknown, a: { id: string }, ctx: JobsContext) => {
      ctx.auth.assertCanRead(ctx.viewer)
      const j = await ctx.jobs.jobs.get(a.id)
      return j && toJob(j)
    },
    trainingRuns: async (_: unknown, a: { first: number }, ctx: JobsContext) => {
      ctx.auth.assertCanRead(ctx.viewer)
      return (await ctx.runs.list(Math.min(Math.max(a.first, 1), 500))).map(toRun)
    },
    trainingRun: async (_: unknown, a: { idOrName: string }, ctx: JobsContext) => {
      ctx.auth.assertCanRead(ctx.viewer)
      const r = await ctx.runs.get(a.idOrName)
      return r && toRun(r)
    },
  },
  Mutation: {
    importDiscogs: (_: unknown, a: { files: string[]; dumpDate?: string }, ctx: JobsContext) =>
      enqueue(ctx, 'import-discogs', { files: a.files, ...(a.dumpDate ? { dumpDate: a.dumpDate } : {}) }),
    importAudio: (_: unknown, a: { dir: string; manifest?: string; patchHop?: number }, ctx: JobsContext) =>
      enqueue(ctx, 'import-audio', { dir: a.dir, ...(a.manifest ? { manifest: a.manifest } : {}), ...(a.patchHop ? { patchHop: a.patchHop } : {}) }),
    startTraining: (_: unknown, a: { input: Record<string, unknown> }, ctx: JobsContext) => {
      const { name, ...config } = Object.fromEntries(Object.entries(a.input).filter(([, v]) => v != null))
      return enqueue(ctx, 'train', { config, ...(name ? { name: String(name) } : {}) } as JobPayload<'train'>)
    },
    embed: (_: unknown, a: { model: string }, ctx: JobsContext) => enqueue(ctx, 'embed', { model: a.model }),
    trainProbe: (_: unknown, a: { models: string[]; task: string }, ctx: JobsContext) => enqueue(ctx, 'train-probe', { models: a.models, task: a.task }),
    importOnnxHead: (_: unknown, a: { file: string; model: string; metadata?: string; name?: string }, ctx: JobsContext) =>
      enqueue(ctx, 'import-onnx-head', { file: a.file, model: a.model, ...(a.metadata ? { metadata: a.metadata } : {}), ...(a.name ? { name: a.name } : {}) }),
    evaluate: (_: unknown, a: { models?: string[]; tasks?: string[] }, ctx: JobsContext) =>
      enqueue(ctx, 'evaluate', { ...(a.models ? { models: a.models } : {}), ...(a.tasks ? { tasks: a.tasks } : {}) }),
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
        ctx.auth.assertCanRead(ctx.viewer)
        return (async function* () {
          for await (const j of watch(
            () => ctx.jobs.jobs.get(a.id),
            (j) => `${j.state}|${j.progress}|${j.message}|${j.log.length}|${j.attempts}`,
            (j) => FINAL.includes(j.state),
          ))
            yield { jobProgress: toJob(j) }
        })()
      },
    },
    trainingCurve: {
      subscribe: (_: unknown, a: { idOrName: string }, ctx: JobsContext) => {
        ctx.auth.assertCanRead(ctx.viewer)
        return (async function* () {
          for await (const r of watch(
            () => ctx.runs.get(a.idOrName),
            (r) => `${r.status}|${r.step}|${r.history.length}`,
            (r) => r.status === 'succeeded' || r.status === 'failed' || r.status === 'stopped',
          ))
            yield { trainingCurve: toRun(r) }
        })()
      },
    },
  },
}

/**
 * Fault checks: `npm run bench:faults [-- --only pg-restart,worker-embed,worker-train,server-kill]`.
 *
 * Scripted checks of what a careful operator expects when something dies, each against the built CLI
 * (`npm run build` first) as it runs in production, printing its outcome (PASS or FAIL and the figures);
 * the exit code is non-zero when one fails. Not part of `npm test`: together they take minutes.
 *
 *   pg-restart    PostgreSQL restarted under load. A private cluster (initdb in a temporary folder, run as
 *                 the `postgres` user when this runs as root; the shared server other work uses is left
 *                 alone) serves a small bench catalog to `discograph serve`; 16 clients send release, artist
 *                 and search queries while the cluster is restarted with `pg_ctl restart -m fast` (what
 *                 `pg_ctlcluster 15 main restart` and the service scripts do). Every request must complete
 *                 within 15 s, every failure must carry the code UNAVAILABLE, and the requests started 3 s
 *                 after the restart ended must all succeed (the pool recovered).
 *   worker-embed  A worker (`discograph worker`) killed with SIGKILL during an `embed` job, once some batches
 *                 are committed; a second worker takes the job over once the first's heartbeat is stale.
 *                 The job must succeed on attempt 2 having skipped the committed tracks, every track with
 *                 audio must have exactly one vector, pooled from all its patches, and the rows written
 *                 before the kill must be the same after (kept, not rewritten).
 *   worker-train  The same during a `train` job, after a checkpoint: the retried job must resume its run
 *                 (one run for the job, its step never back past the checkpoint), finish every step, and
 *                 hold one history entry per logged step.
 *   server-kill   `discograph serve` killed with SIGKILL while 24 admin clients queue jobs (`embed`),
 *                 cancel queued ones and retry cancelled ones. Afterwards every job row must have its
 *                 pg-boss job and vice versa, in agreeing states (queued ↔ created/retry, cancelled ↔
 *                 cancelled): a job is queued or absent, never half-made.
 *
 * The shared server for worker-*, server-kill: DATABASE_URL's, else postgresql://postgres@127.0.0.1:5432.
 */
import 'reflect-metadata'
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { featureStorePatchSource } from '../src/services/patch-source.ts'
import { loadConfig } from '../src/config/config.ts'
import { migrate, openDatabase, type Database } from '../src/db/database.ts'
import { JobQueue } from '../src/jobs/queue.ts'
import { AuthService } from '../src/services/auth.service.ts'
import { CLI_BUILT, REPO_ROOT } from '../test/support/cli.ts'
import { createScratchDatabase, tmpDir } from '../test/support/database.ts'
import { loadBenchCatalog } from './support/catalog.ts'
import { freePort } from './support/free-port.ts'

const SHARED_ADMIN_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'
const ONLY = (() => {
  const i = process.argv.indexOf('--only')
  return i >= 0 ? process.argv[i + 1].split(',') : undefined
})()
const log = (msg: string) => console.error(`[faults ${new Date().toISOString().slice(11, 19)}] ${msg}`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Outcome {
  pass: boolean
  figures: Record<string, unknown>
  failures: string[]
}

class Expectations {
  readonly failures: string[] = []
  that(ok: boolean, what: string): void {
    if (!ok) this.failures.push(what)
  }
}

async function until<T>(
  what: string,
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (ok(v)) return v
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v).slice(0, 300)}`)
    await sleep(100)
  }
}

/** A `discograph` process of the built CLI; its stderr kept (the last 50 kB) for failure reports. */
function cli(args: string[], env: NodeJS.ProcessEnv): ChildProcess & { stderrText: () => string } {
  if (!fs.existsSync(CLI_BUILT.replace(/bin\/discograph\.js$/, 'dist/src/cli/main.js')))
    throw new Error('the CLI is not built: run `npm run build` first (the checks run the built CLI)')
  const child = spawn(process.execPath, [CLI_BUILT, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let text = ''
  child.stderr!.on('data', (c: Buffer) => {
    text = (text + c.toString()).slice(-50_000)
  })
  return Object.assign(child, { stderrText: () => text })
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', () => r()))
}

async function serve(env: NodeJS.ProcessEnv): Promise<{ child: ReturnType<typeof cli>; url: string }> {
  const port = await freePort()
  const child = cli(['serve', '--worker', 'no'], { ...env, PORT: String(port) })
  const url = `http://127.0.0.1:${port}`
  await until(
    'the server to answer /healthz',
    async () => {
      if (child.exitCode !== null) throw new Error(`discograph serve exited:\n${child.stderrText()}`)
      return fetch(`${url}/healthz`)
        .then((r) => r.ok)
        .catch(() => false)
    },
    Boolean,
    120_000,
  )
  return { child, url }
}

async function gql(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
  timeoutMs = 15_000,
): Promise<{
  status: number
  body: { data?: Record<string, unknown>; errors?: { message: string; extensions?: { code?: string } }[] }
}> {
  const r = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(timeoutMs),
  })
  return { status: r.status, body: await r.json() }
}

// ------------------------------------------------------------------------------------------ pg-restart

/** A PostgreSQL cluster of this machine's binaries in a temporary folder, on a free port. */
class PrivateCluster {
  readonly dir = tmpDir('discograph-faults-pg-')
  readonly port: number
  private readonly bin: string
  private constructor(port: number) {
    this.port = port
    const version = fs
      .readdirSync('/usr/lib/postgresql')
      .filter((v) => fs.existsSync(`/usr/lib/postgresql/${v}/bin/pg_ctl`))
      .sort((a, b) => Number(b) - Number(a))[0]
    if (!version) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql')
    this.bin = `/usr/lib/postgresql/${version}/bin`
  }

  static async start(): Promise<PrivateCluster> {
    const c = new PrivateCluster(await freePort())
    if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', c.dir])
    c.run('initdb', ['-D', path.join(c.dir, 'data'), '-U', 'postgres', '-A', 'trust', '--no-sync'])
    c.run('pg_ctl', c.pgctlArgs(['start']))
    return c
  }

  get adminUrl(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`
  }

  /**
   * `pg_ctl restart -m fast`: sessions are terminated, the server stops and starts again. Asynchronous, so
   * the clients in this process go on sending while it runs (execFileSync would hold them all back).
   */
  async restart(): Promise<void> {
    const [file, args] = this.command('pg_ctl', this.pgctlArgs(['restart', '-m', 'fast']))
    await promisify(execFile)(file, args)
  }

  stop(): void {
    try {
      this.run('pg_ctl', this.pgctlArgs(['stop', '-m', 'immediate']))
    } finally {
      fs.rmSync(this.dir, { recursive: true, force: true })
    }
  }

  private pgctlArgs(args: string[]): string[] {
    return [
      '-D',
      path.join(this.dir, 'data'),
      '-l',
      path.join(this.dir, 'log'),
      '-w',
      '-o',
      `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c fsync=off`,
      ...args,
    ]
  }

  /** The binary and arguments that run `tool` as the postgres user (PostgreSQL refuses to run as root). */
  private command(tool: string, args: string[]): [string, string[]] {
    return process.getuid?.() === 0
      ? ['runuser', ['-u', 'postgres', '--', `${this.bin}/${tool}`, ...args]]
      : [`${this.bin}/${tool}`, args]
  }

  private run(tool: string, args: string[]): void {
    const [file, argv] = this.command(tool, args)
    execFileSync(file, argv, { stdio: ['ignore', 'ignore', 'pipe'] })
  }
}

async function pgRestartCheck(): Promise<Outcome> {
  const BOUND_MS = 15_000
  const CLIENTS = 16
  const expect = new Expectations()
  const cluster = await PrivateCluster.start()
  const dumpDir = tmpDir('discograph-faults-dump-')
  const dataDir = tmpDir('discograph-faults-data-')
  let server: Awaited<ReturnType<typeof serve>> | undefined
  try {
    const scratch = await createScratchDatabase(cluster.adminUrl, 'discograph_faults')
    const db = await openDatabase({
      ...loadConfig({ LOG_LEVEL: 'silent' }),
      databaseUrl: scratch.url,
      dbPoolMax: 4,
    })
    await migrate(db)
    log('pg-restart: loading 3,000 releases into the private cluster')
    await loadBenchCatalog(db, 3_000, dumpDir)
    await db.close()
    server = await serve({ DATABASE_URL: scratch.url, DATA_DIR: dataDir })

    const queries = [
      () => ({
        query: `query($id: Int!) { release(discogsId: $id) { title artists { name } tracks(first: 20) { edges { node { title } } } } }`,
        variables: { id: 1 + Math.floor(Math.random() * 3000) },
      }),
      () => ({
        query: `query($q: String!) { search(query: $q, first: 10) { edges { score text } } }`,
        variables: { q: ['love', 'mix', 'persuader', 'stokholm', 'night'][Math.floor(Math.random() * 5)] },
      }),
      () => ({
        query: `{ releases(first: 20) { edges { node { title year labels { name } } } } }`,
        variables: {},
      }),
    ]
    interface Sent {
      start: number
      end: number
      ok: boolean
      codes: string[]
      status: number
      hung: boolean
    }
    const sent: Sent[] = []
    let stop = false
    const t0 = performance.now()
    const now = () => performance.now() - t0
    const client = async () => {
      while (!stop) {
        const q = queries[Math.floor(Math.random() * queries.length)]()
        const start = now()
        try {
          const r = await gql(server!.url, q.query, q.variables, {}, BOUND_MS)
          const codes = (r.body.errors ?? []).map((e) => e.extensions?.code ?? 'NO_CODE')
          sent.push({
            start,
            end: now(),
            ok: r.status === 200 && !codes.length,
            codes,
            status: r.status,
            hung: false,
          })
        } catch (err) {
          const hung = (err as Error).name === 'TimeoutError'
          sent.push({
            start,
            end: now(),
            ok: false,
            codes: [hung ? 'HUNG' : `TRANSPORT:${(err as Error).message}`],
            status: 0,
            hung,
          })
          if (!hung) await sleep(50) // the server is gone: do not spin
        }
      }
    }
    const clients = Array.from({ length: CLIENTS }, client)
    await sleep(4_000)
    log('pg-restart: restarting PostgreSQL under load')
    const restartStart = now()
    await cluster.restart()
    const restartEnd = now()
    await sleep(10_000)
    stop = true
    await Promise.all(clients)
    const ready = await fetch(`${server.url}/healthz`)
      .then((r) => r.status)
      .catch(() => 0)

    const failed = sent.filter((s) => !s.ok)
    const codes: Record<string, number> = {}
    for (const s of failed)
      for (const c of new Set(s.codes.length ? s.codes : [`HTTP_${s.status}`])) codes[c] = (codes[c] ?? 0) + 1
    const after = sent.filter((s) => s.start > restartEnd + 3_000)
    const slowest = Math.max(...sent.map((s) => s.end - s.start))
    const failedEnds = failed.map((f) => f.end - restartStart)
    expect.that(
      server.child.exitCode === null,
      `the server exited (${server.child.exitCode}): ${server.child.stderrText().slice(-3000)}`,
    )
    expect.that(
      !sent.some((s) => s.hung),
      `${sent.filter((s) => s.hung).length} requests took longer than ${BOUND_MS} ms`,
    )
    expect.that(
      Object.keys(codes).every((c) => c === 'UNAVAILABLE'),
      `failures carry codes other than UNAVAILABLE: ${JSON.stringify(codes)}`,
    )
    expect.that(
      after.length > 0 && after.every((s) => s.ok),
      `${after.filter((s) => !s.ok).length} of ${after.length} requests 3 s after the restart failed`,
    )
    expect.that(ready === 200, `/healthz answered ${ready} after the restart`)
    return {
      pass: !expect.failures.length,
      failures: expect.failures,
      figures: {
        requests: sent.length,
        in_flight_at_restart: sent.filter((s) => s.start < restartStart && s.end > restartStart).length,
        failed: failed.length,
        codes,
        restart_ms: Math.round(restartEnd - restartStart),
        failures_from_ms: failed.length ? Math.round(Math.min(...failedEnds)) : null,
        failures_until_ms: failed.length ? Math.round(Math.max(...failedEnds)) : null,
        slowest_ms: Math.round(slowest),
        requests_after_recovery: after.length,
        healthz_after: ready,
      },
    }
  } finally {
    server?.child.kill('SIGTERM')
    if (server) await exited(server.child)
    cluster.stop()
    for (const dir of [dumpDir, dataDir]) fs.rmSync(dir, { recursive: true, force: true })
  }
}

// ------------------------------------------------------------------------------------------ workers

/** A migrated scratch database on the shared server with the synthetic `small` world imported, with audio. */
async function audioWorld(): Promise<{ db: Database; env: NodeJS.ProcessEnv; drop: () => Promise<void> }> {
  const scratch = await createScratchDatabase(SHARED_ADMIN_URL, 'discograph_faults')
  const dataDir = tmpDir('discograph-faults-data-')
  const world = path.join(os.tmpdir(), 'discograph-faults-world-small-3')
  const env = { DATABASE_URL: scratch.url, DATA_DIR: dataDir }
  const run = async (args: string[]) => {
    const child = cli(args, env)
    await exited(child)
    if (child.exitCode !== 0) throw new Error(`discograph ${args.join(' ')} failed:\n${child.stderrText()}`)
  }
  await run(['db', 'migrate'])
  if (!fs.existsSync(path.join(world, 'manifest.csv'))) {
    log(`synthetic world in ${world} (kept for later runs)`)
    await run(['synth', '--out', world, '--size', 'small', '--seed', '3', '--fast'])
  }
  await run(['ingest', 'discogs', world])
  await run(['ingest', 'audio', path.join(world, 'audio'), '--manifest', path.join(world, 'manifest.csv')])
  const db = await openDatabase({
    ...loadConfig({ LOG_LEVEL: 'silent' }),
    databaseUrl: scratch.url,
    dataDir,
    dbPoolMax: 4,
  })
  return {
    db,
    env,
    async drop() {
      await db.close()
      await scratch.drop()
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

const worker = (env: NodeJS.ProcessEnv) =>
  cli(['worker', '--heartbeat-seconds', '1', '--stale-seconds', '4'], env)

async function workerEmbedCheck(): Promise<Outcome> {
  const expect = new Expectations()
  const world = await audioWorld()
  const workers: ReturnType<typeof cli>[] = []
  try {
    const { db } = world
    const queue = await JobQueue.start(db)
    const model = 'random-tiny'
    const job = await queue.enqueue('embed', { model, space: 'projection' })
    const embeddedRows = async () =>
      (
        await db.pool.query<{ track_id: string; digest: string; patches: number }>(
          `SELECT e.track_id, md5(e.embedding::text) AS digest, e.patches FROM track_embedding e JOIN model m ON m.id = e.model_id
            WHERE m.name = $1 ORDER BY e.track_id`,
          [model],
        )
      ).rows
    const withAudio = await featureStorePatchSource(db, world.env.DATA_DIR!)
    const audio = [{ n: withAudio.trackIds.length }]
    withAudio.close()
    workers.push(worker(world.env))
    log(`worker-embed: embedding ${audio[0].n} tracks; killing the worker once some are committed`)
    await until('committed vectors', embeddedRows, (r) => r.length > 0, 300_000)
    workers[0].kill('SIGKILL')
    await exited(workers[0])
    const atKill = await embeddedRows()
    const jobAtKill = await queue.get(job.id)
    workers.push(worker(world.env))
    const done = await until(
      'the job to end',
      () => queue.get(job.id),
      (j) => ['succeeded', 'failed'].includes(j.state),
      600_000,
    )
    const final = await embeddedRows()
    const result = done.result as { tracks?: { embedded: number; skipped: number } } | null
    const finalById = new Map(final.map((r) => [r.track_id, r]))
    // what the embed read: every track's patches at the model's hop (random models keep the default)
    const source = await featureStorePatchSource(db, world.env.DATA_DIR!)
    const patchCounts = source.trackIds.map((id) => ({ track_id: String(id), n: source.patchCount(id) }))
    source.close()
    const { rows: dup } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT track_id FROM track_embedding GROUP BY model_id, space, track_id HAVING count(*) > 1) d`,
    )
    const { rows: missingSearch } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM track_embedding WHERE search IS NULL`,
    )
    expect.that(jobAtKill.state === 'running', `the job was ${jobAtKill.state} when its worker was killed`)
    expect.that(atKill.length < audio[0].n, `the kill came after every track was written (${atKill.length})`)
    expect.that(done.state === 'succeeded', `the job ended ${done.state}: ${done.error}`)
    expect.that(done.attempts === 2, `attempts ${done.attempts}, not 2`)
    expect.that(
      result?.tracks?.skipped === atKill.length,
      `attempt 2 skipped ${result?.tracks?.skipped} tracks, ${atKill.length} were committed`,
    )
    expect.that(final.length === audio[0].n, `${final.length} vectors for ${audio[0].n} tracks with audio`)
    expect.that(dup[0].n === 0, `${dup[0].n} tracks with more than one vector`)
    expect.that(missingSearch[0].n === 0, `${missingSearch[0].n} vectors without a search vector`)
    const rewritten = atKill.filter((r) => finalById.get(r.track_id)?.digest !== r.digest).length
    expect.that(rewritten === 0, `${rewritten} vectors written before the kill changed`)
    const partial = patchCounts.filter(
      (p) => finalById.has(p.track_id) && finalById.get(p.track_id)!.patches !== p.n,
    ).length
    expect.that(partial === 0, `${partial} vectors pooled from fewer patches than their track has`)
    await queue.stop()
    return {
      pass: !expect.failures.length,
      failures: expect.failures,
      figures: {
        tracks: audio[0].n,
        committed_at_kill: atKill.length,
        attempts: done.attempts,
        skipped_on_resume: result?.tracks?.skipped,
        embedded_on_resume: result?.tracks?.embedded,
        vectors: final.length,
        duplicates: dup[0].n,
        rewritten,
        pooled_from_fewer_patches: partial,
      },
    }
  } finally {
    for (const w of workers) w.kill('SIGKILL')
    await Promise.all(workers.map(exited))
    await world.drop()
  }
}

async function workerTrainCheck(): Promise<Outcome> {
  const expect = new Expectations()
  const world = await audioWorld()
  const workers: ReturnType<typeof cli>[] = []
  const STEPS = 60
  const EVERY = 10
  try {
    const { db } = world
    const queue = await JobQueue.start(db)
    const name = `faults-${crypto.randomBytes(3).toString('hex')}`
    const job = await queue.enqueue('train', {
      name,
      config: {
        association: 'artist',
        size: 'tiny',
        batchSize: 8,
        steps: STEPS,
        checkpointEvery: EVERY,
        validateEvery: 1000,
      },
    })
    const run = async () =>
      (
        await db.pool.query<{
          id: string
          step: number
          status: string
          history: { step: number }[]
          n: number
        }>(
          `SELECT id, step, status, history, (SELECT count(*)::int FROM training_run WHERE job_id = $1) AS n FROM training_run WHERE job_id = $1`,
          [job.id],
        )
      ).rows[0]
    workers.push(worker(world.env))
    log(`worker-train: ${STEPS} steps, a checkpoint every ${EVERY}; killing the worker after the second`)
    await until('two checkpoints', run, (r) => (r?.step ?? 0) >= 2 * EVERY, 600_000)
    workers[0].kill('SIGKILL')
    await exited(workers[0])
    const atKill = await run()
    const files = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).length : 0)
    workers.push(worker(world.env))
    const done = await until(
      'the job to end',
      () => queue.get(job.id),
      (j) => ['succeeded', 'failed'].includes(j.state),
      900_000,
    )
    const final = await run()
    const steps = final.history.map((h) => h.step)
    const { rows: models } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM model WHERE training_run_id = $1`,
      [final.id],
    )
    expect.that(done.state === 'succeeded', `the job ended ${done.state}: ${done.error}`)
    expect.that(done.attempts === 2, `attempts ${done.attempts}, not 2`)
    expect.that(
      done.log.some((l) => /resumed run/.test(l.message)),
      'the job log does not say the run was resumed',
    )
    expect.that(final.n === 1, `${final.n} runs for the job`)
    expect.that(final.id === atKill.id, 'the retried job trained another run')
    expect.that(
      final.status === 'succeeded' && final.step === STEPS,
      `run ${final.status} at step ${final.step}`,
    )
    expect.that(new Set(steps).size === steps.length, `history repeats steps: ${steps.join(',')}`)
    expect.that(models[0].n <= 1, `${models[0].n} models registered for the run`)
    await queue.stop()
    return {
      pass: !expect.failures.length,
      failures: expect.failures,
      figures: {
        steps: STEPS,
        checkpoint_every: EVERY,
        step_at_kill: atKill.step,
        attempts: done.attempts,
        final_step: final.step,
        runs_for_job: final.n,
        history_entries: steps.length,
        distinct_history_steps: new Set(steps).size,
        checkpoint_files: files(path.join(world.env.DATA_DIR!, 'runs', final.id)),
      },
    }
  } finally {
    for (const w of workers) w.kill('SIGKILL')
    await Promise.all(workers.map(exited))
    await world.drop()
  }
}

// ------------------------------------------------------------------------------------------ server-kill

async function serverKillCheck(): Promise<Outcome> {
  const CLIENTS = 24
  const expect = new Expectations()
  const scratch = await createScratchDatabase(SHARED_ADMIN_URL, 'discograph_faults')
  const dataDir = tmpDir('discograph-faults-data-')
  const env = { DATABASE_URL: scratch.url, DATA_DIR: dataDir }
  const db = await openDatabase({
    ...loadConfig({ LOG_LEVEL: 'silent' }),
    databaseUrl: scratch.url,
    dataDir,
    dbPoolMax: 4,
  })
  let server: Awaited<ReturnType<typeof serve>> | undefined
  try {
    await migrate(db)
    const queue = await JobQueue.start(db) // creates pg-boss's schema and queues before the server does
    await queue.stop()
    const key = (await new AuthService(db.pool, { publicRead: true }).createKey('faults-admin', 'admin')).key
    server = await serve(env)
    const auth = { authorization: `Bearer ${key}` }
    const queued: string[] = []
    const cancelled: string[] = []
    let answered = 0
    let stop = false
    const client = async () => {
      while (!stop) {
        try {
          const r = Math.random()
          if (r < 0.4 || !queued.length) {
            const res = await gql(
              server!.url,
              `mutation($m: String!) { embed(model: $m) { id state } }`,
              { m: 'faults' },
              auth,
            )
            const job = res.body.data?.embed as { id: string } | undefined
            if (job) queued.push(job.id)
          } else if (r < 0.7 || !cancelled.length) {
            const id = queued.splice(Math.floor(Math.random() * queued.length), 1)[0]
            const res = await gql(
              server!.url,
              `mutation($id: ID!) { cancelJob(id: $id) { id state } }`,
              { id },
              auth,
            )
            if (res.body.data?.cancelJob) cancelled.push(id)
          } else {
            const id = cancelled.splice(Math.floor(Math.random() * cancelled.length), 1)[0]
            const res = await gql(
              server!.url,
              `mutation($id: ID!) { retryJob(id: $id) { id state } }`,
              { id },
              auth,
            )
            if (res.body.data?.retryJob) queued.push(id)
          }
          answered++
        } catch {
          return // the server is gone
        }
      }
    }
    const clients = Array.from({ length: CLIENTS }, client)
    await sleep(5_000)
    log(`server-kill: SIGKILL after ${answered} mutations answered`)
    server.child.kill('SIGKILL')
    await exited(server.child)
    stop = true
    await Promise.all(clients)

    const { rows } = await db.pool.query<{ id: string; state: string | null; boss: string | null }>(
      `SELECT coalesce(j.id, b.id) AS id, j.state, b.state::text AS boss
         FROM job j FULL JOIN pgboss.job b ON b.id = j.id`,
    )
    const agree: Record<string, string[]> = { queued: ['created', 'retry'], cancelled: ['cancelled'] }
    const orphans = rows.filter((r) => r.state === null).length
    const lost = rows.filter((r) => r.boss === null).length
    const disagree = rows.filter((r) => r.state && r.boss && !(agree[r.state] ?? []).includes(r.boss))
    const states: Record<string, number> = {}
    for (const r of rows) states[`${r.state}/${r.boss}`] = (states[`${r.state}/${r.boss}`] ?? 0) + 1
    expect.that(orphans === 0, `${orphans} pg-boss jobs without a job row`)
    expect.that(lost === 0, `${lost} job rows without a pg-boss job`)
    expect.that(
      disagree.length === 0,
      `${disagree.length} jobs whose row and pg-boss disagree: ${JSON.stringify(states)}`,
    )

    // A new server over what is left answers for every job and its state.
    server = await serve(env)
    const listed = await gql(server.url, `{ jobs(first: 100) { edges { node { id state } } } }`, {}, auth)
    expect.that(!listed.body.errors, `jobs after the restart: ${JSON.stringify(listed.body.errors)}`)
    return {
      pass: !expect.failures.length,
      failures: expect.failures,
      figures: {
        clients: CLIENTS,
        mutations_answered: answered,
        jobs: rows.length,
        states,
        orphans,
        lost,
        disagreeing: disagree.length,
      },
    }
  } finally {
    server?.child.kill('SIGTERM')
    if (server) await exited(server.child)
    await db.close()
    await scratch.drop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

const CHECKS: Record<string, () => Promise<Outcome>> = {
  'pg-restart': pgRestartCheck,
  'worker-embed': workerEmbedCheck,
  'worker-train': workerTrainCheck,
  'server-kill': serverKillCheck,
}

let failed = 0
for (const [name, check] of Object.entries(CHECKS)) {
  if (ONLY && !ONLY.includes(name)) continue
  const t0 = performance.now()
  let outcome: Outcome
  try {
    outcome = await check()
  } catch (err) {
    outcome = { pass: false, failures: [`${(err as Error).stack ?? err}`], figures: {} }
  }
  if (!outcome.pass) failed++
  const seconds = ((performance.now() - t0) / 1000).toFixed(0)
  console.log(
    `${outcome.pass ? 'PASS' : 'FAIL'} ${name} (${seconds} s; load ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}): ${JSON.stringify(outcome.figures)}`,
  )
  for (const f of outcome.failures) console.log(`     ${f}`)
}
process.exit(failed ? 1 : 0)

/**
 * CLI start-up benchmark: `npm run bench:cli [-- --runs 10]`. Needs the build (`npm run build`).
 *
 * Runs, alternating so that the machine's load falls on all alike: `discograph --help` and `discograph jobs
 * list` from the build (bin/discograph.js) and from source through tsx (bin/discograph-dev.js, what
 * bin/discograph.js was before the build), `tsc --version` for scale, and `discograph serve` until /healthz
 * answers 200 (time to listen). One-shot commands report wall time, CPU time (user + system, of the process
 * and its threads, by /usr/bin/time) and peak RSS; serve reports its time to listen and the CPU time it used
 * until then (/proc). Medians of --runs.
 *
 * Database: a fresh, migrated one on the server (DATABASE_URL's, else postgresql://postgres@127.0.0.1:5432), so
 * that PGlite's start does not hide the CLI's own.
 */
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ADMIN_URL, createServerTestDatabase, tmpDir } from '../test/support/database.ts'

const REPO = path.resolve(import.meta.dirname, '..')
const runsAt = process.argv.indexOf('--runs')
const RUNS = runsAt >= 0 ? Number(process.argv[runsAt + 1]) : 10
const BUILT = path.join(REPO, 'bin/discograph.js')
const SOURCE = path.join(REPO, 'bin/discograph-dev.js')
if (!fs.existsSync(path.join(REPO, 'dist/src/cli/main.js')))
  throw new Error('dist/ is not built: run `npm run build`')

const t = await createServerTestDatabase()
const env = {
  ...process.env,
  DATABASE_URL: t.config.databaseUrl,
  DATA_DIR: tmpDir('discograph-bench-cli-'),
  LOG_LEVEL: 'warn',
}
const timeFile = path.join(os.tmpdir(), `discograph-bench-cli-${process.pid}.time`)

interface Sample {
  wall: number
  cpu: number
  rssMb: number
}

/** One run of a one-shot command under /usr/bin/time. */
function timed(args: string[]): Sample {
  const r = spawnSync('/usr/bin/time', ['-o', timeFile, '-f', '%e %U %S %M', ...args], {
    cwd: REPO,
    env,
    stdio: 'ignore',
  })
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`)
  const [wall, user, sys, rssKb] = fs
    .readFileSync(timeFile, 'utf8')
    .trim()
    .split('\n')
    .at(-1)!
    .split(' ')
    .map(Number)
  return { wall, cpu: user + sys, rssMb: rssKb / 1024 }
}

/** CPU seconds (user + system, all threads) a running process has used so far, from /proc. */
function cpuSoFar(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100 // utime, stime in clock ticks (USER_HZ 100)
}

/** Seconds from spawning `serve` to /healthz answering 200, and the CPU seconds serve used until then. */
async function timeToListen(entry: string): Promise<{ wall: number; cpu: number }> {
  const port = 4100 + Math.floor(Math.random() * 800)
  const started = performance.now()
  const child = spawn(process.execPath, [entry, 'serve', '--port', String(port), '--worker', 'no'], {
    cwd: REPO,
    env,
    stdio: 'ignore',
  })
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}`)
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
      if (ok) return { wall: (performance.now() - started) / 1000, cpu: cpuSoFar(child.pid!) }
      await new Promise((r) => setTimeout(r, 20))
    }
  } finally {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))
  }
}

const oneShot: Record<string, string[]> = {
  'tsc --version': [process.execPath, path.join(REPO, 'node_modules/typescript/bin/tsc'), '--version'],
  'discograph --help (build)': [process.execPath, BUILT, '--help'],
  'discograph --help (source, tsx)': [process.execPath, SOURCE, '--help'],
  'discograph jobs list (build)': [process.execPath, BUILT, 'jobs', 'list'],
  'discograph jobs list (source, tsx)': [process.execPath, SOURCE, 'jobs', 'list'],
}
const serve: Record<string, string> = {
  'discograph serve (build)': BUILT,
  'discograph serve (source, tsx)': SOURCE,
}
const samples = new Map<string, Sample[]>()
const listens = new Map<string, { wall: number; cpu: number }[]>()
try {
  for (let i = 0; i < RUNS; i++) {
    for (const [name, args] of Object.entries(oneShot))
      samples.set(name, [...(samples.get(name) ?? []), timed(args)])
    for (const [name, entry] of Object.entries(serve))
      listens.set(name, [...(listens.get(name) ?? []), await timeToListen(entry)])
  }
} finally {
  await t.dispose()
  fs.rmSync(env.DATA_DIR, { recursive: true, force: true })
  fs.rmSync(timeFile, { force: true })
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const load = os.loadavg()[0].toFixed(1)
console.log(
  `${RUNS} alternating runs each, medians (load average at the end: ${load}, ${os.availableParallelism()} cores)\n`,
)
console.log('| command | wall s | CPU s | peak RSS MB |\n|---|---|---|---|')
for (const [name, s] of samples)
  console.log(
    `| ${name} | ${median(s.map((x) => x.wall)).toFixed(2)} | ${median(s.map((x) => x.cpu)).toFixed(2)} | ${median(s.map((x) => x.rssMb)).toFixed(0)} |`,
  )
console.log('\n| command | time to listen s | CPU s until listening |\n|---|---|---|')
for (const [name, s] of listens)
  console.log(
    `| ${name} | ${median(s.map((x) => x.wall)).toFixed(2)} | ${median(s.map((x) => x.cpu)).toFixed(2)} |`,
  )
console.log(
  JSON.stringify({
    runs: RUNS,
    server: new URL(ADMIN_URL).host,
    samples: Object.fromEntries(samples),
    listens: Object.fromEntries(listens),
  }),
)

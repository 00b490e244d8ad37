/**
 * Peak memory of an audio import: `npm run bench:audio-memory [-- --seconds 7200 --dir DIR --concurrency 1,2
 * --cli path/to/bin/discograph.js]`.
 *
 * Writes one long WAV (default 2 h, 44.1 kHz stereo 16-bit, a minute of noise plus a tone repeated: 1.27 GB on disk, 2.5 GB as
 * float PCM), and for each input (that file alone, and `--dir` if given) and each concurrency runs
 * `discograph ingest audio` as a child process under `/usr/bin/time -v` against a fresh database on the
 * real server (DATABASE_URL's server if set, else postgresql://postgres@127.0.0.1:5432) and an empty
 * DATA_DIR, and prints its maximum resident set size and CPU seconds. `--cli` points at another checkout's
 * bin/discograph.js to measure the code before a change on the same machine in the same run. Ends with one
 * JSON line. `--seconds 0` skips the long file. An import of ≤ 4 files runs inline (one thread) whatever --concurrency says; a directory of
 * more files runs that many worker threads.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : def
}

const seconds = Number(arg('seconds', '7200'))
const dir = arg('dir', '')
const concurrencies = arg('concurrency', '1,2').split(',').map(Number)
const cli = path.resolve(arg('cli', path.join(import.meta.dirname, '../bin/discograph.js')))
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'discograph-bench-mem-'))

/** A long stereo 16-bit WAV written a second at a time (never whole in memory). */
function writeLongWav(file: string, secs: number, rate = 44100): void {
  const n = secs * rate
  const head = Buffer.alloc(44)
  head.write('RIFF', 0, 'ascii')
  head.writeUInt32LE(36 + n * 4, 4)
  head.write('WAVEfmt ', 8, 'ascii')
  head.writeUInt32LE(16, 16)
  head.writeUInt16LE(1, 20)
  head.writeUInt16LE(2, 22)
  head.writeUInt32LE(rate, 24)
  head.writeUInt32LE(rate * 4, 28)
  head.writeUInt16LE(4, 32)
  head.writeUInt16LE(16, 34)
  head.write('data', 36, 'ascii')
  head.writeUInt32LE(n * 4, 40)
  const fd = fs.openSync(file, 'w')
  fs.writeSync(fd, head)
  // one minute of noise plus a tone, computed once and written over and over: generating 2 h sample by
  // sample would cost more CPU than importing it, and repeated content decodes the same way
  const period = 60 * rate
  const block = Buffer.alloc(period * 4)
  let seed = 1
  let a = 0
  let b = 0
  for (let i = 0; i < period; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0
    a = 0.98 * a + 0.1 * ((seed / 4294967296) * 2 - 1)
    seed = (seed * 1103515245 + 12345) >>> 0
    b = 0.98 * b + 0.1 * ((seed / 4294967296) * 2 - 1)
    const tone = 0.2 * Math.sin((2 * Math.PI * 440 * i) / rate)
    block.writeInt16LE(Math.round(Math.max(-1, Math.min(1, 0.3 * a + tone)) * 32000), i * 4)
    block.writeInt16LE(Math.round(Math.max(-1, Math.min(1, 0.3 * b + tone)) * 32000), i * 4 + 2)
  }
  for (let done = 0; done < n; done += period) fs.writeSync(fd, block, 0, Math.min(period, n - done) * 4)
  fs.closeSync(fd)
}

const longDir = path.join(work, 'long')
fs.mkdirSync(longDir)
if (seconds > 0) writeLongWav(path.join(longDir, 'long.wav'), seconds)

const base = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres')
async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: base.toString() })
  await c.connect()
  try {
    await c.query(sql)
  } finally {
    await c.end()
  }
}

interface Row {
  input: string
  concurrency: number
  maxRssMB: number
  cpuS: number
  wallS: number
  ok: boolean
  /** distinct contents decoded and stored */
  computed: number
}
const rows: Row[] = []
const inputs: [string, string][] = [
  ...(seconds > 0 ? ([[`${seconds} s WAV`, longDir]] as [string, string][]) : []),
  ...(dir ? ([[dir, dir]] as [string, string][]) : []),
]
for (const [label, input] of inputs) {
  for (const concurrency of concurrencies) {
    const dbName = `discograph_bench_${crypto.randomBytes(4).toString('hex')}`
    await admin(`CREATE DATABASE ${dbName}`)
    const url = new URL(base)
    url.pathname = `/${dbName}`
    const env = {
      ...process.env,
      DATABASE_URL: url.toString(),
      DATA_DIR: path.join(work, `data-${dbName}`),
      LOG_LEVEL: 'warn',
    }
    try {
      execFileSync('node', [cli, 'db', 'migrate'], { env, stdio: 'ignore' })
      const run = spawnSync(
        '/usr/bin/time',
        ['-v', 'node', cli, 'ingest', 'audio', input, '--concurrency', String(concurrency), '--json'],
        {
          env,
          encoding: 'utf8',
          maxBuffer: 1 << 26,
        },
      )
      const stat = (name: string) =>
        Number(new RegExp(`${name}[^:]*: ([0-9.:]+)`).exec(run.stderr)?.[1] ?? NaN)
      const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(
        run.stderr,
      )
      const row: Row = {
        input: label,
        concurrency,
        maxRssMB: Math.round(stat('Maximum resident set size') / 1024),
        cpuS: Math.round((stat('User time') + stat('System time')) * 10) / 10,
        wallS: wall ? Math.round(Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3])) : NaN,
        ok: run.status === 0,
        computed: Number(/"computed":\s*(\d+)/.exec(run.stdout)?.[1] ?? 0),
      }
      if (!row.ok)
        console.error(
          run.stderr
            .split('\n')
            .filter((l) => !/^\t/.test(l))
            .slice(-8)
            .join('\n'),
        )
      rows.push(row)
      console.log(
        `${label.padEnd(40)} concurrency ${concurrency}  max RSS ${String(row.maxRssMB).padStart(5)} MB  CPU ${row.cpuS} s  wall ${row.wallS} s  stored ${row.computed}  ${row.ok ? 'ok' : 'FAILED'}`,
      )
    } finally {
      await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
      fs.rmSync(env.DATA_DIR, { recursive: true, force: true })
    }
  }
}
fs.rmSync(work, { recursive: true, force: true })
console.log(JSON.stringify({ rows }))

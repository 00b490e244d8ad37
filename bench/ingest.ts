/**
 * Ingest benchmark: `npm run bench:ingest [-- --releases 100000 --no-double]`.
 *
 * Builds a releases dump of N releases by renumbering the 1000 fixture releases (gzipped, in a temp dir),
 * imports it into a fresh, migrated (so fully indexed) database on the real server and prints releases/s
 * and peak RSS. Parsing runs in a worker thread of this process, so process RSS covers it. Then does the
 * same with 2×N releases to show that memory stays flat as the file grows. Ends with one JSON line.
 *
 * Server: DATABASE_URL if set (a fresh database is created beside it), else postgresql://postgres@127.0.0.1:5432.
 */
import 'reflect-metadata'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'
import pg from 'pg'
import { loadConfig } from '../src/config/config.ts'
import { migrate, openDatabase } from '../src/db/database.ts'
import { importDiscogs } from '../src/ingest/discogs/import.ts'

const FIXTURE = path.resolve(import.meta.dirname, '../../shared/fixtures/discogs/discogs_20200806_releases.xml.gz')

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : def
}

/** Writes a gzipped releases dump of `n` records: the fixture's records, renumbered 1..n, cycled. */
async function buildDump(dir: string, n: number): Promise<string> {
  const text = zlib.gunzipSync(fs.readFileSync(FIXTURE)).toString('utf8')
  const records = text
    .split(/\n(?=<release )/) // records may span lines (notes)
    .filter((l) => l.startsWith('<release '))
    .map((l) => l.replace(/\n<\/releases>\s*$/, ''))
  const file = path.join(dir, `discogs_20990101_releases.xml.gz`)
  const gz = zlib.createGzip({ level: 6 })
  const out = fs.createWriteStream(file)
  gz.pipe(out)
  const write = (s: string) => (gz.write(s) ? Promise.resolve() : new Promise<void>((r) => gz.once('drain', r)))
  await write('<releases>\n')
  for (let i = 0; i < n; i++) {
    const r = records[i % records.length].replace(/^<release id="\d+"/, `<release id="${i + 1}"`)
    await write(r + '\n')
  }
  await write('</releases>\n')
  gz.end()
  await new Promise<void>((r) => out.on('close', () => r()))
  return file
}

async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres')
  const name = `discograph_bench_${crypto.randomBytes(4).toString('hex')}`
  const admin = new pg.Client({ connectionString: base.toString() })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(base)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base.toString() })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    },
  }
}

interface Run {
  releases: number
  seconds: number
  releasesPerS: number
  peakRssMb: number
  fileMb: number
}

async function run(n: number, dir: string): Promise<Run> {
  const file = await buildDump(dir, n)
  const fileMb = fs.statSync(file).size / 1e6
  const { url, drop } = await freshDatabase()
  const db = await openDatabase(loadConfig({ DATABASE_URL: url, DATA_DIR: dir, LOG_LEVEL: 'silent' }))
  try {
    await migrate(db)
    global.gc?.()
    const rssBefore = process.memoryUsage().rss
    let peak = rssBefore
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50)
    const t0 = performance.now()
    let lastLog = t0
    const summary = await importDiscogs(db, [file], {
      onProgress: (p) => {
        const now = performance.now()
        if (now - lastLog > 2000) {
          lastLog = now
          const rate = p.records / ((now - t0) / 1000)
          const m = process.memoryUsage()
          const mb = (x: number) => Math.round(x / 1e6)
          console.error(
            `  ${p.records} releases, ${Math.round(rate)}/s, rss ${mb(m.rss)} MB ` +
              `(main thread heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} MB, buffers ${mb(m.arrayBuffers)} MB)`,
          )
        }
      },
    })
    const seconds = (performance.now() - t0) / 1000
    clearInterval(sampler)
    peak = Math.max(peak, process.memoryUsage().rss)
    const steps = Object.entries(summary.writeTimingsMs).sort((a, b) => b[1] - a[1])
    console.error(`  database time by step (ms): ${steps.map(([k, v]) => `${k} ${v}`).join(', ')}`)
    console.error(
      `  index rebuild ${summary.indexRebuildSeconds.toFixed(1)} s; RSS before the import ${Math.round(rssBefore / 1e6)} MB`,
    )
    if (summary.records !== n) throw new Error(`imported ${summary.records} releases, expected ${n}`)
    return { releases: n, seconds, releasesPerS: n / seconds, peakRssMb: peak / 1e6, fileMb }
  } finally {
    await db.close()
    await drop()
    fs.rmSync(file, { force: true })
  }
}

const n = Number(arg('releases', '100000'))
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'discograph-bench-ingest-'))
try {
  console.log(`ingest benchmark: ${n} releases (renumbered fixture records), fresh indexed database, ${os.cpus().length} cores`)
  const runs: Run[] = []
  for (const size of process.argv.includes('--no-double') ? [n] : [n, 2 * n]) {
    const r = await run(size, dir)
    runs.push(r)
    console.log(
      `${r.releases} releases (${r.fileMb.toFixed(0)} MB gz): ${r.seconds.toFixed(1)} s, ` +
        `${Math.round(r.releasesPerS)} releases/s, peak RSS ${r.peakRssMb.toFixed(0)} MB`,
    )
  }
  const first = runs[0]
  const peak = Math.max(...runs.map((r) => r.peakRssMb))
  console.log(
    JSON.stringify({
      releases_per_s: Math.round(first.releasesPerS),
      peak_rss_mb: Math.round(peak),
      releases: first.releases,
      seconds: Number(first.seconds.toFixed(2)),
      ...(runs[1]
        ? {
            double_releases: runs[1].releases,
            double_releases_per_s: Math.round(runs[1].releasesPerS),
            double_peak_rss_mb: Math.round(runs[1].peakRssMb),
          }
        : {}),
    }),
  )
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}

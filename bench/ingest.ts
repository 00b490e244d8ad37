/**
 * Ingest benchmark: `npm run bench:ingest [-- --releases 100000 --no-double --postgres-alone --parse-workers N]`.
 *
 * Builds a releases dump of N releases by renumbering the 1000 fixture releases (test/support/dumps.ts,
 * gzip level 6 like the published dumps; written by a child process, so that building it does not count
 * in this process's memory), imports it into a fresh, migrated (so fully indexed) database on the real
 * server and prints releases/s and peak RSS. Parsing runs in a worker thread of this process, so process
 * RSS covers it. Then does the same with 2×N releases to show that memory stays flat as the file grows.
 * Ends with one JSON line.
 *
 * The machine is shared, so wall-clock figures depend on what else runs. Beside them the bench reports
 * CPU seconds: this process (all its threads) and the database's backends (read from /proc, when the
 * server runs on this machine), which say what the import costs whatever the load.
 *
 * `--postgres-alone` also measures what bounds the import on the database side: the same dump encoded
 * beforehand (by the importer's own reader, into files), then only COPYed into a fresh database and its
 * deferred indexes built — the importer's database work with no parsing at all.
 *
 * Server: DATABASE_URL if set (a fresh database is created beside it), else postgresql://postgres@127.0.0.1:5432.
 */
import 'reflect-metadata'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { from as copyFrom } from 'pg-copy-streams'
import { loadConfig } from '../src/config/config.ts'
import { migrate, openDatabase, type Database } from '../src/db/database.ts'
import { directCopySql } from '../src/db/repositories/catalog-batch-sql.ts'
import type { StageTable } from '../src/db/repositories/catalog-staging.ts'
import { DeferredIndexRepository } from '../src/db/repositories/deferred-index.repository.ts'
import { ImportSession } from '../src/db/repositories/import-session.ts'
import { assignTrackIds } from '../src/ingest/discogs/copy-text-patch.ts'
import { readDumpFile } from '../src/ingest/discogs/dump-reader.ts'
import { importDiscogs } from '../src/ingest/discogs/import.ts'
import { defaultParseWorkers } from '../src/ingest/discogs/parse-workers.ts'
import { createScratchDatabase } from '../test/support/database.ts'
import { buildReleaseDump } from './support/release-dump.ts'

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : def
}
const PARSE_WORKERS = Number(arg('parse-workers', String(defaultParseWorkers())))

/** A fresh database beside DATABASE_URL's (default: the local server). */
const freshDatabase = () =>
  createScratchDatabase(
    process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
    'discograph_bench',
  )

/**
 * CPU seconds used by the database's backends (and their parallel workers) while it runs: /proc/<pid>/stat
 * of every backend connected to the database, sampled, so backends that come and go are counted too.
 * Null when /proc does not show them (a server on another machine).
 */
function backendCpu(db: Database): { stop: () => Promise<number | null> } {
  const ticks = new Map<number, number>()
  let visible = true
  const sample = async () => {
    const { rows } = await db.pool.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    )
    for (const { pid } of rows) {
      try {
        // utime and stime are fields 14 and 15; the command name (field 2) may hold spaces, so count after ')'
        const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
        ticks.set(pid, Number(f[11]) + Number(f[12]))
      } catch {
        visible = false
      }
    }
  }
  let pending = sample()
  const timer = setInterval(() => (pending = pending.then(sample).catch(() => undefined)), 200)
  return {
    async stop() {
      clearInterval(timer)
      await pending
      await sample().catch(() => undefined)
      if (!visible) return null
      return [...ticks.values()].reduce((a, b) => a + b, 0) / 100 // USER_HZ
    },
  }
}

interface Run {
  releases: number
  seconds: number
  releasesPerS: number
  peakRssMb: number
  fileMb: number
  /** CPU seconds of this process (parser, writer, gunzip) and of the database's backends */
  cpuImporter: number
  cpuDatabase: number | null
  indexSeconds: number
  load: string
}

const loadavg = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')

async function run(n: number, dir: string): Promise<Run> {
  const file = buildReleaseDump(dir, n)
  const fileMb = fs.statSync(file).size / 1e6
  const { url, drop } = await freshDatabase()
  const db = await openDatabase(loadConfig({ DATABASE_URL: url, DATA_DIR: dir, LOG_LEVEL: 'silent' }))
  try {
    await migrate(db)
    global.gc?.()
    const rssBefore = process.memoryUsage().rss
    let peak = rssBefore
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50)
    const load = loadavg()
    const dbCpu = backendCpu(db)
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    let lastLog = t0
    const summary = await importDiscogs(db, [file], {
      parseWorkers: PARSE_WORKERS,
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
    const c = process.cpuUsage(cpu0)
    const cpuDatabase = await dbCpu.stop()
    clearInterval(sampler)
    peak = Math.max(peak, process.memoryUsage().rss)
    const steps = Object.entries(summary.writeTimingsMs).sort((a, b) => b[1] - a[1])
    console.error(`  database time by step (ms): ${steps.map(([k, v]) => `${k} ${v}`).join(', ')}`)
    console.error(
      `  index rebuild ${summary.indexRebuildSeconds.toFixed(1)} s; analyze ${summary.analyzeSeconds.toFixed(1)} s; RSS before the import ${Math.round(rssBefore / 1e6)} MB`,
    )
    if (summary.records !== n) throw new Error(`imported ${summary.records} releases, expected ${n}`)
    return {
      releases: n,
      seconds,
      releasesPerS: n / seconds,
      peakRssMb: peak / 1e6,
      fileMb,
      cpuImporter: (c.user + c.system) / 1e6,
      cpuDatabase,
      indexSeconds: summary.indexRebuildSeconds,
      load,
    }
  } finally {
    await db.close()
    await drop()
    fs.rmSync(file, { force: true })
  }
}

/**
 * The database's share alone: the dump encoded into per-table files first (as the parse worker encodes
 * it, track ids assigned as the writer assigns them), then COPYed from those files into a fresh database
 * (indexes deferred and foreign-key checks skipped as in a first import) and the indexes built.
 */
async function postgresAlone(
  n: number,
  dir: string,
): Promise<{ copySeconds: number; indexSeconds: number; releasesPerS: number; load: string }> {
  const file = buildReleaseDump(dir, n)
  const out = fs.mkdtempSync(path.join(dir, 'copy-'))
  const files = new Map<StageTable, number>()
  let base = 0
  for await (const ev of readDumpFile(file, { encoding: 'copy', dumpDate: '20990101' })) {
    if (ev.kind !== 'batch') continue
    for (const [t, data] of Object.entries(ev.batch.tables) as [StageTable, Uint8Array][]) {
      const offsets = ev.batch.trackNumbers[t]
      if (offsets) assignTrackIds(data, offsets, base)
      if (!files.has(t)) files.set(t, fs.openSync(path.join(out, t), 'w'))
      fs.writeSync(files.get(t)!, data)
    }
    base += ev.batch.rows.stage_track ?? 0
  }
  for (const fd of files.values()) fs.closeSync(fd)
  fs.rmSync(file, { force: true })
  const { url, drop } = await freshDatabase()
  const db = await openDatabase(loadConfig({ DATABASE_URL: url, DATA_DIR: dir, LOG_LEVEL: 'silent' }))
  try {
    await migrate(db)
    const session = await ImportSession.open(db)
    const indexes = new DeferredIndexRepository(session)
    const load = loadavg()
    try {
      await indexes.deferIndexes('releases')
      const client = await db.pool.connect()
      const t0 = performance.now()
      try {
        await client.query('SET synchronous_commit = off')
        await client.query('BEGIN')
        await client.query('SET LOCAL session_replication_role = replica')
        for (const t of files.keys())
          await pipeline(
            fs.createReadStream(path.join(out, t), { highWaterMark: 1 << 20 }),
            client.query(copyFrom(directCopySql(t))),
          )
        await client.query('COMMIT')
      } finally {
        client.release()
      }
      const t1 = performance.now()
      await indexes.restoreDeferredIndexes()
      const t2 = performance.now()
      return {
        copySeconds: (t1 - t0) / 1000,
        indexSeconds: (t2 - t1) / 1000,
        releasesPerS: n / ((t2 - t0) / 1000),
        load,
      }
    } finally {
      await session.close()
    }
  } finally {
    await db.close()
    await drop()
    fs.rmSync(out, { recursive: true, force: true })
  }
}

const n = Number(arg('releases', '100000'))
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'discograph-bench-ingest-'))
try {
  console.log(
    `ingest benchmark: ${n} releases (renumbered fixture records), fresh indexed database, ${os.cpus().length} cores, ${PARSE_WORKERS} parse workers`,
  )
  const runs: Run[] = []
  for (const size of process.argv.includes('--no-double') ? [n] : [n, 2 * n]) {
    const r = await run(size, dir)
    runs.push(r)
    const dbCpu = r.cpuDatabase === null ? 'not visible' : `${r.cpuDatabase.toFixed(1)} s`
    console.log(
      `${r.releases} releases (${r.fileMb.toFixed(0)} MB gz): ${r.seconds.toFixed(1)} s (indexes ${r.indexSeconds.toFixed(1)} s), ` +
        `${Math.round(r.releasesPerS)} releases/s, peak RSS ${r.peakRssMb.toFixed(0)} MB; ` +
        `CPU: importer ${r.cpuImporter.toFixed(1)} s, database ${dbCpu}; load average ${r.load}`,
    )
  }
  let alone: Awaited<ReturnType<typeof postgresAlone>> | null = null
  if (process.argv.includes('--postgres-alone')) {
    alone = await postgresAlone(n, dir)
    console.log(
      `Postgres alone (${n} releases pre-encoded): COPY ${alone.copySeconds.toFixed(1)} s + indexes ${alone.indexSeconds.toFixed(1)} s, ` +
        `${Math.round(alone.releasesPerS)} releases/s; load average ${alone.load}`,
    )
  }
  const first = runs[0]
  const peak = Math.max(...runs.map((r) => r.peakRssMb))
  console.log(
    JSON.stringify({
      releases_per_s: Math.round(first.releasesPerS),
      peak_rss_mb: Math.round(peak),
      releases: first.releases,
      parse_workers: PARSE_WORKERS,
      seconds: Number(first.seconds.toFixed(2)),
      index_seconds: Number(first.indexSeconds.toFixed(2)),
      cpu_importer_s: Number(first.cpuImporter.toFixed(1)),
      cpu_database_s: first.cpuDatabase === null ? null : Number(first.cpuDatabase.toFixed(1)),
      load_average: first.load,
      ...(runs[1]
        ? {
            double_releases: runs[1].releases,
            double_releases_per_s: Math.round(runs[1].releasesPerS),
            double_peak_rss_mb: Math.round(runs[1].peakRssMb),
          }
        : {}),
      ...(alone
        ? {
            postgres_alone_releases_per_s: Math.round(alone.releasesPerS),
            postgres_alone_copy_s: Number(alone.copySeconds.toFixed(2)),
            postgres_alone_index_s: Number(alone.indexSeconds.toFixed(2)),
          }
        : {}),
    }),
  )
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}

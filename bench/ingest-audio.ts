/**
 * Audio import benchmark: `npm run bench:audio [-- --size small --threads 1,2 --reps 2]`.
 *
 * Writes a synthetic catalog (default `small`: 377 WAV files, 22.05 kHz stereo, so decoding resamples and
 * downmixes), imports its dumps into a fresh database on the real server (DATABASE_URL's server if set,
 * else postgresql://postgres@127.0.0.1:5432), then imports the audio with its manifest once per thread
 * count and repetition, alternating, from an empty audio table and feature store each time; then once
 * more with nothing changed. Prints files/s, audio seconds per second and CPU seconds (all threads) per
 * run, the load average (the machine is shared), and ends with one JSON line.
 */
import 'reflect-metadata'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { loadConfig } from '../src/config/config.ts'
import { migrate, openDatabase } from '../src/db/database.ts'
import { importAudio, type AudioImportSummary } from '../src/ingest/audio/import.ts'
import { importDiscogs } from '../src/ingest/discogs/import.ts'
import { SearchService } from '../src/services/search.service.ts'
import { writeSyntheticCatalog } from '../src/synth/catalog-writer.ts'
import { worldOptions, type SynthSize } from '../src/synth/world.ts'

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : def
}

const size = arg('size', 'small') as SynthSize
const threadCounts = arg('threads', `1,${os.availableParallelism()}`).split(',').map(Number)
const reps = Number(arg('reps', '2'))

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'discograph-bench-audio-'))
const base = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres')
const dbName = `discograph_bench_${crypto.randomBytes(4).toString('hex')}`
const admin = new pg.Client({ connectionString: base.toString() })
await admin.connect()
await admin.query(`CREATE DATABASE ${dbName}`)
await admin.end()
const url = new URL(base)
url.pathname = `/${dbName}`

const dataDir = path.join(work, 'data')
const db = await openDatabase(
  loadConfig({ DATABASE_URL: url.toString(), DATA_DIR: dataDir, LOG_LEVEL: 'silent' }),
)
try {
  await migrate(db)
  const out = path.join(work, 'catalog')
  const synth = await writeSyntheticCatalog({
    ...worldOptions(size, { seed: 1 }),
    out,
    sampleRate: 22050,
    channels: 2,
    dumpDate: '20250101',
  })
  await importDiscogs(db, Object.values(synth.dumps))
  console.log(
    `audio import benchmark: synth ${size}, ${synth.audioFiles} WAV files, ${Math.round(synth.audioSeconds)} s of 22.05 kHz stereo, ` +
      `${os.availableParallelism()} cores`,
  )

  const runOnce = async (
    concurrency: number,
  ): Promise<{ s: AudioImportSummary; cpuSeconds: number; load: number }> => {
    const cpu0 = process.cpuUsage()
    const s = await importAudio(db, path.join(out, 'audio'), {
      dataDir,
      search: new SearchService(db.pool),
      manifest: synth.manifest,
      concurrency,
    })
    const cpu = process.cpuUsage(cpu0)
    return { s, cpuSeconds: (cpu.user + cpu.system) / 1e6, load: os.loadavg()[0] }
  }
  const results: Record<string, number>[] = []
  for (let rep = 0; rep < reps; rep++) {
    for (const threads of threadCounts) {
      await db.pool.query(`DELETE FROM audio_file`)
      fs.rmSync(path.join(dataDir, 'features'), { recursive: true, force: true })
      const { s, cpuSeconds, load } = await runOnce(threads)
      if (s.match.linked !== synth.audioFiles)
        throw new Error(`linked ${s.match.linked} of ${synth.audioFiles} files`)
      const r = {
        concurrency: threads,
        threads: s.threads,
        files: s.files.new,
        seconds: +s.elapsedSeconds.toFixed(2),
        filesPerSecond: +s.filesPerSecond.toFixed(1),
        realtime: Math.round(s.audioSecondsPerSecond),
        cpuSeconds: +cpuSeconds.toFixed(1),
        load1: +load.toFixed(1),
      }
      results.push(r)
      console.log(
        `  --concurrency ${threads}: ${r.files} files in ${r.seconds} s = ${r.filesPerSecond} files/s, ${r.realtime}× realtime, ` +
          `${r.cpuSeconds} CPU s (load ${r.load1})`,
      )
    }
  }
  const again = await runOnce(Math.max(...threadCounts))
  if (again.s.files.unchanged !== synth.audioFiles)
    throw new Error(`re-run saw ${again.s.files.unchanged} unchanged files`)
  console.log(
    `  re-run, nothing changed: ${again.s.files.unchanged} files skipped in ${again.s.elapsedSeconds.toFixed(2)} s`,
  )

  const best = (n: number) =>
    Math.max(...results.filter((r) => r.concurrency === n).map((r) => r.filesPerSecond))
  console.log(
    JSON.stringify({
      bench: 'ingest-audio',
      size,
      files: synth.audioFiles,
      audioSeconds: Math.round(synth.audioSeconds),
      cpus: os.availableParallelism(),
      ...Object.fromEntries(threadCounts.map((n) => [`files_per_s_${n}`, best(n)])),
      rerun_seconds: +again.s.elapsedSeconds.toFixed(2),
      runs: results,
    }),
  )
} finally {
  await db.close()
  const c = new pg.Client({ connectionString: base.toString() })
  await c.connect()
  await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
  await c.end()
  fs.rmSync(work, { recursive: true, force: true })
}

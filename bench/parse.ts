/**
 * Parse benchmark: `npm run bench:parse [-- --releases 100000 --runs 3 --main-thread --digest]`.
 *
 * The importer's parse path alone, with no database: the renumbered releases dump that bench:ingest
 * imports (writeRenumberedReleaseDump, gzip level 6), read by readDumpFileInWorkers with COPY encoding as
 * the importer reads it — gunzip and cutting into segments of whole records on this thread, tokenizer,
 * record parsers, COPY encoding and hashing in the workers, the batches transferred to this thread and
 * dropped. `--workers N` sets the number of parse workers (default: the
 * importer's, one per core). Prints releases/s, CPU seconds (all threads of this process) and peak RSS per run, then one JSON line (the best run, by CPU seconds).
 *
 * The dump is built once per size and fixture by a child process (so that building it does not count in
 * this process's memory) and kept under os.tmpdir()/discograph-bench-parse for later runs.
 *
 * `--main-thread` parses on this thread (readDumpFile) instead of in a worker, e.g. for
 * `node --cpu-prof --import tsx bench/parse.ts --main-thread`. `--digest` prints a SHA-1 over every
 * batch's tables, track number offsets and ids: equal digests before and after a change to the parser
 * mean it emits the same bytes (it costs time, so figures of a digest run are not comparable).
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { readDumpFile, type ReadOptions, type ReaderEvent } from '../src/ingest/discogs/dump-reader.ts'
import { defaultParseWorkers, readDumpFileInWorkers } from '../src/ingest/discogs/parse-workers.ts'
import { FIXTURES } from '../test/support/cli.ts'
import { buildReleaseDump } from './support/release-dump.ts'

const FIXTURE = path.join(FIXTURES, 'discogs_20200806_releases.xml.gz')

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : def
}

/** The cached dump of n releases, built when missing (keyed by the fixture's content, so it follows it). */
function cachedDump(n: number): string {
  const fixture = crypto.createHash('sha1').update(fs.readFileSync(FIXTURE)).digest('hex').slice(0, 12)
  const dir = path.join(os.tmpdir(), 'discograph-bench-parse', `${n}-${fixture}`)
  const file = path.join(dir, 'discogs_20990101_releases.xml.gz')
  if (fs.existsSync(file)) return file
  // Built beside the final place and renamed, so that an interrupted build is never taken for a dump.
  fs.mkdirSync(path.dirname(dir), { recursive: true })
  const tmp = fs.mkdtempSync(`${dir}.tmp-`)
  buildReleaseDump(tmp, n)
  fs.rmSync(dir, { recursive: true, force: true })
  fs.renameSync(tmp, dir)
  return file
}

interface Run {
  releases: number
  seconds: number
  releasesPerS: number
  cpuSeconds: number
  cpuUsPerRelease: number
  peakRssMb: number
  batches: number
  encodedMb: number
  digest: string | null
}

async function run(file: string, mainThread: boolean, workers: number, digest: boolean): Promise<Run> {
  const opts: ReadOptions = { encoding: 'copy', dumpDate: '20990101' }
  const events: AsyncIterable<ReaderEvent> = mainThread
    ? readDumpFile(file, opts)
    : readDumpFileInWorkers(file, opts, workers)
  global.gc?.()
  let peak = process.memoryUsage().rss
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)
  const hash = digest ? crypto.createHash('sha1') : null
  let releases = 0
  let batches = 0
  let encoded = 0
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  for await (const ev of events) {
    if (ev.kind !== 'batch') continue
    const b = ev.batch
    releases += b.records
    batches++
    for (const [t, data] of Object.entries(b.tables)) {
      encoded += data.byteLength
      if (hash) {
        hash.update(t).update(data)
        const offsets = b.trackNumbers[t as keyof typeof b.trackNumbers]
        if (offsets) hash.update(new Uint8Array(offsets.buffer, offsets.byteOffset, offsets.byteLength))
      }
    }
    hash?.update(JSON.stringify([b.ids, b.rows, b.skippedNoId, b.droppedRows, b.unknown]))
  }
  const seconds = (performance.now() - t0) / 1000
  const c = process.cpuUsage(cpu0)
  clearInterval(sampler)
  peak = Math.max(peak, process.memoryUsage().rss)
  const cpuSeconds = (c.user + c.system) / 1e6
  return {
    releases,
    seconds,
    releasesPerS: releases / seconds,
    cpuSeconds,
    cpuUsPerRelease: (cpuSeconds * 1e6) / releases,
    peakRssMb: peak / 1e6,
    batches,
    encodedMb: encoded / 1e6,
    digest: hash?.digest('hex') ?? null,
  }
}

const n = Number(arg('releases', '100000'))
const runs = Number(arg('runs', '3'))
const mainThread = process.argv.includes('--main-thread')
const workers = Number(arg('workers', String(defaultParseWorkers())))
const digest = process.argv.includes('--digest')
const file = cachedDump(n)
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')
console.log(
  `parse benchmark: ${n} releases (${(fs.statSync(file).size / 1e6).toFixed(0)} MB gz, ${file}), ` +
    `${mainThread ? 'main thread' : `${workers} worker threads`}, COPY encoding, ${os.cpus().length} cores`,
)
const results: Run[] = []
for (let i = 0; i < runs; i++) {
  const r = await run(file, mainThread, workers, digest)
  if (r.releases !== n) throw new Error(`parsed ${r.releases} releases, expected ${n}`)
  results.push(r)
  console.log(
    `run ${i + 1}: ${r.seconds.toFixed(2)} s, ${Math.round(r.releasesPerS)} releases/s, CPU ${r.cpuSeconds.toFixed(2)} s ` +
      `(${r.cpuUsPerRelease.toFixed(0)} µs/release), peak RSS ${r.peakRssMb.toFixed(0)} MB, ${r.batches} batches, ` +
      `${r.encodedMb.toFixed(0)} MB COPY text${r.digest ? `, digest ${r.digest}` : ''}; load average ${load()}`,
  )
}
// The least CPU is the run least disturbed by the rest of the machine; peak RSS is the worst of all runs.
const best = results.reduce((a, b) => (b.cpuSeconds < a.cpuSeconds ? b : a))
console.log(
  JSON.stringify({
    releases: n,
    releases_per_s: Math.round(best.releasesPerS),
    seconds: Number(best.seconds.toFixed(2)),
    cpu_s: Number(best.cpuSeconds.toFixed(2)),
    cpu_us_per_release: Math.round(best.cpuUsPerRelease),
    peak_rss_mb: Math.round(Math.max(...results.map((r) => r.peakRssMb))),
    runs,
    thread: mainThread ? 'main' : 'worker',
    ...(mainThread ? {} : { workers }),
    ...(best.digest ? { digest: best.digest } : {}),
    load_average: load(),
  }),
)

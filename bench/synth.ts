/**
 * Synthetic catalog benchmark: `npm run bench:synth [-- --workers 2]`.
 *
 * Writes the `demo` preset at 16 kHz mono (the demo's setting) and the `small` preset at 22.05 kHz
 * stereo (the default) into temp dirs, and prints wall time, audio seconds rendered per wall second
 * (× realtime) and files per second for each, plus one single-thread render run for the per-core figure.
 * Ends with one JSON line.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { writeSyntheticCatalog } from '../src/synth/catalog-writer.ts'
import { worldOptions, type SynthSize } from '../src/synth/world.ts'

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : def
}

const workers = Number(arg('workers', String(Math.min(4, os.availableParallelism()))))
const runs: { name: string; size: SynthSize; sampleRate: number; channels: 1 | 2; workers: number }[] = [
  { name: 'demo-16k-mono', size: 'demo', sampleRate: 16000, channels: 1, workers },
  { name: 'demo-16k-mono-1thread', size: 'demo', sampleRate: 16000, channels: 1, workers: 1 },
  { name: 'small-22k-stereo', size: 'small', sampleRate: 22050, channels: 2, workers },
]
const results: Record<string, unknown>[] = []
for (const r of runs) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'discograph-bench-synth-'))
  try {
    const s = await writeSyntheticCatalog({
      ...worldOptions(r.size, { seed: 1 }),
      out,
      sampleRate: r.sampleRate,
      channels: r.channels,
      dumpDate: '20250101',
      workers: r.workers,
    })
    const res = {
      run: r.name,
      workers: s.workers,
      tracks: s.audioFiles,
      audioSeconds: s.audioSeconds,
      wallSeconds: +s.elapsedSeconds.toFixed(2),
      realtime: Math.round(s.audioSeconds / s.elapsedSeconds),
      tracksPerSecond: +(s.audioFiles / s.elapsedSeconds).toFixed(1),
    }
    results.push(res)
    console.log(
      `${r.name.padEnd(24)} ${String(res.tracks).padStart(4)} tracks, ${res.audioSeconds} s audio in ${res.wallSeconds} s ` +
        `with ${res.workers} thread(s): ${res.realtime}× realtime, ${res.tracksPerSecond} tracks/s`,
    )
  } finally {
    fs.rmSync(out, { recursive: true, force: true })
  }
}
console.log(
  JSON.stringify({ bench: 'synth', node: process.version, cpus: os.availableParallelism(), results }),
)

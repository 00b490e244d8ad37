/**
 * Mix and path latency: `npm run bench:mix [-- --tracks 100000 --queries 60]`.
 *
 * A fresh, migrated database on the real server gets bench:knn's synthetic catalogue (10 tracks per release,
 * 10 releases per artist) and its clustered unit vectors at 128 dimensions — the width of the served,
 * whitened search vectors — as one model's `projection` vectors; their search vectors are refitted (`raw`:
 * the vectors are already what whitening gives, unit directions around a centred library) and the HNSW index
 * built. Then, through MixService in this process, for random seeds: instantMix (first 50, maxPerArtist 3),
 * radio (first 20, after a 50-track history) and trackPath (12 steps) between two random tracks. Prints
 * (and once with the artist cap at 50, which needs no further neighbour fetches on this catalogue)
 * wall-clock p50/p95 per operation, this process's CPU time per operation (process.cpuUsage; PostgreSQL's
 * share is not in it), the machine's load, and one JSON line.
 *
 * Options (argv, or the env variable in brackets):
 *   --tracks   embedded tracks [MIX_TRACKS] (default 100000)
 *   --queries  timed calls per operation [MIX_QUERIES] (default 60)
 */
import 'reflect-metadata'
import os from 'node:os'
import { SeededRandom } from '../src/random/seeded-random.ts'
import { MixService } from '../src/services/mix.service.ts'
import { SimilarityService } from '../src/services/similarity.service.ts'
import { freshDatabase, syntheticCatalog } from './knn.ts'
import { embedSynthetic } from './support/synthetic-embeddings.ts'

const DIMS = 128
const opt = (name: string, env: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : (process.env[env] ?? def)
}
const n = Number(opt('tracks', 'MIX_TRACKS', '100000'))
const queries = Number(opt('queries', 'MIX_QUERIES', '60'))
const log = (msg: string) => console.error(`[mix ${new Date().toISOString().slice(11, 19)}] ${msg}`)
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]

async function main() {
  const { db, drop } = await freshDatabase()
  try {
    log(`${n} tracks × ${DIMS}: catalogue and vectors`)
    const trackIds = await syntheticCatalog(db, n)
    // titles make recordings distinguishable (bench:knn's catalogue leaves them empty)
    await db.pool.query(`UPDATE track SET title = 'Track ' || id`)
    await embedSynthetic(db, 'bench-mix', trackIds, DIMS, log)

    const mixes = new MixService(db, new SimilarityService(db))
    const rng = new SeededRandom(7)
    const pick = () => trackIds[rng.int(n)]
    const history = (await mixes.instantMix({ seeds: [pick()], model: 'bench-mix', first: 50 })).tracks.map(
      (t) => t.trackId,
    )
    const ops: Record<string, () => Promise<number>> = {
      instantMix: async () =>
        (await mixes.instantMix({ seeds: [pick()], model: 'bench-mix', first: 50, maxPerArtist: 3 })).tracks
          .length,
      // one round of neighbours: the cost of a mix the artist cap does not make fetch more
      instantMixUncapped: async () =>
        (await mixes.instantMix({ seeds: [pick()], model: 'bench-mix', first: 50, maxPerArtist: 50 })).tracks
          .length,
      radio: async () =>
        (await mixes.radio({ seeds: [history[0]], exclude: history, model: 'bench-mix', first: 20 })).tracks
          .length,
      trackPath: async () =>
        (await mixes.trackPath({ from: pick(), to: pick(), model: 'bench-mix', steps: 12 })).tracks.length,
    }
    const results: Record<string, unknown> = {
      tracks: n,
      dims: DIMS,
      queries,
      cpus: os.cpus().length,
      load: os.loadavg().map((x) => Number(x.toFixed(1))),
    }
    for (const [name, run] of Object.entries(ops)) {
      for (let i = 0; i < 3; i++) await run() // warm the caches and the plan
      const wall: number[] = []
      let tracks = 0
      const cpu0 = process.cpuUsage()
      for (let i = 0; i < queries; i++) {
        const t0 = performance.now()
        tracks += await run()
        wall.push(performance.now() - t0)
      }
      const cpu = process.cpuUsage(cpu0)
      const r = {
        p50_ms: Number(percentile(wall, 50).toFixed(1)),
        p95_ms: Number(percentile(wall, 95).toFixed(1)),
        node_cpu_ms_per_call: Number(((cpu.user + cpu.system) / 1000 / queries).toFixed(1)),
        mean_tracks: Number((tracks / queries).toFixed(1)),
      }
      results[name] = r
      console.log(
        `${name.padEnd(18)} p50 ${r.p50_ms} ms  p95 ${r.p95_ms} ms  node CPU ${r.node_cpu_ms_per_call} ms/call  ${r.mean_tracks} tracks`,
      )
    }
    results.loadAfter = os.loadavg().map((x) => Number(x.toFixed(1)))
    console.log(JSON.stringify(results))
  } finally {
    await drop()
  }
}

await main()

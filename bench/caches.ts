/**
 * lru-cache against the hand-written Map LRUs it replaced (#22): the feature store's open files, read once
 * per training patch, and a cache hit as the GraphQL executor's compiled operations see one.
 * CPU time (process.cpuUsage), median of 6 runs, the two alternated.  Usage: npx tsx bench/caches.ts
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { LRUCache } from 'lru-cache'
import { FeatureStore } from '../src/audio/feature-store.ts'
import { MEL_BANDS } from '../src/audio/mel.ts'
import { PATCH_FRAMES } from '../src/audio/patches.ts'

const REPS = 6
const cpuMs = (f: () => void) => {
  const c0 = process.cpuUsage()
  f()
  const c = process.cpuUsage(c0)
  return (c.user + c.system) / 1000
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
function alternate(runs: Record<string, () => void>): Record<string, number> {
  const ms: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]))
  for (let r = 0; r < REPS; r++) for (const [k, run] of Object.entries(runs)) ms[k].push(cpuMs(run))
  return Object.fromEntries(Object.entries(ms).map(([k, xs]) => [k, Math.round(median(xs))]))
}

/**
 * The feature store with its open files in a Map (as it was) or in lru-cache (as it is): the same class,
 * each with its private `open` replaced, so that both run the same code around the cache.
 */
class MapStore extends FeatureStore {
  readonly mapFds = new Map<string, number>()
  override close(): void {
    for (const fd of this.mapFds.values()) fs.closeSync(fd)
  }
}
Object.defineProperty(MapStore.prototype, 'open', {
  value(this: MapStore, sha256: string): number {
    let fd = this.mapFds.get(sha256)
    if (fd !== undefined) {
      this.mapFds.delete(sha256) // re-insert: Map order doubles as LRU order
      this.mapFds.set(sha256, fd)
      return fd
    }
    fd = fs.openSync(this.pathOf(sha256), 'r')
    this.mapFds.set(sha256, fd)
    if (this.mapFds.size > 64) {
      const [oldest, ofd] = this.mapFds.entries().next().value as [string, number]
      fs.closeSync(ofd)
      this.mapFds.delete(oldest)
    }
    return fd
  },
})
class LruStore extends FeatureStore {
  readonly lruFds = new LRUCache<string, number>({ max: 64, dispose: (fd) => fs.closeSync(fd) })
  override close(): void {
    this.lruFds.clear()
  }
}
Object.defineProperty(LruStore.prototype, 'open', {
  value(this: LruStore, sha256: string): number {
    let fd = this.lruFds.get(sha256)
    if (fd !== undefined) return fd
    fd = fs.openSync(this.pathOf(sha256), 'r')
    this.lruFds.set(sha256, fd)
    return fd
  },
})

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'discograph-bench-caches-'))
try {
  const FRAMES = 400
  const READS = 100_000
  const writer = new FeatureStore(dir)
  const shas = Array.from({ length: 100 }, (_, i) => {
    const sha = crypto.createHash('sha256').update(String(i)).digest('hex')
    writer.write(sha, new Float32Array(FRAMES * MEL_BANDS).fill(i), FRAMES)
    return sha
  })
  const out = new Float32Array(PATCH_FRAMES * MEL_BANDS)
  for (const files of [48, 100]) {
    // the same pseudo-random sequence of files for both
    const order = Array.from({ length: READS }, (_, k) => shas[(k * 7919 + (k >> 3)) % files])
    const ms = alternate({
      map: () => {
        const s = new MapStore(dir)
        for (const sha of order) s.readPatchInto(sha, FRAMES, 0, 62, out)
        s.close()
      },
      lru: () => {
        const s = new LruStore(dir)
        for (const sha of order) s.readPatchInto(sha, FRAMES, 0, 62, out)
        s.close()
      },
    })
    console.log(
      `patch reads, ${READS} over ${files} files (64 kept open): Map ${ms.map} CPU-ms, lru-cache ${ms.lru} CPU-ms`,
    )
  }

  const keys = Array.from({ length: 20 }, (_, i) => `query Op${i} { release(id: ${i}) { title } }`)
  const HITS = 2_000_000
  const ms = alternate({
    map: () => {
      const m = new Map(keys.map((k) => [k, {}]))
      for (let i = 0; i < HITS; i++) {
        const k = keys[i % keys.length]
        const hit = m.get(k)!
        m.delete(k)
        m.set(k, hit)
      }
    },
    lru: () => {
      const m = new LRUCache<string, object>({ max: 500 })
      for (const k of keys) m.set(k, {})
      for (let i = 0; i < HITS; i++) m.get(keys[i % keys.length])
    },
  })
  console.log(`cache hits, ${HITS}: Map re-insert ${ms.map} CPU-ms, lru-cache get ${ms.lru} CPU-ms`)
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}

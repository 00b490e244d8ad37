import { UMAP } from 'umap-js'
import { cosineDistance } from './embedding/pooling.ts'
import { SeededRandom } from '../random/seeded-random.ts'

/**
 * 2-D map of embeddings for the UI: UMAP (cosine) with a seeded random source, so the same vectors give
 * the same picture on every reload. Coordinates are rescaled to [0, 1].
 */
export function projectTo2d(
  vectors: Float32Array[],
  options: { seed?: number; nNeighbors?: number } = {},
): Float32Array {
  const n = vectors.length
  const out = new Float32Array(n * 2)
  if (n === 0) return out
  if (n < 4) {
    // UMAP needs a neighbourhood; with fewer points, spread them on a line.
    for (let i = 0; i < n; i++) out[2 * i] = n === 1 ? 0.5 : i / (n - 1)
    return out
  }
  const rng = new SeededRandom(options.seed ?? 1)
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: Math.min(options.nNeighbors ?? 15, n - 1),
    minDist: 0.1,
    random: () => rng.next(),
    distanceFn: cosineDistance,
  })
  const xy = umap.fit(vectors.map((v) => Array.from(v)))
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity]
  for (const [x, y] of xy) {
    x0 = Math.min(x0, x)
    x1 = Math.max(x1, x)
    y0 = Math.min(y0, y)
    y1 = Math.max(y1, y)
  }
  xy.forEach(([x, y], i) => {
    out[2 * i] = (x - x0) / (x1 - x0 || 1)
    out[2 * i + 1] = (y - y0) / (y1 - y0 || 1)
  })
  return out
}

import { describe, expect, it } from 'vitest'
import { projectTo2d } from '../../src/ml/projection.ts'
import { SeededRandom } from '../../src/random/seeded-random.ts'

function clusters(
  k: number,
  perCluster: number,
  dim: number,
  seed: number,
): { vectors: Float32Array[]; labels: number[] } {
  const rng = new SeededRandom(seed)
  const centres = Array.from({ length: k }, () =>
    Float32Array.from({ length: dim }, () => rng.next() * 2 - 1),
  )
  const vectors: Float32Array[] = []
  const labels: number[] = []
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < perCluster; i++) {
      vectors.push(centres[c].map((x) => x + (rng.next() - 0.5) * 0.2))
      labels.push(c)
    }
  }
  return { vectors, labels }
}

describe('projectTo2d', () => {
  it('keeps clusters apart and is reproducible under a seed', () => {
    const { vectors, labels } = clusters(3, 30, 32, 3)
    const xy = projectTo2d(vectors, { seed: 7 })
    expect(Array.from(projectTo2d(vectors, { seed: 7 }))).toEqual(Array.from(xy))
    for (const v of xy) expect(v).toBeGreaterThanOrEqual(0)
    // nearest neighbour in 2-D shares the cluster for (almost) every point
    let agree = 0
    for (let i = 0; i < labels.length; i++) {
      let best = -1
      let bestD = Infinity
      for (let j = 0; j < labels.length; j++) {
        if (i === j) continue
        const d = (xy[2 * i] - xy[2 * j]) ** 2 + (xy[2 * i + 1] - xy[2 * j + 1]) ** 2
        if (d < bestD) [best, bestD] = [j, d]
      }
      if (labels[best] === labels[i]) agree++
    }
    expect(agree / labels.length).toBeGreaterThan(0.95)
  })

  it('handles tiny inputs', () => {
    expect(Array.from(projectTo2d([]))).toEqual([])
    expect(Array.from(projectTo2d([new Float32Array([1, 0]), new Float32Array([0, 1])]))).toEqual([
      0, 0, 1, 0,
    ])
  })
})

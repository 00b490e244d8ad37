import fs from 'node:fs'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../src/ml/engine/backend.ts'
import { macroRocAuc, accuracy } from '../../src/ml/metrics.ts'
import {
  buildProbeModel,
  foldStandardisation,
  predictScores,
  standardisation,
  trainProbeMlp,
  type Matrix,
} from '../../src/ml/probes/mlp.ts'
import { loadLayersModel, saveLayersModel } from '../../src/ml/probes/probe-files.ts'
import { SeededRandom } from '../../src/random/seeded-random.ts'
import { tmpDir } from '../support/database.ts'

beforeAll(async () => {
  await initBackend()
})

/** Gaussian blobs: class c is centred on its own random direction, scaled small like L2-normalised vectors. */
function blobs(
  rows: number,
  dims: number,
  classes: number,
  seed: number,
  signal: number,
  rowSeed = seed + 1000,
) {
  const rng = new SeededRandom(seed)
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next())
  const centres = Array.from({ length: classes }, () => Array.from({ length: dims }, gauss))
  const rngRows = new SeededRandom(rowSeed)
  const g2 = () => Math.sqrt(-2 * Math.log(1 - rngRows.next())) * Math.cos(2 * Math.PI * rngRows.next())
  const x = new Float32Array(rows * dims)
  const truth = new Int32Array(rows)
  for (let r = 0; r < rows; r++) {
    const c = r % classes
    truth[r] = c
    for (let d = 0; d < dims; d++) x[r * dims + d] = (signal * centres[c][d] + g2()) * 0.03 + 0.01
  }
  const y = new Uint8Array(rows * classes)
  truth.forEach((c, r) => (y[r * classes + c] = 1))
  return { x: { data: x, rows, cols: dims } satisfies Matrix, y, truth }
}

describe('probe MLP', () => {
  it('learns separable classes, stops early, keeps the best epoch and leaks no tensors', async () => {
    const before = tf.memory().numTensors
    // same centres (seed 1), each split its own noise
    const train = blobs(300, 32, 4, 1, 1, 10)
    const val = blobs(80, 32, 4, 1, 1, 20)
    const test = blobs(120, 32, 4, 1, 1, 30)
    const opts = {
      hidden: 64,
      dropout: 0.3,
      learningRate: 1e-3,
      batchSize: 32,
      maxEpochs: 300,
      patience: 5,
      seed: 3,
    }
    const result = await trainProbeMlp({ x: train.x, y: train.y }, { x: val.x, y: val.y }, 4, false, opts)
    expect(result.epochs).toBeLessThan(300)
    expect(result.bestEpoch).toBe(result.epochs - 5)
    // the best epoch is the last that beat the best so far by the minimum improvement (1e-4)
    const lowest = Math.min(...result.history.map((h) => h.valLoss))
    expect(result.bestValLoss).toBe(result.history[result.bestEpoch - 1].valLoss)
    expect(result.bestValLoss - lowest).toBeLessThanOrEqual(1e-4)
    const scores = predictScores(result.model, test.x)
    expect(accuracy(scores, test.truth, 4)).toBeGreaterThan(0.9)
    // softmax rows sum to one
    expect(scores[0] + scores[1] + scores[2] + scores[3]).toBeCloseTo(1, 5)
    result.model.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })

  it('is reproducible under a seed', async () => {
    const d = blobs(120, 16, 3, 5, 1)
    const opts = {
      hidden: 32,
      dropout: 0.5,
      learningRate: 1e-3,
      batchSize: 16,
      maxEpochs: 8,
      patience: 100,
      seed: 11,
    }
    const a = await trainProbeMlp(d, d, 3, true, opts)
    const b = await trainProbeMlp(d, d, 3, true, opts)
    expect(b.history).toEqual(a.history)
    const c = await trainProbeMlp(d, d, 3, true, { ...opts, seed: 12 })
    expect(c.history).not.toEqual(a.history)
    const s = predictScores(a.model, d.x)
    expect(macroRocAuc(s, d.y, 3).value).toBeGreaterThan(0.8)
    for (const r of [a, b, c]) r.model.dispose()
  })

  it('folds the input standardisation into the first layer exactly', () => {
    const { x } = blobs(20, 8, 2, 2, 1)
    const { mean, std } = standardisation(x)
    const model = buildProbeModel(8, 2, true, { hidden: 6, dropout: 0, seed: 4 })
    const standardised = { ...x, data: x.data.map((v, i) => (v - mean[i % 8]) / std[i % 8]) }
    const expected = predictScores(model, standardised)
    foldStandardisation(model, mean, std)
    const folded = predictScores(model, x)
    for (let i = 0; i < expected.length; i++) expect(folded[i]).toBeCloseTo(expected[i], 4)
    model.dispose()
  })

  it('saves in the TensorFlow.js format and loads back the same model, checking its shape', async () => {
    const dir = path.join(tmpDir(), 'probe')
    const model = buildProbeModel(8, 3, false, { hidden: 5, dropout: 0.5, seed: 9 })
    await saveLayersModel(model, dir)
    expect(
      JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')).weightsManifest[0].paths,
    ).toEqual(['./weights.bin'])
    const loaded = await loadLayersModel(dir, { inputDims: 8, classes: 3 })
    const { x } = blobs(4, 8, 3, 1, 1)
    expect(Array.from(predictScores(loaded, x))).toEqual(Array.from(predictScores(model, x)))
    await expect(loadLayersModel(dir, { inputDims: 9 })).rejects.toThrow(
      /takes 8-d inputs, the embeddings have 9/,
    )
    await expect(loadLayersModel(path.join(dir, 'nope'))).rejects.toThrow(/no model\.json/)
    model.dispose()
    loaded.dispose()
  })
})

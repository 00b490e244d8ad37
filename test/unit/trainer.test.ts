import fs from 'node:fs'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ContrastiveModel } from '../../src/ml/training/contrastive-model.ts'
import { trainingConfigSchema } from '../../src/ml/training/config.ts'
import { splitGroups, type AssociationGroups } from '../../src/ml/training/pair-sampler.ts'
import { SeededRandom } from '../../src/random/seeded-random.ts'
import {
  MEL_BANDS,
  PATCH_FRAMES,
  runTraining,
  validate,
  type Objective,
  type PatchSource,
} from '../../src/ml/training/trainer.ts'
import { heldOutItems } from '../../src/ml/training/validation.ts'
import { tmpDir } from '../support/database.ts'

let instances = 0

/** A small stand-in encoder (frame mean → dense → dropout) with a COLA head; enough to test the loop. */
function smallModel(seed: number): ContrastiveModel {
  const instance = ++instances
  const v = (shape: number[], name: string, s: number) =>
    tf.variable(tf.randomNormal(shape, 0, 0.2, 'float32', s), true, `m${instance}/${name}`)
  const w1 = v([MEL_BANDS, 24], 'enc/w1', seed)
  const w2 = v([24, 16], 'head/w2', seed + 1)
  const W = v([16, 16], 'head/W', seed + 2)
  const all = [w1, w2, W]
  const logical = (x: tf.Variable) => x.name.slice(x.name.indexOf('/') + 1) // checkpoints use names without the instance
  return {
    encoderVariables: [w1],
    headVariables: [w2, W],
    heads: 1,
    encode: (x, { training, seed: s }) =>
      tf.tidy(() => {
        const h = tf.tanh(tf.matMul(tf.mean(x, 1) as tf.Tensor2D, w1))
        return (training ? tf.dropout(h, 0.1, undefined, s) : h) as tf.Tensor2D
      }),
    logits: (a, b) => {
      const pa = tf.tanh(tf.matMul(a, w2))
      const pb = tf.tanh(tf.matMul(b, w2))
      return tf.matMul(tf.matMul(pa, W), pb, false, true)
    },
    project: (x) => tf.tanh(tf.matMul(x, w2)) as tf.Tensor2D,
    weights: () => Object.fromEntries(all.map((x) => [logical(x), x.clone()])),
    setWeights: (m) => all.forEach((x) => x.assign(m[logical(x)])),
    dispose: () => all.forEach((x) => x.dispose()),
  }
}

/** 16 "artists" × 4 tracks × 3 patches; each artist has its own spectral shape. */
function world() {
  const rng = new SeededRandom(3)
  const groups: AssociationGroups = { groups: new Map(), trackGroups: new Map() }
  const data = new Map<number, Float32Array[]>()
  for (let a = 0; a < 16; a++) {
    const shape = Float32Array.from({ length: MEL_BANDS }, () => rng.next())
    for (let i = 0; i < 4; i++) {
      const t = a * 10 + i
      groups.groups.set(`a${a}`, [...(groups.groups.get(`a${a}`) ?? []), t])
      groups.trackGroups.set(t, [`a${a}`])
      data.set(
        t,
        [0, 1, 2].map(() =>
          Float32Array.from(
            { length: PATCH_FRAMES * MEL_BANDS },
            (_, k) => shape[k % MEL_BANDS] + (rng.next() - 0.5),
          ),
        ),
      )
    }
  }
  const patches: PatchSource = {
    patchCount: (t) => data.get(t)!.length,
    read: async (refs) => {
      const out = new Float32Array(refs.length * PATCH_FRAMES * MEL_BANDS)
      refs.forEach((r, i) => out.set(data.get(r.trackId)![r.patch], i * PATCH_FRAMES * MEL_BANDS))
      return out
    },
  }
  return { groups, patches }
}

describe('training loop', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu')
  })
  afterAll(() => tf.disposeVariables())
  const { groups, patches } = world()
  const { train, validation } = splitGroups(groups, 0.25, 1)
  const objectives: Objective[] = [{ name: 'artist', train, validation, samePatchTrack: false }]

  it('lowers the loss, validates, checkpoints, and does not leak tensors', async () => {
    const config = trainingConfigSchema.parse({
      association: 'artist',
      batchSize: 4,
      steps: 40,
      learningRate: 0.01,
      checkpointEvery: 20,
      logEvery: 5,
    })
    const model = smallModel(1)
    const dir = tmpDir()
    const before = tf.memory().numTensors
    const out = await runTraining({ model, config, objectives, patches, checkpointDir: dir, resume: false })
    expect(tf.memory().numTensors).toBe(before)
    expect(out.step).toBe(40)
    const first = out.history[0].loss!
    const last = out.history.at(-1)!.loss!
    expect(last).toBeLessThan(first * 0.8)
    const validated = out.history.filter((h) => h.valPrecision !== undefined)
    expect(validated.map((h) => h.step)).toEqual([40]) // validateEvery 50 > 40 steps: the last step only
    expect(validated[0].valK).toBe(10)
    expect(fs.readdirSync(dir).sort()).toEqual(['step-000000020', 'step-000000040'])
    model.dispose()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('validates by retrieval among the held-out groups: each of their 16 tracks asks for its 10 nearest others', async () => {
    // 25 % of 16 artists: 4 held out, 4 tracks each; 3 of a query's 15 candidates share its artist.
    expect(validation.groups.size).toBe(4)
    const model = smallModel(9)
    const items = heldOutItems(validation, (t) => patches.patchCount(t), { samePatchTrack: false })
    const before = tf.memory().numTensors
    const out = await validate(model, objectives, [items], patches)
    expect(tf.memory().numTensors).toBe(before)
    expect(out.valQueries).toBe(16)
    expect(out.valChance).toBeCloseTo(3 / 15, 6)
    // each artist has its own spectral shape, which even this random encoder keeps: well above chance
    expect(out.valPrecisionBackbone).toBeGreaterThan(0.25)
    expect(out.valPrecision).toBeLessThanOrEqual(0.3) // at most 3 of 10 can be relevant
    model.dispose()
  })

  it('a run stopped and resumed from its checkpoint ends with the same weights as an uninterrupted one', async () => {
    const config = trainingConfigSchema.parse({
      association: 'artist',
      batchSize: 4,
      steps: 12,
      learningRate: 0.01,
      checkpointEvery: 4,
    })
    const straight = smallModel(5)
    const dirA = tmpDir()
    await runTraining({ model: straight, config, objectives, patches, checkpointDir: dirA, resume: false })

    const crashed = smallModel(5)
    const dirB = tmpDir()
    const stop = new AbortController()
    await expect(
      runTraining({
        model: crashed,
        config,
        objectives,
        patches,
        checkpointDir: dirB,
        resume: false,
        hooks: {
          signal: stop.signal,
          onCheckpoint: async (s) => void (s === 8 && stop.abort(new Error('killed'))),
        },
      }),
    ).rejects.toThrow('killed')
    const resumed = smallModel(99) // different init: everything must come from the checkpoint
    const out = await runTraining({
      model: resumed,
      config,
      objectives,
      patches,
      checkpointDir: dirB,
      resume: true,
    })
    expect(out.resumedFrom).toBe(8)
    const a = straight.weights()
    const b = resumed.weights()
    for (const name of Object.keys(a))
      expect(Array.from(b[name].dataSync()), name).toEqual(Array.from(a[name].dataSync()))
    ;[...Object.values(a), ...Object.values(b)].forEach((t) => t.dispose())
    for (const m of [straight, crashed, resumed]) m.dispose()
  })

  describe('frees every tensor it made, however the run ends', () => {
    const config = trainingConfigSchema.parse({
      association: 'artist',
      batchSize: 4,
      steps: 12,
      learningRate: 0.01,
      checkpointEvery: 4,
    })

    it('when aborted', async () => {
      const model = smallModel(21)
      const dir = tmpDir()
      const stop = new AbortController()
      const before = tf.memory().numTensors
      await expect(
        runTraining({
          model,
          config,
          objectives,
          patches,
          checkpointDir: dir,
          resume: false,
          hooks: {
            signal: stop.signal,
            onCheckpoint: async (s) => void (s === 8 && stop.abort(new Error('cancelled'))),
          },
        }),
      ).rejects.toThrow('cancelled')
      expect(tf.memory().numTensors).toBe(before)
      model.dispose()
      fs.rmSync(dir, { recursive: true, force: true })
    })

    it('when a step throws half-way (its views and the optimizer state included)', async () => {
      const inner = smallModel(22)
      let calls = 0
      const model: ContrastiveModel = {
        ...inner,
        // the loss projects anchors and positives (the cosine similarity): 2 calls a step, the 6th step fails
        project: (x, o) => {
          if (++calls === 12) throw new Error('a shape bug')
          return inner.project(x, o)
        },
      }
      const dir = tmpDir()
      const before = tf.memory().numTensors
      await expect(
        runTraining({ model, config, objectives, patches, checkpointDir: dir, resume: false }),
      ).rejects.toThrow('a shape bug')
      expect(calls).toBe(12) // past the first steps, so the optimizer had moments to leak
      expect(tf.memory().numTensors).toBe(before)
      inner.dispose()
      fs.rmSync(dir, { recursive: true, force: true })
    })

    it('when resuming from a checkpoint (the loaded model and optimizer tensors)', async () => {
      const dir = tmpDir()
      const first = smallModel(23)
      const stop = new AbortController()
      await expect(
        runTraining({
          model: first,
          config,
          objectives,
          patches,
          checkpointDir: dir,
          resume: false,
          hooks: {
            signal: stop.signal,
            onCheckpoint: async (s) => void (s === 8 && stop.abort(new Error('killed'))),
          },
        }),
      ).rejects.toThrow('killed')
      first.dispose()
      const model = smallModel(24)
      const before = tf.memory().numTensors
      const out = await runTraining({ model, config, objectives, patches, checkpointDir: dir, resume: true })
      expect(out.resumedFrom).toBe(8)
      expect(out.step).toBe(12)
      expect(tf.memory().numTensors).toBe(before)
      model.dispose()
      fs.rmSync(dir, { recursive: true, force: true })
    })
  })
})

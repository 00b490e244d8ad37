import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { colaLossFromLogits, cosineLogits } from '../../src/ml/models/cola.ts'
import {
  storedTrainingConfig,
  trainingConfigSchema,
  trainingRequestSchema,
} from '../../src/ml/training/config.ts'
import { defaultWarmupSteps } from '../../src/ml/training/schedule.ts'

describe('cosine similarity over a temperature', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu')
  })

  it('scores pairs by the cosine of their vectors divided by the temperature, whatever their lengths', () => {
    const before = tf.memory().numTensors
    const a = tf.tensor2d([
      [3, 0],
      [0, 2],
    ])
    const b = tf.tensor2d([
      [1, 1],
      [0, 5],
    ])
    const logits = cosineLogits(a, b, 0.5)
    const c = Math.SQRT1_2 / 0.5
    const got = Array.from(logits.dataSync())
    ;[c, 0, c, 2].forEach((want, i) => expect(got[i]).toBeCloseTo(want, 5))
    // the loss of uniform logits is log N: a bounded start, unlike a bilinear form's
    const loss = tf.tidy(() => colaLossFromLogits(cosineLogits(tf.ones([4, 3]), tf.ones([4, 3]), 0.1)))
    expect(loss.dataSync()[0]).toBeCloseTo(Math.log(4), 5)
    tf.dispose([a, b, logits, loss])
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('training config', () => {
  it('defaults to the cosine similarity without augmentation; stored runs from before keep the bilinear form', () => {
    const fresh = trainingConfigSchema.parse({ association: 'artist' })
    expect(fresh.similarity).toBe('cosine')
    expect(fresh.temperature).toBe(0.3)
    expect(fresh.augment.gainDb).toBe(0)
    expect(storedTrainingConfig({ association: 'artist', steps: 10 }).similarity).toBe('bilinear')
    expect(storedTrainingConfig({ association: 'artist', similarity: 'cosine' }).similarity).toBe('cosine')
  })

  it('trains track associations at temperature 0.15 and the others at 0.3, unless told; stored runs keep theirs', () => {
    const temperature = (association: string, more = {}) =>
      trainingConfigSchema.parse({ association, ...more }).temperature
    expect(['track', 'release', 'artist', 'label', 'multi'].map((a) => temperature(a))).toEqual([
      0.15, 0.3, 0.3, 0.3, 0.3,
    ])
    expect(temperature('track', { temperature: 0.5 })).toBe(0.5)
    expect(temperature('artist', { temperature: 0.15 })).toBe(0.15)
    // a track run stored before the track default existed trained at 0.3 and resumes at 0.3
    expect(storedTrainingConfig({ association: 'track', similarity: 'cosine', steps: 9 }).temperature).toBe(
      0.3,
    )
    expect(storedTrainingConfig({ association: 'track', temperature: 0.15, steps: 9 }).temperature).toBe(0.15)
    // a job asks without the default filled in, so the run picks it from its association when it starts
    expect(trainingRequestSchema.parse({ association: 'track' })).toEqual({ association: 'track' })
  })

  it('trains 600 steps unless told steps or epochs; a run stored with neither keeps its one epoch', () => {
    const fresh = trainingConfigSchema.parse({ association: 'artist' })
    expect([fresh.steps, fresh.epochs]).toEqual([600, undefined])
    const byEpochs = trainingConfigSchema.parse({ association: 'artist', epochs: 2 })
    expect([byEpochs.steps, byEpochs.epochs]).toEqual([undefined, 2])
    // under a batch of 32 the default sees as many pairs as 600 steps of 32; above it stays 600 steps
    const steps = (batchSize: number) => trainingConfigSchema.parse({ association: 'label', batchSize }).steps
    expect([steps(8), steps(10), steps(16), steps(32), steps(64)]).toEqual([2400, 1920, 1200, 600, 600])
    expect(trainingConfigSchema.parse({ association: 'label', batchSize: 8 }).warmupSteps).toBe(120)
    expect(trainingConfigSchema.parse({ association: 'label', batchSize: 8, steps: 600 }).steps).toBe(600)
    expect(trainingConfigSchema.parse({ association: 'artist', steps: 7 }).steps).toBe(7)
    const old = storedTrainingConfig({ association: 'artist' })
    expect([old.steps, old.epochs]).toEqual([undefined, 1])
    expect(storedTrainingConfig({ association: 'artist', steps: 300 }).steps).toBe(300)
    // the models of runs stored before track pooling existed pool by the mean
    expect(old.trackPooling).toBe('mean')
    expect(fresh.trackPooling).toBe('mean')
  })

  it('decays the rate on a cosine after a warm-up of 5 % of the steps; runs stored before keep a constant rate', () => {
    const fresh = trainingConfigSchema.parse({ association: 'artist' })
    expect([fresh.schedule, fresh.warmupSteps]).toEqual(['cosine', 30])
    expect(trainingConfigSchema.parse({ association: 'artist', steps: 100 }).warmupSteps).toBe(5)
    expect(
      trainingConfigSchema.parse({ association: 'artist', steps: 100, warmupSteps: 0 }).warmupSteps,
    ).toBe(0)
    // an epochs run learns its step count from the catalog: the trainer resolves its warm-up
    expect(trainingConfigSchema.parse({ association: 'artist', epochs: 2 }).warmupSteps).toBeUndefined()
    const old = storedTrainingConfig({ association: 'artist', steps: 300, similarity: 'cosine' })
    expect([old.schedule, old.warmupSteps]).toEqual(['constant', 0])
    // what a run stores today reads back as it was trained, resumed or not
    const stored = JSON.parse(JSON.stringify(fresh)) as Record<string, unknown>
    expect(storedTrainingConfig(stored)).toEqual(fresh)
    expect([defaultWarmupSteps(600), defaultWarmupSteps(20), defaultWarmupSteps(5)]).toEqual([30, 1, 0])
  })
})

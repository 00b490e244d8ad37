import { describe, expect, it } from 'vitest'
import { augmentConfigSchema, augmentPatches, augments, rollFrames } from '../../src/ml/training/augment.ts'
import { learningRateAt } from '../../src/ml/training/schedule.ts'
import { SeededRandom } from '../../src/random/seeded-random.ts'

const shape = { frames: 4, bands: 3 }
const config = (o: object) => augmentConfigSchema.parse(o)
/** log10(1 + 10000·p) of a power p. */
const logMel = (p: number) => Math.log10(1 + 10000 * p)

describe('augmentations of log-mel patches', () => {
  const patch = Float32Array.from({ length: 12 }, (_, i) => logMel(0.001 * (i + 1)))

  it('are off by default and then return an equal copy', () => {
    const c = config({})
    expect(augments(c)).toBe(false)
    const out = augmentPatches(patch, 1, shape, c, new SeededRandom(1))
    expect(out).not.toBe(patch)
    expect(Array.from(out)).toEqual(Array.from(patch))
  })

  it('apply a gain to the power, not the log: a +10 dB gain multiplies 10000·p by 10', () => {
    // gainDb 10 and a draw of 1 would be +10 dB; find the draw actually used from the output of bin 0
    const out = augmentPatches(patch, 1, shape, config({ gainDb: 10 }), new SeededRandom(3))
    const gain = (10 ** out[0] - 1) / (10 ** patch[0] - 1)
    expect(gain).toBeGreaterThan(0.1 - 1e-6)
    expect(gain).toBeLessThan(10 + 1e-6)
    // the same factor in every bin (the log-mel of a quiet bin moves less than a loud one's)
    for (let i = 1; i < 12; i++) expect((10 ** out[i] - 1) / (10 ** patch[i] - 1)).toBeCloseTo(gain, 3)
    expect(out[11] - patch[11]).not.toBeCloseTo(out[0] - patch[0], 2)
  })

  it('mix another patch of the batch in at the asked SNR (its mean power that many dB below)', () => {
    const silent = new Float32Array(12)
    const two = new Float32Array([...patch, ...silent.map(() => logMel(0.01))])
    const out = augmentPatches(
      two,
      2,
      shape,
      config({ mixProbability: 1, mixSnrDb: [10, 10] }),
      new SeededRandom(5),
    )
    // patch 0 got patch 1 (constant power 100 in scaled units) at 10 dB below patch 0's mean scaled power
    const mean0 = patch.reduce((s, x) => s + 10 ** x - 1, 0) / 12
    for (let i = 0; i < 12; i++) expect(10 ** out[i] - 1).toBeCloseTo(10 ** patch[i] - 1 + mean0 / 10, 3)
  })

  it('shift in time circularly and mask stretches of frames and bands to silence', () => {
    const rolled = rollFrames(
      Float32Array.from({ length: 12 }, (_, i) => i),
      shape,
      1,
    )
    expect(Array.from(rolled)).toEqual([9, 10, 11, 0, 1, 2, 3, 4, 5, 6, 7, 8])
    expect(
      Array.from(
        rollFrames(
          Float32Array.from({ length: 12 }, (_, i) => i),
          shape,
          -5,
        ),
      ),
    ).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 1, 2])

    const ones = new Float32Array(4 * 96 * 3).fill(1)
    const out = augmentPatches(
      ones,
      3,
      { frames: 4, bands: 96 },
      config({ freqMasks: 1, freqMaskBands: 20, timeMasks: 1, timeMaskFrames: 2 }),
      new SeededRandom(9),
    )
    let zeros = 0
    for (const x of out) if (x === 0) zeros++
    expect(zeros).toBeGreaterThan(0)
    expect(zeros).toBeLessThanOrEqual(3 * (20 * 4 + 2 * 96))
    for (const x of out) expect(x === 0 || x === 1).toBe(true)
  })

  it('are a function of the seed: the same stream gives the same views, another stream others', () => {
    const c = config({
      gainDb: 6,
      shiftFrames: 2,
      timeMasks: 1,
      timeMaskFrames: 2,
      freqMasks: 1,
      freqMaskBands: 2,
    })
    const a = augmentPatches(patch, 1, shape, c, new SeededRandom(11))
    expect(Array.from(augmentPatches(patch, 1, shape, c, new SeededRandom(11)))).toEqual(Array.from(a))
    expect(Array.from(augmentPatches(patch, 1, shape, c, new SeededRandom(12)))).not.toEqual(Array.from(a))
  })

  it('refuse a buffer that is not whole patches', () => {
    expect(() => augmentPatches(new Float32Array(11), 1, shape, config({}), new SeededRandom(1))).toThrow(
      /12 values/,
    )
  })
})

describe('learning-rate schedule', () => {
  it('warms up linearly, then stays or follows a half cosine to 0 at the last step', () => {
    const o = { base: 1e-3, totalSteps: 110, warmupSteps: 10 }
    expect(learningRateAt(0, { ...o, schedule: 'constant' })).toBeCloseTo(1e-4, 12)
    expect(learningRateAt(9, { ...o, schedule: 'constant' })).toBeCloseTo(1e-3, 12)
    expect(learningRateAt(60, { ...o, schedule: 'constant' })).toBe(1e-3)
    expect(learningRateAt(10, { ...o, schedule: 'cosine' })).toBeCloseTo(1e-3, 12)
    expect(learningRateAt(60, { ...o, schedule: 'cosine' })).toBeCloseTo(5e-4, 12)
    expect(learningRateAt(110, { ...o, schedule: 'cosine' })).toBeCloseTo(0, 12)
    expect(learningRateAt(60, { ...o, schedule: 'cosine', floor: 0.1 })).toBeCloseTo(5.5e-4, 12)
  })
})

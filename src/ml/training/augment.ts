import { z } from 'zod'
import type { SeededRandom } from '../../random/seeded-random.ts'

/**
 * Augmentations of log-mel patches for contrastive training, each view of a pair drawn independently, as
 * audio contrastive work does (COLA, CLMR, BYOL-A): the two views then differ in what the objective should
 * not care about, so agreeing on them cannot rest on it.
 *
 * The patches hold log10(1 + 10000·p) of mel power p (src/audio/mel.ts), so gain and mixing are done on the
 * power 10^x − 1 and mapped back: a gain is not a constant shift of the log-mel (quiet bins move less).
 *
 * - gain: a random gain in ±gainDb dB;
 * - mix: with probability mixProbability, another patch of the same batch added at a random SNR in
 *   [mixSnrDb[0], mixSnrDb[1]] dB (its mean power scaled to that far below the patch's own);
 * - shift: a circular shift in time by up to ±shiftFrames frames;
 * - SpecAugment (Park et al., 2019): timeMasks stretches of up to timeMaskFrames frames and freqMasks
 *   stretches of up to freqMaskBands bands set to silence (0).
 *
 * Pure functions of Float32Arrays and a seeded stream: the same seed and step give the same views (resume).
 */

export const augmentConfigSchema = z.object({
  gainDb: z.number().min(0).max(40).default(0),
  mixProbability: z.number().min(0).max(1).default(0),
  mixSnrDb: z.tuple([z.number(), z.number()]).default([6, 20]),
  shiftFrames: z.number().int().min(0).max(127).default(0),
  timeMasks: z.number().int().min(0).max(8).default(0),
  timeMaskFrames: z.number().int().min(1).max(128).default(16),
  freqMasks: z.number().int().min(0).max(8).default(0),
  freqMaskBands: z.number().int().min(1).max(96).default(12),
})

export type AugmentConfig = z.infer<typeof augmentConfigSchema>

/** Every augmentation off. */
export const NO_AUGMENTATION: AugmentConfig = {
  gainDb: 0,
  mixProbability: 0,
  mixSnrDb: [6, 20],
  shiftFrames: 0,
  timeMasks: 0,
  timeMaskFrames: 16,
  freqMasks: 0,
  freqMaskBands: 12,
}

/** Whether `config` changes anything (a run without augmentation skips the copy). */
export function augments(config: AugmentConfig): boolean {
  return (
    config.gainDb > 0 ||
    config.mixProbability > 0 ||
    config.shiftFrames > 0 ||
    config.timeMasks > 0 ||
    config.freqMasks > 0
  )
}

/** log10(1 + 10000·p) ↔ scaled power 10000·p. */
const toPower = (x: number) => 10 ** x - 1
const toLogMel = (power: number) => Math.log10(1 + Math.max(0, power))

/**
 * `count` patches of frames × bands values, back to back → augmented copies (the input is not changed).
 * Draws from `rng` in a fixed order per patch, whichever augmentations are on.
 */
export function augmentPatches(
  patches: Float32Array,
  count: number,
  shape: { frames: number; bands: number },
  config: AugmentConfig,
  rng: SeededRandom,
): Float32Array {
  const size = shape.frames * shape.bands
  if (patches.length !== count * size)
    throw new RangeError(`expected ${count} patches of ${size} values, got ${patches.length}`)
  const out = new Float32Array(patches.length)
  const meanPower = (p: number) => {
    let sum = 0
    for (let i = p * size; i < (p + 1) * size; i++) sum += toPower(patches[i])
    return sum / size
  }
  for (let p = 0; p < count; p++) {
    const draws = {
      gain: rng.next(),
      mix: rng.next(),
      partner: rng.int(Math.max(1, count - 1)),
      snr: rng.next(),
      shift: rng.next(),
    }
    const src = patches.subarray(p * size, (p + 1) * size)
    const dst = out.subarray(p * size, (p + 1) * size)

    const gain = config.gainDb > 0 ? 10 ** (((2 * draws.gain - 1) * config.gainDb) / 10) : 1
    let partner = -1
    let alpha = 0
    if (config.mixProbability > 0 && count > 1 && draws.mix < config.mixProbability) {
      partner = draws.partner >= p ? draws.partner + 1 : draws.partner
      const snr = config.mixSnrDb[0] + draws.snr * (config.mixSnrDb[1] - config.mixSnrDb[0])
      const other = meanPower(partner)
      alpha = other > 0 ? (meanPower(p) / other) * 10 ** (-snr / 10) : 0
    }
    if (gain !== 1 || alpha > 0) {
      const o = partner * size
      for (let i = 0; i < size; i++)
        dst[i] = toLogMel(gain * (toPower(src[i]) + (alpha > 0 ? alpha * toPower(patches[o + i]) : 0)))
    } else {
      dst.set(src)
    }

    const shift = config.shiftFrames > 0 ? Math.round((2 * draws.shift - 1) * config.shiftFrames) : 0
    if (shift !== 0) rollFrames(dst, shape, shift)

    for (let m = 0; m < config.timeMasks; m++) {
      const width = rng.int(config.timeMaskFrames + 1)
      const start = rng.int(shape.frames - width + 1)
      dst.fill(0, start * shape.bands, (start + width) * shape.bands)
    }
    for (let m = 0; m < config.freqMasks; m++) {
      const width = rng.int(config.freqMaskBands + 1)
      const start = rng.int(shape.bands - width + 1)
      for (let f = 0; f < shape.frames; f++)
        dst.fill(0, f * shape.bands + start, f * shape.bands + start + width)
    }
  }
  return out
}

/** Rotates a frames × bands patch in time by `shift` frames (positive: later), in place. */
export function rollFrames(
  patch: Float32Array,
  shape: { frames: number; bands: number },
  shift: number,
): Float32Array {
  const s = ((shift % shape.frames) + shape.frames) % shape.frames
  if (s === 0) return patch
  const copy = patch.slice()
  const cut = (shape.frames - s) * shape.bands
  patch.set(copy.subarray(cut), 0)
  patch.set(copy.subarray(0, cut), s * shape.bands)
  return patch
}

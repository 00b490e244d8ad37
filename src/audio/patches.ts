import { MEL_BANDS } from './mel.ts'

export const PATCH_FRAMES = 128
/** Essentia's default patch hop for Discogs-EffNet (about 1 s); 128 gives non-overlapping patches. */
export const DEFAULT_PATCH_HOP = 62

/**
 * Patches of 128 frames start every `hop` frames while they fit whole (Essentia's "discard" mode for the
 * tail). Audio shorter than one patch still yields one patch, padded with frames of silence (0 after
 * log10(1 + 10000·x)), so every track with audio has at least one patch.
 */
export function patchCount(nFrames: number, hop = DEFAULT_PATCH_HOP): number {
  if (!Number.isInteger(hop) || hop < 1)
    throw new RangeError(`patch hop must be a positive integer, got ${hop}`)
  if (nFrames <= 0) return 0
  if (nFrames < PATCH_FRAMES) return 1
  return Math.floor((nFrames - PATCH_FRAMES) / hop) + 1
}

/** [patches][128][96] float32, copied out of frame-major [frames][96] frames. */
export function melPatches(
  frames: Float32Array,
  nFrames: number,
  hop = DEFAULT_PATCH_HOP,
): { data: Float32Array; count: number } {
  const count = patchCount(nFrames, hop)
  const size = PATCH_FRAMES * MEL_BANDS
  const data = new Float32Array(count * size)
  for (let p = 0; p < count; p++) {
    const from = p * hop * MEL_BANDS
    const to = Math.min(from + size, nFrames * MEL_BANDS)
    data.set(frames.subarray(from, to), p * size)
  }
  return { data, count }
}

/** One patch (by index) without materialising the others. */
export function melPatch(
  frames: Float32Array,
  nFrames: number,
  index: number,
  hop = DEFAULT_PATCH_HOP,
  out?: Float32Array,
): Float32Array {
  const size = PATCH_FRAMES * MEL_BANDS
  const patch = out ?? new Float32Array(size)
  const from = index * hop * MEL_BANDS
  const to = Math.min(from + size, nFrames * MEL_BANDS)
  patch.fill(0)
  patch.set(frames.subarray(from, to))
  return patch
}

/**
 * The mel frontend of Discogs-EffNet: Essentia's TensorflowInputMusiCNN, reimplemented as pure functions.
 *
 *   frames of 512 samples, hop 256; frame i is centred on sample i·256 (the first starts at −256,
 *   zero-padded); the last frame is the first whose centre is at or past the end of the audio;
 *   symmetric Hann window 0.5 − 0.5·cos(2πn/(N−1)), not normalised; |FFT512|²;
 *   96 Slaney-mel triangular bands over 0–8000 Hz, "unit_tri" normalised, linear weighting;
 *   log10(1 + 10000·x).
 *
 * Output is frame-major [frames][96] float32. The hot loop allocates nothing: a 256-point complex FFT on
 * the packed real frame (the classic real-FFT split), and a sparse band matrix.
 */

import { SlidingSamples } from './sliding.ts'

export const SAMPLE_RATE = 16000
export const FRAME_SIZE = 512
export const HOP_SIZE = 256
export const MEL_BANDS = 96
const BINS = FRAME_SIZE / 2 + 1 // 257
const BIN_HZ = SAMPLE_RATE / 2 / (BINS - 1) // 31.25

/** Slaney's mel scale (Auditory Toolbox): linear below 1 kHz, logarithmic above. */
export function hzToMelSlaney(f: number): number {
  return f < 1000 ? (3 * f) / 200 : 15 + Math.log(f / 1000) / (Math.log(6.4) / 27)
}

export function melToHzSlaney(m: number): number {
  return m < 15 ? (200 * m) / 3 : 1000 * Math.exp((m - 15) * (Math.log(6.4) / 27))
}

/** The 98 band edges in Hz, evenly spaced in Slaney mel between 0 and 8000 Hz. */
export function melBandEdges(bands = MEL_BANDS, lowHz = 0, highHz = SAMPLE_RATE / 2): Float64Array {
  const lo = hzToMelSlaney(lowHz)
  const hi = hzToMelSlaney(highHz)
  const edges = new Float64Array(bands + 2)
  for (let i = 0; i < bands + 2; i++) edges[i] = melToHzSlaney(lo + ((hi - lo) * i) / (bands + 1))
  return edges
}

export interface SparseBands {
  /** For band b: bins start[b] .. start[b] + weights[b].length − 1. */
  start: Int32Array
  weights: Float64Array[]
}

/** Triangles linear in Hz over bins ceil(f_i/31.25)..floor(f_{i+2}/31.25), divided by (f_{i+2} − f_i)/2. */
export function melFilterbank(): SparseBands {
  const f = melBandEdges()
  const start = new Int32Array(MEL_BANDS)
  const weights: Float64Array[] = []
  for (let b = 0; b < MEL_BANDS; b++) {
    const [f0, f1, f2] = [f[b], f[b + 1], f[b + 2]]
    const j0 = Math.ceil(f0 / BIN_HZ)
    const j1 = Math.min(BINS - 1, Math.floor(f2 / BIN_HZ))
    const w = new Float64Array(Math.max(0, j1 - j0 + 1))
    const norm = (f2 - f0) / 2
    for (let j = j0; j <= j1; j++) {
      const hz = j * BIN_HZ
      let v = 0
      if (hz >= f0 && hz < f1) v = (hz - f0) / (f1 - f0)
      else if (hz >= f1 && hz <= f2) v = (f2 - hz) / (f2 - f1)
      w[j - j0] = v / norm
    }
    start[b] = j0
    weights.push(w)
  }
  return { start, weights }
}

/** Symmetric Hann window, not normalised. */
export function hannSymmetric(n = FRAME_SIZE): Float64Array {
  const w = new Float64Array(n)
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1))
  return w
}

/** Frames for n samples: centres 0, 256, …, up to and including the first at or past the end. */
export function frameCount(nSamples: number): number {
  return nSamples <= 0 ? 0 : Math.ceil(nSamples / HOP_SIZE) + 1
}

// --- a 512-point real FFT as a 256-point complex FFT plus the split step, tables built once ---
const HALF = FRAME_SIZE / 2
const LOG2_HALF = Math.log2(HALF)
const bitrev = new Uint16Array(HALF)
for (let i = 0; i < HALF; i++) {
  let r = 0
  for (let b = 0; b < LOG2_HALF; b++) r |= ((i >> b) & 1) << (LOG2_HALF - 1 - b)
  bitrev[i] = r
}
const cosHalf = new Float64Array(HALF / 2)
const sinHalf = new Float64Array(HALF / 2)
for (let i = 0; i < HALF / 2; i++) {
  cosHalf[i] = Math.cos((2 * Math.PI * i) / HALF)
  sinHalf[i] = -Math.sin((2 * Math.PI * i) / HALF)
}
const cosFull = new Float64Array(HALF + 1)
const sinFull = new Float64Array(HALF + 1)
for (let k = 0; k <= HALF; k++) {
  cosFull[k] = Math.cos((2 * Math.PI * k) / FRAME_SIZE)
  sinFull[k] = -Math.sin((2 * Math.PI * k) / FRAME_SIZE)
}

/** |FFT|² of a real 512-sample frame into `power` (257 bins). re/im are 256-long scratch arrays. */
export function powerSpectrum(
  frame: Float64Array,
  power: Float64Array,
  re: Float64Array,
  im: Float64Array,
): void {
  for (let i = 0; i < HALF; i++) {
    const j = bitrev[i]
    re[j] = frame[2 * i]
    im[j] = frame[2 * i + 1]
  }
  for (let size = 2; size <= HALF; size <<= 1) {
    const half = size >> 1
    const step = HALF / size
    for (let startIdx = 0; startIdx < HALF; startIdx += size) {
      for (let k = 0; k < half; k++) {
        const wr = cosHalf[k * step]
        const wi = sinHalf[k * step]
        const a = startIdx + k
        const b = a + half
        const tr = re[b] * wr - im[b] * wi
        const ti = re[b] * wi + im[b] * wr
        re[b] = re[a] - tr
        im[b] = im[a] - ti
        re[a] += tr
        im[a] += ti
      }
    }
  }
  // split: X[k] = E[k] + W^k O[k], E = (Z[k] + conj Z[N/2−k]) / 2, O = (Z[k] − conj Z[N/2−k]) / 2i
  for (let k = 0; k <= HALF; k++) {
    const k1 = k % HALF
    const k2 = (HALF - k) % HALF
    const zr = re[k1]
    const zi = im[k1]
    const cr = re[k2]
    const ci = -im[k2]
    const er = 0.5 * (zr + cr)
    const ei = 0.5 * (zi + ci)
    const orr = 0.5 * (zi - ci)
    const oi = -0.5 * (zr - cr)
    const xr = er + cosFull[k] * orr - sinFull[k] * oi
    const xi = ei + cosFull[k] * oi + sinFull[k] * orr
    power[k] = xr * xr + xi * xi
  }
}

const WINDOW = hannSymmetric()
const BANDS = melFilterbank()

/**
 * Frames [i0, iEnd) into out at (i − i0)·96. `src` holds samples from absolute index `srcStart`; `n` is the
 * number of samples when known (end of stream), Infinity while more may come. Callers only ask for frames
 * whose samples have all arrived, so streamed and whole-array frames take the same branch and are equal
 * bit for bit.
 */
function computeFrames(
  src: Float32Array,
  srcStart: number,
  i0: number,
  iEnd: number,
  n: number,
  out: Float32Array,
): void {
  const frame = new Float64Array(FRAME_SIZE)
  const power = new Float64Array(BINS)
  const re = new Float64Array(HALF)
  const im = new Float64Array(HALF)
  const { start, weights } = BANDS
  for (let i = i0; i < iEnd; i++) {
    const first = i * HOP_SIZE - HALF
    if (first >= 0 && first + FRAME_SIZE <= n) {
      const at = first - srcStart
      for (let j = 0; j < FRAME_SIZE; j++) frame[j] = src[at + j] * WINDOW[j]
    } else {
      for (let j = 0; j < FRAME_SIZE; j++) {
        const s = first + j
        frame[j] = s >= 0 && s < n ? src[s - srcStart] * WINDOW[j] : 0
      }
    }
    powerSpectrum(frame, power, re, im)
    const o = (i - i0) * MEL_BANDS
    for (let b = 0; b < MEL_BANDS; b++) {
      const w = weights[b]
      const s0 = start[b]
      let acc = 0
      for (let j = 0; j < w.length; j++) acc += w[j] * power[s0 + j]
      out[o + b] = Math.log10(1 + 10000 * acc)
    }
  }
}

/**
 * Log-mel frames of mono 16 kHz audio: Float32Array of frameCount(n) × 96, frame-major.
 * `out` may be passed to reuse memory.
 */
export function melFrames(samples: Float32Array, out?: Float32Array): Float32Array {
  const n = samples.length
  const frames = frameCount(n)
  const result = out && out.length >= frames * MEL_BANDS ? out : new Float32Array(frames * MEL_BANDS)
  computeFrames(samples, 0, 0, frames, n, result)
  return result
}

/**
 * `melFrames` over a stream of 16 kHz chunks of any sizes: keeps the one-frame overlap (at most 512
 * samples) between chunks and returns each frame as soon as its samples have arrived. The concatenated
 * frames equal `melFrames` of the concatenated samples bit for bit.
 */
export class MelStream {
  private readonly window = new SlidingSamples()
  /** next frame to compute */
  private next = 0
  private ended = false

  /** Frames (× 96 values) completed by this chunk; often none for tiny chunks. */
  push(chunk: Float32Array): Float32Array {
    if (this.ended) throw new Error('MelStream: push after end')
    this.window.append(chunk)
    // frame i is complete once samples up to i·256 + 256 have arrived
    return this.produce(Math.max(this.next, Math.floor((this.window.end - HALF) / HOP_SIZE) + 1), Infinity)
  }

  /** The last frames, zero-padded past the end; frames in all = frameCount(samples pushed). */
  end(): Float32Array {
    if (this.ended) throw new Error('MelStream: ended twice')
    this.ended = true
    return this.produce(Math.max(this.next, frameCount(this.window.end)), this.window.end)
  }

  /** samples held between chunks (memory is bounded by chunk size + frame overlap) */
  get held(): number {
    return this.window.data.length
  }

  /** frames produced so far */
  get frames(): number {
    return this.next
  }

  private produce(iEnd: number, n: number): Float32Array {
    const out = new Float32Array((iEnd - this.next) * MEL_BANDS)
    computeFrames(this.window.data, this.window.start, this.next, iEnd, n, out)
    this.next = iEnd
    this.window.dropBefore(this.next * HOP_SIZE - HALF)
    return out
  }
}

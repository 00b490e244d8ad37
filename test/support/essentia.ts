import { createRequire } from 'node:module'

/**
 * essentia.js (AGPL) is a devDependency used only here, as the reference for the mel frontend's parity test;
 * product code never imports it.
 */
const require = createRequire(import.meta.url)

interface EssentiaInstance {
  arrayToVector(a: Float32Array): unknown
  vectorToArray(v: unknown): Float32Array
  TensorflowInputMusiCNN(frame: unknown): { bands: unknown }
}

let instance: EssentiaInstance | undefined

export function essentia(): EssentiaInstance {
  if (!instance) {
    const { EssentiaWASM, Essentia } = require('essentia.js')
    instance = new Essentia(EssentiaWASM) as EssentiaInstance
  }
  return instance
}

/** Essentia's TensorflowInputMusiCNN on one 512-sample frame → 96 log-mel bands. */
export function essentiaMusiCnnFrame(frame: Float32Array): Float32Array {
  const e = essentia()
  return e.vectorToArray(e.TensorflowInputMusiCNN(e.arrayToVector(frame)).bands)
}

/** The same frames our frontend cuts: 512 samples centred on i·256, zero-padded at both ends. */
export function cutFrames(samples: Float32Array): Float32Array[] {
  const frames: Float32Array[] = []
  const n = samples.length
  const count = n <= 0 ? 0 : Math.ceil(n / 256) + 1
  for (let i = 0; i < count; i++) {
    const f = new Float32Array(512)
    for (let j = 0; j < 512; j++) {
      const s = i * 256 - 256 + j
      if (s >= 0 && s < n) f[j] = samples[s]
    }
    frames.push(f)
  }
  return frames
}

import crypto from 'node:crypto'
import fs from 'node:fs'
import type * as tf from '@tensorflow/tfjs'

/**
 * What identifies a model's weights, so that vectors of two different weight sets never share a model row:
 * sha256 over every weight in name order (name, dtype, shape, then the values' bytes). Independent of how
 * the weights were stored or in which order they were listed.
 */
export function weightsFingerprint(weights: tf.NamedTensorMap): string {
  const h = crypto.createHash('sha256')
  for (const name of Object.keys(weights).sort()) {
    const t = weights[name]
    h.update(`${name}\0${t.dtype}\0${t.shape.join('x')}\0`)
    const values = t.dataSync() as Float32Array | Int32Array | Uint8Array
    h.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
  }
  return `sha256:${h.digest('hex')}`
}

/** sha256 of a file's bytes (an ONNX graph carries its weights). */
export function fileFingerprint(file: string): string {
  return `sha256:${crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')}`
}

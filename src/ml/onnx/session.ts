import fs from 'node:fs'
import type { InferenceSession } from 'onnxruntime-node'
import { ModelShapeError } from '../../errors.ts'
import type { ValueInfo } from './graph.ts'

/**
 * Opening ONNX graphs with onnxruntime-node on the CPU, shared by the encoders and the classifier heads.
 * onnxruntime is loaded only when an ONNX model is used.
 */

export type Ort = typeof import('onnxruntime-node')
let ort: Promise<Ort> | undefined
export const loadOrt = () => (ort ??= import('onnxruntime-node'))

export function valueInfo(m: InferenceSession.ValueMetadata): ValueInfo {
  return m.isTensor
    ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] }
    : { name: m.name, isTensor: false }
}

/** A session over `file`, or a ModelShapeError naming the file when it is missing or not a loadable graph. */
export async function openSession(
  file: string,
  threads = 0,
): Promise<{ session: InferenceSession; ort: Ort }> {
  if (!fs.existsSync(file)) throw new ModelShapeError(file, 'no such file')
  const o = await loadOrt()
  try {
    const session = await o.InferenceSession.create(file, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: threads,
    })
    return { session, ort: o }
  } catch (err) {
    throw new ModelShapeError(file, `not a loadable ONNX model: ${(err as Error).message.split('\n')[0]}`)
  }
}

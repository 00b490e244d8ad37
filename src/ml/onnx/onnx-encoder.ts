import fs from 'node:fs'
import type { InferenceSession, Tensor } from 'onnxruntime-node'
import { ModelShapeError } from '../../errors.ts'
import { MEL_BANDS, PATCH_FRAMES } from '../models/efficientnet.ts'
import {
  checkPatchBuffer,
  PATCH_SIZE,
  type EmbeddingSpace,
  type PatchEncoder,
  type SpaceVectors,
} from '../embedding/patch-encoder.ts'
import { needsDryRun, planOnnxGraph, type OnnxPlan, type PlanOptions, type ValueInfo } from './graph.ts'

/**
 * An ONNX graph run by onnxruntime-node on the CPU, as a PatchEncoder. Graphs exported with a fixed batch
 * (Essentia's `-bs64-` models) are fed exactly that many patches, the last batch padded with silence and
 * its padding rows dropped. onnxruntime is loaded only when an ONNX model is used.
 */

type Ort = typeof import('onnxruntime-node')
let ort: Promise<Ort> | undefined
const loadOrt = () => (ort ??= import('onnxruntime-node'))

const DYNAMIC_BATCH = 64

export interface OnnxGraph {
  plan: OnnxPlan
  inputs: ValueInfo[]
  outputs: ValueInfo[]
  encoder: PatchEncoder
}

function valueInfo(m: InferenceSession.ValueMetadata): ValueInfo {
  return m.isTensor
    ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] }
    : { name: m.name, isTensor: false }
}

/** Loads `file`, checks its interface (see graph.ts) and returns an encoder over it. */
export async function openOnnxGraph(
  file: string,
  options: PlanOptions & { threads?: number } = {},
): Promise<OnnxGraph> {
  if (!fs.existsSync(file)) throw new ModelShapeError(file, 'no such file')
  const { InferenceSession, Tensor } = await loadOrt()
  let session: InferenceSession
  try {
    session = await InferenceSession.create(file, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: options.threads ?? 0,
    })
  } catch (err) {
    throw new ModelShapeError(file, `not a loadable ONNX model: ${(err as Error).message.split('\n')[0]}`)
  }
  try {
    const inputs = session.inputMetadata.map(valueInfo)
    let outputs = session.outputMetadata.map(valueInfo)
    // Plan once to check the input before running anything, then resolve widths the metadata leaves open.
    if (needsDryRun(outputs)) {
      planInputOnly(file, inputs)
      outputs = await dryRunShapes(file, session, Tensor, inputs, outputs)
    }
    const plan = planOnnxGraph(file, inputs, outputs, options)
    return { plan, inputs, outputs, encoder: onnxEncoder(file, session, Tensor, plan) }
  } catch (err) {
    await session.release()
    throw err
  }
}

function planInputOnly(file: string, inputs: ValueInfo[]): void {
  // An input error must be reported as such, whatever the outputs look like.
  try {
    planOnnxGraph(file, inputs, [{ name: '_', isTensor: true, type: 'float32', shape: [1, 1] }])
  } catch (err) {
    if (!(err instanceof ModelShapeError) || !/no embedding output/.test(err.message)) throw err
  }
}

async function dryRunShapes(
  file: string,
  session: InferenceSession,
  T: Ort['Tensor'],
  inputs: ValueInfo[],
  outputs: ValueInfo[],
): Promise<ValueInfo[]> {
  const first = inputs[0].shape?.[0]
  const n = typeof first === 'number' && first > 0 ? first : 1
  let result: InferenceSession.ReturnType
  try {
    result = await session.run({
      [inputs[0].name]: new T('float32', new Float32Array(n * PATCH_SIZE), [n, PATCH_FRAMES, MEL_BANDS]),
    })
  } catch (err) {
    throw new ModelShapeError(file, `a trial run on silence failed: ${(err as Error).message.split('\n')[0]}`)
  }
  return outputs.map((o) => {
    const t = result[o.name] as Tensor | undefined
    return t && o.isTensor ? { ...o, type: t.type, shape: [...t.dims] } : o
  })
}

function onnxEncoder(
  file: string,
  session: InferenceSession,
  T: Ort['Tensor'],
  plan: OnnxPlan,
): PatchEncoder {
  const dims = Object.fromEntries(Object.entries(plan.outputs).map(([s, o]) => [s, o.dims])) as Partial<
    Record<EmbeddingSpace, number>
  >
  const step = plan.batch ?? DYNAMIC_BATCH
  return {
    dims,
    preferredBatch: step,
    async encode(patches, count, spaces) {
      checkPatchBuffer(file, patches, count)
      for (const s of spaces)
        if (!plan.outputs[s]) throw new ModelShapeError(file, `this graph has no ${s} output`)
      const out: SpaceVectors = {}
      for (const s of spaces) out[s] = new Float32Array(count * plan.outputs[s]!.dims)
      for (let i = 0; i < count; i += step) {
        const m = Math.min(step, count - i)
        const n = plan.batch ?? m
        let x = patches.subarray(i * PATCH_SIZE, (i + m) * PATCH_SIZE)
        if (n > m) {
          const padded = new Float32Array(n * PATCH_SIZE)
          padded.set(x)
          x = padded
        }
        const fetches = spaces.map((s) => plan.outputs[s]!.name)
        const result = await session.run(
          { [plan.input]: new T('float32', x, [n, PATCH_FRAMES, MEL_BANDS]) },
          fetches,
        )
        for (const s of spaces) {
          const { name, dims: d } = plan.outputs[s]!
          const t = result[name] as Tensor
          if (t.dims.length !== 2 || t.dims[0] !== n || t.dims[1] !== d) {
            throw new ModelShapeError(
              file,
              `output ${name} came back as [${t.dims.join(', ')}], expected [${n}, ${d}]`,
            )
          }
          out[s]!.set((t.data as Float32Array).subarray(0, m * d), i * d)
          t.dispose()
        }
      }
      return out
    },
    async dispose() {
      await session.release()
    },
  }
}

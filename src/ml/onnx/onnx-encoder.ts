import type { InferenceSession, Tensor } from 'onnxruntime-node'
import { ModelShapeError } from '../../errors.ts'
import { MEL_BANDS, PATCH_FRAMES } from '../models/efficientnet.ts'
import {
  checkPatchBuffer,
  PATCH_SIZE,
  type EmbeddingSpace,
  type EncodedPatches,
  type PatchEncoder,
} from '../embedding/patch-encoder.ts'
import { needsDryRun, planOnnxGraph, type OnnxPlan, type PlanOptions, type ValueInfo } from './graph.ts'
import { openSession, valueInfo, type Ort } from './session.ts'

/**
 * An ONNX graph run by onnxruntime-node on the CPU, as a PatchEncoder. Graphs exported with a fixed batch
 * (Essentia's `-bs64-` models) are fed exactly that many patches, the last batch padded with silence and
 * its padding rows dropped. onnxruntime is loaded only when an ONNX model is used.
 */

const DYNAMIC_BATCH = 64

export interface OnnxGraph {
  plan: OnnxPlan
  inputs: ValueInfo[]
  outputs: ValueInfo[]
  encoder: PatchEncoder
}

/** Loads `file`, checks its interface (see graph.ts) and returns an encoder over it. */
export async function openOnnxGraph(
  file: string,
  options: PlanOptions & { threads?: number } = {},
): Promise<OnnxGraph> {
  const {
    session,
    ort: { Tensor },
  } = await openSession(file, options.threads)
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
  // The fetched outputs: the asked spaces', then the class scores'.
  const fetched = (spaces: readonly EmbeddingSpace[], activations: boolean) => [
    ...spaces.map((s) => ({ key: s as keyof EncodedPatches, ...plan.outputs[s]! })),
    ...(activations ? [{ key: 'activations' as const, ...plan.activations! }] : []),
  ]
  return {
    dims,
    preferredBatch: step,
    ...(plan.activations ? { activations: plan.activations.dims } : {}),
    async encode(patches, count, spaces, options = {}) {
      checkPatchBuffer(file, patches, count)
      for (const s of spaces)
        if (!plan.outputs[s]) throw new ModelShapeError(file, `this graph has no ${s} output`)
      if (options.activations && !plan.activations)
        throw new ModelShapeError(file, 'this graph was opened without a class-score output')
      const outputs = fetched(spaces, options.activations ?? false)
      const out: EncodedPatches = {}
      for (const o of outputs) out[o.key] = new Float32Array(count * o.dims)
      for (let i = 0; i < count; i += step) {
        const m = Math.min(step, count - i)
        const n = plan.batch ?? m
        let x = patches.subarray(i * PATCH_SIZE, (i + m) * PATCH_SIZE)
        if (n > m) {
          const padded = new Float32Array(n * PATCH_SIZE)
          padded.set(x)
          x = padded
        }
        const result = await session.run(
          { [plan.input]: new T('float32', x, [n, PATCH_FRAMES, MEL_BANDS]) },
          outputs.map((o) => o.name),
        )
        for (const { key, name, dims: d } of outputs) {
          const t = result[name] as Tensor
          if (t.dims.length !== 2 || t.dims[0] !== n || t.dims[1] !== d) {
            throw new ModelShapeError(
              file,
              `output ${name} came back as [${t.dims.join(', ')}], expected [${n}, ${d}]`,
            )
          }
          out[key]!.set((t.data as Float32Array).subarray(0, m * d), i * d)
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

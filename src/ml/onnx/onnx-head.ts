import type { InferenceSession, Tensor } from 'onnxruntime-node'
import { ModelShapeError } from '../../errors.ts'
import { planHeadGraph, type HeadPlan, type HeadPlanOptions, type ValueInfo } from './graph.ts'
import { openSession, valueInfo } from './session.ts'

/**
 * A classifier head as Essentia publishes them (`genre_discogs400-discogs-effnet-1.onnx`,
 * `mtg_jamendo_moodtheme-discogs-effnet-1.onnx`): [N, 1280] embeddings → [N, K] class scores, run by
 * onnxruntime-node on the CPU. A fixed-batch graph is fed that many rows, the last batch padded with zeros.
 */

const DYNAMIC_BATCH = 256

export interface OnnxHead {
  plan: HeadPlan
  /** x: `rows` × inputDims → `rows` × classes. */
  score(x: Float32Array, rows: number): Promise<Float32Array>
  dispose(): Promise<void>
}

export async function openOnnxHead(
  file: string,
  options: HeadPlanOptions & { threads?: number },
): Promise<OnnxHead> {
  const { session, ort } = await openSession(file, options.threads)
  try {
    const inputs = session.inputMetadata.map(valueInfo)
    let outputs = session.outputMetadata.map(valueInfo)
    const open = outputs.some(
      (o) => o.isTensor && !(o.shape?.length === 2 && typeof o.shape[1] === 'number' && o.shape[1] > 0),
    )
    if (open) {
      // check the input first: a trial run needs it right, and its error is the one to report
      planHeadGraph(
        file,
        inputs,
        [{ name: '_', isTensor: true, type: 'float32', shape: ['N', options.classes] }],
        options,
      )
      outputs = await dryRun(file, session, ort.Tensor, inputs[0], options.inputDims, outputs)
    }
    const plan = planHeadGraph(file, inputs, outputs, options)
    return { plan, score: headScorer(file, session, ort.Tensor, plan), dispose: () => session.release() }
  } catch (err) {
    await session.release()
    throw err
  }
}

async function dryRun(
  file: string,
  session: InferenceSession,
  T: typeof Tensor,
  input: ValueInfo,
  dims: number,
  outputs: ValueInfo[],
): Promise<ValueInfo[]> {
  const first = input.shape?.[0]
  const n = typeof first === 'number' && first > 0 ? first : 1
  let result: InferenceSession.ReturnType
  try {
    result = await session.run({ [input.name]: new T('float32', new Float32Array(n * dims), [n, dims]) })
  } catch (err) {
    throw new ModelShapeError(file, `a trial run on zeros failed: ${(err as Error).message.split('\n')[0]}`)
  }
  return outputs.map((o) => {
    const t = result[o.name] as Tensor | undefined
    return t && o.isTensor ? { ...o, type: t.type, shape: [...t.dims] } : o
  })
}

function headScorer(file: string, session: InferenceSession, T: typeof Tensor, plan: HeadPlan) {
  const { inputDims: d, classes: k } = plan
  const step = plan.batch ?? DYNAMIC_BATCH
  return async (x: Float32Array, rows: number): Promise<Float32Array> => {
    if (x.length !== rows * d)
      throw new ModelShapeError(file, `expected ${rows} rows of ${d} values (${rows * d}), got ${x.length}`)
    const out = new Float32Array(rows * k)
    for (let i = 0; i < rows; i += step) {
      const m = Math.min(step, rows - i)
      const n = plan.batch ?? m
      let batch = x.subarray(i * d, (i + m) * d)
      if (n > m) {
        const padded = new Float32Array(n * d)
        padded.set(batch)
        batch = padded
      }
      const result = await session.run({ [plan.input]: new T('float32', batch, [n, d]) }, [plan.output])
      const t = result[plan.output] as Tensor
      if (t.dims.length !== 2 || t.dims[0] !== n || t.dims[1] !== k)
        throw new ModelShapeError(
          file,
          `output ${plan.output} came back as [${t.dims.join(', ')}], expected [${n}, ${k}]`,
        )
      out.set((t.data as Float32Array).subarray(0, m * k), i * k)
      t.dispose()
    }
    return out
  }
}

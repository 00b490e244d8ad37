import { ModelShapeError } from '../../errors.ts'
import { MEL_BANDS, PATCH_FRAMES } from '../models/efficientnet.ts'
import type { EmbeddingSpace } from '../embedding/patch-encoder.ts'

/**
 * Reading an imported ONNX graph's interface: which input takes the mel patches and which outputs are
 * embeddings. Essentia's Discogs-EffNet graphs take `melspectrogram` [N, 128, 96] and have, besides the
 * embeddings, other outputs (the 400 style activations of discogs-effnet); their names are converter
 * artefacts (`PartitionedCall:1`, `embeddings`…), so outputs are recognised by shape: a [N, 1280] output
 * is the EfficientNet backbone, a [N, 512] output the contrastive projection of the *_embeddings models.
 * Pure: works on the metadata onnxruntime reports, so it is tested without a graph.
 */

export const ONNX_INPUT = 'melspectrogram'
export const BACKBONE_DIMS = 1280
export const PROJECTION_DIMS = 512

/** What onnxruntime reports for one input or output (a subset of its ValueMetadata). */
export interface ValueInfo {
  name: string
  isTensor: boolean
  type?: string
  /** numbers for fixed dimensions; strings (symbolic) or numbers ≤ 0 for dynamic ones */
  shape?: ReadonlyArray<number | string>
}

export interface OnnxPlan {
  input: string
  /** The graph's fixed batch size, or null when the batch dimension is dynamic. */
  batch: number | null
  outputs: Partial<Record<EmbeddingSpace, { name: string; dims: number }>>
  /** The graph's own class scores (discogs-effnet's 400 style activations), when asked for. */
  activations?: { name: string; dims: number }
}

export interface PlanOptions {
  /** Use this output (by name) instead of recognising one by shape. */
  output?: string
  /** The space of `output` (default: projection when it is 512-d, else backbone). */
  space?: EmbeddingSpace
  /**
   * Also find the output scoring these classes: a float32 [N, classes] output besides the embeddings
   * (`name`, e.g. the metadata's predictions output, breaks ties). `from` names where the classes came
   * from, for errors.
   */
  activations?: { classes: number; name?: string; from?: string }
}

const fixed = (d: number | string | undefined): d is number => typeof d === 'number' && d > 0
const showShape = (v: ValueInfo) =>
  v.shape && v.shape.length
    ? `[${v.shape.map((d) => (fixed(d) ? d : typeof d === 'string' && d ? d : '?')).join(', ')}]`
    : '[unknown shape]'
const describe = (vs: readonly ValueInfo[]) =>
  vs.map((v) => `${v.name} ${v.isTensor ? `${v.type ?? '?'} ${showShape(v)}` : '(not a tensor)'}`).join(', ')

export function planOnnxGraph(
  file: string,
  inputs: readonly ValueInfo[],
  outputs: readonly ValueInfo[],
  options: PlanOptions = {},
): OnnxPlan {
  const input = inputs.find((i) => i.name === ONNX_INPUT)
  if (!input)
    throw new ModelShapeError(
      file,
      `no input named ${ONNX_INPUT}; the graph's inputs are ${describe(inputs) || 'none'}`,
    )
  if (inputs.length > 1)
    throw new ModelShapeError(
      file,
      `expected ${ONNX_INPUT} as the only input; the graph also needs ${describe(inputs.filter((i) => i !== input))}`,
    )
  if (!input.isTensor || input.type !== 'float32')
    throw new ModelShapeError(
      file,
      `input ${ONNX_INPUT} must be a float32 tensor, it is ${describe([input])}`,
    )
  const s = input.shape ?? []
  if (s.length !== 3 || s[1] !== PATCH_FRAMES || s[2] !== MEL_BANDS) {
    throw new ModelShapeError(
      file,
      `input ${ONNX_INPUT} must have shape [N, ${PATCH_FRAMES}, ${MEL_BANDS}] (N patches of ${PATCH_FRAMES} frames × ${MEL_BANDS} mel bands), it has ${showShape(input)}`,
    )
  }
  const batch = fixed(s[0]) ? s[0] : null

  const vectors = outputs.filter(
    (o) => o.isTensor && o.type === 'float32' && o.shape?.length === 2 && fixed(o.shape[1]),
  )
  const dimsOf = (o: ValueInfo) => o.shape![1] as number

  if (options.output !== undefined) {
    const o = outputs.find((x) => x.name === options.output)
    if (!o)
      throw new ModelShapeError(
        file,
        `no output named ${options.output}; the outputs are ${describe(outputs)}`,
      )
    if (!vectors.includes(o))
      throw new ModelShapeError(file, `output ${o.name} is ${describe([o])}, not a float32 [N, D] embedding`)
    const space = options.space ?? (dimsOf(o) === PROJECTION_DIMS ? 'projection' : 'backbone')
    const plan: OnnxPlan = {
      input: input.name,
      batch,
      outputs: { [space]: { name: o.name, dims: dimsOf(o) } },
    }
    return withActivations(file, plan, outputs, vectors, options)
  }

  const pick = (dims: number, space: EmbeddingSpace) => {
    const found = vectors.filter((o) => dimsOf(o) === dims)
    if (found.length <= 1) return found[0]
    const named = found.filter((o) => /embed/i.test(o.name))
    if (named.length === 1) return named[0]
    throw new ModelShapeError(
      file,
      `several [N, ${dims}] outputs could be the ${space} embedding (${found.map((o) => o.name).join(', ')}); choose one with --output`,
    )
  }
  const plan: OnnxPlan = { input: input.name, batch, outputs: {} }
  const backbone = pick(BACKBONE_DIMS, 'backbone')
  const projection = pick(PROJECTION_DIMS, 'projection')
  if (backbone) plan.outputs.backbone = { name: backbone.name, dims: BACKBONE_DIMS }
  if (projection) plan.outputs.projection = { name: projection.name, dims: PROJECTION_DIMS }
  if (!backbone && !projection) {
    const named = vectors.filter((o) => /embed/i.test(o.name))
    if (named.length === 1) plan.outputs.backbone = { name: named[0].name, dims: dimsOf(named[0]) }
    else {
      throw new ModelShapeError(
        file,
        `no embedding output: expected a float32 [N, ${BACKBONE_DIMS}] (backbone) or [N, ${PROJECTION_DIMS}] (projection) output; ` +
          `the outputs are ${describe(outputs) || 'none'} (name one with --output)`,
      )
    }
  }
  return withActivations(file, plan, outputs, vectors, options)
}

/** The class-score output among those the embeddings left: the one of the metadata's width, by shape. */
function withActivations(
  file: string,
  plan: OnnxPlan,
  outputs: readonly ValueInfo[],
  vectors: readonly ValueInfo[],
  options: PlanOptions,
): OnnxPlan {
  const want = options.activations
  if (!want) return plan
  const used = new Set(Object.values(plan.outputs).map((o) => o.name))
  const output = pickScores(
    file,
    vectors.filter((o) => !used.has(o.name)),
    outputs,
    want.classes,
    want.name,
    want.from,
    'beside the embeddings',
  )
  return { ...plan, activations: { name: output.name, dims: want.classes } }
}

/**
 * The float32 [N, classes] output: the only one of that width, else the one named as the metadata names
 * its predictions output, else one named like scores (activations, predictions).
 */
function pickScores(
  file: string,
  candidates: readonly ValueInfo[],
  outputs: readonly ValueInfo[],
  classes: number,
  name: string | undefined,
  from: string | undefined,
  where: string,
): ValueInfo {
  const found = candidates.filter((o) => o.shape![1] === classes)
  const source = from ? `the ${classes} classes of ${from}` : `${classes} classes`
  if (found.length === 0) {
    throw new ModelShapeError(
      file,
      `no output for ${source}: expected a float32 [N, ${classes}] output ${where}; the outputs are ${describe(outputs) || 'none'}`,
    )
  }
  if (found.length === 1) return found[0]
  const exact = found.find((o) => o.name === name)
  if (exact) return exact
  const named = found.filter((o) => /activation|prediction/i.test(o.name))
  if (named.length === 1) return named[0]
  throw new ModelShapeError(
    file,
    `several [N, ${classes}] outputs could score ${source} (${found.map((o) => o.name).join(', ')})`,
  )
}

/** A classifier head's interface: one float32 [N, D] input of embeddings, one [N, classes] output. */
export interface HeadPlan {
  input: string
  inputDims: number
  output: string
  classes: number
  /** Fixed batch size, or null when dynamic. */
  batch: number | null
}

export interface HeadPlanOptions {
  classes: number
  /** The width of the embeddings it will be fed (the model's backbone). */
  inputDims: number
  /** What those embeddings are, for errors: e.g. "model effnet's backbone vectors". */
  inputFrom: string
  /** Where the classes came from (the metadata file), for errors. */
  classesFrom: string
  /** The metadata's predictions output name: breaks ties between outputs of the same width. */
  output?: string
}

export function planHeadGraph(
  file: string,
  inputs: readonly ValueInfo[],
  outputs: readonly ValueInfo[],
  options: HeadPlanOptions,
): HeadPlan {
  const { classes, inputDims } = options
  if (inputs.length !== 1) {
    throw new ModelShapeError(
      file,
      `a classifier head has one input, the [N, ${inputDims}] embeddings; the graph's inputs are ${describe(inputs) || 'none'}`,
    )
  }
  const input = inputs[0]
  const s = input.shape ?? []
  if (!input.isTensor || input.type !== 'float32' || s.length !== 2 || s[1] !== inputDims) {
    throw new ModelShapeError(
      file,
      `input ${input.name} must be a float32 [N, ${inputDims}] tensor (${options.inputFrom}), it is ${describe([input]).slice(input.name.length + 1)}`,
    )
  }
  const vectors = outputs.filter(
    (o) => o.isTensor && o.type === 'float32' && o.shape?.length === 2 && fixed(o.shape[1]),
  )
  const output = pickScores(file, vectors, outputs, classes, options.output, options.classesFrom, 'for them')
  return { input: input.name, inputDims, output: output.name, classes, batch: fixed(s[0]) ? s[0] : null }
}

/** Outputs whose width the metadata leaves open (converters sometimes drop it): resolve them by a dry run. */
export function needsDryRun(outputs: readonly ValueInfo[]): boolean {
  return outputs.some(
    (o) => o.isTensor && o.type === 'float32' && !(o.shape?.length === 2 && fixed(o.shape[1])),
  )
}

/** Essentia's file names say which association a Discogs-EffNet model was trained on. */
export function essentiaAssociation(fileName: string): string | null {
  const m = /discogs_(track|release|artist|label|multi)_embeddings/.exec(fileName)
  if (m) return m[1]
  return /discogs-effnet/.test(fileName) ? 'style' : null
}

import * as tf from '@tensorflow/tfjs'
import { SeededRandom } from '../../random/seeded-random.ts'

/**
 * The probe of the paper's evaluation: frozen embeddings → Dense(hidden) → ReLU → dropout → Dense(classes) →
 * sigmoid (multi-label) or softmax (single-label), trained with Adam and stopped early on the validation loss
 * (the weights of the best epoch are kept).
 *
 * Inputs are standardised with the training split's mean and deviation while training (L2-normalised vectors
 * have tiny components; several stacked models differ in scale), and the standardisation is folded into the
 * first layer afterwards, so the saved model takes raw embeddings and needs nothing beside it.
 *
 * Dropout masks come from a seeded stream rather than the Dropout layer (which draws from Math.random, or
 * repeats one mask when seeded), so a probe is a function of its data and seed. The Dropout layer stays in the
 * topology for what it says about the model; it is the identity at inference.
 */

export interface MlpOptions {
  hidden: number
  dropout: number
  learningRate: number
  batchSize: number
  maxEpochs: number
  /** Epochs without a lower validation loss before stopping. */
  patience: number
  seed: number
}

export const DEFAULT_MLP_OPTIONS: MlpOptions = {
  hidden: 512,
  dropout: 0.5,
  learningRate: 1e-3,
  batchSize: 64,
  maxEpochs: 200,
  patience: 10,
  seed: 1,
}

/** Rows of equal length, row-major. */
export interface Matrix {
  data: Float32Array
  rows: number
  cols: number
}

export interface ProbeSplitData {
  x: Matrix
  /** Multi-hot (or one-hot) rows `[x.rows, classes]`. */
  y: Uint8Array
}

export interface EpochLog {
  epoch: number
  loss: number
  valLoss: number
}

export interface MlpTrainingResult {
  model: tf.LayersModel
  epochs: number
  bestEpoch: number
  bestValLoss: number
  history: EpochLog[]
}

const MIN_DELTA = 1e-4

export function buildProbeModel(
  inputDims: number,
  classes: number,
  multiLabel: boolean,
  options: Pick<MlpOptions, 'hidden' | 'dropout' | 'seed'>,
): tf.Sequential {
  const model = tf.sequential({ name: 'probe' })
  model.add(
    tf.layers.dense({
      name: 'hidden',
      inputShape: [inputDims],
      units: options.hidden,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: options.seed }),
    }),
  )
  model.add(tf.layers.dropout({ name: 'dropout', rate: options.dropout }))
  model.add(
    tf.layers.dense({
      name: 'logits',
      units: classes,
      kernelInitializer: tf.initializers.glorotUniform({ seed: options.seed + 1 }),
    }),
  )
  model.add(tf.layers.activation({ name: 'scores', activation: multiLabel ? 'sigmoid' : 'softmax' }))
  return model
}

/** Trains a probe; the caller owns (and disposes) the returned model. */
export async function trainProbeMlp(
  train: ProbeSplitData,
  validation: ProbeSplitData,
  classes: number,
  multiLabel: boolean,
  options: MlpOptions = DEFAULT_MLP_OPTIONS,
  hooks: { onEpoch?(log: EpochLog): void; signal?: AbortSignal } = {},
): Promise<MlpTrainingResult> {
  checkSplit('train', train, classes)
  checkSplit('validation', validation, classes)
  if (train.x.rows === 0) throw new RangeError('the training split is empty')
  if (validation.x.cols !== train.x.cols)
    throw new RangeError(`validation has ${validation.x.cols} dimensions, train ${train.x.cols}`)
  const dims = train.x.cols
  const { mean, std } = standardisation(train.x)
  const xTrain = standardise(train.x, mean, std)
  const xVal = standardise(validation.x, mean, std)

  const model = buildProbeModel(dims, classes, multiLabel, options)
  const hiddenLayer = model.getLayer('hidden')
  const logitsLayer = model.getLayer('logits')
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable)
  const optimizer = tf.train.adam(options.learningRate)
  const rng = new SeededRandom(options.seed)
  const lossOf = (x: tf.Tensor, y: tf.Tensor, mask?: tf.Tensor): tf.Scalar => {
    let h = hiddenLayer.apply(x) as tf.Tensor
    if (mask) h = h.mul(mask)
    const logits = logitsLayer.apply(h) as tf.Tensor
    return multiLabel ? tf.losses.sigmoidCrossEntropy(y, logits) : tf.losses.softmaxCrossEntropy(y, logits)
  }

  const history: EpochLog[] = []
  let best: tf.Tensor[] | undefined
  let bestValLoss = Infinity
  let bestEpoch = 0
  let epoch = 0
  try {
    const order = Array.from({ length: train.x.rows }, (_, i) => i)
    const keep = 1 - options.dropout
    for (epoch = 1; epoch <= options.maxEpochs; epoch++) {
      if (hooks.signal?.aborted) throw hooks.signal.reason
      rng.shuffle(order)
      let lossSum = 0
      for (let start = 0; start < order.length; start += options.batchSize) {
        const rows = order.slice(start, start + options.batchSize)
        const x = gatherRows(xTrain, dims, rows)
        const y = gatherRows(train.y, classes, rows)
        const mask = new Float32Array(rows.length * options.hidden)
        for (let k = 0; k < mask.length; k++) mask[k] = rng.next() < keep ? 1 / keep : 0
        const loss = tf.tidy(() => {
          const xt = tf.tensor2d(x, [rows.length, dims])
          const yt = tf.tensor2d(Float32Array.from(y), [rows.length, classes])
          const mt = options.dropout > 0 ? tf.tensor2d(mask, [rows.length, options.hidden]) : undefined
          return optimizer.minimize(() => lossOf(xt, yt, mt), true, variables)!
        })
        lossSum += (await loss.data())[0] * rows.length
        loss.dispose()
      }
      const valLoss = validation.x.rows
        ? meanLoss(xVal, validation.y, validation.x.rows, dims, classes, lossOf)
        : Number.NaN
      const log = { epoch, loss: lossSum / order.length, valLoss }
      history.push(log)
      hooks.onEpoch?.(log)
      // without a validation split there is nothing to stop on: train for maxEpochs
      if (validation.x.rows === 0) continue
      if (valLoss < bestValLoss - MIN_DELTA) {
        bestValLoss = valLoss
        bestEpoch = epoch
        best?.forEach((t) => t.dispose())
        best = model.getWeights().map((w) => w.clone())
      } else if (epoch - bestEpoch >= options.patience) {
        break
      }
      await new Promise((r) => setImmediate(r))
    }
    if (best) model.setWeights(best)
    foldStandardisation(model, mean, std)
    return {
      model,
      epochs: Math.min(epoch, options.maxEpochs),
      bestEpoch: best ? bestEpoch : history.length,
      bestValLoss,
      history,
    }
  } catch (err) {
    model.dispose()
    throw err
  } finally {
    best?.forEach((t) => t.dispose())
    optimizer.dispose()
  }
}

/** Scores `[x.rows, classes]` (sigmoid or softmax outputs), computed in batches. */
export function predictScores(model: tf.LayersModel, x: Matrix, batchSize = 1024): Float32Array {
  const classes = (model.outputs[0].shape[1] as number) ?? 0
  const out = new Float32Array(x.rows * classes)
  for (let start = 0; start < x.rows; start += batchSize) {
    const n = Math.min(batchSize, x.rows - start)
    const scores = tf.tidy(
      () =>
        model.predict(
          tf.tensor2d(x.data.subarray(start * x.cols, (start + n) * x.cols), [n, x.cols]),
        ) as tf.Tensor,
    )
    out.set(scores.dataSync(), start * classes)
    scores.dispose()
  }
  return out
}

/** Mean and standard deviation per column; a constant column gets deviation 1 (it is only centred). */
export function standardisation(x: Matrix): { mean: Float32Array; std: Float32Array } {
  const mean = new Float64Array(x.cols)
  const sq = new Float64Array(x.cols)
  for (let r = 0; r < x.rows; r++) {
    for (let c = 0; c < x.cols; c++) mean[c] += x.data[r * x.cols + c]
  }
  for (let c = 0; c < x.cols; c++) mean[c] /= Math.max(1, x.rows)
  for (let r = 0; r < x.rows; r++) {
    for (let c = 0; c < x.cols; c++) sq[c] += (x.data[r * x.cols + c] - mean[c]) ** 2
  }
  const std = new Float32Array(x.cols)
  for (let c = 0; c < x.cols; c++) {
    const s = Math.sqrt(sq[c] / Math.max(1, x.rows))
    std[c] = s > 1e-8 ? s : 1
  }
  return { mean: Float32Array.from(mean), std }
}

/**
 * Rewrites the first layer so that it takes raw inputs: W·((x − μ)/σ) + b = (W/σ)·x + (b − (μ/σ)·W).
 * Exact up to float rounding; the tests compare both forms.
 */
export function foldStandardisation(model: tf.LayersModel, mean: Float32Array, std: Float32Array): void {
  const layer = model.getLayer('hidden')
  const [kernel, bias] = layer.getWeights()
  const [k, b] = tf.tidy(() => {
    const inv = tf.tensor2d(
      Float32Array.from(std, (s) => 1 / s),
      [std.length, 1],
    )
    const scaled = kernel.mul(inv)
    const shift = tf
      .tensor2d(
        Float32Array.from(mean, (m, i) => m / std[i]),
        [1, mean.length],
      )
      .matMul(kernel)
    return [scaled, bias.sub(shift.reshape([-1]))]
  })
  layer.setWeights([k, b])
  k.dispose()
  b.dispose()
}

function meanLoss(
  x: Float32Array,
  y: Uint8Array,
  rows: number,
  dims: number,
  classes: number,
  lossOf: (x: tf.Tensor, y: tf.Tensor) => tf.Scalar,
  batchSize = 1024,
): number {
  let sum = 0
  for (let start = 0; start < rows; start += batchSize) {
    const n = Math.min(batchSize, rows - start)
    const loss = tf.tidy(() =>
      lossOf(
        tf.tensor2d(x.subarray(start * dims, (start + n) * dims), [n, dims]),
        tf.tensor2d(Float32Array.from(y.subarray(start * classes, (start + n) * classes)), [n, classes]),
      ),
    )
    sum += loss.dataSync()[0] * n
    loss.dispose()
  }
  return sum / rows
}

function standardise(x: Matrix, mean: Float32Array, std: Float32Array): Float32Array {
  const out = new Float32Array(x.data.length)
  for (let r = 0; r < x.rows; r++) {
    for (let c = 0; c < x.cols; c++) out[r * x.cols + c] = (x.data[r * x.cols + c] - mean[c]) / std[c]
  }
  return out
}

function gatherRows<T extends Float32Array | Uint8Array>(data: T, cols: number, rows: number[]): T {
  const out = new (data.constructor as new (n: number) => T)(rows.length * cols)
  rows.forEach((r, i) => out.set(data.subarray(r * cols, (r + 1) * cols), i * cols))
  return out
}

function checkSplit(name: string, split: ProbeSplitData, classes: number): void {
  if (split.x.data.length !== split.x.rows * split.x.cols)
    throw new RangeError(`${name}: ${split.x.data.length} values are not ${split.x.rows}×${split.x.cols}`)
  if (split.y.length !== split.x.rows * classes)
    throw new RangeError(`${name}: ${split.y.length} labels are not ${split.x.rows}×${classes}`)
}

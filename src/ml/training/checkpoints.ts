import fs from 'node:fs'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'

/**
 * Checkpoints in TensorFlow.js' weight format (a JSON of weight specs + one binary of float data), written
 * to a temporary folder and renamed into place, so a crash while saving never leaves a half checkpoint:
 * the latest complete one is always readable. Only the newest `keep` are kept.
 */
export type NamedTensor = { name: string; tensor: tf.Tensor }

export interface Checkpoint {
  step: number
  model: tf.NamedTensorMap
  optimizer: NamedTensor[]
  meta: Record<string, unknown>
}

const NAME = /^step-(\d{9})$/

export async function saveCheckpoint(dir: string, ckpt: Checkpoint, keep = 2): Promise<string> {
  fs.mkdirSync(dir, { recursive: true })
  const final = path.join(dir, `step-${String(ckpt.step).padStart(9, '0')}`)
  const tmp = `${final}.tmp-${process.pid}`
  fs.rmSync(tmp, { recursive: true, force: true })
  fs.mkdirSync(tmp)
  const model = await tf.io.encodeWeights(ckpt.model)
  const optimizer = await tf.io.encodeWeights(ckpt.optimizer)
  fs.writeFileSync(path.join(tmp, 'model.bin'), Buffer.from(model.data))
  fs.writeFileSync(path.join(tmp, 'optimizer.bin'), Buffer.from(optimizer.data))
  fs.writeFileSync(
    path.join(tmp, 'checkpoint.json'),
    JSON.stringify({
      format: 'tfjs-weights',
      step: ckpt.step,
      meta: ckpt.meta,
      model: model.specs,
      optimizer: optimizer.specs,
    }),
  )
  fs.rmSync(final, { recursive: true, force: true })
  fs.renameSync(tmp, final)
  for (const old of listCheckpoints(dir).slice(0, -keep))
    fs.rmSync(path.join(dir, old), { recursive: true, force: true })
  return final
}

function listCheckpoints(dir: string): string[] {
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir)
    .filter((n) => NAME.test(n))
    .sort()
}

export function loadCheckpoint(folder: string): Checkpoint {
  const json = JSON.parse(fs.readFileSync(path.join(folder, 'checkpoint.json'), 'utf8'))
  const read = (file: string) => {
    const b = fs.readFileSync(path.join(folder, file))
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)
  }
  const model = tf.io.decodeWeights(read('model.bin'), json.model)
  let opt: tf.NamedTensorMap
  try {
    opt = tf.io.decodeWeights(read('optimizer.bin'), json.optimizer)
  } catch (err) {
    Object.values(model).forEach((t) => t.dispose())
    throw err
  }
  // Optimizer weights are positional (tfjs' getWeights order), so keep the order of the specs.
  const optimizer = (json.optimizer as { name: string }[]).map((s) => ({ name: s.name, tensor: opt[s.name] }))
  return { step: json.step, model, optimizer, meta: json.meta }
}

/**
 * Frees a loaded checkpoint's tensors once they have been copied where they go. Safe after
 * `optimizer.setWeights`: the optimizer's moment variables hold their own reference to the data
 * (`tensor.variable()`), and it never disposes what it was given, nor the `iter` scalar it reads.
 */
export function disposeCheckpoint(ckpt: Checkpoint): void {
  Object.values(ckpt.model).forEach((t) => t.dispose())
  ckpt.optimizer.forEach((w) => w.tensor.dispose())
}

/** The newest complete checkpoint in `dir`, or null. */
export function latestCheckpoint(dir: string): Checkpoint | null {
  const names = listCheckpoints(dir)
  return names.length ? loadCheckpoint(path.join(dir, names[names.length - 1])) : null
}

import fs from 'node:fs'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { ModelShapeError } from '../../errors.ts'

const MODEL_JSON = 'model.json'
const WEIGHTS_BIN = 'weights.bin'

/**
 * Saves a Layers model in TensorFlow.js' own format (model.json with topology and weights manifest, plus one
 * weights.bin), which `tf.loadLayersModel` and tfjs-node's `file://` handler read as is. Written to a
 * temporary folder and renamed into place, so an interrupted save never leaves a half model.
 */
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<void> {
  fs.mkdirSync(path.dirname(dir), { recursive: true })
  const tmp = `${dir}.tmp-${process.pid}`
  fs.rmSync(tmp, { recursive: true, force: true })
  fs.mkdirSync(tmp)
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = artifacts.weightData
        ? tf.io.concatenateArrayBuffers(artifacts.weightData as ArrayBuffer | ArrayBuffer[])
        : new ArrayBuffer(0)
      fs.writeFileSync(path.join(tmp, WEIGHTS_BIN), Buffer.from(weights))
      fs.writeFileSync(
        path.join(tmp, MODEL_JSON),
        JSON.stringify({
          format: artifacts.format,
          generatedBy: artifacts.generatedBy,
          convertedBy: artifacts.convertedBy ?? null,
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs }],
        }),
      )
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          weightDataBytes: weights.byteLength,
        },
      }
    }),
  )
  fs.rmSync(dir, { recursive: true, force: true })
  fs.renameSync(tmp, dir)
}

/** Loads a model saved by saveLayersModel; `expect` checks its input width and class count. */
export async function loadLayersModel(
  dir: string,
  expect?: { inputDims?: number; classes?: number },
): Promise<tf.LayersModel> {
  const file = path.join(dir, MODEL_JSON)
  if (!fs.existsSync(file))
    throw new ModelShapeError(dir, `no ${MODEL_JSON} (was the probe's folder moved or deleted?)`)
  const json = JSON.parse(fs.readFileSync(file, 'utf8'))
  const manifest = json.weightsManifest?.[0]
  if (!manifest) throw new ModelShapeError(file, 'no weights manifest')
  const bin = fs.readFileSync(path.join(dir, WEIGHTS_BIN))
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength)
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: manifest.weights,
      weightData,
      format: json.format,
    }),
  )
  const inputDims = model.inputs[0].shape[1]
  const classes = model.outputs[0].shape[1]
  const problem =
    expect?.inputDims !== undefined && inputDims !== expect.inputDims
      ? `takes ${inputDims}-d inputs, the embeddings have ${expect.inputDims}`
      : expect?.classes !== undefined && classes !== expect.classes
        ? `has ${classes} outputs, the probe lists ${expect.classes} classes`
        : undefined
  if (problem) {
    model.dispose()
    throw new ModelShapeError(dir, problem)
  }
  return model
}

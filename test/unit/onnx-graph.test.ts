import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ModelShapeError } from '../../src/errors.ts'
import { PATCH_SIZE } from '../../src/ml/embedding/patch-encoder.ts'
import { essentiaAssociation, planOnnxGraph, type ValueInfo } from '../../src/ml/onnx/graph.ts'
import { openOnnxGraph } from '../../src/ml/onnx/onnx-encoder.ts'
import { SeededRandom } from '../../src/ml/training/seeded-random.ts'
import { tmpDir } from '../support/database.ts'
import { expectedTestOutput, writeTestOnnxGraph } from '../support/onnx.ts'

const mel: ValueInfo = { name: 'melspectrogram', isTensor: true, type: 'float32', shape: ['N', 128, 96] }
const out = (name: string, dims: number | string): ValueInfo => ({
  name,
  isTensor: true,
  type: 'float32',
  shape: ['N', dims],
})

describe('reading an ONNX graph interface', () => {
  it('recognises the backbone and projection outputs by width, ignoring the style activations', () => {
    expect(
      planOnnxGraph('f.onnx', [mel], [out('PartitionedCall:0', 400), out('PartitionedCall:1', 1280)]),
    ).toEqual({
      input: 'melspectrogram',
      batch: null,
      outputs: { backbone: { name: 'PartitionedCall:1', dims: 1280 } },
    })
    const fixed = { ...mel, shape: [64, 128, 96] }
    expect(
      planOnnxGraph('f.onnx', [fixed], [out('PartitionedCall:0', 512), out('PartitionedCall:1', 1280)]),
    ).toEqual({
      input: 'melspectrogram',
      batch: 64,
      outputs: {
        backbone: { name: 'PartitionedCall:1', dims: 1280 },
        projection: { name: 'PartitionedCall:0', dims: 512 },
      },
    })
  })

  it('prefers an output named like an embedding when widths tie, and takes a named output on request', () => {
    expect(
      planOnnxGraph('f.onnx', [mel], [out('dense', 1280), out('embeddings', 1280)]).outputs.backbone!.name,
    ).toBe('embeddings')
    expect(() => planOnnxGraph('f.onnx', [mel], [out('a', 1280), out('b', 1280)])).toThrow(
      /several \[N, 1280\] outputs.*--output/,
    )
    expect(planOnnxGraph('f.onnx', [mel], [out('x', 200)], { output: 'x' }).outputs).toEqual({
      backbone: { name: 'x', dims: 200 },
    })
    expect(planOnnxGraph('f.onnx', [mel], [out('x', 512)], { output: 'x' }).outputs).toEqual({
      projection: { name: 'x', dims: 512 },
    })
    expect(() => planOnnxGraph('f.onnx', [mel], [out('x', 512)], { output: 'y' })).toThrow(
      /f\.onnx: no output named y; the outputs are x float32 \[N, 512\]/,
    )
  })

  it('says which file and what is wrong', () => {
    const err = (fn: () => unknown) => {
      try {
        fn()
      } catch (e) {
        expect(e).toBeInstanceOf(ModelShapeError)
        return (e as Error).message
      }
      throw new Error('did not throw')
    }
    expect(err(() => planOnnxGraph('m.onnx', [{ ...mel, name: 'input_1' }], [out('e', 1280)]))).toBe(
      "m.onnx: no input named melspectrogram; the graph's inputs are input_1 float32 [N, 128, 96]",
    )
    expect(err(() => planOnnxGraph('m.onnx', [{ ...mel, shape: ['N', 96, 128] }], [out('e', 1280)]))).toMatch(
      /^m\.onnx: input melspectrogram must have shape \[N, 128, 96\].*it has \[N, 96, 128\]$/,
    )
    expect(err(() => planOnnxGraph('m.onnx', [{ ...mel, type: 'int32' }], [out('e', 1280)]))).toMatch(
      /must be a float32 tensor/,
    )
    expect(err(() => planOnnxGraph('m.onnx', [mel], [out('PartitionedCall:0', 400)]))).toMatch(
      /^m\.onnx: no embedding output: expected a float32 \[N, 1280\] \(backbone\) or \[N, 512\] \(projection\) output; the outputs are PartitionedCall:0 float32 \[N, 400\]/,
    )
  })

  it('reads the association from Essentia file names', () => {
    expect(essentiaAssociation('discogs_artist_embeddings-effnet-bs64-1.onnx')).toBe('artist')
    expect(essentiaAssociation('discogs_multi_embeddings-effnet-bs64-1.onnx')).toBe('multi')
    expect(essentiaAssociation('discogs-effnet-bsdynamic-1.onnx')).toBe('style')
    expect(essentiaAssociation('mine.onnx')).toBeNull()
  })
})

describe('ONNX graphs through onnxruntime-node', () => {
  const dir = tmpDir('discograph-onnx-')
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
  const patches = (n: number, seed = 3) => {
    const rng = new SeededRandom(seed)
    return Float32Array.from({ length: n * PATCH_SIZE }, () => rng.next() * 4)
  }
  const maxDiff = (a: Float32Array, b: Float32Array) =>
    a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0)

  it('runs a dynamic-batch graph like discogs-effnet-bsdynamic and returns the 1280-d output', async () => {
    const file = path.join(dir, 'discogs-effnet-bsdynamic-1.onnx')
    const g = writeTestOnnxGraph(file, {
      outputs: [
        { name: 'PartitionedCall:0', dims: 400, sigmoid: true },
        { name: 'PartitionedCall:1', dims: 1280 },
      ],
    })
    const graph = await openOnnxGraph(file)
    try {
      expect(graph.plan).toEqual({
        input: 'melspectrogram',
        batch: null,
        outputs: { backbone: { name: 'PartitionedCall:1', dims: 1280 } },
      })
      const x = patches(70)
      const y = await graph.encoder.encode(x, 70, ['backbone'])
      expect(y.backbone!.length).toBe(70 * 1280)
      expect(maxDiff(y.backbone!, expectedTestOutput(g, 'PartitionedCall:1', x, 70, 1280))).toBeLessThan(1e-5)
      await expect(graph.encoder.encode(x, 70, ['projection'])).rejects.toThrow(/has no projection output/)
    } finally {
      await graph.encoder.dispose()
    }
  })

  it('pads a fixed-batch graph (bs64) and drops the padding rows', async () => {
    const file = path.join(dir, 'discogs_track_embeddings-effnet-bs64-1.onnx')
    const g = writeTestOnnxGraph(file, {
      inputShape: [64, 128, 96],
      outputs: [
        { name: 'PartitionedCall:0', dims: 512 },
        { name: 'PartitionedCall:1', dims: 1280 },
      ],
    })
    const graph = await openOnnxGraph(file)
    try {
      expect(graph.plan.batch).toBe(64)
      expect(graph.encoder.preferredBatch).toBe(64)
      const x = patches(70, 9)
      const y = await graph.encoder.encode(x, 70, ['projection', 'backbone'])
      expect(maxDiff(y.projection!, expectedTestOutput(g, 'PartitionedCall:0', x, 70, 512))).toBeLessThan(
        1e-5,
      )
      expect(maxDiff(y.backbone!, expectedTestOutput(g, 'PartitionedCall:1', x, 70, 1280))).toBeLessThan(1e-5)
    } finally {
      await graph.encoder.dispose()
    }
  })

  it('finds widths the metadata leaves symbolic with a trial run', async () => {
    const file = path.join(dir, 'symbolic.onnx')
    writeTestOnnxGraph(file, { outputs: [{ name: 'embeddings', dims: 512, hideWidth: true }] })
    const graph = await openOnnxGraph(file)
    await graph.encoder.dispose()
    expect(graph.plan.outputs).toEqual({ projection: { name: 'embeddings', dims: 512 } })
  })

  it('rejects graphs that do not fit, naming the file', async () => {
    const bad = async (name: string, options: Parameters<typeof writeTestOnnxGraph>[1]) => {
      const file = path.join(dir, name)
      writeTestOnnxGraph(file, options)
      return openOnnxGraph(file).then(
        () => 'opened',
        (e: Error) => e.message,
      )
    }
    expect(
      await bad('in.onnx', { inputName: 'serving_default_x', outputs: [{ name: 'e', dims: 1280 }] }),
    ).toBe(
      `${path.join(dir, 'in.onnx')}: no input named melspectrogram; the graph's inputs are serving_default_x float32 [N, 128, 96]`,
    )
    expect(
      await bad('shape.onnx', {
        inputShape: ['N', 96, 128],
        reduceAxis: 2,
        outputs: [{ name: 'e', dims: 1280 }],
      }),
    ).toMatch(/shape\.onnx: input melspectrogram must have shape \[N, 128, 96\] .* it has \[N, 96, 128\]/)
    expect(await bad('two.onnx', { extraInput: 'training', outputs: [{ name: 'e', dims: 1280 }] })).toMatch(
      /two\.onnx: expected melspectrogram as the only input; the graph also needs training/,
    )
    expect(
      await bad('acts.onnx', { outputs: [{ name: 'PartitionedCall:0', dims: 400, sigmoid: true }] }),
    ).toMatch(/acts\.onnx: no embedding output: .* the outputs are PartitionedCall:0 float32 \[N, 400\]/)
    const junk = path.join(dir, 'junk.onnx')
    fs.writeFileSync(junk, 'this is not a protobuf')
    expect(await openOnnxGraph(junk).catch((e: Error) => e.message)).toMatch(
      /junk\.onnx: not a loadable ONNX model: /,
    )
    expect(await openOnnxGraph(path.join(dir, 'missing.onnx')).catch((e: Error) => e.message)).toMatch(
      /missing\.onnx: no such file/,
    )
  })
})

import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ModelShapeError } from '../../src/errors.ts'
import { PATCH_SIZE } from '../../src/ml/embedding/patch-encoder.ts'
import { essentiaAssociation, planHeadGraph, planOnnxGraph, type ValueInfo } from '../../src/ml/onnx/graph.ts'
import { openOnnxGraph } from '../../src/ml/onnx/onnx-encoder.ts'
import { openOnnxHead } from '../../src/ml/onnx/onnx-head.ts'
import { SeededRandom } from '../../src/random/seeded-random.ts'
import { tmpDir } from '../support/database.ts'
import { expectedHeadOutput, expectedTestOutput, writeTestOnnxGraph } from '../support/onnx.ts'

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

  it("finds the encoder's class output by the metadata's class count, whatever it is called", () => {
    const acts = { classes: 400, from: 'discogs-effnet-bsdynamic-1.json' }
    expect(
      planOnnxGraph('f.onnx', [mel], [out('activations', 400), out('embeddings', 1280)], {
        activations: acts,
      }),
    ).toEqual({
      input: 'melspectrogram',
      batch: null,
      outputs: { backbone: { name: 'embeddings', dims: 1280 } },
      activations: { name: 'activations', dims: 400 },
    })
    expect(
      planOnnxGraph('f.onnx', [mel], [out('PartitionedCall:0', 400), out('PartitionedCall:1', 1280)], {
        activations: acts,
      }).activations,
    ).toEqual({ name: 'PartitionedCall:0', dims: 400 })
    // two of the width: the metadata's name, else the one named like scores
    expect(
      planOnnxGraph('f.onnx', [mel], [out('logits', 400), out('scores', 400), out('e', 1280)], {
        activations: { ...acts, name: 'scores' },
      }).activations!.name,
    ).toBe('scores')
    expect(
      planOnnxGraph('f.onnx', [mel], [out('logits', 400), out('activations', 400), out('e', 1280)], {
        activations: acts,
      }).activations!.name,
    ).toBe('activations')
    expect(() =>
      planOnnxGraph('f.onnx', [mel], [out('a', 400), out('b', 400), out('e', 1280)], { activations: acts }),
    ).toThrow(
      /f\.onnx: several \[N, 400\] outputs could score the 400 classes of discogs-effnet-bsdynamic-1\.json \(a, b\)/,
    )
    expect(() =>
      planOnnxGraph('f.onnx', [mel], [out('activations', 400), out('e', 1280)], {
        activations: { classes: 56, from: 'moods.json' },
      }),
    ).toThrow(
      'f.onnx: no output for the 56 classes of moods.json: expected a float32 [N, 56] output beside the embeddings; the outputs are activations float32 [N, 400], e float32 [N, 1280]',
    )
  })

  it("reads a classifier head's interface: [N, D] in, [N, classes] out", () => {
    const options = {
      classes: 56,
      inputDims: 1280,
      inputFrom: "model effnet's backbone",
      classesFrom: 'moods.json',
    }
    const head = (dims: number | string) => ({ ...out('embeddings', dims) })
    expect(planHeadGraph('h.onnx', [head(1280)], [out('PartitionedCall:0', 56)], options)).toEqual({
      input: 'embeddings',
      inputDims: 1280,
      output: 'PartitionedCall:0',
      classes: 56,
      batch: null,
    })
    expect(
      planHeadGraph(
        'h.onnx',
        [{ ...head(1280), shape: [64, 1280] }],
        [out('dense', 100), out('act', 56)],
        options,
      ),
    ).toMatchObject({ output: 'act', batch: 64 })
    expect(() => planHeadGraph('h.onnx', [head(512)], [out('a', 56)], options)).toThrow(
      "h.onnx: input embeddings must be a float32 [N, 1280] tensor (model effnet's backbone), it is float32 [N, 512]",
    )
    expect(() => planHeadGraph('h.onnx', [mel], [out('a', 56)], options)).toThrow(
      /h\.onnx: input melspectrogram must be a float32 \[N, 1280\] tensor .* it is float32 \[N, 128, 96\]/,
    )
    expect(() => planHeadGraph('h.onnx', [head(1280), head(1280)], [out('a', 56)], options)).toThrow(
      /h\.onnx: a classifier head has one input, the \[N, 1280\] embeddings; the graph's inputs are/,
    )
    expect(() => planHeadGraph('h.onnx', [head(1280)], [out('a', 400)], options)).toThrow(
      'h.onnx: no output for the 56 classes of moods.json: expected a float32 [N, 56] output for them; the outputs are a float32 [N, 400]',
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

  it("returns the encoder's class scores from the same pass when opened with the metadata's classes", async () => {
    const file = path.join(dir, 'discogs-effnet-bs64-1.onnx')
    const g = writeTestOnnxGraph(file, {
      inputShape: [64, 128, 96],
      outputs: [
        { name: 'activations', dims: 400, sigmoid: true },
        { name: 'embeddings', dims: 1280 },
      ],
    })
    const graph = await openOnnxGraph(file, { activations: { classes: 400 } })
    try {
      expect(graph.plan.activations).toEqual({ name: 'activations', dims: 400 })
      expect(graph.encoder.activations).toBe(400)
      const x = patches(70, 5)
      const y = await graph.encoder.encode(x, 70, ['backbone'], { activations: true })
      const logits = expectedTestOutput(g, 'activations', x, 70, 400)
      expect(
        maxDiff(
          y.activations!,
          logits.map((v) => 1 / (1 + Math.exp(-v))),
        ),
      ).toBeLessThan(1e-5)
      expect(maxDiff(y.backbone!, expectedTestOutput(g, 'embeddings', x, 70, 1280))).toBeLessThan(1e-5)
      expect((await graph.encoder.encode(x, 70, ['backbone'])).activations).toBeUndefined()
    } finally {
      await graph.encoder.dispose()
    }
    const plain = await openOnnxGraph(file)
    await expect(plain.encoder.encode(patches(1), 1, ['backbone'], { activations: true })).rejects.toThrow(
      /opened without a class-score output/,
    )
    await plain.encoder.dispose()
  })

  it('runs a classifier head, fixed batch or dynamic, and rejects one that does not fit', async () => {
    const options = { classes: 56, inputDims: 1280, inputFrom: 'the backbone', classesFrom: 'moods.json' }
    const rng = new SeededRandom(11)
    const x = Float32Array.from({ length: 70 * 1280 }, () => rng.next() - 0.5)
    for (const shape of [
      ['N', 1280],
      [64, 1280],
    ] as const) {
      const file = path.join(dir, `head-${shape[0]}.onnx`)
      const g = writeTestOnnxGraph(file, {
        inputName: 'embeddings',
        inputShape: [...shape],
        outputs: [{ name: 'activations', dims: 56, sigmoid: true }],
      })
      const head = await openOnnxHead(file, options)
      try {
        expect(head.plan).toEqual({
          input: 'embeddings',
          inputDims: 1280,
          output: 'activations',
          classes: 56,
          batch: shape[0] === 64 ? 64 : null,
        })
        const y = await head.score(x, 70)
        expect(maxDiff(y, expectedHeadOutput(g, 'activations', x, 70, 56, true))).toBeLessThan(1e-5)
        await expect(head.score(x.subarray(0, 100), 1)).rejects.toThrow(/expected 1 rows of 1280 values/)
      } finally {
        await head.dispose()
      }
    }
    const hidden = path.join(dir, 'head-hidden.onnx')
    writeTestOnnxGraph(hidden, {
      inputName: 'e',
      inputShape: ['N', 1280],
      outputs: [{ name: 'p', dims: 56, hideWidth: true }],
    })
    const h = await openOnnxHead(hidden, options)
    expect(h.plan.output).toBe('p')
    await h.dispose()

    const wrongK = path.join(dir, 'head-k.onnx')
    writeTestOnnxGraph(wrongK, {
      inputName: 'e',
      inputShape: ['N', 1280],
      outputs: [{ name: 'p', dims: 50, sigmoid: true }],
    })
    expect(await openOnnxHead(wrongK, options).catch((e: Error) => e.message)).toBe(
      `${wrongK}: no output for the 56 classes of moods.json: expected a float32 [N, 56] output for them; the outputs are p float32 [N, 50]`,
    )
    const wrongD = path.join(dir, 'head-d.onnx')
    writeTestOnnxGraph(wrongD, {
      inputName: 'e',
      inputShape: ['N', 512],
      outputs: [{ name: 'p', dims: 56, sigmoid: true }],
    })
    expect(await openOnnxHead(wrongD, options).catch((e: Error) => e.message)).toBe(
      `${wrongD}: input e must be a float32 [N, 1280] tensor (the backbone), it is float32 [N, 512]`,
    )
    expect(await openOnnxHead(path.join(dir, 'nope.onnx'), options).catch((e: Error) => e.message)).toMatch(
      /nope\.onnx: no such file/,
    )
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

import fs from 'node:fs'
import { SeededRandom } from '../../src/random/seeded-random.ts'

/**
 * Tiny ONNX graphs for tests, written as protobuf bytes by hand (no onnx package, no downloads): the input
 * and output names and shapes of Essentia's Discogs-EffNet graphs, with a cheap body — the mean over one
 * input axis, then one MatMul per output (optionally through a sigmoid, like the style activations).
 * Field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto).
 */

class ProtoWriter {
  private readonly chunks: Uint8Array[] = []

  private varint(n: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(n))
    const out: number[] = []
    do {
      let b = Number(v & 0x7fn)
      v >>= 7n
      if (v) b |= 0x80
      out.push(b)
    } while (v)
    this.chunks.push(Uint8Array.from(out))
  }

  private key(field: number, wire: 0 | 2 | 5): void {
    this.varint((field << 3) | wire)
  }

  int(field: number, n: number): this {
    this.key(field, 0)
    this.varint(n)
    return this
  }

  bytes(field: number, b: Uint8Array): this {
    this.key(field, 2)
    this.varint(b.length)
    this.chunks.push(b)
    return this
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s))
  }

  message(field: number, m: ProtoWriter): this {
    return this.bytes(field, m.finish())
  }

  finish(): Uint8Array {
    const size = this.chunks.reduce((n, c) => n + c.length, 0)
    const out = new Uint8Array(size)
    let o = 0
    for (const c of this.chunks) {
      out.set(c, o)
      o += c.length
    }
    return out
  }
}

const FLOAT = 1
const ATTR_INT = 2
const ATTR_INTS = 7

type Dim = number | string

function valueInfo(name: string, shape: Dim[], elemType = FLOAT): ProtoWriter {
  const dims = new ProtoWriter()
  for (const d of shape)
    dims.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d))
  const tensor = new ProtoWriter().int(1, elemType).message(2, dims)
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensor))
}

function node(op: string, inputs: string[], outputs: string[], attributes: ProtoWriter[] = []): ProtoWriter {
  const n = new ProtoWriter()
  for (const i of inputs) n.string(1, i)
  for (const o of outputs) n.string(2, o)
  n.string(3, `${op}_${outputs[0]}`).string(4, op)
  for (const a of attributes) n.message(5, a)
  return n
}

function floatTensor(name: string, dims: number[], values: Float32Array): ProtoWriter {
  const t = new ProtoWriter()
  for (const d of dims) t.int(1, d)
  return t
    .int(2, FLOAT)
    .string(8, name)
    .bytes(9, new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
}

export interface TestOutput {
  name: string
  dims: number
  sigmoid?: boolean
  /** Declare the width as a symbolic dimension, so that only a run tells it (as some converters leave it). */
  hideWidth?: boolean
}

export interface TestGraphOptions {
  inputName?: string
  /**
   * default ['N', 128, 96]; a number first fixes the batch (like Essentia's bs64 graphs). Two dimensions
   * (['N', 1280]) make a classifier head: the input goes straight into the MatMuls.
   */
  inputShape?: Dim[]
  /** The axis averaged away before the MatMuls (default 1, the frames). */
  reduceAxis?: 1 | 2
  outputs: TestOutput[]
  /** An extra input the graph would need (to test the one-input rule). */
  extraInput?: string
  seed?: number
}

export interface TestGraph {
  bytes: Uint8Array
  /** The MatMul weights per output, [pooled width × dims] row-major, for checking results. */
  weights: Record<string, Float32Array>
}

/**
 * An ONNX model (IR 8, opset 13) computing outputs[i] = (mean over reduceAxis of input) · W_i, or
 * input · W_i for a two-dimensional input (a head).
 */
export function buildTestOnnxGraph(options: TestGraphOptions): TestGraph {
  const inputName = options.inputName ?? 'melspectrogram'
  const shape = options.inputShape ?? ['N', 128, 96]
  const head = shape.length === 2
  const axis = options.reduceAxis ?? 1
  const pooledWidth = (head ? shape[1] : shape[axis === 1 ? 2 : 1]) as number
  const batch = shape[0]
  const rng = new SeededRandom(options.seed ?? 7)
  const graph = new ProtoWriter()
  const weights: Record<string, Float32Array> = {}

  if (head) graph.message(1, node('Identity', [inputName], ['pooled']))
  else
    graph.message(
      1,
      node(
        'ReduceMean',
        [inputName],
        ['pooled'],
        [
          new ProtoWriter().string(1, 'axes').int(8, axis).int(20, ATTR_INTS),
          new ProtoWriter().string(1, 'keepdims').int(3, 0).int(20, ATTR_INT),
        ],
      ),
    )
  for (const [i, o] of options.outputs.entries()) {
    const w = new Float32Array(pooledWidth * o.dims)
    for (let k = 0; k < w.length; k++) w[k] = (rng.next() - 0.5) * 0.2
    weights[o.name] = w
    const wName = `W${i}`
    graph.message(5, floatTensor(wName, [pooledWidth, o.dims], w))
    if (o.sigmoid) {
      graph.message(1, node('MatMul', ['pooled', wName], [`logits${i}`]))
      graph.message(1, node('Sigmoid', [`logits${i}`], [o.name]))
    } else {
      graph.message(1, node('MatMul', ['pooled', wName], [o.name]))
    }
  }
  graph.string(2, 'discograph-test-graph')
  graph.message(11, valueInfo(inputName, shape))
  if (options.extraInput) graph.message(11, valueInfo(options.extraInput, [1]))
  for (const o of options.outputs)
    graph.message(12, valueInfo(o.name, [batch, o.hideWidth ? `D_${o.name.replace(/\W/g, '_')}` : o.dims]))

  const model = new ProtoWriter()
    .int(1, 8)
    .string(2, 'discograph-test')
    .message(7, graph)
    .message(8, new ProtoWriter().string(1, '').int(2, 13))
  return { bytes: model.finish(), weights }
}

export function writeTestOnnxGraph(file: string, options: TestGraphOptions): TestGraph {
  const g = buildTestOnnxGraph(options)
  fs.writeFileSync(file, g.bytes)
  return g
}

/** What the test graph computes for output `name`: mean over frames, then · W. patches: n × 128 × 96. */
export function expectedTestOutput(
  graph: TestGraph,
  name: string,
  patches: Float32Array,
  n: number,
  dims: number,
): Float32Array {
  const w = graph.weights[name]
  const out = new Float32Array(n * dims)
  const pooled = new Float64Array(96)
  for (let p = 0; p < n; p++) {
    pooled.fill(0)
    for (let t = 0; t < 128; t++)
      for (let b = 0; b < 96; b++) pooled[b] += patches[p * 128 * 96 + t * 96 + b] / 128
    for (let j = 0; j < dims; j++) {
      let s = 0
      for (let b = 0; b < 96; b++) s += pooled[b] * w[b * dims + j]
      out[p * dims + j] = s
    }
  }
  return out
}

/** What a test head computes for output `name`: x · W, through a sigmoid when asked. x: n × inputDims. */
export function expectedHeadOutput(
  graph: TestGraph,
  name: string,
  x: ArrayLike<number>,
  n: number,
  dims: number,
  sigmoid: boolean,
): Float32Array {
  const w = graph.weights[name]
  const inputDims = w.length / dims
  const out = new Float32Array(n * dims)
  for (let p = 0; p < n; p++)
    for (let j = 0; j < dims; j++) {
      let s = 0
      for (let b = 0; b < inputDims; b++) s += x[p * inputDims + b] * w[b * dims + j]
      out[p * dims + j] = sigmoid ? 1 / (1 + Math.exp(-s)) : s
    }
  return out
}

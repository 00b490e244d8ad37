/**
 * npm run bench:train — speed of the training engine on the paper's model: EfficientNet-B0 on 1×128×96 mel
 * patches, bilinear COLA head, Adam, batch 32 pairs per view (both views through the encoder in one pass,
 * the trainer's own step: src/ml/training/step.ts), then inference (batch 64, eval mode).
 *
 *   train_samples_per_s  = 2 × batch / step time (every patch through the backbone, both views; as the
 *                          PyTorch reference counts)
 *   infer_patches_per_s  = patches / time of embedPatches in batches of 64
 *
 * Options: --backend auto|native|cpu|wasm|… (default auto), --size b0|small|tiny, --batch 32, --warmup 1,
 * --steps 3, --infer-batches 3, --max-seconds 240 (caps the timed steps after warm-up), --profile (kernel
 * time split of one step and one inference batch), --reference (also runs bench/reference/efficientnet_cola.py
 * with PyTorch, if importable, before and after ours in the same run — once with OpenMP's default spin-waiting,
 * once with passive waiting as our engine uses, which fares better when other processes share the cores —
 * and reports the ratios against its better figures, so the ratio errs against us). Run it alone:
 *   flock /tmp/discograph-bench.lock npm run bench:train -- --reference
 * Ends with one JSON line of figures.
 */
import { spawnSync } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import * as tf from '@tensorflow/tfjs'
import { initBackend } from '../src/ml/engine/backend.ts'
import { createAdam } from '../src/ml/engine/optimizer.ts'
import { colaLossFromLogits } from '../src/ml/models/cola.ts'
import { createContrastiveModel, embedPatches } from '../src/ml/models/contrastive.ts'
import {
  countParameters,
  ENCODER_SIZES,
  MEL_BANDS,
  PATCH_FRAMES,
  type EncoderSize,
} from '../src/ml/models/efficientnet.ts'
import { SeededRandom } from '../src/random/seeded-random.ts'
import { stepGradients } from '../src/ml/training/step.ts'

const { values: opt } = parseArgs({
  options: {
    backend: { type: 'string', default: 'auto' },
    size: { type: 'string', default: 'b0' },
    batch: { type: 'string', default: '32' },
    warmup: { type: 'string', default: '1' },
    steps: { type: 'string', default: '3' },
    'infer-batch': { type: 'string', default: '64' },
    'infer-batches': { type: 'string', default: '3' },
    'max-seconds': { type: 'string', default: '240' },
    profile: { type: 'boolean', default: false },
    reference: { type: 'boolean', default: false },
  },
})
const size = opt.size as EncoderSize
if (!(size in ENCODER_SIZES))
  throw new Error(`--size must be one of ${Object.keys(ENCODER_SIZES).join(', ')}`)
const batch = Number(opt.batch)
const warmup = Number(opt.warmup)
const steps = Number(opt.steps)
const inferBatch = Number(opt['infer-batch'])
const inferBatches = Number(opt['infer-batches'])
const maxSeconds = Number(opt['max-seconds'])

interface Reference {
  backend: string
  threads: number
  train_samples_per_s: number
  infer_patches_per_s: number
}
const wantReference = opt.reference && size === 'b0'
if (opt.reference && !wantReference)
  console.log(`reference: the PyTorch script builds B0 only; skipped for --size ${size}`)
const referenceRuns: Reference[] = []
if (wantReference) collectReference({})

const backend = await initBackend(opt.backend)
console.log(`backend ${backend.name}: ${backend.details}`)

const model = createContrastiveModel({ encoder: ENCODER_SIZES[size], heads: 1, seed: 1 })
const params = countParameters(model.encoder.trainableVariables)
console.log(
  `EfficientNet ${size}: ${params.toLocaleString('en')} backbone parameters; COLA head ${model.colaHeads[0].dim}-d; Adam 1e-3`,
)

const rng = new SeededRandom(7)
const patch = PATCH_FRAMES * MEL_BANDS
const randomPatches = (n: number) => Float32Array.from({ length: n * patch }, () => rng.next() * 2 - 1)
const anchors = tf.tensor3d(randomPatches(batch), [batch, PATCH_FRAMES, MEL_BANDS])
const positives = tf.tensor3d(randomPatches(batch), [batch, PATCH_FRAMES, MEL_BANDS])
const optimizer = createAdam(1e-3)

function trainStep(seed: number): number {
  const { loss, grads } = stepGradients({
    model,
    views: [anchors, positives],
    loss: ([a, b]) => colaLossFromLogits(model.logits(a, b, 0)),
    seed,
    chunkSize: batch,
  })
  optimizer.applyGradients(grads as unknown as Record<string, tf.Variable>)
  tf.dispose(Object.values(grads))
  return loss
}

const seconds = (t0: number) => (performance.now() - t0) / 1000
let seed = 0
const t0 = performance.now()
for (let i = 0; i < warmup; i++) trainStep(seed++)
const warmupS = seconds(t0)
console.log(`warm-up: ${warmup} step(s) in ${warmupS.toFixed(2)} s`)

const budgeted = Math.max(
  1,
  Math.min(steps, Math.floor(maxSeconds / Math.max(warmupS / Math.max(warmup, 1), 1e-3))),
)
const stepTimes: number[] = []
let lastLoss = NaN
const trainCpu0 = process.cpuUsage()
for (let i = 0; i < budgeted; i++) {
  const t = performance.now()
  lastLoss = trainStep(seed++)
  stepTimes.push(seconds(t))
}
const stepS = stepTimes.reduce((a, b) => a + b, 0) / stepTimes.length
const trainRate = (2 * batch) / stepS
const trainCores = cpuSeconds(trainCpu0) / (stepS * stepTimes.length)
console.log(
  `training: ${stepTimes.map((s) => s.toFixed(2)).join(', ')} s per step (loss ${lastLoss.toFixed(3)}) → ` +
    `${trainRate.toFixed(1)} samples/s (2 × ${batch} per step); ${trainCores.toFixed(2)} cores busy on average`,
)

const inferInput = randomPatches(inferBatch * inferBatches)
embedPatches(model.encoder, inferInput.subarray(0, inferBatch * patch), inferBatch) // warm-up
const inferCpu0 = process.cpuUsage()
const ti = performance.now()
embedPatches(model.encoder, inferInput, inferBatch)
const inferS = seconds(ti)
const inferRate = (inferBatch * inferBatches) / inferS
const inferCores = cpuSeconds(inferCpu0) / inferS
console.log(
  `inference: ${inferBatches} × ${inferBatch} patches in ${inferS.toFixed(2)} s → ${inferRate.toFixed(1)} patches/s; ` +
    `${inferCores.toFixed(2)} cores busy on average`,
)

if (opt.profile) {
  await printProfile('training step', () => void trainStep(seed++))
  await printProfile(
    'inference batch',
    () => void embedPatches(model.encoder, inferInput.subarray(0, inferBatch * patch), inferBatch),
  )
}
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`)

optimizer.dispose()
model.dispose()
tf.dispose([anchors, positives])

if (wantReference && referenceRuns.length) collectReference({ OMP_WAIT_POLICY: 'PASSIVE' })
const reference: Reference | null = referenceRuns.length
  ? {
      ...referenceRuns[0],
      train_samples_per_s: Math.max(...referenceRuns.map((r) => r.train_samples_per_s)),
      infer_patches_per_s: Math.max(...referenceRuns.map((r) => r.infer_patches_per_s)),
    }
  : null
if (reference) {
  console.log(
    `reference ${reference.backend} (${reference.threads} threads, best of ${referenceRuns.length} runs): ` +
      `${reference.train_samples_per_s} samples/s, ${reference.infer_patches_per_s} patches/s → ours: ` +
      `${pct(trainRate, reference.train_samples_per_s)} of its training, ${pct(inferRate, reference.infer_patches_per_s)} ` +
      `of its inference (targets 25 % and 50 %)`,
  )
}

const round = (x: number, d = 2) => Number(x.toFixed(d))
console.log(
  JSON.stringify({
    backend: backend.name,
    details: backend.details,
    size,
    backbone_params: params,
    cores: os.availableParallelism(),
    batch_per_view: batch,
    warmup_s: round(warmupS),
    train_steps: stepTimes.length,
    train_step_s: round(stepS, 3),
    train_samples_per_s: round(trainRate),
    train_cores_busy: round(trainCores),
    infer_batch: inferBatch,
    infer_patches_per_s: round(inferRate),
    infer_cores_busy: round(inferCores),
    load_average_1m: round(os.loadavg()[0]),
    reference,
    reference_runs: referenceRuns.map((r) => ({
      train: r.train_samples_per_s,
      infer: r.infer_patches_per_s,
    })),
    train_ratio: reference ? round(trainRate / reference.train_samples_per_s, 3) : null,
    infer_ratio: reference ? round(inferRate / reference.infer_patches_per_s, 3) : null,
  }),
)

/**
 * CPU seconds this process used since `since`. Divided by wall time: the cores kept busy. Below the core count
 * on an idle machine, the rest is single-threaded time (JavaScript between kernels); far below it with other
 * processes running, they took the cores and the figures are low.
 */
function cpuSeconds(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since)
  return (u.user + u.system) / 1e6
}

function pct(ours: number, theirs: number): string {
  return `${((100 * ours) / theirs).toFixed(0)} %`
}

/** Kernel time split of one call, largest first (tf.profile times each kernel; fused ops count once). */
async function printProfile(what: string, fn: () => void): Promise<void> {
  const info = await tf.profile(fn)
  const byKernel = new Map<string, { ms: number; calls: number }>()
  for (const k of info.kernels) {
    if (k.name === 'unnamed scope') continue // customGrad wrappers: their kernels are counted themselves
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 }
    e.ms += Number(k.kernelTimeMs)
    e.calls++
    byKernel.set(k.name, e)
  }
  const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0)
  console.log(`${what}: ${total.toFixed(0)} ms in kernels`)
  for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14)) {
    console.log(
      `  ${name.padEnd(38)} ${e.ms.toFixed(0).padStart(6)} ms ${((100 * e.ms) / total).toFixed(1).padStart(5)} %  ${e.calls} calls`,
    )
  }
}

/** PyTorch on the same model, in this run (optional: Debian's python3-torch); nothing when unavailable. */
function collectReference(env: Record<string, string>): void {
  const r = runReference(env)
  const how = env.OMP_WAIT_POLICY ? `OMP_WAIT_POLICY=${env.OMP_WAIT_POLICY}` : 'default environment'
  if (r)
    console.log(
      `reference run ${referenceRuns.length + 1} (${how}): ${r.train_samples_per_s} samples/s, ${r.infer_patches_per_s} patches/s`,
    )
  if (r) referenceRuns.push(r)
}

function runReference(env: Record<string, string>): Reference | null {
  const script = path.join(import.meta.dirname, 'reference', 'efficientnet_cola.py')
  for (const python of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(python, [script, String(batch), String(Math.max(steps, 2))], {
      encoding: 'utf8',
      timeout: maxSeconds * 1000,
      env: { ...process.env, OMP_WAIT_POLICY: undefined, ...env },
    })
    const line = r.stdout?.trim().split('\n').at(-1)
    if (r.status === 0 && line?.startsWith('{')) return JSON.parse(line) as Reference
  }
  console.log('reference: PyTorch not importable (apt-get install python3-torch); skipped')
  return null
}

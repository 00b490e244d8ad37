import fs from 'node:fs'
import path from 'node:path'
import type * as tf from '@tensorflow/tfjs'
import { DEFAULT_PATCH_HOP } from '../audio/patches.ts'
import type { Config } from '../config/config.ts'
import type { Database } from '../db/database.ts'
import { ModelRepository, type ModelRow, type ModelSpace } from '../db/repositories/model.repository.ts'
import { TrainingRunRepository, type TrainingRunRow } from '../db/repositories/training-run.repository.ts'
import { BadInputError, ModelShapeError, NotFoundError } from '../errors.ts'
import { fileFingerprint, weightsFingerprint } from '../ml/embedding/fingerprint.ts'
import { colaPatchEncoder, type PatchEncoder } from '../ml/embedding/patch-encoder.ts'
import {
  createContrastiveModel,
  loadModelWeights,
  saveModelWeights,
  savedModelSpec,
  type ColaModel,
  type ContrastiveSpec,
} from '../ml/models/contrastive.ts'
import {
  ESSENTIA_LICENCE,
  isEssentiaFile,
  predictionsOutput,
  readEssentiaMetadata,
} from '../ml/onnx/essentia-metadata.ts'
import { essentiaAssociation } from '../ml/onnx/graph.ts'
import { openOnnxGraph } from '../ml/onnx/onnx-encoder.ts'
import type { ProbeRow } from '../db/repositories/probe.repository.ts'
import { saveModelOutputProbe } from './onnx-probe.service.ts'
import { disposeCheckpoint, latestCheckpoint } from '../ml/training/checkpoints.ts'
import { storedTrainingConfig } from '../ml/training/config.ts'
import { trackVectorDims } from '../ml/embedding/pooling.ts'
import { ENCODER_SIZES, modelForRun } from './training.service.ts'

export type { ModelRow, ModelSpace }

/**
 * The model registry: every encoder that can embed audio, each a `model` row identified by the
 * fingerprint of its weights. Three kinds:
 * - `random`: an untrained encoder + head from a fixed seed (the paper's random-weights baseline),
 *   registered the first time it is asked for (`random` = B0, or `random-small`, `random-tiny`);
 * - `trained`: the newest checkpoint of a training run, copied to DATA_DIR/models so that later checkpoints
 *   of the run cannot change it (a finished run is named as the run; an unfinished one `<run>@<step>`);
 * - `onnx`: an imported ONNX graph (Essentia's Discogs-EffNet models), copied to DATA_DIR/models/onnx.
 * A model's weights never change: loading one recomputes its fingerprint and refuses a mismatch, so vectors
 * of two weight sets never share a model id.
 */

export type RandomSize = keyof typeof ENCODER_SIZES
export const RANDOM_SEED = 1
const RANDOM_NAME = /^random(?:-(b0|small|tiny))?(?:-s(\d+))?$/

export interface ModelSummary extends ModelRow {
  /** tracks with a vector, per space */
  embedded: Partial<Record<ModelSpace, number>>
}

export interface ImportOnnxOptions {
  name: string
  /** take this output instead of recognising the embedding by shape */
  output?: string
  space?: ModelSpace
  association?: string
  /**
   * The model's metadata JSON (Essentia's `discogs-effnet-bsdynamic-1.json`): its `classes` name the
   * graph's class-score output ([N, classes], found by shape), which becomes a probe scored at embed time.
   */
  metadata?: string
}

export interface ImportedOnnx {
  model: ModelRow
  created: boolean
  /** The probe over the graph's own class output, when imported with metadata. */
  predictor?: ProbeRow
}

function disposeAll(m: tf.NamedTensorMap): void {
  for (const t of Object.values(m)) t.dispose()
}

function fingerprintOf(model: ColaModel): string {
  const w = model.weights()
  try {
    return weightsFingerprint(w)
  } finally {
    disposeAll(w)
  }
}

export class ModelService {
  readonly models: ModelRepository

  constructor(
    private readonly db: Database,
    private readonly config: Config,
  ) {
    this.models = new ModelRepository(db.pool)
  }

  async list(): Promise<ModelSummary[]> {
    const [rows, counts] = await Promise.all([this.models.list(), this.models.embeddingCounts()])
    return rows.map((m) => ({
      ...m,
      embedded: Object.fromEntries(counts.filter((c) => c.modelId === m.id).map((c) => [c.space, c.tracks])),
    }))
  }

  /**
   * The model a question without one means: the newest trained model with vectors, else the newest model
   * of any kind with vectors (the random baseline right after `embed --model random`).
   */
  async defaultModel(): Promise<ModelRow> {
    const embedded = (await this.list()).filter((m) => Object.values(m.embedded).some((n) => (n ?? 0) > 0))
    const pick = embedded.filter((m) => m.kind === 'trained').at(-1) ?? embedded.at(-1)
    if (!pick) throw new NotFoundError('model with embeddings', '(none yet: run `discograph embed`)')
    return pick
  }

  /** A registered model by id or name (no registration). */
  async find(ref: string | number): Promise<ModelRow | null> {
    const s = String(ref).trim()
    if (/^\d+$/.test(s)) return this.models.byId(Number(s))
    return this.models.byName(s)
  }

  async get(ref: string | number): Promise<ModelRow> {
    const m = await this.find(ref)
    if (!m) throw new NotFoundError('model', String(ref))
    return m
  }

  /**
   * What `--model` names: a registered model (id or name), `random[-size]` (registered on first use), or a
   * training run (id or name), whose newest checkpoint is registered on first use.
   */
  async resolve(ref: string): Promise<ModelRow> {
    const s = ref.trim()
    if (!s) throw new BadInputError('is empty', 'model')
    const found = await this.find(s)
    if (found) return found
    const random = RANDOM_NAME.exec(s)
    if (random)
      return this.registerRandom(
        (random[1] as RandomSize | undefined) ?? 'b0',
        random[2] ? Number(random[2]) : RANDOM_SEED,
      )
    const run = await new TrainingRunRepository(this.db.pool).get(s)
    if (run) return this.registerRun(run)
    throw new NotFoundError('model or training run', s)
  }

  /** The random-weights baseline of one encoder size: deterministic, so every machine gets the same model. */
  async registerRandom(size: RandomSize = 'b0', seed = RANDOM_SEED): Promise<ModelRow> {
    if (!ENCODER_SIZES[size])
      throw new BadInputError(`unknown size ${size}; choose b0, small or tiny`, 'size')
    const spec: ContrastiveSpec = { encoder: ENCODER_SIZES[size], heads: 1, seed }
    const model = createContrastiveModel(spec)
    try {
      const { model: row } = await this.models.register({
        name: `random-${size}${seed === RANDOM_SEED ? '' : `-s${seed}`}`,
        kind: 'random',
        association: null,
        config: { size, spec, patchHop: DEFAULT_PATCH_HOP },
        dims: { backbone: model.encoder.outputDim, projection: model.colaHeads[0].dim },
        fingerprint: fingerprintOf(model),
      })
      return row
    } finally {
      model.dispose()
    }
  }

  /** Registers the newest checkpoint of a training run (id, name or row). */
  async registerRun(runRef: string | TrainingRunRow): Promise<ModelRow> {
    const run =
      typeof runRef === 'string' ? await new TrainingRunRepository(this.db.pool).get(runRef) : runRef
    if (!run) throw new NotFoundError('training run', String(runRef))
    const ckpt = latestCheckpoint(run.checkpointDir)
    if (!ckpt)
      throw new BadInputError(`run ${run.name} has no checkpoint yet (in ${run.checkpointDir})`, 'model')
    const model = modelForRun(run)
    const { trackPooling } = storedTrainingConfig(run.config)
    try {
      model.setWeights(ckpt.model)
      const fingerprint = fingerprintOf(model)
      const existing = await this.models.byFingerprint(fingerprint)
      if (existing) return existing
      let name = run.status === 'succeeded' ? run.name : `${run.name}@${ckpt.step}`
      if (await this.models.byName(name)) name = `${run.name}@${ckpt.step}`
      if (await this.models.byName(name))
        throw new BadInputError(`a different model is already named ${name}`, 'model')
      const dir = path.join(
        this.config.dataDir,
        'models',
        `${name.replace(/[^\w.@-]+/g, '_')}-${fingerprint.slice(7, 19)}`,
      )
      await saveModelWeights(dir, model)
      const { model: row } = await this.models.register({
        name,
        kind: 'trained',
        association: run.association,
        trainingRunId: run.id,
        config: {
          spec: model.spec,
          step: ckpt.step,
          run: run.name,
          patchHop: DEFAULT_PATCH_HOP,
          trackPooling,
        },
        dims: {
          backbone: trackVectorDims(model.encoder.outputDim, trackPooling),
          projection: trackVectorDims(model.colaHeads[0].dim, trackPooling),
        },
        weightsPath: dir,
        fingerprint,
        metrics: run.metrics,
      })
      return row
    } finally {
      model.dispose()
      disposeCheckpoint(ckpt)
    }
  }

  /**
   * Validates an ONNX graph (input `melspectrogram` [N, 128, 96], an embedding output recognised by shape
   * or named), copies it into DATA_DIR/models/onnx and registers it. The same file imported twice is
   * the same model (`created: false`).
   */
  async importOnnx(file: string, options: ImportOnnxOptions): Promise<ImportedOnnx> {
    const name = options.name?.trim()
    if (!name) throw new BadInputError('is required', '--name')
    if (RANDOM_NAME.test(name) || /^\d+$/.test(name))
      throw new BadInputError(`${name} is reserved (random models, ids)`, '--name')
    const source = path.resolve(file)
    const metaFile = options.metadata ? path.resolve(options.metadata) : null
    const meta = metaFile ? readEssentiaMetadata(metaFile) : null
    const graph = await openOnnxGraph(source, {
      output: options.output,
      space: options.space,
      ...(meta
        ? {
            activations: {
              classes: meta.classes.length,
              name: predictionsOutput(meta)?.name,
              from: path.basename(metaFile!),
            },
          }
        : {}),
    })
    await graph.encoder.dispose()
    // The class output belongs to the probe, not to the model: the model row stays what embeds vectors.
    const { activations, ...plan } = graph.plan
    const withPredictor = async (imported: { model: ModelRow; created: boolean }): Promise<ImportedOnnx> =>
      activations && meta && metaFile
        ? {
            ...imported,
            predictor: await saveModelOutputProbe(this.db.pool, imported.model, activations, metaFile, meta),
          }
        : imported
    const fingerprint = fileFingerprint(source)
    const existing = await this.models.byFingerprint(fingerprint)
    if (existing) return withPredictor({ model: existing, created: false })
    if (await this.models.byName(name)) throw new BadInputError(`a model named ${name} exists`, '--name')
    const dir = path.join(this.config.dataDir, 'models', 'onnx')
    fs.mkdirSync(dir, { recursive: true })
    const target = path.join(dir, `${fingerprint.slice(7, 23)}.onnx`)
    fs.copyFileSync(source, `${target}.tmp`)
    fs.renameSync(`${target}.tmp`, target)
    const base = path.basename(source)
    return withPredictor(
      await this.models.register({
        name,
        kind: 'onnx',
        association: options.association ?? essentiaAssociation(base),
        config: {
          source: base,
          plan,
          patchHop: DEFAULT_PATCH_HOP,
          ...(isEssentiaFile(base) ? { licence: ESSENTIA_LICENCE } : {}),
        },
        dims: Object.fromEntries(Object.entries(plan.outputs).map(([s, o]) => [s, o.dims])),
        weightsPath: target,
        fingerprint,
      }),
    )
  }

  /**
   * An encoder for the model's weights, checked against its fingerprint. tfjs models run on the active
   * TensorFlow.js backend (call initBackend first); ONNX graphs on onnxruntime's CPU provider.
   */
  async openEncoder(
    m: ModelRow,
    options: { activations?: { output: string; classes: number } } = {},
  ): Promise<PatchEncoder> {
    if (m.kind === 'onnx') {
      if (!m.weightsPath) throw new ModelShapeError(`model ${m.name}`, 'no ONNX file recorded')
      if (fileFingerprint(m.weightsPath) !== m.fingerprint) {
        throw new ModelShapeError(
          m.weightsPath,
          `does not match model ${m.name}'s fingerprint; import it again as a new model`,
        )
      }
      const plan = m.config.plan as { outputs: Partial<Record<ModelSpace, { name: string }>> }
      const spaces = Object.entries(plan.outputs) as [ModelSpace, { name: string }][]
      // Re-plan with the recorded outputs so a graph is read the way it was when registered.
      const activations = options.activations && {
        classes: options.activations.classes,
        name: options.activations.output,
      }
      const graph = await openOnnxGraph(m.weightsPath, {
        ...(spaces.length === 1 ? { output: spaces[0][1].name, space: spaces[0][0] } : {}),
        activations,
      })
      return graph.encoder
    }
    if (options.activations)
      throw new ModelShapeError(
        `model ${m.name}`,
        'only an imported ONNX graph has a class output of its own',
      )
    let model: ColaModel
    if (m.kind === 'random') {
      model = createContrastiveModel(m.config.spec as ContrastiveSpec)
    } else {
      if (!m.weightsPath) throw new ModelShapeError(`model ${m.name}`, 'no weights recorded')
      model = createContrastiveModel(savedModelSpec(m.weightsPath))
      try {
        await loadModelWeights(m.weightsPath, model)
      } catch (err) {
        model.dispose()
        throw err
      }
    }
    if (fingerprintOf(model) !== m.fingerprint) {
      model.dispose()
      throw new ModelShapeError(
        `model ${m.name}`,
        'its weights no longer match the registered fingerprint; register them as a new model',
      )
    }
    return colaPatchEncoder(model)
  }
}

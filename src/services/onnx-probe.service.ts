import fs from 'node:fs'
import path from 'node:path'
import type pg from 'pg'
import type { Config } from '../config/config.ts'
import type { Database } from '../db/database.ts'
import { ModelRepository, type ModelRow } from '../db/repositories/model.repository.ts'
import { ProbeRepository, type ProbeRow } from '../db/repositories/probe.repository.ts'
import { BadInputError, ModelShapeError } from '../errors.ts'
import type { EncodedPatches } from '../ml/embedding/patch-encoder.ts'
import { fileFingerprint } from '../ml/embedding/fingerprint.ts'
import {
  ESSENTIA_LICENCE,
  essentiaTaskName,
  isEssentiaFile,
  isMultiLabel,
  metadataBeside,
  predictionsOutput,
  readEssentiaMetadata,
  summarizeMetadata,
  type EssentiaMetadata,
} from '../ml/onnx/essentia-metadata.ts'
import type { HeadPlan } from '../ml/onnx/graph.ts'
import { openOnnxHead, type OnnxHead } from '../ml/onnx/onnx-head.ts'
import { ONNX_HEAD_SOURCE, ONNX_OUTPUT_SOURCE, probeKind, type ProbeKind } from '../ml/probes/probe-kind.ts'

/**
 * Pretrained classifiers as probes, without training: an imported encoder's own class output
 * (discogs-effnet's 400 style activations) and Essentia's classifier heads over its 1280-d embeddings
 * (genre_discogs400, mtg_jamendo_moodtheme, …), each named by the classes of its metadata JSON.
 *
 * Both are scored **per patch at embed time and averaged over the track's patches**, which is how Essentia
 * runs them (TensorflowPredict2D on every patch embedding, then the mean). They are not run on the stored
 * track vector: that is the patches' mean scaled to unit length for cosine search, while the heads were
 * trained on raw patch embeddings, whose length sets the logits' scale. A head imported after tracks were
 * embedded therefore scores them with one more encoder pass over their audio (`probe predict`, or the
 * next `embed`, which also scores every track it embeds).
 */

export interface ImportHeadOptions {
  /** The model whose backbone embeddings the head reads (an imported ONNX encoder), by name or id. */
  model: string
  /** The head's metadata JSON; default: the .json beside the .onnx, when it exists. */
  metadata?: string
  /** Default `<task>@<model>`, the task named as Essentia names the head (genre_discogs400). */
  name?: string
}

function metadataOf(
  file: string,
  given: string | undefined,
  field: string,
): { file: string; meta: EssentiaMetadata } {
  const metaFile = given ? path.resolve(given) : metadataBeside(file)
  if (!metaFile) {
    const beside = `${path.basename(file).replace(/\.onnx$/i, '')}.json`
    throw new BadInputError(
      `${file} needs its metadata JSON for the names of its classes (Essentia publishes ${beside} beside each model); give it with --metadata`,
      field,
    )
  }
  return { file: metaFile, meta: readEssentiaMetadata(metaFile) }
}

function provenance(file: string, metaFile: string, meta: EssentiaMetadata, model: ModelRow) {
  return {
    models: [model.name],
    file: path.basename(file),
    metadata: summarizeMetadata(metaFile, meta),
    ...(isEssentiaFile(file) ? { licence: ESSENTIA_LICENCE } : {}),
  }
}

/**
 * The stored probe of an Essentia graph's classes over `model`'s backbone: the task, labels and provenance
 * come from the metadata JSON; `config` says how to compute the scores.
 */
function essentiaProbe(
  name: string,
  file: string,
  metaFile: string,
  meta: EssentiaMetadata,
  model: ModelRow,
  weightsPath: string,
  config: Record<string, unknown>,
) {
  return {
    name,
    task: essentiaTaskName(metaFile, meta),
    multiLabel: isMultiLabel(meta),
    modelIds: [model.id],
    space: 'backbone' as const,
    classes: meta.classes,
    config: { ...config, ...provenance(file, metaFile, meta, model) },
    metrics: {},
    weightsPath,
  }
}

/** A probe of this name that an import may not replace: one trained here, or another kind. */
function refuseReplacing(existing: ProbeRow | null, kind: ProbeKind, field: string): void {
  if (existing && probeKind(existing) !== kind) {
    throw new BadInputError(
      `a probe named ${existing.name} exists (${probeKind(existing)}); choose another name`,
      field,
    )
  }
}

/**
 * The encoder's own class output as a probe of the model (`config.source = onnx-output`); importing the
 * same model with the same metadata again keeps the probe and its predictions.
 */
export async function saveModelOutputProbe(
  pool: pg.Pool,
  model: ModelRow,
  output: { name: string; dims: number },
  metaFile: string,
  meta: EssentiaMetadata,
): Promise<ProbeRow> {
  const repo = new ProbeRepository(pool)
  const name = `${essentiaTaskName(metaFile, meta)}@${model.name}`
  const existing = await repo.probe(name)
  refuseReplacing(existing, 'model-output', '--metadata')
  if (
    existing &&
    existing.modelIds.join() === String(model.id) &&
    existing.config.output === output.name &&
    existing.classes.join('\n') === meta.classes.join('\n')
  )
    return existing
  const { probe } = await repo.saveProbe(
    essentiaProbe(
      name,
      String(model.config.source ?? model.weightsPath),
      metaFile,
      meta,
      model,
      model.weightsPath!,
      {
        source: ONNX_OUTPUT_SOURCE,
        output: output.name,
      },
    ),
  )
  return probe
}

/**
 * Imports a classifier head ([N, D] → [N, K], D the model's backbone width, K its metadata's classes) as a
 * probe over an imported ONNX encoder: checks it, copies it to DATA_DIR/probes/onnx and stores the probe.
 * The same head for the same model again is the same probe (`created: false`, predictions kept).
 */
export async function importOnnxHead(
  db: Pick<Database, 'pool'>,
  config: Config,
  file: string,
  options: ImportHeadOptions,
): Promise<{ probe: ProbeRow; created: boolean }> {
  const source = path.resolve(file)
  if (!fs.existsSync(source)) throw new ModelShapeError(source, 'no such file')
  const { file: metaFile, meta } = metadataOf(source, options.metadata, '--metadata')
  const model = await encoderFor(db.pool, options.model)
  const inputDims = model.dims.backbone!
  const head = await openOnnxHead(source, {
    classes: meta.classes.length,
    inputDims,
    inputFrom: `the ${inputDims}-d backbone embeddings of model ${model.name}`,
    classesFrom: path.basename(metaFile),
    output: predictionsOutput(meta)?.name,
  })
  await head.dispose()

  const repo = new ProbeRepository(db.pool)
  const name = options.name?.trim() || `${essentiaTaskName(metaFile, meta)}@${model.name}`
  const fingerprint = fileFingerprint(source)
  const existing = await repo.probe(name)
  refuseReplacing(existing, 'onnx-head', '--name')
  if (
    existing &&
    existing.config.fingerprint === fingerprint &&
    existing.modelIds.join() === String(model.id) &&
    existing.classes.join('\n') === meta.classes.join('\n')
  )
    return { probe: existing, created: false }

  const dir = path.join(config.dataDir, 'probes', 'onnx')
  fs.mkdirSync(dir, { recursive: true })
  const target = path.join(dir, `${fingerprint.slice(7, 23)}.onnx`)
  fs.copyFileSync(source, `${target}.tmp`)
  fs.renameSync(`${target}.tmp`, target)
  const { probe } = await repo.saveProbe(
    essentiaProbe(name, source, metaFile, meta, model, target, {
      source: ONNX_HEAD_SOURCE,
      fingerprint,
      plan: head.plan,
      inputDims,
    }),
  )
  return { probe, created: true }
}

/** The encoder a head is imported over: an ONNX model with a backbone output. */
async function encoderFor(pool: pg.Pool, ref: string): Promise<ModelRow> {
  const models = new ModelRepository(pool)
  const s = String(ref ?? '').trim()
  if (!s) throw new BadInputError('name the imported encoder whose embeddings the head reads', '--model')
  const model = /^\d+$/.test(s) ? await models.byId(Number(s)) : await models.byName(s)
  if (!model) {
    throw new BadInputError(
      `no model ${s}; import the encoder the head was trained on first (discograph models import-onnx discogs-effnet-bsdynamic-1.onnx --name ${s})`,
      '--model',
    )
  }
  if (model.kind !== 'onnx') {
    throw new BadInputError(
      `model ${model.name} is a ${model.kind} model; a head reads the embeddings of the imported encoder it was trained on`,
      '--model',
    )
  }
  if (!model.dims.backbone) {
    throw new BadInputError(
      `model ${model.name} has no backbone output for a head to read (it has ${Object.keys(model.dims).join(', ')})`,
      '--model',
    )
  }
  return model
}

/** What the embedding pass runs beside the encoder: the model's imported probes, per patch. */
export interface PatchScorers {
  probes: ProbeRow[]
  /** The model-output probe's output, to open the encoder with (absent without one). */
  activations?: { output: string; classes: number }
  /** Heads read the per-patch backbone embeddings, so the pass must compute them. */
  needsBackbone: boolean
  /** Per probe (in `probes` order), `rows` × classes scores of one encoded batch. */
  score(out: EncodedPatches, rows: number): Promise<Float32Array[]>
  dispose(): Promise<void>
}

/** Opens the imported probes of `model` (none: null). Heads are checked against their fingerprint. */
export async function openPatchScorers(pool: pg.Pool, model: ModelRow): Promise<PatchScorers | null> {
  if (model.kind !== 'onnx') return null
  const probes = await new ProbeRepository(pool).importedProbesOf(model.id)
  if (!probes.length) return null
  const heads = new Map<number, OnnxHead>()
  try {
    for (const p of probes) {
      if (probeKind(p) !== 'onnx-head') continue
      if (fileFingerprint(p.weightsPath) !== p.config.fingerprint)
        throw new ModelShapeError(
          p.weightsPath,
          `does not match probe ${p.name}'s fingerprint; import the head again`,
        )
      const plan = p.config.plan as HeadPlan
      heads.set(
        p.id,
        await openOnnxHead(p.weightsPath, {
          classes: p.classes.length,
          inputDims: plan.inputDims,
          inputFrom: `the backbone embeddings of model ${model.name}`,
          classesFrom: `probe ${p.name}`,
          output: plan.output,
        }),
      )
    }
  } catch (err) {
    await Promise.all([...heads.values()].map((h) => h.dispose()))
    throw err
  }
  const output = probes.find((p) => probeKind(p) === 'model-output')
  return {
    probes,
    ...(output
      ? { activations: { output: String(output.config.output), classes: output.classes.length } }
      : {}),
    needsBackbone: heads.size > 0,
    async score(out, rows) {
      const scores: Float32Array[] = []
      for (const p of probes) {
        const head = heads.get(p.id)
        scores.push(head ? await head.score(out.backbone!, rows) : out.activations!)
      }
      return scores
    },
    async dispose() {
      await Promise.all([...heads.values()].map((h) => h.dispose()))
    },
  }
}

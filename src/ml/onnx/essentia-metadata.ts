import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { ModelShapeError } from '../../errors.ts'

/**
 * The metadata JSON the MTG publishes beside each Essentia model (`discogs-effnet-bsdynamic-1.json`,
 * `genre_discogs400-discogs-effnet-1.json`, …): the class names in output order, the graph's inputs and
 * outputs (`schema`), how Essentia runs it (`inference`), and the published evaluation (`dataset.metrics`).
 * Only `classes` is required; the rest is read when present and kept for provenance. Pure apart from
 * reading the file.
 */

/** Essentia's models' licence; recorded with models and probes imported from files with Essentia's names. */
export const ESSENTIA_LICENCE = 'CC BY-NC-SA 4.0 (Essentia models, MTG-UPF; non-commercial use)'

/** Essentia's file names: the Discogs-EffNet extractors and the heads trained on their embeddings. */
export function isEssentiaFile(file: string): boolean {
  return /discogs[-_]/.test(path.basename(file))
}

const dimension = z.union([z.number().int(), z.string()])
const tensorSchema = z.object({
  name: z.string(),
  type: z.string().optional(),
  shape: z.array(dimension).optional(),
  op: z.string().optional(),
  output_purpose: z.string().optional(),
})

const metadataSchema = z.object({
  name: z.string().optional(),
  type: z.string().optional(),
  link: z.string().optional(),
  version: z.union([z.string(), z.number()]).optional(),
  description: z.string().optional(),
  classes: z
    .array(z.string().min(1, 'a class name is empty'))
    .min(1, 'lists no classes')
    .refine((c) => new Set(c).size === c.length, 'names a class twice'),
  inference: z
    .object({
      sample_rate: z.number().optional(),
      algorithm: z.string().optional(),
      embedding_model: z
        .object({
          algorithm: z.string().optional(),
          model_name: z.string().optional(),
          link: z.string().optional(),
        })
        .nullable()
        .optional(),
    })
    .optional(),
  schema: z
    .object({ inputs: z.array(tensorSchema).optional(), outputs: z.array(tensorSchema).optional() })
    .optional(),
  dataset: z
    .object({ name: z.string().optional(), metrics: z.record(z.string(), z.number()).optional() })
    .optional(),
})

export type EssentiaMetadata = z.infer<typeof metadataSchema>

/** What a probe row keeps of the metadata: where the classes came from and how Essentia describes them. */
export interface MetadataSummary {
  file: string
  name: string | null
  type: string | null
  version: string | null
  link: string | null
  description: string | null
  /** The published test metrics (Essentia's own test set, e.g. ROC-AUC, PR-AUC), not measured here. */
  publishedMetrics: Record<string, number>
  /** The feature extractor Essentia runs the head on (heads only), e.g. discogs-effnet-bs64-1. */
  embeddingModel: string | null
}

export function parseEssentiaMetadata(file: string, text: string): EssentiaMetadata {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new ModelShapeError(file, `not JSON: ${(err as Error).message}`)
  }
  const parsed = metadataSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue.path.length ? issue.path.join('.') : 'the metadata'
    throw new ModelShapeError(
      file,
      `${where}: ${issue.message} (expected Essentia's model metadata: a "classes" list of names, in output order)`,
    )
  }
  return parsed.data
}

export function readEssentiaMetadata(file: string): EssentiaMetadata {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    throw new ModelShapeError(file, 'no such metadata file')
  }
  return parseEssentiaMetadata(file, text)
}

/** The metadata Essentia publishes beside `model.onnx`: `model.json`, when it exists. */
export function metadataBeside(modelFile: string): string | null {
  const candidate = modelFile.replace(/\.onnx$/i, '') + '.json'
  return candidate !== modelFile && fs.existsSync(candidate) ? candidate : null
}

/** The output the schema declares as the class scores (`output_purpose: predictions`), if any. */
export function predictionsOutput(meta: EssentiaMetadata): { name: string; op?: string } | null {
  const o = meta.schema?.outputs?.find((x) => x.output_purpose === 'predictions')
  return o ? { name: o.name, op: o.op } : null
}

/**
 * Whether a track may carry several of the classes at once: a sigmoid output scores each class on its own
 * (styles, moods), a softmax one shares one unit of probability among them (mood_happy: happy / non_happy).
 * Without a declared op, several classes default to multi-label, as Essentia's multi-class heads are.
 */
export function isMultiLabel(meta: EssentiaMetadata): boolean {
  const op = predictionsOutput(meta)?.op?.toLowerCase()
  if (op === 'softmax') return false
  if (op === 'sigmoid') return true
  return meta.classes.length > 2
}

/**
 * The task a model's classes answer, named as Essentia names its heads: `genre_discogs400-discogs-effnet-1`
 * → `genre_discogs400`, `mtg_jamendo_moodtheme-discogs-effnet-1` → `mtg_jamendo_moodtheme`. A feature
 * extractor's own classifier (`discogs-effnet-bsdynamic-1`) is named by its class count, `discogs400`,
 * the name Essentia gives the same 400 Discogs styles; never `styles`, which is the catalog task a probe
 * trained here would take.
 */
export function essentiaTaskName(metadataFile: string, meta: EssentiaMetadata): string {
  const stem = path.basename(metadataFile).replace(/\.json$/i, '')
  const head = /^([a-z0-9]+(?:_[a-z0-9]+)+)-/i.exec(stem)
  if (head) return head[1]
  if (/^discogs[-_]effnet/i.test(stem)) return `discogs${meta.classes.length}`
  return stem.replace(/-\d+$/, '')
}

export function summarizeMetadata(file: string, meta: EssentiaMetadata): MetadataSummary {
  return {
    file: path.basename(file),
    name: meta.name ?? null,
    type: meta.type ?? null,
    version: meta.version === undefined ? null : String(meta.version),
    link: meta.link ?? null,
    description: meta.description ?? null,
    publishedMetrics: meta.dataset?.metrics ?? {},
    embeddingModel: meta.inference?.embedding_model?.model_name ?? null,
  }
}

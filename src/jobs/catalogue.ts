import { z } from 'zod'
import { BadInputError } from '../errors.ts'
import { TRAINING_BACKENDS } from '../ml/engine/backend-names.ts'
import { trainingRequestSchema } from '../ml/training/config.ts'

/**
 * The typed catalogue of background jobs: one name, one payload schema, one handler each
 * (src/jobs/handlers). Payloads are validated when enqueued and again when a worker picks them up,
 * so a job from an older version fails clearly instead of half-running.
 */
export const jobPayloads = {
  'import-discogs': z.object({
    files: z.array(z.string().min(1)).min(1),
    dumpDate: z
      .string()
      .regex(/^\d{8}$/)
      .optional(),
  }),
  'import-audio': z.object({
    dir: z.string().min(1),
    manifest: z.string().min(1).optional(),
    patchHop: z.number().int().min(1).max(128).optional(),
  }),
  /**
   * `config`: the run's options (src/ml/training/config.ts), each checked against its bounds, none other;
   * `association` unless `resume` names a run to continue (whose stored config then applies). A retried train
   * job resumes its own run (see the handler). `backend`: as `discograph train --backend` (wasm cannot train).
   */
  train: z
    .object({
      config: trainingRequestSchema,
      name: z.string().min(1).optional(),
      resume: z.string().min(1).optional(),
      backend: z.enum(TRAINING_BACKENDS).optional(),
    })
    .strict()
    .refine((p) => p.resume !== undefined || p.config.association !== undefined, {
      message: 'is required (or resume)',
      path: ['config', 'association'],
    }),
  /** `model`: id or name, random[-size], or a training run; re-running skips tracks already embedded. */
  embed: z.object({
    model: z.string().min(1),
    space: z.enum(['backbone', 'projection', 'both']).optional(),
    batch: z.number().int().min(1).max(4096).optional(),
    searchTransform: z.enum(['raw', 'center', 'whiten']).optional(),
    whitenDims: z.number().int().min(1).max(4096).optional(),
  }),
  'train-probe': z.object({
    models: z.array(z.string().min(1)).min(1),
    task: z.string().min(1),
    space: z.enum(['backbone', 'projection']).optional(),
    seed: z.number().int().optional(),
    top: z.number().int().min(1).optional(),
    name: z.string().min(1).optional(),
    /** Score every embedded track once trained (what `probe predict` does). */
    predict: z.boolean().optional(),
  }),
  /** A pretrained classifier head (ONNX + metadata JSON, paths on the worker) imported as a probe over an imported model. */
  'import-onnx-head': z.object({
    file: z.string().min(1),
    model: z.string().min(1),
    metadata: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
    /** Score the model's embedded tracks once imported (default true). */
    predict: z.boolean().optional(),
  }),
  evaluate: z.object({
    models: z.array(z.string()).optional(),
    tasks: z.array(z.string()).optional(),
    space: z.enum(['backbone', 'projection']).optional(),
    seed: z.number().int().optional(),
    top: z.number().int().min(1).optional(),
    /** Folder for evaluation.md/.svg/.json (default DATA_DIR/evaluation). */
    out: z.string().min(1).optional(),
  }),
} as const

export type JobName = keyof typeof jobPayloads
export type JobPayload<N extends JobName> = z.infer<(typeof jobPayloads)[N]>
export const jobNames = Object.keys(jobPayloads) as JobName[]

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(jobPayloads, name)
}

/** A job's payload checked against its schema; refused naming each field that is wrong (`config.steps: …`). */
export function parsePayload<N extends JobName>(name: N, payload: unknown): JobPayload<N> {
  const parsed = jobPayloads[name].safeParse(payload)
  if (!parsed.success) {
    throw new BadInputError(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; '),
      'payload',
    )
  }
  return parsed.data as JobPayload<N>
}

/** Retry policy per job: long jobs resume from their own checkpoints, so retrying them is cheap. */
export const jobRetry: Record<JobName, { retryLimit: number; retryDelay: number }> = {
  'import-discogs': { retryLimit: 3, retryDelay: 5 },
  'import-audio': { retryLimit: 3, retryDelay: 5 },
  train: { retryLimit: 5, retryDelay: 5 },
  embed: { retryLimit: 3, retryDelay: 5 },
  'train-probe': { retryLimit: 2, retryDelay: 5 },
  'import-onnx-head': { retryLimit: 2, retryDelay: 5 },
  evaluate: { retryLimit: 1, retryDelay: 5 },
}

import { z } from 'zod'

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
  /** `resume` names a run to continue; a retried train job resumes its own run (see the handler). */
  train: z.object({
    config: z.record(z.string(), z.unknown()),
    name: z.string().min(1).optional(),
    resume: z.string().optional(),
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

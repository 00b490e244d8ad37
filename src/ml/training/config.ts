import { z } from 'zod'
import { TRACK_POOLINGS } from '../embedding/pooling.ts'
import { augmentConfigSchema, NO_AUGMENTATION, type AugmentConfig } from './augment.ts'
import { defaultWarmupSteps } from './schedule.ts'

/**
 * Steps when neither `steps` nor `epochs` is given. On the tuning world (synth small, seed 11; artist,
 * `small` encoder, batch 32) style retrieval was 5.82× chance after 300 steps and 6.17× after 600; on the
 * report worlds 600 steps lift every association over its 300-step figure (docs/evaluation.md, Training
 * settings, third and fourth passes). About 250 CPU-s on that world.
 */
export const DEFAULT_TRAINING_STEPS = 600

/** Pairs per batch when a run does not say: every other pair of the batch is a negative. */
export const DEFAULT_BATCH_SIZE = 32

/**
 * The default for a batch under 32 pairs keeps the pairs 600 steps of 32 see (19,200): a label
 * association on a catalog of a dozen labels can only fill a batch of 8, and at 600 steps it saw a quarter
 * of the others' pairs. On the tuning worlds 2400 steps at batch 8 gave style retrieval 4.01× chance
 * against 3.50× at 600 (docs/evaluation.md, fourth pass). Larger batches keep 600 steps (not measured).
 */
export function defaultTrainingSteps(batchSize: number): number {
  return Math.max(
    DEFAULT_TRAINING_STEPS,
    Math.ceil((DEFAULT_TRAINING_STEPS * DEFAULT_BATCH_SIZE) / batchSize),
  )
}

/** What makes a pair positive: two patches of a track, two tracks of a release, artist or label; multi = track + artist on two heads. */
export const TRAINING_ASSOCIATIONS = ['track', 'release', 'artist', 'label', 'multi'] as const

export type TrainingAssociation = (typeof TRAINING_ASSOCIATIONS)[number]

/** The cosine similarity's softmax temperature when a run does not say; chosen on artist associations. */
export const DEFAULT_TEMPERATURE = 0.3

/**
 * A track association's only positive is the track's other patch, and its held-out precision@10 is
 * within 0.01 of its ceiling (0.1: one relevant item in 10) by step 150: the task is solved early, and
 * what it goes on to learn depends on how hard the negatives are pressed. On the tuning worlds 0.15 beat
 * 0.3 on 4 of 5 (3.42× against 3.33× style lift; paired +0.09 ± 0.06, so not distinguished; on the report
 * worlds +0.07 ± 0.12) and 0.6 lost all 5 (docs/evaluation.md, sixth pass). `multi` keeps 0.3: its track
 * head was not measured apart.
 */
export const TRACK_TEMPERATURE = 0.15

export function defaultTemperature(association: TrainingAssociation): number {
  return association === 'track' ? TRACK_TEMPERATURE : DEFAULT_TEMPERATURE
}

/** Encoder sizes (../models/efficientnet.ts ENCODER_SIZES): the paper's B0 and width/depth-scaled ones for CPUs. */
export const ENCODER_SIZE_NAMES = ['b0', 'small', 'tiny'] as const

/** The fields of a training config, each with its bounds and default. */
const trainingConfigShape = {
  association: z.enum(TRAINING_ASSOCIATIONS),
  /** Model size: 'b0' is the paper's EfficientNet-B0; smaller ones scale width/depth for CPU. */
  size: z.enum(ENCODER_SIZE_NAMES).default('small'),
  /** Pairs per batch (the paper's "batch per view"); every other pair of a batch is a negative. */
  batchSize: z.number().int().min(2).max(4096).default(DEFAULT_BATCH_SIZE),
  /** Pairs encoded at once; smaller than batchSize turns on gradient caching. */
  chunkSize: z.number().int().min(1).max(4096).optional(),
  steps: z.number().int().min(1).optional(),
  epochs: z.number().int().min(1).optional(),
  learningRate: z.number().positive().max(1).default(1e-3),
  /**
   * Steps of linear warm-up to learningRate (./schedule.ts). Unset: 5 % of the run's steps
   * (defaultWarmupSteps), which is 30 of the default 600 — what the tuning worlds measured.
   */
  warmupSteps: z.number().int().min(0).optional(),
  /**
   * After warm-up: constant, or a half cosine down to 0 at the last step. Cosine is the default because it
   * won the first two tuning worlds (a constant rate leaves the last step's weights wherever the last
   * batches pushed them); over five tuning worlds × three training seeds the two are not distinguished
   * (+0.05× ± 0.12 style lift; docs/evaluation.md, Training settings, fifth pass).
   */
  schedule: z.enum(['constant', 'cosine']).default('cosine'),
  seed: z.number().int().min(0).default(1),
  validationFraction: z.number().min(0).max(0.5).default(0.1),
  /** Steps between validations (held-out retrieval, ./validation.ts); the last step always validates. */
  validateEvery: z.number().int().min(1).default(50),
  /**
   * How a pair is scored in the loss: COLA's learned bilinear form on the projections (the paper), or their
   * cosine over `temperature` (SimCLR's NT-Xent; the head's bilinear matrix is then unused).
   */
  similarity: z.enum(['bilinear', 'cosine']).default('cosine'),
  /** Unset: defaultTemperature of the association (0.15 for track, else 0.3), filled in when the run starts. */
  temperature: z.number().positive().max(10).optional(),
  /** Which patches of a track the two views use: random (seeded per step) or the first ones. */
  patchSelection: z.enum(['random', 'first']).default('random'),
  /**
   * Augmentations of each view (./augment.ts); all off by default: a mild set (shift and one mask of each
   * kind) lost 4 of 5 tuning worlds at 600 steps (docs/evaluation.md, fifth pass).
   */
  augment: augmentConfigSchema.default(augmentConfigSchema.parse({})),
  /**
   * How the model registered from this run pools a track's patch vectors (../embedding/pooling.ts): stored
   * with the model, so every embedding of it pools the same way. Training itself is unaffected. `mean-std`
   * helped at 300 steps and not at 600 (docs/evaluation.md, Training settings), so the mean stays.
   */
  trackPooling: z.enum(TRACK_POOLINGS).default('mean'),
  checkpointEvery: z.number().int().min(1).default(50),
  logEvery: z.number().int().min(1).default(5),
}

const stepsOrEpochs: [
  (c: { steps?: number; epochs?: number }) => boolean,
  { message: string; path: string[] },
] = [(c) => !(c.steps && c.epochs), { message: 'give steps or epochs, not both', path: ['epochs'] }]

/** Everything that defines a training run; stored with the run, so a run can be repeated or resumed. */
export const trainingConfigSchema = z
  .object(trainingConfigShape)
  .refine(...stepsOrEpochs)
  .transform((c) => (c.steps || c.epochs ? c : { ...c, steps: defaultTrainingSteps(c.batchSize) }))
  .transform((c) => ({ ...c, temperature: c.temperature ?? defaultTemperature(c.association) }))
  // With steps known the warm-up is resolved here, so the stored run says what it used; an epochs run
  // learns its step count from the catalog and the trainer resolves it the same way.
  .transform((c) =>
    c.warmupSteps === undefined && c.steps ? { ...c, warmupSteps: defaultWarmupSteps(c.steps) } : c,
  )

export type TrainingConfig = z.infer<typeof trainingConfigSchema>

/** A training config as asked for: any of its fields (augment's too), none filled in, nothing else. */
export type TrainingRequest = Partial<Omit<TrainingConfig, 'augment'>> & { augment?: Partial<AugmentConfig> }

/** The shape's fields without their defaults, each optional; nested objects likewise and strict. */
function requestShape(shape: z.ZodRawShape): z.ZodRawShape {
  return Object.fromEntries(
    Object.entries(shape).map(([key, field]) => {
      let f = field as z.ZodType
      if (f instanceof z.ZodDefault) f = f.unwrap() as z.ZodType
      if (f instanceof z.ZodObject) f = z.object(requestShape(f.shape)).strict()
      return [key, f.optional()]
    }),
  )
}

/**
 * The config a `train` job carries: the fields of trainingConfigSchema with their bounds, each optional and
 * without its default (the run fills defaults when it starts, so the job shows what was asked), and no other
 * key: a misspelt option is refused by name instead of training with the default.
 */
export const trainingRequestSchema = z
  .object(requestShape(trainingConfigShape))
  .strict()
  .refine(...stepsOrEpochs) as unknown as z.ZodType<TrainingRequest>

/**
 * A run's stored config as the schema reads it today. Runs stored before the `similarity` and `augment`
 * options trained with COLA's bilinear form and no augmentation, whatever today's defaults are: a resumed
 * run goes on as it started; a run stored without a temperature trained at 0.3 (track associations
 * too, before TRACK_TEMPERATURE); before `trackPooling` their models pooled by the mean; and a run stored
 * with neither steps nor epochs (before DEFAULT_TRAINING_STEPS) ran one epoch. Runs stored before the
 * schedule options ran at a constant rate without warm-up (since then every run stores its schedule).
 */
export function storedTrainingConfig(stored: Record<string, unknown>): TrainingConfig {
  return trainingConfigSchema.parse({
    similarity: 'bilinear',
    temperature: DEFAULT_TEMPERATURE,
    augment: NO_AUGMENTATION,
    ...(stored.schedule ? {} : { schedule: 'constant', warmupSteps: 0 }),
    trackPooling: 'mean',
    ...(stored.steps || stored.epochs ? {} : { epochs: 1 }),
    ...stored,
  })
}

import crypto from 'node:crypto'
import path from 'node:path'
import type { Config } from '../config/config.ts'
import type { Database } from '../db/database.ts'
import { AssociationRepository, type Association } from '../db/repositories/association.repository.ts'
import {
  TrainingRunRepository,
  type HistoryEntry,
  type TrainingRunRow,
} from '../db/repositories/training-run.repository.ts'
import { BadInputError, NotFoundError } from '../errors.ts'
import type { Logger } from '../logger.ts'
import { releaseNativeBuffers } from '../ml/engine/native-backend.ts'
import { createContrastiveModel, type ColaModel } from '../ml/models/contrastive.ts'
import { ENCODER_SIZES } from '../ml/models/efficientnet.ts'
import { storedTrainingConfig, trainingConfigSchema, type TrainingConfig } from '../ml/training/config.ts'
import { eligibleGroupCount, largestFittingBatch, splitGroups } from '../ml/training/pair-sampler.ts'
import { runTraining, type Objective, type PatchSource } from '../ml/training/trainer.ts'

export { ENCODER_SIZES }

/** `multi` is the paper's multi-task model: the track and artist objectives on two heads, losses summed. */
const OBJECTIVES: Record<TrainingConfig['association'], Association[]> = {
  track: ['track'],
  release: ['release'],
  artist: ['artist'],
  label: ['label'],
  multi: ['track', 'artist'],
}

export interface TrainProgress {
  step: number
  totalSteps: number
  entry: HistoryEntry
}

export interface TrainOptions {
  name?: string
  /** Continue this run (id or name) from its last checkpoint. */
  resume?: string
  jobId?: string
  backend: string
  logger: Logger
  signal?: AbortSignal
  onProgress?(p: TrainProgress): void
}

export function runDirectory(config: Config, runId: string): string {
  return path.join(config.dataDir, 'runs', runId)
}

export function modelForRun(run: Pick<TrainingRunRow, 'config'>): ColaModel {
  const c = trainingConfigSchema.parse(run.config)
  return createContrastiveModel({
    encoder: ENCODER_SIZES[c.size],
    heads: OBJECTIVES[c.association].length,
    seed: c.seed,
  })
}

/**
 * Trains (or resumes) a contrastive run: positives from Discogs associations in SQL, a seeded split of whole
 * groups for validation, checkpoints under DATA_DIR/runs/<id>, and the run row kept current at every
 * checkpoint (so a crash loses at most the steps since the last one, and their log entries are replaced).
 */
export async function trainContrastive(
  db: Database,
  config: Config,
  input: unknown,
  patches: PatchSource,
  options: TrainOptions,
): Promise<TrainingRunRow> {
  const runs = new TrainingRunRepository(db.pool)
  let resumed: TrainingRunRow | undefined
  let trainingConfig: TrainingConfig
  if (options.resume) {
    resumed = (await runs.get(options.resume)) ?? undefined
    if (!resumed) throw new NotFoundError('training run', options.resume)
    if (resumed.status === 'succeeded')
      throw new BadInputError(`run ${resumed.name} already finished`, 'resume')
    trainingConfig = storedTrainingConfig(resumed.config)
  } else {
    const parsed = trainingConfigSchema.safeParse(input)
    if (!parsed.success) {
      throw new BadInputError(
        parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; '),
        'training config',
      )
    }
    trainingConfig = parsed.data
  }

  // Before any run is recorded: a catalog that cannot fill one batch fails here, saying what would fit.
  const associations = new AssociationRepository(db.pool)
  const objectives: Objective[] = []
  // Held-out artist and label queries do not rank their own release's tracks (./validation.ts).
  const releases = (await associations.groups('release')).trackGroups
  for (const [i, association] of OBJECTIVES[trainingConfig.association].entries()) {
    const groups = await associations.groups(association)
    if (!groups.groups.size)
      throw new BadInputError(
        'no tracks with audio are linked to the catalog; run `discograph ingest audio` first',
        'association',
      )
    const { train, validation } = splitGroups(
      groups,
      trainingConfig.validationFraction,
      trainingConfig.seed + i,
    )
    const trackExclude =
      association === 'artist' || association === 'label' ? (t: number) => releases.get(t)?.[0] : undefined
    const objective = {
      name: association,
      train,
      validation,
      samePatchTrack: association === 'track',
      trackExclude,
    }
    checkBatchFits(objective, trainingConfig)
    objectives.push(objective)
  }

  const run = resumed ?? (await createRun(runs, config, trainingConfig, options))

  const model = modelForRun({ config: trainingConfig })
  await runs.start(run.id, options.backend)
  options.logger.info(
    {
      run: run.name,
      backend: options.backend,
      association: trainingConfig.association,
      groups: objectives.map((o) => o.train.groups.size),
    },
    'training',
  )
  try {
    const outcome = await runTraining({
      model,
      config: trainingConfig,
      objectives,
      patches,
      checkpointDir: run.checkpointDir,
      resume: Boolean(options.resume),
      hooks: {
        signal: options.signal,
        onLog: (entry) => options.onProgress?.({ step: entry.step, totalSteps: run.totalSteps, entry }),
        onCheckpoint: (step, entries) => runs.checkpoint(run.id, step, entries),
      },
    })
    await runs.setTotalSteps(run.id, outcome.totalSteps)
    await runs.finish(run.id, 'succeeded', { metrics: outcome.metrics })
  } catch (err) {
    const stopped = options.signal?.aborted
    await runs.finish(run.id, stopped ? 'stopped' : 'failed', {
      error: err instanceof Error ? err.message : String(err),
    })
    throw err
  } finally {
    model.dispose()
    // The native backend keeps freed activation buffers for the next step (gigabytes for B0); a worker
    // process moves on to other jobs, so they go back to the allocator here.
    releaseNativeBuffers()
  }
  return (await runs.get(run.id))!
}

async function createRun(
  runs: TrainingRunRepository,
  config: Config,
  trainingConfig: TrainingConfig,
  options: TrainOptions,
): Promise<TrainingRunRow> {
  const id = crypto.randomUUID()
  const name =
    options.name ??
    `${trainingConfig.association}-${trainingConfig.size}-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '')}`
  if (await runs.get(name))
    throw new BadInputError(`a run named ${name} exists; resume it or pick another name`, 'name')
  return runs.create({
    id,
    name,
    association: trainingConfig.association,
    config: trainingConfig,
    totalSteps: trainingConfig.steps ?? 0,
    checkpointDir: path.join(runDirectory(config, id), 'checkpoints'),
    jobId: options.jobId,
  })
}

const GROUP_WORDS: Record<Association, string> = {
  track: 'tracks with audio',
  release: 'releases with two or more tracks with audio',
  artist: 'artists with two or more tracks with audio',
  label: 'labels with two or more tracks with audio',
}

/**
 * A batch of n pairs needs n groups whose pairs share no group (every other pair is a negative). Refuses a
 * batch the training groups cannot fill, naming how many groups there are and the largest batch that fits.
 */
export function checkBatchFits(objective: Objective, config: TrainingConfig): void {
  const { size } = largestFittingBatch(objective.train, {
    batchSize: config.batchSize,
    seed: config.seed,
    samePatchTrack: objective.samePatchTrack,
  })
  if (size === config.batchSize) return
  const association = objective.name as Association
  const groups = eligibleGroupCount(objective.train, objective.samePatchTrack)
  const heldOut = eligibleGroupCount(objective.validation, objective.samePatchTrack)
  const fits = size >= 2 ? `--batch ${size} fits` : 'no batch fits (the smallest is 2)'
  throw new BadInputError(
    `the ${association} association has ${groups} groups to train on (${GROUP_WORDS[association]}` +
      `${heldOut ? `; ${heldOut} more held out for validation` : ''}), and a batch of ${config.batchSize} pairs needs ` +
      `${config.batchSize} groups that share no track: ${fits}, or link audio of more ${association === 'track' ? 'tracks' : `${association}s`}`,
    '--batch',
  )
}

import type { Database } from '../db/database.ts'
import { BadInputError } from '../errors.ts'
import { TrainingRunRepository, type TrainingRunRow } from '../db/repositories/training-run.repository.ts'

export type { TrainingRunRow }

/**
 * Reading the recorded training runs, apart from training itself (training.service.ts), which loads the
 * engine and the models: `demo` asks a run's state before it starts a training step, and that import
 * would hold TensorFlow.js in its process throughout (67 MB of RSS, measured by importing both under tsx).
 */

/** The run of that id or name, if any. */
export function findRun(db: Database, idOrName: string): Promise<TrainingRunRow | null> {
  return new TrainingRunRepository(db.pool).get(idOrName)
}

/** The run a job created, if any: a retried train job resumes it rather than start another. */
export function runOfJob(db: Database, jobId: string): Promise<TrainingRunRow | null> {
  return new TrainingRunRepository(db.pool).findByJob(jobId)
}

/** The most runs one list holds. */
const MAX_RUNS = 500

/** The newest `first` runs, newest first (1 to MAX_RUNS: a number outside is brought within). */
export function listRuns(db: Database, first: number): Promise<TrainingRunRow[]> {
  return new TrainingRunRepository(db.pool).list(Math.min(Math.max(first, 1), MAX_RUNS))
}

/** The most points of a training curve one answer holds. */
export const MAX_CURVE_POINTS = 5000

/**
 * At most `points` of a run's history, in step order: all of it when it has no more, else an even sample
 * that keeps the first and the last point (the last alone when one is asked for), so a curve keeps its shape.
 */
export function curvePoints<T>(history: readonly T[], points: number): T[] {
  if (!Number.isInteger(points) || points < 1 || points > MAX_CURVE_POINTS)
    throw new BadInputError(`must be an integer from 1 to ${MAX_CURVE_POINTS}`, 'points')
  const n = history.length
  if (n <= points) return [...history]
  if (points === 1) return [history[n - 1]]
  return Array.from({ length: points }, (_, i) => history[Math.round((i * (n - 1)) / (points - 1))])
}

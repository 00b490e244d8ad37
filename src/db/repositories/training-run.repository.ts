import type pg from 'pg'
import type { HistoryEntry } from '../../ml/training/trainer.ts'
import { notifying, TRAINING_RUN_CHANNEL } from '../change-feed.ts'

/** The trainer's log (one entry per logged step), stored as the run's history. */
export type { HistoryEntry }

export type RunStatus = 'created' | 'running' | 'succeeded' | 'failed' | 'stopped'

export interface TrainingRunRow {
  id: string
  name: string
  association: string
  config: Record<string, unknown>
  backend: string | null
  status: RunStatus
  step: number
  totalSteps: number
  history: HistoryEntry[]
  metrics: Record<string, number>
  checkpointDir: string
  parentRunId: string | null
  jobId: string | null
  error: string | null
  createdAt: Date
  updatedAt: Date
  finishedAt: Date | null
}

const columns = `id, name, association, config, backend, status, step, total_steps AS "totalSteps", history, metrics,
  checkpoint_dir AS "checkpointDir", parent_run_id AS "parentRunId", job_id AS "jobId", error,
  created_at AS "createdAt", updated_at AS "updatedAt", finished_at AS "finishedAt"`

/** All SQL on `training_run`. */
export class TrainingRunRepository {
  constructor(private readonly pool: pg.Pool) {}

  async create(run: {
    id: string
    name: string
    association: string
    config: unknown
    totalSteps: number
    checkpointDir: string
    parentRunId?: string
    jobId?: string
  }): Promise<TrainingRunRow> {
    const { rows } = await this.pool.query(
      `INSERT INTO training_run (id, name, association, config, total_steps, checkpoint_dir, parent_run_id, job_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${columns}`,
      [
        run.id,
        run.name,
        run.association,
        JSON.stringify(run.config),
        run.totalSteps,
        run.checkpointDir,
        run.parentRunId ?? null,
        run.jobId ?? null,
      ],
    )
    return rows[0]
  }

  async get(idOrName: string): Promise<TrainingRunRow | null> {
    const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrName)
    const { rows } = await this.pool.query(
      `SELECT ${columns} FROM training_run WHERE ${isUuid ? 'id = $1::uuid' : 'name = $1'}`,
      [idOrName],
    )
    return rows[0] ?? null
  }

  /** The run a job created (a retried job resumes it). */
  async findByJob(jobId: string): Promise<TrainingRunRow | null> {
    const { rows } = await this.pool.query(
      `SELECT ${columns} FROM training_run WHERE job_id = $1 ORDER BY created_at DESC LIMIT 1`,
      [jobId],
    )
    return rows[0] ?? null
  }

  async list(limit = 100): Promise<TrainingRunRow[]> {
    const { rows } = await this.pool.query(
      `SELECT ${columns} FROM training_run ORDER BY created_at DESC LIMIT $1`,
      [limit],
    )
    return rows
  }

  async start(id: string, backend: string): Promise<void> {
    await this.pool.query(
      notifying(
        TRAINING_RUN_CHANNEL,
        `UPDATE training_run SET status = 'running', backend = $2, error = NULL, updated_at = now() WHERE id = $1 RETURNING id`,
      ),
      [id, backend],
    )
  }

  /**
   * Records progress at a checkpoint: the history is truncated to `step` first, so entries logged after the
   * last checkpoint by a run that then crashed are replaced, not duplicated, when it resumes.
   */
  async checkpoint(id: string, step: number, entries: HistoryEntry[]): Promise<void> {
    await this.pool.query(
      notifying(
        TRAINING_RUN_CHANNEL,
        `UPDATE training_run
            SET step = $2, updated_at = now(),
                history = (SELECT COALESCE(jsonb_agg(e ORDER BY (e->>'step')::int), '[]'::jsonb)
                             FROM jsonb_array_elements(history || $3::jsonb) e
                            WHERE (e->>'step')::int <= $2)
          WHERE id = $1 RETURNING id`,
      ),
      [id, step, JSON.stringify(entries)],
    )
  }

  async truncateHistory(id: string, step: number): Promise<void> {
    await this.pool.query(
      notifying(
        TRAINING_RUN_CHANNEL,
        `UPDATE training_run SET step = $2, history = (SELECT COALESCE(jsonb_agg(e), '[]'::jsonb)
            FROM jsonb_array_elements(history) e WHERE (e->>'step')::int <= $2) WHERE id = $1 RETURNING id`,
      ),
      [id, step],
    )
  }

  async setTotalSteps(id: string, totalSteps: number): Promise<void> {
    await this.pool.query(`UPDATE training_run SET total_steps = $2 WHERE id = $1`, [id, totalSteps])
  }

  async finish(
    id: string,
    status: Exclude<RunStatus, 'created' | 'running'>,
    fields: { metrics?: Record<string, number>; error?: string },
  ) {
    await this.pool.query(
      notifying(
        TRAINING_RUN_CHANNEL,
        `UPDATE training_run SET status = $2, metrics = COALESCE($3, metrics), error = $4, finished_at = now(), updated_at = now() WHERE id = $1 RETURNING id`,
      ),
      [id, status, fields.metrics ? JSON.stringify(fields.metrics) : null, fields.error ?? null],
    )
  }
}

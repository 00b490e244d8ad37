import type pg from 'pg'

export type ModelKind = 'random' | 'trained' | 'onnx'
export type ModelSpace = 'backbone' | 'projection'

export interface ModelRow {
  id: number
  name: string
  kind: ModelKind
  association: string | null
  trainingRunId: string | null
  config: Record<string, unknown>
  /** Width per space, e.g. { backbone: 1280, projection: 512 }: only the spaces the model can embed. */
  dims: Partial<Record<ModelSpace, number>>
  weightsPath: string | null
  fingerprint: string
  metrics: Record<string, unknown>
  createdAt: Date
}

export interface NewModel {
  name: string
  kind: ModelKind
  association?: string | null
  trainingRunId?: string | null
  config: Record<string, unknown>
  dims: Partial<Record<ModelSpace, number>>
  weightsPath?: string | null
  fingerprint: string
  metrics?: Record<string, unknown>
}

const columns = `id, name, kind, association, training_run_id AS "trainingRunId", config, dims, weights_path AS "weightsPath",
  fingerprint, metrics, created_at AS "createdAt"`

/** All SQL on `model`: the registry of encoders (random baseline, trained runs, imported ONNX graphs). */
export class ModelRepository {
  constructor(private readonly db: Pick<pg.Pool, 'query'>) {}

  async list(): Promise<ModelRow[]> {
    const { rows } = await this.db.query(`SELECT ${columns} FROM model ORDER BY id`)
    return rows
  }

  async byId(id: number): Promise<ModelRow | null> {
    const { rows } = await this.db.query(`SELECT ${columns} FROM model WHERE id = $1`, [id])
    return rows[0] ?? null
  }

  async byName(name: string): Promise<ModelRow | null> {
    const { rows } = await this.db.query(`SELECT ${columns} FROM model WHERE name = $1`, [name])
    return rows[0] ?? null
  }

  async byFingerprint(fingerprint: string): Promise<ModelRow | null> {
    const { rows } = await this.db.query(`SELECT ${columns} FROM model WHERE fingerprint = $1`, [fingerprint])
    return rows[0] ?? null
  }

  /** Models registered from a training run (one per checkpoint step registered). */
  async byTrainingRun(runId: string): Promise<ModelRow[]> {
    const { rows } = await this.db.query(
      `SELECT ${columns} FROM model WHERE training_run_id = $1 ORDER BY id`,
      [runId],
    )
    return rows
  }

  /**
   * Inserts the model, or returns the existing row with the same fingerprint (registering the same
   * weights twice is a no-op; the unique index settles races between two registrations).
   */
  async register(m: NewModel): Promise<{ model: ModelRow; created: boolean }> {
    const { rows } = await this.db.query(
      `INSERT INTO model (name, kind, association, training_run_id, config, dims, weights_path, fingerprint, metrics)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (fingerprint) DO NOTHING
       RETURNING ${columns}`,
      [
        m.name,
        m.kind,
        m.association ?? null,
        m.trainingRunId ?? null,
        JSON.stringify(m.config),
        JSON.stringify(m.dims),
        m.weightsPath ?? null,
        m.fingerprint,
        JSON.stringify(m.metrics ?? {}),
      ],
    )
    if (rows[0]) return { model: rows[0], created: true }
    return { model: (await this.byFingerprint(m.fingerprint))!, created: false }
  }

  async setMetrics(id: number, metrics: Record<string, unknown>): Promise<void> {
    await this.db.query(`UPDATE model SET metrics = metrics || $2::jsonb WHERE id = $1`, [
      id,
      JSON.stringify(metrics),
    ])
  }

  /** Per model and space: how many tracks have a vector (for listings). */
  async embeddingCounts(): Promise<{ modelId: number; space: ModelSpace; tracks: number }[]> {
    const { rows } = await this.db.query(
      `SELECT model_id AS "modelId", space, count(*)::int AS tracks FROM track_embedding GROUP BY model_id, space ORDER BY 1, 2`,
    )
    return rows
  }
}

import type pg from 'pg'

export type ProbeSpace = 'backbone' | 'projection'

/** The catalog tasks a probe can learn; each reads its targets from the track's release. */
export type CatalogTask = 'styles' | 'genres' | 'label' | 'decade'

export interface ProbeModelRef {
  id: number
  name: string
  kind: 'random' | 'trained' | 'onnx'
  association: string | null
  createdAt: Date
  /** Tracks embedded, per space. */
  embedded: Partial<Record<ProbeSpace, number>>
}

export interface ProbeRow {
  id: number
  name: string
  task: string
  multiLabel: boolean
  modelIds: number[]
  space: ProbeSpace
  classes: string[]
  config: Record<string, unknown>
  metrics: Record<string, number>
  weightsPath: string
  createdAt: Date
}

const probeColumns = `id, name, task, multi_label AS "multiLabel", model_ids AS "modelIds", space, classes, config, metrics,
  weights_path AS "weightsPath", created_at AS "createdAt"`

/** Track ids per statement: keeps `= ANY($1)` arrays and result sets of vectors a bounded size. */
const BATCH = 2000

/**
 * All SQL of probes: the models and vectors they read (straight from track_embedding), the catalog facts
 * their targets come from, and the probe and probe_prediction rows they write.
 */
export class ProbeRepository {
  constructor(private readonly pool: pg.Pool) {}

  /** Models by name, or by id when the reference is a number, in the order asked; missing ones are absent. */
  async models(refs?: readonly string[]): Promise<ProbeModelRef[]> {
    const { rows } = await this.pool.query(
      `SELECT m.id, m.name, m.kind, m.association, m.created_at AS "createdAt",
              COALESCE((SELECT jsonb_object_agg(space, n) FROM (
                 SELECT space, count(*) AS n FROM track_embedding te WHERE te.model_id = m.id GROUP BY space) s), '{}') AS embedded
         FROM model m
        WHERE $1::text[] IS NULL OR m.name = ANY($1) OR m.id::text = ANY($1)
        ORDER BY m.id`,
      [refs ?? null],
    )
    return rows.map((r) => ({
      ...r,
      embedded: Object.fromEntries(Object.entries(r.embedded).map(([k, v]) => [k, Number(v)])),
    }))
  }

  /** Tracks (all, or those of `among`) that every one of the models has a vector for in `space`, by id. */
  async tracksEmbeddedByAll(
    modelIds: readonly number[],
    space: ProbeSpace,
    among?: readonly number[],
  ): Promise<number[]> {
    const { rows } = await this.pool.query<{ track_id: string }>(
      `SELECT track_id FROM track_embedding
        WHERE space = $2 AND model_id = ANY($1::int[]) AND ($3::bigint[] IS NULL OR track_id = ANY($3::bigint[]))
        GROUP BY track_id HAVING count(*) = cardinality($1::int[])
        ORDER BY track_id`,
      [modelIds, space, among ?? null],
    )
    return rows.map((r) => Number(r.track_id))
  }

  /**
   * The models' vectors of `trackIds`, concatenated per track in the order of `modelIds` (a stack), row i =
   * trackIds[i]. Every track must have a vector of every model (see tracksEmbeddedByAll).
   */
  async stackedEmbeddings(
    modelIds: readonly number[],
    space: ProbeSpace,
    trackIds: readonly number[],
  ): Promise<{ data: Float32Array; cols: number }> {
    let dims: number[] | undefined
    let data = new Float32Array(0)
    let cols = 0
    for (let start = 0; start < trackIds.length; start += BATCH) {
      const batch = trackIds.slice(start, start + BATCH)
      const { rows } = await this.pool.query<{ track_id: string; model_id: number; v: number[] }>(
        `SELECT track_id, model_id, embedding::real[] AS v FROM track_embedding
          WHERE space = $1 AND model_id = ANY($2::int[]) AND track_id = ANY($3::bigint[])`,
        [space, modelIds, batch],
      )
      if (!dims) {
        dims = modelIds.map((id) => rows.find((r) => r.model_id === id)?.v.length ?? 0)
        cols = dims.reduce((a, b) => a + b, 0)
        data = new Float32Array(trackIds.length * cols)
      }
      const offsets = dims.map((_, k) => dims!.slice(0, k).reduce((a, b) => a + b, 0))
      const rowOf = new Map(batch.map((t, i) => [t, start + i]))
      const filled = new Set<string>()
      for (const r of rows) {
        const k = modelIds.indexOf(r.model_id)
        if (r.v.length !== dims[k]) {
          throw new RangeError(
            `model ${r.model_id} has vectors of ${dims[k]} and ${r.v.length} dimensions in ${space} (track ${r.track_id})`,
          )
        }
        data.set(r.v, rowOf.get(Number(r.track_id))! * cols + offsets[k])
        filled.add(`${r.track_id}:${r.model_id}`)
      }
      if (filled.size !== batch.length * modelIds.length) {
        const missing = batch.find((t) => modelIds.some((m) => !filled.has(`${t}:${m}`)))
        throw new RangeError(
          `track ${missing} lacks a ${space} vector of one of models ${modelIds.join(', ')}`,
        )
      }
    }
    return { data, cols }
  }

  /** Per track, the labels of a multi-label catalog task (the release's styles or genres). */
  async releaseTags(task: 'styles' | 'genres', trackIds: readonly number[]): Promise<Map<number, string[]>> {
    const table = task === 'styles' ? 'release_style' : 'release_genre'
    const column = task === 'styles' ? 'style' : 'genre'
    const out = new Map<number, string[]>()
    for (let start = 0; start < trackIds.length; start += BATCH) {
      const { rows } = await this.pool.query<{ id: string; tags: string[] }>(
        `SELECT t.id, array_agg(x.${column} ORDER BY x.${column}) AS tags
           FROM track t JOIN ${table} x ON x.release_id = t.release_id
          WHERE t.id = ANY($1::bigint[]) GROUP BY t.id`,
        [trackIds.slice(start, start + BATCH)],
      )
      for (const r of rows) out.set(Number(r.id), r.tags)
    }
    return out
  }

  /**
   * Per track, its release's first printed label (lowest position in the release's label list), skipping
   * "Not On Label" placeholders as the label association does; the id keeps same-named labels apart.
   */
  async primaryLabels(trackIds: readonly number[]): Promise<Map<number, { id: number; name: string }>> {
    const out = new Map<number, { id: number; name: string }>()
    for (let start = 0; start < trackIds.length; start += BATCH) {
      const { rows } = await this.pool.query<{ id: string; label_id: number; name: string }>(
        `SELECT DISTINCT ON (t.id) t.id, rl.label_id, COALESCE(l.name, rl.name, rl.label_id::text) AS name
           FROM track t JOIN release_label rl ON rl.release_id = t.release_id
           LEFT JOIN label l ON l.id = rl.label_id
          WHERE t.id = ANY($1::bigint[]) AND rl.label_id > 0 AND COALESCE(l.name, rl.name, '') NOT ILIKE 'not on label%'
          ORDER BY t.id, rl.ord`,
        [trackIds.slice(start, start + BATCH)],
      )
      for (const r of rows) out.set(Number(r.id), { id: r.label_id, name: r.name })
    }
    return out
  }

  /** Per track, its release's year (absent when the release has none). */
  async releaseYears(trackIds: readonly number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>()
    for (let start = 0; start < trackIds.length; start += BATCH) {
      const { rows } = await this.pool.query<{ id: string; year: number }>(
        `SELECT t.id, r.year FROM track t JOIN release r ON r.id = t.release_id
          WHERE t.id = ANY($1::bigint[]) AND r.year IS NOT NULL`,
        [trackIds.slice(start, start + BATCH)],
      )
      for (const r of rows) out.set(Number(r.id), r.year)
    }
    return out
  }

  /** Which of these ids are catalog tracks. */
  async existingTracks(trackIds: readonly number[]): Promise<Set<number>> {
    const out = new Set<number>()
    for (let start = 0; start < trackIds.length; start += BATCH) {
      const { rows } = await this.pool.query<{ id: string }>(
        `SELECT id FROM track WHERE id = ANY($1::bigint[])`,
        [trackIds.slice(start, start + BATCH)],
      )
      for (const r of rows) out.add(Number(r.id))
    }
    return out
  }

  /** Every audio file linked to a track: label files may name tracks by audio path. */
  async audioPaths(): Promise<{ path: string; trackId: number }[]> {
    const { rows } = await this.pool.query<{ path: string; track_id: string }>(
      `SELECT path, track_id FROM audio_file WHERE track_id IS NOT NULL`,
    )
    return rows.map((r) => ({ path: r.path, trackId: Number(r.track_id) }))
  }

  /**
   * Creates or replaces the probe of this name. A replaced probe's predictions belonged to the old weights,
   * so they go in the same statement. Returns the row and the weights folder it replaced, if any.
   */
  async saveProbe(
    p: Omit<ProbeRow, 'id' | 'createdAt'>,
  ): Promise<{ probe: ProbeRow; previousWeightsPath: string | null }> {
    const { rows } = await this.pool.query(
      `WITH previous AS (SELECT id, weights_path FROM probe WHERE name = $1),
            cleared AS (DELETE FROM probe_prediction WHERE probe_id IN (SELECT id FROM previous)),
            saved AS (
              INSERT INTO probe (name, task, multi_label, model_ids, space, classes, config, metrics, weights_path)
              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
              ON CONFLICT (name) DO UPDATE SET task = EXCLUDED.task, multi_label = EXCLUDED.multi_label,
                model_ids = EXCLUDED.model_ids, space = EXCLUDED.space, classes = EXCLUDED.classes, config = EXCLUDED.config,
                metrics = EXCLUDED.metrics, weights_path = EXCLUDED.weights_path, created_at = now()
              RETURNING ${probeColumns})
       SELECT saved.*, (SELECT weights_path FROM previous) AS "previousWeightsPath" FROM saved`,
      [
        p.name,
        p.task,
        p.multiLabel,
        p.modelIds,
        p.space,
        p.classes,
        JSON.stringify(p.config),
        JSON.stringify(p.metrics),
        p.weightsPath,
      ],
    )
    const { previousWeightsPath, ...probe } = rows[0]
    return { probe, previousWeightsPath }
  }

  /** A probe by name, or by id when the reference is a number. */
  async probe(ref: string | number): Promise<ProbeRow | null> {
    const { rows } = await this.pool.query(
      `SELECT ${probeColumns} FROM probe WHERE name = $1::text OR id::text = $1::text`,
      [String(ref)],
    )
    return rows[0] ?? null
  }

  async probes(): Promise<(ProbeRow & { predictions: number })[]> {
    const { rows } = await this.pool.query(
      `SELECT ${probeColumns}, (SELECT count(*) FROM probe_prediction pp WHERE pp.probe_id = probe.id)::int AS predictions
         FROM probe ORDER BY created_at, id`,
    )
    return rows
  }

  /** Upserts one score row per track; `scores` is `[trackIds.length, classes]` row-major. */
  async writePredictions(
    probeId: number,
    classes: number,
    trackIds: readonly number[],
    scores: Float32Array,
  ): Promise<void> {
    if (scores.length !== trackIds.length * classes)
      throw new RangeError(`${scores.length} scores are not ${trackIds.length}×${classes}`)
    const rowsPerStatement = Math.max(1, Math.floor(200_000 / Math.max(1, classes)))
    for (let start = 0; start < trackIds.length; start += rowsPerStatement) {
      const ids = trackIds.slice(start, start + rowsPerStatement)
      // one flat real[] sliced per row: the same statement works on the server and on PGlite (no COPY there)
      await this.pool.query(
        `INSERT INTO probe_prediction (probe_id, track_id, scores)
         SELECT $1, t.id, ($2::real[])[(t.n - 1) * $3 + 1 : t.n * $3]
           FROM unnest($4::bigint[]) WITH ORDINALITY AS t (id, n)
         ON CONFLICT (probe_id, track_id) DO UPDATE SET scores = EXCLUDED.scores, created_at = now()`,
        [probeId, Array.from(scores.subarray(start * classes, (start + ids.length) * classes)), classes, ids],
      )
    }
  }

  /** Probes of one model whose scores an ONNX graph computes at embed time (config.source onnx-*), by id. */
  async importedProbesOf(modelId: number): Promise<ProbeRow[]> {
    const { rows } = await this.pool.query(
      `SELECT ${probeColumns} FROM probe
        WHERE model_ids = ARRAY[$1::int] AND config->>'source' IN ('onnx-output', 'onnx-head')
        ORDER BY id`,
      [modelId],
    )
    return rows
  }

  /** Tracks with a stored prediction of the probe. */
  async predictedTrackIds(probeId: number): Promise<Set<number>> {
    const { rows } = await this.pool.query<{ track_id: string }>(
      `SELECT track_id FROM probe_prediction WHERE probe_id = $1`,
      [probeId],
    )
    return new Set(rows.map((r) => Number(r.track_id)))
  }

  async prediction(probeId: number, trackId: number): Promise<number[] | null> {
    const { rows } = await this.pool.query<{ scores: number[] }>(
      `SELECT scores FROM probe_prediction WHERE probe_id = $1 AND track_id = $2`,
      [probeId, trackId],
    )
    return rows[0]?.scores ?? null
  }
}

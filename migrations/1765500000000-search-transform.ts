import type { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * Vectors made for search. Mean-pooled conv features of one model all point into one narrow cone (raw cosine
 * 0.99 between unrelated tracks), so each (model, space) gets a transform fitted at embed time (mean-centering,
 * optionally PCA whitening) and every track gets a second vector, `search`: its `embedding` transformed and
 * L2-normalised. kNN, the HNSW index and the artist/label centroids use `search`; probes keep reading the raw
 * `embedding`.
 *
 * - `search_transform`: one row per (model, space): the kind, the fitted mean and whitening rows (float32
 *   little-endian), and how many vectors it was fitted on. `out_dims` is the width of `search`.
 * - Vectors embedded before this migration keep their meaning: they get a `raw` transform (search =
 *   embedding) and their HNSW indexes are rebuilt on `search`, under the same names (a minute per 100k
 *   vectors of 1280 dims). The next `discograph embed` of the model fits the default transform.
 */
export class SearchTransform1765500000000 implements MigrationInterface {
  name = 'SearchTransform1765500000000'

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE track_embedding ADD COLUMN search vector`)
    await q.query(`
      CREATE TABLE search_transform (
        model_id   integer NOT NULL REFERENCES model (id) ON DELETE CASCADE,
        space      text NOT NULL CHECK (space IN ('backbone', 'projection')),
        kind       text NOT NULL CHECK (kind IN ('raw', 'center', 'whiten')),
        in_dims    integer NOT NULL CHECK (in_dims > 0),
        out_dims   integer NOT NULL CHECK (out_dims > 0),
        mean       bytea,
        components bytea,
        variances  bytea,
        fitted_on  integer NOT NULL,
        fitted_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (model_id, space)
      )`)
    const existing: { model_id: number; space: string; dims: number }[] = await q.query(
      `SELECT model_id, space, max(vector_dims(embedding))::int AS dims FROM track_embedding GROUP BY model_id, space`,
    )
    if (!existing.length) return
    await q.query(`UPDATE track_embedding SET search = embedding`)
    const indexes: { indexname: string }[] = await q.query(
      `SELECT indexname FROM pg_indexes WHERE tablename = 'track_embedding' AND indexname LIKE 'track\\_embedding\\_hnsw\\_%'`,
    )
    for (const i of indexes) await q.query(`DROP INDEX IF EXISTS "${i.indexname}"`)
    for (const e of existing) {
      const modelId = Number(e.model_id)
      if (!Number.isInteger(modelId) || !['backbone', 'projection'].includes(e.space)) continue
      await q.query(
        `INSERT INTO search_transform (model_id, space, kind, in_dims, out_dims, fitted_on)
         SELECT $1, $2, 'raw', $3, $3, count(*) FROM track_embedding WHERE model_id = $1 AND space = $2`,
        [modelId, e.space, e.dims],
      )
      // the same definition the embedding repository builds (HNSW_DEFAULTS at the time of writing)
      await q.query(
        `CREATE INDEX track_embedding_hnsw_${modelId}_${e.space} ON track_embedding
           USING hnsw ((search::vector(${Number(e.dims)})) vector_cosine_ops) WITH (m = 16, ef_construction = 128)
           WHERE model_id = ${modelId} AND space = '${e.space}'`,
      )
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS search_transform`)
    const indexes: { indexname: string }[] = await q.query(
      `SELECT indexname FROM pg_indexes WHERE tablename = 'track_embedding' AND indexname LIKE 'track\\_embedding\\_hnsw\\_%'`,
    )
    for (const i of indexes) await q.query(`DROP INDEX IF EXISTS "${i.indexname}"`)
    await q.query(`ALTER TABLE track_embedding DROP COLUMN IF EXISTS search`)
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * The model registry, track embeddings and probes.
 *
 * - `model`: every encoder that can embed audio: the random-weights baseline, trained runs, imported
 *   ONNX graphs. A model row is immutable once it has embeddings: retraining registers a new model, so
 *   vectors of two models never mix (`fingerprint` identifies the weights).
 * - `track_embedding`: one vector per (model, space, track). `space` is `backbone` (1280-d for B0) or
 *   `projection` (the contrastive head's 512-d). The column is dimensionless so one table serves every
 *   model; kNN uses one partial HNSW index per (model, space) on `embedding::vector(dims)`, created by
 *   the embedding repository when a model is embedded (dims are only known then).
 * - `artist_centroid` / `label_centroid`: mean of their tracks' normalised vectors, recomputed after each
 *   embedding pass, for similarArtists / similarLabels.
 * - `probe` / `probe_prediction`: small classifiers on frozen embeddings and their per-class scores.
 */
export class ModelsEmbeddingsProbes1764900000000 implements MigrationInterface {
  name = 'ModelsEmbeddingsProbes1764900000000'

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE model (
        id               serial PRIMARY KEY,
        name             text NOT NULL UNIQUE,
        kind             text NOT NULL CHECK (kind IN ('random', 'trained', 'onnx')),
        association      text,
        training_run_id  uuid REFERENCES training_run (id) ON DELETE SET NULL,
        config           jsonb NOT NULL DEFAULT '{}',
        dims             jsonb NOT NULL DEFAULT '{}',
        weights_path     text,
        fingerprint      text NOT NULL,
        metrics          jsonb NOT NULL DEFAULT '{}',
        created_at       timestamptz NOT NULL DEFAULT now()
      )`)
    await q.query(`
      CREATE TABLE track_embedding (
        model_id   integer NOT NULL REFERENCES model (id) ON DELETE CASCADE,
        space      text NOT NULL CHECK (space IN ('backbone', 'projection')),
        track_id   bigint NOT NULL REFERENCES track (id) ON DELETE CASCADE,
        embedding  vector NOT NULL,
        patches    integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (model_id, space, track_id)
      )`)
    await q.query(`CREATE INDEX track_embedding_track_idx ON track_embedding (track_id)`)
    for (const owner of ['artist', 'label']) {
      await q.query(`
        CREATE TABLE ${owner}_centroid (
          model_id   integer NOT NULL REFERENCES model (id) ON DELETE CASCADE,
          space      text NOT NULL CHECK (space IN ('backbone', 'projection')),
          ${owner}_id integer NOT NULL,
          embedding  vector NOT NULL,
          tracks     integer NOT NULL,
          PRIMARY KEY (model_id, space, ${owner}_id)
        )`)
    }
    await q.query(`
      CREATE TABLE probe (
        id           serial PRIMARY KEY,
        name         text NOT NULL UNIQUE,
        task         text NOT NULL,
        multi_label  boolean NOT NULL,
        model_ids    integer[] NOT NULL,
        space        text NOT NULL CHECK (space IN ('backbone', 'projection')),
        classes      text[] NOT NULL,
        config       jsonb NOT NULL DEFAULT '{}',
        metrics      jsonb NOT NULL DEFAULT '{}',
        weights_path text NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now()
      )`)
    await q.query(`
      CREATE TABLE probe_prediction (
        probe_id   integer NOT NULL REFERENCES probe (id) ON DELETE CASCADE,
        track_id   bigint NOT NULL REFERENCES track (id) ON DELETE CASCADE,
        scores     real[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (probe_id, track_id)
      )`)
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP TABLE IF EXISTS probe_prediction, probe, label_centroid, artist_centroid, track_embedding, model`,
    )
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * One row per training run: its full configuration, the backend it ran on, its metric history (one entry
 * per logged step and per validation), where its checkpoints are, and its lineage (the run it was resumed
 * or fine-tuned from). Weights themselves live under DATA_DIR in tfjs format.
 */
export class TrainingRuns1764800000000 implements MigrationInterface {
  name = 'TrainingRuns1764800000000'

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE training_run (
        id              uuid PRIMARY KEY,
        name            text NOT NULL UNIQUE,
        association     text NOT NULL CHECK (association IN ('track', 'release', 'artist', 'label', 'multi')),
        config          jsonb NOT NULL,
        backend         text,
        status          text NOT NULL DEFAULT 'created'
                          CHECK (status IN ('created', 'running', 'succeeded', 'failed', 'stopped')),
        step            integer NOT NULL DEFAULT 0,
        total_steps     integer NOT NULL,
        history         jsonb NOT NULL DEFAULT '[]',
        metrics         jsonb NOT NULL DEFAULT '{}',
        checkpoint_dir  text NOT NULL,
        parent_run_id   uuid REFERENCES training_run (id) ON DELETE SET NULL,
        job_id          uuid,
        error           text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        finished_at     timestamptz
      )`)
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS training_run`)
  }
}

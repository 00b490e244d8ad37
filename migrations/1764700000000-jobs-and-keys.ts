import type { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * User-facing job state beside pg-boss's queue. pg-boss dispatches, retries with backoff and shares the
 * queue between workers; this table holds what people and the UI ask about a job (progress, rate, ETA,
 * recent log lines, result) plus the worker heartbeat used to hand a dead worker's job to another one.
 * API keys are stored as SHA-256 hashes only; the key itself is shown once at creation.
 */
export class JobsAndKeys1764700000000 implements MigrationInterface {
  name = 'JobsAndKeys1764700000000'

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE job (
        id               uuid PRIMARY KEY,
        name             text NOT NULL,
        payload          jsonb NOT NULL DEFAULT '{}',
        state            text NOT NULL DEFAULT 'queued'
                           CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
        progress         real,
        rate             real,
        rate_unit        text,
        eta_s            real,
        message          text,
        log              jsonb NOT NULL DEFAULT '[]',
        result           jsonb,
        error            text,
        attempts         integer NOT NULL DEFAULT 0,
        worker           text,
        cancel_requested boolean NOT NULL DEFAULT false,
        created_by       text,
        created_at       timestamptz NOT NULL DEFAULT now(),
        started_at       timestamptz,
        heartbeat_at     timestamptz,
        finished_at      timestamptz
      )`)
    await q.query(`CREATE INDEX job_created ON job (created_at DESC)`)
    await q.query(`CREATE INDEX job_running ON job (heartbeat_at) WHERE state = 'running'`)
    await q.query(`
      CREATE TABLE api_key (
        id           serial PRIMARY KEY,
        name         text NOT NULL,
        role         text NOT NULL CHECK (role IN ('reader', 'admin')),
        prefix       text NOT NULL,
        key_hash     bytea NOT NULL UNIQUE,
        created_at   timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at   timestamptz
      )`)
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS job, api_key`)
  }
}

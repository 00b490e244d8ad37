import type { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * Staging tables and bookkeeping for the Discogs dump importer (src/ingest/discogs).
 *
 * - `stage_*`: a batch of parsed records is COPYed (server) or multi-row INSERTed (embedded) here, then
 *   merged into the catalog by set-based SQL in the same transaction, and the tables are emptied again.
 *   UNLOGGED because their content never outlives a transaction (nothing to recover after a crash) and
 *   skipping WAL makes the COPY cheaper. No keys or indexes: rows are written once and read by hash joins.
 *   Column layout: src/db/repositories/catalog-staging.ts (tests check that the two agree).
 *   Tracks and track credits are staged by (release_id, track_key), the stable track identity; the merge
 *   resolves them to track ids.
 * - `discogs_import`: one row per (dump date, type): how far the last run got (a resume point committed
 *   with each batch) and whether it finished, which is what allows marking records missing from a dump.
 */
export class DiscogsImportStaging1764100000000 implements MigrationInterface {
  name = 'DiscogsImportStaging1764100000000'

  async up(q: QueryRunner): Promise<void> {
    const credit = `ord smallint, artist_id integer, name text, anv text, join_string text, role text, tracks text`
    const tables = [
      `stage_artist (id integer, name text, real_name text, profile text, data_quality text, urls text[],
         name_variations text[], content_hash bytea)`,
      `stage_artist_alias (artist_id integer, ord smallint, alias_id integer, alias_name text)`,
      `stage_artist_member (group_id integer, ord smallint, member_id integer, member_name text)`,
      `stage_artist_group (artist_id integer, ord smallint, group_id integer, group_name text)`,
      `stage_label (id integer, name text, contact_info text, profile text, data_quality text, urls text[],
         parent_id integer, parent_name text, content_hash bytea)`,
      `stage_label_sublabel (label_id integer, ord smallint, sublabel_id integer, sublabel_name text)`,
      `stage_master (id integer, title text, main_release_id integer, year smallint, notes text,
         data_quality text, content_hash bytea)`,
      `stage_master_artist (master_id integer, ${credit})`,
      `stage_master_genre (master_id integer, genre text)`,
      `stage_master_style (master_id integer, style text)`,
      `stage_master_video (master_id integer, ord smallint, src text, duration_s integer, embed boolean,
         title text, description text)`,
      `stage_release (id integer, title text, status text, country text, released text, year smallint,
         notes text, data_quality text, master_id integer, is_main_release boolean, content_hash bytea)`,
      `stage_release_artist (release_id integer, ${credit})`,
      `stage_release_credit (release_id integer, ${credit})`,
      `stage_release_label (release_id integer, ord smallint, label_id integer, name text, catno text)`,
      `stage_release_series (release_id integer, ord smallint, series_id integer, name text, catno text)`,
      `stage_release_format (release_id integer, ord smallint, name text, qty text, text text, descriptions text[])`,
      `stage_release_identifier (release_id integer, ord smallint, type text, description text, value text)`,
      `stage_release_company (release_id integer, ord smallint, company_id integer, name text, catno text,
         entity_type text, entity_type_name text)`,
      `stage_release_video (release_id integer, ord smallint, src text, duration_s integer, embed boolean,
         title text, description text)`,
      `stage_release_genre (release_id integer, genre text)`,
      `stage_release_style (release_id integer, style text)`,
      `stage_track (release_id integer, track_key text, parent_key text, sequence integer, position text,
         title text, duration_text text, duration_s integer, type text)`,
      `stage_track_artist (release_id integer, track_key text, ${credit})`,
      `stage_track_credit (release_id integer, track_key text, ${credit})`,
    ]
    for (const t of tables) await q.query(`CREATE UNLOGGED TABLE ${t}`)

    await q.query(`
      CREATE TABLE discogs_import (
        dump_date   text NOT NULL,
        type        text NOT NULL CHECK (type IN ('artists', 'labels', 'masters', 'releases')),
        file        text NOT NULL,
        file_size   bigint NOT NULL,
        status      text NOT NULL CHECK (status IN ('running', 'failed', 'done')),
        records     bigint NOT NULL DEFAULT 0,
        last_id     integer,
        error       text,
        started_at  timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        PRIMARY KEY (dump_date, type)
      )`)
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS discogs_import`)
    await q.query(`
      DROP TABLE IF EXISTS stage_artist, stage_artist_alias, stage_artist_member, stage_artist_group, stage_label,
        stage_label_sublabel, stage_master, stage_master_artist, stage_master_genre, stage_master_style,
        stage_master_video, stage_release, stage_release_artist, stage_release_credit, stage_release_label,
        stage_release_series, stage_release_format, stage_release_identifier, stage_release_company,
        stage_release_video, stage_release_genre, stage_release_style, stage_track, stage_track_artist,
        stage_track_credit`)
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * The Discogs graph. Conventions:
 * - core tables are keyed by the Discogs id; `track` has its own stable id (see below);
 * - every child row belongs to exactly one record (`<owner>_id`, `ord` = its place in the record), so an
 *   updated record replaces its children in one statement and nothing else is touched;
 * - ids that point elsewhere in Discogs are nullable and carry no FK: the dumps are not closed under
 *   reference (credits without id, artist id 0, labels that are missing from the labels dump);
 * - `last_seen_dump` / `missing_since_dump` record disappearances instead of deleting, because audio,
 *   embeddings and probes hang off tracks and must survive a newer dump.
 */
export class Catalog1764050000000 implements MigrationInterface {
  name = 'Catalog1764050000000'

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS vector`)
    await q.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`)

    await q.query(`
      CREATE TABLE artist (
        id                 integer PRIMARY KEY,
        name               text NOT NULL,
        real_name          text,
        profile            text,
        data_quality       text,
        urls               text[] NOT NULL DEFAULT '{}',
        name_variations    text[] NOT NULL DEFAULT '{}',
        content_hash       bytea,
        first_seen_dump    text,
        last_seen_dump     text,
        missing_since_dump text
      )`)
    await q.query(`
      CREATE TABLE artist_alias (
        artist_id  integer NOT NULL REFERENCES artist (id) ON DELETE CASCADE,
        ord        smallint NOT NULL,
        alias_id   integer,
        alias_name text NOT NULL,
        PRIMARY KEY (artist_id, ord)
      )`)
    // Stated by a group's record (<members>) ...
    await q.query(`
      CREATE TABLE artist_member (
        group_id    integer NOT NULL REFERENCES artist (id) ON DELETE CASCADE,
        ord         smallint NOT NULL,
        member_id   integer,
        member_name text NOT NULL,
        PRIMARY KEY (group_id, ord)
      )`)
    // ... and by a member's record (<groups>); both are kept as stated, each owned by its record.
    await q.query(`
      CREATE TABLE artist_group (
        artist_id  integer NOT NULL REFERENCES artist (id) ON DELETE CASCADE,
        ord        smallint NOT NULL,
        group_id   integer,
        group_name text NOT NULL,
        PRIMARY KEY (artist_id, ord)
      )`)

    await q.query(`
      CREATE TABLE label (
        id                 integer PRIMARY KEY,
        name               text,
        contact_info       text,
        profile            text,
        data_quality       text,
        urls               text[] NOT NULL DEFAULT '{}',
        parent_id          integer,
        parent_name        text,
        content_hash       bytea,
        first_seen_dump    text,
        last_seen_dump     text,
        missing_since_dump text
      )`)
    await q.query(`
      CREATE TABLE label_sublabel (
        label_id      integer NOT NULL REFERENCES label (id) ON DELETE CASCADE,
        ord           smallint NOT NULL,
        sublabel_id   integer,
        sublabel_name text,
        PRIMARY KEY (label_id, ord)
      )`)

    await q.query(`
      CREATE TABLE master (
        id                 integer PRIMARY KEY,
        title              text NOT NULL,
        main_release_id    integer,
        year               smallint,
        notes              text,
        data_quality       text,
        content_hash       bytea,
        first_seen_dump    text,
        last_seen_dump     text,
        missing_since_dump text
      )`)
    await q.query(`
      CREATE TABLE master_artist (
        master_id   integer NOT NULL REFERENCES master (id) ON DELETE CASCADE,
        ord         smallint NOT NULL,
        artist_id   integer,
        name        text NOT NULL,
        anv         text,
        join_string text,
        role        text,
        tracks      text,
        PRIMARY KEY (master_id, ord)
      )`)
    await q.query(
      `CREATE TABLE master_genre (master_id integer NOT NULL REFERENCES master (id) ON DELETE CASCADE, genre text NOT NULL, PRIMARY KEY (master_id, genre))`,
    )
    await q.query(
      `CREATE TABLE master_style (master_id integer NOT NULL REFERENCES master (id) ON DELETE CASCADE, style text NOT NULL, PRIMARY KEY (master_id, style))`,
    )
    await q.query(`
      CREATE TABLE master_video (
        master_id   integer NOT NULL REFERENCES master (id) ON DELETE CASCADE,
        ord         smallint NOT NULL,
        src         text NOT NULL,
        duration_s  integer,
        embed       boolean,
        title       text,
        description text,
        PRIMARY KEY (master_id, ord)
      )`)

    await q.query(`
      CREATE TABLE release (
        id                 integer PRIMARY KEY,
        title              text NOT NULL,
        status             text,
        country            text,
        released           text,
        year               smallint,
        notes              text,
        data_quality       text,
        master_id          integer,
        is_main_release    boolean NOT NULL DEFAULT false,
        content_hash       bytea,
        first_seen_dump    text,
        last_seen_dump     text,
        missing_since_dump text
      )`)
    const releaseCredit = (table: string) => `
      CREATE TABLE ${table} (
        release_id  integer NOT NULL REFERENCES release (id) ON DELETE CASCADE,
        ord         smallint NOT NULL,
        artist_id   integer,
        name        text NOT NULL,
        anv         text,
        join_string text,
        role        text,
        tracks      text,
        PRIMARY KEY (release_id, ord)
      )`
    await q.query(releaseCredit('release_artist')) // <artists>: the main artists
    await q.query(releaseCredit('release_credit')) // <extraartists>: credits with a role
    await q.query(`
      CREATE TABLE release_label (
        release_id integer NOT NULL REFERENCES release (id) ON DELETE CASCADE,
        ord        smallint NOT NULL,
        label_id   integer,
        name       text,
        catno      text,
        PRIMARY KEY (release_id, ord)
      )`)
    await q.query(`
      CREATE TABLE release_series (
        release_id integer NOT NULL REFERENCES release (id) ON DELETE CASCADE,
        ord        smallint NOT NULL,
        series_id  integer,
        name       text,
        catno      text,
        PRIMARY KEY (release_id, ord)
      )`)
    // qty is text: real dumps carry values like a 64-digit number.
    await q.query(`
      CREATE TABLE release_format (
        release_id   integer NOT NULL REFERENCES release (id) ON DELETE CASCADE,
        ord          smallint NOT NULL,
        name         text,
        qty          text,
        text         text,
        descriptions text[] NOT NULL DEFAULT '{}',
        PRIMARY KEY (release_id, ord)
      )`)
    await q.query(`
      CREATE TABLE release_identifier (
        release_id  integer NOT NULL REFERENCES release (id) ON DELETE CASCADE,
        ord         smallint NOT NULL,
        type        text,
        description text,
        value       text,
        PRIMARY KEY (release_id, ord)
      )`)
    await q.query(`
      CREATE TABLE release_company (
        release_id       integer NOT NULL REFERENCES release (id) ON DELETE CASCADE,
        ord              smallint NOT NULL,
        company_id       integer,
        name             text,
        catno            text,
        entity_type      text,
        entity_type_name text,
        PRIMARY KEY (release_id, ord)
      )`)
    await q.query(`
      CREATE TABLE release_video (
        release_id  integer NOT NULL REFERENCES release (id) ON DELETE CASCADE,
        ord         smallint NOT NULL,
        src         text NOT NULL,
        duration_s  integer,
        embed       boolean,
        title       text,
        description text,
        PRIMARY KEY (release_id, ord)
      )`)
    await q.query(
      `CREATE TABLE release_genre (release_id integer NOT NULL REFERENCES release (id) ON DELETE CASCADE, genre text NOT NULL, PRIMARY KEY (release_id, genre))`,
    )
    await q.query(
      `CREATE TABLE release_style (release_id integer NOT NULL REFERENCES release (id) ON DELETE CASCADE, style text NOT NULL, PRIMARY KEY (release_id, style))`,
    )

    // Tracks have no Discogs id. Identity = (release_id, track_key): the position when it is non-empty and
    // unique among its siblings, else '#<n>' (n-th sibling); sub-tracks prefix their parent's key with '/'.
    // Re-importing a newer dump matches tracks by that identity, so `id` (what audio and vectors reference)
    // stays put; tracks that vanish are marked missing, never deleted.
    await q.query(`
      CREATE TABLE track (
        id                 bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        release_id         integer NOT NULL REFERENCES release (id) ON DELETE CASCADE,
        track_key          text NOT NULL,
        parent_id          bigint REFERENCES track (id) ON DELETE SET NULL,
        sequence           integer NOT NULL,
        position           text,
        title              text,
        duration_text      text,
        duration_s         integer,
        type               text NOT NULL CHECK (type IN ('track', 'heading', 'index')),
        missing_since_dump text,
        UNIQUE (release_id, track_key)
      )`)
    const trackCredit = (table: string) => `
      CREATE TABLE ${table} (
        track_id    bigint NOT NULL REFERENCES track (id) ON DELETE CASCADE,
        ord         smallint NOT NULL,
        artist_id   integer,
        name        text NOT NULL,
        anv         text,
        join_string text,
        role        text,
        tracks      text,
        PRIMARY KEY (track_id, ord)
      )`
    await q.query(trackCredit('track_artist'))
    await q.query(trackCredit('track_credit'))

    // Indexes later work needs (browsing, joins from the other side, search).
    const indexes = [
      `CREATE INDEX artist_name_trgm ON artist USING gin (name gin_trgm_ops)`,
      `CREATE INDEX artist_alias_alias ON artist_alias (alias_id)`,
      `CREATE INDEX artist_member_member ON artist_member (member_id)`,
      `CREATE INDEX artist_group_group ON artist_group (group_id)`,
      `CREATE INDEX label_name_trgm ON label USING gin (name gin_trgm_ops)`,
      `CREATE INDEX label_parent ON label (parent_id)`,
      `CREATE INDEX master_title_trgm ON master USING gin (title gin_trgm_ops)`,
      `CREATE INDEX master_artist_artist ON master_artist (artist_id)`,
      `CREATE INDEX master_main_release ON master (main_release_id)`,
      `CREATE INDEX release_title_trgm ON release USING gin (title gin_trgm_ops)`,
      `CREATE INDEX release_master ON release (master_id)`,
      `CREATE INDEX release_year ON release (year)`,
      `CREATE INDEX release_country ON release (country)`,
      `CREATE INDEX release_artist_artist ON release_artist (artist_id)`,
      `CREATE INDEX release_credit_artist ON release_credit (artist_id)`,
      `CREATE INDEX release_label_label ON release_label (label_id)`,
      `CREATE INDEX release_series_series ON release_series (series_id)`,
      `CREATE INDEX release_company_company ON release_company (company_id)`,
      `CREATE INDEX release_genre_genre ON release_genre (genre, release_id)`,
      `CREATE INDEX release_style_style ON release_style (style, release_id)`,
      `CREATE INDEX master_style_style ON master_style (style, master_id)`,
      `CREATE INDEX master_genre_genre ON master_genre (genre, master_id)`,
      `CREATE INDEX track_release ON track (release_id, sequence)`,
      `CREATE INDEX track_parent ON track (parent_id)`,
      `CREATE INDEX track_title_trgm ON track USING gin (title gin_trgm_ops)`,
      `CREATE INDEX track_artist_artist ON track_artist (artist_id)`,
      `CREATE INDEX track_credit_artist ON track_credit (artist_id)`,
    ]
    for (const sql of indexes) await q.query(sql)
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE IF EXISTS track_credit, track_artist, track, release_style, release_genre, release_video,
        release_company, release_identifier, release_format, release_series, release_label, release_credit,
        release_artist, release, master_video, master_style, master_genre, master_artist, master,
        label_sublabel, label, artist_group, artist_member, artist_alias, artist CASCADE`)
  }
}

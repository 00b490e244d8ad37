import { MAX_TRIGRAM_COUNT, trigramCountColumn } from '../trigram-bands.ts'
import { STAGE_TABLES, type DumpKind, type StageTable } from './catalog-staging.ts'
import { DUMP_TABLES, stageColumns as cols } from './import-tables.ts'

/**
 * The SQL text of loading and merging one batch of the Discogs import (CatalogWriterRepository runs it):
 * pure functions of the staging layout, exported for review and tests.
 *
 * Merge rules (per record, by Discogs id):
 * - same content hash as stored → only `last_seen_dump` (and a `missing_since_dump` mark) is touched, and
 *   only when they change: importing the same dump twice writes nothing;
 * - new or changed → the core row is upserted and its children are replaced wholesale;
 * - a record whose stored version comes from a newer dump is left alone (importing an old dump late);
 * - tracks are upserted by (release_id, track_key), so their ids survive; tracks of a changed release
 *   that are no longer listed get `missing_since_dump` instead of being deleted (audio hangs off them);
 * - once a whole file is in, records of that type not seen in this dump get `missing_since_dump`
 *   (CatalogWriterRepository.finishFile).
 */

const SEEN_COLUMNS = ['first_seen_dump', 'last_seen_dump', 'missing_since_dump']

/** The staging table's searchable text and the column of its trigram count, if it has one. */
function trigramColumns(t: StageTable): { text: string; count: string } | null {
  const c = cols(t)
  const text = c.find((name) => c.includes(trigramCountColumn(name)))
  return text === undefined ? null : { text, count: trigramCountColumn(text) }
}

/** pg_trgm's count of a text's trigrams, as the importer stores it (src/db/trigram-bands.ts; smallint). */
export const trigramCountSql = (text: string) =>
  `CASE WHEN ${text} IS NOT NULL THEN least(cardinality(show_trgm(${text})), ${MAX_TRIGRAM_COUNT}) END` // least() skips nulls

/**
 * One merge step. `sqlAllStaged` is the same step for a batch in which every staged record is new or
 * changed (the usual case on a first import): it reads staging without joining the core stage table.
 * `onlyIfUpdated` steps clean up after replaced records and are skipped when none was replaced.
 */
export interface MergeStatement {
  name: string
  sql: string
  sqlAllStaged?: string
  onlyIfUpdated?: boolean
}

/** The SQL that merges a loaded batch; $1 is the dump date (YYYYMMDD). Exported for review and tests. */
export function mergeStatements(kind: DumpKind): MergeStatement[] {
  const k = DUMP_TABLES[kind]
  // The staged dump date columns are what a new record would get; the merge applies its own rules.
  const coreCols = cols(k.stage).filter((c) => !SEEN_COLUMNS.includes(c))
  const out: MergeStatement[] = []
  // 1. Unchanged records: note that this dump has them (no-op when re-importing the same dump).
  out.push({
    name: 'touch',
    sql: `UPDATE ${k.core} c SET last_seen_dump = $1, missing_since_dump = NULL
            FROM ${k.stage} s
           WHERE c.id = s.id AND c.content_hash = s.content_hash AND c.last_seen_dump <= $1
             AND (c.last_seen_dump <> $1 OR c.missing_since_dump IS NOT NULL)`,
  })
  // 2. Drop them (and records already updated from a newer dump) from staging: what is left gets written.
  out.push({
    name: 'unchanged',
    sql: `DELETE FROM ${k.stage} s USING ${k.core} c
           WHERE c.id = s.id AND (c.content_hash = s.content_hash OR c.last_seen_dump > $1)`,
  })
  // 3. Upsert the core rows of new and changed records.
  const set = coreCols
    .filter((c) => c !== 'id')
    .map((c) => `${c} = EXCLUDED.${c}`)
    .join(', ')
  out.push({
    name: 'upsert',
    sql: `WITH w AS (
            INSERT INTO ${k.core} (${coreCols.join(', ')}, first_seen_dump, last_seen_dump, missing_since_dump)
            SELECT ${coreCols.join(', ')}, $1, $1, NULL FROM ${k.stage}
            ON CONFLICT (id) DO UPDATE SET ${set}, last_seen_dump = EXCLUDED.last_seen_dump, missing_since_dump = NULL
            RETURNING (xmax = 0) AS inserted)
          SELECT count(*) FILTER (WHERE inserted)::int AS inserted, count(*) FILTER (WHERE NOT inserted)::int AS updated FROM w`,
  })
  // 4. Replace the children of those records.
  for (const c of k.children) {
    out.push({
      name: `delete ${c.table}`,
      sql: `DELETE FROM ${c.table} x USING ${k.stage} s WHERE x.${c.owner} = s.id`,
      onlyIfUpdated: true,
    })
    const cc = cols(c.stage)
    out.push({
      name: `insert ${c.table}`,
      sql: `INSERT INTO ${c.table} (${cc.join(', ')})
            SELECT ${cc.map((n) => `x.${n}`).join(', ')} FROM ${c.stage} x JOIN ${k.stage} s ON s.id = x.${c.owner}`,
      sqlAllStaged: `INSERT INTO ${c.table} (${cc.join(', ')}) SELECT ${cc.join(', ')} FROM ${c.stage}`,
    })
  }
  if (kind === 'releases') out.push(...trackStatements())
  return out
}

function trackStatements(): MergeStatement[] {
  const credit = 'ord, artist_id, name, anv, join_string, role, tracks'
  const trackCols = 'sequence, position, title, duration_text, duration_s, type, title_trigrams'
  // Staged tracks carry batch-relative numbers; a sub-track finds its parent's key through the parent's
  // number, and the parent (inserted by the statement before) by that key.
  const parentJoin = `JOIN stage_track pt ON pt.track_no = t.parent_no
    LEFT JOIN track p ON p.release_id = t.release_id AND p.track_key = pt.track_key`
  const upsert = (where: string, parent: string, join: string, allStaged = false) => `
    INSERT INTO track (release_id, track_key, parent_id, ${trackCols}, missing_since_dump)
    SELECT t.release_id, t.track_key, ${parent}, ${trackCols
      .split(', ')
      .map((c) => `t.${c}`)
      .join(', ')}, NULL
      FROM stage_track t ${allStaged ? '' : 'JOIN stage_release s ON s.id = t.release_id'} ${join}
     WHERE ${where}
     ORDER BY t.release_id, t.sequence -- new ids follow tracklist order
    ON CONFLICT (release_id, track_key) DO UPDATE SET parent_id = EXCLUDED.parent_id, sequence = EXCLUDED.sequence,
      position = EXCLUDED.position, title = EXCLUDED.title, duration_text = EXCLUDED.duration_text,
      duration_s = EXCLUDED.duration_s, type = EXCLUDED.type, title_trigrams = EXCLUDED.title_trigrams, missing_since_dump = NULL`
  const creditInsert = (table: string, allStaged: boolean) => `
    INSERT INTO ${table} (track_id, ${credit})
    SELECT t.id, ${credit
      .split(', ')
      .map((c) => `c.${c}`)
      .join(', ')}
      FROM stage_${table} c JOIN stage_track st ON st.track_no = c.track_no
      ${allStaged ? '' : 'JOIN stage_release s ON s.id = st.release_id'}
      JOIN track t ON t.release_id = st.release_id AND t.track_key = st.track_key`
  return [
    // Top-level tracks first, then sub-tracks, which look up their parent's (now existing) id.
    {
      name: 'insert track',
      sql: upsert('t.parent_no IS NULL', 'NULL::bigint', ''),
      sqlAllStaged: upsert('t.parent_no IS NULL', 'NULL::bigint', '', true),
    },
    {
      name: 'insert sub-track',
      sql: upsert('t.parent_no IS NOT NULL', 'p.id', parentJoin),
      sqlAllStaged: upsert('t.parent_no IS NOT NULL', 'p.id', parentJoin, true),
    },
    {
      name: 'missing track',
      sql: `UPDATE track t SET missing_since_dump = $1 FROM stage_release s
             WHERE t.release_id = s.id AND t.missing_since_dump IS NULL
               AND NOT EXISTS (SELECT 1 FROM stage_track x WHERE x.release_id = t.release_id AND x.track_key = t.track_key)`,
      onlyIfUpdated: true,
    },
    ...['track_artist', 'track_credit'].flatMap((table) => [
      {
        name: `delete ${table}`,
        sql: `DELETE FROM ${table} x USING track t, stage_release s
               WHERE t.release_id = s.id AND x.track_id = t.id AND t.missing_since_dump IS NULL`,
        onlyIfUpdated: true,
      },
      { name: `insert ${table}`, sql: creditInsert(table, false), sqlAllStaged: creditInsert(table, true) },
    ]),
  ]
}

/**
 * How a staging table's rows go straight into the catalog (batches of new records only): the target
 * table and its columns in encoding order. Tracks and track credits have their batch-relative numbers
 * turned into ids of a reserved range; every other staged row is already the catalog row.
 */
export interface DirectTarget {
  table: string
  columns: string[]
  rewrite: 'track' | 'track credit' | null
}

export function directTarget(t: StageTable): DirectTarget {
  const columns = cols(t)
  const table = t.slice('stage_'.length)
  if (t === 'stage_track')
    return { table, columns: ['id', 'parent_id', ...columns.slice(2)], rewrite: 'track' }
  if (t === 'stage_track_artist' || t === 'stage_track_credit')
    return { table, columns: ['track_id', ...columns.slice(1)], rewrite: 'track credit' }
  return { table, columns, rewrite: null }
}

/** The COPY that loads a staging table's encoded rows (track numbers made ids) straight into the catalog. */
export function directCopySql(t: StageTable): string {
  const target = directTarget(t)
  return `COPY ${target.table} (${target.columns.join(', ')}) FROM STDIN`
}

/** The COPY that loads a staging table's encoded rows into the staging table. */
export function stagingCopySql(t: StageTable): string {
  return `COPY ${t} (${cols(t).join(', ')}) FROM STDIN`
}

const JSON_CAST: Record<string, (i: number) => string> = {
  integer: (i) => `(r->>${i})::integer`,
  bigint: (i) => `(r->>${i})::bigint`,
  smallint: (i) => `(r->>${i})::smallint`,
  text: (i) => `r->>${i}`,
  'text[]': (i) => `ARRAY(SELECT json_array_elements_text(r->${i}))`,
  boolean: (i) => `(r->>${i})::boolean`,
  bytea: (i) => `decode(r->>${i}, 'hex')`,
}

/** The values of a JSON row array `r` as the table's columns; a null trigram count is counted here. */
function jsonValues(table: StageTable): string[] {
  const c = STAGE_TABLES[table]
  const trigrams = trigramColumns(table)
  return c.map(([name, type], i) =>
    name === trigrams?.count
      ? `coalesce(${JSON_CAST[type](i)}, ${trigramCountSql(`(r->>${c.findIndex(([n]) => n === trigrams.text)})`)})`
      : JSON_CAST[type](i),
  )
}

/** INSERT … SELECT from a JSON array of row arrays: the embedded database's stand-in for COPY. */
export function jsonInsertSql(table: StageTable): string {
  return `INSERT INTO ${table} (${cols(table).join(', ')})
          SELECT ${jsonValues(table).join(', ')} FROM json_array_elements($1::json) r`
}

/**
 * INSERT … SELECT from a JSON array straight into the catalog table (the embedded direct load): $2 is
 * the track id base for tracks and track credits.
 */
export function jsonDirectInsertSql(table: StageTable): string {
  const d = directTarget(table)
  const exprs = jsonValues(table)
  if (d.rewrite === 'track') {
    exprs[0] = `$2::bigint + (r->>0)::bigint`
    exprs[1] = `$2::bigint + (r->>1)::bigint`
  } else if (d.rewrite === 'track credit') exprs[0] = `$2::bigint + (r->>0)::bigint`
  return `INSERT INTO ${d.table} (${d.columns.join(', ')}) SELECT ${exprs.join(', ')} FROM json_array_elements($1::json) r`
}

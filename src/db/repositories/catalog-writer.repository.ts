import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import type { Database } from '../database.ts'
import { isLockNotAvailable, resetSql } from '../sql.ts'
import { MAX_TRIGRAM_COUNT, searchView, trigramCountColumn } from '../trigram-bands.ts'
import {
  STAGE_TABLES,
  STAGE_TABLES_BY_KIND,
  TRACK_NUMBER_DIGITS,
  TRIGRAM_COUNT_DIGITS,
  type DumpKind,
  type StageTable,
} from './catalog-staging.ts'

/** How long one try of a search view's swap waits for the searches reading it (CatalogWriterRepository.swapSearchView). */
export const SWAP_LOCK_TIMEOUT_MS = 500
/** Tries of a swap that give way to searches after SWAP_LOCK_TIMEOUT_MS before one waits as long as it takes. */
export const SWAP_TRIES = 60

/** The name a search view or one of its indexes is built under before it is swapped in. */
const nextView = (name: string) => `${name}_next`

/**
 * All SQL of the Discogs import: loading staging tables (COPY on a server, one multi-row INSERT per table
 * on the embedded database, which has no COPY) and merging them into the catalog.
 *
 * A batch is one transaction: staging is emptied, loaded, merged, the file's resume point is advanced,
 * and the transaction commits — so a record and all its children land together or not at all, and a
 * crash leaves the catalog at a batch boundary.
 *
 * Merge rules (per record, by Discogs id):
 * - same content hash as stored → only `last_seen_dump` (and a `missing_since_dump` mark) is touched, and
 *   only when they change: importing the same dump twice writes nothing;
 * - new or changed → the core row is upserted and its children are replaced wholesale;
 * - a record whose stored version comes from a newer dump is left alone (importing an old dump late);
 * - tracks are upserted by (release_id, track_key), so their ids survive; tracks of a changed release
 *   that are no longer listed get `missing_since_dump` instead of being deleted (audio hangs off them);
 * - once a whole file is in, records of that type not seen in this dump get `missing_since_dump`.
 */

interface ChildSpec {
  table: string
  stage: StageTable
  owner: string
}

interface KindSpec {
  core: string
  stage: StageTable
  children: ChildSpec[]
}

const child = (table: string, owner: string): ChildSpec => ({
  table,
  stage: `stage_${table}` as StageTable,
  owner,
})

const KINDS: Record<DumpKind, KindSpec> = {
  artists: {
    core: 'artist',
    stage: 'stage_artist',
    children: [
      child('artist_alias', 'artist_id'),
      child('artist_member', 'group_id'),
      child('artist_group', 'artist_id'),
    ],
  },
  labels: { core: 'label', stage: 'stage_label', children: [child('label_sublabel', 'label_id')] },
  masters: {
    core: 'master',
    stage: 'stage_master',
    children: [
      child('master_artist', 'master_id'),
      child('master_genre', 'master_id'),
      child('master_style', 'master_id'),
      child('master_video', 'master_id'),
    ],
  },
  releases: {
    core: 'release',
    stage: 'stage_release',
    children: [
      child('release_artist', 'release_id'),
      child('release_credit', 'release_id'),
      child('release_label', 'release_id'),
      child('release_series', 'release_id'),
      child('release_format', 'release_id'),
      child('release_identifier', 'release_id'),
      child('release_company', 'release_id'),
      child('release_video', 'release_id'),
      child('release_genre', 'release_id'),
      child('release_style', 'release_id'),
    ],
  },
}

const cols = (t: StageTable) => STAGE_TABLES[t].map(([n]) => n)
const SEEN_COLUMNS = ['first_seen_dump', 'last_seen_dump', 'missing_since_dump']

/** The staging table's searchable text and the column of its trigram count, if it has one. */
function trigramColumns(t: StageTable): { text: string; count: string } | null {
  const c = cols(t)
  const text = c.find((name) => c.includes(trigramCountColumn(name)))
  return text === undefined ? null : { text, count: trigramCountColumn(text) }
}

/** pg_trgm's count of a text's trigrams, as the importer stores it (src/db/trigram-bands.ts; smallint). */
const trigramCountSql = (text: string) =>
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
  const k = KINDS[kind]
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
interface DirectTarget {
  table: string
  columns: string[]
  rewrite: 'track' | 'track credit' | null
}

function directTarget(t: StageTable): DirectTarget {
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

/**
 * Turns the fixed-width track numbers n at `offsets` of COPY text into track ids base + n, in place
 * (same width: ids stay below 10^TRACK_NUMBER_DIGITS). Pure; exported for tests.
 */
export function assignTrackIds(text: Uint8Array, offsets: Int32Array, base: number): void {
  const w = TRACK_NUMBER_DIGITS
  for (let k = 0; k < offsets.length; k++) {
    const o = offsets[k]
    let n = 0
    for (let i = o; i < o + w; i++) n = n * 10 + (text[i] - 48)
    const v = base + n
    if (v >= 10 ** w) throw new RangeError(`track id ${v} does not fit ${w} digits`)
    writeDigits(text, o, w, v)
  }
}

/** Writes the counts into the fixed-width placeholders at `offsets` of COPY text, in place. Pure; exported for tests. */
export function writeTrigramCounts(text: Uint8Array, offsets: Int32Array, counts: readonly number[]): void {
  if (counts.length !== offsets.length)
    throw new RangeError(`${counts.length} trigram counts for ${offsets.length} places`)
  for (let k = 0; k < offsets.length; k++) writeDigits(text, offsets[k], TRIGRAM_COUNT_DIGITS, counts[k])
}

/** v in decimal, zero-padded to `width` digits, at text[o]. */
function writeDigits(text: Uint8Array, o: number, width: number, v: number): void {
  for (let i = o + width - 1; i >= o; i--) {
    text[i] = 48 + (v % 10)
    v = Math.floor(v / 10)
  }
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

export interface StagedBatch {
  type: DumpKind
  /** UTF-8 COPY text (server) or JSON text (embedded) per staging table */
  tables: Partial<Record<StageTable, Uint8Array>>
  /** COPY text: offsets of the fixed-width track numbers in tables[t] (see assignTrackIds) */
  trackNumbers: Partial<Record<StageTable, Int32Array>>
  /** COPY text: the texts whose trigram count is the database's to give, and where their counts go */
  uncounted: Partial<Record<StageTable, { offsets: Int32Array; texts: string[] }>>
  /** rows per staging table */
  rows: Partial<Record<StageTable, number>>
  /** words for the search dictionary (src/db/search-words.ts), some perhaps already there */
  words: string[]
  records: number
  /** the records' ids (to tell a batch of new records from one that needs the merge) */
  ids: number[]
  lastId: number
}

export interface MergeResult {
  inserted: number
  updated: number
  unchanged: number
  /** rows written per catalog table (core rows and replaced children) */
  rows: Record<string, number>
}

export interface FileProgress {
  dumpDate: string
  type: DumpKind
  /** records of the file handled so far, including this batch: the resume point */
  records: number
}

const text = (data: Uint8Array) => Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')

const LOCK_KEY = 0x0d15c065 // pg_advisory_lock key of the import: one import per database at a time

export class CatalogWriterRepository {
  private readonly mergeSql = new Map<DumpKind, MergeStatement[]>()
  /** milliseconds spent per step (load, each merge statement, commit), for the benchmark's breakdown */
  readonly timings = new Map<string, number>()

  constructor(
    private readonly db: Database,
    private readonly client: pg.PoolClient,
    /**
     * The role may set session_replication_role (a superuser's): a direct load then skips the foreign-key
     * triggers, which its rows satisfy by construction, and a bulk import keeps the foreign keys instead
     * of dropping them and checking every row again at the end.
     */
    private readonly skipsKeyChecks = false,
  ) {}

  /** Takes a dedicated connection and the import lock (staging tables are shared by all sessions). */
  static async open(db: Database): Promise<CatalogWriterRepository> {
    const client = await db.pool.connect()
    try {
      const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock($1) AS ok`, [
        LOCK_KEY,
      ])
      if (!rows[0].ok) throw new Error('another Discogs import is running on this database')
      // The merge statements run once per batch; synchronous_commit off trades the last few batches after
      // a server crash (re-importing repeats them) for not waiting on a WAL flush per batch.
      await client.query(`SET synchronous_commit = off`)
      const { rows: su } = await client.query<{ su: boolean }>(
        `SELECT current_setting('is_superuser') = 'on' AS su`,
      )
      return new CatalogWriterRepository(db, client, su[0].su)
    } catch (err) {
      client.release()
      throw err
    }
  }

  /** Tables written by an import of one dump type (core, children, and for releases the tracks), and their search views. */
  private static tablesOf(type: DumpKind): string[] {
    const k = KINDS[type]
    const t = [k.core, ...k.children.map((c) => c.table)]
    return [
      ...(type === 'releases' ? [...t, 'track', 'track_artist', 'track_credit'] : t),
      ...CatalogWriterRepository.searchedOf(type).map(searchView),
    ]
  }

  /** True when the type's core table holds no row: a first import, where deferring indexes pays off. */
  async isEmpty(type: DumpKind): Promise<boolean> {
    const { rows } = await this.client.query(`SELECT NOT EXISTS (SELECT 1 FROM ${KINDS[type].core}) AS empty`)
    return rows[0].empty
  }

  /**
   * Drops the secondary indexes of the type's tables, after saving their definitions in
   * discogs_deferred_index. Also the primary keys of the child tables (a release's credits, labels, …):
   * each child row costs an insert into its key's B-tree during the load, where the load's CPU is short,
   * and building the key once at the end is a sort (track_credit: COPY 1.70 s with its key, 0.41 s without
   * plus 0.43 s to add it). The core tables' keys and track's (release_id, track_key) stay: the merge's
   * ON CONFLICT and the foreign keys need them. Foreign keys too, unless direct loads skip their checks
   * (skipsKeyChecks): a foreign key costs a lookup and a row lock on the referenced row for every inserted
   * child row — more than the insert itself; checking it once at the end is one join per key, which is
   * still a third of the rebuild.
   */
  async deferIndexes(type: DumpKind): Promise<string[]> {
    const c = this.client
    await c.query('BEGIN')
    try {
      const tables = CatalogWriterRepository.tablesOf(type)
      const { rows } = await c.query<{ name: string; tablename: string; definition: string; drop: string }>(
        `SELECT i.indexname AS name, i.tablename, i.indexdef AS definition, format('DROP INDEX %I', i.indexname) AS drop
           FROM pg_indexes i
          WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
            AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname)
         UNION ALL
         SELECT k.conname, t.relname, format('ALTER TABLE %I ADD CONSTRAINT %I %s', t.relname, k.conname, pg_get_constraintdef(k.oid)),
                format('ALTER TABLE %I DROP CONSTRAINT %I', t.relname, k.conname)
           FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid
          WHERE k.contype = 'f' AND t.relnamespace = current_schema()::regnamespace AND t.relname = ANY($1)
            AND NOT $2
         UNION ALL
         SELECT k.conname, t.relname, format('ALTER TABLE %I ADD CONSTRAINT %I %s', t.relname, k.conname, pg_get_constraintdef(k.oid)),
                format('ALTER TABLE %I DROP CONSTRAINT %I', t.relname, k.conname)
           FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid
          WHERE k.contype IN ('p', 'u') AND t.relnamespace = current_schema()::regnamespace AND t.relname = ANY($3)
            AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.confrelid = k.conrelid)`,
        [tables, this.skipsKeyChecks, tables.filter((t) => t !== KINDS[type].core && t !== 'track')],
      )
      for (const r of rows) {
        await c.query(
          `INSERT INTO discogs_deferred_index (index_name, table_name, definition) VALUES ($1, $2, $3)
           ON CONFLICT (index_name) DO NOTHING`,
          [r.name, r.tablename, r.definition],
        )
        await c.query(r.drop)
      }
      await c.query('COMMIT')
      return rows.map((r) => r.name)
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined)
      throw err
    }
  }

  /**
   * Rebuilds every deferred index, then re-adds and checks every deferred foreign key, also those left
   * by an import that died. Returns their names.
   *
   * On a server this runs on two connections: after a bulk load both cores are free, and the GIN indexes
   * (the search views' word indexes) take longest, so they go first. Foreign keys are added NOT VALID first (a brief
   * lock), then validated, which locks the referenced table only in a mode that validations of other
   * keys share, so they run side by side too. A row leaves discogs_deferred_index in the transaction
   * that completes its index or validates its key, so a crash at any point leaves the rest to redo.
   */
  async restoreDeferredIndexes(): Promise<string[]> {
    const { rows } = await this.client.query<{ index_name: string; table_name: string; definition: string }>(
      `SELECT d.index_name, d.table_name, d.definition FROM discogs_deferred_index d
         LEFT JOIN pg_class t ON t.relname = d.table_name AND t.relnamespace = current_schema()::regnamespace
        ORDER BY d.definition LIKE 'ALTER TABLE %', d.definition NOT LIKE '% USING gin %',
                 pg_relation_size(t.oid) DESC NULLS LAST, d.index_name`,
    )
    if (rows.length === 0) return []
    // foreign keys are checked after every index is back; a primary key is built like an index
    const isKey = (r: { definition: string }) => / FOREIGN KEY /.test(r.definition)
    // Index builds sort in memory up to maintenance_work_mem (the default 64 MB spills large ones to disk);
    // a foreign key is checked by one join, which hashes in work_mem.
    await this.onMaintenanceClients(
      rows.length,
      [`maintenance_work_mem = '256MB'`, `work_mem = '128MB'`],
      async (clients) => {
        await this.eachOnClients(
          clients,
          rows.filter((r) => !isKey(r)),
          async (c, r) => {
            if (!r.definition.startsWith('ALTER TABLE '))
              await c.query(r.definition.replace(/^CREATE (UNIQUE )?INDEX /, 'CREATE $1INDEX IF NOT EXISTS '))
            else if (!(await this.constraintExists(c, r.index_name, r.table_name)))
              await c.query(r.definition)
            await c.query(`DELETE FROM discogs_deferred_index WHERE index_name = $1`, [r.index_name])
          },
        )
        const keys = rows.filter(isKey)
        for (const r of keys)
          if (!(await this.constraintExists(this.client, r.index_name, r.table_name)))
            await this.client.query(`${r.definition} NOT VALID`)
        await this.eachOnClients(clients, keys, async (c, r) => {
          const [, table, name] = /^ALTER TABLE (\S+) ADD CONSTRAINT (\S+) /.exec(r.definition)!
          await c.query(`ALTER TABLE ${table} VALIDATE CONSTRAINT ${name}`)
          await c.query(`DELETE FROM discogs_deferred_index WHERE index_name = $1`, [r.index_name])
        })
      },
    )
    return rows.map((r) => r.index_name)
  }

  /**
   * Runs `fn` on this writer's connection and, on a server with more than one item of work, a second one of
   * the pool (after a bulk load both cores are free), each with `settings` (`name = value`), reset after.
   */
  private async onMaintenanceClients(
    items: number,
    settings: readonly string[],
    fn: (clients: pg.PoolClient[]) => Promise<void>,
  ): Promise<void> {
    const clients = [this.client]
    if (this.db.kind === 'server' && items > 1) clients.push(await this.db.pool.connect())
    try {
      for (const c of clients) for (const setting of settings) await c.query(`SET ${setting}`)
      await fn(clients)
    } finally {
      for (const c of clients)
        for (const setting of settings) await c.query(resetSql(setting)).catch(() => undefined)
      for (const c of clients.slice(1)) c.release()
    }
  }

  /**
   * Merges the pending lists of the GIN indexes on the type's tables and the search dictionary into the
   * indexes proper; returns the pages merged. Rows written into an existing GIN index go to its pending list
   * (fastupdate), up to gin_pending_list_limit (4 MB) per index, and every scan reads that list in full until
   * a vacuum merges it. After the fixture import (small files: no deferred rebuild) each search band scan
   * of a 5,000-release catalog read up to 3.7 MB of them, 1–7 ms even when it found nothing; the whole
   * search of a pasted title took 539 ms of execution, 84 ms once merged.
   */
  async mergeGinPendingLists(type: DumpKind): Promise<number> {
    const { rows } = await this.client.query<{ pages: number }>(
      `SELECT coalesce(sum(gin_clean_pending_list(i.indexrelid)), 0)::int AS pages
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
         JOIN pg_class t ON t.oid = i.indrelid
        WHERE am.amname = 'gin' AND t.relnamespace = current_schema()::regnamespace AND t.relname = ANY($1)`,
      [[...CatalogWriterRepository.tablesOf(type), 'search_word']],
    )
    return rows[0].pages
  }

  /**
   * Refreshes the planner's statistics of the type's searchable table (and track's, for releases) and of
   * the search dictionary, which a load leaves stale until autovacuum gets to them: search reads how common
   * a title is from them (its most common values). The child tables are left to autovacuum: with them,
   * ANALYZE took 3.7 s after a load of a million releases, against 1 s for these.
   */
  async analyze(type: DumpKind): Promise<void> {
    const searched = CatalogWriterRepository.searchedOf(type)
    await this.client.query(`ANALYZE ${[...searched, ...searched.map(searchView), 'search_word'].join(', ')}`)
  }

  /**
   * Refreshes the search views (migration 1765200000000) of the type's searchable tables in place, for a
   * bulk import, which has deferred their indexes with the tables' (restoreDeferredIndexes builds them on
   * two connections, where REFRESH builds them one after another: 100k releases took 16% longer so). Search
   * blocks on a view while it is refreshed, but a bulk import has dropped the tables' indexes anyway.
   */
  async refreshSearchViews(type: DumpKind): Promise<void> {
    await this.onEachSearchView(type, (c, view) =>
      c.query(`REFRESH MATERIALIZED VIEW ${view}`).then(() => undefined),
    )
  }

  /**
   * Rebuilds the search views of the type's searchable tables from what they now hold, sorted by trigram
   * count, with their indexes, each beside the live view as `<view>_next` (on a server the release and
   * track views side by side), then swaps each in (swapSearchView). Search goes on reading the live views
   * meanwhile: REFRESH would lock a view for as long as it takes (minutes at the full dump), and search
   * would answer UNAVAILABLE throughout. Each view is built in one transaction, so an import that dies
   * leaves the live view, and the next import's rebuild brings it up to date. Costs the view's size on disk
   * again until the swap.
   */
  async rebuildSearchViews(type: DumpKind): Promise<void> {
    const indexes = new Map<string, string[]>()
    await this.onEachSearchView(type, async (c, view) => {
      indexes.set(view, await this.buildNextView(c, view))
    })
    for (const [view, names] of indexes) await this.swapSearchView(view, names)
  }

  /**
   * Runs `step` for each search view of the type's searchable tables, one transaction each, with room to
   * sort (maintenance_work_mem); on a server the release and track views side by side, track's first (the
   * longest).
   */
  private async onEachSearchView(
    type: DumpKind,
    step: (c: pg.PoolClient, view: string) => Promise<void>,
  ): Promise<void> {
    const views = CatalogWriterRepository.searchedOf(type).map(searchView).reverse()
    await this.onMaintenanceClients(views.length, [`maintenance_work_mem = '256MB'`], (clients) =>
      this.eachOnClients(
        clients,
        views.map((view) => ({ index_name: view })),
        (c, item) => step(c, item.index_name),
      ),
    )
  }

  /** Builds `<view>_next` as `view` is defined, with the same indexes (`<index>_next`); returns the indexes' names. */
  private async buildNextView(c: pg.PoolClient, view: string): Promise<string[]> {
    const next = nextView(view)
    const {
      rows: [{ definition }],
    } = await c.query<{ definition: string }>(`SELECT pg_get_viewdef($1::regclass) AS definition`, [view])
    const { rows: indexes } = await c.query<{ name: string; definition: string }>(
      `SELECT indexname AS name, indexdef AS definition FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1 ORDER BY indexname`,
      [view],
    )
    await c.query(`DROP MATERIALIZED VIEW IF EXISTS ${next}`)
    await c.query(`CREATE MATERIALIZED VIEW ${next} AS ${definition.replace(/;\s*$/, '')}`)
    for (const index of indexes) {
      const create = /^CREATE (UNIQUE )?INDEX \S+ ON \S+ (.*)$/s.exec(index.definition)
      if (!create)
        throw new Error(
          `search view ${view}: index ${index.name} has a definition this rebuild cannot copy: ${index.definition}`,
        )
      await c.query(`CREATE ${create[1] ?? ''}INDEX ${nextView(index.name)} ON ${next} ${create[2]}`)
    }
    return indexes.map((index) => index.name)
  }

  /**
   * Puts `<view>_next` in place of `view`: drops the live view and renames the new one and its indexes, in
   * one transaction, so search reads one or the other, whole. The drop waits for the searches reading the
   * view to end, and searches that start meanwhile queue behind it; so each try waits at most
   * SWAP_LOCK_TIMEOUT_MS (search waits up to SEARCH_LOCK_TIMEOUT_MS, longer) and then gives way, and a
   * transaction that keeps reading the view delays the swap, not every search. After SWAP_TRIES tries it
   * waits as long as it takes.
   */
  private async swapSearchView(view: string, indexes: readonly string[]): Promise<void> {
    const c = this.client
    for (let tries = 1; ; tries++) {
      await c.query('BEGIN')
      try {
        if (tries <= SWAP_TRIES) await c.query(`SET LOCAL lock_timeout = '${SWAP_LOCK_TIMEOUT_MS}ms'`)
        await c.query(`DROP MATERIALIZED VIEW ${view}`)
        await c.query(`ALTER MATERIALIZED VIEW ${nextView(view)} RENAME TO ${view}`)
        for (const index of indexes) await c.query(`ALTER INDEX ${nextView(index)} RENAME TO ${index}`)
        await c.query('COMMIT')
        return
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined)
        if (!isLockNotAvailable(err)) throw err
        await new Promise((resolve) => setTimeout(resolve, SWAP_LOCK_TIMEOUT_MS))
      }
    }
  }

  /** The searchable tables an import of the type writes: its core table, and for releases the tracks. */
  private static searchedOf(type: DumpKind): string[] {
    return type === 'releases' ? [KINDS[type].core, 'track'] : [KINDS[type].core]
  }

  private async constraintExists(c: pg.PoolClient, name: string, table: string): Promise<boolean> {
    const { rows } = await c.query(
      `SELECT 1 FROM pg_constraint WHERE conname = $1 AND conrelid = $2::regclass`,
      [name, table],
    )
    return rows.length > 0
  }

  /** Runs `step` for each item, one transaction each, the clients taking items in turn from one queue. */
  private async eachOnClients<T extends { index_name: string }>(
    clients: pg.PoolClient[],
    items: T[],
    step: (c: pg.PoolClient, item: T) => Promise<void>,
  ): Promise<void> {
    let next = 0
    const run = async (c: pg.PoolClient) => {
      while (next < items.length) {
        const item = items[next++]
        const t0 = performance.now()
        await c.query('BEGIN')
        try {
          await step(c, item)
          await c.query('COMMIT')
        } catch (err) {
          await c.query('ROLLBACK').catch(() => undefined)
          next = items.length // the other client stops after its current item
          throw err
        }
        this.time(`rebuild ${item.index_name}`, t0)
      }
    }
    const results = await Promise.allSettled(clients.map(run))
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
  }

  async close(): Promise<void> {
    try {
      await this.client.query(`SELECT pg_advisory_unlock($1)`, [LOCK_KEY])
      await this.client.query(`RESET synchronous_commit`)
    } finally {
      this.client.release()
    }
  }

  /**
   * Registers a file's import. Returns the number of records to skip: the resume point of an earlier run
   * of the same dump and type that did not finish, if it read the same file (same size).
   */
  async startFile(dumpDate: string, type: DumpKind, file: string, fileSize: number): Promise<number> {
    const { rows } = await this.client.query<{ status: string; records: string; file_size: string }>(
      `SELECT status, records, file_size FROM discogs_import WHERE dump_date = $1 AND type = $2`,
      [dumpDate, type],
    )
    const prev = rows[0]
    const resume =
      prev && prev.status !== 'done' && Number(prev.file_size) === fileSize ? Number(prev.records) : 0
    await this.client.query(
      `INSERT INTO discogs_import (dump_date, type, file, file_size, status, records)
       VALUES ($1, $2, $3, $4, 'running', $5)
       ON CONFLICT (dump_date, type) DO UPDATE SET file = EXCLUDED.file, file_size = EXCLUDED.file_size,
         status = 'running', records = EXCLUDED.records, error = NULL, started_at = now(), finished_at = NULL`,
      [dumpDate, type, file, fileSize, resume],
    )
    return resume
  }

  /**
   * Writes one batch in one transaction. When none of its records is stored yet (a first import, or
   * new records of a newer dump) the rows are loaded straight into the catalog tables; otherwise they
   * are loaded into staging and merged. Either way the file's resume point advances in the same
   * transaction.
   */
  async writeBatch(batch: StagedBatch, progress: FileProgress): Promise<MergeResult> {
    const c = this.client
    let result: MergeResult = { inserted: 0, updated: 0, unchanged: 0, rows: {} }
    await c.query('BEGIN')
    try {
      if (batch.records > 0) {
        await this.countTrigrams(batch)
        let direct = false
        if (await this.allNew(batch)) {
          // A row inserted by someone else since the check (only an import writes these tables, and it
          // holds the lock, but a constraint is the real guarantee) sends the batch through the merge.
          await c.query('SAVEPOINT direct')
          try {
            result = await this.loadDirect(batch)
            direct = true
          } catch (err) {
            if ((err as { code?: string }).code !== '23505') throw err
            await c.query('ROLLBACK TO SAVEPOINT direct')
          }
        }
        if (!direct) result = await this.loadAndMerge(batch, progress)
        await this.addDictionaryWords(batch.words)
      }
      await c.query(
        `UPDATE discogs_import SET records = $3, last_id = $4 WHERE dump_date = $1 AND type = $2`,
        [progress.dumpDate, progress.type, progress.records, batch.records > 0 ? batch.lastId : null],
      )
      const t0 = performance.now()
      await c.query('COMMIT')
      this.time('commit', t0)
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined)
      throw err
    }
    return result
  }

  private async copy(sql: string, data: Uint8Array): Promise<void> {
    const stream = this.client.query(copyFrom(sql))
    await pipeline(Readable.from([Buffer.from(data.buffer, data.byteOffset, data.byteLength)]), stream)
  }

  /**
   * Fills in the trigram counts the encoder left to the database (texts beyond ASCII): one query per
   * table, before the rows are loaded, so rows go in whole and no row is written twice.
   */
  private async countTrigrams(batch: StagedBatch): Promise<void> {
    for (const [t, u] of Object.entries(batch.uncounted) as [
      StageTable,
      { offsets: Int32Array; texts: string[] },
    ][]) {
      const t0 = performance.now()
      const { rows } = await this.client.query<{ n: number }>(
        `SELECT ${trigramCountSql('x')}::int AS n FROM unnest($1::text[]) WITH ORDINALITY AS u(x, i) ORDER BY i`,
        [u.texts],
      )
      writeTrigramCounts(
        batch.tables[t]!,
        u.offsets,
        rows.map((r) => r.n),
      )
      this.time('count trigrams', t0)
    }
  }

  /**
   * Adds the batch's words to the search dictionary, in the batch's transaction: words are never removed
   * (a word whose last title changed only costs a wasted lookup), so a re-run adds what a failed one did not.
   */
  private async addDictionaryWords(words: string[]): Promise<void> {
    if (words.length === 0) return
    const t0 = performance.now()
    await this.client.query(
      `INSERT INTO search_word (word) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`,
      [words],
    )
    this.time('dictionary words', t0)
  }

  /** True when no record of the batch is in the catalog yet. */
  private async allNew(batch: StagedBatch): Promise<boolean> {
    const t0 = performance.now()
    const { rows } = await this.client.query<{ any: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM ${KINDS[batch.type].core} WHERE id = ANY($1::integer[])) AS any`,
      [batch.ids],
    )
    this.time('check new', t0)
    return !rows[0].any
  }

  /** Reserves n consecutive track ids; returns base such that the ids are base + 1 … base + n. */
  private async reserveTrackIds(n: number): Promise<number> {
    const { rows } = await this.client.query<{ last: string }>(
      `SELECT setval(s::regclass, nextval(s::regclass) + $1 - 1) AS last FROM pg_get_serial_sequence('track', 'id') s`,
      [n],
    )
    return Number(rows[0].last) - n
  }

  /** A batch of new records: every row COPYed (or inserted) once, into its catalog table. */
  private async loadDirect(batch: StagedBatch): Promise<MergeResult> {
    const c = this.client
    const result: MergeResult = { inserted: batch.records, updated: 0, unchanged: 0, rows: {} }
    const tracks = batch.rows.stage_track ?? 0
    const base = tracks > 0 ? await this.reserveTrackIds(tracks) : 0
    // Every child row's owner is a record of this batch, every track's parent and every credit's track a
    // track of it: the foreign keys hold by construction. Reverted with the savepoint if the load fails.
    if (this.skipsKeyChecks) await c.query(`SET LOCAL session_replication_role = replica`)
    for (const t of STAGE_TABLES_BY_KIND[batch.type]) {
      const data = batch.tables[t]
      if (!data) continue
      const target = directTarget(t)
      const t0 = performance.now()
      if (this.db.kind === 'server') {
        const offsets = batch.trackNumbers[t]
        if (target.rewrite && offsets) assignTrackIds(data, offsets, base)
        await this.copy(directCopySql(t), data)
      } else {
        await c.query(jsonDirectInsertSql(t), target.rewrite === null ? [text(data)] : [text(data), base])
      }
      this.time(`copy ${target.table}`, t0)
      result.rows[target.table] = batch.rows[t] ?? 0
    }
    return result
  }

  /** Any other batch: load into staging, merge by the rules above. */
  private async loadAndMerge(batch: StagedBatch, progress: FileProgress): Promise<MergeResult> {
    const c = this.client
    const k = KINDS[batch.type]
    const result: MergeResult = { inserted: 0, updated: 0, unchanged: 0, rows: {} }
    await c.query(`TRUNCATE ${STAGE_TABLES_BY_KIND[batch.type].join(', ')}`)
    for (const t of STAGE_TABLES_BY_KIND[batch.type]) {
      const data = batch.tables[t]
      if (!data) continue
      const t0 = performance.now()
      if (this.db.kind === 'server') await this.copy(`COPY ${t} (${cols(t).join(', ')}) FROM STDIN`, data)
      else await c.query(jsonInsertSql(t), [text(data)])
      this.time(`load ${t}`, t0)
    }
    let statements = this.mergeSql.get(batch.type)
    if (!statements) this.mergeSql.set(batch.type, (statements = mergeStatements(batch.type)))
    let staged = batch.records
    for (const st of statements) {
      if (st.onlyIfUpdated && result.updated === 0) continue
      const sql = st.sqlAllStaged && result.unchanged === 0 ? st.sqlAllStaged : st.sql
      const t0 = performance.now()
      const r = await c.query(sql, sql.includes('$1') ? [progress.dumpDate] : [])
      this.time(st.name, t0)
      if (st.name === 'unchanged') {
        result.unchanged = r.rowCount ?? 0
        staged -= result.unchanged
      } else if (st.name === 'upsert') {
        result.inserted = r.rows[0].inserted
        result.updated = r.rows[0].updated
        if (staged > 0) result.rows[k.core] = staged
      } else if (st.name.startsWith('insert ')) {
        const table = st.name === 'insert sub-track' ? 'track' : st.name.slice(7)
        if (r.rowCount) result.rows[table] = (result.rows[table] ?? 0) + r.rowCount
      }
    }
    await c.query(`TRUNCATE ${STAGE_TABLES_BY_KIND[batch.type].join(', ')}`)
    return result
  }

  /** Adds time spent since t0 outside the database (e.g. waiting for the parser) to `timings`. */
  addTiming(step: string, t0: number): void {
    this.time(step, t0)
  }

  private time(step: string, t0: number): void {
    this.timings.set(step, (this.timings.get(step) ?? 0) + performance.now() - t0)
  }

  /**
   * A file was read to its end: records of its type not in this dump are marked missing (and no longer
   * counted as seen). Returns how many were newly marked.
   */
  async finishFile(dumpDate: string, type: DumpKind): Promise<number> {
    const core = KINDS[type].core
    await this.client.query('BEGIN')
    try {
      const r = await this.client.query(
        `UPDATE ${core} SET missing_since_dump = $1 WHERE last_seen_dump < $1 AND missing_since_dump IS NULL`,
        [dumpDate],
      )
      await this.client.query(
        `UPDATE discogs_import SET status = 'done', finished_at = now() WHERE dump_date = $1 AND type = $2`,
        [dumpDate, type],
      )
      await this.client.query('COMMIT')
      return r.rowCount ?? 0
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined)
      throw err
    }
  }

  async failFile(dumpDate: string, type: DumpKind, error: string): Promise<void> {
    await this.client.query(
      `UPDATE discogs_import SET status = 'failed', error = $3, finished_at = now() WHERE dump_date = $1 AND type = $2`,
      [dumpDate, type, error],
    )
  }
}

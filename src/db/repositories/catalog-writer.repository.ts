import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { from as copyFrom } from 'pg-copy-streams'
import { STAGE_TABLES_BY_KIND, type DumpKind, type StageTable } from './catalog-staging.ts'
import {
  directCopySql,
  directTarget,
  jsonDirectInsertSql,
  jsonInsertSql,
  mergeStatements,
  stagingCopySql,
  trigramCountSql,
  type MergeStatement,
} from './catalog-batch-sql.ts'
import type { ImportSession } from './import-session.ts'
import { DUMP_TABLES } from './import-tables.ts'

/**
 * What the writer learns only from the database and must put into a batch's COPY text before loading it:
 * the ids of its tracks and the trigram counts the encoder left open. The text's byte layout is the
 * encoder's (src/ingest/discogs/copy-text-patch.ts), so the importer hands the writer these edits.
 */
export interface CopyTextEditor {
  /** Turns the fixed-width track numbers n at `offsets` into ids base + n, in place. */
  assignTrackIds(text: Uint8Array, offsets: Int32Array, base: number): void
  /** Writes the counts into the fixed-width placeholders at `offsets`, in place. */
  writeTrigramCounts(text: Uint8Array, offsets: Int32Array, counts: readonly number[]): void
}

export interface StagedBatch {
  type: DumpKind
  /** UTF-8 COPY text (server) or JSON text (embedded) per staging table */
  tables: Partial<Record<StageTable, Uint8Array>>
  /** COPY text: offsets of the fixed-width track numbers in tables[t] (see CopyTextEditor.assignTrackIds) */
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

/**
 * Writes a Discogs dump file's batches into the catalog: loading staging tables (COPY on a server, one
 * multi-row INSERT per table on the embedded database, which has no COPY) and merging them by the rules of
 * catalog-batch-sql.ts, or loading a batch of new records straight into the catalog; and the file's resume
 * point (discogs_import).
 *
 * A batch is one transaction: staging is emptied, loaded, merged, the file's resume point is advanced,
 * and the transaction commits — so a record and all its children land together or not at all, and a
 * crash leaves the catalog at a batch boundary.
 */
export class CatalogWriterRepository {
  private readonly mergeSql = new Map<DumpKind, MergeStatement[]>()

  constructor(
    private readonly session: ImportSession,
    private readonly copyText: CopyTextEditor,
  ) {}

  /** The session's connection, which holds the import lock. */
  private get client() {
    return this.session.client
  }

  /** True when the type's core table holds no row: a first import, where deferring indexes pays off. */
  async isEmpty(type: DumpKind): Promise<boolean> {
    const { rows } = await this.client.query(
      `SELECT NOT EXISTS (SELECT 1 FROM ${DUMP_TABLES[type].core}) AS empty`,
    )
    return rows[0].empty
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
      this.session.addTiming('commit', t0)
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
      this.copyText.writeTrigramCounts(
        batch.tables[t]!,
        u.offsets,
        rows.map((r) => r.n),
      )
      this.session.addTiming('count trigrams', t0)
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
    this.session.addTiming('dictionary words', t0)
  }

  /** True when no record of the batch is in the catalog yet. */
  private async allNew(batch: StagedBatch): Promise<boolean> {
    const t0 = performance.now()
    const { rows } = await this.client.query<{ any: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM ${DUMP_TABLES[batch.type].core} WHERE id = ANY($1::integer[])) AS any`,
      [batch.ids],
    )
    this.session.addTiming('check new', t0)
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
    if (this.session.skipsKeyChecks) await c.query(`SET LOCAL session_replication_role = replica`)
    for (const t of STAGE_TABLES_BY_KIND[batch.type]) {
      const data = batch.tables[t]
      if (!data) continue
      const target = directTarget(t)
      const t0 = performance.now()
      if (this.session.db.kind === 'server') {
        const offsets = batch.trackNumbers[t]
        if (target.rewrite && offsets) this.copyText.assignTrackIds(data, offsets, base)
        await this.copy(directCopySql(t), data)
      } else {
        await c.query(jsonDirectInsertSql(t), target.rewrite === null ? [text(data)] : [text(data), base])
      }
      this.session.addTiming(`copy ${target.table}`, t0)
      result.rows[target.table] = batch.rows[t] ?? 0
    }
    return result
  }

  /** Any other batch: load into staging, merge by the rules of catalog-batch-sql.ts. */
  private async loadAndMerge(batch: StagedBatch, progress: FileProgress): Promise<MergeResult> {
    const c = this.client
    const k = DUMP_TABLES[batch.type]
    const result: MergeResult = { inserted: 0, updated: 0, unchanged: 0, rows: {} }
    await c.query(`TRUNCATE ${STAGE_TABLES_BY_KIND[batch.type].join(', ')}`)
    for (const t of STAGE_TABLES_BY_KIND[batch.type]) {
      const data = batch.tables[t]
      if (!data) continue
      const t0 = performance.now()
      if (this.session.db.kind === 'server') await this.copy(stagingCopySql(t), data)
      else await c.query(jsonInsertSql(t), [text(data)])
      this.session.addTiming(`load ${t}`, t0)
    }
    let statements = this.mergeSql.get(batch.type)
    if (!statements) this.mergeSql.set(batch.type, (statements = mergeStatements(batch.type)))
    let staged = batch.records
    for (const st of statements) {
      if (st.onlyIfUpdated && result.updated === 0) continue
      const sql = st.sqlAllStaged && result.unchanged === 0 ? st.sqlAllStaged : st.sql
      const t0 = performance.now()
      const r = await c.query(sql, sql.includes('$1') ? [progress.dumpDate] : [])
      this.session.addTiming(st.name, t0)
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

  /**
   * A file was read to its end: records of its type not in this dump are marked missing (and no longer
   * counted as seen). Returns how many were newly marked.
   */
  async finishFile(dumpDate: string, type: DumpKind): Promise<number> {
    const core = DUMP_TABLES[type].core
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

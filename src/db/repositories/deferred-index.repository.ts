import type pg from 'pg'
import type { DumpKind } from './catalog-staging.ts'
import type { ImportSession } from './import-session.ts'
import { DUMP_TABLES, writtenTablesOf } from './import-tables.ts'

/**
 * The indexes a bulk import defers: dropped before the load (their definitions kept in
 * discogs_deferred_index) and built once after it, which is much faster than maintaining them row by row.
 */
export class DeferredIndexRepository {
  constructor(private readonly session: ImportSession) {}

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
    const c = this.session.client
    await c.query('BEGIN')
    try {
      const tables = writtenTablesOf(type)
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
        [
          tables,
          this.session.skipsKeyChecks,
          tables.filter((t) => t !== DUMP_TABLES[type].core && t !== 'track'),
        ],
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
    const { rows } = await this.session.client.query<{
      index_name: string
      table_name: string
      definition: string
    }>(
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
    await this.session.onMaintenanceClients(
      rows.length,
      [`maintenance_work_mem = '256MB'`, `work_mem = '128MB'`],
      async (clients) => {
        await this.session.eachOnClients(
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
          if (!(await this.constraintExists(this.session.client, r.index_name, r.table_name)))
            await this.session.client.query(`${r.definition} NOT VALID`)
        await this.session.eachOnClients(clients, keys, async (c, r) => {
          const [, table, name] = /^ALTER TABLE (\S+) ADD CONSTRAINT (\S+) /.exec(r.definition)!
          await c.query(`ALTER TABLE ${table} VALIDATE CONSTRAINT ${name}`)
          await c.query(`DELETE FROM discogs_deferred_index WHERE index_name = $1`, [r.index_name])
        })
      },
    )
    return rows.map((r) => r.index_name)
  }

  private async constraintExists(c: pg.PoolClient, name: string, table: string): Promise<boolean> {
    const { rows } = await c.query(
      `SELECT 1 FROM pg_constraint WHERE conname = $1 AND conrelid = $2::regclass`,
      [name, table],
    )
    return rows.length > 0
  }
}

import type pg from 'pg'
import type { Database } from '../database.ts'
import { resetSql } from '../sql.ts'

const LOCK_KEY = 0x0d15c065 // pg_advisory_lock key of the import: one import per database at a time

/**
 * A Discogs import's hold on the database: one dedicated connection holding the import lock (the staging
 * tables are shared by all sessions), which the batch writer, the deferred indexes and the search
 * maintenance all work on, a second connection of the pool for maintenance that runs side by side, and the
 * time spent per step, for the benchmark's breakdown.
 */
export class ImportSession {
  /** milliseconds spent per step (load, each merge statement, commit, each rebuild) */
  readonly timings = new Map<string, number>()

  private constructor(
    readonly db: Database,
    readonly client: pg.PoolClient,
    /**
     * The role may set session_replication_role (a superuser's): a direct load then skips the foreign-key
     * triggers, which its rows satisfy by construction, and a bulk import keeps the foreign keys instead
     * of dropping them and checking every row again at the end.
     */
    readonly skipsKeyChecks: boolean,
  ) {}

  /** Takes a dedicated connection and the import lock. */
  static async open(db: Database): Promise<ImportSession> {
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
      return new ImportSession(db, client, su[0].su)
    } catch (err) {
      client.release()
      throw err
    }
  }

  async close(): Promise<void> {
    try {
      await this.client.query(`SELECT pg_advisory_unlock($1)`, [LOCK_KEY])
      await this.client.query(`RESET synchronous_commit`)
    } finally {
      this.client.release()
    }
  }

  /** Adds the time spent since t0 (performance.now()) to `step`. */
  addTiming(step: string, t0: number): void {
    this.timings.set(step, (this.timings.get(step) ?? 0) + performance.now() - t0)
  }

  /**
   * Runs `fn` on the session's connection and, on a server with more than one item of work, a second one of
   * the pool (after a bulk load both cores are free), each with `settings` (`name = value`), reset after.
   */
  async onMaintenanceClients(
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
   * Runs `step` for each item, one transaction each, the clients taking items in turn from one queue; each
   * item's time is counted as `rebuild <index_name>`.
   */
  async eachOnClients<T extends { index_name: string }>(
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
        this.addTiming(`rebuild ${item.index_name}`, t0)
      }
    }
    const results = await Promise.allSettled(clients.map(run))
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
  }
}

import type pg from 'pg'
import { isLockNotAvailable } from '../sql.ts'
import { searchView } from '../trigram-bands.ts'
import type { DumpKind } from './catalog-staging.ts'
import type { ImportSession } from './import-session.ts'
import { searchedTablesOf, writtenTablesOf } from './import-tables.ts'

/** How long one try of a search view's swap waits for the searches reading it (SearchMaintenanceRepository.swapSearchView). */
export const SWAP_LOCK_TIMEOUT_MS = 500
/** Tries of a swap that give way to searches after SWAP_LOCK_TIMEOUT_MS before one waits as long as it takes. */
export const SWAP_TRIES = 60

/** The name a search view or one of its indexes is built under before it is swapped in. */
const nextView = (name: string) => `${name}_next`

/**
 * Keeps what search reads current after an import wrote a file: the search views (migration 1765200000000)
 * rebuilt and swapped in, or refreshed in place on a bulk load; the GIN indexes' pending lists merged; the
 * planner's statistics of the searchable tables.
 */
export class SearchMaintenanceRepository {
  constructor(private readonly session: ImportSession) {}

  /**
   * Merges the pending lists of the GIN indexes on the type's tables and the search dictionary into the
   * indexes proper; returns the pages merged. Rows written into an existing GIN index go to its pending list
   * (fastupdate), up to gin_pending_list_limit (4 MB) per index, and every scan reads that list in full until
   * a vacuum merges it. After the fixture import (small files: no deferred rebuild) each search band scan
   * of a 5,000-release catalog read up to 3.7 MB of them, 1–7 ms even when it found nothing; the whole
   * search of a pasted title took 539 ms of execution, 84 ms once merged.
   */
  async mergeGinPendingLists(type: DumpKind): Promise<number> {
    const { rows } = await this.session.client.query<{ pages: number }>(
      `SELECT coalesce(sum(gin_clean_pending_list(i.indexrelid)), 0)::int AS pages
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
         JOIN pg_class t ON t.oid = i.indrelid
        WHERE am.amname = 'gin' AND t.relnamespace = current_schema()::regnamespace AND t.relname = ANY($1)`,
      [[...writtenTablesOf(type), 'search_word']],
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
    const searched = searchedTablesOf(type)
    await this.session.client.query(
      `ANALYZE ${[...searched, ...searched.map(searchView), 'search_word'].join(', ')}`,
    )
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
    const views = searchedTablesOf(type).map(searchView).reverse()
    await this.session.onMaintenanceClients(views.length, [`maintenance_work_mem = '256MB'`], (clients) =>
      this.session.eachOnClients(
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
    const c = this.session.client
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
}

import type pg from 'pg'

/** Anything that runs SQL: a pool, a client, or a counting wrapper. Repositories take this, not a Pool. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>
}

/**
 * A Queryable that counts statements and their time: one per GraphQL request, so the number of SQL
 * statements a query costs is visible (Server-Timing header, logs) and testable.
 */
export class CountingQueryable implements Queryable {
  statements = 0
  millis = 0

  constructor(private readonly inner: Queryable) {}

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    this.statements++
    const started = performance.now()
    try {
      return await this.inner.query<R>(text, values)
    } finally {
      this.millis += performance.now() - started
    }
  }
}

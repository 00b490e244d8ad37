import { parsePage, toConnection, type Connection, type PageArgs } from '../api/pagination.ts'

/**
 * A connection over a list already in memory (a release's credits or tracks: bounded by one record, read
 * whole by one batched statement), paged with the same keyset cursors as SQL-paged lists.
 */
export function connectionFromList<T>(list: T[], keyOf: (item: T) => number, args: PageArgs): Connection<T> {
  const page = parsePage(args)
  let rows = list.filter(
    (x) => (page.after == null || keyOf(x) > page.after) && (page.before == null || keyOf(x) < page.before),
  )
  if (page.backward) rows = rows.reverse()
  return toConnection(rows.slice(0, page.limit + 1), keyOf, page, async () => list.length)
}

/**
 * Totals are counted only when asked for, so a connection carries `totalCount` as a function. It needs a
 * resolver: graphql-jit (unlike graphql-js's default resolver) reads a field without one as a plain property.
 */
export const connectionResolvers = {
  totalCount: (c: Connection<unknown>) => c.totalCount(),
}

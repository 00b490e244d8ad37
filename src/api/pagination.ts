import { BadInputError } from '../errors.ts'
import { decodeCursor, encodeOpaque } from './cursor.ts'

/** Relay connection arguments as they arrive from GraphQL. */
export interface PageArgs {
  first?: number | null
  after?: string | null
  last?: number | null
  before?: string | null
}

/**
 * A validated page request over a list ordered by an integer key (keyset pagination: deep pages cost
 * the same as the first). Forward pages read `key > after` ascending; backward pages read `key < before`
 * descending and are reversed afterwards. `limit` is the page size; one extra row is read to tell whether
 * more exist in the reading direction.
 */
export interface KeysetPage {
  backward: boolean
  limit: number
  after: number | null
  before: number | null
}

export const DEFAULT_PAGE_SIZE = 20
export const MAX_PAGE_SIZE = 100

function decodeKey(cursor: string, field: string): number {
  return Number(decodeCursor(cursor, /^k:(-?\d+)$/, field)[0])
}

export function encodeCursor(key: number | string): string {
  return encodeOpaque(`k:${key}`)
}

function checkSize(n: number | null | undefined, field: string, max: number): void {
  if (n != null && (!Number.isInteger(n) || n < 0 || n > max)) {
    throw new BadInputError(`must be between 0 and ${max}`, field)
  }
}

export function parsePage(args: PageArgs, max = MAX_PAGE_SIZE): KeysetPage {
  if (args.first != null && args.last != null) throw new BadInputError('give first or last, not both', 'last')
  checkSize(args.first, 'first', max)
  checkSize(args.last, 'last', max)
  const backward = args.last != null || (args.before != null && args.first == null)
  return {
    backward,
    limit: (backward ? args.last : args.first) ?? DEFAULT_PAGE_SIZE,
    after: args.after != null ? decodeKey(args.after, 'after') : null,
    before: args.before != null ? decodeKey(args.before, 'before') : null,
  }
}

/** Stable cache key of a page request (DataLoader keys must be strings). */
export function pageKey(p: KeysetPage): string {
  return `${p.backward ? 'b' : 'f'}${p.limit}:${p.after ?? ''}:${p.before ?? ''}`
}

/**
 * An edge whose cursor is encoded only when read: most queries select nodes and no cursors, and a 50-release
 * page with 20 tracks each has ≈ 1,000 edges. A getter, because both executors read the field as a property.
 */
class Edge<T> {
  constructor(
    readonly node: T,
    private readonly key: number,
  ) {}

  get cursor(): string {
    return encodeCursor(this.key)
  }
}

export interface Connection<T> {
  edges: { readonly cursor: string; readonly node: T }[]
  pageInfo: {
    hasNextPage: boolean
    hasPreviousPage: boolean
    startCursor: string | null
    endCursor: string | null
  }
  totalCount: () => Promise<number>
}

/**
 * Builds a connection from the rows read for `page` (in reading order, up to limit + 1). The Relay spec
 * lets hasPreviousPage (forward) / hasNextPage (backward) be approximated by whether a cursor was given:
 * we do that rather than spend a second query.
 */
export function toConnection<T>(
  rows: T[],
  keyOf: (row: T) => number,
  page: KeysetPage,
  totalCount: () => Promise<number>,
): Connection<T> {
  const more = rows.length > page.limit
  const taken = rows.slice(0, page.limit)
  if (page.backward) taken.reverse()
  const edges = taken.map((node) => new Edge(node, keyOf(node)))
  return {
    edges,
    pageInfo: {
      hasNextPage: page.backward ? page.before != null : more,
      hasPreviousPage: page.backward ? more : page.after != null,
      // Encoded only when read, as the edges' cursors.
      get startCursor() {
        return edges[0]?.cursor ?? null
      },
      get endCursor() {
        return edges.at(-1)?.cursor ?? null
      },
    },
    totalCount,
  }
}

import DataLoader from 'dataloader'
import {
  CatalogReadRepository,
  childList,
  type ChildList,
  type ChildListMap,
  type ChildTable,
  type ReleaseFilter,
  type ReleaseParent,
  type Row,
} from '../db/repositories/catalog-read.repository.ts'
import type { Queryable } from '../db/sql.ts'
import { pageKey, type KeysetPage } from './pagination.ts'

function byId(rows: Row[], ids: readonly number[]): (Row | null)[] {
  const map = new Map(rows.map((r) => [Number(r.id), r]))
  return ids.map((id) => map.get(id) ?? null)
}

/**
 * A loader for keyed requests that also carry arguments (a page, a filter): keys with the same arguments
 * are answered by one batched statement, keys with different arguments by one statement per distinct
 * argument set.
 */
function groupedLoader<P extends number | string, A, V>(
  argsKey: (args: A) => string,
  load: (parents: P[], args: A) => Promise<Map<P, V>>,
  empty: V,
): DataLoader<{ parent: P; args: A }, V, string> {
  return new DataLoader(
    async (keys) => {
      const groups = new Map<string, { args: A; parents: P[] }>()
      for (const k of keys) {
        const g = groups.get(argsKey(k.args)) ?? { args: k.args, parents: [] }
        if (!g.parents.includes(k.parent)) g.parents.push(k.parent)
        groups.set(argsKey(k.args), g)
      }
      const results = new Map<string, Map<P, V>>()
      await Promise.all([...groups].map(async ([key, g]) => results.set(key, await load(g.parents, g.args))))
      return keys.map((k) => results.get(argsKey(k.args))!.get(k.parent) ?? empty)
    },
    { cacheKeyFn: (k) => `${k.parent}|${argsKey(k.args)}` },
  )
}

export interface ReleasePageArgs {
  parent: ReleaseParent
  filter: ReleaseFilter
  page: KeysetPage
  /** Child lists the selection reads of each release: read with the page, in the same statement. */
  lists: readonly ChildList[]
}

const releaseArgsKey = (a: { parent: ReleaseParent; filter: ReleaseFilter; page?: KeysetPage; lists?: readonly ChildList[] }) =>
  JSON.stringify([a.parent, a.filter, a.page ? pageKey(a.page) : null, a.lists?.map((l) => l.key) ?? null])

const listsKey = (lists: readonly ChildList[]) => lists.map((l) => l.key).join()

/** A child list's rows per parent id: at once when they came with the parent's row, else a promise. */
export interface ListLoader {
  rows(parent: number): Row[] | Promise<Row[]>
  /** `f` of the parent's rows, at once when they are at hand. */
  read<T>(parent: number, f: (rows: Row[]) => T): T | Promise<T>
}

const then = <T>(rows: Row[] | Promise<Row[]>, f: (rows: Row[]) => T): T | Promise<T> => (Array.isArray(rows) ? f(rows) : rows.then(f))

/** Per-request loaders: one per relation, so any query shape costs a bounded number of statements. */
export function createLoaders(db: Queryable) {
  const repo = new CatalogReadRepository(db)
  const entity = (load: (ids: readonly number[]) => Promise<Row[]>) => new DataLoader<number, Row | null>(async (ids) => byId(await load(ids), ids))
  // One loader for every child list: the lists asked for in the same tick share one statement.
  const childRows = new DataLoader<{ list: ChildList; parent: number }, Row[], string>(
    async (keys) => {
      const requests = new Map<ChildList, number[]>()
      for (const { list, parent } of keys) {
        const parents = requests.get(list) ?? []
        parents.push(parent)
        requests.set(list, parents)
      }
      const rows = await repo.childLists(requests)
      return keys.map((k) => rows.get(k.list)?.get(k.parent) ?? [])
    },
    { cacheKeyFn: (k) => `${k.list.key}|${k.parent}` },
  )
  // Child lists that came with their parents' rows, per list and parent: read without DataLoader's
  // promise and microtask turn (a 50-release page has 200 of them).
  const given = new Map<ChildList, Map<number, Row[]>>()
  const givenOf = (list: ChildList) => {
    let byParent = given.get(list)
    if (!byParent) given.set(list, (byParent = new Map()))
    return byParent
  }
  const primed = <T extends { lists: ChildListMap }>(read: T): T => {
    for (const [list, byParent] of read.lists) {
      const known = givenOf(list)
      for (const [parent, rows] of byParent) if (!known.has(parent)) known.set(parent, rows)
    }
    return read
  }
  // One view per list, made on first use: resolvers ask for it once per parent.
  const childLoaders = new Map<ChildList, ListLoader>()
  const childLoader = (list: ChildList): ListLoader => {
    let loader = childLoaders.get(list)
    if (!loader) {
      const known = givenOf(list)
      const rows = (parent: number) => known.get(parent) ?? childRows.load({ list, parent })
      loader = { rows, read: (parent, f) => then(rows(parent), f) }
      childLoaders.set(list, loader)
    }
    return loader
  }
  return {
    repo,
    artist: entity((ids) => repo.artists(ids)),
    label: entity((ids) => repo.labels(ids)),
    master: entity((ids) => repo.masters(ids)),
    release: entity(async (ids) => (await repo.releases(ids)).rows),
    /** Releases by id with the child lists a selection reads (see ReleasePageArgs.lists). */
    releaseWithLists: groupedLoader<number, readonly ChildList[], Row | null>(
      listsKey,
      async (ids, lists) => new Map(primed(await repo.releases(ids, lists)).rows.map((r) => [Number(r.id), r])),
      null,
    ),
    track: entity((ids) => repo.tracks(ids)),
    sublabels: new DataLoader<number, Row[]>(async (ids) => {
      const m = await repo.sublabels(ids)
      return ids.map((id) => m.get(id) ?? [])
    }),
    /** Rows of a child table (credits, formats, aliases…) per parent id. */
    children: (table: ChildTable) => childLoader(childList(table)),
    /** Rows of a child list per parent id. */
    list: childLoader,
    releasePage: groupedLoader<number | string, ReleasePageArgs, Row[]>(
      releaseArgsKey,
      async (parents, a) => primed(await repo.releasePages(a.parent, parents, a.filter, a.page, a.lists)).pages,
      [],
    ),
    releaseCount: groupedLoader<number | string, Omit<ReleasePageArgs, 'page' | 'lists'>, number>(releaseArgsKey, (parents, a) => repo.releaseCounts(a.parent, parents, a.filter), 0),
    artistTrackPage: groupedLoader<number, KeysetPage, Row[]>(pageKey, (parents, page) => repo.artistTrackPages(parents, page), []),
    artistTrackCount: new DataLoader<number, number>(async (ids) => {
      const m = await repo.artistTrackCounts(ids)
      return ids.map((id) => m.get(id) ?? 0)
    }),
    audio: new DataLoader<number, Row | null>(async (ids) => {
      const rows = await repo.audioFiles(ids)
      const byTrack = new Map(rows.map((r) => [Number(r.trackId), r]))
      return ids.map((id) => byTrack.get(id) ?? null)
    }),
    tagCount: groupedLoader<string, 'style' | 'genre', number>((k) => k, (names, kind) => repo.tagCounts(kind, names), 0),
  }
}

export type Loaders = ReturnType<typeof createLoaders>

import DataLoader from 'dataloader'
import {
  childList,
  type CatalogService,
  type ChildList,
  type ChildListMap,
  type ChildTable,
  type ReleaseFilter,
  type ReleaseParent,
  type Row,
} from '../services/catalog.service.ts'
import { pageKey, type KeysetPage } from './pagination.ts'

function byId(rows: Row[], ids: readonly number[]): (Row | null)[] {
  const map = new Map(rows.map((r) => [Number(r.id), r]))
  return ids.map((id) => map.get(id) ?? null)
}

const entity = (load: (ids: readonly number[]) => Promise<Row[]>) =>
  new DataLoader<number, Row | null>(async (ids) => byId(await load(ids), ids))

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

const releaseArgsKey = (a: {
  parent: ReleaseParent
  filter: ReleaseFilter
  page?: KeysetPage
  lists?: readonly ChildList[]
}) =>
  JSON.stringify([a.parent, a.filter, a.page ? pageKey(a.page) : null, a.lists?.map((l) => l.key) ?? null])

const listsKey = (lists: readonly ChildList[]) => lists.map((l) => l.key).join()

/** A child list's rows per parent id: at once when they came with the parent's row, else a promise. */
export interface ListLoader {
  rows(parent: number): Row[] | Promise<Row[]>
  /** `f` of the parent's rows, at once when they are at hand. */
  read<T>(parent: number, f: (rows: Row[]) => T): T | Promise<T>
}

const whenLoaded = <T>(rows: Row[] | Promise<Row[]>, f: (rows: Row[]) => T): T | Promise<T> =>
  Array.isArray(rows) ? f(rows) : rows.then(f)

/**
 * Per-request loaders: one per relation, so any query shape costs a bounded number of statements. Each is
 * made on first use (a request uses a few of them).
 *
 * They batch and cache the catalog service's reads for one request, and live here rather than in the
 * service: what they batch is one tick of GraphQL execution, and what they cache must last one request
 * (the resolvers of every module, catalog, similarity and mixes, reach catalog rows through them). The
 * service stays the one place the reads and their rules are; a loader only decides when to ask it.
 */
export class Loaders {
  // Child lists that came with their parents' rows, per list and parent: read without DataLoader's
  // promise and microtask turn (a 50-release page has 200 of them).
  readonly #given = new Map<ChildList, Map<number, Row[]>>()
  // One view per list, made on first use: resolvers ask for it once per parent.
  readonly #listLoaders = new Map<ChildList, ListLoader>()
  #childRows?: DataLoader<{ list: ChildList; parent: number }, Row[], string>
  #artist?: DataLoader<number, Row | null>
  #label?: DataLoader<number, Row | null>
  #master?: DataLoader<number, Row | null>
  #release?: DataLoader<number, Row | null>
  #releaseWithLists?: DataLoader<{ parent: number; args: readonly ChildList[] }, Row | null, string>
  #track?: DataLoader<number, Row | null>
  #sublabels?: DataLoader<number, Row[]>
  #releasePage?: DataLoader<{ parent: number | string; args: ReleasePageArgs }, Row[], string>
  #releaseCount?: DataLoader<
    { parent: number | string; args: Omit<ReleasePageArgs, 'page' | 'lists'> },
    number,
    string
  >
  #artistTrackPage?: DataLoader<{ parent: number; args: KeysetPage }, Row[], string>
  #artistTrackCount?: DataLoader<number, number>
  #audio?: DataLoader<number, Row | null>
  #tagCount?: DataLoader<{ parent: string; args: 'style' | 'genre' }, number, string>

  constructor(private readonly catalog: CatalogService) {}

  get artist() {
    return (this.#artist ??= entity((ids) => this.catalog.artists(ids)))
  }

  get label() {
    return (this.#label ??= entity((ids) => this.catalog.labels(ids)))
  }

  get master() {
    return (this.#master ??= entity((ids) => this.catalog.masters(ids)))
  }

  get release() {
    return (this.#release ??= entity(async (ids) => (await this.catalog.releases(ids)).rows))
  }

  /** Releases by id with the child lists a selection reads (see ReleasePageArgs.lists). */
  get releaseWithLists() {
    return (this.#releaseWithLists ??= groupedLoader<number, readonly ChildList[], Row | null>(
      listsKey,
      async (ids, lists) =>
        new Map(this.primed(await this.catalog.releases(ids, lists)).rows.map((r) => [Number(r.id), r])),
      null,
    ))
  }

  get track() {
    return (this.#track ??= entity((ids) => this.catalog.tracks(ids)))
  }

  get sublabels() {
    return (this.#sublabels ??= new DataLoader<number, Row[]>(async (ids) => {
      const m = await this.catalog.sublabels(ids)
      return ids.map((id) => m.get(id) ?? [])
    }))
  }

  /** Rows of a child table (credits, formats, aliases…) per parent id. */
  children(table: ChildTable): ListLoader {
    return this.list(childList(table))
  }

  /** Rows of a child list per parent id. */
  list(list: ChildList): ListLoader {
    let loader = this.#listLoaders.get(list)
    if (!loader) {
      const known = this.givenOf(list)
      const rows = (parent: number) => known.get(parent) ?? this.childRows.load({ list, parent })
      loader = { rows, read: (parent, f) => whenLoaded(rows(parent), f) }
      this.#listLoaders.set(list, loader)
    }
    return loader
  }

  get releasePage() {
    return (this.#releasePage ??= groupedLoader<number | string, ReleasePageArgs, Row[]>(
      releaseArgsKey,
      async (parents, a) =>
        this.primed(await this.catalog.releasePages(a.parent, parents, a.filter, a.page, a.lists)).pages,
      [],
    ))
  }

  get releaseCount() {
    return (this.#releaseCount ??= groupedLoader<
      number | string,
      Omit<ReleasePageArgs, 'page' | 'lists'>,
      number
    >(releaseArgsKey, (parents, a) => this.catalog.releaseCounts(a.parent, parents, a.filter), 0))
  }

  get artistTrackPage() {
    return (this.#artistTrackPage ??= groupedLoader<number, KeysetPage, Row[]>(
      pageKey,
      (parents, page) => this.catalog.artistTrackPages(parents, page),
      [],
    ))
  }

  get artistTrackCount() {
    return (this.#artistTrackCount ??= new DataLoader<number, number>(async (ids) => {
      const m = await this.catalog.artistTrackCounts(ids)
      return ids.map((id) => m.get(id) ?? 0)
    }))
  }

  get audio() {
    return (this.#audio ??= new DataLoader<number, Row | null>(async (ids) => {
      const rows = await this.catalog.audioFiles(ids)
      const byTrack = new Map(rows.map((r) => [Number(r.trackId), r]))
      return ids.map((id) => byTrack.get(id) ?? null)
    }))
  }

  get tagCount() {
    return (this.#tagCount ??= groupedLoader<string, 'style' | 'genre', number>(
      (k) => k,
      (names, kind) => this.catalog.tagCounts(kind, names),
      0,
    ))
  }

  /** One loader for every child list: the lists asked for in the same tick share one statement. */
  private get childRows() {
    return (this.#childRows ??= new DataLoader<{ list: ChildList; parent: number }, Row[], string>(
      async (keys) => {
        const requests = new Map<ChildList, number[]>()
        for (const { list, parent } of keys) {
          const parents = requests.get(list) ?? []
          parents.push(parent)
          requests.set(list, parents)
        }
        const rows = await this.catalog.childLists(requests)
        return keys.map((k) => rows.get(k.list)?.get(k.parent) ?? [])
      },
      { cacheKeyFn: (k) => `${k.list.key}|${k.parent}` },
    ))
  }

  private givenOf(list: ChildList): Map<number, Row[]> {
    let byParent = this.#given.get(list)
    if (!byParent) this.#given.set(list, (byParent = new Map()))
    return byParent
  }

  /** Child lists that came with their parents' rows: the resolvers that read them find them at hand. */
  private primed<T extends { lists: ChildListMap }>(read: T): T {
    for (const [list, byParent] of read.lists) {
      const known = this.givenOf(list)
      for (const [parent, rows] of byParent) if (!known.has(parent)) known.set(parent, rows)
    }
    return read
  }
}

/** The request's loaders over `catalog`, the catalog service on the request's own Queryable. */
export function createLoaders(catalog: CatalogService): Loaders {
  return new Loaders(catalog)
}

import type { KeysetPage } from '../api/pagination.ts'
import {
  childList,
  type ChildList,
  type ChildListMap,
  type ChildTable,
} from '../db/repositories/catalog-child-lists.ts'
import {
  CatalogReadRepository,
  type ArtistRole,
  type ReleaseFilter,
  type ReleaseParent,
  type Row,
} from '../db/repositories/catalog-read.repository.ts'
import type { Queryable } from '../db/sql.ts'
import { BadInputError } from '../errors.ts'

export { childList, type ArtistRole, type ChildList, type ChildListMap, type ChildTable, type ReleaseFilter }
export type { ReleaseParent, Row }

/** The years a release filter may name. */
const YEAR_MIN = 1800
const YEAR_MAX = 2100

/** `filter` (none: every release) once its years and the fields that need another are checked. */
export function checkReleaseFilter(filter: ReleaseFilter | null | undefined): ReleaseFilter {
  const f = filter ?? {}
  for (const field of ['yearFrom', 'yearTo'] as const) {
    const y = f[field]
    if (y != null && (y < YEAR_MIN || y > YEAR_MAX))
      throw new BadInputError(`must be a year between ${YEAR_MIN} and ${YEAR_MAX}`, `filter.${field}`)
  }
  if (f.yearFrom != null && f.yearTo != null && f.yearFrom > f.yearTo)
    throw new BadInputError('is after filter.yearTo', 'filter.yearFrom')
  if (f.includeSublabels && f.labelId == null)
    throw new BadInputError('needs filter.labelId', 'filter.includeSublabels')
  if (f.artistRole && f.artistId == null)
    throw new BadInputError('needs filter.artistId', 'filter.artistRole')
  return f
}

/**
 * Reading the catalog: artists, labels, masters, releases and tracks by id, their child lists (credits,
 * tracklists, aliases …), pages of the releases hanging off an artist, label, master, style or genre, an
 * artist's tracks, styles and genres with their counts. Each read takes many keys and answers them in one
 * statement (CatalogReadRepository), so the API's per-request loaders (src/api/loaders.ts), which batch
 * what one tick of resolvers asks for, cost one statement per relation.
 *
 * Built over the Queryable its statements are to run on: the API gives it each request's counting one, so
 * the statements of a request are counted, and prepared, on its own.
 */
export class CatalogService {
  private readonly reads: CatalogReadRepository

  constructor(db: Queryable) {
    this.reads = new CatalogReadRepository(db)
  }

  /** The release with the lowest id, with its first artist credit and first style: what examples can name. */
  exampleRelease(): ReturnType<CatalogReadRepository['exampleRelease']> {
    return this.reads.exampleRelease()
  }

  artists(ids: readonly number[]): Promise<Row[]> {
    return this.reads.artists(ids)
  }

  labels(ids: readonly number[]): Promise<Row[]> {
    return this.reads.labels(ids)
  }

  masters(ids: readonly number[]): Promise<Row[]> {
    return this.reads.masters(ids)
  }

  /** Releases by id, with the child lists `lists` names of each (read in the same statement). */
  releases(
    ids: readonly number[],
    lists: readonly ChildList[] = [],
  ): Promise<{ rows: Row[]; lists: ChildListMap }> {
    return this.reads.releases(ids, lists)
  }

  tracks(ids: readonly number[]): Promise<Row[]> {
    return this.reads.tracks(ids)
  }

  /** Per child list asked for, its rows per parent id (lists asked for together cost one statement). */
  childLists(requests: ReadonlyMap<ChildList, readonly number[]>): Promise<ChildListMap> {
    return this.reads.childLists(requests)
  }

  /** Per label, the labels whose parent it is. */
  sublabels(labelIds: readonly number[]): Promise<Map<number, Row[]>> {
    return this.reads.sublabels(labelIds)
  }

  /**
   * One keyset page of releases per parent (the root list when `parent` is null), filtered (checked:
   * checkReleaseFilter), with the child lists `lists` names of each release.
   */
  releasePages(
    parent: ReleaseParent,
    parentKeys: readonly (number | string)[],
    filter: ReleaseFilter,
    page: KeysetPage,
    lists: readonly ChildList[] = [],
  ): Promise<{ pages: Map<number | string, Row[]>; lists: ChildListMap }> {
    return this.reads.releasePages(parent, parentKeys, filter, page, lists)
  }

  /** How many releases each parent's filtered list holds. */
  releaseCounts(
    parent: ReleaseParent,
    parentKeys: readonly (number | string)[],
    filter: ReleaseFilter,
  ): Promise<Map<number | string, number>> {
    return this.reads.releaseCounts(parent, parentKeys, filter)
  }

  /** One keyset page per artist of the tracks they perform. */
  artistTrackPages(artistIds: readonly number[], page: KeysetPage): Promise<Map<number, Row[]>> {
    return this.reads.artistTrackPages(artistIds, page)
  }

  artistTrackCounts(artistIds: readonly number[]): Promise<Map<number, number>> {
    return this.reads.artistTrackCounts(artistIds)
  }

  /** The playable audio file of each track that has one. */
  audioFiles(trackIds: readonly number[]): Promise<Row[]> {
    return this.reads.audioFiles(trackIds)
  }

  /** Every style or genre with how many releases carry it, alphabetical. */
  tags(kind: 'style' | 'genre'): Promise<{ name: string; releases: number }[]> {
    return this.reads.tags(kind)
  }

  /** How many releases carry each of the styles or genres `names`. */
  tagCounts(kind: 'style' | 'genre', names: readonly string[]): Promise<Map<string, number>> {
    return this.reads.tagCounts(kind, names)
  }
}

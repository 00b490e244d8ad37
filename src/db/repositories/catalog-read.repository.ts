import type { KeysetPage } from '../../api/pagination.ts'
import type { Queryable } from '../sql.ts'
import {
  listsColumn,
  listSql,
  ROW_OF,
  takeLists,
  type ChildList,
  type ChildListMap,
} from './catalog-child-lists.ts'
import { ARTIST, LABEL, MASTER, RELEASE, TRACK, type Row } from './catalog-rows.ts'

/**
 * Every read of the catalog the API makes, batched: each function takes many parent keys and answers all
 * of them in one statement, so DataLoader turns N lookups of a request into one query per relation.
 * Lists that can grow without bound (an artist's releases, a style's releases) are paged per parent in
 * SQL with LATERAL + keyset; lists bounded by one record (a release's credits or tracks) are read whole.
 * Catalog search is SearchRepository's.
 */

export type ArtistRole = 'MAIN' | 'CREDITED' | 'ANY'

export interface ReleaseFilter {
  styles?: string[] | null
  genres?: string[] | null
  yearFrom?: number | null
  yearTo?: number | null
  countries?: string[] | null
  labelId?: number | null
  includeSublabels?: boolean | null
  format?: string | null
  artistId?: number | null
  artistRole?: ArtistRole | null
  masterId?: number | null
}

/** What a paged release list hangs off; `null` for the root list. */
export type ReleaseParent =
  | { kind: 'artist'; role: ArtistRole }
  | { kind: 'label'; includeSublabels: boolean }
  | { kind: 'master' }
  | { kind: 'style' }
  | { kind: 'genre' }
  | null

// what other modules have named catalog rows from
export type { Row }

function groupBy<K>(
  rows: Row[],
  key: string,
  parents: readonly K[],
  toKey: (v: unknown) => K = (v) => v as K,
): Map<K, Row[]> {
  const out = new Map<K, Row[]>(parents.map((p) => [p, []]))
  for (const row of rows) out.get(toKey(row[key]))?.push(row)
  return out
}

/** release ids an artist appears on, per role; `$p` is the artist id expression. */
function artistReleaseIds(role: ArtistRole, p: string): string {
  const main = `SELECT release_id FROM release_artist WHERE artist_id = ${p}
    UNION SELECT t.release_id FROM track_artist ta JOIN track t ON t.id = ta.track_id WHERE ta.artist_id = ${p}`
  const credited = `SELECT release_id FROM release_credit WHERE artist_id = ${p}
    UNION SELECT t.release_id FROM track_credit tc JOIN track t ON t.id = tc.track_id WHERE tc.artist_id = ${p}`
  return role === 'MAIN' ? main : role === 'CREDITED' ? credited : `${main} UNION ${credited}`
}

/** release ids of a label, optionally with all its sublabels (transitively, through label.parent_id). */
function labelReleaseIds(includeSublabels: boolean, p: string): string {
  if (!includeSublabels) return `SELECT release_id FROM release_label WHERE label_id = ${p}`
  return `SELECT release_id FROM release_label WHERE label_id IN (
    WITH RECURSIVE sub(id) AS (SELECT ${p} UNION SELECT l.id FROM label l JOIN sub ON l.parent_id = sub.id)
    SELECT id FROM sub)`
}

/** WHERE conditions on `release r` for a filter and, when batched, the parent expression `p.parent`. */
function releaseConditions(filter: ReleaseFilter, params: unknown[], parent: ReleaseParent): string[] {
  const add = (v: unknown) => `$${params.push(v)}`
  const c: string[] = []
  if (parent?.kind === 'artist') c.push(`r.id IN (${artistReleaseIds(parent.role, 'p.parent')})`)
  if (parent?.kind === 'label') c.push(`r.id IN (${labelReleaseIds(parent.includeSublabels, 'p.parent')})`)
  if (parent?.kind === 'master') c.push(`r.master_id = p.parent`)
  if (parent?.kind === 'style')
    c.push(`r.id IN (SELECT release_id FROM release_style WHERE style = p.parent)`)
  if (parent?.kind === 'genre')
    c.push(`r.id IN (SELECT release_id FROM release_genre WHERE genre = p.parent)`)
  if (filter.styles?.length)
    c.push(`r.id IN (SELECT release_id FROM release_style WHERE style = ANY(${add(filter.styles)}::text[]))`)
  if (filter.genres?.length)
    c.push(`r.id IN (SELECT release_id FROM release_genre WHERE genre = ANY(${add(filter.genres)}::text[]))`)
  if (filter.yearFrom != null) c.push(`r.year >= ${add(filter.yearFrom)}`)
  if (filter.yearTo != null) c.push(`r.year <= ${add(filter.yearTo)}`)
  if (filter.countries?.length) c.push(`r.country = ANY(${add(filter.countries)}::text[])`)
  if (filter.labelId != null)
    c.push(`r.id IN (${labelReleaseIds(!!filter.includeSublabels, `${add(filter.labelId)}::int`)})`)
  if (filter.artistId != null)
    c.push(`r.id IN (${artistReleaseIds(filter.artistRole ?? 'ANY', `${add(filter.artistId)}::int`)})`)
  if (filter.masterId != null) c.push(`r.master_id = ${add(filter.masterId)}`)
  if (filter.format) {
    c.push(
      `EXISTS (SELECT 1 FROM release_format f WHERE f.release_id = r.id AND (f.name = ${add(filter.format)} OR $${params.length} = ANY(f.descriptions)))`,
    )
  }
  return c
}

function keysetConditions(page: KeysetPage, key: string, params: unknown[]): string[] {
  const c: string[] = []
  if (page.after != null) c.push(`${key} > $${params.push(page.after)}`)
  if (page.before != null) c.push(`${key} < $${params.push(page.before)}`)
  return c
}

function parentArray(parent: ReleaseParent): string {
  return parent?.kind === 'style' || parent?.kind === 'genre' ? 'text[]' : 'int[]'
}

export class CatalogReadRepository {
  constructor(private readonly db: Queryable) {}

  /** The release with the lowest id, with its first artist credit and first style: what examples can name. */
  async exampleRelease(): Promise<{ id: number; artist: string | null; style: string | null } | null> {
    const { rows } = await this.db.query<{ id: number; artist: string | null; style: string | null }>(
      `SELECT r.id,
         (SELECT ra.name FROM release_artist ra WHERE ra.release_id = r.id ORDER BY ra.ord LIMIT 1) AS artist,
         (SELECT s.style FROM release_style s WHERE s.release_id = r.id ORDER BY s.style LIMIT 1) AS style
       FROM release r ORDER BY r.id LIMIT 1`,
    )
    return rows[0] ?? null
  }

  async artists(ids: readonly number[]): Promise<Row[]> {
    return (await this.db.query(`SELECT ${ARTIST} FROM artist a WHERE a.id = ANY($1::int[])`, [ids])).rows
  }

  async labels(ids: readonly number[]): Promise<Row[]> {
    return (await this.db.query(`SELECT ${LABEL} FROM label l WHERE l.id = ANY($1::int[])`, [ids])).rows
  }

  async masters(ids: readonly number[]): Promise<Row[]> {
    return (await this.db.query(`SELECT ${MASTER} FROM master m WHERE m.id = ANY($1::int[])`, [ids])).rows
  }

  /** Releases by id, with the child lists `lists` names read in the same statement (see listsColumn). */
  async releases(
    ids: readonly number[],
    lists: readonly ChildList[] = [],
  ): Promise<{ rows: Row[]; lists: ChildListMap }> {
    const { rows } = await this.db.query(
      `SELECT ${RELEASE}${listsColumn(lists, 'r.id')} FROM release r WHERE r.id = ANY($1::int[])`,
      [ids],
    )
    return takeLists(rows, lists)
  }

  async tracks(ids: readonly number[]): Promise<Row[]> {
    return (await this.db.query(`SELECT ${TRACK} FROM track t WHERE t.id = ANY($1::int8[])`, [ids])).rows
  }

  /**
   * Rows of child tables for many parents, for several tables in one statement: a release's artists, labels,
   * styles and tracklist asked for in one tick of GraphQL execution cost one round trip. Each parent's rows
   * come in their stated order, keys in camelCase, with the linked artist or label row under `ref` (null when
   * the link is empty or dangling; without the list's `unread` keys).
   * PostgreSQL builds the whole answer as one JSON object of lists per parent, each row a JSON array in the
   * order of the table's columns: Node parses one value with JSON.parse (not a row per child with its own
   * JSON and key mapping: a 50-release page has ≈ 1,500 child rows), and the arrays keep column names out of
   * the text, which halves the tracklist's bytes. `rowOf` turns an array into the row object.
   */
  async childLists(requests: ReadonlyMap<ChildList, readonly number[]>): Promise<ChildListMap> {
    const params: unknown[] = []
    const lists = [...requests.keys()]
    const parts = lists.map((list, i) => {
      const { agg, from, parent } = listSql(list)
      return `SELECT ${i} AS t, ${parent} AS p, ${agg} AS v FROM ${from} WHERE ${parent} = ANY($${params.push(requests.get(list))}::int8[]) GROUP BY ${parent}`
    })
    const out: ChildListMap = new Map()
    if (!parts.length) return out
    const { rows } = await this.db.query<{ lists: Record<string, Record<string, unknown[][]>> | null }>(
      `SELECT json_object_agg(t, v) AS lists FROM (SELECT t, json_object_agg(p, v) AS v FROM (${parts.join(' UNION ALL ')}) x GROUP BY t) y`,
      params,
    )
    for (const [i, byParent] of Object.entries(rows[0].lists ?? {})) {
      const list = lists[Number(i)]
      const rowOf = ROW_OF[list.table]
      out.set(list, new Map(Object.entries(byParent).map(([p, rows]) => [Number(p), rows.map(rowOf)])))
    }
    return out
  }

  /** Labels whose parent is one of `labelIds` (the parent's view of its sublabels, from label records). */
  async sublabels(labelIds: readonly number[]): Promise<Map<number, Row[]>> {
    const { rows } = await this.db.query(
      `SELECT ${LABEL} FROM label l WHERE l.parent_id = ANY($1::int[]) ORDER BY l.parent_id, l.id`,
      [labelIds],
    )
    return groupBy(rows, 'parentId', labelIds)
  }

  /**
   * One keyset page of releases per parent (or of the root list when `parent` is null), filtered, with the
   * child lists `lists` names of every release read in the same statement (see listsColumn).
   */
  async releasePages(
    parent: ReleaseParent,
    parentKeys: readonly (number | string)[],
    filter: ReleaseFilter,
    page: KeysetPage,
    lists: readonly ChildList[] = [],
  ): Promise<{ pages: Map<number | string, Row[]>; lists: ChildListMap }> {
    const params: unknown[] = [parentKeys]
    const where = [...releaseConditions(filter, params, parent), ...keysetConditions(page, 'r.id', params)]
    const sql = `
      SELECT p.parent AS "parentKey", x.*${listsColumn(lists, 'x.id')} FROM unnest($1::${parentArray(parent)}) AS p(parent)
      CROSS JOIN LATERAL (
        SELECT ${RELEASE} FROM release r ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY r.id ${page.backward ? 'DESC' : 'ASC'} LIMIT ${page.limit + 1}
      ) x`
    const taken = takeLists((await this.db.query(sql, params)).rows, lists)
    return { pages: groupBy(taken.rows, 'parentKey', parentKeys), lists: taken.lists }
  }

  async releaseCounts(
    parent: ReleaseParent,
    parentKeys: readonly (number | string)[],
    filter: ReleaseFilter,
  ): Promise<Map<number | string, number>> {
    const params: unknown[] = [parentKeys]
    const where = releaseConditions(filter, params, parent)
    const { rows } = await this.db.query<{ parentKey: number | string; n: number }>(
      `SELECT p.parent AS "parentKey", (SELECT count(*)::int FROM release r ${where.length ? `WHERE ${where.join(' AND ')}` : ''}) AS n
       FROM unnest($1::${parentArray(parent)}) AS p(parent)`,
      params,
    )
    return new Map(rows.map((r) => [r.parentKey, r.n]))
  }

  /** Tracks an artist performs (track artist, or main artist of the release when the track names none). */
  private artistTrackConditions(): string {
    return `(t.id IN (SELECT track_id FROM track_artist WHERE artist_id = p.parent)
      OR (t.release_id IN (SELECT release_id FROM release_artist WHERE artist_id = p.parent)
          AND NOT EXISTS (SELECT 1 FROM track_artist x WHERE x.track_id = t.id)))
      AND t.type = 'track'`
  }

  async artistTrackPages(artistIds: readonly number[], page: KeysetPage): Promise<Map<number, Row[]>> {
    const params: unknown[] = [artistIds]
    const where = [this.artistTrackConditions(), ...keysetConditions(page, 't.id', params)]
    const { rows } = await this.db.query(
      `SELECT p.parent AS "parentKey", x.* FROM unnest($1::int[]) AS p(parent)
       CROSS JOIN LATERAL (SELECT ${TRACK} FROM track t WHERE ${where.join(' AND ')}
         ORDER BY t.id ${page.backward ? 'DESC' : 'ASC'} LIMIT ${page.limit + 1}) x`,
      params,
    )
    return groupBy(rows, 'parentKey', artistIds)
  }

  async artistTrackCounts(artistIds: readonly number[]): Promise<Map<number, number>> {
    const { rows } = await this.db.query<{ parentKey: number; n: number }>(
      `SELECT p.parent AS "parentKey", (SELECT count(*)::int FROM track t WHERE ${this.artistTrackConditions()}) AS n
       FROM unnest($1::int[]) AS p(parent)`,
      [artistIds],
    )
    return new Map(rows.map((r) => [r.parentKey, r.n]))
  }

  /** The playable audio file of each track (status ok), for the API's Track.audio. */
  async audioFiles(trackIds: readonly number[]): Promise<Row[]> {
    const { rows } = await this.db.query(
      `SELECT track_id::float8 AS "trackId", duration_s AS "durationSeconds", format, match_method AS "matchMethod", match_score AS "matchScore"
         FROM audio_file WHERE track_id = ANY($1::int8[]) AND status = 'ok'`,
      [trackIds],
    )
    return rows
  }

  /** Styles or genres with how many releases carry them, alphabetical, keyset on the name's rank. */
  async tags(kind: 'style' | 'genre'): Promise<{ name: string; releases: number }[]> {
    const { rows } = await this.db.query<{ name: string; releases: number }>(
      `SELECT ${kind} AS name, count(*)::int AS releases FROM release_${kind} GROUP BY ${kind} ORDER BY ${kind}`,
    )
    return rows
  }

  async tagCounts(kind: 'style' | 'genre', names: readonly string[]): Promise<Map<string, number>> {
    const { rows } = await this.db.query<{ name: string; n: number }>(
      `SELECT p.name, (SELECT count(*)::int FROM release_${kind} WHERE ${kind} = p.name) AS n FROM unnest($1::text[]) AS p(name)`,
      [names],
    )
    return new Map(rows.map((r) => [r.name, r.n]))
  }
}

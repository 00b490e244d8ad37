import { ARTIST, LABEL, type Row } from './catalog-rows.ts'

/**
 * The catalog's child lists (a release's credits, labels, formats and tracklist; an artist's aliases …):
 * which tables, in which order, joined to which linked row, and the SQL that reads each parent's list as
 * one JSON array of rows as arrays (CatalogReadRepository.childLists, or beside the parents' rows,
 * listsColumn), turned back into row objects by a mapper built once per table (ROW_OF).
 */

/** snake_case → camelCase, for the row keys, computed once per table. */
const camelName = (k: string) => k.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase())

/**
 * Child tables read whole per parent, in their stated order. Whitelist: table names are never user input.
 * `columns` are the table's columns as the migrations define them: rows travel as JSON arrays in this order
 * (see ROW_OF), so a column added to one of these tables reaches the API only once it is listed here.
 * `ref` names the entity a row links to; it is joined in the same statement (as `ref`), so a credit and its
 * artist cost one query, not two waves of queries.
 */
const ARTIST_REF = { column: 'artist_id', select: ARTIST, alias: 'a', table: 'artist' }
const LABEL_REF = (column: string) => ({ column, select: LABEL, alias: 'l', table: 'label' })
const CREDIT = (parent: string) => [
  parent,
  'ord',
  'artist_id',
  'name',
  'anv',
  'join_string',
  'role',
  'tracks',
]
const VIDEO = (parent: string) => [parent, 'ord', 'src', 'duration_s', 'embed', 'title', 'description']
const CHILDREN: Record<
  string,
  {
    parent: string
    order: string
    columns: string[]
    ref?: { column: string; select: string; alias: string; table: string }
  }
> = {
  release_artist: { parent: 'release_id', order: 'ord', columns: CREDIT('release_id'), ref: ARTIST_REF },
  release_credit: { parent: 'release_id', order: 'ord', columns: CREDIT('release_id'), ref: ARTIST_REF },
  release_label: {
    parent: 'release_id',
    order: 'ord',
    columns: ['release_id', 'ord', 'label_id', 'name', 'catno'],
    ref: LABEL_REF('label_id'),
  },
  release_series: {
    parent: 'release_id',
    order: 'ord',
    columns: ['release_id', 'ord', 'series_id', 'name', 'catno'],
    ref: LABEL_REF('series_id'),
  },
  release_format: {
    parent: 'release_id',
    order: 'ord',
    columns: ['release_id', 'ord', 'name', 'qty', 'text', 'descriptions'],
  },
  release_identifier: {
    parent: 'release_id',
    order: 'ord',
    columns: ['release_id', 'ord', 'type', 'description', 'value'],
  },
  release_company: {
    parent: 'release_id',
    order: 'ord',
    columns: ['release_id', 'ord', 'company_id', 'name', 'catno', 'entity_type', 'entity_type_name'],
    ref: LABEL_REF('company_id'),
  },
  release_video: { parent: 'release_id', order: 'ord', columns: VIDEO('release_id') },
  release_genre: { parent: 'release_id', order: 'genre', columns: ['release_id', 'genre'] },
  release_style: { parent: 'release_id', order: 'style', columns: ['release_id', 'style'] },
  master_artist: { parent: 'master_id', order: 'ord', columns: CREDIT('master_id'), ref: ARTIST_REF },
  master_video: { parent: 'master_id', order: 'ord', columns: VIDEO('master_id') },
  master_genre: { parent: 'master_id', order: 'genre', columns: ['master_id', 'genre'] },
  master_style: { parent: 'master_id', order: 'style', columns: ['master_id', 'style'] },
  track_artist: { parent: 'track_id', order: 'ord', columns: CREDIT('track_id'), ref: ARTIST_REF },
  track_credit: { parent: 'track_id', order: 'ord', columns: CREDIT('track_id'), ref: ARTIST_REF },
  artist_alias: {
    parent: 'artist_id',
    order: 'ord',
    columns: ['artist_id', 'ord', 'alias_id', 'alias_name'],
  },
  artist_member: {
    parent: 'group_id',
    order: 'ord',
    columns: ['group_id', 'ord', 'member_id', 'member_name'],
  },
  artist_group: {
    parent: 'artist_id',
    order: 'ord',
    columns: ['artist_id', 'ord', 'group_id', 'group_name'],
  },
  label_sublabel: {
    parent: 'label_id',
    order: 'ord',
    columns: ['label_id', 'ord', 'sublabel_id', 'sublabel_name'],
  },
  // A release's whole tracklist (top level and sub-tracks), in sequence.
  track: {
    parent: 'release_id',
    order: 'sequence',
    columns: [
      'id',
      'release_id',
      'track_key',
      'parent_id',
      'sequence',
      'position',
      'title',
      'duration_text',
      'duration_s',
      'type',
      'missing_since_dump',
    ],
  },
} satisfies Record<string, unknown>

/**
 * Per child table, a function from the row as a JSON array (its columns, then `ref`) to the row object,
 * compiled once: an object literal of constant keys builds each row in one step with a fixed shape, where a
 * loop over column names would add the keys one by one.
 */
export const ROW_OF = Object.fromEntries(
  Object.entries(CHILDREN).map(([table, { columns, ref }]) => {
    const keys = [...columns.map(camelName), ...(ref ? ['ref'] : [])]
    // Keys come from the whitelist above, never from input.
    return [
      table,
      new Function('a', `return { ${keys.map((k, i) => `${k}: a[${i}]`).join(', ')} }`) as (
        a: unknown[],
      ) => Row,
    ]
  }),
) as Record<ChildTable, (a: unknown[]) => Row>

/**
 * A child table's lists as read. `unread` names keys of the linked row (`ref`) that no one will read: they
 * are left out of the JSON (an artist's profile, URLs and name variations are most of a credit's bytes).
 * Interned (see childList): one object per distinct list, `key` naming it.
 */
export interface ChildList {
  readonly table: ChildTable
  readonly unread: readonly string[]
  readonly key: string
}

const INTERNED_LISTS = new Map<string, ChildList>()

export function childList(table: ChildTable, unread: readonly string[] = []): ChildList {
  const key = unread.length ? `${table}-${unread.join(',')}` : table
  let list = INTERNED_LISTS.get(key)
  if (!list) INTERNED_LISTS.set(key, (list = { table, unread, key }))
  return list
}

/**
 * The pieces of SQL that read a list's rows as JSON arrays in ROW_OF's order (`c` is the child table, joined
 * to the entity its `ref` links to): `agg` is one parent's list, `parent` the column that names the parent.
 * Built once per list.
 */
const LIST_SQL = new Map<ChildList, { agg: string; from: string; parent: string }>()

export function listSql(list: ChildList): { agg: string; from: string; parent: string } {
  let sql = LIST_SQL.get(list)
  if (!sql) {
    const { parent, order, columns, ref } = CHILDREN[list.table]
    const values = columns.map((c) => `c.${c}`)
    if (ref)
      values.push(
        `CASE WHEN ${ref.alias}.id IS NULL THEN NULL ELSE json_build_object(${jsonPairs(ref.select, list.unread)}) END`,
      )
    const join = ref ? ` LEFT JOIN ${ref.table} ${ref.alias} ON ${ref.alias}.id = c.${ref.column}` : ''
    LIST_SQL.set(
      list,
      (sql = {
        agg: `json_agg(json_build_array(${values.join(', ')}) ORDER BY c.${order})`,
        from: `${list.table} c${join}`,
        parent: `c.${parent}`,
      }),
    )
  }
  return sql
}

/**
 * A column `lists` holding the given child lists of the parent `parentId` names, as a JSON array with one
 * list of row arrays per ChildList (null for a parent without rows): the rows and their lists come in one
 * statement. Nothing when no list is asked for.
 */
export function listsColumn(lists: readonly ChildList[], parentId: string): string {
  if (!lists.length) return ''
  const values = lists
    .map(listSql)
    .map(({ agg, from, parent }) => `(SELECT ${agg} FROM ${from} WHERE ${parent} = ${parentId})`)
  return `, json_build_array(${values.join(', ')}) AS lists`
}

/** Rows of child lists per list and parent id. */
export type ChildListMap = Map<ChildList, Map<number, Row[]>>

/**
 * Takes the `lists` column (see listsColumn) off each row into a ChildListMap, with an entry for every
 * list and row, empty lists included, so nothing asks for them again.
 */
export function takeLists(rows: Row[], lists: readonly ChildList[]): { rows: Row[]; lists: ChildListMap } {
  const out: ChildListMap = new Map(lists.map((list) => [list, new Map()]))
  if (!lists.length) return { rows, lists: out }
  const taken = rows.map(({ lists: values, ...row }) => {
    lists.forEach((list, i) =>
      out
        .get(list)!
        .set(Number(row.id), ((values as (unknown[][] | null)[])[i] ?? []).map(ROW_OF[list.table])),
    )
    return row
  })
  return { rows: taken, lists: out }
}

export type ChildTable =
  | 'release_artist'
  | 'release_credit'
  | 'release_label'
  | 'release_series'
  | 'release_format'
  | 'release_identifier'
  | 'release_company'
  | 'release_video'
  | 'release_genre'
  | 'release_style'
  | 'master_artist'
  | 'master_video'
  | 'master_genre'
  | 'master_style'
  | 'track_artist'
  | 'track_credit'
  | 'artist_alias'
  | 'artist_member'
  | 'artist_group'
  | 'label_sublabel'
  | 'track'

/**
 * `a.x, a.y AS "z"` → `'x', a.x, 'z', a.y` for json_build_object, so embedded rows match the entity rows;
 * without the keys named in `unread`.
 */
function jsonPairs(select: string, unread: readonly string[]): string {
  return select
    .split(',')
    .map((part) => {
      const m = /^\s*(\w+\.\w+)(?:\s+AS\s+"(\w+)")?\s*$/.exec(part)
      if (!m) throw new Error(`unexpected select item: ${part}`)
      return [m[2] ?? m[1].split('.')[1], m[1]]
    })
    .filter(([key]) => !unread.includes(key))
    .map(([key, column]) => `'${key}', ${column}`)
    .join(', ')
}

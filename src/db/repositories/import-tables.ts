import { searchView } from '../trigram-bands.ts'
import { STAGE_TABLES, type DumpKind, type StageTable } from './catalog-staging.ts'

/**
 * Which catalog tables an import of each dump type writes, and from which staging tables: pure data, read by
 * the batch writer (which merges into them), the deferred indexes (which drop and rebuild theirs) and the
 * search maintenance (which rebuilds the views over the searchable ones).
 */

export interface ChildTable {
  table: string
  stage: StageTable
  /** the column holding the owning record's id */
  owner: string
}

export interface DumpTables {
  core: string
  stage: StageTable
  children: ChildTable[]
}

const child = (table: string, owner: string): ChildTable => ({
  table,
  stage: `stage_${table}` as StageTable,
  owner,
})

export const DUMP_TABLES: Record<DumpKind, DumpTables> = {
  artists: {
    core: 'artist',
    stage: 'stage_artist',
    children: [
      child('artist_alias', 'artist_id'),
      child('artist_member', 'group_id'),
      child('artist_group', 'artist_id'),
    ],
  },
  labels: { core: 'label', stage: 'stage_label', children: [child('label_sublabel', 'label_id')] },
  masters: {
    core: 'master',
    stage: 'stage_master',
    children: [
      child('master_artist', 'master_id'),
      child('master_genre', 'master_id'),
      child('master_style', 'master_id'),
      child('master_video', 'master_id'),
    ],
  },
  releases: {
    core: 'release',
    stage: 'stage_release',
    children: [
      child('release_artist', 'release_id'),
      child('release_credit', 'release_id'),
      child('release_label', 'release_id'),
      child('release_series', 'release_id'),
      child('release_format', 'release_id'),
      child('release_identifier', 'release_id'),
      child('release_company', 'release_id'),
      child('release_video', 'release_id'),
      child('release_genre', 'release_id'),
      child('release_style', 'release_id'),
    ],
  },
}

/** A staging table's columns, in COPY order. */
export const stageColumns = (t: StageTable): string[] => STAGE_TABLES[t].map(([n]) => n)

/** The searchable tables an import of the type writes: its core table, and for releases the tracks. */
export function searchedTablesOf(type: DumpKind): string[] {
  return type === 'releases' ? [DUMP_TABLES[type].core, 'track'] : [DUMP_TABLES[type].core]
}

/** Tables written by an import of one dump type (core, children, and for releases the tracks), and their search views. */
export function writtenTablesOf(type: DumpKind): string[] {
  const k = DUMP_TABLES[type]
  const t = [k.core, ...k.children.map((c) => c.table)]
  return [
    ...(type === 'releases' ? [...t, 'track', 'track_artist', 'track_credit'] : t),
    ...searchedTablesOf(type).map(searchView),
  ]
}

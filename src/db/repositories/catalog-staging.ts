/**
 * Layout of the Discogs import's staging tables (migration 1764100000000): table → columns in COPY order.
 * Pure data, shared by the row encoder (which writes rows in this order, in the parse worker) and by the
 * catalog writer (which loads and merges them), so the two cannot drift apart.
 */

export type StageColumnType = 'integer' | 'bigint' | 'smallint' | 'text' | 'text[]' | 'boolean' | 'bytea'

/**
 * Digits of a staged track number in COPY text: fixed, so that the writer can overwrite a number with a
 * track id in place (ids of a reserved range; PostgreSQL reads leading zeros).
 */
export const TRACK_NUMBER_DIGITS = 15

/**
 * Digits of a trigram count placeholder in COPY text, which the writer fills in with the database's count
 * (smallint: at most 32767; trigramCount and the database's count are capped there).
 */
export const TRIGRAM_COUNT_DIGITS = 5

export type DumpKind = 'artists' | 'labels' | 'masters' | 'releases'

const credit: [string, StageColumnType][] = [
  ['ord', 'smallint'],
  ['artist_id', 'integer'],
  ['name', 'text'],
  ['anv', 'text'],
  ['join_string', 'text'],
  ['role', 'text'],
  ['tracks', 'text'],
]

/**
 * Core rows carry the dump they come from: loaded straight into the catalog (new records) they are the
 * row as stored; the merge reads them from staging but applies its own rules (migration 1764100000003).
 */
const seen: [string, StageColumnType][] = [
  ['first_seen_dump', 'text'],
  ['last_seen_dump', 'text'],
  ['missing_since_dump', 'text'],
]

/**
 * The searchable texts' trigram counts (src/db/trigram-bands.ts) end their rows, after the content: the
 * encoder writes them (null where the database must count), and they are not part of the content hash.
 */
export const STAGE_TABLES = {
  stage_artist: [
    ['id', 'integer'],
    ['name', 'text'],
    ['real_name', 'text'],
    ['profile', 'text'],
    ['data_quality', 'text'],
    ['urls', 'text[]'],
    ['name_variations', 'text[]'],
    ['content_hash', 'bytea'],
    ...seen,
    ['name_trigrams', 'smallint'],
  ],
  stage_artist_alias: [
    ['artist_id', 'integer'],
    ['ord', 'smallint'],
    ['alias_id', 'integer'],
    ['alias_name', 'text'],
  ],
  stage_artist_member: [
    ['group_id', 'integer'],
    ['ord', 'smallint'],
    ['member_id', 'integer'],
    ['member_name', 'text'],
  ],
  stage_artist_group: [
    ['artist_id', 'integer'],
    ['ord', 'smallint'],
    ['group_id', 'integer'],
    ['group_name', 'text'],
  ],
  stage_label: [
    ['id', 'integer'],
    ['name', 'text'],
    ['contact_info', 'text'],
    ['profile', 'text'],
    ['data_quality', 'text'],
    ['urls', 'text[]'],
    ['parent_id', 'integer'],
    ['parent_name', 'text'],
    ['content_hash', 'bytea'],
    ...seen,
    ['name_trigrams', 'smallint'],
  ],
  stage_label_sublabel: [
    ['label_id', 'integer'],
    ['ord', 'smallint'],
    ['sublabel_id', 'integer'],
    ['sublabel_name', 'text'],
  ],
  stage_master: [
    ['id', 'integer'],
    ['title', 'text'],
    ['main_release_id', 'integer'],
    ['year', 'smallint'],
    ['notes', 'text'],
    ['data_quality', 'text'],
    ['content_hash', 'bytea'],
    ...seen,
    ['title_trigrams', 'smallint'],
  ],
  stage_master_artist: [['master_id', 'integer'], ...credit],
  stage_master_genre: [
    ['master_id', 'integer'],
    ['genre', 'text'],
  ],
  stage_master_style: [
    ['master_id', 'integer'],
    ['style', 'text'],
  ],
  stage_master_video: [
    ['master_id', 'integer'],
    ['ord', 'smallint'],
    ['src', 'text'],
    ['duration_s', 'integer'],
    ['embed', 'boolean'],
    ['title', 'text'],
    ['description', 'text'],
  ],
  stage_release: [
    ['id', 'integer'],
    ['title', 'text'],
    ['status', 'text'],
    ['country', 'text'],
    ['released', 'text'],
    ['year', 'smallint'],
    ['notes', 'text'],
    ['data_quality', 'text'],
    ['master_id', 'integer'],
    ['is_main_release', 'boolean'],
    ['content_hash', 'bytea'],
    ...seen,
    ['title_trigrams', 'smallint'],
  ],
  stage_release_artist: [['release_id', 'integer'], ...credit],
  stage_release_credit: [['release_id', 'integer'], ...credit],
  stage_release_label: [
    ['release_id', 'integer'],
    ['ord', 'smallint'],
    ['label_id', 'integer'],
    ['name', 'text'],
    ['catno', 'text'],
  ],
  stage_release_series: [
    ['release_id', 'integer'],
    ['ord', 'smallint'],
    ['series_id', 'integer'],
    ['name', 'text'],
    ['catno', 'text'],
  ],
  stage_release_format: [
    ['release_id', 'integer'],
    ['ord', 'smallint'],
    ['name', 'text'],
    ['qty', 'text'],
    ['text', 'text'],
    ['descriptions', 'text[]'],
  ],
  stage_release_identifier: [
    ['release_id', 'integer'],
    ['ord', 'smallint'],
    ['type', 'text'],
    ['description', 'text'],
    ['value', 'text'],
  ],
  stage_release_company: [
    ['release_id', 'integer'],
    ['ord', 'smallint'],
    ['company_id', 'integer'],
    ['name', 'text'],
    ['catno', 'text'],
    ['entity_type', 'text'],
    ['entity_type_name', 'text'],
  ],
  stage_release_video: [
    ['release_id', 'integer'],
    ['ord', 'smallint'],
    ['src', 'text'],
    ['duration_s', 'integer'],
    ['embed', 'boolean'],
    ['title', 'text'],
    ['description', 'text'],
  ],
  stage_release_genre: [
    ['release_id', 'integer'],
    ['genre', 'text'],
  ],
  stage_release_style: [
    ['release_id', 'integer'],
    ['style', 'text'],
  ],
  // Tracks carry a batch-relative number (1…n in batch order) instead of an id: the direct load turns it
  // into an id from a reserved range, the merge resolves it to (release_id, track_key) (migrations
  // 1764100000002, …03). The parent is the number of its index track in the same batch.
  stage_track: [
    ['track_no', 'bigint'],
    ['parent_no', 'bigint'],
    ['release_id', 'integer'],
    ['track_key', 'text'],
    ['sequence', 'integer'],
    ['position', 'text'],
    ['title', 'text'],
    ['duration_text', 'text'],
    ['duration_s', 'integer'],
    ['type', 'text'],
    ['title_trigrams', 'smallint'],
  ],
  stage_track_artist: [['track_no', 'bigint'], ...credit],
  stage_track_credit: [['track_no', 'bigint'], ...credit],
} satisfies Record<string, [string, StageColumnType][]>

export type StageTable = keyof typeof STAGE_TABLES

/** The staging tables each dump type fills, core table first. */
export const STAGE_TABLES_BY_KIND: Record<DumpKind, StageTable[]> = {
  artists: ['stage_artist', 'stage_artist_alias', 'stage_artist_member', 'stage_artist_group'],
  labels: ['stage_label', 'stage_label_sublabel'],
  masters: [
    'stage_master',
    'stage_master_artist',
    'stage_master_genre',
    'stage_master_style',
    'stage_master_video',
  ],
  releases: [
    'stage_release',
    'stage_release_artist',
    'stage_release_credit',
    'stage_release_label',
    'stage_release_series',
    'stage_release_format',
    'stage_release_identifier',
    'stage_release_company',
    'stage_release_video',
    'stage_release_genre',
    'stage_release_style',
    'stage_track',
    'stage_track_artist',
    'stage_track_credit',
  ],
}

import type { Queryable } from '../sql.ts'
import { scoreSql } from './catalog-read.repository.ts'

/**
 * All SQL of the library: the catalog's tracks that have audio (an `ok` audio_file linked to them), the
 * releases holding them (albums) and the artists of those (the release's main artists, and on compilations
 * the tracks' own). What the Subsonic API browses, lists, searches and streams.
 */

/** One artist credit as the catalog stores it (Discogs name, with its "(2)" disambiguation). */
export interface CreditRef {
  id: number | null
  name: string
  join: string | null
}

export interface LibrarySongRow {
  id: number
  title: string | null
  /** the Discogs position ("A1", "2-05", "3") */
  position: string | null
  /** 1-based place among the release's tracks (headings and index tracks not counted) */
  ordinal: number
  albumId: number
  album: string
  year: number | null
  /** the track's own artists (compilations), else null */
  trackArtists: CreditRef[] | null
  releaseArtists: CreditRef[] | null
  style: string | null
  genre: string | null
  path: string
  size: number
  fileDuration: number | null
  trackDuration: number | null
  channels: number | null
  sampleRate: number | null
  created: Date
}

export interface LibraryAlbumRow {
  id: number
  title: string
  year: number | null
  releaseArtists: CreditRef[] | null
  style: string | null
  genre: string | null
  /** tracks of the release in the library */
  songs: number
  /** their seconds */
  duration: number
  /** when its first file was linked */
  created: Date
}

export interface LibraryArtistRow {
  id: number
  name: string
  /** library albums where the artist is a main artist or a track artist */
  albums: number
}

export interface TagCount {
  name: string
  songs: number
  albums: number
}

export type AlbumOrder =
  'random' | 'newest' | 'alphabeticalByName' | 'alphabeticalByArtist' | 'byYear' | 'recent' | 'frequent'

export interface AlbumListQuery {
  order: AlbumOrder
  size: number
  offset: number
  /** byYear: from ≤ to ascending, from > to descending */
  fromYear?: number
  toYear?: number
  /** a style or genre the release carries */
  genre?: string
  /** recent, frequent: whose plays */
  ownerKeyId?: number
}

export interface SongFilter {
  genre?: string
  fromYear?: number
  toYear?: number
}

export interface SearchPage {
  /** the query, for the score */
  query: string
  /**
   * per query word, a regular expression its row's lower-cased text must match (none: every row), e.g.
   * `\mlov` (a word beginning so) or `\m(?:persuadr|persuader\M)` (it, or a word like it)
   */
  patterns: string[]
  count: number
  offset: number
}

const credits = (table: 'track_artist' | 'release_artist', key: string, value: string) =>
  `(SELECT json_agg(json_build_object('id', c.artist_id, 'name', c.name, 'join', c.join_string) ORDER BY c.ord) FROM ${table} c WHERE c.${key} = ${value})`

/** The library's songs: FROM audio_file af, track t, release r, with the columns of LibrarySongRow. */
const SONG_SELECT = `
  SELECT t.id::float8 AS id, t.title, t.position,
         (SELECT count(*)::int FROM track x WHERE x.release_id = t.release_id AND x.type = 'track' AND x.sequence <= t.sequence) AS ordinal,
         r.id AS "albumId", r.title AS album, r.year,
         ${credits('track_artist', 'track_id', 't.id')} AS "trackArtists",
         ${credits('release_artist', 'release_id', 'r.id')} AS "releaseArtists",
         (SELECT min(s.style) FROM release_style s WHERE s.release_id = r.id) AS style,
         (SELECT min(g.genre) FROM release_genre g WHERE g.release_id = r.id) AS genre,
         af.path, af.size::float8 AS size, af.duration_s AS "fileDuration", t.duration_s AS "trackDuration",
         af.channels, af.source_sample_rate AS "sampleRate", af.created_at AS created
    FROM audio_file af JOIN track t ON t.id = af.track_id JOIN release r ON r.id = t.release_id
   WHERE af.status = 'ok'`

/** Per release in the library: its songs, their seconds, its first file's date. `where` narrows the tracks. */
const libraryReleases = (where = 'true') => `
  SELECT t.release_id, count(*)::int AS songs, coalesce(sum(round(coalesce(af.duration_s, t.duration_s))), 0)::int AS duration,
         min(af.created_at) AS created
    FROM audio_file af JOIN track t ON t.id = af.track_id
   WHERE af.status = 'ok' AND ${where}
   GROUP BY t.release_id`

const ALBUM_COLUMNS = `r.id, r.title, r.year, ${credits('release_artist', 'release_id', 'r.id')} AS "releaseArtists",
         (SELECT min(s.style) FROM release_style s WHERE s.release_id = r.id) AS style,
         (SELECT min(g.genre) FROM release_genre g WHERE g.release_id = r.id) AS genre,
         lib.songs, lib.duration, lib.created`

/** (artist_id, release_id): who an album belongs to, for browsing by artist. */
const ALBUM_ARTISTS = `
  SELECT ra.artist_id, ra.release_id
    FROM (SELECT DISTINCT t.release_id FROM audio_file af JOIN track t ON t.id = af.track_id WHERE af.status = 'ok') lr
    JOIN release_artist ra ON ra.release_id = lr.release_id
   WHERE ra.artist_id IS NOT NULL
  UNION
  SELECT ta.artist_id, t.release_id FROM audio_file af JOIN track t ON t.id = af.track_id JOIN track_artist ta ON ta.track_id = t.id
   WHERE af.status = 'ok' AND ta.artist_id IS NOT NULL`

/** The release carries this style or genre ($n). */
const hasTag = (release: string, param: string) =>
  `(EXISTS (SELECT 1 FROM release_style s WHERE s.release_id = ${release} AND s.style = ${param}) OR EXISTS (SELECT 1 FROM release_genre g WHERE g.release_id = ${release} AND g.genre = ${param}))`

/**
 * The names of the main artists of the releases in `lib` (a CTE with release_id), one row per release, for
 * matching songs and albums by artist: grouped and hash-joined, where a subquery per row looked them up
 * one by one (search3 "love", 20,000 library songs: see docs/BENCHMARKS.md).
 */
const releaseArtistNames = `SELECT c.release_id, string_agg(c.name, ' ' ORDER BY c.ord) AS names FROM release_artist c
   WHERE c.release_id IN (SELECT release_id FROM lib) GROUP BY c.release_id`

/** The text matches every pattern ($4…); $1 (the query) is named so that PostgreSQL knows its type. */
const matches = (text: string, p: SearchPage) =>
  ['$1::text IS NOT NULL', ...p.patterns.map((_, i) => `${text} ~ $${i + 4}`)].join(' AND ')

/** Best score against the query first, when there is one. */
const ranked = (text: string, p: SearchPage) => (p.patterns.length ? `${scoreSql(text)} DESC,` : '')

const searchValues = (p: SearchPage) => [p.query, p.count, p.offset, ...p.patterns]

export class LibraryRepository {
  constructor(private readonly db: Queryable) {}

  /** The songs of these track ids that are in the library (any order; the caller orders). */
  async songs(trackIds: readonly number[]): Promise<LibrarySongRow[]> {
    if (!trackIds.length) return []
    const { rows } = await this.db.query<LibrarySongRow>(`${SONG_SELECT} AND t.id = ANY($1::int8[])`, [
      trackIds,
    ])
    return rows
  }

  /** Which of these track ids are in the library. */
  async inLibrary(trackIds: readonly number[]): Promise<Set<number>> {
    if (!trackIds.length) return new Set()
    const { rows } = await this.db.query<{ id: number }>(
      `SELECT track_id::float8 AS id FROM audio_file WHERE status = 'ok' AND track_id = ANY($1::int8[])`,
      [trackIds],
    )
    return new Set(rows.map((r) => r.id))
  }

  /** An album's songs, in the release's order. */
  async albumSongs(releaseId: number): Promise<LibrarySongRow[]> {
    const { rows } = await this.db.query<LibrarySongRow>(
      `${SONG_SELECT} AND t.release_id = $1 ORDER BY t.sequence`,
      [releaseId],
    )
    return rows
  }

  /** An artist's songs (main artist of the release, or the track's own artist), by release year and order. */
  async artistSongs(artistId: number, limit: number): Promise<LibrarySongRow[]> {
    const { rows } = await this.db.query<LibrarySongRow>(
      `${SONG_SELECT} AND (EXISTS (SELECT 1 FROM track_artist ta WHERE ta.track_id = t.id AND ta.artist_id = $1)
                       OR EXISTS (SELECT 1 FROM release_artist ra WHERE ra.release_id = r.id AND ra.artist_id = $1))
       ORDER BY (SELECT count(*) FROM play p WHERE p.track_id = t.id) DESC, r.year NULLS LAST, r.id, t.sequence LIMIT $2`,
      [artistId, limit],
    )
    return rows
  }

  async randomSongs(size: number, filter: SongFilter): Promise<LibrarySongRow[]> {
    const { rows } = await this.db.query<LibrarySongRow>(
      `${SONG_SELECT} AND ($2::text IS NULL OR ${hasTag('r.id', '$2')}) AND ($3::int IS NULL OR r.year >= $3) AND ($4::int IS NULL OR r.year <= $4)
       ORDER BY random() LIMIT $1`,
      [size, filter.genre ?? null, filter.fromYear ?? null, filter.toYear ?? null],
    )
    return rows
  }

  async songsByGenre(genre: string, count: number, offset: number): Promise<LibrarySongRow[]> {
    const { rows } = await this.db.query<LibrarySongRow>(
      `${SONG_SELECT} AND ${hasTag('r.id', '$1')} ORDER BY r.id, t.sequence LIMIT $2 OFFSET $3`,
      [genre, count, offset],
    )
    return rows
  }

  async albums(releaseIds: readonly number[]): Promise<LibraryAlbumRow[]> {
    if (!releaseIds.length) return []
    const { rows } = await this.db.query<LibraryAlbumRow>(
      `SELECT ${ALBUM_COLUMNS} FROM (${libraryReleases('t.release_id = ANY($1::int[])')}) lib JOIN release r ON r.id = lib.release_id`,
      [releaseIds],
    )
    return rows
  }

  /** One page of a list of library albums, as ids in order (computing their columns for every album before the sort cost 4× the page's). */
  async albumList(q: AlbumListQuery): Promise<number[]> {
    const firstArtist = `(SELECT lower(ra.name) FROM release_artist ra WHERE ra.release_id = r.id ORDER BY ra.ord LIMIT 1)`
    const plays = `(SELECT %s FROM play p JOIN track pt ON pt.id = p.track_id WHERE pt.release_id = r.id AND p.owner_key_id = $6 AND p.submission)`
    const order: Record<AlbumOrder, string> = {
      random: 'random()',
      newest: 'lib.created DESC, r.id DESC',
      alphabeticalByName: 'lower(r.title), r.id',
      alphabeticalByArtist: `${firstArtist}, lower(r.title), r.id`,
      byYear: `CASE WHEN $4::int > $5::int THEN -r.year ELSE r.year END NULLS LAST, r.id`,
      recent: `${plays.replace('%s', 'max(p.played_at)')} DESC NULLS LAST, r.id`,
      frequent: `${plays.replace('%s', 'count(*)')} DESC, r.id`,
    }
    const byPlays = q.order === 'recent' || q.order === 'frequent'
    const played = byPlays ? `AND EXISTS ${plays.replace('%s', '1')}` : ''
    const { rows } = await this.db.query<{ id: number }>(
      `SELECT r.id FROM (${libraryReleases()}) lib JOIN release r ON r.id = lib.release_id
        WHERE ($3::text IS NULL OR ${hasTag('r.id', '$3')})
          AND ($4::int IS NULL OR r.year BETWEEN least($4::int, $5::int) AND greatest($4::int, $5::int)) ${played}
        ORDER BY ${order[q.order]} LIMIT $1 OFFSET $2`,
      [
        q.size,
        q.offset,
        q.genre ?? null,
        q.fromYear ?? null,
        q.toYear ?? null,
        ...(byPlays ? [q.ownerKeyId ?? null] : []),
      ],
    )
    return rows.map((r) => r.id)
  }

  /** Every artist with an album in the library, with how many. */
  async artists(ids?: readonly number[]): Promise<LibraryArtistRow[]> {
    const { rows } = await this.db.query<LibraryArtistRow>(
      `SELECT aa.artist_id AS id, coalesce(a.name, (SELECT min(x.name) FROM release_artist x WHERE x.artist_id = aa.artist_id)) AS name,
              count(DISTINCT aa.release_id)::int AS albums
         FROM (${ALBUM_ARTISTS}) aa LEFT JOIN artist a ON a.id = aa.artist_id
        WHERE $1::int[] IS NULL OR aa.artist_id = ANY($1::int[])
        GROUP BY aa.artist_id, a.name`,
      [ids ?? null],
    )
    return rows
  }

  /** The library albums an artist has (as a main artist, or with a track of their own on it). */
  async artistAlbums(artistId: number): Promise<LibraryAlbumRow[]> {
    const { rows } = await this.db.query<LibraryAlbumRow>(
      `SELECT ${ALBUM_COLUMNS}
         FROM (${libraryReleases(`t.release_id IN (SELECT release_id FROM release_artist WHERE artist_id = $1
                                                   UNION SELECT tt.release_id FROM track_artist ta JOIN track tt ON tt.id = ta.track_id WHERE ta.artist_id = $1)`)}) lib
         JOIN release r ON r.id = lib.release_id
        ORDER BY r.year NULLS LAST, lower(r.title), r.id`,
      [artistId],
    )
    return rows
  }

  /** The catalog's artist profile (Discogs' biography text), or null. */
  async artistProfile(artistId: number): Promise<string | null> {
    const { rows } = await this.db.query<{ profile: string | null }>(
      `SELECT profile FROM artist WHERE id = $1`,
      [artistId],
    )
    return rows[0]?.profile ?? null
  }

  async releaseNotes(releaseId: number): Promise<string | null> {
    const { rows } = await this.db.query<{ notes: string | null }>(
      `SELECT notes FROM release WHERE id = $1`,
      [releaseId],
    )
    return rows[0]?.notes ?? null
  }

  /** The artist ids named so (the catalog's name, or a credit's), that have albums in the library. */
  async artistIdsNamed(name: string): Promise<number[]> {
    const { rows } = await this.db.query<{ id: number }>(
      `SELECT DISTINCT aa.artist_id AS id FROM (${ALBUM_ARTISTS}) aa LEFT JOIN artist a ON a.id = aa.artist_id
        WHERE lower(a.name) = lower($1) OR lower(regexp_replace(a.name, ' \\(\\d+\\)$', '')) = lower($1)
           OR EXISTS (SELECT 1 FROM release_artist ra WHERE ra.artist_id = aa.artist_id AND lower(ra.name) = lower($1))
        ORDER BY 1`,
      [name],
    )
    return rows.map((r) => r.id)
  }

  /** Styles and genres of the library's releases, with how many library songs and albums carry each. */
  async tags(): Promise<TagCount[]> {
    const { rows } = await this.db.query<TagCount>(
      `WITH lib AS (${libraryReleases()}),
            tag AS (SELECT s.style AS name, s.release_id FROM release_style s UNION SELECT g.genre, g.release_id FROM release_genre g)
       SELECT tag.name, sum(lib.songs)::int AS songs, count(*)::int AS albums
         FROM tag JOIN lib ON lib.release_id = tag.release_id GROUP BY tag.name ORDER BY tag.name`,
    )
    return rows
  }

  /** The audio file of a library track. */
  async audioFile(trackId: number): Promise<{ path: string; format: string | null } | null> {
    const { rows } = await this.db.query<{ path: string; format: string | null }>(
      `SELECT path, format FROM audio_file WHERE track_id = $1 AND status = 'ok'`,
      [trackId],
    )
    return rows[0] ?? null
  }

  /** The library's track ids of a release, in order. */
  async albumTrackIds(releaseId: number, limit: number): Promise<number[]> {
    const { rows } = await this.db.query<{ id: number }>(
      `SELECT t.id::float8 AS id FROM audio_file af JOIN track t ON t.id = af.track_id WHERE af.status = 'ok' AND t.release_id = $1 ORDER BY t.sequence LIMIT $2`,
      [releaseId, limit],
    )
    return rows.map((r) => r.id)
  }

  /** When the library last changed (a file linked or re-read), for clients' caches. */
  async lastModified(): Promise<Date | null> {
    const { rows } = await this.db.query<{ at: Date | null }>(
      `SELECT max(updated_at) AS at FROM audio_file WHERE status = 'ok'`,
    )
    return rows[0]?.at ?? null
  }

  /**
   * Search within the library, ranked as the catalog's search ranks (scoreSql: trigram and word similarity
   * against the query), one page of ids best first. A row is a candidate when its lower-cased text matches
   * every one of `patterns` (regular expressions, one per query word: SearchPage); songs and albums are
   * matched on their title with their artists' names (and a song with its album's title), and ranked by their
   * own title first. No patterns lists every row by name, as clients that copy the whole library through
   * search3 ask. Texts are made for library rows only (a materialized CTE): made for every track of the
   * catalog and then joined, "love" took 1.8 s with 5,000 tracks in the library out of 19,000.
   */
  async searchArtists(p: SearchPage): Promise<number[]> {
    const { rows } = await this.db.query<{ id: number }>(
      `WITH lib AS MATERIALIZED (SELECT DISTINCT artist_id FROM (${ALBUM_ARTISTS}) aa),
            named AS (SELECT lib.artist_id AS id, coalesce(a.name, (SELECT min(x.name) FROM release_artist x WHERE x.artist_id = lib.artist_id)) AS name
                        FROM lib LEFT JOIN artist a ON a.id = lib.artist_id)
       SELECT id FROM named WHERE ${matches('lower(name)', p)}
        ORDER BY ${ranked('name', p)} lower(name), id LIMIT $2 OFFSET $3`,
      searchValues(p),
    )
    return rows.map((r) => r.id)
  }

  async searchAlbums(p: SearchPage): Promise<number[]> {
    const { rows } = await this.db.query<{ id: number }>(
      `WITH lib AS MATERIALIZED (SELECT DISTINCT t.release_id FROM audio_file af JOIN track t ON t.id = af.track_id WHERE af.status = 'ok'),
            ra AS (${releaseArtistNames}),
            texts AS (SELECT r.id, r.title, concat_ws(' ', r.title, ra.names) AS text
                        FROM lib JOIN release r ON r.id = lib.release_id LEFT JOIN ra ON ra.release_id = lib.release_id)
       SELECT id FROM texts WHERE ${matches('lower(text)', p)}
        ORDER BY ${ranked('title', p)} ${p.patterns.length ? `${scoreSql('text')} DESC,` : ''} lower(title), id LIMIT $2 OFFSET $3`,
      searchValues(p),
    )
    return rows.map((r) => r.id)
  }

  async searchSongs(p: SearchPage): Promise<number[]> {
    const { rows } = await this.db.query<{ id: number }>(
      `WITH lib AS MATERIALIZED (SELECT t.id, t.title, t.release_id FROM audio_file af JOIN track t ON t.id = af.track_id WHERE af.status = 'ok'),
            ta AS (SELECT c.track_id, string_agg(c.name, ' ' ORDER BY c.ord) AS names FROM track_artist c JOIN lib ON lib.id = c.track_id GROUP BY c.track_id),
            ra AS (${releaseArtistNames}),
            texts AS (SELECT lib.id, lib.title, concat_ws(' ', lib.title, r.title, ta.names, ra.names) AS text
                        FROM lib JOIN release r ON r.id = lib.release_id LEFT JOIN ta ON ta.track_id = lib.id LEFT JOIN ra ON ra.release_id = lib.release_id)
       SELECT id::float8 AS id FROM texts WHERE ${matches('lower(text)', p)}
        ORDER BY ${ranked('title', p)} ${p.patterns.length ? `${scoreSql('text')} DESC,` : ''} lower(title), id LIMIT $2 OFFSET $3`,
      searchValues(p),
    )
    return rows.map((r) => r.id)
  }

  /** How many tracks the library holds. */
  async size(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audio_file WHERE status = 'ok' AND track_id IS NOT NULL`,
    )
    return rows[0].n
  }
}

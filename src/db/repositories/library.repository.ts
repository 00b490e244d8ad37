import type pg from 'pg'
import type { Queryable } from '../sql.ts'
import { scoreSql } from './search.repository.ts'

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

export interface LibraryCounts {
  releases: number
  artists: number
  tracks: number
  tracksWithAudio: number
  /** false when a count is the planner's estimate (a table of a million rows or more) */
  exact: boolean
}

/** Tables at least this large are counted from pg_class's estimate: an exact count(*) of a full dump's 100M tracks takes tens of seconds. */
const ESTIMATE_FROM = 1_000_000

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

/** An artist's name as credits spell it, for an artist the catalog lacks (a partial dump): never null. */
const creditedName = (artistId: string) =>
  `coalesce((SELECT min(x.name) FROM release_artist x WHERE x.artist_id = ${artistId}), (SELECT min(y.name) FROM track_artist y WHERE y.artist_id = ${artistId}), '')`

/**
 * The search texts of the library (library_search's rows): artists by name; albums by title with their
 * main artists; songs by title with their album's title and their own and the release's artists. Artist
 * names are grouped once per release and track and hash-joined (a lookup per row cost as much again).
 */
const SEARCH_TEXTS = `
  WITH lib AS MATERIALIZED (SELECT t.id, t.title, t.release_id FROM audio_file af JOIN track t ON t.id = af.track_id WHERE af.status = 'ok'),
       ta AS (SELECT c.track_id, string_agg(c.name, ' ' ORDER BY c.ord) AS names FROM track_artist c JOIN lib ON lib.id = c.track_id GROUP BY c.track_id),
       ra AS (SELECT c.release_id, string_agg(c.name, ' ' ORDER BY c.ord) AS names FROM release_artist c
               WHERE c.release_id IN (SELECT release_id FROM lib) GROUP BY c.release_id),
       artists AS (SELECT DISTINCT artist_id FROM (
                     SELECT ra.artist_id FROM release_artist ra WHERE ra.release_id IN (SELECT release_id FROM lib) AND ra.artist_id IS NOT NULL
                     UNION SELECT ta.artist_id FROM track_artist ta JOIN lib ON lib.id = ta.track_id WHERE ta.artist_id IS NOT NULL) x)
  SELECT 'song'::text AS kind, lib.id, coalesce(lib.title, '') AS title, lower(concat_ws(' ', lib.title, r.title, ta.names, ra.names)) AS text
    FROM lib JOIN release r ON r.id = lib.release_id LEFT JOIN ta ON ta.track_id = lib.id LEFT JOIN ra ON ra.release_id = lib.release_id
  UNION ALL
  SELECT 'album', r.id, r.title, lower(concat_ws(' ', r.title, ra.names))
    FROM (SELECT DISTINCT release_id FROM lib) l JOIN release r ON r.id = l.release_id LEFT JOIN ra ON ra.release_id = r.id
  UNION ALL
  SELECT 'artist', artists.artist_id, n.name, lower(n.name)
    FROM artists CROSS JOIN LATERAL (SELECT coalesce((SELECT a.name FROM artist a WHERE a.id = artists.artist_id),
                                                     ${creditedName('artists.artist_id')}) AS name) n`

export class LibraryRepository {
  private readonly db: Queryable

  constructor(private readonly pool: pg.Pool) {
    this.db = pool
  }

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
      `SELECT aa.artist_id AS id, coalesce(a.name, ${creditedName('aa.artist_id')}) AS name,
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
   * What the library is made of, cheaply: its linked files' count, last change and track ids' sum. When it
   * differs from what `library_search` was made from, syncSearch makes the texts again.
   */
  async signature(): Promise<string> {
    const { rows } = await this.db.query<{ s: string }>(
      `SELECT count(*) || ':' || coalesce(max(updated_at)::text, '') || ':' || coalesce(sum(track_id), 0) AS s
         FROM audio_file WHERE status = 'ok' AND track_id IS NOT NULL`,
    )
    return rows[0].s
  }

  /** The signature `library_search` was made from, null before it was ever made. */
  async searchSignature(): Promise<string | null> {
    const { rows } = await this.db.query<{ signature: string }>(`SELECT signature FROM library_search_state`)
    return rows[0]?.signature ?? null
  }

  /**
   * Makes `library_search` match the library, unless it was made from `signature` already: the texts of
   * every library artist, album and song, compared with the table's, changed rows written and gone ones
   * deleted, in one transaction under an advisory lock (two servers syncing at once take turns; the second
   * finds the work done). Returns whether it wrote.
   */
  async syncSearch(signature: string): Promise<boolean> {
    const db = await this.pool.connect()
    try {
      await db.query('BEGIN')
      await db.query(`SELECT pg_advisory_xact_lock(hashtext('library_search'))`)
      const { rows } = await db.query<{ signature: string }>(`SELECT signature FROM library_search_state`)
      if (rows[0]?.signature === signature) {
        await db.query('ROLLBACK')
        return false
      }
      await db.query(`CREATE TEMP TABLE library_search_fresh ON COMMIT DROP AS ${SEARCH_TEXTS}`)
      await db.query(`ANALYZE library_search_fresh`)
      // EXCEPT hashes or sorts both sides, whatever the planner guesses of the unanalysed temporary table
      await db.query(
        `DELETE FROM library_search s
          USING (SELECT kind, id FROM library_search EXCEPT SELECT kind, id FROM library_search_fresh) gone
          WHERE s.kind = gone.kind AND s.id = gone.id`,
      )
      await db.query(
        `INSERT INTO library_search (kind, id, title, text) SELECT kind, id, title, text FROM library_search_fresh
         ON CONFLICT (kind, id) DO UPDATE SET title = EXCLUDED.title, text = EXCLUDED.text
          WHERE (library_search.title, library_search.text) IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.text)`,
      )
      await db.query(
        `INSERT INTO library_search_state (signature) VALUES ($1)
         ON CONFLICT (singleton) DO UPDATE SET signature = EXCLUDED.signature, synced_at = now()`,
        [signature],
      )
      await db.query('COMMIT')
      return true
    } catch (err) {
      await db.query('ROLLBACK')
      throw err
    } finally {
      db.release()
    }
  }

  /**
   * One page of library ids of a kind matching a search, best first, from `library_search` (syncSearch). A
   * row is a candidate when its text matches every one of `patterns` (regular expressions, one per query
   * word: SearchPage), which its trigram index answers; candidates are ranked as the catalog's search ranks
   * (scoreSql: trigram and word similarity against the query), by their own name or title first. No patterns
   * lists every row by name, as clients that copy the whole library through search3 ask.
   */
  async search(kind: 'artist' | 'album' | 'song', p: SearchPage): Promise<number[]> {
    const rank = p.patterns.length ? `${scoreSql('title')} DESC, ${scoreSql('text')} DESC,` : ''
    const { rows } = await this.db.query<{ id: number }>(
      `SELECT id::float8 AS id FROM library_search
        WHERE kind = $4 AND ${['$1::text IS NOT NULL', ...p.patterns.map((_, i) => `text ~ $${i + 5}`)].join(' AND ')}
        ORDER BY ${rank} lower(title), id LIMIT $2 OFFSET $3`,
      [p.query, p.count, p.offset, kind, ...p.patterns],
    )
    return rows.map((r) => r.id)
  }

  /** How much of the catalog there is and how many tracks can be played (the landing page's counts). */
  async counts(): Promise<LibraryCounts> {
    const { rows: est } = await this.pool.query<{ relname: string; n: number }>(
      `SELECT relname, reltuples::float8 AS n FROM pg_class WHERE relname IN ('release', 'artist', 'track') AND relkind = 'r'
          AND relnamespace = current_schema()::regnamespace`,
    )
    const estimate = new Map(est.map((r) => [r.relname, r.n]))
    let exact = true
    const count = async (table: 'release' | 'artist' | 'track') => {
      const e = estimate.get(table) ?? -1
      if (e >= ESTIMATE_FROM) {
        exact = false
        return Math.round(e)
      }
      return (await this.pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number
    }
    const [releases, artists, tracks, audio] = await Promise.all([
      count('release'),
      count('artist'),
      count('track'),
      this.pool.query(
        `SELECT count(DISTINCT track_id)::int AS n FROM audio_file WHERE track_id IS NOT NULL AND status = 'ok'`,
      ),
    ])
    return { releases, artists, tracks, tracksWithAudio: audio.rows[0].n, exact }
  }

  /** Up to `n` tracks with playable audio, picked at random. */
  async randomTracksWithAudio(n: number): Promise<number[]> {
    const { rows } = await this.pool.query<{ track_id: string }>(
      `SELECT track_id FROM (SELECT DISTINCT track_id FROM audio_file WHERE track_id IS NOT NULL AND status = 'ok') a
        ORDER BY random() LIMIT $1`,
      [n],
    )
    return rows.map((r) => Number(r.track_id))
  }

  /** How many tracks the library holds. */
  async size(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audio_file WHERE status = 'ok' AND track_id IS NOT NULL`,
    )
    return rows[0].n
  }
}

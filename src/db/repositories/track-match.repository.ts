import type pg from 'pg'

/**
 * A candidate's title is like the tag at this trigram similarity: pg_trgm's default for `%`, spelt out
 * because search sets `%`'s threshold for its own statements (on the embedded database, session-wide).
 */
const ALIKE = 0.3

/** A catalog track that might be the file, with what Postgres measured against the file's tags. */
export interface CandidateTrack {
  trackId: number
  releaseId: number
  position: string | null
  title: string | null
  releaseTitle: string
  releaseYear: number | null
  /** 1-based among the release's audio tracks (headings and index tracks not counted), in tracklist order */
  ordinal: number
  durationS: number | null
  /** pg_trgm similarity of the tag title and the track title, 0..1; null without a title tag */
  titleSim: number | null
  /** of the album tag and the release title; null without an album tag */
  albumSim: number | null
  /** best over the artist tags and the release's and track's artists; null without artist tags */
  artistSim: number | null
}

export interface PositionLookup {
  releaseId: number
  position: string
}

export interface PositionResult {
  releaseExists: boolean
  /** tracks of the release at that position (normally one; more when the tracklist repeats a position) */
  trackIds: number[]
}

export interface TagQuery {
  title: string
  album?: string
  /** artist and album-artist tags */
  artists: string[]
}

/**
 * Finding the catalog track an audio file is: exactly by (release id, position), or by similarity of
 * tags to titles and names with pg_trgm (its GIN indexes on release and track titles find candidates).
 * Only measurements come back; src/ingest/audio/match-score.ts decides.
 */
export class TrackMatchRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Tracks at each (release, position). Positions compare without case and blanks ("a 1" is A1);
   * headings are never matched, index tracks are (one file for a whole suite).
   */
  async tracksAtPositions(lookups: PositionLookup[]): Promise<PositionResult[]> {
    const out: PositionResult[] = []
    for (let from = 0; from < lookups.length; from += 5000) {
      const chunk = lookups.slice(from, from + 5000)
      const { rows } = await this.pool.query(
        `SELECT q.i,
                EXISTS (SELECT 1 FROM release r WHERE r.id = q.release_id) AS "releaseExists",
                coalesce((SELECT array_agg(t.id ORDER BY t.sequence) FROM track t
                           WHERE t.release_id = q.release_id AND t.type <> 'heading'
                             AND lower(regexp_replace(t.position, '\\s', '', 'g')) = lower(regexp_replace(q.position, '\\s', '', 'g'))),
                         '{}') AS "trackIds"
           FROM unnest($1::int[], $2::text[]) WITH ORDINALITY AS q (release_id, position, i)
          ORDER BY q.i`,
        [chunk.map((l) => l.releaseId), chunk.map((l) => l.position)],
      )
      for (const r of rows) out.push({ releaseExists: r.releaseExists, trackIds: r.trackIds.map(Number) })
    }
    return out
  }

  async releaseExists(releaseId: number): Promise<boolean> {
    const { rows } = await this.pool.query(`SELECT 1 FROM release WHERE id = $1`, [releaseId])
    return rows.length > 0
  }

  /** The audio tracks of one release, each with the similarity of its title to `title` (if given). */
  async releaseCandidates(releaseId: number, title: string | undefined): Promise<CandidateTrack[]> {
    const { rows } = await this.pool.query(
      `SELECT t.id AS "trackId", t.release_id AS "releaseId", t.position, t.title, r.title AS "releaseTitle",
              r.year AS "releaseYear", t.duration_s AS "durationS",
              row_number() OVER (ORDER BY t.sequence) AS ordinal,
              CASE WHEN $2::text IS NULL THEN NULL ELSE similarity(coalesce(t.title, ''), $2) END AS "titleSim"
         FROM track t JOIN release r ON r.id = t.release_id
        WHERE t.release_id = $1 AND t.type = 'track'
        ORDER BY t.sequence`,
      [releaseId, title ?? null],
    )
    return rows.map((r) => toCandidate({ ...r, albumSim: null, artistSim: null }))
  }

  /** Of the releases `releaseIds`, those whose title is like `album` (trigram similarity ≥ ALIKE). */
  async releasesLike(releaseIds: readonly number[], album: string): Promise<number[]> {
    const { rows } = await this.pool.query<{ id: number }>(
      `SELECT id FROM release WHERE id = ANY($1::int[]) AND similarity(title, $2) >= ${ALIKE}`,
      [releaseIds, album],
    )
    return rows.map((r) => r.id)
  }

  /**
   * Candidates for tags anywhere in the catalog (TrackMatcher finds `found` with catalog search): every
   * audio track of the releases `found.releaseIds`, and the tracks `found.trackIds` whose title is like the
   * title tag (trigram similarity ≥ ALIKE). Each comes with its title, album and artist similarities;
   * artists are the release's and the track's, by name (Discogs' " (2)" suffix dropped), name variation
   * and the whole credit as joined ("A & B").
   */
  async fuzzyCandidates(
    q: TagQuery,
    found: { releaseIds: readonly number[]; trackIds: readonly number[] },
  ): Promise<CandidateTrack[]> {
    const { rows } = await this.pool.query(
      `WITH cand AS (
         SELECT t.id FROM track t WHERE t.release_id = ANY($4::int[]) AND t.type = 'track'
         UNION
         SELECT t.id FROM track t WHERE t.id = ANY($5::int[]) AND t.type = 'track' AND similarity(t.title, $1) >= ${ALIKE}
       )
       SELECT t.id AS "trackId", t.release_id AS "releaseId", t.position, t.title, r.title AS "releaseTitle",
              r.year AS "releaseYear", t.duration_s AS "durationS",
              (SELECT count(*) FROM track s WHERE s.release_id = t.release_id AND s.type = 'track' AND s.sequence <= t.sequence) AS ordinal,
              similarity(coalesce(t.title, ''), $1) AS "titleSim",
              CASE WHEN $2::text IS NULL THEN NULL ELSE similarity(r.title, $2) END AS "albumSim",
              CASE WHEN cardinality($3::text[]) = 0 THEN NULL ELSE (
                SELECT max(similarity(n.name, a)) FROM unnest($3::text[]) AS a, (
                  SELECT regexp_replace(ra.name, ' \\(\\d+\\)$', '') AS name FROM release_artist ra WHERE ra.release_id = t.release_id
                  UNION ALL SELECT ra.anv FROM release_artist ra WHERE ra.release_id = t.release_id AND ra.anv IS NOT NULL
                  UNION ALL SELECT string_agg(coalesce(ra.anv, regexp_replace(ra.name, ' \\(\\d+\\)$', '')) || ' ' || coalesce(ra.join_string, ''), ' ' ORDER BY ra.ord)
                              FROM release_artist ra WHERE ra.release_id = t.release_id
                  UNION ALL SELECT regexp_replace(ta.name, ' \\(\\d+\\)$', '') FROM track_artist ta WHERE ta.track_id = t.id
                  UNION ALL SELECT ta.anv FROM track_artist ta WHERE ta.track_id = t.id AND ta.anv IS NOT NULL
                  UNION ALL SELECT string_agg(coalesce(ta.anv, regexp_replace(ta.name, ' \\(\\d+\\)$', '')) || ' ' || coalesce(ta.join_string, ''), ' ' ORDER BY ta.ord)
                              FROM track_artist ta WHERE ta.track_id = t.id
                ) AS n WHERE n.name IS NOT NULL)
              END AS "artistSim"
         FROM cand JOIN track t ON t.id = cand.id JOIN release r ON r.id = t.release_id`,
      [q.title, q.album ?? null, q.artists, found.releaseIds, found.trackIds],
    )
    return rows.map(toCandidate)
  }
}

function toCandidate(r: Record<string, unknown>): CandidateTrack {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v))
  return {
    trackId: Number(r.trackId),
    releaseId: Number(r.releaseId),
    position: (r.position as string | null) ?? null,
    title: (r.title as string | null) ?? null,
    releaseTitle: r.releaseTitle as string,
    releaseYear: num(r.releaseYear),
    ordinal: Number(r.ordinal),
    durationS: num(r.durationS),
    titleSim: num(r.titleSim),
    albumSim: num(r.albumSim),
    artistSim: num(r.artistSim),
  }
}

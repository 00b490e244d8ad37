import type pg from 'pg'
import {
  artistsOfTrackSql,
  checkKey,
  labelsOfTrackSql,
  tracksOfArtistSql,
  tracksOfLabelSql,
  vectorLiteral,
} from './embedding.repository.ts'
import type { ModelSpace } from './model.repository.ts'

/**
 * All kNN SQL, on the search vectors (`track_embedding.search`: each model's vectors after its fitted
 * transform, search-vector.repository.ts). Track search runs on the partial HNSW index of one (model, space) — the query repeats the
 * index's expression `search::vector(dims)` and predicate `model_id = X AND space = 'S'` as constants so
 * the planner can use it — with pgvector 0.8's iterative scan (relaxed order) so that filters applied after
 * the index still yield `first` rows, then re-sorted exactly outside a materialised CTE. The exact variant
 * orders by `search <=> q` on the dimensionless column, which no index matches: a sequential scan, the
 * ground truth for recall. Artists and labels are searched exactly over their centroids.
 */

/** Filters on candidate tracks, already resolved to ids (the service turns "same artist as the seeds" into ids). */
export interface CandidateFilter {
  excludeTracks?: readonly number[]
  excludeArtists?: readonly number[]
  excludeReleases?: readonly number[]
  excludeLabels?: readonly number[]
  styles?: readonly string[]
  genres?: readonly string[]
  yearFrom?: number
  yearTo?: number
  countries?: readonly string[]
}

/** The query point: the mean of some tracks' vectors (cosine ignores its length), or a given vector. */
export type KnnQuery = { trackIds: readonly number[] } | { vector: Float32Array }

export interface KnnTarget {
  modelId: number
  space: ModelSpace
  dims: number
}

export interface KnnHit {
  trackId: number
  distance: number
}

export interface IndexScanOptions {
  /** hnsw.ef_search: candidate list size (≥ first); higher = better recall, slower */
  efSearch: number
  /** hnsw.max_scan_tuples: how far an iterative scan may go before giving up */
  maxScanTuples: number
  /**
   * Rows taken from the index scan per row returned (≥ 1), re-ranked exactly: the relaxed scan finds the
   * true neighbours among more candidates than it returns first, so fetching a few times `first` and
   * keeping the best raises recall, most of all behind a filter.
   */
  overfetch: number
}

/**
 * The most tracks of the seeds' artists excluded by id (SeedContext.artistTracks). An artist on thousands of
 * releases has more, and gathering them cost 0.6–1.3 s per request on the 1M bench catalog (bench:load);
 * past this they are excluded through each candidate's own artists instead.
 */
export const ARTIST_TRACKS_BY_ID = 5000

export interface SeedContext {
  artists: number[]
  /**
   * Every track of those artists, when there are at most ARTIST_TRACKS_BY_ID (excluding them by id is a hash
   * probe per candidate); null when there are more (exclude by `artists`, a probe of each candidate's artists).
   */
  artistTracks: number[] | null
  releases: number[]
  labels: number[]
}

/** Builds the kNN statement and its parameters; exported so tests can EXPLAIN exactly what runs. */
export function knnSql(
  target: KnnTarget,
  query: KnnQuery,
  first: number,
  filter: CandidateFilter,
  exact: boolean,
  candidates = first,
): { text: string; values: unknown[] } {
  const { modelId, space, dims } = target
  checkKey(modelId, space, dims)
  const values: unknown[] = []
  const p = (v: unknown) => {
    values.push(v)
    return `$${values.length}`
  }
  const own = `te.model_id = ${modelId} AND te.space = '${space}' AND te.search IS NOT NULL`
  const where: string[] = [own]
  let q: string
  if ('trackIds' in query) {
    const seeds = `${p(query.trackIds)}::bigint[]`
    const ofSeeds = `FROM track_embedding s WHERE s.model_id = ${modelId} AND s.space = '${space}' AND s.track_id = ANY(${seeds}) AND s.search IS NOT NULL`
    q = `(SELECT avg(s.search) ${ofSeeds})::vector(${dims})`
    // A seed without a vector would silently shift (or void) the query point: answer nothing instead, and
    // let the caller say which seed is missing. Evaluated once, before the scan.
    where.push(`(SELECT count(*) ${ofSeeds}) = cardinality(${seeds})`)
  } else {
    q = `${p(vectorLiteral(query.vector))}::vector(${dims})`
  }
  const catalog = Boolean(
    filter.excludeReleases?.length ||
    filter.excludeLabels?.length ||
    filter.styles?.length ||
    filter.genres?.length ||
    filter.yearFrom !== undefined ||
    filter.yearTo !== undefined ||
    filter.countries?.length,
  )
  if (filter.excludeTracks?.length) where.push(`te.track_id <> ALL(${p(filter.excludeTracks)}::bigint[])`)
  if (filter.excludeReleases?.length)
    where.push(`t.release_id <> ALL(${p(filter.excludeReleases)}::integer[])`)
  if (filter.yearFrom !== undefined) where.push(`r.year >= ${p(filter.yearFrom)}`)
  if (filter.yearTo !== undefined) where.push(`r.year <= ${p(filter.yearTo)}`)
  if (filter.countries?.length) where.push(`r.country = ANY(${p(filter.countries)}::text[])`)
  if (filter.styles?.length) {
    where.push(
      `EXISTS (SELECT 1 FROM release_style rs WHERE rs.release_id = t.release_id AND rs.style = ANY(${p(filter.styles)}::text[]))`,
    )
  }
  if (filter.genres?.length) {
    where.push(
      `EXISTS (SELECT 1 FROM release_genre rg WHERE rg.release_id = t.release_id AND rg.genre = ANY(${p(filter.genres)}::text[]))`,
    )
  }
  if (filter.excludeLabels?.length) {
    where.push(
      `NOT EXISTS (SELECT 1 FROM release_label rl WHERE rl.release_id = t.release_id AND rl.label_id = ANY(${p(filter.excludeLabels)}::integer[]))`,
    )
  }
  if (filter.excludeArtists?.length) {
    where.push(
      `NOT EXISTS (SELECT 1 FROM (${artistsOfTrackSql('te.track_id')}) a WHERE a.artist_id = ANY(${p(filter.excludeArtists)}::integer[]))`,
    )
  }
  const from = catalog
    ? `track_embedding te JOIN track t ON t.id = te.track_id JOIN release r ON r.id = t.release_id`
    : `track_embedding te`
  const distance = exact ? `te.search <=> ${q}` : `te.search::vector(${dims}) <=> ${q}`
  const text = `
    WITH nearest AS MATERIALIZED (
      SELECT te.track_id, ${distance} AS distance
        FROM ${from}
       WHERE ${where.join('\n         AND ')}
       ORDER BY ${distance}
       LIMIT ${p(Math.max(first, candidates))}
    )
    SELECT track_id, distance FROM nearest ORDER BY distance, track_id LIMIT ${p(first)}`
  return { text, values }
}

const hits = (rows: { track_id: string; distance: number }[]): KnnHit[] =>
  rows.map((r) => ({ trackId: Number(r.track_id), distance: r.distance }))

export class SimilarityRepository {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Approximate kNN on the (model, space) HNSW index, iterative scan in relaxed order, inside a
   * transaction so the SET LOCALs end with it. Without the index (not built yet) the planner falls back to
   * a sequential scan: slower, exact.
   */
  async knn(
    target: KnnTarget,
    query: KnnQuery,
    first: number,
    filter: CandidateFilter,
    scan: IndexScanOptions,
  ): Promise<KnnHit[]> {
    const candidates = Math.min(1000, Math.ceil(first * Math.max(1, scan.overfetch)))
    // pgvector caps ef_search at 1000
    const ef = Math.min(1000, Math.max(candidates, Math.trunc(scan.efSearch)))
    const maxTuples = Math.trunc(scan.maxScanTuples)
    if (!(ef >= 1) || !(maxTuples >= 1))
      throw new RangeError(`bad scan options ef_search ${ef}, max_scan_tuples ${maxTuples}`)
    const { text, values } = knnSql(target, query, first, filter, false, candidates)
    const c = await this.pool.connect()
    try {
      await c.query(
        `BEGIN; SET LOCAL hnsw.iterative_scan = relaxed_order; SET LOCAL hnsw.ef_search = ${ef}; SET LOCAL hnsw.max_scan_tuples = ${maxTuples}`,
      )
      const { rows } = await c.query(text, values)
      await c.query('COMMIT')
      return hits(rows)
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined)
      throw err
    } finally {
      c.release()
    }
  }

  /** Exact kNN (sequential scan): the reference for recall, and the fallback when the index finds too few. */
  async exactKnn(
    target: KnnTarget,
    query: KnnQuery,
    first: number,
    filter: CandidateFilter,
  ): Promise<KnnHit[]> {
    const { text, values } = knnSql(target, query, first, filter, true)
    const { rows } = await this.pool.query(text, values)
    return hits(rows)
  }

  /** Seed tracks that have no vector of (model, space). */
  async missingTracks(modelId: number, space: ModelSpace, trackIds: readonly number[]): Promise<number[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM unnest($3::bigint[]) AS s(id)
        WHERE NOT EXISTS (SELECT 1 FROM track_embedding te WHERE te.model_id = $1 AND te.space = $2 AND te.track_id = s.id
                             AND te.search IS NOT NULL)`,
      [modelId, space, trackIds],
    )
    return rows.map((r) => Number(r.id))
  }

  /** The artists, releases and labels of the seed tracks (for the exclude-same-… filters). */
  async seedContext(
    trackIds: readonly number[],
    maxArtistTracks = ARTIST_TRACKS_BY_ID,
  ): Promise<SeedContext> {
    const { rows } = await this.pool.query(
      `WITH artists AS (SELECT DISTINCT a.artist_id FROM unnest($1::bigint[]) s(id) CROSS JOIN LATERAL (${artistsOfTrackSql('s.id')}) a)
       SELECT
         ARRAY(SELECT artist_id FROM artists) AS artists,
         ARRAY(SELECT x.track_id FROM artists CROSS JOIN LATERAL (${tracksOfArtistSql('artists.artist_id', 'UNION ALL')}) x
                LIMIT $2) AS artist_tracks,
         ARRAY(SELECT DISTINCT t.release_id FROM track t WHERE t.id = ANY($1::bigint[])) AS releases,
         ARRAY(SELECT DISTINCT l.label_id FROM unnest($1::bigint[]) s(id) CROSS JOIN LATERAL (${labelsOfTrackSql('s.id')}) l) AS labels`,
      [trackIds, maxArtistTracks + 1],
    )
    const r = rows[0]
    // UNION ALL streams (a track credited twice comes twice), so the cap reads maxArtistTracks + 1 rows at most
    return {
      artists: r.artists.map(Number),
      artistTracks:
        r.artist_tracks.length > maxArtistTracks ? null : [...new Set<number>(r.artist_tracks.map(Number))],
      releases: r.releases.map(Number),
      labels: r.labels.map(Number),
    }
  }

  /** Nearest artist or label centroids to one owner's centroid (exact; centroids are few). */
  async similarOwners(
    owner: 'artist' | 'label',
    ownerId: number,
    modelId: number,
    space: ModelSpace,
    first: number,
    minTracks = 1,
  ): Promise<{ id: number; distance: number; tracks: number }[]> {
    const table = owner === 'artist' ? 'artist_centroid' : 'label_centroid'
    const col = owner === 'artist' ? 'artist_id' : 'label_id'
    const { rows } = await this.pool.query(
      `SELECT c.${col} AS id, c.embedding <=> q.embedding AS distance, c.tracks
         FROM ${table} c, (SELECT embedding FROM ${table} WHERE model_id = $1 AND space = $2 AND ${col} = $3) q
        WHERE c.model_id = $1 AND c.space = $2 AND c.${col} <> $3 AND c.tracks >= $5
        ORDER BY distance, c.${col}
        LIMIT $4`,
      [modelId, space, ownerId, first, minTracks],
    )
    return rows.map((r) => ({ id: Number(r.id), distance: r.distance, tracks: r.tracks }))
  }

  /**
   * The track pairs that connect `ownerId` to each of `others`: per other owner, its `pairs` closest
   * (source track, other track) pairs. Each side is first cut to its `cap` tracks closest to the other
   * side's centroid, which is where the closest pairs lie, so a prolific artist costs cap² distances.
   */
  async connectingPairs(
    owner: 'artist' | 'label',
    ownerId: number,
    others: readonly number[],
    modelId: number,
    space: ModelSpace,
    pairs: number,
    cap = 64,
  ): Promise<Map<number, { fromTrackId: number; toTrackId: number; distance: number }[]>> {
    checkKey(modelId, space)
    const out = new Map<number, { fromTrackId: number; toTrackId: number; distance: number }[]>()
    if (!others.length) return out
    const table = owner === 'artist' ? 'artist_centroid' : 'label_centroid'
    const col = owner === 'artist' ? 'artist_id' : 'label_id'
    const tracksOf = owner === 'artist' ? tracksOfArtistSql : tracksOfLabelSql
    const embedded = (ids: string) =>
      `SELECT te.track_id, te.search AS embedding FROM track_embedding te
        WHERE te.model_id = ${modelId} AND te.space = '${space}' AND te.search IS NOT NULL AND te.track_id IN (${ids})`
    const centroidOf = (id: string) =>
      `(SELECT embedding FROM ${table} WHERE model_id = ${modelId} AND space = '${space}' AND ${col} = ${id})`
    const { rows } = await this.pool.query(
      `SELECT o.id AS other, p.from_track, p.to_track, p.distance
         FROM unnest($2::integer[]) AS o(id)
         CROSS JOIN LATERAL (
           SELECT s.track_id AS from_track, d.track_id AS to_track, s.embedding <=> d.embedding AS distance
             FROM (SELECT * FROM (${embedded(tracksOf('$1'))}) x ORDER BY x.embedding <=> ${centroidOf('o.id')} LIMIT $4) s
             CROSS JOIN (SELECT * FROM (${embedded(tracksOf('o.id'))}) y ORDER BY y.embedding <=> ${centroidOf('$1')} LIMIT $4) d
            WHERE s.track_id <> d.track_id
            ORDER BY distance, s.track_id, d.track_id
            LIMIT $3) p
        ORDER BY o.id, p.distance`,
      [ownerId, others, pairs, cap],
    )
    for (const r of rows) {
      const id = Number(r.other)
      const list = out.get(id) ?? []
      list.push({ fromTrackId: Number(r.from_track), toTrackId: Number(r.to_track), distance: r.distance })
      out.set(id, list)
    }
    return out
  }
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  EmbeddingRepository,
  hnswIndexName,
  type EmbeddingRow,
} from '../../src/db/repositories/embedding.repository.ts'
import { refitSearchVectors } from '../../src/services/search-vectors.ts'
import { ModelRepository } from '../../src/db/repositories/model.repository.ts'
import { knnSql } from '../../src/db/repositories/similarity.repository.ts'
import { l2Normalize } from '../../src/ml/embedding/pooling.ts'
import { SeededRandom } from '../../src/random/seeded-random.ts'
import { SimilarityService, type TrackSimilarityFilter } from '../../src/services/similarity.service.ts'
import { createServerTestDatabase, type TestDatabase } from '../support/database.ts'

/**
 * Recall of filtered similarity search against exact search, on a catalog big enough for the HNSW graph to
 * matter: 20,000 tracks on 2,000 releases by 200 artists, vectors clustered by artist, and catalog
 * attributes (style, year, country, label) independent of the clusters — so a filter removes most of a
 * seed's true neighbours and the index scan has to keep going (pgvector's iterative scan) to find `first`.
 */
const RELEASES = 2000
const TRACKS_PER_RELEASE = 10
const ARTISTS = 200
const DIMS = 64
const FIRST = 10

describe('filtered similarity search: recall against exact search (real server)', () => {
  let t: TestDatabase
  let modelId: number
  let seeds: number[]
  const q = async (sql: string, values: unknown[] = []) => (await t.db.pool.query(sql, values)).rows

  beforeAll(async () => {
    t = await createServerTestDatabase()
    await q(`INSERT INTO release (id, title, year, country)
             SELECT r, 'Release ' || r, 1960 + (r * 7) % 60, (ARRAY['US','UK','DE','FR','JP','NL','IT','SE'])[1 + (r * 3) % 8]
               FROM generate_series(1, ${RELEASES}) r`)
    await q(
      `INSERT INTO release_artist (release_id, ord, artist_id, name) SELECT r, 0, 1 + r % ${ARTISTS}, 'A' FROM generate_series(1, ${RELEASES}) r`,
    )
    await q(
      `INSERT INTO release_label (release_id, ord, label_id, name) SELECT r, 0, 1 + (r * 11) % 50, 'L' FROM generate_series(1, ${RELEASES}) r`,
    )
    await q(`INSERT INTO release_style (release_id, style)
             SELECT r, 'S' || (r * 13) % 20 FROM generate_series(1, ${RELEASES}) r
             UNION SELECT r, 'S' || (r * 17 + 5) % 20 FROM generate_series(1, ${RELEASES}) r WHERE r % 3 = 0`)
    await q(
      `INSERT INTO release_genre (release_id, genre) SELECT DISTINCT r, 'G' || ((r * 13) % 20) / 5 FROM generate_series(1, ${RELEASES}) r`,
    )
    await q(`INSERT INTO track (release_id, track_key, sequence, position, type)
             SELECT r, 'T' || k, k, 'T' || k, 'track' FROM generate_series(1, ${RELEASES}) r, generate_series(1, ${TRACKS_PER_RELEASE}) k`)
    // compilations: every 50th release has its own artist per track
    await q(
      `INSERT INTO track_artist (track_id, ord, artist_id, name) SELECT id, 0, 1 + (id * 7) % ${ARTISTS}, 'T' FROM track WHERE release_id % 50 = 0`,
    )

    const { model } = await new ModelRepository(t.db.pool).register({
      name: 'recall-test',
      kind: 'random',
      config: {},
      dims: { projection: DIMS },
      fingerprint: 'test:recall',
    })
    modelId = model.id
    const tracks = await q(`SELECT t.id, t.release_id, COALESCE(ta.artist_id, ra.artist_id) AS artist
                              FROM track t JOIN release_artist ra ON ra.release_id = t.release_id
                              LEFT JOIN track_artist ta ON ta.track_id = t.id ORDER BY t.id`)
    const rng = new SeededRandom(11)
    const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next())
    const centre = Array.from({ length: ARTISTS + 1 }, () => Float32Array.from({ length: DIMS }, gauss))
    const releaseOffset = Array.from({ length: RELEASES + 1 }, () =>
      Float32Array.from({ length: DIMS }, () => 0.6 * gauss()),
    )
    const rows: EmbeddingRow[] = tracks.map((r) => {
      const v = new Float32Array(DIMS)
      for (let i = 0; i < DIMS; i++)
        v[i] = centre[r.artist][i] + releaseOffset[r.release_id][i] + 0.6 * gauss()
      return { trackId: Number(r.id), vector: l2Normalize(v), patches: 1 }
    })
    const repo = new EmbeddingRepository(t.db.pool, t.db.kind)
    for (let i = 0; i < rows.length; i += 5000)
      await repo.write(modelId, 'projection', rows.slice(i, i + 5000))
    // raw search vectors: this test is about the index's recall on these vectors, not the transform
    await refitSearchVectors(t.db, modelId, 'projection', { kind: 'raw' })
    expect(await repo.ensureIndex(modelId, 'projection', DIMS)).toBe(true)
    await q('ANALYZE')
    seeds = Array.from({ length: 40 }, () => Number(tracks[rng.int(tracks.length)].id))
  })
  afterAll(async () => {
    await t?.dispose()
  })

  const cases: [string, TrackSimilarityFilter, 'index' | 'any'][] = [
    ['no filter', {}, 'index'],
    ['other artists', { excludeSameArtist: true }, 'index'],
    ['other releases and labels', { excludeSameRelease: true, excludeSameLabel: true }, 'index'],
    ['one style (~7 %)', { styles: ['S3'] }, 'index'],
    ['one decade (~17 %)', { yearFrom: 1970, yearTo: 1979 }, 'index'],
    ['one country (12.5 %)', { countries: ['JP'] }, 'index'],
    ['a genre, other artists', { genres: ['G1'], excludeSameArtist: true }, 'index'],
    ['two styles in one country (~2 %)', { styles: ['S3', 'S4'], countries: ['JP'] }, 'any'],
    [
      'one style, one decade, one country (< 1 %)',
      { styles: ['S7'], yearFrom: 1990, yearTo: 1999, countries: ['UK'] },
      'any',
    ],
  ]

  it("excludes the seeds' artists by their own artists past the id cap: the same exact hits, recall ≥ 0.95", async () => {
    // artistTracksById 0: every artist is "over the cap" (on a real catalog, one on thousands of releases)
    const byId = new SimilarityService(t.db)
    const byArtist = new SimilarityService(t.db, { artistTracksById: 0 })
    const filter = { excludeSameArtist: true }
    let found = 0
    let expected = 0
    for (const seed of seeds.slice(0, 20)) {
      const ask = { trackIds: [seed], model: 'recall-test', first: FIRST, filter }
      const exact = await byArtist.exactSimilarTracks(ask)
      expect(exact).toEqual(await byId.exactSimilarTracks(ask))
      const approx = await byArtist.similarTracks(ask)
      expect(approx.method).toBe('index')
      const truth = new Set(exact.map((x) => x.trackId))
      found += approx.tracks.filter((x) => truth.has(x.trackId)).length
      expected += exact.length
    }
    expect(expected).toBe(20 * FIRST)
    expect(found / expected).toBeGreaterThanOrEqual(0.95)
  })

  for (const [name, filter, method] of cases) {
    it(`${name}: ${FIRST} results, recall@${FIRST} ≥ 0.95`, async () => {
      const search = new SimilarityService(t.db)
      let found = 0
      let expected = 0
      for (const seed of seeds) {
        const approx = await search.similarTracks({
          trackIds: [seed],
          model: 'recall-test',
          first: FIRST,
          filter,
        })
        const exact = await search.exactSimilarTracks({
          trackIds: [seed],
          model: 'recall-test',
          first: FIRST,
          filter,
        })
        expect(approx.tracks).toHaveLength(exact.length)
        if (method === 'index') expect(approx.method).toBe('index')
        const truth = new Set(exact.map((x) => x.trackId))
        found += approx.tracks.filter((x) => truth.has(x.trackId)).length
        expected += truth.size
        expect(approx.tracks.map((x) => x.trackId)).not.toContain(seed)
        const d = approx.tracks.map((x) => x.distance)
        expect([...d].sort((a, b) => a - b)).toEqual(d) // re-ordered exactly after the relaxed scan
      }
      expect(expected).toBeGreaterThan(seeds.length * FIRST * 0.5)
      expect(found / expected).toBeGreaterThanOrEqual(0.95)
    })
  }

  it('runs filtered queries on the partial HNSW index, and exact ones without it', async () => {
    const target = { modelId, space: 'projection' as const, dims: DIMS }
    const filter = { excludeTracks: [seeds[0]], styles: ['S3'], excludeArtists: [5], excludeLabels: [3] }
    const plan = async (exact: boolean) => {
      const { text, values } = knnSql(target, { trackIds: [seeds[0]] }, FIRST, filter, exact)
      const c = await t.db.pool.connect()
      try {
        await c.query('BEGIN; SET LOCAL hnsw.iterative_scan = relaxed_order')
        const rows = (await c.query(`EXPLAIN ${text}`, values)).rows
        await c.query('ROLLBACK')
        return rows.map((r) => r['QUERY PLAN']).join('\n')
      } finally {
        c.release()
      }
    }
    expect(await plan(false)).toContain(`Index Scan using ${hnswIndexName(modelId, 'projection')}`)
    expect(await plan(true)).not.toContain(hnswIndexName(modelId, 'projection'))
  })
})

import 'reflect-metadata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toGlobalId } from '../../src/api/global-id.ts'
import { importDiscogs } from '../../src/ingest/discogs/import.ts'
import { SimilarityService } from '../../src/services/similarity.service.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { FIXTURES } from '../support/cli.ts'
import { createServerTestDatabase, type TestDatabase } from '../support/database.ts'
import { embedFixtureTracks, STYLE_VECTOR_DIMS } from '../support/style-vectors.ts'

const DIMS = STYLE_VECTOR_DIMS

describe('similarity, models and the embedding map over GraphQL', () => {
  let t: TestDatabase
  let api: TestApi
  let trackIds: number[]
  const data = (query: string, variables?: Record<string, unknown>) => api.data(query, variables)

  beforeAll(async () => {
    t = await createServerTestDatabase()
    await importDiscogs(t.db, [FIXTURES])
    ;({ trackIds } = await embedFixtureTracks(t))
    // the map test wants the map: UMAP on a loaded machine can take longer than a request waits by default
    api = await startTestApi(t, {}, { mapOptions: { waitMs: 300_000 } })
  }, 120_000)
  afterAll(async () => {
    await api?.close()
    await t?.dispose()
  })

  it('lists models with how many tracks they embedded', async () => {
    const d = await data(`{ models { name kind dims embedded } }`)
    expect(d.models).toEqual([
      {
        name: 'test-vectors',
        kind: 'onnx',
        dims: { projection: DIMS },
        embedded: { projection: trackIds.length },
      },
    ])
  })

  it('returns `first` similar tracks in 0..1, best first, never the seed, matching exact search', async () => {
    const seed = trackIds[10]
    const d = await data(
      `query($id: ID!) { similarTracks(track: $id, first: 10) { similarity track { id title } } }`,
      { id: toGlobalId('Track', seed) },
    )
    const hits = d.similarTracks as { similarity: number; track: { id: string } }[]
    expect(hits).toHaveLength(10)
    expect(hits.map((h) => h.track.id)).not.toContain(toGlobalId('Track', seed))
    for (const h of hits) {
      expect(h.similarity).toBeGreaterThanOrEqual(0)
      expect(h.similarity).toBeLessThanOrEqual(1)
    }
    expect([...hits].sort((a, b) => b.similarity - a.similarity)).toEqual(hits)
    const exact = await new SimilarityService(t.db).exactSimilarTracks({
      trackIds: [seed],
      model: 'test-vectors',
      first: 10,
    })
    const found = new Set(hits.map((h) => h.track.id))
    expect(exact.filter((e) => found.has(toGlobalId('Track', e.trackId))).length).toBeGreaterThanOrEqual(9)
  })

  it('keeps returning `first` results under selective filters, with high recall against exact search', async () => {
    const seed = trackIds[0]
    const filter = {
      excludeSameRelease: true,
      styles: ['Techno', 'Tech House'],
      yearFrom: 1990,
      yearTo: 2005,
    }
    const d = await data(
      `query($id: ID!, $f: SimilarityFilter) { similarTracks(track: $id, first: 20, filter: $f) { similarity track { release { discogsId year styles { name } } } } }`,
      {
        id: toGlobalId('Track', seed),
        f: filter,
      },
    )
    const hits = d.similarTracks as {
      track: { release: { discogsId: number; year: number; styles: { name: string }[] } }
    }[]
    const [{ release_id: seedRelease }] = (
      await t.db.pool.query(`SELECT release_id FROM track WHERE id = $1`, [seed])
    ).rows
    expect(hits).toHaveLength(20)
    for (const h of hits) {
      expect(h.track.release.discogsId).not.toBe(seedRelease)
      expect(h.track.release.year).toBeGreaterThanOrEqual(1990)
      expect(h.track.release.styles.map((s) => s.name).some((s) => filter.styles.includes(s))).toBe(true)
    }
    const exact = await new SimilarityService(t.db).exactSimilarTracks({
      trackIds: [seed],
      model: 'test-vectors',
      first: 20,
      filter,
    })
    expect(exact).toHaveLength(20)
  })

  // The fixture holds the first 1000 artists only: similar artists outside it are left out of the answer.
  it('finds similar artists through centroids, with the track pairs that connect them', async () => {
    const [{ artist_id }] = (
      await t.db.pool.query(
        `SELECT artist_id FROM artist_centroid WHERE artist_id IN (SELECT id FROM artist) GROUP BY artist_id ORDER BY max(tracks) DESC, artist_id LIMIT 1`,
      )
    ).rows
    const d = await data(
      `query($a: Int!) { similarArtists(artist: $a, first: 100, pairs: 2) { similarity tracks artist { discogsId name } connectingTracks { similarity track { title } otherTrack { title } } } }`,
      { a: artist_id },
    )
    expect(d.similarArtists.length).toBeGreaterThan(0)
    expect(d.similarArtists[0].artist.discogsId).not.toBe(artist_id)
    expect(d.similarArtists[0].connectingTracks.length).toBeGreaterThan(0)
  })

  it("gives a track's vector and a seeded 2-D map coloured by style", async () => {
    const d = await data(`query($id: ID!) { track(id: $id) { embedding audio { url } } }`, {
      id: toGlobalId('Track', trackIds[3]),
    })
    expect(d.track.embedding).toHaveLength(DIMS)
    expect(d.track.audio).toBeNull()
    const q = `{ embeddingMap(limit: 300, colorBy: STYLE) { space points { x y group track { id } } groups } }`
    const m1 = await data(q)
    expect(m1.embeddingMap.space).toBe('PROJECTION')
    expect(m1.embeddingMap.points).toHaveLength(300)
    for (const p of m1.embeddingMap.points) expect(p.x >= 0 && p.x <= 1 && p.y >= 0 && p.y <= 1).toBe(true)
    expect(m1.embeddingMap.groups.length).toBeGreaterThan(3)
    expect((await data(q)).embeddingMap.points).toEqual(m1.embeddingMap.points)
  }, 300_000)

  it('refuses ambiguous or unknown inputs with codes', async () => {
    const code = async (q: string) => (await api.gql(q)).body.errors?.[0]?.extensions?.code
    const id = toGlobalId('Track', trackIds[0])
    expect(await code(`{ similarTracks(track: "${id}", tracks: ["${id}"]) { similarity } }`)).toBe(
      'BAD_USER_INPUT',
    )
    expect(await code(`{ similarTracks(track: "${id}", model: "no-such-model") { similarity } }`)).toBe(
      'NOT_FOUND',
    )
    expect(await code(`{ similarTracks(embedding: [1, 0]) { similarity } }`)).toBe('BAD_USER_INPUT')
    expect(await code(`{ similarTracks(track: "${id}", first: 1000) { similarity } }`)).toBe('BAD_USER_INPUT')
    // the lists without paging say their maximum, and keep to it
    expect(await code(`{ models(first: 0) { name } }`)).toBe('BAD_USER_INPUT')
    expect(await code(`{ models(first: 1001) { name } }`)).toBe('BAD_USER_INPUT')
    expect(await code(`{ probes(first: 1001) { name } }`)).toBe('BAD_USER_INPUT')
    expect((await data(`{ models(first: 1) { name } }`)).models).toEqual([{ name: 'test-vectors' }])
    // EmbeddingSpace comes in as the services' word and goes out as the enum's name
    const e = await data(`query($id: ID!) { track(id: $id) { embedding(space: PROJECTION) } }`, { id })
    expect(e.track.embedding).toHaveLength(DIMS)
    expect(await code(`{ track(id: "${id}") { embedding(space: projection) } }`)).toBe(
      'GRAPHQL_VALIDATION_FAILED',
    )
  })
})

import { ScrobbleService } from '../../src/services/scrobble.service.ts'
import { AuthService } from '../../src/services/auth.service.ts'
import 'reflect-metadata'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toGlobalId } from '../../src/api/global-id.ts'
import { TrackFactsRepository } from '../../src/db/repositories/track-facts.repository.ts'
import { recordingKey } from '../../src/ml/retrieval/mix.ts'
import { MixService } from '../../src/services/mix.service.ts'
import { SimilarityService } from '../../src/services/similarity.service.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { createServerTestDatabase, type TestDatabase } from '../support/database.ts'
import { insertModel, insertVectors, seedProbeWorld, type World } from '../support/probe-world.ts'

const DIMS = 16

/**
 * The probe world: 24 artists of 4 styles, 2 releases each of 5 tracks titled "Track 1"…"Track 5" — so an
 * artist's "Track 1" on both releases is one recording twice, which a mix must not repeat. Vectors carry the
 * style (signal 1) plus noise. A second model embeds only 6 tracks: too small a library for a long path.
 */
describe('mixes, paths and radio', () => {
  let t: TestDatabase
  let world: World
  let mixes: MixService
  let api: TestApi
  const tiny: number[] = []

  beforeAll(async () => {
    t = await createServerTestDatabase()
    world = await seedProbeWorld(t.db.pool, { artists: 48 })
    const styled = await insertModel(t.db.pool, 'styled', 'trained', 'artist')
    const small = await insertModel(t.db.pool, 'small', 'trained', 'artist')
    await t.db.pool.query(`UPDATE model SET dims = $1 WHERE id = ANY($2)`, [
      { backbone: DIMS },
      [styled, small],
    ])
    await insertVectors(t.db.pool, styled, world, { dims: DIMS, signal: 1, seed: 5 })
    tiny.push(...world.trackIds.filter((_, i) => i % 40 === 0))
    await insertVectors(t.db.pool, small, world, { dims: DIMS, signal: 1, seed: 5, tracks: tiny })
    mixes = new MixService(t.db, new SimilarityService(t.db))
    api = await startTestApi(t)
  }, 120_000)
  afterAll(async () => {
    await api?.close()
    await t?.dispose()
  })

  const recordings = async (ids: number[]) => {
    const facts = await new TrackFactsRepository(t.db.pool).facts(ids)
    return ids.map((id) => recordingKey(facts.get(id)!.title, facts.get(id)!.artists))
  }
  const vectors = async (ids: number[]) =>
    (await new SimilarityService(t.db).searchVectors(ids, 'styled')).vectors
  const sim = (a: Float32Array, b: Float32Array) => (1 + a.reduce((s, x, i) => s + x * b[i], 0)) / 2

  it('makes a mix that stays in the seed style, caps artists and repeats nothing', async () => {
    const seed = world.trackIds[0]
    const mix = await mixes.instantMix({ seeds: [seed], model: 'styled', first: 20, maxPerArtist: 2 })
    const ids = mix.tracks.map((x) => x.trackId)
    expect(ids).toHaveLength(20)
    expect(ids).not.toContain(seed)
    expect(new Set(ids).size).toBe(20)
    const inStyle = ids.filter((id) => world.styleOf.get(id) === world.styleOf.get(seed)).length
    expect(inStyle / ids.length).toBeGreaterThanOrEqual(0.7)
    const perArtist = new Map<number, number>()
    for (const id of ids)
      perArtist.set(world.artistOf.get(id)!, (perArtist.get(world.artistOf.get(id)!) ?? 0) + 1)
    expect(Math.max(...perArtist.values())).toBeLessThanOrEqual(2)
    // no recording twice, nor the seed's recording (its other release)
    const keys = await recordings([seed, ...ids])
    expect(new Set(keys).size).toBe(keys.length)
    // no near-identical vectors
    const v = await vectors(ids)
    for (let i = 0; i < ids.length; i++)
      for (let j = i + 1; j < ids.length; j++)
        expect(2 * sim(v.get(ids[i])!, v.get(ids[j])!) - 1).toBeLessThanOrEqual(0.99)
  })

  it('returns `first` tracks even when the artist cap rules out most of the nearest (more neighbours are fetched)', async () => {
    // 48 artists: 40 tracks at one per artist reach far beyond the seed's 200 nearest (20 artists' worth)
    const mix = await mixes.instantMix({
      seeds: [world.trackIds[3]],
      model: 'styled',
      first: 40,
      maxPerArtist: 1,
    })
    const artists = mix.tracks.map((x) => world.artistOf.get(x.trackId))
    expect(artists).toHaveLength(40)
    expect(new Set(artists).size).toBe(40)
  })

  it('flows: each next track is nearer the last one than a plain top-k of the seed would be', async () => {
    const seed = world.trackIds[5]
    const mix = (
      await mixes.instantMix({ seeds: [seed], model: 'styled', first: 15, maxPerArtist: 15 })
    ).tracks.map((x) => x.trackId)
    const v = await vectors([seed, ...mix])
    const stepSims = (order: number[]) => order.slice(1).map((id, i) => sim(v.get(order[i])!, v.get(id)!))
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
    const byCentre = [...mix].sort((a, b) => sim(v.get(seed)!, v.get(b)!) - sim(v.get(seed)!, v.get(a)!))
    expect(mean(stepSims([seed, ...mix]))).toBeGreaterThan(mean(stepSims([seed, ...byCentre])))
  })

  it('builds a path from one style to another that gets closer to `to` at every step', async () => {
    const from = world.trackIds.find((id) => world.styleOf.get(id) === 0)!
    const to = world.trackIds.find((id) => world.styleOf.get(id) === 2)!
    const path = await mixes.trackPath({ from, to, model: 'styled', steps: 10 })
    const ids = path.tracks.map((x) => x.trackId)
    expect(ids[0]).toBe(from)
    expect(ids.at(-1)).toBe(to)
    expect(path.shortened).toBe(ids.length < 10)
    // 9 of 10 on this world (one waypoint had nothing closer to `to`)
    expect(ids.length).toBeGreaterThanOrEqual(7)
    expect(new Set(ids).size).toBe(ids.length)
    const toEnd = path.tracks.map((x) => x.similarityToEnd)
    for (let i = 1; i < toEnd.length; i++) expect(toEnd[i]).toBeGreaterThan(toEnd[i - 1])
    expect(toEnd.at(-1)).toBeCloseTo(1, 5)
    expect(path.tracks[0].similarityToStart).toBeCloseTo(1, 5)
  })

  it('says a path is shorter when the library is too small', async () => {
    const path = await mixes.trackPath({ from: tiny[0], to: tiny[5], model: 'small', steps: 12 })
    expect(path.tracks.length).toBeLessThan(12)
    expect(path.tracks.length).toBeLessThanOrEqual(tiny.length)
    expect(path.shortened).toBe(true)
    expect(path.reason).toMatch(/waypoints found no unused track/)
    expect(path.tracks[0].trackId).toBe(tiny[0])
    expect(path.tracks.at(-1)!.trackId).toBe(tiny[5])
  })

  it('radio continues a mix without repeating what was played', async () => {
    const seed = world.trackIds[1]
    const played = (await mixes.instantMix({ seeds: [seed], model: 'styled', first: 10 })).tracks.map(
      (x) => x.trackId,
    )
    const next = (
      await mixes.radio({ seeds: [seed], exclude: played, model: 'styled', first: 20 })
    ).tracks.map((x) => x.trackId)
    expect(next).toHaveLength(20)
    for (const id of [seed, ...played]) expect(next).not.toContain(id)
    const keys = await recordings([seed, ...played, ...next])
    expect(new Set(keys).size).toBe(keys.length)
  })

  it('over GraphQL: a mix, a path and the library', async () => {
    const seed = toGlobalId('Track', world.trackIds[0])
    const d = await api.data(
      `query($s: ID!, $to: ID!) {
        instantMix(seeds: [$s], first: 5, model: "styled") { model { name } space tracks { similarity track { id title } } }
        trackPath(from: $s, to: $to, steps: 5, model: "styled") { shortened reason steps { similarityToEnd track { id } } }
        library { releases artists tracks tracksWithAudio exact startTracks(first: 3) { id audio { url } } }
      }`,
      { s: seed, to: toGlobalId('Track', world.trackIds[100]) },
    )
    expect(d.instantMix.model.name).toBe('styled')
    expect(d.instantMix.space).toBe('BACKBONE')
    expect(d.instantMix.tracks).toHaveLength(5)
    expect(d.trackPath.steps[0].track.id).toBe(seed)
    expect(d.library).toMatchObject({
      releases: 96,
      artists: 48,
      tracks: 480,
      tracksWithAudio: 480,
      exact: true,
    })
    expect(d.library.startTracks).toHaveLength(3)
    for (const s of d.library.startTracks) expect(s.audio.url).toMatch(/^\/audio\/tracks\/\d+$/)
  })

  it('saves a mix as a playlist of the calling key, which only a key holder can do', async () => {
    const auth = new AuthService(t.db.pool, { publicRead: true })
    const reader = (await auth.createKey('mix-saver', 'reader')).key
    const other = (await auth.createKey('mix-other', 'reader')).key
    const seed = toGlobalId('Track', world.trackIds[0])
    const mix = await api.data(
      `query($s: ID!) { instantMix(seeds: [$s], first: 6, model: "styled") { tracks { track { id } } } }`,
      { s: seed },
    )
    const ids = mix.instantMix.tracks.map((x: { track: { id: string } }) => x.track.id)
    const save = `mutation($n: String!, $t: [ID!]!) { saveMix(name: $n, tracks: $t) { id name owner public tracks { id } } }`
    const anonymous = await api.gql(save, { n: 'late night', t: ids })
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED')
    const saved = await api.gql(save, { n: 'late night', t: ids }, { authorization: `Bearer ${reader}` })
    expect(saved.body.errors).toBeUndefined()
    expect(saved.body.data.saveMix).toMatchObject({ name: 'late night', owner: 'mix-saver', public: false })
    expect(saved.body.data.saveMix.tracks.map((x: { id: string }) => x.id)).toEqual(ids)
    const mine = await api.gql(`{ playlists { id name } }`, {}, { authorization: `Bearer ${reader}` })
    expect(mine.body.data.playlists).toEqual([{ id: saved.body.data.saveMix.id, name: 'late night' }])
    const theirs = await api.gql(`{ playlists { id } }`, {}, { authorization: `Bearer ${other}` })
    expect(theirs.body.data.playlists).toEqual([])
    const bad = await api.gql(save, { n: ' ', t: ids }, { authorization: `Bearer ${reader}` })
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
    expect(bad.body.errors?.[0]?.message).toMatch(/^name: /)
  })

  it("leaves out of a listener's mix what the listener scrobbled lately, and only for that listener", async () => {
    const auth = new AuthService(t.db.pool, { publicRead: true })
    const listener = (await auth.createKey('mix-listener', 'reader')).key
    const other = (await auth.createKey('mix-stranger', 'reader')).key
    const seed = toGlobalId('Track', world.trackIds[0])
    const query = `query($s: ID!) { instantMix(seeds: [$s], first: 10, model: "styled") { tracks { track { id } } } }`
    const ids = async (key: string) =>
      (
        (await api.gql(query, { s: seed }, { authorization: `Bearer ${key}` })).body.data.instantMix
          .tracks as { track: { id: string } }[]
      ).map((x) => x.track.id)
    const before = await ids(listener)
    const heard = before.slice(0, 3)
    const { numericKey } = await import('../../src/api/global-id.ts')
    const { keyId } = (await auth.viewerFor(`Bearer ${listener}`)) as { keyId: number }
    await new ScrobbleService(t.db.pool).scrobble(
      keyId,
      heard.map((id) => numericKey(id, 'Track', 'id')),
      undefined,
      true,
      'test',
    )
    const after = await ids(listener)
    for (const id of heard) expect(after).not.toContain(id)
    expect(after).toHaveLength(10)
    expect(await ids(other)).toEqual(before)
  })

  it('names the argument of bad input', async () => {
    const seed = toGlobalId('Track', world.trackIds[0])
    const unknown = toGlobalId('Track', 999_999)
    const cases: [string, Record<string, unknown>, string][] = [
      [
        `query($s: [ID!]!) { instantMix(seeds: $s, model: "styled") { tracks { similarity } } }`,
        { s: [unknown] },
        'seeds',
      ],
      [
        `query($s: [ID!]!) { instantMix(seeds: $s, model: "styled", maxPerArtist: 0) { tracks { similarity } } }`,
        { s: [seed] },
        'maxPerArtist',
      ],
      [
        `query($s: [ID!]!) { radio(seeds: $s, first: 0, model: "styled") { tracks { similarity } } }`,
        { s: [seed] },
        'first',
      ],
      [
        `query($s: ID!, $to: ID!) { trackPath(from: $s, to: $to, steps: 101, model: "styled") { shortened } }`,
        { s: seed, to: toGlobalId('Track', world.trackIds[9]) },
        'steps',
      ],
      [
        `query($s: ID!, $to: ID!) { trackPath(from: $s, to: $to, model: "styled") { shortened } }`,
        { s: seed, to: unknown },
        'to',
      ],
      [`query($s: ID!) { trackPath(from: $s, to: $s, model: "styled") { shortened } }`, { s: seed }, 'to'],
    ]
    for (const [query, variables, field] of cases) {
      const r = await api.gql(query, variables)
      expect(r.body.errors?.[0]?.extensions?.code, query).toBe('BAD_USER_INPUT')
      expect(r.body.errors?.[0]?.message, query).toMatch(new RegExp(`^${field}: `))
    }
  })
})

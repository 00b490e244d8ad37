import crypto from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SearchVectorRepository } from '../../src/db/repositories/search-vector.repository.ts'
import { UnavailableError } from '../../src/errors.ts'
import { projectTo2d } from '../../src/ml/projection.ts'
import { EmbeddingMapService } from '../../src/services/embedding-map.service.ts'
import { refitSearchVectors } from '../../src/services/search-vectors.ts'
import { createServerTestDatabase, type TestDatabase } from '../support/database.ts'
import {
  insertModel,
  insertVectors,
  seedProbeWorld,
  WORLD_STYLES,
  type World,
} from '../support/probe-world.ts'

let t: TestDatabase
let world: World
let model: number

beforeAll(async () => {
  t = await createServerTestDatabase()
  world = await seedProbeWorld(t.db.pool, { artists: 16 }) // 160 tracks
  model = await insertModel(t.db.pool, 'map-model', 'trained', 'artist')
  await insertVectors(t.db.pool, model, world, { dims: 16, signal: 0.8, seed: 1 })
  // The raw vectors no longer match the search vectors (as after a whitening transform): the map must
  // show the search vectors, as similarity does.
  await t.db.pool.query(
    `UPDATE track_embedding SET embedding = array_fill(0.1::real, ARRAY[16])::vector WHERE track_id % 2 = 0`,
  )
}, 120_000)

afterAll(async () => {
  await t?.dispose()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('embedding maps (UMAP on a worker thread)', () => {
  it('projects the search vectors of an even sample, once for every limit and colouring', async () => {
    const computed: number[] = []
    const maps = new EmbeddingMapService(t.db.pool, {
      waitMs: 120_000,
      onComputed: (m) => computed.push(m.points),
    })
    // concurrent requests of different sizes share one computation
    const [small, all] = await Promise.all([
      maps.map(model, 'backbone', 'STYLE', 40),
      maps.map(model, 'backbone', 'STYLE', 500),
    ])
    expect(computed).toEqual([world.trackIds.length])
    expect(all).toHaveLength(world.trackIds.length)
    expect(small).toEqual(all.slice(0, 40))
    for (const p of all) expect(p.group).toBe(WORLD_STYLES[world.styleOf.get(p.trackId)!].style)

    // what a fresh projection of the search vectors, in the sample's order (md5 of the id), gives
    const search = await new SearchVectorRepository(t.db.pool).vectors(model, 'backbone')
    const md5 = (id: number) => crypto.createHash('md5').update(String(id)).digest('hex')
    const order = [...search.keys()].sort((a, b) => (md5(a) < md5(b) ? -1 : 1))
    expect(all.map((p) => p.trackId)).toEqual(order)
    const xy = projectTo2d(order.map((id) => search.get(id)!))
    all.forEach((p, i) => {
      expect(p.x).toBeCloseTo(xy[2 * i], 5)
      expect(p.y).toBeCloseTo(xy[2 * i + 1], 5)
    })

    const byGenre = await maps.map(model, 'backbone', 'GENRE', 100)
    expect(byGenre.map(({ trackId, x, y }) => ({ trackId, x, y }))).toEqual(
      all.slice(0, 100).map(({ trackId, x, y }) => ({ trackId, x, y })),
    )
    for (const p of byGenre) expect(p.group).toBe(WORLD_STYLES[world.styleOf.get(p.trackId)!].genre)
    expect(computed).toHaveLength(1)

    // an embed pass refits the search transform: the map is made again
    await refitSearchVectors(t.db, model, 'backbone', { kind: 'raw' })
    await maps.map(model, 'backbone', 'STYLE', 10)
    expect(computed).toHaveLength(2)
    // so are vectors written without a refit (a pass stopped early)
    await t.db.pool.query(`DELETE FROM track_embedding WHERE model_id = $1 AND track_id = $2`, [
      model,
      world.trackIds[0],
    ])
    const fewer = await maps.map(model, 'backbone', 'STYLE', 500)
    expect(computed).toEqual([160, 160, 159])
    expect(fewer.map((p) => p.trackId)).not.toContain(world.trackIds[0])
  }, 300_000)

  it('answers UNAVAILABLE while a map computes longer than a request may wait, and the map once it is ready', async () => {
    let computed = 0
    const maps = new EmbeddingMapService(t.db.pool, { waitMs: 1, onComputed: () => computed++ })
    await expect(maps.map(model, 'backbone', 'STYLE', 20)).rejects.toBeInstanceOf(UnavailableError)
    let points = null
    for (let tries = 0; !points && tries < 600; tries++) {
      await sleep(200)
      points = await maps
        .map(model, 'backbone', 'STYLE', 20)
        .catch((err) => (err instanceof UnavailableError ? null : Promise.reject(err)))
    }
    expect(points).toHaveLength(20)
    expect(computed).toBe(1)
  }, 300_000)
})

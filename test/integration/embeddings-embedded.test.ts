import fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig, type Config } from '../../src/config/config.ts'
import { migrate, openDatabase, type Database } from '../../src/db/database.ts'
import { EmbeddingRepository } from '../../src/db/repositories/embedding.repository.ts'
import { SimilarityService } from '../../src/services/similarity.service.ts'
import { runCli } from '../support/cli.ts'
import { tmpDir } from '../support/database.ts'
import { linkSynthAudio } from '../support/link-audio.ts'

/**
 * The same pass on the embedded database (PGlite with pgvector): no COPY there, so vectors go through the
 * batched INSERT … unnest path; the HNSW index, centroids and search must work the same.
 */
describe('embedding tracks on the embedded database', () => {
  let dataDir: string
  let synth: string
  let linked: number[]
  const config = (): Config => loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' })
  const withDb = async <T>(fn: (db: Database) => Promise<T>): Promise<T> => {
    const db = await openDatabase(config())
    try {
      await migrate(db)
      return await fn(db)
    } finally {
      await db.close()
    }
  }

  beforeAll(async () => {
    dataDir = tmpDir('discograph-embed-pglite-')
    synth = tmpDir('discograph-embed-pglite-synth-')
    const env = { DATA_DIR: dataDir }
    expect((await runCli(['synth', '--out', synth, '--size', 'tiny', '--fast'], env)).code).toBe(0)
    const ingest = await runCli(['ingest', 'discogs', synth], env)
    expect(ingest.code, ingest.stderr).toBe(0)
    linked = await withDb((db) => linkSynthAudio(db.pool, synth, dataDir))
  })
  afterAll(() => {
    for (const d of [dataDir, synth]) if (d) fs.rmSync(d, { recursive: true, force: true })
  })

  it('embeds, indexes and answers similar tracks', async () => {
    const r = await runCli(['embed', '--model', 'random-tiny', '--space', 'projection', '--json'], {
      DATA_DIR: dataDir,
    })
    expect(r.code, r.stderr).toBe(0)
    const s = JSON.parse(r.stdout)
    expect(s.tracks).toEqual({ withAudio: linked.length, embedded: linked.length, skipped: 0 })
    expect(s.spaces).toMatchObject([
      { space: 'projection', dims: 512, written: linked.length, total: linked.length, index: 'built' },
    ])
    expect(s.spaces[0].artists).toBeGreaterThan(0)

    const again = JSON.parse(
      (
        await runCli(['embed', '--model', 'random-tiny', '--space', 'projection', '--json'], {
          DATA_DIR: dataDir,
        })
      ).stdout,
    )
    expect(again.tracks.skipped).toBe(linked.length)

    await withDb(async (db) => {
      expect(db.kind).toBe('embedded')
      expect(
        await new EmbeddingRepository(db.pool, db.kind).indexDefinition(s.model.id, 'projection'),
      ).toContain('USING hnsw')
      const search = new SimilarityService(db)
      const res = await search.similarTracks({
        trackIds: [linked[0]],
        model: 'random-tiny',
        first: 5,
        filter: { excludeSameRelease: true },
      })
      expect(res.tracks).toHaveLength(5)
      const exact = await search.exactSimilarTracks({
        trackIds: [linked[0]],
        model: 'random-tiny',
        first: 5,
        filter: { excludeSameRelease: true },
      })
      expect(res.tracks.map((x) => x.trackId)).toEqual(exact.map((x) => x.trackId))
      const stored = await new EmbeddingRepository(db.pool, db.kind).vectors(s.model.id, 'projection', [
        linked[0],
      ])
      expect(stored.get(linked[0])!.reduce((n, x) => n + x * x, 0)).toBeCloseTo(1, 5)
    })
  })
})

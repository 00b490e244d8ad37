import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { patchCount } from '../../src/audio/patches.ts'
import { artistsOfTrackSql, EmbeddingRepository } from '../../src/db/repositories/embedding.repository.ts'
import { BadInputError, ModelShapeError, NotFoundError } from '../../src/errors.ts'
import { embedHandler } from '../../src/jobs/handlers/embed.ts'
import type { JobContext, JobProgress } from '../../src/jobs/worker.ts'
import { createLogger } from '../../src/logger.ts'
import { meanNormalized } from '../../src/ml/embedding/pooling.ts'
import { embedTracks } from '../../src/services/embedding.service.ts'
import { SearchVectorRepository } from '../../src/db/repositories/search-vector.repository.ts'
import { ModelService } from '../../src/services/model.service.ts'
import { SimilarityService } from '../../src/services/similarity.service.ts'
import { runCli } from '../support/cli.ts'
import { createServerTestDatabase, tmpDir, type TestDatabase } from '../support/database.ts'
import { linkSynthAudio } from '../support/link-audio.ts'
import { writeTestOnnxGraph } from '../support/onnx.ts'

/**
 * The embedding pass end to end on a real server: a synthetic tiny catalog imported through the CLI, its
 * audio in the feature store, the random-weights model through `discograph embed`, then resuming,
 * centroids, similarity search, ONNX import and the job handler.
 */
describe('embedding tracks into pgvector (real server)', () => {
  let t: TestDatabase
  let synth: string
  let linked: number[]
  let env: Record<string, string>

  beforeAll(async () => {
    t = await createServerTestDatabase()
    synth = tmpDir('discograph-embed-synth-')
    env = { DATABASE_URL: t.config.databaseUrl!, DATA_DIR: t.config.dataDir }
    const made = await runCli(['synth', '--out', synth, '--size', 'tiny', '--fast'], env)
    expect(made.code, made.stderr).toBe(0)
    const ingest = await runCli(['ingest', 'discogs', synth], env)
    expect(ingest.code, ingest.stderr).toBe(0)
    linked = await linkSynthAudio(t.db.pool, synth, t.config.dataDir)
  })
  afterAll(async () => {
    await t?.dispose()
    if (synth) fs.rmSync(synth, { recursive: true, force: true })
  })

  const q = async (sql: string, values: unknown[] = []) => (await t.db.pool.query(sql, values)).rows

  it('embeds every linked track with the random model, in both spaces, and indexes each', async () => {
    expect(linked.length).toBeGreaterThan(20)
    const r = await runCli(['embed', '--model', 'random-tiny', '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const s = JSON.parse(r.stdout)
    expect(s.model).toMatchObject({ name: 'random-tiny', kind: 'random' })
    expect(s.tracks).toEqual({ withAudio: linked.length, embedded: linked.length, skipped: 0 })
    expect(
      s.spaces.map((x: { space: string; dims: number; written: number; index: string }) => [
        x.space,
        x.dims,
        x.written,
        x.index,
      ]),
    ).toEqual([
      ['backbone', 320, linked.length, 'built'],
      ['projection', 512, linked.length, 'built'],
    ])
    const rows = await q(
      `SELECT te.space, te.track_id, te.patches, vector_dims(te.embedding) AS dims, vector_norm(te.embedding) AS norm, af.n_frames
         FROM track_embedding te JOIN audio_file af ON af.track_id = te.track_id WHERE te.model_id = $1`,
      [s.model.id],
    )
    expect(rows).toHaveLength(2 * linked.length)
    for (const row of rows) {
      expect(row.dims).toBe(row.space === 'backbone' ? 320 : 512)
      expect(row.norm).toBeCloseTo(1, 5)
      expect(row.patches).toBe(patchCount(row.n_frames))
    }
    const repo = new EmbeddingRepository(t.db.pool, t.db.kind)
    // the index is on the search vectors: centred, as wide as the model's
    for (const [space, dims] of [
      ['backbone', 320],
      ['projection', 512],
    ] as const) {
      const sp = s.spaces.find((x: { space: string }) => x.space === space)
      expect(sp.search).toMatchObject({ kind: 'center', dims, fittedOn: linked.length, refit: true })
      const transform = (await new SearchVectorRepository(t.db.pool).transform(s.model.id, space))!
      expect([transform.kind, transform.inDims, transform.outDims]).toEqual(['center', dims, dims])
      const def = await repo.indexDefinition(s.model.id, space)
      expect(def).toContain('USING hnsw')
      expect(def).toContain(`((search)::vector(${dims})) vector_cosine_ops`)
      expect(def).toContain(`WHERE ((model_id = ${s.model.id}) AND (space = '${space}'::text))`)
    }
  })

  it('a second run writes nothing and keeps the index; deleted vectors are re-embedded identically', async () => {
    const model = await new ModelService(t.db, t.config).get('random-tiny')
    const repo = new EmbeddingRepository(t.db.pool, t.db.kind)
    const before = await repo.vectors(model.id, 'projection')
    const again = await runCli(['embed', '--model', 'random-tiny', '--json'], env)
    expect(again.code, again.stderr).toBe(0)
    const s = JSON.parse(again.stdout)
    expect(s.tracks).toEqual({ withAudio: linked.length, embedded: 0, skipped: linked.length })
    expect(s.spaces.map((x: { written: number; index: string }) => [x.written, x.index])).toEqual([
      [0, 'kept'],
      [0, 'kept'],
    ])

    const gone = linked.slice(0, 5)
    await q(
      `DELETE FROM track_embedding WHERE model_id = $1 AND space = 'projection' AND track_id = ANY($2)`,
      [model.id, gone],
    )
    const progress: number[] = []
    const resumed = await embedTracks(t.db, t.config, {
      model: 'random-tiny',
      space: 'both',
      batch: 3,
      onProgress: (p) => progress.push(p.tracksDone),
    })
    expect(resumed.tracks).toEqual({ withAudio: linked.length, embedded: 5, skipped: linked.length - 5 })
    expect(resumed.spaces.map((x) => [x.space, x.written, x.total])).toEqual([
      ['backbone', 0, linked.length],
      ['projection', 5, linked.length],
    ])
    expect(progress.at(-1)).toBe(5)
    const after = await repo.vectors(model.id, 'projection')
    expect(after.size).toBe(before.size)
    for (const id of gone) {
      const a = after.get(id)!
      const b = before.get(id)!
      for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 5)
    }
    const dup = await q(
      `SELECT count(*)::int AS n, count(DISTINCT (space, track_id))::int AS d FROM track_embedding WHERE model_id = $1`,
      [model.id],
    )
    expect(dup[0].n).toBe(dup[0].d)
  })

  it("keeps artist and label centroids: the unit mean of their tracks' search vectors", async () => {
    const model = await new ModelService(t.db, t.config).get('random-tiny')
    const repo = new EmbeddingRepository(t.db.pool, t.db.kind)
    const vectors = await new SearchVectorRepository(t.db.pool).vectors(model.id, 'projection')
    const width = vectors.values().next().value!.length
    const byArtist = new Map<number, number[]>()
    for (const id of vectors.keys()) {
      for (const { artist_id } of await q(`SELECT artist_id FROM (${artistsOfTrackSql('$1::bigint')}) a`, [
        id,
      ])) {
        byArtist.set(artist_id, [...(byArtist.get(artist_id) ?? []), id])
      }
    }
    const stored = await q(
      `SELECT artist_id, tracks FROM artist_centroid WHERE model_id = $1 AND space = 'projection' ORDER BY 1`,
      [model.id],
    )
    expect(stored.map((r) => [r.artist_id, r.tracks])).toEqual(
      [...byArtist].sort((a, b) => a[0] - b[0]).map(([a, ids]) => [a, ids.length]),
    )
    expect(byArtist.has(194)).toBe(false)
    for (const [artist, ids] of byArtist) {
      const flat = new Float32Array(ids.length * width)
      ids.forEach((id, i) => flat.set(vectors.get(id)!, i * width))
      const expected = meanNormalized(flat, width)
      const got = (await repo.centroid('artist', artist, model.id, 'projection'))!.vector
      expect(got.length).toBe(width)
      for (let i = 0; i < width; i += 7) expect(got[i]).toBeCloseTo(expected[i], 5)
    }
    const labels = await q(
      `SELECT count(*)::int AS n FROM label_centroid WHERE model_id = $1 AND space = 'projection'`,
      [model.id],
    )
    expect(labels[0].n).toBeGreaterThan(0)
  })

  it('answers similar tracks, artists and labels, with the exclusions asked for', async () => {
    const search = new SimilarityService(t.db)
    const seed = linked[3]
    const all = await search.similarTracks({ trackIds: [seed], model: 'random-tiny', first: 8 })
    expect(all.space).toBe('projection')
    expect(all.tracks).toHaveLength(8)
    expect(all.tracks.map((x) => x.trackId)).not.toContain(seed)
    const sims = all.tracks.map((x) => x.similarity)
    expect([...sims].sort((a, b) => b - a)).toEqual(sims)
    for (const x of all.tracks) {
      expect(x.similarity).toBeGreaterThanOrEqual(0)
      expect(x.similarity).toBeLessThanOrEqual(1)
      expect(x.similarity).toBeCloseTo(1 - x.distance / 2, 9)
    }
    const exact = await search.exactSimilarTracks({ trackIds: [seed], model: 'random-tiny', first: 8 })
    expect(all.tracks.map((x) => x.trackId)).toEqual(exact.map((x) => x.trackId))

    const seedArtists = (await q(`SELECT artist_id FROM (${artistsOfTrackSql('$1::bigint')}) a`, [seed])).map(
      (r) => r.artist_id,
    )
    const seedRelease = (await q(`SELECT release_id FROM track WHERE id = $1`, [seed]))[0].release_id
    const other = await search.similarTracks({
      trackIds: [seed],
      model: 'random-tiny',
      first: 5,
      filter: { excludeSameArtist: true, excludeSameRelease: true },
    })
    expect(other.tracks.length).toBeGreaterThan(0)
    for (const x of other.tracks) {
      const artists = (
        await q(`SELECT artist_id FROM (${artistsOfTrackSql('$1::bigint')}) a`, [x.trackId])
      ).map((r) => r.artist_id)
      expect(artists.filter((a) => seedArtists.includes(a))).toEqual([])
      expect((await q(`SELECT release_id FROM track WHERE id = $1`, [x.trackId]))[0].release_id).not.toBe(
        seedRelease,
      )
    }
    const byVector = await search.embeddingOf(seed, 'random-tiny')
    expect(byVector!.vector).toHaveLength(512)
    const fromVector = await search.similarTracks({
      embedding: Array.from(byVector!.vector),
      model: 'random-tiny',
      first: 3,
    })
    expect(fromVector.tracks[0]).toMatchObject({ trackId: seed })
    expect(fromVector.tracks[0].similarity).toBeCloseTo(1, 5)

    const artist = seedArtists[0]
    const artists = await search.similarArtists({ id: artist, model: 'random-tiny', first: 5, pairs: 2 })
    expect(artists.length).toBeGreaterThan(0)
    expect(artists.map((a) => a.id)).not.toContain(artist)
    for (const a of artists) {
      expect(a.pairs.length).toBeGreaterThan(0)
      expect(a.pairs.length).toBeLessThanOrEqual(2)
      for (const p of a.pairs) {
        expect(
          (await q(`SELECT artist_id FROM (${artistsOfTrackSql('$1::bigint')}) a`, [p.trackId])).map(
            (r) => r.artist_id,
          ),
        ).toContain(artist)
        expect(
          (await q(`SELECT artist_id FROM (${artistsOfTrackSql('$1::bigint')}) a`, [p.otherTrackId])).map(
            (r) => r.artist_id,
          ),
        ).toContain(a.id)
      }
    }
    const label = (await q(`SELECT label_id FROM label_centroid ORDER BY tracks DESC LIMIT 1`))[0].label_id
    const labels = await search.similarLabels({ id: label, model: 'random-tiny' })
    expect(labels.map((l) => l.id)).not.toContain(label)
  })

  it('serves similarity on search vectors: centred, so unrelated tracks score about 0.5, and a raw query vector goes through the same transform', async () => {
    const model = await new ModelService(t.db, t.config).get('random-tiny')
    const search = new SimilarityService(t.db)
    const raw = await new EmbeddingRepository(t.db.pool, t.db.kind).vectors(model.id, 'projection')
    const { vectors } = await search.searchVectors([...raw.keys()], 'random-tiny', 'projection')
    const meanCosine = (vs: Float32Array[]) => {
      let sum = 0
      let n = 0
      for (let i = 0; i < vs.length; i++)
        for (let j = i + 1; j < vs.length; j++) {
          let d = 0
          for (let k = 0; k < vs[i].length; k++) d += vs[i][k] * vs[j][k]
          sum += d
          n++
        }
      return sum / n
    }
    // random weights' mean-pooled features sit in a narrow cone; the search vectors do not
    expect(meanCosine([...raw.values()])).toBeGreaterThan(0.8)
    expect(Math.abs(meanCosine([...vectors.values()]))).toBeLessThan(0.05)
    const seed = linked[5]
    const bySeed = await search.similarTracks({ trackIds: [seed], model: 'random-tiny', first: 6 })
    const byVector = await search.similarTracks({ embedding: raw.get(seed)!, model: 'random-tiny', first: 7 })
    expect(byVector.tracks[0]).toMatchObject({ trackId: seed })
    expect(byVector.tracks[0].similarity).toBeCloseTo(1, 5)
    expect(byVector.tracks.slice(1).map((x) => x.trackId)).toEqual(bySeed.tracks.map((x) => x.trackId))
    // the scores spread: the nearest track scores well above the farthest
    const all = await search.similarTracks({
      trackIds: [seed],
      model: 'random-tiny',
      first: linked.length - 1,
    })
    expect(all.tracks[0].similarity - all.tracks[all.tracks.length - 1].similarity).toBeGreaterThan(0.3)
  })

  it('refuses bad questions, naming what is wrong', async () => {
    const search = new SimilarityService(t.db)
    const model = await new ModelService(t.db, t.config).get('random-tiny')
    const unembedded = (
      await q(`INSERT INTO track (release_id, track_key, sequence, position, title, type)
               SELECT release_id, 'X9', 99, 'X9', 'no audio', 'track' FROM track LIMIT 1 RETURNING id`)
    )[0].id
    await expect(
      search.similarTracks({ trackIds: [Number(unembedded)], model: 'random-tiny' }),
    ).rejects.toThrow(NotFoundError)
    await expect(
      search.similarTracks({ trackIds: [Number(unembedded)], model: 'random-tiny' }),
    ).rejects.toThrow(`projection vector of model random-tiny for track ${unembedded} not found`)
    await expect(search.similarTracks({ embedding: [1, 2, 3], model: model.id })).rejects.toThrow(
      "embedding: has 3 values; this model's space has 512",
    )
    await expect(
      search.similarTracks({
        embedding: new Array(512).fill(0.1),
        model: 'random-tiny',
        filter: { excludeSameArtist: true },
      }),
    ).rejects.toThrow(BadInputError)
    await expect(
      search.similarTracks({ trackIds: [linked[0]], model: 'random-tiny', first: 0 }),
    ).rejects.toThrow('first: must be an integer from 1 to 200')
    await expect(search.similarTracks({ trackIds: [linked[0]], model: 'no-such-model' })).rejects.toThrow(
      'model no-such-model not found',
    )
  })

  it('imports an ONNX graph, embeds with it and refuses a broken one', async () => {
    const dir = tmpDir('discograph-embed-onnx-')
    try {
      const file = path.join(dir, 'discogs_artist_embeddings-effnet-bs64-1.onnx')
      writeTestOnnxGraph(file, {
        inputShape: [64, 128, 96],
        outputs: [
          { name: 'PartitionedCall:0', dims: 512 },
          { name: 'PartitionedCall:1', dims: 1280 },
        ],
      })
      const imported = await runCli(['models', 'import-onnx', file, '--name', 'effnet-artist', '--json'], env)
      expect(imported.code, imported.stderr).toBe(0)
      const m = JSON.parse(imported.stdout)
      expect(m).toMatchObject({
        name: 'effnet-artist',
        kind: 'onnx',
        association: 'artist',
        dims: { backbone: 1280, projection: 512 },
        created: true,
      })
      expect(m.config.licence).toMatch(/CC BY-NC-SA 4\.0/)
      expect(fs.existsSync(m.weightsPath)).toBe(true)
      const twice = await runCli(['models', 'import-onnx', file, '--name', 'other-name'], env)
      expect(twice.stdout).toMatch(/already registered as model \d+ effnet-artist/)

      const s = await embedTracks(t.db, t.config, { model: 'effnet-artist', space: 'backbone' })
      expect(s.spaces).toMatchObject([
        { space: 'backbone', dims: 1280, written: linked.length, index: 'built' },
      ])

      const broken = path.join(dir, 'broken.onnx')
      writeTestOnnxGraph(broken, { outputs: [{ name: 'PartitionedCall:0', dims: 400, sigmoid: true }] })
      const bad = await runCli(['models', 'import-onnx', broken, '--name', 'broken'], env)
      expect(bad.code).toBe(1)
      expect(bad.stderr).toContain(`discograph: ${broken}: no embedding output`)
      await expect(new ModelService(t.db, t.config).importOnnx(broken, { name: 'broken' })).rejects.toThrow(
        ModelShapeError,
      )

      // A model's file that changed after import is refused rather than mixing two graphs' vectors.
      fs.writeFileSync(m.weightsPath, fs.readFileSync(broken))
      await q(`DELETE FROM track_embedding WHERE model_id = $1`, [m.id])
      await expect(embedTracks(t.db, t.config, { model: 'effnet-artist' })).rejects.toThrow(
        /does not match model effnet-artist's fingerprint/,
      )
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("registers a training run's newest checkpoint as a model and embeds with it", async () => {
    const trained = await runCli(
      [
        'train',
        '--association',
        'release',
        '--size',
        'tiny',
        '--steps',
        '2',
        '--batch',
        '4',
        '--checkpoint-every',
        '1',
        '--name',
        'tiny-run',
        '--track-pooling',
        'mean-std',
        '--json',
      ],
      env,
    )
    expect(trained.code, trained.stderr).toBe(0)
    const run = JSON.parse(trained.stdout)
    const s = await embedTracks(t.db, t.config, { model: 'tiny-run', space: 'projection' })
    expect(s.model).toMatchObject({ name: 'tiny-run', kind: 'trained' })
    expect(s.tracks.embedded).toBe(linked.length)
    const models = new ModelService(t.db, t.config)
    const m = await models.get('tiny-run')
    expect(m).toMatchObject({
      trainingRunId: run.id,
      association: 'release',
      // mean-std pooling: the mean and the deviation over the patches, twice the encoder's widths
      dims: { backbone: 640, projection: 1024 },
      config: { step: 2, trackPooling: 'mean-std' },
    })
    const stored = await q(
      `SELECT vector_dims(embedding) AS dims, vector_norm(embedding) AS norm FROM track_embedding
        WHERE model_id = $1 AND space = 'projection'`,
      [m.id],
    )
    expect(stored).toHaveLength(linked.length)
    for (const row of stored) {
      expect(row.dims).toBe(1024)
      expect(row.norm).toBeCloseTo(1, 4)
    }
    expect(m.metrics).toHaveProperty('loss')
    expect(fs.existsSync(path.join(m.weightsPath!, 'model.json'))).toBe(true)
    expect((await models.registerRun(run.id)).id).toBe(m.id) // same weights, same model
    expect(m.fingerprint).not.toBe((await models.get('random-tiny')).fingerprint)
  })

  it('runs as the `embed` job, reporting progress, and lists models', async () => {
    const progress: JobProgress[] = []
    const ctx: JobContext = {
      jobId: 'test-job',
      attempt: 1,
      signal: new AbortController().signal,
      db: t.db,
      config: t.config,
      logger: createLogger('silent'),
      progress: (p) => progress.push(p),
      log: () => undefined,
    }
    const out = (await embedHandler({ model: 'random-tiny-s2', space: 'projection', batch: 4 }, ctx)) as {
      model: { name: string }
      tracks: { embedded: number }
    }
    expect(out.model.name).toBe('random-tiny-s2')
    expect(out.tracks.embedded).toBe(linked.length)
    expect(progress.at(-1)).toMatchObject({ fraction: 1, rateUnit: 'patches/s' })

    const listed = await runCli(['models', 'list', '--json'], env)
    const models = JSON.parse(listed.stdout) as { name: string; embedded: Record<string, number> }[]
    expect(models.find((x) => x.name === 'random-tiny')!.embedded).toEqual({
      backbone: linked.length,
      projection: linked.length,
    })
    expect(models.find((x) => x.name === 'random-tiny-s2')!.embedded).toEqual({ projection: linked.length })
    // two seeds of one architecture are two models with different weights
    const a = await new ModelService(t.db, t.config).get('random-tiny')
    const b = await new ModelService(t.db, t.config).get('random-tiny-s2')
    expect(a.fingerprint).not.toBe(b.fingerprint)
  })
})

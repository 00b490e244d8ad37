import fs from 'node:fs'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { FeatureStore } from '../../src/audio/feature-store.ts'
import { MEL_BANDS } from '../../src/audio/mel.ts'
import { PATCH_FRAMES } from '../../src/audio/patches.ts'
import { NonFiniteEmbeddingError } from '../../src/errors.ts'
import type { PatchEncoder } from '../../src/ml/embedding/patch-encoder.ts'
import { embedTracks } from '../../src/services/embedding.service.ts'
import { ModelService } from '../../src/services/model.service.ts'
import { runCli } from '../support/cli.ts'
import { createServerTestDatabase, tmpDir, type TestDatabase } from '../support/database.ts'
import { linkSynthAudio } from '../support/link-audio.ts'

/**
 * No vector with NaN or ±Infinity is ever stored: the embedding pass checks every space's vectors of a batch
 * before writing any of them, and fails naming the model, the track and its file, with nothing of that
 * batch written; the CLI answers with that sentence, not a stack trace. Real server, real tiny model; the
 * bad vectors come from an encoder wrapped to spoil one track's projection, and from a feature file
 * whose frames are NaN.
 */
describe('embedding never stores a non-finite vector (real server)', () => {
  let t: TestDatabase
  let synth: string
  let linked: number[]
  let env: Record<string, string>

  beforeAll(async () => {
    t = await createServerTestDatabase()
    synth = tmpDir('discograph-finite-synth-')
    env = { DATABASE_URL: t.config.databaseUrl!, DATA_DIR: t.config.dataDir }
    const made = await runCli(['synth', '--out', synth, '--size', 'tiny', '--fast'], env)
    expect(made.code, made.stderr).toBe(0)
    const ingest = await runCli(['ingest', 'discogs', synth], env)
    expect(ingest.code, ingest.stderr).toBe(0)
    linked = (await linkSynthAudio(t.db.pool, synth, t.config.dataDir)).sort((a, b) => a - b)
  })
  afterAll(async () => {
    await t?.dispose()
    if (synth) fs.rmSync(synth, { recursive: true, force: true })
  })
  afterEach(() => {
    vi.restoreAllMocks()
  })

  const q = async (sql: string, values: unknown[] = []) => (await t.db.pool.query(sql, values)).rows
  const stored = async (model: string, space: string) =>
    (
      await q(
        `SELECT te.track_id FROM track_embedding te JOIN model m ON m.id = te.model_id
          WHERE m.name = $1 AND te.space = $2 ORDER BY 1`,
        [model, space],
      )
    ).map((r) => Number(r.track_id))
  const describeTrack = async (trackId: number) =>
    (
      await q(
        `SELECT t.title, af.path FROM track t JOIN audio_file af ON af.track_id = t.id WHERE t.id = $1`,
        [trackId],
      )
    )[0]

  it('a batch with one NaN projection writes nothing of the batch, in either space, and names model, track and file', async () => {
    // The 6th track's first patch: its projection row gets a NaN, its backbone row stays finite.
    const victim = linked[5]
    const store = new FeatureStore(t.config.dataDir)
    const [{ sha256, n_frames: nFrames }] = await q(
      `SELECT sha256, n_frames FROM audio_file WHERE track_id = $1`,
      [victim],
    )
    const marker = new Float32Array(PATCH_FRAMES * MEL_BANDS)
    store.readPatchInto(sha256, nFrames, 0, 62, marker)
    store.close()
    const open = ModelService.prototype.openEncoder
    vi.spyOn(ModelService.prototype, 'openEncoder').mockImplementation(async function (
      this: ModelService,
      m,
    ) {
      return spoilProjection(await open.call(this, m), marker)
    })

    const error = await embedTracks(t.db, t.config, { model: 'random-tiny', writeEvery: 4, batch: 1 }).catch(
      (e) => e,
    )
    expect(error).toBeInstanceOf(NonFiniteEmbeddingError)
    const { title, path } = await describeTrack(victim)
    expect(error.message).toBe(
      `model random-tiny gave track ${victim} ${JSON.stringify(title)} (${path}) a projection vector with NaN at dimension 0; ` +
        'nothing of this batch was written',
    )
    expect(error).toMatchObject({
      model: 'random-tiny',
      space: 'projection',
      track: { id: victim, title, path },
    })
    // Tracks are embedded in id order, one patch per forward pass, written 4 at a time: the first batch is
    // in, the victim's (5–8) is not,
    // not even its finite backbone vectors.
    expect(await stored('random-tiny', 'backbone')).toEqual(linked.slice(0, 4))
    expect(await stored('random-tiny', 'projection')).toEqual(linked.slice(0, 4))
    expect(await q(`SELECT * FROM artist_centroid`)).toEqual([])

    // With a sound encoder the pass resumes after the written batch and completes.
    vi.restoreAllMocks()
    const s = await embedTracks(t.db, t.config, { model: 'random-tiny', writeEvery: 4, batch: 1 })
    expect(s.tracks).toMatchObject({ withAudio: linked.length, embedded: linked.length - 4, skipped: 4 })
    expect(await stored('random-tiny', 'projection')).toEqual(linked)
  })

  it('the CLI names the track whose features hold NaN, without a stack trace, and writes nothing of its batch', async () => {
    const victim = linked[2]
    const [{ sha256 }] = await q(`SELECT sha256 FROM audio_file WHERE track_id = $1`, [victim])
    const file = new FeatureStore(t.config.dataDir).pathOf(sha256)
    const original = fs.readFileSync(file)
    const spoilt = Buffer.from(original)
    for (let o = 16; o + 4 <= spoilt.length; o += 4) spoilt.writeFloatLE(NaN, o) // every frame, after the header
    fs.writeFileSync(file, spoilt)
    try {
      const r = await runCli(['embed', '--model', 'random-tiny-s2'], env)
      const { title, path } = await describeTrack(victim)
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(
        `discograph: model random-tiny-s2 gave track ${victim} ${JSON.stringify(title)} (${path}) a backbone vector with NaN at dimension 0`,
      )
      expect(r.stderr).not.toMatch(/^\s+at /m)
      // One batch (256 tracks) holds the whole tiny catalog: nothing was written.
      expect(await stored('random-tiny-s2', 'backbone')).toEqual([])
      expect(await stored('random-tiny-s2', 'projection')).toEqual([])
    } finally {
      fs.writeFileSync(file, original)
    }
  })
})

/** Wraps an encoder so that the projection of any patch equal to `marker` starts with NaN. */
function spoilProjection(encoder: PatchEncoder, marker: Float32Array): PatchEncoder {
  const size = marker.length
  return {
    ...encoder,
    dims: encoder.dims,
    preferredBatch: encoder.preferredBatch,
    async encode(patches, count, spaces) {
      const out = await encoder.encode(patches, count, spaces)
      const dims = encoder.dims.projection!
      for (let i = 0; i < count; i++) {
        const patch = patches.subarray(i * size, (i + 1) * size)
        if (out.projection && patch.every((v, j) => v === marker[j])) out.projection[i * dims] = NaN
      }
      return out
    },
    dispose: () => encoder.dispose(),
  }
}

import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toGlobalId } from '../../src/api/global-id.ts'
import { jobHandlers } from '../../src/jobs/handlers/index.ts'
import { JobQueue } from '../../src/jobs/queue.ts'
import { JobWorker } from '../../src/jobs/worker.ts'
import { createLogger } from '../../src/logger.ts'
import { AuthService } from '../../src/services/auth.service.ts'
import { featureStorePatchSource } from '../../src/services/patch-source.ts'
import { embedTracks } from '../../src/services/embedding.service.ts'
import { ModelService } from '../../src/services/model.service.ts'
import { importOnnxHead } from '../../src/services/onnx-probe.service.ts'
import { predictAll, predictionsFor, trainProbe } from '../../src/services/probe.service.ts'
import { startTestApi, type TestApi } from '../support/api.ts'
import { runCli } from '../support/cli.ts'
import { createServerTestDatabase, tmpDir, type TestDatabase } from '../support/database.ts'
import {
  discogsStyles,
  encoderMetadata,
  headMetadata,
  JAMENDO_MOODS,
  writeJson,
} from '../support/essentia-metadata.ts'
import { linkSynthAudio } from '../support/link-audio.ts'
import {
  expectedHeadOutput,
  expectedTestOutput,
  writeTestOnnxGraph,
  type TestGraph,
} from '../support/onnx.ts'

/**
 * Pretrained taggers without training, end to end on a real server: a synthetic tiny catalog with audio in
 * the feature store, an encoder shaped like Essentia's discogs-effnet-bsdynamic-1 (melspectrogram [N, 128,
 * 96] → activations [N, 400], embeddings [N, 1280]) imported with its metadata JSON, and a head shaped like
 * mtg_jamendo_moodtheme-discogs-effnet-1 ([N, 1280] → [N, 56]) imported over it. The stored scores are
 * checked against what the graphs compute on each patch, averaged over the track's patches.
 */
describe('ONNX class outputs and heads as probes (real server)', () => {
  let t: TestDatabase
  let synth: string
  let dir: string
  let linked: number[]
  let env: Record<string, string>
  let encoder: TestGraph
  let head: TestGraph
  let encoderFile: string
  let encoderJson: string
  let headFile: string
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v))

  beforeAll(async () => {
    t = await createServerTestDatabase()
    synth = tmpDir('discograph-onnx-probes-synth-')
    dir = tmpDir('discograph-onnx-probes-')
    env = { DATABASE_URL: t.config.databaseUrl!, DATA_DIR: t.config.dataDir }
    const made = await runCli(['synth', '--out', synth, '--size', 'tiny', '--fast'], env)
    expect(made.code, made.stderr).toBe(0)
    const ingest = await runCli(['ingest', 'discogs', synth], env)
    expect(ingest.code, ingest.stderr).toBe(0)
    linked = await linkSynthAudio(t.db.pool, synth, t.config.dataDir)

    encoderFile = path.join(dir, 'discogs-effnet-bsdynamic-1.onnx')
    encoder = writeTestOnnxGraph(encoderFile, {
      outputs: [
        { name: 'activations', dims: 400, sigmoid: true },
        { name: 'embeddings', dims: 1280 },
      ],
    })
    encoderJson = writeJson(path.join(dir, 'discogs-effnet-bsdynamic-1.json'), encoderMetadata())
    headFile = path.join(dir, 'mtg_jamendo_moodtheme-discogs-effnet-1.onnx')
    head = writeTestOnnxGraph(headFile, {
      inputName: 'embeddings',
      inputShape: ['batch_size', 1280],
      outputs: [{ name: 'activations', dims: 56, sigmoid: true }],
      seed: 21,
    })
    writeJson(path.join(dir, 'mtg_jamendo_moodtheme-discogs-effnet-1.json'), headMetadata(JAMENDO_MOODS))
  })
  afterAll(async () => {
    await t?.dispose()
    for (const d of [synth, dir]) if (d) fs.rmSync(d, { recursive: true, force: true })
  })

  const q = async (sql: string, values: unknown[] = []) => (await t.db.pool.query(sql, values)).rows
  const stored = async (probe: string, track: number): Promise<number[]> =>
    (
      await q(
        `SELECT pp.scores FROM probe_prediction pp JOIN probe p ON p.id = pp.probe_id WHERE p.name = $1 AND pp.track_id = $2`,
        [probe, track],
      )
    )[0]?.scores
  const count = async (probe: string) =>
    (
      await q(
        `SELECT count(*)::int AS n FROM probe_prediction pp JOIN probe p ON p.id = pp.probe_id WHERE p.name = $1`,
        [probe],
      )
    )[0].n

  /** What Essentia would give: each patch through the graphs, then the mean over the track's patches. */
  async function expected(trackId: number): Promise<{ styles: Float64Array; moods: Float64Array }> {
    const source = await featureStorePatchSource(t.db, t.config.dataDir)
    try {
      const n = source.patchCount(trackId)
      const x = await source.read(Array.from({ length: n }, (_, patch) => ({ trackId, patch })))
      const logits = expectedTestOutput(encoder, 'activations', x, n, 400)
      const embeddings = expectedTestOutput(encoder, 'embeddings', x, n, 1280)
      const moods = expectedHeadOutput(head, 'activations', embeddings, n, 56, true)
      const mean = (v: Float32Array, k: number, f = (a: number) => a) => {
        const out = new Float64Array(k)
        for (let p = 0; p < n; p++) for (let j = 0; j < k; j++) out[j] += f(v[p * k + j]) / n
        return out
      }
      return { styles: mean(logits, 400, sigmoid), moods: mean(moods, 56) }
    } finally {
      source.close()
    }
  }
  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    expect(a.length).toBe(b.length)
    let m = 0
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
    return m
  }

  it('imports discogs-effnet with its metadata: the model, and its 400-class output as a probe', async () => {
    const r = await runCli(
      ['models', 'import-onnx', encoderFile, '--name', 'effnet', '--metadata', encoderJson, '--json'],
      env,
    )
    expect(r.code, r.stderr).toBe(0)
    const m = JSON.parse(r.stdout)
    expect(m).toMatchObject({
      name: 'effnet',
      kind: 'onnx',
      association: 'style',
      dims: { backbone: 1280 },
      created: true,
    })
    expect(m.config.plan.activations).toBeUndefined()
    expect(m.predictor).toMatchObject({
      name: 'discogs400@effnet',
      task: 'discogs400',
      multiLabel: true,
      modelIds: [m.id],
      classes: discogsStyles(),
      metrics: {},
      weightsPath: m.weightsPath,
      config: {
        source: 'onnx-output',
        output: 'activations',
        models: ['effnet'],
        file: 'discogs-effnet-bsdynamic-1.onnx',
        metadata: {
          file: 'discogs-effnet-bsdynamic-1.json',
          publishedMetrics: { 'ROC-AUC': 0.95417, 'PR-AUC': 0.20629 },
        },
      },
    })
    expect(m.predictor.config.licence).toMatch(/CC BY-NC-SA 4\.0/)
    // the same file and metadata again: the same model and probe
    const again = await runCli(
      ['models', 'import-onnx', encoderFile, '--name', 'effnet2', '--metadata', encoderJson, '--json'],
      env,
    )
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({
      id: m.id,
      created: false,
      predictor: { id: m.predictor.id },
    })
  })

  it("stores each embedded track's style scores: the mean over its patches of the graph's activations", async () => {
    const s = await embedTracks(t.db, t.config, { model: 'effnet' })
    expect(s.spaces).toMatchObject([{ space: 'backbone', dims: 1280, written: linked.length }])
    expect(s.predictions).toEqual([{ probe: 'discogs400@effnet', written: linked.length }])
    expect(await count('discogs400@effnet')).toBe(linked.length)
    for (const track of [linked[0], linked[linked.length - 1]]) {
      const want = await expected(track)
      expect(maxDiff(await stored('discogs400@effnet', track), want.styles)).toBeLessThan(1e-5)
      const p = (await predictionsFor(t.db, track, 'discogs400@effnet'))!
      expect(p).toMatchObject({
        probe: 'discogs400@effnet',
        task: 'discogs400',
        multiLabel: true,
        source: 'stored',
      })
      expect(p.scores).toHaveLength(400)
      const best = want.styles.indexOf(Math.max(...want.styles))
      expect(p.scores[0]).toEqual({
        class: discogsStyles()[best],
        score: expect.closeTo(want.styles[best], 5),
      })
    }
    // a repeated pass has nothing to do
    const again = await embedTracks(t.db, t.config, { model: 'effnet' })
    expect(again.tracks.embedded).toBe(0)
    expect(again.predictions).toEqual([{ probe: 'discogs400@effnet', written: 0 }])
  })

  it('imports a mood head over the model and scores every embedded track with it', async () => {
    const r = await runCli(['probe', 'import-onnx', headFile, '--model', 'effnet', '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const p = JSON.parse(r.stdout)
    expect(p).toMatchObject({
      name: 'mtg_jamendo_moodtheme@effnet',
      task: 'mtg_jamendo_moodtheme',
      multiLabel: true,
      classes: JAMENDO_MOODS,
      created: true,
      predicted: { probe: 'mtg_jamendo_moodtheme@effnet', tracks: linked.length, classes: 56 },
      config: {
        source: 'onnx-head',
        plan: { input: 'embeddings', inputDims: 1280, output: 'activations', classes: 56, batch: null },
        models: ['effnet'],
        metadata: {
          file: 'mtg_jamendo_moodtheme-discogs-effnet-1.json',
          embeddingModel: 'discogs-effnet-bs64-1',
        },
      },
    })
    expect(path.dirname(p.weightsPath)).toBe(path.join(t.config.dataDir, 'probes', 'onnx'))
    expect(await count('mtg_jamendo_moodtheme@effnet')).toBe(linked.length)
    expect(await count('discogs400@effnet')).toBe(linked.length)
    for (const track of [linked[1], linked[linked.length - 2]]) {
      expect(
        maxDiff(await stored('mtg_jamendo_moodtheme@effnet', track), (await expected(track)).moods),
      ).toBeLessThan(1e-5)
    }
    const again = await runCli(['probe', 'import-onnx', headFile, '--model', 'effnet', '--json'], env)
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ id: p.id, created: false, predicted: { tracks: 0 } })
  })

  it('scores tracks that lack predictions: probe predict for a head, embed for new tracks', async () => {
    const some = linked.slice(0, 3)
    await q(
      `DELETE FROM probe_prediction WHERE track_id = ANY($1) AND probe_id = (SELECT id FROM probe WHERE name = 'mtg_jamendo_moodtheme@effnet')`,
      [some],
    )
    const predicted = await runCli(
      ['probe', 'predict', '--probe', 'mtg_jamendo_moodtheme@effnet', '--json'],
      env,
    )
    expect(predicted.code, predicted.stderr).toBe(0)
    expect(JSON.parse(predicted.stdout)).toMatchObject({
      probe: 'mtg_jamendo_moodtheme@effnet',
      tracks: 3,
      classes: 56,
    })
    expect(await count('mtg_jamendo_moodtheme@effnet')).toBe(linked.length)
    expect(
      maxDiff(await stored('mtg_jamendo_moodtheme@effnet', some[0]), (await expected(some[0])).moods),
    ).toBeLessThan(1e-5)

    // the same for the model's own output (as after importing the model's metadata once it had embedded)
    await q(
      `DELETE FROM probe_prediction WHERE track_id = ANY($1) AND probe_id = (SELECT id FROM probe WHERE name = 'discogs400@effnet')`,
      [some.slice(0, 2)],
    )
    expect(await predictAll(t.db, 'discogs400@effnet', { config: t.config })).toMatchObject({
      tracks: 2,
      classes: 400,
    })
    expect(
      maxDiff(await stored('discogs400@effnet', some[1]), (await expected(some[1])).styles),
    ).toBeLessThan(1e-5)
    await expect(predictAll(t.db, 'discogs400@effnet')).rejects.toThrow(/needs the configuration/)

    // tracks embedded later (here: their vectors and scores gone) get both from the next pass
    const later = linked.slice(-2)
    await q(`DELETE FROM track_embedding WHERE track_id = ANY($1)`, [later])
    await q(`DELETE FROM probe_prediction WHERE track_id = ANY($1)`, [later])
    const s = await embedTracks(t.db, t.config, { model: 'effnet' })
    expect(s.spaces[0].written).toBe(2)
    expect(s.predictions).toEqual([
      { probe: 'discogs400@effnet', written: 2 },
      { probe: 'mtg_jamendo_moodtheme@effnet', written: 2 },
    ])
    const want = await expected(later[1])
    expect(maxDiff(await stored('discogs400@effnet', later[1]), want.styles)).toBeLessThan(1e-5)
    expect(maxDiff(await stored('mtg_jamendo_moodtheme@effnet', later[1]), want.moods)).toBeLessThan(1e-5)
  })

  it('answers predictions over GraphQL and lists the imported probes in the CLI', async () => {
    let api: TestApi | undefined
    try {
      api = await startTestApi(t)
      const track = linked[4]
      const d = await api.data(
        `query ($track: ID!) {
           probes { name kind task multiLabel models classes predictions metrics }
           predictions(track: $track, probe: "mtg_jamendo_moodtheme@effnet") { source scores { class score } probe { name kind } }
           track(id: $track) { predictions(probe: "discogs400@effnet") { source scores { class score } } }
         }`,
        { track: toGlobalId('Track', track) },
      )
      expect(d.probes).toEqual([
        {
          name: 'discogs400@effnet',
          kind: 'model-output',
          task: 'discogs400',
          multiLabel: true,
          models: ['effnet'],
          classes: discogsStyles(),
          predictions: linked.length,
          metrics: {},
        },
        {
          name: 'mtg_jamendo_moodtheme@effnet',
          kind: 'onnx-head',
          task: 'mtg_jamendo_moodtheme',
          multiLabel: true,
          models: ['effnet'],
          classes: JAMENDO_MOODS,
          predictions: linked.length,
          metrics: {},
        },
      ])
      const want = await expected(track)
      const moods = d.predictions
      expect(moods).toMatchObject({
        source: 'stored',
        probe: { name: 'mtg_jamendo_moodtheme@effnet', kind: 'onnx-head' },
      })
      expect(moods.scores).toHaveLength(56)
      for (const s of moods.scores) expect(s.score).toBeCloseTo(want.moods[JAMENDO_MOODS.indexOf(s.class)], 5)
      expect(moods.scores.map((s: { score: number }) => s.score)).toEqual(
        [...moods.scores.map((s: { score: number }) => s.score)].sort((a, b) => b - a),
      )
      const styles = d.track.predictions
      expect(styles.scores[0].score).toBeCloseTo(Math.max(...want.styles), 5)

      // a track without stored scores has none: an imported probe cannot score a stored vector
      await q(`DELETE FROM probe_prediction WHERE track_id = $1`, [track])
      const none = await api.data(
        `query ($track: ID!) { predictions(track: $track, probe: "discogs400@effnet") { source } }`,
        {
          track: toGlobalId('Track', track),
        },
      )
      expect(none.predictions).toBeNull()
    } finally {
      await api?.close()
    }
    const list = await runCli(['probe', 'list'], env)
    expect(list.code, list.stderr).toBe(0)
    expect(list.stdout).toContain(
      'discogs400@effnet  discogs400 (multi-label, 400 classes) on effnet backbone  model-output from discogs-effnet-bsdynamic-1.json (published: PR-AUC 0.20629, ROC-AUC 0.95417; not evaluated here)',
    )
    expect(list.stdout).toMatch(
      /mtg_jamendo_moodtheme@effnet {2}mtg_jamendo_moodtheme \(multi-label, 56 classes\) on effnet backbone {2}onnx-head from mtg_jamendo_moodtheme-discogs-effnet-1\.json/,
    )
  })

  it('imports a head through the admin mutation: a job imports it and scores the tracks', async () => {
    const file = path.join(dir, 'mood_happy-discogs-effnet-1.onnx')
    writeTestOnnxGraph(file, {
      inputName: 'model/Placeholder',
      inputShape: ['N', 1280],
      outputs: [{ name: 'model/Softmax', dims: 2 }],
      seed: 5,
    })
    writeJson(
      path.join(dir, 'mood_happy-discogs-effnet-1.json'),
      headMetadata(['happy', 'non_happy'], { name: 'Mood Happy', op: 'Softmax', output: 'model/Softmax' }),
    )
    const api = await startTestApi(t)
    const queue = await JobQueue.start(t.db)
    const worker = new JobWorker(
      queue,
      { db: t.db, config: t.config, logger: createLogger('silent') },
      {
        handlers: jobHandlers,
        names: ['import-onnx-head'],
        heartbeatSeconds: 0.5,
        pollingIntervalSeconds: 0.5,
      },
    )
    await worker.start()
    try {
      const admin = (await new AuthService(t.db.pool, { publicRead: true }).createKey('onnx-admin', 'admin'))
        .key
      const mutation = `mutation ($file: String!) { importOnnxHead(file: $file, model: "effnet") { id name state } }`
      const anonymous = await api.gql(mutation, { file })
      expect(anonymous.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED')
      const queued = await api.gql(mutation, { file }, { authorization: `Bearer ${admin}` })
      expect(queued.body.errors).toBeUndefined()
      expect(queued.body.data.importOnnxHead).toMatchObject({ name: 'import-onnx-head', state: 'QUEUED' })
      const id = queued.body.data.importOnnxHead.id
      let job = await queue.get(id)
      for (
        const end = Date.now() + 120_000;
        job.state !== 'succeeded' && job.state !== 'failed' && Date.now() < end;
        job = await queue.get(id)
      )
        await new Promise((r) => setTimeout(r, 300))
      expect(job.error).toBeNull()
      expect(job.result).toMatchObject({
        probe: 'mood_happy@effnet',
        created: true,
        predictions: linked.length,
      })
      const d = await api.data(`{ probes { name kind multiLabel classes predictions } }`)
      expect(d.probes.find((p: { name: string }) => p.name === 'mood_happy@effnet')).toEqual({
        name: 'mood_happy@effnet',
        kind: 'onnx-head',
        multiLabel: false,
        classes: ['happy', 'non_happy'],
        predictions: linked.length,
      })
    } finally {
      await worker.stop()
      await queue.stop()
      await api.close()
    }
  })

  it('refuses what does not fit, naming the file and what was expected, and writes nothing', async () => {
    const probesBefore = (await q(`SELECT name FROM probe ORDER BY id`)).map((r) => r.name)
    const fail = async (args: string[]) => {
      const r = await runCli(args, env)
      expect(r.code, r.stdout).toBe(1)
      return r.stderr
    }
    // through the CLI: the metadata names 50 classes, the head scores 56
    const wrongK = writeJson(path.join(dir, 'fifty.json'), headMetadata(JAMENDO_MOODS.slice(0, 50)))
    expect(
      await fail(['probe', 'import-onnx', headFile, '--model', 'effnet', '--metadata', wrongK]),
    ).toContain(
      `discograph: ${headFile}: no output for the 50 classes of fifty.json: expected a float32 [N, 50] output for them; the outputs are activations float32 [batch_size, 56]`,
    )
    // no metadata beside the head, none given
    const bare = path.join(dir, 'bare', 'genre_discogs400-discogs-effnet-1.onnx')
    fs.mkdirSync(path.dirname(bare))
    writeTestOnnxGraph(bare, {
      inputName: 'embeddings',
      inputShape: ['N', 1280],
      outputs: [{ name: 'activations', dims: 400, sigmoid: true }],
    })
    expect(await fail(['probe', 'import-onnx', bare, '--model', 'effnet'])).toContain(
      `discograph: --metadata: ${bare} needs its metadata JSON for the names of its classes (Essentia publishes genre_discogs400-discogs-effnet-1.json beside each model); give it with --metadata`,
    )
    // the same errors from the services (the CLI prints their messages)
    const head = (file: string, options: Parameters<typeof importOnnxHead>[3]) =>
      importOnnxHead(t.db, t.config, file, options)
    const moodsJson = path.join(dir, 'mtg_jamendo_moodtheme-discogs-effnet-1.json')
    await expect(head(bare, { model: 'effnet', metadata: path.join(dir, 'missing.json') })).rejects.toThrow(
      `${path.join(dir, 'missing.json')}: no such metadata file`,
    )
    // a head for other embeddings
    const narrow = path.join(dir, 'narrow.onnx')
    writeTestOnnxGraph(narrow, {
      inputName: 'model/Placeholder',
      inputShape: ['N', 200],
      outputs: [{ name: 'model/Softmax', dims: 56 }],
    })
    await expect(head(narrow, { model: 'effnet', metadata: moodsJson })).rejects.toThrow(
      `${narrow}: input model/Placeholder must be a float32 [N, 1280] tensor (the 1280-d backbone embeddings of model effnet), it is float32 [N, 200]`,
    )
    // over a model that was never imported, or that is not an imported encoder
    await expect(head(headFile, { model: 'effnet-v2' })).rejects.toThrow(
      '--model: no model effnet-v2; import the encoder the head was trained on first (discograph models import-onnx discogs-effnet-bsdynamic-1.onnx --name effnet-v2)',
    )
    await q(
      `INSERT INTO model (name, kind, dims, fingerprint) VALUES ('mine', 'trained', '{"backbone": 1280}', 'sha256:mine')`,
    )
    await expect(head(headFile, { model: 'mine' })).rejects.toThrow(
      '--model: model mine is a trained model; a head reads the embeddings of the imported encoder it was trained on',
    )
    // an encoder whose metadata counts other classes than its output has
    await expect(
      new ModelService(t.db, t.config).importOnnx(encoderFile, { name: 'x', metadata: moodsJson }),
    ).rejects.toThrow(
      `${encoderFile}: no output for the 56 classes of mtg_jamendo_moodtheme-discogs-effnet-1.json: expected a float32 [N, 56] output beside the embeddings; the outputs are activations float32 [N, 400], embeddings float32 [N, 1280]`,
    )
    // a probe trained here may not replace an imported one, nor an import another kind of probe
    await expect(
      trainProbe(t.db, t.config, { models: ['effnet'], task: 'styles', name: 'discogs400@effnet' }),
    ).rejects.toThrow(
      '--name: probe discogs400@effnet is an imported model-output probe; choose another name',
    )
    await expect(head(headFile, { model: 'effnet', name: 'discogs400@effnet' })).rejects.toThrow(
      '--name: a probe named discogs400@effnet exists (model-output); choose another name',
    )
    expect((await q(`SELECT name FROM probe ORDER BY id`)).map((r) => r.name)).toEqual(probesBefore)
  })
})

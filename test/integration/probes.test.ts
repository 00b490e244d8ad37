import fs from 'node:fs'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jobHandlers } from '../../src/jobs/handlers/index.ts'
import { JobQueue } from '../../src/jobs/queue.ts'
import { JobWorker } from '../../src/jobs/worker.ts'
import { createLogger } from '../../src/logger.ts'
import { initBackend } from '../../src/ml/engine/backend.ts'
import { listProbes, predictAll, predictionsFor, trainProbe } from '../../src/services/probe.service.ts'
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
const fast = { hidden: 64, maxEpochs: 60, patience: 6 }

beforeAll(async () => {
  await initBackend()
  t = await createServerTestDatabase()
  world = await seedProbeWorld(t.db.pool)
  const signal = await insertModel(t.db.pool, 'artist-model', 'trained', 'artist')
  const random = await insertModel(t.db.pool, 'random-model', 'random')
  const partial = await insertModel(t.db.pool, 'partial-model', 'trained', 'label')
  await insertVectors(t.db.pool, signal, world, { dims: 48, signal: 0.6, seed: 1 })
  await insertVectors(t.db.pool, random, world, { dims: 48, signal: 0, seed: 2 })
  // a model that embedded two tracks in three, in the projection space only
  await insertVectors(t.db.pool, partial, world, {
    dims: 16,
    signal: 0.6,
    seed: 3,
    space: 'projection',
    tracks: world.trackIds.filter((_, i) => i % 3 !== 0),
  })
  await insertVectors(t.db.pool, signal, world, { dims: 24, signal: 0.6, seed: 4, space: 'projection' })
})

afterAll(async () => {
  await t?.dispose()
})

describe('probes on real rows', () => {
  it('learn styles from vectors that carry them, and not from random vectors', async () => {
    const before = tf.memory().numTensors
    const good = await trainProbe(t.db, t.config, {
      models: ['artist-model'],
      task: 'styles',
      seed: 1,
      mlp: fast,
    })
    const chance = await trainProbe(t.db, t.config, {
      models: ['random-model'],
      task: 'styles',
      seed: 1,
      mlp: fast,
    })
    expect(tf.memory().numTensors).toBe(before)
    expect(good.probe.classes.sort()).toEqual(WORLD_STYLES.map((s) => s.style).sort())
    expect(good.probe.multiLabel).toBe(true)
    expect(good.metrics.rocAuc).toBeGreaterThan(0.9)
    expect(chance.metrics.rocAuc).toBeLessThan(0.7)
    expect(good.metrics.rocAuc - chance.metrics.rocAuc).toBeGreaterThan(0.25)
    expect(good.metrics.prAuc).toBeGreaterThan(chance.metrics.prAuc + 0.25)
    // splits cover every track once, by artist (24 artists × 10 tracks: whole artists per split)
    const m = good.metrics
    expect(m.trainTracks + m.validationTracks + m.testTracks).toBe(world.trackIds.length)
    for (const n of [m.trainTracks, m.validationTracks, m.testTracks]) expect(n % 10).toBe(0)
    expect(good.probe.name).toBe('styles@artist-model')
    expect(good.probe.metrics.rocAuc).toBeCloseTo(good.metrics.rocAuc, 6)
    expect(fs.existsSync(path.join(good.probe.weightsPath, 'model.json'))).toBe(true)
    expect(path.dirname(good.probe.weightsPath)).toBe(path.join(t.config.dataDir, 'probes'))
  })

  it('predict single labels (decade) with accuracy well above chance', async () => {
    const r = await trainProbe(t.db, t.config, {
      models: ['artist-model'],
      task: 'decade',
      seed: 2,
      mlp: fast,
    })
    expect(r.probe.multiLabel).toBe(false)
    expect(r.probe.classes.sort()).toEqual(['1950s', '1980s', '1990s', '2000s'])
    expect(r.metrics.accuracy).toBeGreaterThan(0.8)
    const chance = await trainProbe(t.db, t.config, {
      models: ['random-model'],
      task: 'decade',
      seed: 2,
      mlp: fast,
    })
    expect(chance.metrics.accuracy).toBeLessThan(0.5)
  })

  it('stack several models on the tracks they all embedded, in the space asked for', async () => {
    const r = await trainProbe(t.db, t.config, {
      models: ['artist-model', 'partial-model'],
      task: 'genres',
      space: 'projection',
      seed: 1,
      mlp: fast,
    })
    const m = r.metrics
    expect(m.trainTracks + m.validationTracks + m.testTracks).toBe(
      world.trackIds.filter((_, i) => i % 3 !== 0).length,
    )
    expect(r.probe.name).toBe('genres@artist-model+partial-model/projection')
    expect(r.probe.config.inputDims).toBe(24 + 16)
    expect(r.probe.classes.sort()).toEqual(['Electronic', 'Jazz', 'Rock'])
    await expect(trainProbe(t.db, t.config, { models: ['partial-model'], task: 'styles' })).rejects.toThrow(
      /partial-model has no backbone vectors \(it has projection ones/,
    )
    await expect(trainProbe(t.db, t.config, { models: ['nope'], task: 'styles' })).rejects.toThrow(
      /model nope not found/,
    )
    await expect(trainProbe(t.db, t.config, { models: ['artist-model'], task: 'moods' })).rejects.toThrow(
      /"moods" is neither a catalog task/,
    )
  })

  it('train on a label file and name the line of a row that names no track', async () => {
    const dir = t.config.dataDir
    const file = path.join(dir, 'my-styles.tsv')
    const lines = [
      'track_id\ttags',
      ...world.trackIds.map((id, i) =>
        i % 2
          ? `${id}\t${WORLD_STYLES[world.styleOf.get(id)!].style}`
          : `/audio/${world.artistOf.get(id)}/${1001 + Math.floor(i / 5)}/${(i % 5) + 1}.wav\t${WORLD_STYLES[world.styleOf.get(id)!].style}`,
      ),
    ]
    fs.writeFileSync(file, lines.join('\n') + '\n')
    const r = await trainProbe(t.db, t.config, { models: ['artist-model'], task: file, seed: 1, mlp: fast })
    expect(r.probe.task).toBe('my-styles')
    expect(r.probe.multiLabel).toBe(false)
    expect(r.metrics.accuracy).toBeGreaterThan(0.8)
    fs.writeFileSync(file, `${world.trackIds[0]}\tTechno\n987654321\tPunk\n`)
    await expect(trainProbe(t.db, t.config, { models: ['artist-model'], task: file })).rejects.toThrow(
      /my-styles\.tsv: 1 row not resolved: line 2: no track with id 987654321/,
    )
  })

  it('write batch predictions idempotently and answer per-track scores', async () => {
    const probe = 'styles@artist-model'
    const first = await predictAll(t.db, probe)
    expect(first.tracks).toBe(world.trackIds.length)
    await predictAll(t.db, probe)
    const { rows } = await t.db.pool.query(
      `SELECT count(*)::int AS n FROM probe_prediction pp JOIN probe p ON p.id = pp.probe_id WHERE p.name = $1`,
      [probe],
    )
    expect(rows[0].n).toBe(world.trackIds.length)
    const track = world.trackIds[7]
    const stored = await predictionsFor(t.db, track, probe)
    expect(stored!.source).toBe('stored')
    expect(stored!.scores).toHaveLength(4)
    expect(stored!.scores[0].class).toBe(WORLD_STYLES[world.styleOf.get(track)!].style)
    await t.db.pool.query(`DELETE FROM probe_prediction WHERE track_id = $1`, [track])
    const computed = await predictionsFor(t.db, track, probe)
    expect(computed!.source).toBe('computed')
    for (const s of stored!.scores)
      expect(computed!.scores.find((c) => c.class === s.class)!.score).toBeCloseTo(s.score, 5)
    expect(
      await predictionsFor(t.db, world.trackIds[0], 'genres@artist-model+partial-model/projection'),
    ).toBeNull()
    await expect(predictionsFor(t.db, track, 'no-such-probe')).rejects.toThrow(
      /probe no-such-probe not found/,
    )
  })

  it('replace a probe trained again under the same name, with its predictions and old weights', async () => {
    const before = (await listProbes(t.db)).find((p) => p.name === 'styles@artist-model')!
    expect(before.predictions).toBeGreaterThan(0)
    expect(before.models).toEqual(['artist-model'])
    const again = await trainProbe(t.db, t.config, {
      models: ['artist-model'],
      task: 'styles',
      seed: 3,
      mlp: fast,
    })
    const after = (await listProbes(t.db)).filter((p) => p.name === 'styles@artist-model')
    expect(after).toHaveLength(1)
    expect(after[0].id).toBe(before.id)
    expect(after[0].predictions).toBe(0)
    expect(again.probe.weightsPath).not.toBe(before.weightsPath)
    expect(fs.existsSync(before.weightsPath)).toBe(false)
  })
})

describe('probe jobs through the queue', () => {
  it('train-probe (with predictions) and evaluate run on a worker and report their results', async () => {
    const queue = await JobQueue.start(t.db)
    const worker = new JobWorker(
      queue,
      { db: t.db, config: t.config, logger: createLogger('silent') },
      {
        handlers: jobHandlers,
        names: ['train-probe', 'evaluate'],
        heartbeatSeconds: 0.5,
        pollingIntervalSeconds: 0.5,
      },
    )
    await worker.start()
    try {
      const finished = async (id: string) => {
        for (
          const end = Date.now() + 180_000;
          Date.now() < end;
          await new Promise((r) => setTimeout(r, 300))
        ) {
          const j = await queue.get(id)
          if (j.state === 'succeeded' || j.state === 'failed') return j
        }
        throw new Error(`job ${id} did not finish`)
      }
      const out = path.join(t.config.dataDir, 'evaluation-job')
      const train = await queue.enqueue('train-probe', {
        models: ['artist-model'],
        task: 'genres',
        seed: 2,
        name: 'genres-job',
        predict: true,
      })
      const evaluation = await queue.enqueue('evaluate', {
        models: ['random-model', 'artist-model'],
        tasks: ['styles'],
        out,
      })
      const trained = await finished(train.id)
      expect(trained.error).toBeNull()
      expect(trained.result).toMatchObject({ probe: 'genres-job', predictions: world.trackIds.length })
      expect((trained.result as { metrics: { rocAuc: number } }).metrics.rocAuc).toBeGreaterThan(0.9)
      expect(trained.log.map((l) => l.message).join('\n')).toMatch(
        /probe genres-job: ROC-AUC [01]\.\d{3}, PR-AUC [01]\.\d{3}/,
      )
      const evaluated = await finished(evaluation.id)
      expect(evaluated.error).toBeNull()
      const rows = (
        evaluated.result as { rows: { label: string; results: { styles: { rocAuc: number } } }[] }
      ).rows
      expect(rows.map((r) => r.label)).toEqual(['random weights', 'artist associations'])
      expect(rows[1].results.styles.rocAuc).toBeGreaterThan(rows[0].results.styles.rocAuc + 0.25)
      expect(fs.readFileSync(path.join(out, 'evaluation.md'), 'utf8')).toMatch(
        /^\| model +\| styles ROC \| styles PR \|/,
      )
      expect(fs.existsSync(path.join(out, 'evaluation.svg'))).toBe(true)
    } finally {
      await worker.stop()
      await queue.stop()
    }
  })
})

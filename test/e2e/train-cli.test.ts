import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TrainingRunRepository } from '../../src/db/repositories/training-run.repository.ts'
import { runCli } from '../support/cli.ts'
import { createServerTestDatabase, tmpDir, type TestDatabase } from '../support/database.ts'

describe('discograph train (CLI, real Postgres, synthetic tiny catalog)', () => {
  let t: TestDatabase
  let root: string
  let env: Record<string, string>

  beforeAll(async () => {
    t = await createServerTestDatabase()
    root = tmpDir('discograph-train-cli-')
    const out = path.join(root, 'catalog')
    env = { DATABASE_URL: t.config.databaseUrl!, DATA_DIR: t.config.dataDir }
    const synth = await runCli(['synth', '--out', out, '--size', 'tiny', '--seed', '2', '--fast', '--json'])
    expect(synth.code, synth.stderr).toBe(0)
    const discogs = await runCli(['ingest', 'discogs', out, '--json'], env, 180_000)
    expect(discogs.code, discogs.stderr).toBe(0)
    const audio = await runCli(
      ['ingest', 'audio', path.join(out, 'audio'), '--manifest', path.join(out, 'manifest.csv'), '--json'],
      env,
      180_000,
    )
    expect(audio.code, audio.stderr).toBe(0)
  }, 240_000)

  afterAll(async () => {
    await t?.dispose()
    if (root) fs.rmSync(root, { recursive: true, force: true })
  })

  const train = (args: string[], logLevel = 'warn') =>
    runCli(
      ['train', '--association', 'track', '--size', 'tiny', ...args],
      { ...env, LOG_LEVEL: logLevel },
      120_000,
    )

  it('trains on the forced backend, logs it, and stores it with the run, its history and checkpoints', async () => {
    const r = await train(
      [
        '--batch',
        '4',
        '--steps',
        '6',
        '--checkpoint-every',
        '3',
        '--backend',
        'native',
        '--name',
        'cli-native',
        '--json',
      ],
      'info',
    )
    expect(r.code, r.stderr).toBe(0)
    const printed = JSON.parse(r.stdout)
    expect(printed).toMatchObject({
      name: 'cli-native',
      status: 'succeeded',
      backend: 'native',
      step: 6,
      totalSteps: 6,
    })
    const logs = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
    expect(logs.find((l) => l.msg === 'ML backend (forced)')).toMatchObject({
      backend: 'native',
      details: expect.stringMatching(/OpenBLAS/),
    })
    expect(logs.find((l) => l.msg === 'training')).toMatchObject({ backend: 'native', association: 'track' })

    const row = await new TrainingRunRepository(t.db.pool).get('cli-native')
    expect(row).toMatchObject({ status: 'succeeded', backend: 'native', step: 6, association: 'track' })
    expect(row!.config).toMatchObject({ association: 'track', size: 'tiny', batchSize: 4, steps: 6 })
    expect(row!.history.at(-1)).toMatchObject({
      step: 6,
      loss: expect.any(Number),
      samplesPerS: expect.any(Number),
    })
    expect(Number.isFinite(row!.metrics.loss)).toBe(true)
    expect(fs.readdirSync(row!.checkpointDir).length).toBeGreaterThan(0)
  }, 60_000)

  it('--backend cpu is honoured and recorded; an unknown backend is refused with the choices, wasm with why', async () => {
    // The plain JavaScript backend is slow: one small step, no validation.
    const cpu = await train([
      '--batch',
      '2',
      '--steps',
      '1',
      '--validation',
      '0',
      '--backend',
      'cpu',
      '--name',
      'cli-cpu',
      '--json',
    ])
    expect(cpu.code, cpu.stderr).toBe(0)
    expect(JSON.parse(cpu.stdout)).toMatchObject({ status: 'succeeded', backend: 'cpu' })
    expect((await new TrainingRunRepository(t.db.pool).get('cli-cpu'))!.backend).toBe('cpu')

    const bad = await train(['--steps', '1', '--backend', 'tpu'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(
      /tpu.*unknown backend; choose one of auto, tfjs-node-gpu, tfjs-node, native, wasm, cpu/,
    )

    const wasm = await train(['--steps', '1', '--backend', 'wasm', '--name', 'cli-wasm'])
    expect(wasm.code).toBe(1)
    expect(wasm.stderr).toContain(
      "discograph: --backend: wasm cannot train: tfjs' WASM backend has no gradient kernels for convolutions",
    )
    expect(await new TrainingRunRepository(t.db.pool).get('cli-wasm')).toBeNull()
  }, 60_000)

  it('refuses a batch the catalog cannot fill before recording a run, saying how many groups there are and what fits', async () => {
    const runs = new TrainingRunRepository(t.db.pool)
    // The track association: every track with audio is a group, none shares a track with another.
    const tracks = await train(['--validation', '0', '--steps', '1', '--name', 'too-big'])
    const withAudio = Number(
      (await t.db.pool.query(`SELECT count(*) FROM audio_file WHERE track_id IS NOT NULL`)).rows[0].count,
    )
    expect(tracks.code).toBe(1)
    expect(tracks.stderr).toContain(
      `discograph: --batch: the track association has ${withAudio} groups to train on (tracks with audio), and a batch of 32 ` +
        `pairs needs 32 groups that share no track: --batch ${withAudio} fits, or link audio of more tracks`,
    )
    expect(tracks.stderr).not.toMatch(/^\s+at /m)
    expect(await runs.get('too-big')).toBeNull()

    // The tiny catalog's three artists (one maybe held out): a batch of 8 never fits; what it says fits, does.
    const artists = await runCli(
      [
        'train',
        '--association',
        'artist',
        '--size',
        'tiny',
        '--batch',
        '8',
        '--steps',
        '1',
        '--name',
        'too-big',
      ],
      env,
    )
    expect(artists.code).toBe(1)
    const said = artists.stderr.match(
      /--batch: the artist association has (\d+) groups to train on \(artists with two or more tracks with audio(?:; \d+ more held out for validation)?\), and a batch of 8 pairs needs 8 groups that share no track: --batch (\d+) fits/,
    )
    expect(said, artists.stderr).not.toBeNull()
    expect(await runs.get('too-big')).toBeNull()
    const fits = await runCli(
      [
        'train',
        '--association',
        'artist',
        '--size',
        'tiny',
        '--batch',
        said![2],
        '--steps',
        '1',
        '--name',
        'fits',
      ],
      env,
    )
    expect(fits.code, fits.stderr).toBe(0)
  }, 120_000)

  it('refuses to resume a finished run', async () => {
    const r = await train(['--resume', 'cli-native', '--backend', 'native'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/run cli-native already finished/)
  }, 30_000)
})

import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FeatureStore } from '../../src/audio/feature-store.ts'
import { MEL_BANDS } from '../../src/audio/mel.ts'
import { readManifest } from '../../src/ingest/audio/manifest.ts'
import { runCli } from '../support/cli.ts'
import { createServerTestDatabase, tmpDir, type TestDatabase } from '../support/database.ts'

const AUDIO_FIXTURES = path.resolve(import.meta.dirname, '../fixtures/audio')

describe('discograph ingest audio (CLI, real server)', () => {
  let t: TestDatabase
  let root: string
  let out: string
  let audioDir: string
  let manifest: string
  let env: Record<string, string>
  let files: number

  beforeAll(async () => {
    t = await createServerTestDatabase()
    root = tmpDir('discograph-audio-cli-')
    out = path.join(root, 'catalog')
    env = { DATABASE_URL: t.config.databaseUrl!, DATA_DIR: t.config.dataDir }
    const synth = await runCli(['synth', '--out', out, '--size', 'tiny', '--seed', '4', '--json'])
    expect(synth.code, synth.stderr).toBe(0)
    files = JSON.parse(synth.stdout).audioFiles
    const discogs = await runCli(['ingest', 'discogs', out, '--json'], env)
    expect(discogs.code, discogs.stderr).toBe(0)
    audioDir = path.join(out, 'audio')
    manifest = path.join(out, 'manifest.csv')
  }, 240_000)
  afterAll(async () => {
    await t?.dispose()
    if (root) fs.rmSync(root, { recursive: true, force: true })
  })

  const ingest = async (...args: string[]) => {
    const r = await runCli(['ingest', 'audio', audioDir, '--manifest', manifest, ...args], env, 180_000)
    expect(r.code, r.stderr).toBe(0)
    return r
  }
  const linked = async () => {
    const { rows } = await t.db.pool.query(
      `SELECT a.path, t.release_id || ' ' || t.position AS track FROM audio_file a JOIN track t ON t.id = a.track_id`,
    )
    return new Map(rows.map((r) => [r.path, r.track]))
  }

  it('links every synthetic file through the manifest and stores its mel frames once, with a JSON summary', async () => {
    const s = JSON.parse((await ingest('--json', '--patch-hop', '128')).stdout)
    expect(s).toMatchObject({
      dir: audioDir,
      manifest,
      patchHop: 128,
      threads: expect.any(Number),
      files: {
        scanned: files,
        new: files,
        changed: 0,
        unchanged: 0,
        featuresMissing: 0,
        removed: 0,
        rematched: 0,
      },
      features: { decoded: files, computed: files, reused: 0 },
      match: {
        linked: files,
        byMethod: { manifest: files, 'discogs-id': 0, tags: 0 },
        duplicate: 0,
        ambiguous: 0,
        unmatched: 0,
        errors: 0,
      },
      reasons: {},
      errors: [],
      ambiguous: [],
      unmatched: [],
      duplicates: [],
      manifestRowsWithoutFile: [],
      audioSeconds: expect.any(Number),
      totalAudioSeconds: expect.any(Number),
      patches: expect.any(Number),
      elapsedSeconds: expect.any(Number),
      filesPerSecond: expect.any(Number),
      audioSecondsPerSecond: expect.any(Number),
    })
    expect(s.audioSeconds).toBeCloseTo(s.totalAudioSeconds, 3)
    expect(s.filesPerSecond).toBeGreaterThan(0)

    const expected = new Map(readManifest(manifest).map((r) => [r.path, `${r.releaseId} ${r.position}`]))
    expect(await linked()).toEqual(expected)
    const { rows } = await t.db.pool.query(
      `SELECT sha256, n_frames, duration_s, status, match_note FROM audio_file`,
    )
    expect(rows).toHaveLength(files)
    const store = new FeatureStore(t.config.dataDir)
    for (const r of rows) {
      expect(r.status).toBe('ok')
      expect(r.match_note).toMatch(/^manifest\.csv line \d+: release \d+ position \S+$/)
      // frames: one per 256 samples at 16 kHz, plus one
      expect(r.n_frames).toBe(Math.ceil((r.duration_s * 16000) / 256) + 1)
      expect(store.readFrames(r.sha256).frames.length).toBe(r.n_frames * MEL_BANDS)
    }
  })

  it('skips every file on a re-run, recomputing nothing', async () => {
    const store = new FeatureStore(t.config.dataDir)
    const { rows } = await t.db.pool.query(`SELECT sha256 FROM audio_file`)
    const mtimes = rows.map((r) => fs.statSync(store.pathOf(r.sha256)).mtimeMs)
    const s = JSON.parse((await ingest('--json')).stdout)
    expect(s.files).toMatchObject({ scanned: files, new: 0, changed: 0, unchanged: files })
    expect(s.features).toEqual({ decoded: 0, computed: 0, reused: 0 })
    expect(s.match.linked).toBe(files)
    expect(rows.map((r) => fs.statSync(store.pathOf(r.sha256)).mtimeMs)).toEqual(mtimes)
  })

  it('redoes a changed file, reports corrupt ones and goes on, and keeps the manifest link over a copy matched by tags', async () => {
    const [first] = readManifest(manifest)
    const before = (await t.db.pool.query(`SELECT sha256 FROM audio_file WHERE path = $1`, [first.path]))
      .rows[0].sha256
    // change the audio (a sample in the middle of the data chunk), not the length
    const wav = fs.readFileSync(first.path)
    wav.writeInt16LE(12345, wav.length - 1000)
    fs.writeFileSync(first.path, wav)
    fs.copyFileSync(path.join(AUDIO_FIXTURES, 'not-audio.mp3'), path.join(audioDir, 'not-audio.mp3'))
    fs.writeFileSync(path.join(audioDir, 'empty.flac'), '')
    // a copy of another file elsewhere in the folder, not in the manifest: same content, found by its tags
    const second = readManifest(manifest)[1]
    const copy = path.join(audioDir, 'copies', 'copy.wav')
    fs.mkdirSync(path.dirname(copy))
    fs.copyFileSync(second.path, copy)

    const r = await ingest('--json')
    const s = JSON.parse(r.stdout)
    expect(s.files).toMatchObject({ scanned: files + 3, new: 3, changed: 1, unchanged: files - 1 })
    // the changed file and the copy were read; the copy's content was already in the store
    expect(s.features).toEqual({ decoded: 1, computed: 1, reused: 1 })
    expect(s.match).toMatchObject({ linked: files, duplicate: 1, errors: 2 })
    expect(s.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      path.join(audioDir, 'empty.flac'),
      path.join(audioDir, 'not-audio.mp3'),
    ])
    expect(s.errors.find((e: { path: string }) => e.path.endsWith('not-audio.mp3')).error).toMatch(
      /cannot decode audio/,
    )
    expect(s.duplicates).toEqual([{ path: copy, trackId: expect.any(Number), linkedTo: second.path }])
    expect(s.reasons).toEqual({ 'decode-error': 2, 'track-claimed-by-another-file': 1 })
    const after = (
      await t.db.pool.query(`SELECT sha256, track_id FROM audio_file WHERE path = $1`, [first.path])
    ).rows[0]
    expect(after.sha256).not.toBe(before)
    expect(after.track_id).not.toBeNull()
    expect(new FeatureStore(t.config.dataDir).has(after.sha256)).toBe(true)

    // the readable summary says the same
    const text = (await ingest()).stdout
    expect(text).toMatch(
      new RegExp(`${files + 3} audio files under .* 0 new, 0 changed, ${files + 3} unchanged, 0 removed`),
    )
    expect(text).toMatch(
      new RegExp(
        `${files} linked to tracks \\(manifest ${files}, Discogs id 0, tags 0\\), 1 duplicate, 0 ambiguous, 0 unmatched, 2 errors`,
      ),
    )
    expect(text).toMatch(/not-audio\.mp3: cannot decode audio/)
    expect(text).toContain(`${copy}: track`)
  })

  it('stops before importing anything when the manifest has bad rows, naming them by line', async () => {
    const bad = path.join(root, 'bad.csv')
    fs.writeFileSync(bad, 'path,release_id,position\naudio/x.wav,12,A1\naudio/y.wav,twelve,A2\n')
    const r = await runCli(['ingest', 'audio', audioDir, '--manifest', bad], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(
      `discograph: ${bad}: 1 bad row:\n  line 3: release_id must be a positive integer, got "twelve"`,
    )
    const opt = await runCli(['ingest', 'audio', audioDir, '--patch-hop', '0'], env)
    expect(opt.code).toBe(1)
    expect(opt.stderr).toMatch(/--patch-hop: must be an integer in 1\.\.128, got 0/)
    const missing = await runCli(['ingest', 'audio', path.join(root, 'nowhere')], env)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/cannot read .*nowhere: ENOENT/)
  })
})

describe('discograph ingest audio (CLI, embedded database)', () => {
  const root = tmpDir('discograph-audio-cli-embedded-')
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

  it('imports a tiny synthetic catalog with no database server: by tags, then again by its manifest', async () => {
    const out = path.join(root, 'catalog')
    const env = { DATA_DIR: path.join(root, 'data') }
    const synth = await runCli(['synth', '--out', out, '--size', 'tiny', '--seed', '2', '--fast', '--json'])
    expect(synth.code, synth.stderr).toBe(0)
    const n = JSON.parse(synth.stdout).audioFiles
    expect((await runCli(['ingest', 'discogs', out], env, 180_000)).code).toBe(0)
    const audio = path.join(out, 'audio')
    const byTags = await runCli(['ingest', 'audio', audio, '--json'], env, 180_000)
    expect(byTags.code, byTags.stderr).toBe(0)
    const t = JSON.parse(byTags.stdout)
    expect(t.files.new).toBe(n)
    expect(t.match).toMatchObject({ linked: n, byMethod: { tags: n }, errors: 0, unmatched: 0, ambiguous: 0 })
    expect(fs.readdirSync(path.join(root, 'data', 'features')).length).toBeGreaterThan(0)

    const byManifest = await runCli(
      ['ingest', 'audio', audio, '--manifest', path.join(out, 'manifest.csv'), '--json'],
      env,
      180_000,
    )
    expect(byManifest.code, byManifest.stderr).toBe(0)
    const m = JSON.parse(byManifest.stdout)
    expect(m.files).toMatchObject({ unchanged: n, rematched: n })
    expect(m.features.decoded).toBe(0)
    expect(m.match).toMatchObject({ linked: n, byMethod: { manifest: n, tags: 0 } })
  }, 300_000)
})

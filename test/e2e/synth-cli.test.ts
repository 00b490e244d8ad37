import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../support/cli.ts'
import { tmpDir } from '../support/database.ts'

describe('discograph synth', () => {
  const root = tmpDir('discograph-synth-e2e-')
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

  it('writes a tiny catalog that `ingest discogs` imports whole, with no unknown elements', async () => {
    const out = path.join(root, 'catalog')
    const r = await runCli(['synth', '--out', out, '--size', 'tiny', '--seed', '3', '--fast', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const summary = JSON.parse(r.stdout)
    expect(summary).toMatchObject({ seed: 3, sampleRate: 16000, channels: 1, dumpDate: '20250101' })
    expect(summary.audioFiles).toBeGreaterThan(5)
    const manifest = fs.readFileSync(path.join(out, 'manifest.csv'), 'utf8').trim().split('\n')
    expect(manifest).toHaveLength(summary.audioFiles + 1)
    for (const row of manifest.slice(1)) expect(fs.existsSync(path.join(out, row.split(',')[0]))).toBe(true)

    const dataDir = path.join(root, 'data')
    const imported = await runCli(['ingest', 'discogs', out, '--json'], { DATA_DIR: dataDir }, 180_000)
    expect(imported.code, imported.stderr).toBe(0)
    const s = JSON.parse(imported.stdout)
    expect(s.unknownTotal).toBe(0)
    expect(s.skipped).toEqual({ noId: 0, rows: 0 })
    for (const type of ['artists', 'labels', 'masters', 'releases'] as const)
      expect(s.types[type].inserted).toBe(summary.records[type])
    // Every track with audio became a track row (plus headings and index tracks).
    expect(s.rows.track).toBeGreaterThanOrEqual(summary.audioFiles)
  }, 240_000)

  it('stops with the option and the reason on bad input', async () => {
    const size = await runCli(['synth', '--out', path.join(root, 'x'), '--size', 'huge'])
    expect(size.code).toBe(1)
    expect(size.stderr).toMatch(/--size: must be one of tiny, small, demo, large/)
    const seed = await runCli(['synth', '--out', path.join(root, 'x'), '--seed', 'abc'])
    expect(seed.code).toBe(1)
    expect(seed.stderr).toMatch(/--seed: must be a non-negative integer/)
    fs.mkdirSync(path.join(root, 'busy'))
    fs.writeFileSync(path.join(root, 'busy', 'notes.txt'), 'mine')
    const busy = await runCli(['synth', '--out', path.join(root, 'busy'), '--size', 'tiny'])
    expect(busy.code).toBe(1)
    expect(busy.stderr).toMatch(/not empty and holds no synthetic catalog/)
  })
})

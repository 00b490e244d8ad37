import fs from 'node:fs'
import path from 'node:path'
import { SaxesParser } from 'saxes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/config.ts'
import { migrate, openDatabase } from '../../src/db/database.ts'
import { runCli } from '../support/cli.ts'
import { tmpDir } from '../support/database.ts'
import { insertModel, insertVectors, seedProbeWorld } from '../support/probe-world.ts'

/** The CLI as a user runs it, on the embedded database (PGlite) the commands use by default. */
let dataDir: string
let env: Record<string, string>

beforeAll(async () => {
  dataDir = tmpDir('discograph-eval-')
  env = { DATA_DIR: dataDir }
  const db = await openDatabase(loadConfig(env))
  try {
    await migrate(db)
    const world = await seedProbeWorld(db.pool, { artists: 32, releasesPerArtist: 2, tracksPerRelease: 3 })
    const random = await insertModel(db.pool, 'random-b0', 'random')
    const track = await insertModel(db.pool, 'track-b0', 'trained', 'track')
    const artist = await insertModel(db.pool, 'artist-b0', 'trained', 'artist')
    await insertVectors(db.pool, random, world, { dims: 32, signal: 0, seed: 1 })
    await insertVectors(db.pool, track, world, { dims: 32, signal: 0.25, seed: 2 })
    await insertVectors(db.pool, artist, world, { dims: 32, signal: 0.6, seed: 3 })
  } finally {
    await db.close()
  }
}, 300_000)

afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true })
})

describe('discograph evaluate', () => {
  it('prints the table (rows models, ROC/PR per task, accuracy for single-label) and writes the chart', async () => {
    const out = path.join(dataDir, 'report')
    const r = await runCli(
      [
        'evaluate',
        '--tasks',
        'styles,decade',
        '--out',
        out,
        '--epochs',
        '60',
        '--patience',
        '6',
        '--hidden',
        '64',
      ],
      env,
      300_000,
    )
    expect(r.stderr).not.toMatch(/Error/)
    expect(r.code).toBe(0)
    // retrieval first: a row per model and space with vectors (no mel frames here, so no baseline row), then chance
    const retrieval = JSON.parse(fs.readFileSync(path.join(out, 'retrieval.json'), 'utf8'))
    expect(retrieval.rows.map((x: { label: string }) => x.label)).toEqual([
      'random-b0 (backbone)',
      'track-b0 (backbone)',
      'artist-b0 (backbone)',
    ])
    const style = (label: string) =>
      retrieval.rows
        .find((x: { label: string }) => x.label === label)
        .figures.find((f: { relation: string }) => f.relation === 'style')
    // vectors made of their style's direction: the stronger the signal, the better the neighbours
    expect(style('artist-b0 (backbone)').lift).toBeGreaterThan(style('track-b0 (backbone)').lift)
    expect(style('track-b0 (backbone)').lift).toBeGreaterThan(style('random-b0 (backbone)').lift + 0.2)
    expect(style('random-b0 (backbone)').lift).toBeLessThan(1.3)
    expect(r.stdout).toMatch(/\| chance \(random ranking\) \| \d+\.\d \|/)
    expect(fs.existsSync(path.join(out, 'retrieval.svg'))).toBe(true)
    const lines = r.stdout.slice(r.stdout.indexOf('| model ')).split('\n')
    expect(lines[0]).toMatch(
      /^\| model +\| styles ROC \| styles PR \| decade ROC \| decade PR \| decade Acc\. \|$/,
    )
    const labels = lines.slice(2, 6).map((l) => l.split('|')[1].trim())
    expect(labels).toEqual(['random weights', 'track associations', 'artist associations', 'stack'])
    expect(r.stdout).toMatch(/- stack: track-b0 \+ artist-b0\./)
    expect(r.stdout).toContain(
      `written: ${path.join(out, 'retrieval.md')}, ${path.join(out, 'evaluation.md')}`,
    )

    const report = JSON.parse(fs.readFileSync(path.join(out, 'evaluation.json'), 'utf8'))
    const row = (label: string) => report.rows.find((x: { label: string }) => x.label === label).results
    expect(row('artist associations').styles.rocAuc).toBeGreaterThan(
      row('random weights').styles.rocAuc + 0.25,
    )
    expect(row('artist associations').decade.accuracy).toBeGreaterThan(
      row('random weights').decade.accuracy + 0.3,
    )
    // every probe of the table saw the same split of the same tracks
    const counts = report.rows.flatMap((x: { results: Record<string, { testTracks: number }> }) =>
      Object.values(x.results).map((m) => m.testTracks),
    )
    expect(new Set(counts).size).toBe(1)

    const svg = fs.readFileSync(path.join(out, 'evaluation.svg'), 'utf8')
    let bars = 0
    const parser = new SaxesParser({ xmlns: true })
    parser.on('opentag', (t) => {
      if (t.name === 'rect' && t.attributes.class?.value === 'bar') bars++
    })
    parser.write(svg).close()
    expect(bars).toBe(4 * 5)
    expect(fs.readFileSync(path.join(out, 'evaluation.md'), 'utf8')).toBe(
      r.stdout.slice(r.stdout.indexOf('| model ')).split('\nwritten:')[0].trimEnd() + '\n',
    )
    expect(r.stdout.startsWith(fs.readFileSync(path.join(out, 'retrieval.md'), 'utf8'))).toBe(true)
  })

  it('trains, lists and applies a probe, and names the line of a bad label file', async () => {
    const trained = await runCli(
      [
        'probe',
        'train',
        '--model',
        'artist-b0',
        '--task',
        'genres',
        '--json',
        '--epochs',
        '40',
        '--hidden',
        '64',
      ],
      env,
    )
    expect(trained.code).toBe(0)
    const probe = JSON.parse(trained.stdout)
    expect(probe.name).toBe('genres@artist-b0')
    expect(probe.metrics.rocAuc).toBeGreaterThan(0.8)

    const predicted = await runCli(['probe', 'predict', '--probe', 'genres@artist-b0', '--json'], env)
    expect(predicted.code).toBe(0)
    expect(JSON.parse(predicted.stdout)).toMatchObject({ probe: 'genres@artist-b0', tracks: 192, classes: 3 })

    const listed = await runCli(['probe', 'list'], env)
    expect(listed.stdout).toMatch(
      /genres@artist-b0 {2}genres \(multi-label, 3 classes\) on artist-b0 backbone {2}ROC-AUC \d+\.\d, PR-AUC \d+\.\d( \(.*skipped\))? {2}192 predictions/,
    )

    const bad = path.join(dataDir, 'bad.tsv')
    fs.writeFileSync(bad, '# my tags\n1\tTechno\n2\n')
    const failed = await runCli(['probe', 'train', '--model', 'artist-b0', '--task', bad], env)
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain(`discograph: --task: ${bad} line 3: no labels after "2"`)
  })
})

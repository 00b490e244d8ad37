import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI_BUILT, REPO_ROOT, runCli } from '../support/cli.ts'
import { ADMIN_URL, createScratchDatabase, tmpDir } from '../support/database.ts'

/**
 * The CLI as users run it: bin/discograph.js over the build in dist/ (`npm ci` makes it), not the source
 * through tsx like the other tests. Its help lists every command from the build's command index, the same
 * as the source's full help; a real catalog goes through it into an empty database, with every kind of
 * worker thread (synth's renderers, the dump's parsers, the audio extractors) loading its compiled module.
 */

/** The newest modification time of a source file under `dir`, in ms (the native kernels' build is none). */
function newestUnder(dir: string): number {
  let newest = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || entry.parentPath.includes(path.join('native', 'build'))) continue
    newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs)
  }
  return newest
}

const built = (args: string[], env: Record<string, string | undefined> = {}) =>
  runCli(args, env, 120_000, CLI_BUILT)

describe('the compiled CLI (dist/)', () => {
  let database: { url: string; drop: () => Promise<void> }
  let dir: string

  beforeAll(async () => {
    database = await createScratchDatabase(ADMIN_URL, `discograph_t_${process.pid}_built`)
    dir = tmpDir('discograph-built-')
  })
  afterAll(async () => {
    await database?.drop()
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  })

  it('is built from the current source (run `npm run build` after editing)', () => {
    const index = path.join(REPO_ROOT, 'dist/src/cli/command-index.json') // written last by the build
    expect(fs.existsSync(index), 'dist/ is not built: run `npm run build`').toBe(true)
    const source = Math.max(
      newestUnder(path.join(REPO_ROOT, 'src')),
      newestUnder(path.join(REPO_ROOT, 'migrations')),
    )
    expect(
      fs.statSync(index).mtimeMs,
      'dist/ is older than src/ or migrations/: run `npm run build`',
    ).toBeGreaterThanOrEqual(source)
  })

  it('prints the same help as the source CLI, without loading the commands', async () => {
    const [fromBuild, fromSource] = await Promise.all([built(['--help']), runCli(['--help'])])
    expect(fromBuild.code, fromBuild.stderr).toBe(0)
    expect(fromBuild.stdout).toBe(fromSource.stdout)
    expect(fromBuild.stdout).toMatch(/^\s+ingest\s/m)
    const unknown = await built(['ingset'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain("unknown command 'ingset'")
    expect(unknown.stderr).toContain('(Did you mean ingest?)')
  })

  it('synthesizes a catalog, imports its dumps and audio into an empty database, in worker threads', async () => {
    const env = { DATABASE_URL: database.url, DATA_DIR: path.join(dir, 'data') }
    const world = path.join(dir, 'world')
    // 5 s tracks at 22 kHz stereo: over synth's 120 s and the audio import's 8 MB, below which they stay inline
    const synth = await built(
      ['synth', '--size', 'tiny', '--seconds', '5', '--workers', '2', '--out', world, '--json'],
      env,
    )
    expect(synth.code, synth.stderr).toBe(0)
    expect(JSON.parse(synth.stdout).workers).toBe(2)

    const migrated = await built(['db', 'migrate'], env) // the compiled migrations, into the empty database
    expect(migrated.code, migrated.stderr).toBe(0)

    const dumps = await built(['ingest', 'discogs', world, '--parse-workers', '2', '--json'], env)
    expect(dumps.code, dumps.stderr).toBe(0)
    const imported = JSON.parse(dumps.stdout)
    expect(imported.types.releases.records).toBeGreaterThan(0)

    const audio = await built(
      [
        'ingest',
        'audio',
        path.join(world, 'audio'),
        '--manifest',
        path.join(world, 'manifest.csv'),
        '--concurrency',
        '2',
        '--json',
      ],
      env,
    )
    expect(audio.code, audio.stderr).toBe(0)
    const linked = JSON.parse(audio.stdout)
    expect(linked.threads).toBe(2)
    expect(linked.match.linked).toBe(linked.files.scanned)
    expect(linked.match.errors).toBe(0)

    const client = new pg.Client({ connectionString: database.url })
    await client.connect()
    try {
      const { rows } = await client.query<{ releases: number; linked: number }>(
        `SELECT (SELECT count(*)::int FROM release) AS releases, (SELECT count(*)::int FROM audio_file WHERE track_id IS NOT NULL) AS linked`,
      )
      expect(rows).toEqual([{ releases: imported.types.releases.records, linked: linked.match.linked }])
    } finally {
      await client.end()
    }
  })
})

import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI_SOURCE } from '../support/cli.ts'
import { createServerTestDatabase, tmpDir, type TestDatabase } from '../support/database.ts'

const run = promisify(execFile)
const ROOT = path.resolve(import.meta.dirname, '../..')
const FIXTURES = path.resolve(ROOT, '../shared/fixtures/discogs')

describe('discograph ingest discogs (CLI, real server)', () => {
  let t: TestDatabase
  let dir: string
  beforeAll(async () => {
    t = await createServerTestDatabase()
    dir = tmpDir('discograph-cli-ingest-')
  })
  afterAll(async () => {
    await t?.dispose()
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  })

  const cli = (args: string[]) =>
    run(process.execPath, [CLI_SOURCE, 'ingest', 'discogs', ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: t.config.databaseUrl, DATA_DIR: dir, LOG_LEVEL: 'warn' },
    })

  it('imports dump files and prints the summary as JSON (parsing in two workers)', async () => {
    const { stdout } = await cli([
      path.join(FIXTURES, 'discogs_20200806_labels.xml.gz'),
      path.join(FIXTURES, 'discogs_20200806_releases.xml.gz'),
      '--json',
      '--parse-workers',
      '2',
    ])
    const s = JSON.parse(stdout)
    expect(s.types.labels).toEqual({ records: 1000, inserted: 1000, updated: 0, unchanged: 0, missing: 0 })
    expect(s.types.releases.records).toBe(1000)
    expect(s.rows.track).toBe(9430)
    expect(s.unknownTotal).toBe(0)
    const { rows } = await t.db.pool.query(`SELECT title FROM release WHERE id = 1`)
    expect(rows).toEqual([{ title: 'Stockholm' }])
  })

  it('prints a readable summary without --json; --dump-date names undated files', async () => {
    const file = path.join(dir, 'mylabels.xml')
    fs.writeFileSync(file, '<labels><label><id>9900077</id><name>Own Label</name></label></labels>')
    const { stdout } = await cli([file, '--dump-date', '20240101'])
    expect(stdout).toMatch(/imported 1 records/)
    expect(stdout).toMatch(/labels\s+1 records: 1 new, 0 updated, 0 unchanged, 1000 newly missing/) // a dump is the whole set
    const { rows } = await t.db.pool.query(`SELECT name, last_seen_dump FROM label WHERE id = 9900077`)
    expect(rows).toEqual([{ name: 'Own Label', last_seen_dump: '20240101' }])
  })

  it('refuses a parse worker count that is not a positive integer, naming the flag', async () => {
    for (const n of ['0', 'two']) {
      const err = await cli([dir, '--parse-workers', n]).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      )
      expect(err?.code).toBe(1)
      expect(err?.stderr).toContain(`--parse-workers: must be a positive integer, got "${n}"`)
    }
  })

  it('exits non-zero naming the file and the place on a bad dump', async () => {
    const file = path.join(dir, 'discogs_20200806_artists.xml')
    fs.writeFileSync(
      file,
      '<artists><artist><id>1</id><name>A</name></artist><artist><id>2</id><name>B</nam></artist></artists>',
    )
    const err = await cli([file]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    )
    expect(err?.code).toBe(1)
    expect(err?.stderr).toContain(`discograph: ${file} (record #2, id 2, after id 1, byte `)
    expect(err?.stderr).toMatch(/XML syntax error: <\/nam> does not close <name>/)
    const { rows } = await t.db.pool.query(`SELECT id FROM artist ORDER BY id`)
    expect(rows).toEqual([{ id: 1 }])
  })
})

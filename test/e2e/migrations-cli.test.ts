import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrations } from '../../migrations/index.ts'
import { pendingMigrations } from '../../src/db/database.ts'
import { CLI_SOURCE, REPO_ROOT, runCli } from '../support/cli.ts'
import { createServerTestDatabase, type TestDatabase } from '../support/database.ts'

/** A server database one migration behind, as after an upgrade of the code. */
describe('CLI commands against a server with a pending migration', () => {
  let t: TestDatabase
  let env: Record<string, string>
  // whichever migration is the newest: undone below
  const last = new (migrations.at(-1)!)().name

  beforeAll(async () => {
    t = await createServerTestDatabase()
    await t.db.dataSource.undoLastMigration({ transaction: 'each' })
    env = { DATABASE_URL: t.config.databaseUrl!, DATA_DIR: t.config.dataDir }
  })
  afterAll(async () => {
    await t?.dispose()
  })

  it('a read-only command stops, naming the migration and what to run, and applies nothing', async () => {
    expect(await pendingMigrations(t.db)).toEqual([last])
    const r = await runCli(['jobs', 'list'], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(last)
    expect(r.stderr).toContain('discograph db migrate')
    expect(await pendingMigrations(t.db)).toEqual([last])
  })

  it('serve --migrate applies it, then serves with the schema current', async () => {
    const child = spawn(
      process.execPath,
      [CLI_SOURCE, 'serve', '--migrate', '--port', '0', '--worker', 'no'],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
      },
    )
    try {
      let stderr = ''
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 90_000)
        child.stderr.on('data', (d) => {
          stderr += d
          const m = /web UI\s+(http:\/\/\S+)\//.exec(stderr)
          if (m) {
            clearTimeout(timer)
            resolve(m[1])
          }
        })
        child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)))
      })
      expect(await pendingMigrations(t.db)).toEqual([])
      expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({
        status: 'ok',
        migrations: 'current',
      })
    } finally {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
    }
  })
})

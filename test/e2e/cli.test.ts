import fs from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../support/cli.ts'
import { tmpDir } from '../support/database.ts'

describe('discograph CLI', () => {
  const dataDir = tmpDir()
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))

  it('lists its commands', async () => {
    const r = await runCli(['--help'])
    expect(r.code).toBe(0)
    for (const cmd of ['db', 'worker', 'jobs', 'keys'])
      expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'))
  })

  it('migrates the embedded database under DATA_DIR, and a second run applies nothing', async () => {
    const first = await runCli(['db', 'migrate'], { DATA_DIR: dataDir })
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toMatch(/applied .*Catalog.* embedded database/)
    expect(fs.existsSync(`${dataDir}/pglite`)).toBe(true)
    const second = await runCli(['db', 'migrate'], { DATA_DIR: dataDir })
    expect(second.stdout).toMatch(/up to date/)
  })

  it('stops with the variable and the reason on bad configuration', async () => {
    const r = await runCli(['db', 'migrate'], { DATABASE_URL: 'mysql://localhost/x' })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/DATABASE_URL: must be a postgres/)
    const level = await runCli(['db', 'migrate'], { LOG_LEVEL: 'loud' })
    expect(level.stderr).toMatch(/LOG_LEVEL/)
  })

  it('creates an API key once, lists it without the secret, and rejects a bad role', async () => {
    const created = await runCli(['keys', 'create', '--role', 'admin', '--name', 'ops', '--json'], {
      DATA_DIR: dataDir,
    })
    expect(created.code, created.stderr).toBe(0)
    const { key, role } = JSON.parse(created.stdout)
    expect(role).toBe('admin')
    const listed = await runCli(['keys', 'list'], { DATA_DIR: dataDir })
    expect(listed.stdout).toMatch(/admin\s+dg_\S+…\s+ops/)
    expect(listed.stdout).not.toContain(key)
    const bad = await runCli(['keys', 'create', '--role', 'root'], { DATA_DIR: dataDir })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/--role: must be reader or admin/)
  })
})

describe('discograph mel', () => {
  it('writes the log-mel frames as raw little-endian float32, frame-major', async () => {
    const { decodeAudioFile } = await import('../../src/audio/decode.ts')
    const { melFrames } = await import('../../src/audio/mel.ts')
    const dir = tmpDir()
    const src = `${import.meta.dirname}/../fixtures/audio/tone.flac`
    const r = await runCli(['mel', src, '--out', `${dir}/tone.f32`, '--json'])
    expect(r.code, r.stderr).toBe(0)
    const summary = JSON.parse(r.stdout)
    const bytes = fs.readFileSync(`${dir}/tone.f32`)
    expect(bytes.length).toBe(summary.frames * 96 * 4)
    const written = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)
    const expected = melFrames((await decodeAudioFile(src)).samples)
    expect(Array.from(written)).toEqual(Array.from(expected))
    const bad = await runCli([
      'mel',
      `${import.meta.dirname}/../fixtures/audio/not-audio.mp3`,
      '--out',
      `${dir}/x.f32`,
    ])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/not-audio\.mp3: cannot decode audio/)
    fs.rmSync(dir, { recursive: true, force: true })
  })
})

import { spawnSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { FeatureStore, FeatureStoreError } from '../../src/audio/feature-store.ts'
import { MEL_BANDS } from '../../src/audio/mel.ts'
import { melPatch, patchCount } from '../../src/audio/patches.ts'
import { tmpDir } from '../support/database.ts'

describe('feature store', () => {
  const dir = tmpDir()
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
  const store = new FeatureStore(dir)
  const sha = crypto.createHash('sha256').update('x').digest('hex')
  const nFrames = 300
  const frames = Float32Array.from({ length: nFrames * MEL_BANDS }, (_, i) => Math.sin(i))

  it('stores frames once per content and reads patches at any hop, as computed in memory', () => {
    expect(store.has(sha)).toBe(false)
    store.write(sha, frames, nFrames)
    expect(store.has(sha)).toBe(true)
    expect(Array.from(store.readFrames(sha).frames)).toEqual(Array.from(frames))
    for (const hop of [62, 128]) {
      for (let p = 0; p < patchCount(nFrames, hop); p++) {
        const out = new Float32Array(128 * MEL_BANDS * 2).fill(7)
        store.readPatchInto(sha, nFrames, p, hop, out, 128 * MEL_BANDS)
        expect(out[0]).toBe(7) // only the asked slot is written
        expect(Array.from(out.subarray(128 * MEL_BANDS))).toEqual(
          Array.from(melPatch(frames, nFrames, p, hop)),
        )
      }
    }
  })

  it('pads a short track with silence and refuses foreign files', () => {
    const short = crypto.createHash('sha256').update('short').digest('hex')
    store.write(short, frames.subarray(0, 10 * MEL_BANDS), 10)
    const out = new Float32Array(128 * MEL_BANDS)
    store.readPatchInto(short, 10, 0, 62, out)
    expect(out[9 * MEL_BANDS]).toBe(frames[9 * MEL_BANDS])
    expect(out[10 * MEL_BANDS]).toBe(0)
    const bad = crypto.createHash('sha256').update('bad').digest('hex')
    fs.mkdirSync(path.dirname(store.pathOf(bad)), { recursive: true })
    fs.writeFileSync(store.pathOf(bad), 'garbage that is long enough')
    expect(() => store.readFrames(bad)).toThrow(FeatureStoreError)
    expect(() => store.pathOf('../../etc/passwd')).toThrow(/sha256/)
    store.close()
  })

  it('keeps at most 64 files open for patch reads, the least recently read closed first, and closes them all', () => {
    const openFiles = () => fs.readdirSync('/proc/self/fd').length
    const shas = Array.from({ length: 70 }, (_, i) =>
      crypto.createHash('sha256').update(`open-${i}`).digest('hex'),
    )
    for (const s of shas) store.write(s, frames.subarray(0, 128 * MEL_BANDS), 128)
    const reader = new FeatureStore(dir)
    const before = openFiles()
    const out = new Float32Array(128 * MEL_BANDS)
    const read = (s: string) => reader.readPatchInto(s, 128, 0, 62, out)
    shas.slice(0, 64).forEach(read)
    expect(openFiles() - before).toBe(64)
    read(shas[0]) // now the most recently read: shas[1] goes first
    read(shas[64])
    expect(openFiles() - before).toBe(64)
    // shas[0] is still open: reading it opens nothing; shas[1] was closed: reading it opens it again
    fs.renameSync(reader.pathOf(shas[0]), reader.pathOf(shas[0]) + '.away')
    expect(() => read(shas[0])).not.toThrow()
    fs.renameSync(reader.pathOf(shas[1]), reader.pathOf(shas[1]) + '.away')
    expect(() => read(shas[1])).toThrow(FeatureStoreError)
    reader.close()
    expect(openFiles()).toBe(before)
  })

  it('sweeps the temporary files no writer will finish, and only those', () => {
    const sweepDir = tmpDir()
    try {
      const sweeper = new FeatureStore(sweepDir)
      const shaOf = (t: string) => crypto.createHash('sha256').update(t).digest('hex')
      // a process that has exited: its pid runs no more (pids are not reused this fast)
      const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout
      const deadPid = Number(gone.toString())
      const tmp = (text: string, pid: number, thread: number, idleS: number) => {
        const file = `${sweeper.pathOf(shaOf(text))}.${pid}.${thread}.0.tmp`
        fs.mkdirSync(path.dirname(file), { recursive: true })
        fs.writeFileSync(file, 'partial')
        const t = Date.now() / 1000 - idleS
        fs.utimesSync(file, t, t)
        return file
      }
      const live = tmp('live', process.pid, 1, 5) // this process, another live thread: kept
      const deadThread = tmp('dead thread', process.pid, 7, 0) // this process's thread 7, which died
      const crashed = tmp('crashed', deadPid, 0, 60) // a process that is gone, idle a minute
      const justCrashed = tmp('just crashed', deadPid, 0, 5) // gone, but idle only 5 s: could be another host
      const stale = tmp('stale', process.pid, 1, 7200) // whoever: idle two hours
      const stored = sweeper.pathOf(shaOf('stored'))
      sweeper.write(shaOf('stored'), frames, nFrames)

      expect(sweeper.sweepTemporaryFiles().sort()).toEqual([crashed, stale].sort())
      expect(sweeper.sweepTemporaryFiles({ thread: 7 })).toEqual([deadThread])
      for (const kept of [live, justCrashed, stored]) expect(fs.existsSync(kept)).toBe(true)
      expect(new FeatureStore(path.join(sweepDir, 'none')).sweepTemporaryFiles()).toEqual([]) // no store yet
    } finally {
      fs.rmSync(sweepDir, { recursive: true, force: true })
    }
  })
})

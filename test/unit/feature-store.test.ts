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
})

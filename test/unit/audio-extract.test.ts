import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { decodeAudioFile } from '../../src/audio/decode.ts'
import { FeatureStore } from '../../src/audio/feature-store.ts'
import { MEL_BANDS, melFrames } from '../../src/audio/mel.ts'
import { inlineExtractor, workerExtractor } from '../../src/ingest/audio/extract-pool.ts'
import type { ExtractResult } from '../../src/ingest/audio/extract.ts'
import { tmpDir } from '../support/database.ts'

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/audio')
const FILES = [
  'tone-44k-stereo.wav',
  'tone.flac',
  'tone.mp3',
  'tone.ogg',
  'tone.opus',
  'truncated.mp3',
  'not-audio.mp3',
  'missing.wav',
]

describe('audio feature extraction', () => {
  const dataDir = tmpDir('discograph-extract-')
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))

  it('gives the same hashes, tags, frames and per-file errors in worker threads as inline', async () => {
    const inline = inlineExtractor(dataDir)
    const pool = workerExtractor(dataDir, 2)
    try {
      const tasks = FILES.map((f) => ({ path: path.join(FIXTURES, f), skipIfStored: true }))
      const a = await Promise.all(tasks.map((t) => inline.run(t)))
      const b = await Promise.all(tasks.map((t) => pool.run(t)))
      const kinds = (rs: ExtractResult[]) => rs.map((r) => r.kind)
      // a truncated mp3 decodes what is there; a text file and a missing one fail, each on its own
      expect(kinds(a)).toEqual([
        'decoded',
        'decoded',
        'decoded',
        'decoded',
        'decoded',
        'decoded',
        'failed',
        'failed',
      ])
      expect(kinds(b)).toEqual(kinds(a))
      for (let i = 0; i < FILES.length; i++) {
        const x = a[i]
        const y = b[i]
        expect(y.sha256).toBe(x.sha256)
        if (x.kind === 'decoded' && y.kind === 'decoded') {
          expect(x.sha256).toBe(
            crypto.createHash('sha256').update(fs.readFileSync(tasks[i].path)).digest('hex'),
          )
          expect(y.nFrames).toBe(x.nFrames)
          expect(y.durationS).toBe(x.durationS)
          const fx = fs.readFileSync(x.tempFile)
          expect(fs.readFileSync(y.tempFile).equals(fx)).toBe(true)
          expect(fx.length).toBe(16 + x.nFrames * MEL_BANDS * 4)
          // the streamed frames are those of the whole file decoded in memory
          const whole = melFrames((await decodeAudioFile(tasks[i].path)).samples)
          expect(fx.subarray(16).equals(Buffer.from(whole.buffer))).toBe(true)
        }
        if (x.kind === 'failed' && y.kind === 'failed') expect(y.error).toBe(x.error)
      }
      expect((a[6] as { error: string }).error).toMatch(/not-audio\.mp3: cannot decode audio/)
      expect((a[7] as { error: string }).error).toMatch(/cannot read: ENOENT/)
    } finally {
      await pool.close()
      await inline.close()
    }
  })

  it('skips decoding content already in the store, unless told not to', async () => {
    const store = new FeatureStore(dataDir)
    const inline = inlineExtractor(dataDir)
    const file = path.join(FIXTURES, 'tone.flac')
    const first = await inline.run({ path: file, skipIfStored: true })
    if (first.kind !== 'decoded') throw new Error(first.kind)
    store.adopt(first.sha256, first)
    expect(store.readFrames(first.sha256).nFrames).toBe(first.nFrames)
    expect(await inline.run({ path: file, skipIfStored: true })).toMatchObject({
      kind: 'stored',
      sha256: first.sha256,
    })
    expect(await inline.run({ path: file, skipIfStored: false })).toMatchObject({
      kind: 'decoded',
      sha256: first.sha256,
    })
  })
})

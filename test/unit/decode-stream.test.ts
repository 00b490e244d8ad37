import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { decodeAudioFile } from '../../src/audio/decode.ts'
import { streamAudioFile } from '../../src/audio/decode-stream.ts'

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/audio')

async function collect(file: string, opts: { readBytes?: number; wavFrames?: number }) {
  const parts: Float32Array[] = []
  const info = await streamAudioFile(file, (s) => parts.push(s), opts)
  const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0))
  let o = 0
  for (const p of parts) {
    all.set(p, o)
    o += p.length
  }
  return { info, all, pieces: parts.length }
}

describe('streamed decoding', () => {
  for (const name of [
    'tone-44k-stereo.wav',
    'tone.flac',
    'tone.mp3',
    'tone.ogg',
    'tone.opus',
    'truncated.mp3',
  ]) {
    it(`${name} read in tiny pieces gives the samples of the whole-file decode, bit for bit`, async () => {
      const file = path.join(FIXTURES, name)
      const whole = await decodeAudioFile(file)
      for (const opts of [{ readBytes: 997, wavFrames: 7 }, { readBytes: 4096, wavFrames: 4410 }, {}]) {
        const { info, all, pieces } = await collect(file, opts)
        if (opts.readBytes === 997 && name !== 'truncated.mp3') expect(pieces).toBeGreaterThan(2)
        expect(info).toMatchObject({
          format: whole.format,
          sourceSampleRate: whole.sourceSampleRate,
          channels: whole.channels,
        })
        expect(info.durationS).toBeCloseTo(whole.durationS, 9)
        expect(all.length).toBe(whole.samples.length)
        expect(
          Buffer.from(all.buffer).equals(
            Buffer.from(whole.samples.buffer, whole.samples.byteOffset, whole.samples.byteLength),
          ),
        ).toBe(true)
      }
    })
  }

  it.skipIf(spawnSync('ffmpeg', ['-version']).status !== 0)(
    'an m4a through ffmpeg streams the samples of the whole-file decode',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'discograph-m4a-'))
      try {
        const file = path.join(dir, 'tone.m4a')
        const made = spawnSync('ffmpeg', [
          '-v',
          'error',
          '-i',
          path.join(FIXTURES, 'tone.flac'),
          '-c:a',
          'aac',
          file,
        ])
        expect(made.status, String(made.stderr)).toBe(0)
        const whole = await decodeAudioFile(file)
        const { info, all } = await collect(file, {})
        expect(info).toMatchObject({ format: 'm4a', sourceSampleRate: 16000 })
        expect(all.length).toBeGreaterThan(16000)
        expect(
          Buffer.from(all.buffer).equals(
            Buffer.from(whole.samples.buffer, whole.samples.byteOffset, whole.samples.byteLength),
          ),
        ).toBe(true)
      } finally {
        fs.rmSync(dir, { recursive: true, force: true })
      }
    },
  )

  it('names the file when it is not audio or missing', async () => {
    await expect(streamAudioFile(path.join(FIXTURES, 'not-audio.mp3'), () => {})).rejects.toThrow(
      /not-audio\.mp3: cannot decode audio/,
    )
    await expect(streamAudioFile(path.join(FIXTURES, 'missing.wav'), () => {})).rejects.toThrow(
      /missing\.wav: cannot decode audio: ENOENT/,
    )
  })
})

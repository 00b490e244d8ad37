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

  it('names the file when it is not audio or missing', async () => {
    await expect(streamAudioFile(path.join(FIXTURES, 'not-audio.mp3'), () => {})).rejects.toThrow(
      /not-audio\.mp3: cannot decode audio/,
    )
    await expect(streamAudioFile(path.join(FIXTURES, 'missing.wav'), () => {})).rejects.toThrow(
      /missing\.wav: cannot decode audio: ENOENT/,
    )
  })
})

import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { decodeAudioFile } from '../../src/audio/decode.ts'
import { AudioDecodeError } from '../../src/errors.ts'

const dir = path.resolve(import.meta.dirname, '../fixtures/audio')

/** Power of a frequency by Goertzel, relative to the signal's total power. */
function toneShare(x: Float32Array, hz: number, rate = 16000): number {
  const k = (2 * Math.PI * hz) / rate
  let s1 = 0
  let s2 = 0
  for (const v of x) {
    const s = v + 2 * Math.cos(k) * s1 - s2
    s2 = s1
    s1 = s
  }
  const power = (s1 * s1 + s2 * s2 - 2 * Math.cos(k) * s1 * s2) / ((x.length * x.length) / 2)
  const total = x.reduce((a, v) => a + v * v, 0) / x.length
  return power / total
}

describe('decodeAudioFile', () => {
  for (const file of ['tone-44k-stereo.wav', 'tone.flac', 'tone.mp3', 'tone.ogg', 'tone.opus']) {
    it(`${file}: mono 16 kHz, right length, the two tones at 0.5·(L+R)`, async () => {
      const a = await decodeAudioFile(path.join(dir, file))
      expect(a.sampleRate).toBe(16000)
      expect(a.channels).toBe(2)
      expect(a.durationS).toBeGreaterThan(1.45)
      expect(a.durationS).toBeLessThan(1.6) // encoders add a little padding
      expect(a.samples.length).toBeCloseTo(a.durationS * 16000, -1)
      const mid = a.samples.subarray(4000, 20000)
      // both tones, equally strong, carry (nearly) all the energy; each at amplitude 0.25 after the downmix
      const s440 = toneShare(mid, 440)
      const s880 = toneShare(mid, 880)
      expect(s440 + s880).toBeGreaterThan(0.95)
      expect(Math.abs(s440 - s880)).toBeLessThan(0.05)
      const rms = Math.sqrt(mid.reduce((s, v) => s + v * v, 0) / mid.length)
      expect(rms).toBeCloseTo(Math.sqrt((2 * 0.25 ** 2) / 2), 1)
    })
  }

  it('lossless FLAC decodes to the same samples as the WAV it was made from', async () => {
    const [w, f] = await Promise.all([
      decodeAudioFile(path.join(dir, 'tone-44k-stereo.wav')),
      decodeAudioFile(path.join(dir, 'tone.flac')),
    ])
    expect(f.samples.length).toBe(w.samples.length)
    let max = 0
    for (let i = 0; i < w.samples.length; i++) max = Math.max(max, Math.abs(w.samples[i] - f.samples[i]))
    expect(max).toBeLessThan(1e-4)
  })

  it('a corrupt, a truncated-to-nothing or a non-audio file raises AudioDecodeError naming the file', async () => {
    for (const file of ['not-audio.mp3', 'does-not-exist.ogg']) {
      const p = path.join(dir, file)
      const err = await decodeAudioFile(p).catch((e) => e)
      expect(err).toBeInstanceOf(AudioDecodeError)
      expect(err.message).toContain(p)
    }
  })

  it('a truncated mp3 decodes what is there', async () => {
    const a = await decodeAudioFile(path.join(dir, 'truncated.mp3'))
    expect(a.durationS).toBeGreaterThan(0.1)
    expect(a.durationS).toBeLessThan(0.6)
  })
})

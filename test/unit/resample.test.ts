import { describe, expect, it } from 'vitest'
import { downmix, resample } from '../../src/audio/resample.ts'

const tone = (hz: number, rate: number, seconds: number) =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => Math.sin((2 * Math.PI * hz * i) / rate))
const rms = (x: Float32Array, from = 0, to = x.length) =>
  Math.sqrt(x.subarray(from, to).reduce((s, v) => s + v * v, 0) / (to - from))

describe('resample', () => {
  for (const rate of [44100, 48000, 22050, 8000]) {
    it(`${rate} → 16000 Hz keeps a 1 kHz tone (amplitude, frequency, length)`, () => {
      const y = resample(tone(1000, rate, 1), rate, 16000)
      expect(y.length).toBe(16000)
      expect(rms(y, 1000, 15000)).toBeCloseTo(Math.SQRT1_2, 3)
      // compare with the ideal 1 kHz tone at 16 kHz in the steady part
      const ideal = tone(1000, 16000, 1)
      let err = 0
      for (let i = 1000; i < 15000; i++) err = Math.max(err, Math.abs(y[i] - ideal[i]))
      expect(err).toBeLessThan(1e-3)
    })
  }

  it('removes what lies above the new Nyquist frequency (anti-aliasing ≥ 60 dB at 10 kHz)', () => {
    const y = resample(tone(10000, 44100, 1), 44100, 16000)
    expect(20 * Math.log10(rms(y, 1000, 15000) / Math.SQRT1_2)).toBeLessThan(-60)
  })

  it('is the identity at equal rates and rejects nonsense rates', () => {
    const x = tone(440, 16000, 0.1)
    expect(resample(x, 16000, 16000)).toBe(x)
    expect(() => resample(x, 0, 16000)).toThrow(/positive integers/)
  })

  it('downmixes stereo to 0.5·(L+R)', () => {
    expect(Array.from(downmix([Float32Array.from([1, 0.5]), Float32Array.from([0, -0.5])]))).toEqual([0.5, 0])
  })
})

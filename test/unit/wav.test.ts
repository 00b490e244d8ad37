import { describe, expect, it } from 'vitest'
import { decodeWav, encodeWav, WavFormatError } from '../../src/audio/wav.ts'

describe('wav', () => {
  it('round-trips 16-bit stereo with INFO tags', () => {
    const l = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i / 10) * 0.5)
    const r = Float32Array.from({ length: 1000 }, (_, i) => Math.cos(i / 7) * 0.25)
    const buf = encodeWav([l, r], 44100, { tags: { INAM: 'Östermalm', IART: 'The Persuader', ITRK: '1' } })
    const w = decodeWav(buf)
    expect(w.sampleRate).toBe(44100)
    expect(w.channels).toHaveLength(2)
    for (let i = 0; i < 1000; i++) {
      expect(Math.abs(w.channels[0][i] - l[i])).toBeLessThan(1 / 16000)
      expect(Math.abs(w.channels[1][i] - r[i])).toBeLessThan(1 / 16000)
    }
    expect(w.tags).toEqual({ INAM: 'Östermalm', IART: 'The Persuader', ITRK: '1' })
  })

  it('round-trips 32-bit float exactly', () => {
    const x = Float32Array.from([0, 0.1, -0.7, 1])
    expect(Array.from(decodeWav(encodeWav([x], 16000, { bitDepth: 32 })).channels[0])).toEqual(Array.from(x))
  })

  it('rejects what is not a wave file', () => {
    expect(() => decodeWav(Buffer.from('ID3\u0003 not a wave at all'))).toThrow(WavFormatError)
    const truncated = encodeWav([new Float32Array(10)], 16000).subarray(0, 30)
    expect(() => decodeWav(truncated)).toThrow(/fmt|data/)
  })
})

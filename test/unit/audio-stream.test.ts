import { describe, expect, it } from 'vitest'
import { MelStream, melFrames, frameCount, MEL_BANDS } from '../../src/audio/mel.ts'
import { resample, StreamingResampler } from '../../src/audio/resample.ts'
import { SeededRandom } from '../../src/random/seeded-random.ts'

/** Music-like test signal: noise plus two tones, so every band and every filter tap matters. */
function signal(n: number, rate: number, seed = 7): Float32Array {
  const rnd = new SeededRandom(seed)
  return Float32Array.from(
    { length: n },
    (_, i) =>
      0.3 * (rnd.next() * 2 - 1) +
      0.4 * Math.sin((2 * Math.PI * 440 * i) / rate) +
      0.2 * Math.sin((2 * Math.PI * 6100 * i) / rate),
  )
}

/** Cuts x into chunks of the given sizes, cycling, and concatenates what `push` returns plus `end()`. */
function streamed(
  x: Float32Array,
  sizes: number[],
  s: { push(c: Float32Array): Float32Array; end(): Float32Array },
): Float32Array {
  const parts: Float32Array[] = []
  let at = 0
  for (let k = 0; at < x.length; k++) {
    const size = sizes[k % sizes.length]
    parts.push(s.push(x.slice(at, at + size)))
    at += size
  }
  parts.push(s.end())
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

const same = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))

describe('streaming resampler', () => {
  for (const rate of [44100, 48000, 22050, 8000]) {
    it(`${rate} → 16000 Hz in awkward chunks equals the whole-array resampling bit for bit`, () => {
      const x = signal(Math.round(rate * 3.7) + 13, rate)
      const whole = resample(x, rate, 16000)
      for (const sizes of [[1], [1000], [44101], [7, 1, 3001, 2], [x.length]]) {
        const got = streamed(x, sizes, new StreamingResampler(rate, 16000))
        expect(got.length).toBe(whole.length)
        expect(same(got, whole)).toBe(true)
      }
    })
  }

  it('passes 16 kHz through and handles input shorter than the filter', () => {
    const x = signal(50, 16000)
    expect(same(streamed(x, [3], new StreamingResampler(16000, 16000)), x)).toBe(true)
    const y = signal(30, 44100)
    expect(same(streamed(y, [1], new StreamingResampler(44100, 16000)), resample(y, 44100, 16000))).toBe(true)
  })
})

describe('streaming mel frames', () => {
  for (const n of [0, 1, 255, 256, 257, 511, 512, 16000 * 5 + 77]) {
    it(`${n} samples in chunks of 1, 1000, 44101 and mixed sizes: the whole-array frames bit for bit`, () => {
      const x = signal(n, 16000, n + 1)
      const whole = melFrames(x)
      expect(whole.length).toBe(frameCount(n) * MEL_BANDS)
      for (const sizes of [[1], [1000], [44101], [255, 1, 513, 256]]) {
        const s = new MelStream()
        const got = streamed(x, sizes, s)
        expect(s.frames).toBe(frameCount(n))
        expect(got.length).toBe(whole.length)
        expect(same(got, whole)).toBe(true)
      }
    })
  }

  it('resampler then mel, streamed in 4096-sample chunks, equals resample + melFrames of the whole', () => {
    const x = signal(44100 * 4 + 999, 44100, 3)
    const whole = melFrames(resample(x, 44100, 16000))
    const r = new StreamingResampler(44100, 16000)
    const m = new MelStream()
    const parts: Float32Array[] = []
    for (let at = 0; at < x.length; at += 4096) parts.push(m.push(r.push(x.subarray(at, at + 4096))))
    parts.push(m.push(r.end()), m.end())
    const got = new Float32Array(whole.length)
    let o = 0
    for (const p of parts) {
      got.set(p, o)
      o += p.length
    }
    expect(o).toBe(whole.length)
    expect(same(got, whole)).toBe(true)
  })

  it('holds no more than about two chunks whatever the length of the stream (10 min at 44.1 kHz in 4096-sample chunks)', () => {
    const r = new StreamingResampler(44100, 16000)
    const m = new MelStream()
    const chunk = signal(4096, 44100, 5)
    let frames = 0
    for (let k = 0; k < (600 * 44100) / 4096; k++) frames += m.push(r.push(chunk)).length / MEL_BANDS
    expect(frames).toBeGreaterThan(600 * 62)
    expect(r.held).toBeLessThanOrEqual(2 * 4096 + 1024)
    expect(m.held).toBeLessThanOrEqual(2 * 1486 + 1024)
  })
})

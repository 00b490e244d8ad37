import { describe, expect, it } from 'vitest'
import {
  frameCount,
  hannSymmetric,
  hzToMelSlaney,
  melBandEdges,
  melFilterbank,
  melFrames,
  melToHzSlaney,
  MEL_BANDS,
} from '../../src/audio/mel.ts'
import { melPatch, melPatches, patchCount } from '../../src/audio/patches.ts'
import { SeededRandom } from '../../src/random/seeded-random.ts'
import { cutFrames, essentiaMusiCnnFrame } from '../support/essentia.ts'

const SR = 16000
const sine = (hz: number, seconds: number, amp = 0.5) =>
  Float32Array.from(
    { length: Math.round(SR * seconds) },
    (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / SR),
  )

describe('mel frontend math', () => {
  it('Slaney mel scale: linear below 1 kHz, logarithmic above, and invertible', () => {
    expect(hzToMelSlaney(600)).toBeCloseTo(9, 12)
    expect(hzToMelSlaney(1000)).toBeCloseTo(15, 12)
    expect(hzToMelSlaney(6400)).toBeCloseTo(42, 10) // 15 + 27
    for (const f of [0, 123, 999, 1000, 4321, 8000]) expect(melToHzSlaney(hzToMelSlaney(f))).toBeCloseTo(f, 8)
  })

  it('98 edges from 0 to 8000 Hz, evenly spaced in mel', () => {
    const e = melBandEdges()
    expect(e.length).toBe(98)
    expect(e[0]).toBe(0)
    expect(e[97]).toBeCloseTo(8000, 8)
    const step = hzToMelSlaney(8000) / 97
    expect(hzToMelSlaney(e[1])).toBeCloseTo(step, 10)
    expect(e[1]).toBeCloseTo((200 * step) / 3, 10)
  })

  it('unit_tri triangles: peak 2/(f2−f0) at the centre, zero at the edges', () => {
    const { start, weights } = melFilterbank()
    const e = melBandEdges()
    const b = 60
    const peakBin = Math.round(e[b + 1] / 31.25)
    const w = weights[b][peakBin - start[b]]
    const hz = peakBin * 31.25
    const tri = hz < e[b + 1] ? (hz - e[b]) / (e[b + 1] - e[b]) : (e[b + 2] - hz) / (e[b + 2] - e[b + 1])
    expect(w).toBeCloseTo(tri / ((e[b + 2] - e[b]) / 2), 12)
    expect(start[b]).toBe(Math.ceil(e[b] / 31.25))
    expect(start[b] + weights[b].length - 1).toBe(Math.floor(e[b + 2] / 31.25))
  })

  it('symmetric Hann, not normalised', () => {
    const w = hannSymmetric(512)
    expect(w[0]).toBe(0)
    expect(w[511]).toBeCloseTo(0, 12)
    expect(w[100]).toBeCloseTo(w[411], 12)
    expect(w[255]).toBeCloseTo(0.5 - 0.5 * Math.cos((2 * Math.PI * 255) / 511), 12)
  })

  it('frame count: centres at 0, 256, … up to the first at or past the end', () => {
    expect([0, 1, 255, 256, 257, 512, 16000].map(frameCount)).toEqual([0, 2, 2, 2, 3, 3, 64])
  })

  it('patches of 128 frames at a hop, tail discarded, short audio padded to one patch', () => {
    expect([0, 1, 127, 128, 189, 190, 1000].map((n) => patchCount(n))).toEqual([0, 1, 1, 1, 1, 2, 15])
    expect(patchCount(1000, 128)).toBe(7)
    const frames = Float32Array.from({ length: 300 * MEL_BANDS }, (_, i) => Math.floor(i / MEL_BANDS))
    const { data, count } = melPatches(frames, 300, 62)
    expect(count).toBe(3)
    expect(data[128 * MEL_BANDS]).toBe(62) // second patch starts at frame 62
    expect(Array.from(melPatch(frames, 300, 2, 62).subarray(0, 3))).toEqual([124, 124, 124])
    const short = melPatches(frames.subarray(0, 10 * MEL_BANDS), 10, 62)
    expect(short.count).toBe(1)
    expect(short.data[9 * MEL_BANDS]).toBe(9)
    expect(short.data[10 * MEL_BANDS]).toBe(0)
    expect(() => patchCount(10, 0)).toThrow(/positive integer/)
  })
})

describe('parity with essentia.js TensorflowInputMusiCNN', () => {
  const rng = new SeededRandom(1)
  const signals: Record<string, Float32Array> = {
    'sine 440 Hz': sine(440, 1),
    'sine 5 kHz, quiet': sine(5000, 0.5, 0.01),
    'white noise': Float32Array.from({ length: SR }, () => rng.next() * 2 - 1),
    silence: new Float32Array(SR / 2),
    'odd length tone + noise': Float32Array.from(
      { length: 12345 },
      (_, i) => 0.3 * Math.sin(i / 3) + 0.05 * (rng.next() - 0.5),
    ),
  }
  for (const [name, x] of Object.entries(signals)) {
    it(`${name}: max abs difference ≤ 1e-4`, () => {
      const ours = melFrames(x)
      const frames = cutFrames(x)
      expect(ours.length).toBe(frames.length * MEL_BANDS)
      let max = 0
      frames.forEach((f, i) => {
        const ref = essentiaMusiCnnFrame(f)
        for (let b = 0; b < MEL_BANDS; b++) max = Math.max(max, Math.abs(ref[b] - ours[i * MEL_BANDS + b]))
      })
      expect(max).toBeLessThanOrEqual(1e-4)
    })
  }

  // A loud chirp puts strong, moving peaks next to weak spectral skirts; there essentia.js' float32 FFT loses
  // digits to cancellation (up to ~3e-4 in the log domain), while ours (float64) matches an exact DFT.
  it('chirp: within 1e-4 of essentia.js on ≥ 99% of values, and where they differ most, ours is the exact one', () => {
    const x = Float32Array.from(
      { length: SR },
      (_, i) => 0.7 * Math.sin(2 * Math.PI * (50 * (i / SR) + 3950 * (i / SR) ** 2)),
    )
    const ours = melFrames(x)
    const frames = cutFrames(x)
    let worst = { diff: 0, frame: 0, band: 0 }
    let within = 0
    frames.forEach((f, i) => {
      const ref = essentiaMusiCnnFrame(f)
      for (let b = 0; b < MEL_BANDS; b++) {
        const diff = Math.abs(ref[b] - ours[i * MEL_BANDS + b])
        if (diff <= 1e-4) within++
        if (diff > worst.diff) worst = { diff, frame: i, band: b }
      }
    })
    expect(within / ours.length).toBeGreaterThanOrEqual(0.99)
    expect(worst.diff).toBeLessThan(5e-4)
    // exact DFT of the worst frame, in float64, for that band
    const { start, weights } = melFilterbank()
    const win = hannSymmetric()
    const f = frames[worst.frame]
    let acc = 0
    weights[worst.band].forEach((w, j) => {
      const k = start[worst.band] + j
      let re = 0
      let im = 0
      for (let n = 0; n < 512; n++) {
        re += f[n] * win[n] * Math.cos((2 * Math.PI * k * n) / 512)
        im -= f[n] * win[n] * Math.sin((2 * Math.PI * k * n) / 512)
      }
      acc += w * (re * re + im * im)
    })
    expect(Math.abs(Math.log10(1 + 10000 * acc) - ours[worst.frame * MEL_BANDS + worst.band])).toBeLessThan(
      1e-6,
    )
  })
})

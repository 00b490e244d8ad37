/**
 * Cheap hand-made audio features for tests that check the synthetic catalog carries learnable
 * structure: log band energies (mean and spread over frames), spectral centroid, onset rate and a
 * tempo-like periodicity. Deliberately simple DSP, independent of the product's mel frontend.
 */

/** In-place iterative radix-2 FFT (re, im of length 2^k). */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1
    for (; j & bit; bit >>= 1) j ^= bit
    j ^= bit
    if (i < j) {
      ;[re[i], re[j]] = [re[j], re[i]]
      ;[im[i], im[j]] = [im[j], im[i]]
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len
    const wr = Math.cos(ang)
    const wi = Math.sin(ang)
    for (let i = 0; i < n; i += len) {
      let cr = 1
      let ci = 0
      for (let k = 0; k < len / 2; k++) {
        const a = i + k
        const b = a + len / 2
        const tr = re[b] * cr - im[b] * ci
        const ti = re[b] * ci + im[b] * cr
        re[b] = re[a] - tr
        im[b] = im[a] - ti
        re[a] += tr
        im[a] += ti
        const ncr = cr * wr - ci * wi
        ci = cr * wi + ci * wr
        cr = ncr
      }
    }
  }
}

const FRAME = 1024
const BANDS = 16

/** Feature vector of a mono signal. */
export function spectralFeatures(x: Float32Array, sampleRate: number): number[] {
  const hop = FRAME / 2
  const frames = Math.max(1, Math.floor((x.length - FRAME) / hop) + 1)
  // Band edges log-spaced from 40 Hz to 8 kHz (or Nyquist).
  const top = Math.min(8000, sampleRate / 2)
  const edges = Array.from({ length: BANDS + 1 }, (_, b) =>
    Math.round(((40 * Math.pow(top / 40, b / BANDS)) / sampleRate) * FRAME),
  )
  const bandLog: number[][] = Array.from({ length: BANDS }, () => [])
  const centroids: number[] = []
  const flux: number[] = []
  let prev = new Float64Array(FRAME / 2)
  const re = new Float64Array(FRAME)
  const im = new Float64Array(FRAME)
  for (let f = 0; f < frames; f++) {
    re.fill(0)
    im.fill(0)
    for (let i = 0; i < FRAME; i++)
      re[i] = (x[f * hop + i] ?? 0) * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (FRAME - 1)))
    fft(re, im)
    const mag = new Float64Array(FRAME / 2)
    let num = 0
    let den = 0
    let fl = 0
    for (let k = 0; k < FRAME / 2; k++) {
      mag[k] = Math.hypot(re[k], im[k])
      num += k * mag[k]
      den += mag[k]
      fl += Math.max(0, mag[k] - prev[k])
    }
    prev = mag
    centroids.push(den > 0 ? ((num / den) * sampleRate) / FRAME : 0)
    flux.push(fl)
    for (let b = 0; b < BANDS; b++) {
      let e = 0
      for (let k = edges[b]; k < Math.max(edges[b] + 1, edges[b + 1]); k++) e += mag[k] * mag[k]
      bandLog[b].push(Math.log10(1e-10 + e))
    }
  }
  // Normalise band energies by the frame's total so loudness alone does not separate classes.
  const total = bandLog[0].map((_, f) => Math.log10(bandLog.reduce((s, b) => s + Math.pow(10, b[f]), 0)))
  const rel = bandLog.map((b) => b.map((v, f) => v - total[f]))
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length
  const std = (a: number[]) => {
    const m = mean(a)
    return Math.sqrt(mean(a.map((v) => (v - m) ** 2)))
  }
  // Onset rate: flux peaks above a local threshold, per second.
  const fluxMean = mean(flux)
  let onsets = 0
  for (let i = 1; i + 1 < flux.length; i++)
    if (flux[i] > flux[i - 1] && flux[i] >= flux[i + 1] && flux[i] > 1.5 * fluxMean) onsets++
  const seconds = x.length / sampleRate
  // Periodicity of the flux: the lag (0.25–1.5 s) with the highest autocorrelation, in beats per minute.
  const fps = sampleRate / hop
  let bestLag = 0
  let best = -Infinity
  const fc = flux.map((v) => v - fluxMean)
  for (let lag = Math.round(0.25 * fps); lag <= Math.round(1.5 * fps) && lag < fc.length; lag++) {
    let s = 0
    for (let i = 0; i + lag < fc.length; i++) s += fc[i] * fc[i + lag]
    s /= fc.length - lag
    if (s > best) {
      best = s
      bestLag = lag
    }
  }
  return [
    ...rel.map(mean),
    ...rel.map(std),
    mean(centroids) / 1000,
    std(centroids) / 1000,
    onsets / seconds,
    bestLag ? 60 / (bestLag / fps) / 100 : 0,
    std(flux) / (fluxMean || 1),
  ]
}

/**
 * Nearest-centroid classification accuracy: features standardised with the training set's statistics,
 * one centroid per class, each test item assigned to the closest centroid (Euclidean).
 */
export function nearestCentroidAccuracy(
  train: { x: number[]; y: string }[],
  test: { x: number[]; y: string }[],
): number {
  const d = train[0].x.length
  const mu = new Array(d).fill(0)
  const sd = new Array(d).fill(0)
  for (const t of train) for (let i = 0; i < d; i++) mu[i] += t.x[i] / train.length
  for (const t of train) for (let i = 0; i < d; i++) sd[i] += (t.x[i] - mu[i]) ** 2 / train.length
  const z = (x: number[]) => x.map((v, i) => (v - mu[i]) / (Math.sqrt(sd[i]) || 1))
  const sums = new Map<string, { s: number[]; n: number }>()
  for (const t of train) {
    const e = sums.get(t.y) ?? { s: new Array(d).fill(0), n: 0 }
    z(t.x).forEach((v, i) => (e.s[i] += v))
    e.n++
    sums.set(t.y, e)
  }
  const centroids = [...sums].map(([y, e]) => ({ y, c: e.s.map((v) => v / e.n) }))
  let right = 0
  for (const t of test) {
    const q = z(t.x)
    let bestY = ''
    let bestD = Infinity
    for (const { y, c } of centroids) {
      let dist = 0
      for (let i = 0; i < d; i++) dist += (q[i] - c[i]) ** 2
      if (dist < bestD) {
        bestD = dist
        bestY = y
      }
    }
    if (bestY === t.y) right++
  }
  return right / test.length
}

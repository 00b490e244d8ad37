/**
 * npm run bench:mel — throughput of the mel frontend (×realtime on one core) beside essentia.js'
 * TensorflowInputMusiCNN on the same frames, and decode throughput per format.
 */
import path from 'node:path'
import { decodeAudioFile } from '../src/audio/decode.ts'
import { melFrames } from '../src/audio/mel.ts'
import { SeededRandom } from '../src/random/seeded-random.ts'
import { cutFrames, essentiaMusiCnnFrame } from '../test/support/essentia.ts'

const SR = 16000
/** Music-like test audio: a few detuned partials with vibrato, a kick every 0.5 s and noise. */
function musicLike(seconds: number, seed = 1): Float32Array {
  const rng = new SeededRandom(seed)
  const x = new Float32Array(seconds * SR)
  const partials = Array.from({ length: 6 }, () => ({
    f: 110 * (1 + rng.int(12)),
    a: 0.05 + 0.1 * rng.next(),
  }))
  for (let i = 0; i < x.length; i++) {
    const t = i / SR
    let v = 0
    for (const p of partials) v += p.a * Math.sin(2 * Math.PI * p.f * t + 0.3 * Math.sin(2 * Math.PI * 5 * t))
    const tk = t % 0.5
    v += 0.6 * Math.exp(-tk * 30) * Math.sin(2 * Math.PI * 60 * tk)
    x[i] = v + 0.02 * (rng.next() - 0.5)
  }
  return x
}

function time(fn: () => void, minMs = 2000): number {
  let runs = 0
  const t0 = performance.now()
  do {
    fn()
    runs++
  } while (performance.now() - t0 < minMs)
  return (performance.now() - t0) / runs / 1000
}

const oursSeconds = 300
const audio = musicLike(oursSeconds)
melFrames(audio) // warm up
const ours = time(() => melFrames(audio))
const oursRealtime = oursSeconds / ours

const essSeconds = 30
const essAudio = audio.subarray(0, essSeconds * SR)
const frames = cutFrames(essAudio)
essentiaMusiCnnFrame(frames[0])
const ess = time(() => frames.forEach((f) => essentiaMusiCnnFrame(f)), 3000)
const essRealtime = essSeconds / ess

console.log(
  `mel frontend, ${oursSeconds} s of audio: ${(ours * 1000).toFixed(0)} ms → ${oursRealtime.toFixed(0)}× realtime (one core)`,
)
console.log(
  `essentia.js TensorflowInputMusiCNN, ${essSeconds} s: ${(ess * 1000).toFixed(0)} ms → ${essRealtime.toFixed(1)}× realtime`,
)
console.log(`ratio: ${(oursRealtime / essRealtime).toFixed(1)}× essentia.js (target ≥ 20×; ≥ 360× realtime)`)

const decode: Record<string, number> = {}
const dir = path.resolve(import.meta.dirname, '../test/fixtures/audio')
for (const file of ['tone-44k-stereo.wav', 'tone.flac', 'tone.mp3', 'tone.ogg', 'tone.opus']) {
  const a = await decodeAudioFile(path.join(dir, file))
  const t0 = performance.now()
  let n = 0
  while (performance.now() - t0 < 1500) {
    await decodeAudioFile(path.join(dir, file))
    n++
  }
  decode[a.format] = Math.round((a.durationS * n) / ((performance.now() - t0) / 1000))
  console.log(`decode ${file} → 16 kHz mono: ${decode[a.format]}× realtime`)
}
console.log(
  JSON.stringify({
    mel_x_realtime: Math.round(oursRealtime),
    essentia_x_realtime: Number(essRealtime.toFixed(1)),
    ratio_vs_essentia: Number((oursRealtime / essRealtime).toFixed(1)),
    decode_x_realtime: decode,
  }),
)

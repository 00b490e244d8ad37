import { Rng } from './prng.ts'
import { styleByName, type DrumGrid, type StyleProfile } from './vocabulary.ts'
import type { ArtistSound, Production, TrackRender } from './world.ts'

/**
 * Renders one synthetic track to PCM: pure Float32Array DSP, a function of the TrackRender and the
 * output format only. The music (notes, rhythm, timbre) comes from the artist's sound, the style and
 * the track's seed; the release's production (EQ tilt, filters, reverb, drive, loudness, width, hiss)
 * is applied on the master bus. No allocation inside per-sample loops.
 *
 * Signal flow: drums (one-shot samples mixed at grid positions), bass, chords and lead (band-limited
 * wavetable oscillators with ADSR envelopes) → buses (chords optionally driven) → stereo mix + reverb
 * send → reverb → hiss → high-pass, tilt EQ, low-pass → soft clipper → loudness normalisation → width → output.
 */

export interface RenderFormat {
  sampleRate: number
  channels: 1 | 2
}

const TABLE_SIZE = 2048
const SCALES = {
  major: [0, 2, 4, 5, 7, 9, 11],
  mixolydian: [0, 2, 4, 5, 7, 9, 10],
  minor: [0, 2, 3, 5, 7, 8, 10],
  dorian: [0, 2, 3, 5, 7, 9, 10],
} as const
/** Progressions as scale degrees (0 = tonic); jazz leans on ii–V–I. */
const PROGRESSIONS = {
  minor: [
    [0, 5, 2, 6],
    [0, 3, 4, 0],
    [0, 6, 5, 6],
    [0, 3, 0, 4],
  ],
  major: [
    [0, 4, 5, 3],
    [0, 3, 4, 4],
    [0, 5, 1, 4],
    [3, 4, 0, 0],
  ],
  jazz: [
    [1, 4, 0, 0],
    [1, 4, 0, 5],
    [0, 5, 1, 4],
  ],
} as const

interface Note {
  start: number
  length: number
  midi: number
  velocity: number
}

/** Renders the track; returns one Float32Array per channel, samples in [-1, 1]. */
export function renderTrack(spec: TrackRender, format: RenderFormat): Float32Array[] {
  const sr = format.sampleRate
  const n = Math.max(1, Math.round(spec.seconds * sr))
  const style = styleByName(spec.style)
  const sound = spec.sound
  const rng = new Rng(spec.musicSeed)
  const beat = 60 / spec.tempo
  const step = beat / 4
  const bar = beat * 4
  const bars = Math.ceil(spec.seconds / bar) + 1

  // ---- harmony
  const scale =
    style.genre === 'Jazz'
      ? spec.minor
        ? SCALES.dorian
        : SCALES.major
      : spec.minor
        ? sound.oddness > 0.5
          ? SCALES.dorian
          : SCALES.minor
        : sound.brightness > 1.6
          ? SCALES.mixolydian
          : SCALES.major
  const progressions =
    style.genre === 'Jazz' ? PROGRESSIONS.jazz : spec.minor ? PROGRESSIONS.minor : PROGRESSIONS.major
  const progression = progressions[rng.int(0, progressions.length - 1)]
  const degreeToMidi = (degree: number, base: number) => {
    const oct = Math.floor(degree / 7)
    const d = ((degree % 7) + 7) % 7
    return base + spec.tonic + 12 * oct + scale[d]
  }
  const chordAt = (time: number) =>
    progression[Math.floor(time / (beat * style.harmonicRhythm)) % progression.length]
  const chordTones = (degree: number, base: number, size: number): number[] => {
    if (size === 2)
      return [degreeToMidi(degree, base), degreeToMidi(degree, base) + 7, degreeToMidi(degree, base) + 12]
    const out: number[] = []
    for (let k = 0; k < size; k++) out.push(degreeToMidi(degree + 2 * k, base))
    return out
  }
  const swingTime = (s: number) => {
    const unit = style.swingUnit === 8 ? 4 : 2
    return s * step + (s % unit === unit / 2 ? style.swing * step * (unit / 2) : 0)
  }

  // ---- arrangement: bars where drums drop out (breakdowns) and where the lead rests
  const drumsOn = new Uint8Array(bars)
  const leadOn = new Uint8Array(bars)
  const arrRng = rng.fork('arrangement')
  for (let b = 0; b < bars; b++) {
    drumsOn[b] = b % 8 === 7 && arrRng.chance(0.4) ? 0 : 1
    leadOn[b] = b === 0 && arrRng.chance(0.5) ? 0 : 1
  }

  const drums = new Float32Array(n)
  const bass = new Float32Array(n)
  const chordsL = new Float32Array(n)
  const chordsR = new Float32Array(n)
  const lead = new Float32Array(n)

  // ---- drums
  if (style.drums) {
    const grid = style.drums[rng.int(0, style.drums.length - 1)]
    const kit = drumKit(style, sound, sr, rng.fork('kit'))
    const hitRng = rng.fork('hits')
    for (let b = 0; b < bars; b++) {
      if (!drumsOn[b]) continue
      for (let s = 0; s < 16; s++) {
        const t = b * bar + swingTime(s)
        const at = Math.round(t * sr)
        if (at >= n) break
        for (const part of ['kick', 'snare', 'hat', 'ride'] as const) {
          const v = velocity(grid, part, s, hitRng)
          if (v > 0) mixSample(drums, kit[part], at, v * (0.9 + 0.2 * hitRng.next()))
        }
      }
    }
  }

  // ---- bass
  const bassNotes = bassLine(style, rng.fork('bass'), {
    bars,
    bar,
    beat,
    step,
    chordAt,
    degreeToMidi,
    swingTime,
    grid: style.drums?.[0],
  })
  if (bassNotes.length) {
    const table = wavetable(
      sound,
      2 * 440 * Math.pow(2, (48 - 69) / 12),
      sr,
      style.bass === 'reese' ? 0.4 : -0.3,
    )
    const bassEnv = { ...sound, attack: Math.min(sound.attack, 0.01), vibratoDepth: 0 }
    const bassCache: NoteCache = new Map()
    for (const note of bassNotes)
      renderNote(bass, note, table, sr, bassEnv, style.bass === 'reese' ? 0.12 : 0, bassCache)
  }

  // ---- chords
  if (style.chords !== 'none') {
    const base = 48
    const table = wavetable(
      sound,
      440 * Math.pow(2, (base + 24 - 69) / 12),
      sr,
      style.chords === 'rhodes' ? -0.5 : style.chords === 'power' || style.chords === 'wash' ? 0.5 : 0,
    )
    const cRng = rng.fork('chords')
    const env = chordEnvelope(style, sound)
    const hits = chordRhythm(style, cRng, bars, bar, beat, step, swingTime)
    const gain = 0.5 / style.chordSize
    const cache: NoteCache = new Map()
    for (const h of hits) {
      const tones = chordTones(chordAt(h.start), base, style.chordSize)
      for (let k = 0; k < tones.length; k++) {
        const note: Note = { start: h.start, length: h.length, midi: tones[k], velocity: h.velocity * gain }
        // Two slightly detuned oscillators, one per side: the width of a chorus, cheaply.
        renderNote(chordsL, note, table, sr, env, -sound.detune, cache)
        renderNote(chordsR, note, table, sr, env, sound.detune, cache)
      }
    }
    if (style.distortion > 0) {
      const drive = 1 + 12 * style.distortion
      const norm = 1 / softClip(drive * 0.5)
      for (let i = 0; i < n; i++) {
        chordsL[i] = softClip(chordsL[i] * drive) * norm * 0.5
        chordsR[i] = softClip(chordsR[i] * drive) * norm * 0.5
      }
    }
  }

  // ---- lead
  if (style.lead !== 'none') {
    const register = 72 + 12 * sound.register - (style.lead === 'horn' ? 12 : 0)
    const table = wavetable(
      sound,
      440 * Math.pow(2, (register + 19 - 69) / 12),
      sr,
      style.lead === 'bell' ? -0.6 : 0,
    )
    const notes = leadLine(style, sound, rng.fork('lead'), {
      bars,
      bar,
      beat,
      step,
      chordAt,
      degreeToMidi,
      swingTime,
      register,
      leadOn,
    })
    const env =
      style.lead === 'bell' ? { ...sound, attack: 0.003, decay: 0.8, sustain: 0.05, release: 0.6 } : sound
    const cache: NoteCache = new Map()
    for (const note of notes) renderNote(lead, note, table, sr, env, 0, cache)
  }

  // ---- mix
  const left = new Float32Array(n)
  const right = new Float32Array(n)
  const send = new Float32Array(n)
  const drumGain = 0.9 * sound.drumLevel
  const leadL = Math.sqrt(0.5 * (1 - sound.pan))
  const leadR = Math.sqrt(0.5 * (1 + sound.pan))
  const bassSend = 0.05
  const chordSend = 0.6
  const leadSend = 0.5
  for (let i = 0; i < n; i++) {
    const d = drums[i] * drumGain
    const b = bass[i] * 0.55
    const l = lead[i] * 0.35
    left[i] = d + b + chordsL[i] + l * leadL
    right[i] = d + b + chordsR[i] + l * leadR
    send[i] = d * 0.15 + b * bassSend + (chordsL[i] + chordsR[i]) * 0.5 * chordSend + l * leadSend
  }
  master(left, right, send, spec.production, sr, new Rng(spec.productionSeed))
  if (format.channels === 1) {
    for (let i = 0; i < n; i++) left[i] = 0.5 * (left[i] + right[i])
    return [left]
  }
  return [left, right]
}

// ---------------------------------------------------------------- oscillators and envelopes

/**
 * One cycle of the artist's timbre: harmonic k has amplitude k^-brightness, even harmonics scaled by
 * (1 − oddness), times a resonance around `formantHarmonic`. `tilt` shifts the roll-off for a voice
 * (positive: brighter). Harmonics above Nyquist for `maxFreq` are left out (band-limited).
 */
export function wavetable(sound: ArtistSound, maxFreq: number, sampleRate: number, tilt = 0): Float32Array {
  const table = new Float32Array(TABLE_SIZE + 1)
  const harmonics = Math.max(1, Math.min(48, Math.floor(sampleRate / 2 / maxFreq)))
  const exponent = Math.max(0.3, sound.brightness - tilt)
  let peak = 0
  for (let k = 1; k <= harmonics; k++) {
    let a = Math.pow(k, -exponent)
    if (k % 2 === 0) a *= 1 - sound.oddness
    const f = (k - sound.formantHarmonic) / 1.5
    a *= 1 + sound.formantGain * Math.exp(-f * f)
    if (a < 1e-4) continue
    const w = (2 * Math.PI * k) / TABLE_SIZE
    for (let i = 0; i < TABLE_SIZE; i++) table[i] += a * Math.sin(w * i)
  }
  for (let i = 0; i < TABLE_SIZE; i++) peak = Math.max(peak, Math.abs(table[i]))
  const g = peak > 0 ? 1 / peak : 0
  for (let i = 0; i < TABLE_SIZE; i++) table[i] *= g
  table[TABLE_SIZE] = table[0]
  return table
}

/** Rendered unit-velocity notes of one voice, by pitch and length. */
type NoteCache = Map<string, Float32Array>

type Envelope = Pick<ArtistSound, 'attack' | 'decay' | 'sustain' | 'release' | 'vibratoRate' | 'vibratoDepth'>

/** One sine cycle, for vibrato (Math.sin per sample costs more than the whole oscillator). */
const SINE = (() => {
  const t = new Float32Array(1025)
  for (let i = 0; i <= 1024; i++) t[i] = Math.sin((2 * Math.PI * i) / 1024)
  return t
})()

/**
 * Adds one note to `out`: wavetable oscillator, ADSR envelope, vibrato, `detune` in semitones. The
 * envelope runs as three segments (attack, decay/sustain, release), each an affine recurrence
 * e ← e·m + c, so the inner loop is a table lookup and a few multiplies.
 */
function renderNote(
  out: Float32Array,
  note: Note,
  table: Float32Array,
  sr: number,
  env: Envelope,
  detune: number,
  cache?: NoteCache,
): void {
  const start = Math.round(note.start * sr)
  if (start >= out.length || note.velocity <= 0) return
  if (cache) {
    // A note is a function of pitch, length and envelope only (vibrato restarts with each note): render it once at unit
    // velocity and mix copies (chords and bass lines repeat the same notes bar after bar).
    const key = `${note.midi + detune}|${Math.round(note.length * sr)}`
    let shape = cache.get(key)
    if (!shape) {
      const relN = Math.max(1, Math.round(env.release * sr))
      shape = new Float32Array(Math.max(1, Math.round(note.length * sr)) + relN)
      renderNote(
        shape,
        { start: 0, length: note.length, midi: note.midi, velocity: 1 },
        table,
        sr,
        env,
        detune,
      )
      cache.set(key, shape)
    }
    mixSample(out, shape, start, note.velocity)
    return
  }
  const held = Math.max(1, Math.round(note.length * sr))
  const relN = Math.max(1, Math.round(env.release * sr))
  const freq = 440 * Math.pow(2, (note.midi + detune - 69) / 12)
  const inc = (freq * TABLE_SIZE) / sr
  const attack = Math.min(held, Math.max(1, Math.round(env.attack * sr)))
  const decayCoef = Math.exp(-1 / Math.max(1, env.decay * sr))
  // `release` is the time to fall 40 dB: ln(100) ≈ 4.6 time constants.
  const relCoef = Math.exp(-4.6 / relN)
  // Vibrato as a frequency ratio; its depth grows in over the first 200 ms so short notes stay straight.
  const vibDepthMax = (Math.pow(2, env.vibratoDepth / 12) - 1) * inc
  const vibInc = (1024 * env.vibratoRate) / sr
  const vibRamp = vibDepthMax / (0.2 * sr)
  const amp = note.velocity
  const segments: [number, number, number][] = [
    [attack, 1, 1 / attack],
    [held, decayCoef, env.sustain * (1 - decayCoef)],
    [held + relN, relCoef, 0],
  ]
  let phase = 0
  let vib = 0
  let depth = 0
  let e = 0
  let i = start
  let j = 0
  for (const [until, m, c] of segments) {
    const stop = Math.min(out.length - start, until)
    if (vibDepthMax === 0) {
      for (; j < stop; j++, i++) {
        const idx = phase | 0
        const t0 = table[idx]
        out[i] += (t0 + (phase - idx) * (table[idx + 1] - t0)) * e * amp
        e = e * m + c
        phase += inc
        if (phase >= TABLE_SIZE) phase -= TABLE_SIZE
      }
    } else {
      for (; j < stop; j++, i++) {
        const idx = phase | 0
        const t0 = table[idx]
        out[i] += (t0 + (phase - idx) * (table[idx + 1] - t0)) * e * amp
        e = e * m + c
        const v = vib | 0
        phase += inc + depth * SINE[v]
        if (phase >= TABLE_SIZE) phase -= TABLE_SIZE
        vib += vibInc
        if (vib >= 1024) vib -= 1024
        if (depth < vibDepthMax) depth += vibRamp
      }
    }
  }
}

function chordEnvelope(style: StyleProfile, sound: ArtistSound): Envelope {
  switch (style.chords) {
    case 'pad':
    case 'wash':
      return {
        ...sound,
        attack: 0.15 + sound.attack * 8,
        decay: 1.5,
        sustain: 0.8,
        release: 0.8,
        vibratoDepth: 0.05,
      }
    case 'stab':
      return {
        ...sound,
        attack: 0.003,
        decay: 0.08 + sound.decay * 0.2,
        sustain: 0.1,
        release: 0.06,
        vibratoDepth: 0,
      }
    case 'rhodes':
      return { ...sound, attack: 0.004, decay: 0.6, sustain: 0.3, release: 0.25, vibratoDepth: 0 }
    case 'power':
      return { ...sound, attack: 0.004, decay: 0.3, sustain: 0.7, release: 0.05, vibratoDepth: 0 }
    default:
      return { ...sound, attack: Math.min(sound.attack, 0.02), vibratoDepth: 0 }
  }
}

// ---------------------------------------------------------------- drums

type Kit = Record<'kick' | 'snare' | 'hat' | 'ride', Float32Array>

/** The track's drum sounds, synthesised once and mixed at every hit. */
function drumKit(style: StyleProfile, sound: ArtistSound, sr: number, rng: Rng): Kit {
  const k = style.kit
  const tune = sound.drumTune
  const kick = new Float32Array(Math.round(Math.min(0.6, k.kickDecay * 3) * sr))
  let ph = 0
  for (let i = 0; i < kick.length; i++) {
    const t = i / sr
    const f = (k.kickLow + (k.kickHigh - k.kickLow) * Math.exp(-t / 0.03)) * tune
    ph += (2 * Math.PI * f) / sr
    kick[i] = Math.sin(ph) * Math.exp(-t / k.kickDecay) + (i < sr * 0.002 ? 0.3 * (rng.next() * 2 - 1) : 0)
  }
  const snare = new Float32Array(Math.round(Math.min(0.7, (k.brushes ? 0.35 : k.snareDecay) * 3) * sr))
  let hp = 0
  let prev = 0
  ph = 0
  for (let i = 0; i < snare.length; i++) {
    const t = i / sr
    const noise = rng.next() * 2 - 1
    hp = noise - prev // first difference: a gentle high-pass, snappier noise
    prev = noise
    ph += (2 * Math.PI * k.snareTone * tune) / sr
    const tone = Math.sin(ph) * Math.exp(-t / 0.04) * (1 - k.snareNoise)
    const noiseEnv = k.brushes
      ? Math.min(1, t / 0.03) * Math.exp(-t / 0.2) * 0.5
      : Math.exp(-t / k.snareDecay)
    snare[i] = tone + hp * 0.5 * k.snareNoise * noiseEnv
  }
  const hat = new Float32Array(Math.round(Math.min(0.4, k.hatDecay * 5) * sr))
  let lp = 0
  const a = 1 - Math.exp((-2 * Math.PI * (2000 + 8000 * k.hatBright)) / sr)
  for (let i = 0; i < hat.length; i++) {
    const noise = rng.next() * 2 - 1
    lp += a * (noise - lp)
    hat[i] = (noise - lp) * Math.exp(-i / sr / k.hatDecay) * 0.6
  }
  // Ride / open hat: inharmonic square partials, the classic metallic recipe.
  const ride = new Float32Array(Math.round(0.7 * sr))
  const partials = [205.3, 304.4, 369.6, 522.7, 540, 800].map((f) => (f * tune * (1 + k.hatBright)) / sr)
  const phases = new Float64Array(partials.length)
  lp = 0
  const b = 1 - Math.exp((-2 * Math.PI * 3000) / sr)
  for (let i = 0; i < ride.length; i++) {
    let s = 0
    for (let p = 0; p < partials.length; p++) {
      phases[p] += partials[p]
      if (phases[p] >= 1) phases[p] -= 1
      s += phases[p] < 0.5 ? 1 : -1
    }
    lp += b * (s - lp)
    ride[i] = ((s - lp) / partials.length) * Math.exp(-i / sr / 0.35) * 0.35
  }
  return { kick, snare, hat, ride }
}

function velocity(grid: DrumGrid, part: 'kick' | 'snare' | 'hat' | 'ride', s: number, rng: Rng): number {
  const row = grid[part]
  if (!row) return 0
  switch (row[s]) {
    case 'X':
      return 1
    case 'x':
      return 0.75
    case 'o':
      return 0.3
    case '?':
      return rng.chance(0.5) ? 0.6 : 0
    default:
      return 0
  }
}

function mixSample(out: Float32Array, sample: Float32Array, at: number, gain: number): void {
  const end = Math.min(out.length, at + sample.length)
  for (let i = at, j = 0; i < end; i++, j++) out[i] += sample[j] * gain
}

// ---------------------------------------------------------------- lines

interface Timing {
  bars: number
  bar: number
  beat: number
  step: number
  chordAt: (time: number) => number
  degreeToMidi: (degree: number, base: number) => number
  swingTime: (s: number) => number
}

function bassLine(style: StyleProfile, rng: Rng, t: Timing & { grid?: DrumGrid }): Note[] {
  const notes: Note[] = []
  const base = 36
  const root = (time: number) => t.degreeToMidi(t.chordAt(time), base)
  switch (style.bass) {
    case 'none':
      return notes
    case 'sub': {
      // On the kick: the bass and the kick lock together, as in techno and hip hop.
      const kick = t.grid?.kick ?? 'X...X...X...X...'
      const hits = [...kick].map((c, s) => (c === '.' ? -1 : s)).filter((s) => s >= 0)
      for (let b = 0; b < t.bars; b++)
        hits.forEach((s, i) => {
          const next = i + 1 < hits.length ? hits[i + 1] : 16
          const start = b * t.bar + t.swingTime(s)
          notes.push({ start, length: (next - s) * t.step * 0.9, midi: root(start), velocity: 0.9 })
        })
      return notes
    }
    case 'offbeat':
      for (let b = 0; b < t.bars; b++)
        for (let beat = 0; beat < 4; beat++) {
          const start = b * t.bar + beat * t.beat + 2 * t.step
          notes.push({
            start,
            length: t.step * 1.6,
            midi: root(start) + (rng.chance(0.2) ? 12 : 0),
            velocity: 0.8,
          })
        }
      return notes
    case 'reese':
      for (let b = 0; b < t.bars; b += 2) {
        const start = b * t.bar
        notes.push({ start, length: 2 * t.bar * 0.95, midi: root(start), velocity: 0.8 })
      }
      return notes
    case 'walking': {
      let prev = root(0)
      for (let b = 0; b < t.bars; b++)
        for (let beat = 0; beat < 4; beat++) {
          const start = b * t.bar + beat * t.beat
          const r = root(start)
          let midi: number
          if (beat === 0) midi = r
          else if (beat === 3)
            midi = root(start + t.beat) + (rng.chance(0.5) ? 1 : -1) // chromatic approach
          else midi = t.degreeToMidi(t.chordAt(start) + 2 * rng.int(0, 3), base)
          if (Math.abs(midi - prev) > 9) midi -= 12 * Math.sign(midi - prev)
          prev = midi
          notes.push({ start, length: t.beat * 0.85, midi, velocity: 0.85 + 0.15 * rng.next() })
        }
      return notes
    }
    case 'picked': {
      // A one-bar pattern fixed for the track: eighths for rock, a syncopated figure for house.
      const pattern =
        style.genre === 'Rock'
          ? 'x.x.x.x.x.x.x.x.'
          : [...Array(16)].map((_, s) => (s === 0 || rng.chance(0.3) ? 'x' : '.')).join('')
      const octave = [...pattern].map(() => (rng.chance(0.2) ? 12 : 0))
      for (let b = 0; b < t.bars; b++)
        for (let s = 0; s < 16; s++) {
          if (pattern[s] !== 'x') continue
          const start = b * t.bar + t.swingTime(s)
          notes.push({ start, length: t.step * 1.5, midi: root(start) + octave[s], velocity: 0.8 })
        }
      return notes
    }
  }
  return notes
}

interface Hit {
  start: number
  length: number
  velocity: number
}

function chordRhythm(
  style: StyleProfile,
  rng: Rng,
  bars: number,
  bar: number,
  beat: number,
  step: number,
  swingTime: (s: number) => number,
): Hit[] {
  const hits: Hit[] = []
  const chordLen = beat * style.harmonicRhythm
  const total = bars * bar
  switch (style.chords) {
    case 'pad':
    case 'wash':
      for (let t = 0; t < total; t += chordLen) hits.push({ start: t, length: chordLen, velocity: 0.9 })
      return hits
    case 'power':
      for (let b = 0; b < bars; b++)
        for (let s = 0; s < 16; s += 2)
          hits.push({ start: b * bar + s * step, length: step * 1.8, velocity: 0.8 })
      return hits
    default: {
      // Stabs, comping and Rhodes: a one- or two-bar rhythm fixed for the track, repeated.
      const steps = style.chords === 'rhodes' ? 16 : 32
      const p = style.chords === 'stab' ? 0.22 : style.chords === 'comp' ? 0.2 : 0.15
      const pattern = [...Array(steps)].map((_, s) => (s === 0 || rng.chance(p) ? 0.6 + 0.4 * rng.next() : 0))
      const hold = style.chords === 'rhodes' ? beat * 1.5 : style.chords === 'comp' ? step * 2.5 : step
      for (let b = 0; b < bars; b += steps / 16)
        pattern.forEach((v, s) => {
          if (v > 0)
            hits.push({
              start: b * bar + Math.floor(s / 16) * bar + swingTime(s % 16),
              length: hold,
              velocity: v,
            })
        })
      return hits
    }
  }
}

function leadLine(
  style: StyleProfile,
  sound: ArtistSound,
  rng: Rng,
  t: Timing & { register: number; leadOn: Uint8Array },
): Note[] {
  const notes: Note[] = []
  const density = style.leadDensity * sound.density
  if (style.lead === 'arp') {
    // Sixteenth arpeggio over the chord, in a pattern fixed for the track.
    const order = rng.shuffle([0, 1, 2, 3, 4, 5]).slice(0, 4)
    for (let b = 0; b < t.bars; b++) {
      if (!t.leadOn[b]) continue
      for (let s = 0; s < 16; s++) {
        const start = b * t.bar + s * t.step
        const degree =
          t.chordAt(start) + 2 * (order[s % order.length] % 3) + 7 * Math.floor(order[s % order.length] / 3)
        notes.push({
          start,
          length: t.step * 0.7,
          midi: t.degreeToMidi(degree, t.register - 12),
          velocity: s % 4 === 0 ? 0.8 : 0.55,
        })
      }
    }
    return notes
  }
  // A two-bar motif in scale degrees, shaped by the artist's habits (steps vs leaps, rests), repeated
  // with small variations; 'horn' lines are busy eighths, 'bell' lines sparse and long.
  const grid = style.lead === 'horn' ? 2 : style.lead === 'bell' ? 8 : 2
  const slots = 32 / grid
  const perSlot = Math.min(0.95, (density * grid) / 4)
  const motif: (number | null)[] = []
  let degree = rng.int(0, 4)
  for (let i = 0; i < slots; i++) {
    if (!rng.chance(perSlot) || rng.chance(sound.restiness)) {
      motif.push(null)
      continue
    }
    if (rng.chance(sound.stepwise)) degree += rng.chance(0.5) ? 1 : -1
    else degree += (rng.chance(0.5) ? 1 : -1) * rng.int(2, 4)
    degree = Math.max(-2, Math.min(9, degree))
    motif.push(degree)
  }
  for (let b = 0; b < t.bars; b += 2) {
    for (let i = 0; i < slots; i++) {
      const barIndex = b + Math.floor((i * grid) / 16)
      if (barIndex >= t.bars || !t.leadOn[barIndex]) continue
      let d = motif[i]
      if (d === null) continue
      if (rng.chance(0.1)) d += rng.chance(0.5) ? 1 : -1
      let len = 1
      while (i + len < slots && motif[i + len] === null && len < 4) len++
      const s = (i * grid) % 16
      const start = barIndex * t.bar + t.swingTime(s)
      let midi = t.degreeToMidi(d, t.register)
      if (style.lead === 'horn' && rng.chance(0.15)) midi += rng.chance(0.5) ? 1 : -1 // chromatic passing tone
      notes.push({ start, length: len * grid * t.step * 0.9, midi, velocity: 0.7 + 0.3 * rng.next() })
    }
  }
  return notes
}

// ---------------------------------------------------------------- master bus

/** Rational approximation of tanh, exact enough for a clipper and much cheaper. */
function softClip(x: number): number {
  if (x > 3) return 1
  if (x < -3) return -1
  const x2 = x * x
  return (x * (27 + x2)) / (27 + 9 * x2)
}

/** The release's production applied in place to the stereo mix: see Production for the parameters. */
function master(
  left: Float32Array,
  right: Float32Array,
  send: Float32Array,
  p: Production,
  sr: number,
  rng: Rng,
): void {
  const n = left.length
  // Reverb: a Schroeder reverberator (parallel damped combs, series all-passes), one per side with
  // different delays so the tail is decorrelated.
  if (p.reverb > 0.01) {
    const tail = combBank(send, sr, p.roomSize)
    const wetR = tail.slice()
    allpasses(tail, sr, 0)
    allpasses(wetR, sr, 23)
    const g = p.reverb * 0.6
    for (let i = 0; i < n; i++) {
      left[i] += tail[i] * g
      right[i] += wetR[i] * g
    }
  }
  // Hiss and crackle, from an inline xorshift (a method call per sample would dominate this loop).
  if (p.hiss > 0) {
    let x = (rng.int(1, 0x7fffffff) | 1) >>> 0
    const h = p.hiss / 2147483648
    for (let i = 0; i < n; i++) {
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      const a = x | 0
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      const b = x | 0
      // About one crackle in 2500 samples: the low bits of a third draw.
      const crackle = (a & 4095) < 2 ? b * h * 30 : 0
      left[i] += a * h + crackle
      right[i] += b * h + crackle
    }
  }
  // High-pass, tilt (split at 1 kHz: lows and highs gained in opposite directions) and low-pass.
  const hpA = Math.exp((-2 * Math.PI * p.highpass) / sr)
  const tiltA = 1 - Math.exp((-2 * Math.PI * 1000) / sr)
  const lpA = 1 - Math.exp((-2 * Math.PI * Math.min(p.lowpass, 0.45 * sr)) / sr)
  const lowGain = Math.pow(10, (-p.tilt * 2) / 20)
  const highGain = Math.pow(10, (p.tilt * 2) / 20)
  for (const ch of [left, right]) {
    let hpX = 0
    let hpY = 0
    let tl = 0
    let lp1 = 0
    let lp2 = 0
    for (let i = 0; i < n; i++) {
      const x = ch[i]
      hpY = hpA * (hpY + x - hpX)
      hpX = x
      tl += tiltA * (hpY - tl)
      const tilted = tl * lowGain + (hpY - tl) * highGain
      lp1 += lpA * (tilted - lp1)
      lp2 += lpA * (lp1 - lp2)
      ch[i] = lp2
    }
  }
  // Drive into the clipper at a fixed level, then to the release's loudness; never past full scale.
  normaliseRms(left, right, -16)
  const drive = p.drive
  for (let i = 0; i < n; i++) {
    left[i] = softClip(left[i] * drive)
    right[i] = softClip(right[i] * drive)
  }
  // Width in mid/side.
  const w = p.width
  for (let i = 0; i < n; i++) {
    const m = 0.5 * (left[i] + right[i])
    const s = 0.5 * (left[i] - right[i]) * w
    left[i] = m + s
    right[i] = m - s
  }
  normaliseRms(left, right, p.loudness)
  let peak = 0
  for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(left[i]), Math.abs(right[i]))
  if (peak > 0.98) {
    const g = 0.98 / peak
    for (let i = 0; i < n; i++) {
      left[i] *= g
      right[i] *= g
    }
  }
}

function normaliseRms(left: Float32Array, right: Float32Array, dbfs: number): void {
  let sum = 0
  for (let i = 0; i < left.length; i++) sum += left[i] * left[i] + right[i] * right[i]
  const rms = Math.sqrt(sum / (2 * left.length))
  if (rms < 1e-9) return
  const g = Math.pow(10, dbfs / 20) / rms
  for (let i = 0; i < left.length; i++) {
    left[i] *= g
    right[i] *= g
  }
}

const COMBS = [1116, 1188, 1277, 1356]
const ALLPASSES = [556, 441]

/** The parallel damped combs of a Schroeder reverberator (Freeverb's delays, scaled to the rate and room). */
function combBank(input: Float32Array, sr: number, size: number): Float32Array {
  const n = input.length
  const out = new Float32Array(n)
  const scale = sr / 44100
  const feedback = 0.7 + 0.25 * size
  const damp = 0.3
  for (const d of COMBS) {
    const len = Math.max(1, Math.round(d * scale * (0.6 + 0.8 * size)))
    const buf = new Float32Array(len)
    let idx = 0
    let filt = 0
    for (let i = 0; i < n; i++) {
      const y = buf[idx]
      filt = y * (1 - damp) + filt * damp
      buf[idx] = input[i] + filt * feedback
      out[i] += y * 0.25
      if (++idx >= len) idx = 0
    }
  }
  return out
}

/** Series all-passes in place; a different `spread` per side decorrelates left and right. */
function allpasses(io: Float32Array, sr: number, spread: number): void {
  const scale = sr / 44100
  for (const d of ALLPASSES) {
    const len = Math.max(1, Math.round((d + spread) * scale))
    const buf = new Float32Array(len)
    let idx = 0
    for (let i = 0; i < io.length; i++) {
      const b = buf[idx]
      const x = io[i]
      buf[idx] = x + b * 0.5
      io[i] = b - x * 0.5
      if (++idx >= len) idx = 0
    }
  }
}

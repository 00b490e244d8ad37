import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { AudioDecodeError } from '../errors.ts'
import { downmix, resample } from './resample.ts'
import { decodeWav } from './wav.ts'

/** Mono 16 kHz float32: what the mel frontend consumes. */
export interface DecodedAudio {
  samples: Float32Array
  sampleRate: 16000
  durationS: number
  sourceSampleRate: number
  channels: number
  format: string
}

export const TARGET_RATE = 16000

/** Extensions scanned as audio. m4a/aac/wma decode through ffmpeg only (when it is installed). */
export const AUDIO_EXTENSIONS = [
  '.wav',
  '.wave',
  '.mp3',
  '.flac',
  '.ogg',
  '.oga',
  '.opus',
  '.m4a',
  '.aac',
  '.mp4',
  '.wma',
  '.aif',
  '.aiff',
]

interface Raw {
  channelData: Float32Array[]
  sampleRate: number
  format: string
}

type WasmDecoder = {
  ready: Promise<void>
  free(): void
  decodeFile?(d: Uint8Array): unknown
  decode(d: Uint8Array): unknown
}

async function withWasm(load: () => Promise<WasmDecoder>, data: Uint8Array, format: string): Promise<Raw> {
  const decoder = await load()
  await decoder.ready
  try {
    const out = (await (decoder.decodeFile ? decoder.decodeFile(data) : decoder.decode(data))) as {
      channelData: Float32Array[]
      sampleRate: number
      samplesDecoded: number
      errors?: { message: string }[]
    }
    if (!out.samplesDecoded || !out.channelData.length) {
      throw new Error(out.errors?.[0]?.message ?? 'no audio frames found')
    }
    return {
      channelData: out.channelData.map((c) => c.subarray(0, out.samplesDecoded)),
      sampleRate: out.sampleRate,
      format,
    }
  } finally {
    decoder.free()
  }
}

/** Sniffs the container from the first bytes; the extension is only a fallback. */
export function sniff(buf: Uint8Array, name: string): string {
  const ascii = (o: number, n: number) => String.fromCharCode(...buf.subarray(o, o + n))
  if (ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WAVE') return 'wav'
  if (ascii(0, 4) === 'fLaC') return 'flac'
  if (ascii(0, 4) === 'OggS') return ascii(28, 8) === 'OpusHead' ? 'opus' : 'vorbis'
  if (ascii(0, 3) === 'ID3' || (buf[0] === 0xff && (buf[1] & 0xe0) === 0xe0)) return 'mp3'
  if (ascii(4, 4) === 'ftyp') return 'm4a'
  if (ascii(0, 4) === 'FORM') return 'aiff'
  const ext = path.extname(name).toLowerCase().slice(1)
  return ext === 'ogg' || ext === 'oga' ? 'vorbis' : ext
}

let ffmpegPath: Promise<string | null> | undefined
/** ffmpeg, when installed, covers m4a/aac/wma/aiff; decoding never depends on it for the main formats. */
export function ffmpeg(): Promise<string | null> {
  ffmpegPath ??= promisify(execFile)('ffmpeg', ['-version'])
    .then(() => 'ffmpeg')
    .catch(() => null)
  return ffmpegPath
}

async function decodeWithFfmpeg(file: string, format: string): Promise<Raw> {
  const bin = await ffmpeg()
  if (!bin)
    throw new Error(
      `${format} needs ffmpeg, which is not installed (mp3, flac, ogg/vorbis, opus and wav do not)`,
    )
  const { stdout } = await promisify(execFile)(
    bin,
    ['-v', 'error', '-i', file, '-f', 'f32le', '-ac', '1', '-ar', String(TARGET_RATE), '-'],
    {
      encoding: 'buffer',
      maxBuffer: 1 << 30,
    },
  )
  const samples = new Float32Array(
    stdout.buffer.slice(stdout.byteOffset, stdout.byteOffset + stdout.byteLength),
  )
  if (!samples.length) throw new Error('ffmpeg produced no audio')
  return { channelData: [samples], sampleRate: TARGET_RATE, format }
}

async function decodeRaw(buf: Uint8Array, name: string, file?: string): Promise<Raw> {
  const format = sniff(buf, name)
  switch (format) {
    case 'wav': {
      const w = decodeWav(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength))
      if (!w.channels[0]?.length) throw new Error('no samples')
      return { channelData: w.channels, sampleRate: w.sampleRate, format }
    }
    case 'mp3':
      return withWasm(
        async () => new (await import('mpg123-decoder')).MPEGDecoder() as unknown as WasmDecoder,
        buf,
        format,
      )
    case 'flac':
      return withWasm(
        async () => new (await import('@wasm-audio-decoders/flac')).FLACDecoder() as unknown as WasmDecoder,
        buf,
        format,
      )
    case 'vorbis':
      return withWasm(
        async () =>
          new (await import('@wasm-audio-decoders/ogg-vorbis')).OggVorbisDecoder() as unknown as WasmDecoder,
        buf,
        format,
      )
    case 'opus':
      return withWasm(
        async () => new (await import('ogg-opus-decoder')).OggOpusDecoder() as unknown as WasmDecoder,
        buf,
        format,
      )
    default:
      if (file) return decodeWithFfmpeg(file, format || 'unknown')
      throw new Error(`unsupported format ${format || 'unknown'}`)
  }
}

/**
 * Decodes, downmixes (mean of channels) and resamples to 16 kHz mono, all in memory: the reference the
 * streamed path (`decode-stream.ts`, used by the import and `discograph mel`) is tested against, and fine
 * for short files; a 2-hour stereo file needs ~5 GB this way.
 */
export async function decodeAudioBuffer(
  buf: Uint8Array,
  nameHint: string,
  file?: string,
): Promise<DecodedAudio> {
  let raw: Raw
  try {
    raw = await decodeRaw(buf, nameHint, file)
  } catch (err) {
    throw new AudioDecodeError(file ?? nameHint, err instanceof Error ? err.message : String(err))
  }
  const mono = downmix(raw.channelData)
  const samples = resample(mono, raw.sampleRate, TARGET_RATE)
  return {
    samples,
    sampleRate: TARGET_RATE,
    durationS: mono.length / raw.sampleRate,
    sourceSampleRate: raw.sampleRate,
    channels: raw.channelData.length,
    format: raw.format,
  }
}

export async function decodeAudioFile(file: string): Promise<DecodedAudio> {
  let buf: Buffer
  try {
    buf = await fs.readFile(file)
  } catch (err) {
    throw new AudioDecodeError(file, (err as Error).message)
  }
  return decodeAudioBuffer(buf, path.basename(file), file)
}

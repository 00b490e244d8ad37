import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { AudioDecodeError } from '../errors.ts'
import { ffmpeg, sniff, TARGET_RATE } from './decode.ts'
import { downmix, StreamingResampler } from './resample.ts'
import { checkEncoding, parseFmt, pcmToFloat, WavFormatError, type WavFmt } from './wav.ts'

/**
 * Decoding a file to 16 kHz mono as a stream: the file is read in READ_BYTES pieces, each decoded piece is
 * downmixed and resampled (the resampler carries its filter state) and handed to `sink` before the next
 * is read, so memory is bounded by one piece's PCM whatever the length of the file. Every supported
 * decoder streams: the wasm-audio-decoders (vorbis, opus, flac, mp3) take `decode(chunk)`, WAV is read
 * by positioned reads of its data chunk, and ffmpeg's stdout is a stream.
 */

/**
 * 64 KiB of compressed audio is ~8 s of 64 kb/s vorbis, ~3 MB of decoded stereo float PCM. Measured with
 * `discograph mel` on a 10-min and a 29-min Ogg Vorbis file: peak RSS 216 MB for both at 64 KiB, 266 MB at
 * 256 KiB, 147 MB for a 1-second file (the process itself); the read size costs no CPU to speak of.
 */
const READ_BYTES = 64 * 1024
/** WAV sample frames per read: 1 s at 44.1 kHz. */
const WAV_FRAMES = 44100

export interface StreamedAudioInfo {
  format: string
  sourceSampleRate: number
  channels: number
  /** source samples per channel ÷ source rate */
  durationS: number
  /** 16 kHz samples handed to the sink */
  samples: number
}

interface Pcm {
  channelData: Float32Array[]
  sampleRate: number
}

type WasmStreamDecoder = {
  ready: Promise<void>
  free(): void
  decode(d: Uint8Array): unknown
  flush?(): unknown
}

type Decoded = {
  channelData: Float32Array[]
  sampleRate: number
  samplesDecoded: number
  errors?: { message: string }[]
}

async function* wasmPcm(
  file: string,
  readBytes: number,
  load: () => Promise<WasmStreamDecoder>,
): AsyncGenerator<Pcm> {
  const decoder = await load()
  await decoder.ready
  let decodedAny = false
  let firstError: string | undefined
  const take = (out: Decoded): Pcm | null => {
    firstError ??= out.errors?.[0]?.message
    if (!out.samplesDecoded || !out.channelData.length) return null
    decodedAny = true
    return {
      channelData: out.channelData.map((c) => c.subarray(0, out.samplesDecoded)),
      sampleRate: out.sampleRate,
    }
  }
  try {
    for await (const chunk of fs.createReadStream(file, { highWaterMark: readBytes })) {
      const pcm = take((await decoder.decode(chunk as Buffer)) as Decoded)
      if (pcm) yield pcm
    }
    if (decoder.flush) {
      const pcm = take((await decoder.flush()) as Decoded)
      if (pcm) yield pcm
    }
    if (!decodedAny) throw new Error(firstError ?? 'no audio frames found')
  } finally {
    decoder.free()
  }
}

/** The data chunk of a RIFF/WAVE file, read a second of sample frames at a time. */
async function* wavPcm(file: string, wavFrames: number): AsyncGenerator<Pcm> {
  const fh = await fs.promises.open(file, 'r')
  try {
    const size = (await fh.stat()).size
    const read = async (pos: number, len: number) => {
      const b = Buffer.alloc(len)
      const { bytesRead } = await fh.read(b, 0, len, pos)
      return b.subarray(0, bytesRead)
    }
    const head = await read(0, 12)
    if (
      head.length < 12 ||
      head.toString('ascii', 0, 4) !== 'RIFF' ||
      head.toString('ascii', 8, 12) !== 'WAVE'
    ) {
      throw new WavFormatError('not a RIFF/WAVE file')
    }
    let fmt: WavFmt | undefined
    let o = 12
    while (o + 8 <= size) {
      const h = await read(o, 8)
      const id = h.toString('ascii', 0, 4)
      const chunkSize = h.readUInt32LE(4)
      const bodyAt = o + 8
      if (id === 'fmt ') fmt = parseFmt(await read(bodyAt, Math.min(chunkSize, 64)))
      else if (id === 'data') {
        if (!fmt?.channels || !fmt.sampleRate) throw new WavFormatError('missing fmt chunk')
        checkEncoding(fmt)
        const frameBytes = (fmt.bits / 8) * fmt.channels
        const end = Math.min(size, bodyAt + chunkSize)
        let any = false
        for (let p = bodyAt; p + frameBytes <= end; p += wavFrames * frameBytes) {
          const channelData = pcmToFloat(await read(p, Math.min(wavFrames * frameBytes, end - p)), fmt)
          any ||= channelData[0].length > 0
          yield { channelData, sampleRate: fmt.sampleRate }
        }
        if (!any) throw new Error('no samples')
        return
      }
      o = bodyAt + chunkSize + (chunkSize & 1)
    }
    throw new WavFormatError(fmt ? 'missing data chunk' : 'missing fmt chunk')
  } finally {
    await fh.close()
  }
}

/** ffmpeg's f32le 16 kHz mono on stdout, re-cut at whole samples. */
async function* ffmpegPcm(file: string, format: string): AsyncGenerator<Pcm> {
  const bin = await ffmpeg()
  if (!bin)
    throw new Error(
      `${format} needs ffmpeg, which is not installed (mp3, flac, ogg/vorbis, opus and wav do not)`,
    )
  const child = spawn(
    bin,
    ['-v', 'error', '-i', file, '-f', 'f32le', '-ac', '1', '-ar', String(TARGET_RATE), '-'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)))
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  let carry = Buffer.alloc(0)
  let any = false
  try {
    for await (const piece of child.stdout) {
      const buf = carry.length ? Buffer.concat([carry, piece as Buffer]) : (piece as Buffer)
      const whole = buf.length - (buf.length % 4)
      carry = Buffer.from(buf.subarray(whole))
      if (!whole) continue
      const samples = new Float32Array(whole / 4)
      Buffer.from(samples.buffer).set(buf.subarray(0, whole))
      any = true
      yield { channelData: [samples], sampleRate: TARGET_RATE }
    }
    const code = await exited
    if (code !== 0) throw new Error(`ffmpeg failed (exit ${code}): ${stderr.trim()}`)
    if (!any) throw new Error('ffmpeg produced no audio')
  } finally {
    if (child.exitCode === null) child.kill()
  }
}

async function sniffFile(file: string): Promise<string> {
  const fh = await fs.promises.open(file, 'r')
  try {
    const b = Buffer.alloc(64)
    const { bytesRead } = await fh.read(b, 0, 64, 0)
    return sniff(b.subarray(0, bytesRead), path.basename(file))
  } finally {
    await fh.close()
  }
}

export interface StreamOptions {
  /** compressed bytes per decode call (tests use tiny ones to cross every boundary) */
  readBytes?: number
  /** WAV sample frames per read */
  wavFrames?: number
}

function pcmOf(file: string, format: string, opts: StreamOptions): AsyncGenerator<Pcm> {
  const readBytes = opts.readBytes ?? READ_BYTES
  switch (format) {
    case 'wav':
      return wavPcm(file, opts.wavFrames ?? WAV_FRAMES)
    case 'mp3':
      return wasmPcm(
        file,
        readBytes,
        async () => new (await import('mpg123-decoder')).MPEGDecoder() as unknown as WasmStreamDecoder,
      )
    case 'flac':
      return wasmPcm(
        file,
        readBytes,
        async () =>
          new (await import('@wasm-audio-decoders/flac')).FLACDecoder() as unknown as WasmStreamDecoder,
      )
    case 'vorbis':
      return wasmPcm(
        file,
        readBytes,
        async () =>
          new (
            await import('@wasm-audio-decoders/ogg-vorbis')
          ).OggVorbisDecoder() as unknown as WasmStreamDecoder,
      )
    case 'opus':
      return wasmPcm(
        file,
        readBytes,
        async () => new (await import('ogg-opus-decoder')).OggOpusDecoder() as unknown as WasmStreamDecoder,
      )
    default:
      return ffmpegPcm(file, format || 'unknown')
  }
}

/**
 * Decodes `file`, downmixes (mean of channels) and resamples to 16 kHz mono, handing the samples to `sink`
 * piece by piece (the arrays are not reused; the sink may keep them). Same samples as `decodeAudioFile`.
 */
export async function streamAudioFile(
  file: string,
  sink: (samples: Float32Array) => void,
  opts: StreamOptions = {},
): Promise<StreamedAudioInfo> {
  try {
    const format = await sniffFile(file)
    let resampler: StreamingResampler | undefined
    let sourceSampleRate = 0
    let channels = 0
    let sourceSamples = 0
    let samples = 0
    const emit = (s: Float32Array) => {
      samples += s.length
      if (s.length) sink(s)
    }
    for await (const pcm of pcmOf(file, format, opts)) {
      if (!resampler) {
        sourceSampleRate = pcm.sampleRate
        channels = pcm.channelData.length
        resampler = new StreamingResampler(sourceSampleRate, TARGET_RATE)
      } else if (pcm.sampleRate !== sourceSampleRate || pcm.channelData.length !== channels) {
        // a chained Ogg stream whose links differ: one resampler cannot serve both
        throw new Error(
          `the stream changes from ${channels} ch ${sourceSampleRate} Hz to ${pcm.channelData.length} ch ${pcm.sampleRate} Hz`,
        )
      }
      const mono = downmix(pcm.channelData)
      sourceSamples += mono.length
      emit(resampler.push(mono))
    }
    if (!resampler) throw new Error('no audio frames found')
    emit(resampler.end())
    return { format, sourceSampleRate, channels, durationS: sourceSamples / sourceSampleRate, samples }
  } catch (err) {
    if (err instanceof AudioDecodeError) throw err
    throw new AudioDecodeError(file, err instanceof Error ? err.message : String(err))
  }
}

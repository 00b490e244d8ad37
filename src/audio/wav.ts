/**
 * RIFF/WAVE reading and writing (PCM 8/16/24/32-bit integer and 32-bit float), with RIFF INFO tags.
 * Pure functions over buffers; the synthetic catalog writes with it and the decoder reads with it.
 */

export interface WavData {
  sampleRate: number
  /** One Float32Array per channel, samples in [-1, 1]. */
  channels: Float32Array[]
  /** RIFF INFO tags by four-letter id (INAM title, IART artist, IPRD album, ITRK track number, …). */
  tags: Record<string, string>
}

export class WavFormatError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'WavFormatError'
  }
}

/** Common tag names mapped to RIFF INFO ids, as music-metadata and most taggers read them. */
export const INFO_TAGS = {
  title: 'INAM',
  artist: 'IART',
  album: 'IPRD',
  track: 'ITRK',
  genre: 'IGNR',
  date: 'ICRD',
  comment: 'ICMT',
} as const

export function encodeWav(
  channels: Float32Array[],
  sampleRate: number,
  options: { bitDepth?: 16 | 32; tags?: Record<string, string> } = {},
): Buffer {
  const bitDepth = options.bitDepth ?? 16
  const n = channels[0]?.length ?? 0
  const nch = channels.length
  if (!nch || channels.some((c) => c.length !== n))
    throw new WavFormatError('channels must be non-empty and of equal length')
  const bytesPerSample = bitDepth / 8
  const dataBytes = n * nch * bytesPerSample
  const info = encodeInfo(options.tags ?? {})
  const buf = Buffer.alloc(44 + dataBytes + (dataBytes & 1) + info.length)
  buf.write('RIFF', 0, 'ascii')
  buf.writeUInt32LE(buf.length - 8, 4)
  buf.write('WAVE', 8, 'ascii')
  buf.write('fmt ', 12, 'ascii')
  buf.writeUInt32LE(16, 16)
  buf.writeUInt16LE(bitDepth === 32 ? 3 : 1, 20) // 3 = IEEE float
  buf.writeUInt16LE(nch, 22)
  buf.writeUInt32LE(sampleRate, 24)
  buf.writeUInt32LE(sampleRate * nch * bytesPerSample, 28)
  buf.writeUInt16LE(nch * bytesPerSample, 32)
  buf.writeUInt16LE(bitDepth, 34)
  buf.write('data', 36, 'ascii')
  buf.writeUInt32LE(dataBytes, 40)
  let o = 44
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < nch; c++) {
      const s = channels[c][i]
      if (bitDepth === 32) buf.writeFloatLE(s, o)
      else buf.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(s * 32767))), o)
      o += bytesPerSample
    }
  }
  info.copy(buf, 44 + dataBytes + (dataBytes & 1))
  return buf
}

function encodeInfo(tags: Record<string, string>): Buffer {
  const entries = Object.entries(tags).filter(([, v]) => v !== undefined && v !== '')
  if (!entries.length) return Buffer.alloc(0)
  const parts = entries.map(([id, value]) => {
    if (!/^[A-Z0-9]{4}$/.test(id)) throw new WavFormatError(`RIFF INFO id must be four characters: ${id}`)
    const text = Buffer.from(value + '\0', 'utf8')
    const chunk = Buffer.alloc(8 + text.length + (text.length & 1))
    chunk.write(id, 0, 'ascii')
    chunk.writeUInt32LE(text.length, 4)
    text.copy(chunk, 8)
    return chunk
  })
  const body = Buffer.concat([Buffer.from('INFO', 'ascii'), ...parts])
  const head = Buffer.alloc(8)
  head.write('LIST', 0, 'ascii')
  head.writeUInt32LE(body.length, 4)
  return Buffer.concat([head, body])
}

export function decodeWav(buf: Buffer): WavData {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new WavFormatError('not a RIFF/WAVE file')
  }
  let format = 0
  let nch = 0
  let sampleRate = 0
  let bits = 0
  let data: Buffer | undefined
  const tags: Record<string, string> = {}
  let o = 12
  while (o + 8 <= buf.length) {
    const id = buf.toString('ascii', o, o + 4)
    const size = buf.readUInt32LE(o + 4)
    const body = buf.subarray(o + 8, Math.min(buf.length, o + 8 + size))
    if (id === 'fmt ') {
      ;({ format, channels: nch, sampleRate, bits } = parseFmt(body))
    } else if (id === 'data') {
      data = body
    } else if (id === 'LIST' && body.toString('ascii', 0, 4) === 'INFO') {
      let p = 4
      while (p + 8 <= body.length) {
        const tid = body.toString('ascii', p, p + 4)
        const tsize = body.readUInt32LE(p + 4)
        tags[tid] = body.toString('utf8', p + 8, p + 8 + tsize).replace(/\0+$/, '')
        p += 8 + tsize + (tsize & 1)
      }
    }
    o += 8 + size + (size & 1)
  }
  if (!nch || !sampleRate) throw new WavFormatError('missing fmt chunk')
  if (!data) throw new WavFormatError('missing data chunk')
  const fmt = { format, channels: nch, sampleRate, bits }
  checkEncoding(fmt)
  return { sampleRate, channels: pcmToFloat(data, fmt), tags }
}

export interface WavFmt {
  /** 1 = integer PCM, 3 = IEEE float (WAVE_FORMAT_EXTENSIBLE resolved) */
  format: number
  channels: number
  sampleRate: number
  bits: number
}

/** The body of a `fmt ` chunk. */
export function parseFmt(body: Buffer): WavFmt {
  if (body.length < 16) throw new WavFormatError('fmt chunk too short')
  let format = body.readUInt16LE(0)
  if (format === 0xfffe && body.length >= 26) format = body.readUInt16LE(24) // WAVE_FORMAT_EXTENSIBLE
  return {
    format,
    channels: body.readUInt16LE(2),
    sampleRate: body.readUInt32LE(4),
    bits: body.readUInt16LE(14),
  }
}

export function checkEncoding({ format, bits }: WavFmt): void {
  if (!((format === 1 && [8, 16, 24, 32].includes(bits)) || (format === 3 && bits === 32))) {
    throw new WavFormatError(`unsupported WAVE encoding (format ${format}, ${bits} bits)`)
  }
}

/** Interleaved PCM bytes (whole sample frames; a trailing partial one is ignored) to one array per channel. */
export function pcmToFloat(data: Buffer, { format, channels: nch, bits }: WavFmt): Float32Array[] {
  const bps = bits / 8
  const n = Math.floor(data.length / (bps * nch))
  const channels = Array.from({ length: nch }, () => new Float32Array(n))
  let p = 0
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < nch; c++) {
      let s: number
      if (format === 3) s = data.readFloatLE(p)
      else if (bits === 16) s = data.readInt16LE(p) / 32768
      else if (bits === 24) s = data.readIntLE(p, 3) / 8388608
      else if (bits === 32) s = data.readInt32LE(p) / 2147483648
      else s = (data[p] - 128) / 128
      channels[c][i] = s
      p += bps
    }
  }
  return channels
}

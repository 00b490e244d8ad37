/**
 * Tag writers for tests: an ID3v2.3 tag put in front of an MP3, and a FLAC file's Vorbis comment block
 * replaced, as taggers write them. Only what the tests need (Latin-1 text frames, TXXX user frames).
 */

function id3Frame(id: string, body: Buffer): Buffer {
  const head = Buffer.alloc(10)
  head.write(id, 0, 'latin1')
  head.writeUInt32BE(body.length, 4)
  return Buffer.concat([head, body])
}

/** `frames` maps a frame id (TIT2, TPE1, TALB, TRCK, TYER…) or `TXXX:<description>` to its text. */
export function withId3v23(mp3: Buffer, frames: Record<string, string>): Buffer {
  const parts = Object.entries(frames).map(([id, value]) => {
    if (id.startsWith('TXXX:')) {
      return id3Frame(
        'TXXX',
        Buffer.concat([
          Buffer.from([0]),
          Buffer.from(id.slice(5), 'latin1'),
          Buffer.from([0]),
          Buffer.from(value, 'latin1'),
        ]),
      )
    }
    return id3Frame(id, Buffer.concat([Buffer.from([0]), Buffer.from(value, 'latin1')]))
  })
  const body = Buffer.concat(parts)
  const head = Buffer.from([0x49, 0x44, 0x33, 3, 0, 0, 0, 0, 0, 0])
  // the tag size is "syncsafe": 7 bits per byte
  for (let i = 0; i < 4; i++) head[6 + i] = (body.length >> (7 * (3 - i))) & 0x7f
  return Buffer.concat([head, body, mp3])
}

/** The FLAC file with its Vorbis comment block replaced by `comments` (KEY=value each). */
export function withVorbisComments(flac: Buffer, comments: Record<string, string>): Buffer {
  if (flac.toString('latin1', 0, 4) !== 'fLaC') throw new Error('not a FLAC file')
  const blocks: { type: number; body: Buffer }[] = []
  let o = 4
  for (;;) {
    const last = (flac[o] & 0x80) !== 0
    const type = flac[o] & 0x7f
    const len = flac.readUIntBE(o + 1, 3)
    if (type !== 4) blocks.push({ type, body: flac.subarray(o + 4, o + 4 + len) })
    o += 4 + len
    if (last) break
  }
  const vendor = Buffer.from('discograph tests')
  const entries = Object.entries(comments).map(([k, v]) => Buffer.from(`${k}=${v}`, 'utf8'))
  const vc = Buffer.alloc(8 + vendor.length + entries.reduce((s, e) => s + 4 + e.length, 0))
  let p = vc.writeUInt32LE(vendor.length, 0)
  p += vendor.copy(vc, p)
  p = vc.writeUInt32LE(entries.length, p)
  for (const e of entries) {
    p = vc.writeUInt32LE(e.length, p)
    p += e.copy(vc, p)
  }
  blocks.splice(1, 0, { type: 4, body: vc })
  const out: Buffer[] = [Buffer.from('fLaC', 'latin1')]
  blocks.forEach((b, i) => {
    const h = Buffer.alloc(4)
    h[0] = (i === blocks.length - 1 ? 0x80 : 0) | b.type
    h.writeUIntBE(b.body.length, 1, 3)
    out.push(h, b.body)
  })
  out.push(flac.subarray(o))
  return Buffer.concat(out)
}

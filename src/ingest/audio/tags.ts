import type { IAudioMetadata } from 'music-metadata'

/**
 * What the matcher uses from a file's tags, stored as `audio_file.tags` so a later run can re-match an
 * unchanged file (after a newer Discogs import, say) without reading it again.
 */
export interface FileTags {
  title?: string
  artist?: string
  albumArtist?: string
  album?: string
  trackNo?: number
  discNo?: number
  year?: number
  /** written by Discogs taggers (DISCOGS_RELEASE_ID, TXXX:DISCOGS_RELEASE_ID, a discogs.com/release URL) */
  discogsReleaseId?: number
  /** a Discogs position (A1, B2, 1-3) from DISCOGS_TRACK_POSITION or a track-number tag holding one */
  discogsPosition?: string
}

const RELEASE_ID_KEYS = new Set([
  'DISCOGS_RELEASE_ID',
  'DISCOGS_RELEASEID',
  'DISCOGS_ALBUMID',
  'DISCOGS_ALBUM_ID',
])
const POSITION_KEYS = new Set(['DISCOGS_TRACK_POSITION', 'DISCOGS_POSITION', 'DISCOGS_TRACKPOSITION'])
const TRACK_NUMBER_KEYS = new Set(['TRCK', 'TRACKNUMBER', 'ITRK', 'TRKN', 'TRACK'])
const RELEASE_URL = /discogs\.com\/(?:[a-z]{2}\/)?(?:[^/\s]+\/)?release\/(\d+)/i

/**
 * UTF-8 read as Latin-1 ("ZÃ¼rich"), as music-metadata reads RIFF INFO and Latin-1 ID3 frames that many
 * taggers (ffmpeg among them) fill with UTF-8. A string made only of Latin-1 characters that is valid
 * UTF-8 with at least one multi-byte sequence is taken to be UTF-8: real Latin-1 text almost never is.
 */
export function repairUtf8(s: string): string {
  if (!/[\u00c2-\u00f4][\u0080-\u00bf]/.test(s) || /[\u0100-\uffff]/.test(s)) return s
  const u = Buffer.from(s, 'latin1').toString('utf8')
  return u.includes('\ufffd') ? s : u
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return repairUtf8(v.trim()) || undefined
  if (typeof v === 'number') return String(v)
  if (v && typeof v === 'object' && 'text' in v) return text((v as { text: unknown }).text)
  return undefined
}

function positiveInt(v: unknown): number | undefined {
  const s = text(v)
  if (!s || !/^\d{1,10}$/.test(s)) return undefined
  const n = Number(s)
  return n >= 1 && n <= 2147483647 ? n : undefined
}

/** A native tag id without its container's prefix: `TXXX:DISCOGS_RELEASE_ID` → `DISCOGS_RELEASE_ID`. */
function bareKey(id: string): string {
  return id.replace(/^(TXXX|TXX|----:com\.apple\.iTunes|WXXX):/i, '').toUpperCase()
}

/** A vinyl or multi-part position ("A1", "B", "AA2", "1-3", "CD2-4"), not a plain track number. */
function looksLikePosition(s: string): boolean {
  return /^(?:[A-Z]{1,2}\d{0,3}[a-z]?|(?:CD|DVD)?\d{1,2}[-.]\d{1,3})$/i.test(s) && !/^\d+$/.test(s)
}

export function fileTagsFrom(meta: Pick<IAudioMetadata, 'common' | 'native'>): FileTags {
  const c = meta.common
  const tags: FileTags = {}
  const set = <K extends keyof FileTags>(k: K, v: FileTags[K] | undefined) => {
    if (v !== undefined && v !== null && !(typeof v === 'number' && !Number.isFinite(v))) tags[k] = v
  }
  set('title', text(c.title))
  set('artist', text(c.artist) ?? (c.artists?.length ? c.artists.join(', ') : undefined))
  set('albumArtist', text(c.albumartist))
  set('album', text(c.album))
  set('trackNo', c.track?.no ?? undefined)
  set('discNo', c.disk?.no ?? undefined)
  set('year', c.year ?? undefined)
  set('discogsReleaseId', positiveInt(c.discogs_release_id))

  for (const list of Object.values(meta.native ?? {})) {
    for (const tag of list) {
      const key = bareKey(tag.id)
      const value = text(tag.value)
      if (!value) continue
      if (tags.discogsReleaseId === undefined && RELEASE_ID_KEYS.has(key))
        set('discogsReleaseId', positiveInt(value))
      if (tags.discogsReleaseId === undefined && RELEASE_URL.test(value))
        set('discogsReleaseId', positiveInt(RELEASE_URL.exec(value)![1]))
      if (tags.discogsPosition === undefined && POSITION_KEYS.has(key)) set('discogsPosition', value)
      if (tags.discogsPosition === undefined && TRACK_NUMBER_KEYS.has(key)) {
        const first = value.split('/')[0].trim()
        if (looksLikePosition(first)) set('discogsPosition', first)
      }
    }
  }
  return tags
}

/** Whether the tags say enough to look for the track by name (a title, and an album or an artist). */
export function hasSearchableTags(t: FileTags): boolean {
  return Boolean(t.title && (t.album || t.artist || t.albumArtist))
}

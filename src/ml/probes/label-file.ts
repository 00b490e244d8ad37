import { BadInputError } from '../../errors.ts'

/** How a row names its track: a catalog track id, or the path of its audio file. */
export type TrackReference = { trackId: number } | { path: string }

export interface LabelFileRow {
  /** 1-based line in the file, for messages. */
  line: number
  track: TrackReference
  labels: string[]
}

export interface LabelFile {
  rows: LabelFileRow[]
  /** True when some row has two or more labels; a file with exactly one label per row is single-label. */
  multiLabel: boolean
}

const KEY_HEADERS = new Set(['track_id', 'track', 'id', 'path', 'audio', 'file'])

/**
 * Parses a user's label file in the MTG-Jamendo style: tab-separated, one track per line, the track (a catalog
 * track id or an audio path) first and its labels in the following columns. Blank lines and lines starting
 * with `#` are ignored. An optional header is recognised by its first column (`track_id`, `path`…); the
 * MTG-Jamendo header itself (`TRACK_ID ARTIST_ID ALBUM_ID PATH DURATION TAGS`) is understood: the PATH column
 * names the track and the columns from TAGS on are its labels (`genre---rock`, `mood/theme---happy`).
 * Every error names the file and line.
 */
export function parseLabelFile(text: string, file: string): LabelFile {
  const lines = text.split(/\r?\n/)
  const rows: LabelFileRow[] = []
  const seen = new Map<string, number>()
  let keyColumn = 0
  let firstLabelColumn = 1
  let headerSeen = false
  const fail = (line: number, reason: string): never => {
    throw new BadInputError(`${file} line ${line}: ${reason}`, '--task')
  }
  lines.forEach((raw, i) => {
    const line = i + 1
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) return
    const cols = raw.split('\t').map((c) => c.trim())
    if (!headerSeen && rows.length === 0) {
      headerSeen = true
      const upper = cols.map((c) => c.toUpperCase())
      if (upper[0] === 'TRACK_ID' && upper.includes('PATH') && upper.includes('TAGS')) {
        keyColumn = upper.indexOf('PATH')
        firstLabelColumn = upper.indexOf('TAGS')
        return
      }
      if (KEY_HEADERS.has(cols[0].toLowerCase())) return
    }
    if (cols.length === 1 && raw.includes(' ') && !raw.includes('\t')) {
      fail(line, 'no tab: columns must be separated by tabs (track, then labels)')
    }
    const key = cols[keyColumn] ?? ''
    if (key === '') fail(line, 'the first column (track id or audio path) is empty')
    const labels = [...new Set(cols.slice(firstLabelColumn).filter((c) => c !== ''))]
    if (labels.length === 0) fail(line, `no labels after "${key}"`)
    const previous = seen.get(key)
    if (previous !== undefined) fail(line, `"${key}" is listed again (first on line ${previous})`)
    seen.set(key, line)
    let track: TrackReference
    if (/^\d+$/.test(key)) {
      const id = Number(key)
      if (!Number.isSafeInteger(id) || id < 1) fail(line, `track id ${key} is out of range`)
      track = { trackId: id }
    } else {
      track = { path: key }
    }
    rows.push({ line, track: track!, labels })
  })
  if (rows.length === 0) throw new BadInputError(`${file}: no labelled tracks`, '--task')
  return { rows, multiLabel: rows.some((r) => r.labels.length > 1) }
}

/**
 * Resolves each row to a catalog track: an id must exist; a path must be an audio file's path, or its tail
 * (`14/214.mp3` matches `/music/jamendo/14/214.mp3`), and name exactly one. Every row that does not resolve is
 * an error — a partial label file would silently change the task — reported with its line (the first five,
 * and how many in all).
 */
export function resolveLabelRows(
  parsed: LabelFile,
  file: string,
  catalog: {
    existingTrackIds: ReadonlySet<number>
    audioPaths: readonly { path: string; trackId: number }[]
  },
): Map<number, string[]> {
  const byBasename = new Map<string, { path: string; trackId: number }[]>()
  for (const a of catalog.audioPaths) {
    const p = normalisePath(a.path)
    const base = p.slice(p.lastIndexOf('/') + 1)
    const list = byBasename.get(base)
    if (list) list.push({ path: p, trackId: a.trackId })
    else byBasename.set(base, [{ path: p, trackId: a.trackId }])
  }
  const problems: string[] = []
  const out = new Map<number, string[]>()
  const lineOfTrack = new Map<number, number>()
  for (const row of parsed.rows) {
    let trackId: number | undefined
    if ('trackId' in row.track) {
      if (catalog.existingTrackIds.has(row.track.trackId)) trackId = row.track.trackId
      else problems.push(`line ${row.line}: no track with id ${row.track.trackId}`)
    } else {
      const p = normalisePath(row.track.path)
      const candidates = (byBasename.get(p.slice(p.lastIndexOf('/') + 1)) ?? []).filter(
        (c) => c.path === p || c.path.endsWith(`/${p}`),
      )
      const tracks = [...new Set(candidates.map((c) => c.trackId))]
      if (tracks.length === 1) trackId = tracks[0]
      else if (tracks.length === 0)
        problems.push(`line ${row.line}: no audio file linked to a track at "${row.track.path}"`)
      else
        problems.push(
          `line ${row.line}: "${row.track.path}" matches ${tracks.length} audio files (${candidates
            .slice(0, 3)
            .map((c) => c.path)
            .join(', ')}…); give more of the path`,
        )
    }
    if (trackId === undefined) continue
    const previous = lineOfTrack.get(trackId)
    if (previous !== undefined) {
      problems.push(`line ${row.line}: names track ${trackId} again (first on line ${previous})`)
      continue
    }
    lineOfTrack.set(trackId, row.line)
    out.set(trackId, row.labels)
  }
  if (problems.length) {
    const more = problems.length > 5 ? `; and ${problems.length - 5} more` : ''
    throw new BadInputError(
      `${file}: ${problems.length} row${problems.length > 1 ? 's' : ''} not resolved: ${problems.slice(0, 5).join('; ')}${more}`,
      '--task',
    )
  }
  return out
}

function normalisePath(p: string): string {
  return p.replace(/\\/g, '/').replace(/^(\.\/)+/, '')
}

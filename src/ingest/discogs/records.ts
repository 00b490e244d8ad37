import type { XmlNode } from './xml-records.ts'

/**
 * Typed Discogs records and the pure functions that read them from XML trees. Everything the catalog
 * stores is modelled; images are deliberately ignored (the dumps carry no image URLs any more).
 * Parsers never throw on content: missing or malformed values become null, and elements they do not
 * know are counted under their path (e.g. "release/tracklist/track/foo") so drift shows up in the
 * import summary instead of failing a dump.
 */

export type DumpType = 'artists' | 'labels' | 'masters' | 'releases'
export const DUMP_TYPES: readonly DumpType[] = ['artists', 'labels', 'masters', 'releases']
/** Root element → record element. */
export const RECORD_ELEMENT: Record<DumpType, string> = {
  artists: 'artist',
  labels: 'label',
  masters: 'master',
  releases: 'release',
}

export interface NamedRef {
  id: number | null
  name: string | null
}

export interface ArtistRecord {
  id: number
  name: string
  realName: string | null
  profile: string | null
  dataQuality: string | null
  urls: string[]
  nameVariations: string[]
  aliases: NamedRef[]
  members: NamedRef[]
  groups: NamedRef[]
}

export interface LabelRecord {
  id: number
  name: string | null
  contactInfo: string | null
  profile: string | null
  dataQuality: string | null
  urls: string[]
  parent: NamedRef | null
  sublabels: NamedRef[]
}

export interface Credit {
  artistId: number | null
  name: string
  anv: string | null
  join: string | null
  role: string | null
  tracks: string | null
}

export interface Video {
  src: string
  durationS: number | null
  embed: boolean | null
  title: string | null
  description: string | null
}

export interface MasterRecord {
  id: number
  title: string
  mainReleaseId: number | null
  year: number | null
  notes: string | null
  dataQuality: string | null
  artists: Credit[]
  genres: string[]
  styles: string[]
  videos: Video[]
}

export interface CatalogEntry {
  id: number | null
  name: string | null
  catno: string | null
}

export interface Format {
  name: string | null
  qty: string | null
  text: string | null
  descriptions: string[]
}

export interface Identifier {
  type: string | null
  description: string | null
  value: string | null
}

export interface Company {
  id: number | null
  name: string | null
  catno: string | null
  entityType: string | null
  entityTypeName: string | null
}

export type TrackType = 'track' | 'heading' | 'index'

export interface Track {
  /** identity within the release, stable across dumps (see trackKeys) */
  key: string
  /** key of the index track this sub-track belongs to */
  parentKey: string | null
  /** 1-based place in the flattened tracklist (parents before their sub-tracks) */
  sequence: number
  position: string | null
  title: string | null
  durationText: string | null
  durationS: number | null
  type: TrackType
  artists: Credit[]
  credits: Credit[]
}

export interface ReleaseRecord {
  id: number
  status: string | null
  title: string
  country: string | null
  released: string | null
  year: number | null
  notes: string | null
  dataQuality: string | null
  masterId: number | null
  isMainRelease: boolean
  artists: Credit[]
  credits: Credit[]
  labels: CatalogEntry[]
  series: CatalogEntry[]
  formats: Format[]
  identifiers: Identifier[]
  companies: Company[]
  videos: Video[]
  genres: string[]
  styles: string[]
  tracks: Track[]
}

export type DiscogsRecord =
  | { type: 'artists'; record: ArtistRecord }
  | { type: 'labels'; record: LabelRecord }
  | { type: 'masters'; record: MasterRecord }
  | { type: 'releases'; record: ReleaseRecord }

/** Counts of elements the parsers did not expect, by path. */
export type UnknownCounter = (path: string) => void

// ---------------------------------------------------------------- scalar helpers (pure, unit-tested)

/** A Discogs id: a positive integer that fits Postgres `integer`; anything else (empty, 0, junk) is null. */
export function parseId(s: string | null | undefined): number | null {
  if (s === null || s === undefined) return null
  // Almost every id is plain digits: read as they go by, without trimming or a regular expression.
  const len = s.length
  if (len > 0 && len <= 10) {
    let v = 0
    let k = 0
    for (; k < len; k++) {
      const d = s.charCodeAt(k) - 48
      if (d < 0 || d > 9) break
      v = v * 10 + d
    }
    if (k === len) return v > 0 && v <= 2147483647 ? v : null
  }
  const t = s.trim()
  if (t.length === 0 || t.length > 10 || !/^[0-9]+$/.test(t)) return null
  const n = Number(t)
  return n > 0 && n <= 2147483647 ? n : null
}

/** "4:45" → 285, "1:02:03" → 3723, "45" → 45; anything else null (the text is kept beside it). */
export function parseDuration(s: string | null | undefined): number | null {
  if (!s) return null
  const t = s.trim()
  const m = /^(?:(\d{1,3}):)?(\d{1,4}):(\d{1,2})$/.exec(t)
  if (m) {
    const h = m[1] ? Number(m[1]) : 0
    const min = Number(m[2])
    const sec = Number(m[3])
    if (sec >= 60 || (m[1] && min >= 60)) return null
    const total = h * 3600 + min * 60 + sec
    return total <= 2147483647 ? total : null
  }
  if (/^\d{1,6}$/.test(t)) return Number(t)
  return null
}

/** The year of a `released` value as given ("1999-03-00", "1999", "19990300"); null for 0000 or junk. */
export function parseYear(s: string | null | undefined): number | null {
  if (!s) return null
  const m = /^\s*(\d{4})/.exec(s)
  if (!m) return null
  const y = Number(m[1])
  return y >= 1 && y <= 32767 ? y : null
}

/** Video duration and master year: a small non-negative integer or null. */
function parseSmallInt(s: string | null | undefined, max = 2147483647): number | null {
  if (!s) return null
  const t = s.trim()
  if (!/^\d{1,10}$/.test(t)) return null
  const n = Number(t)
  return n <= max ? n : null
}

function parseBool(s: string | null | undefined): boolean | null {
  if (s === 'true') return true
  if (s === 'false') return false
  return null
}

/** Empty and whitespace-only strings become null; other text is kept exactly. */
function textOrNull(s: string | null | undefined): string | null {
  if (s === null || s === undefined) return null
  // A text that starts with a visible ASCII character is not blank: no trimmed copy needed to tell.
  const c = s.length > 0 ? s.charCodeAt(0) : 0
  if (c > 32 && c < 127) return s
  return s.trim().length === 0 ? null : s
}

/**
 * Track identity among siblings: the position when it is non-empty and unique among them, else '#n'
 * (n = 1-based place among the siblings). Positions are trimmed; duplicates all fall back to '#n' so
 * that no key depends on which duplicate came first.
 */
export function trackKeys(positions: (string | null)[]): string[] {
  const counts = new Map<string, number>()
  for (const p of positions) {
    const t = p?.trim()
    if (t) counts.set(t, (counts.get(t) ?? 0) + 1)
  }
  return positions.map((p, i) => {
    const t = p?.trim()
    // '#' and '/' are reserved for synthetic and sub-track keys; a position using them could collide.
    return t && counts.get(t) === 1 && !t.startsWith('#') && !t.includes('/') ? t : `#${i + 1}`
  })
}

// ---------------------------------------------------------------- tree helpers

function attr(n: XmlNode, name: string): string | null {
  return n.attrs?.[name] ?? null
}

function texts(n: XmlNode, child: string, path: string, unknown: UnknownCounter): string[] {
  const out: string[] = []
  if (n.children)
    for (const c of n.children) {
      if (c.name === child) {
        const t = textOrNull(c.text)
        if (t !== null) out.push(t)
      } else unknown(`${path}/${c.name}`)
    }
  return out
}

/** Distinct non-empty texts in order: genre/style tables are keyed by value. */
function distinctTexts(n: XmlNode, child: string, path: string, unknown: UnknownCounter): string[] {
  return [...new Set(texts(n, child, path, unknown))]
}

function namedRefs(n: XmlNode, child: string, path: string, unknown: UnknownCounter): NamedRef[] {
  const out: NamedRef[] = []
  if (n.children)
    for (const c of n.children) {
      if (c.name === child) out.push({ id: parseId(attr(c, 'id')), name: textOrNull(c.text) })
      // <members> of older dumps repeat each member's id as a sibling <id> element.
      else if (c.name !== 'id') unknown(`${path}/${c.name}`)
    }
  return out
}

function credits(n: XmlNode, path: string, unknown: UnknownCounter): Credit[] {
  const out: Credit[] = []
  if (!n.children) return out
  for (const a of n.children) {
    if (a.name !== 'artist') {
      unknown(`${path}/${a.name}`)
      continue
    }
    const cr: Credit = { artistId: null, name: '', anv: null, join: null, role: null, tracks: null }
    if (a.children)
      for (const f of a.children) {
        switch (f.name) {
          case 'id':
            cr.artistId = parseId(f.text)
            break
          case 'name':
            cr.name = f.text
            break
          case 'anv':
            cr.anv = textOrNull(f.text)
            break
          case 'join':
            cr.join = textOrNull(f.text)
            break
          case 'role':
            cr.role = textOrNull(f.text)
            break
          case 'tracks':
            cr.tracks = textOrNull(f.text)
            break
          default:
            unknown(`${path}/artist/${f.name}`)
        }
      }
    out.push(cr)
  }
  return out
}

function videos(n: XmlNode, path: string, unknown: UnknownCounter): Video[] {
  const out: Video[] = []
  if (!n.children) return out
  for (const v of n.children) {
    if (v.name !== 'video') {
      unknown(`${path}/${v.name}`)
      continue
    }
    const src = attr(v, 'src')
    if (!src) continue
    const video: Video = {
      src,
      durationS: parseSmallInt(attr(v, 'duration')),
      embed: parseBool(attr(v, 'embed')),
      title: null,
      description: null,
    }
    if (v.children)
      for (const f of v.children) {
        if (f.name === 'title') video.title = textOrNull(f.text)
        else if (f.name === 'description') video.description = textOrNull(f.text)
        else unknown(`${path}/video/${f.name}`)
      }
    out.push(video)
  }
  return out
}

function catalogEntries(n: XmlNode, child: string, path: string, unknown: UnknownCounter): CatalogEntry[] {
  const out: CatalogEntry[] = []
  if (n.children)
    for (const c of n.children) {
      if (c.name !== child) {
        unknown(`${path}/${c.name}`)
        continue
      }
      out.push({
        id: parseId(attr(c, 'id')),
        name: textOrNull(attr(c, 'name')),
        catno: textOrNull(attr(c, 'catno')),
      })
    }
  return out
}

// ---------------------------------------------------------------- record parsers

/** Reads the record's id: an `id` attribute (masters, releases) or an `<id>` child (artists, labels). */
export function recordId(n: XmlNode): number | null {
  const a = attr(n, 'id')
  if (a !== null) return parseId(a)
  if (n.children) for (const c of n.children) if (c.name === 'id') return parseId(c.text)
  return null
}

export function parseArtist(n: XmlNode, unknown: UnknownCounter): ArtistRecord | null {
  const id = recordId(n)
  if (id === null) return null
  const r: ArtistRecord = {
    id,
    name: '',
    realName: null,
    profile: null,
    dataQuality: null,
    urls: [],
    nameVariations: [],
    aliases: [],
    members: [],
    groups: [],
  }
  if (n.children)
    for (const c of n.children) {
      switch (c.name) {
        case 'id':
        case 'images':
          break
        case 'name':
          r.name = c.text
          break
        case 'realname':
          r.realName = textOrNull(c.text)
          break
        case 'profile':
          r.profile = textOrNull(c.text)
          break
        case 'data_quality':
          r.dataQuality = textOrNull(c.text)
          break
        case 'urls':
          r.urls = texts(c, 'url', 'artist/urls', unknown)
          break
        case 'namevariations':
          r.nameVariations = texts(c, 'name', 'artist/namevariations', unknown)
          break
        case 'aliases':
          r.aliases = namedRefs(c, 'name', 'artist/aliases', unknown)
          break
        case 'members':
          r.members = namedRefs(c, 'name', 'artist/members', unknown)
          break
        case 'groups':
          r.groups = namedRefs(c, 'name', 'artist/groups', unknown)
          break
        default:
          unknown(`artist/${c.name}`)
      }
    }
  return r
}

export function parseLabel(n: XmlNode, unknown: UnknownCounter): LabelRecord | null {
  const id = recordId(n)
  if (id === null) return null
  const r: LabelRecord = {
    id,
    name: null,
    contactInfo: null,
    profile: null,
    dataQuality: null,
    urls: [],
    parent: null,
    sublabels: [],
  }
  if (n.children)
    for (const c of n.children) {
      switch (c.name) {
        case 'id':
        case 'images':
          break
        case 'name':
          r.name = textOrNull(c.text)
          break
        case 'contactinfo':
          r.contactInfo = textOrNull(c.text)
          break
        case 'profile':
          r.profile = textOrNull(c.text)
          break
        case 'data_quality':
          r.dataQuality = textOrNull(c.text)
          break
        case 'urls':
          r.urls = texts(c, 'url', 'label/urls', unknown)
          break
        case 'parentLabel':
          r.parent = { id: parseId(attr(c, 'id')), name: textOrNull(c.text) }
          break
        case 'sublabels':
          r.sublabels = namedRefs(c, 'label', 'label/sublabels', unknown)
          break
        default:
          unknown(`label/${c.name}`)
      }
    }
  return r
}

export function parseMaster(n: XmlNode, unknown: UnknownCounter): MasterRecord | null {
  const id = recordId(n)
  if (id === null) return null
  const r: MasterRecord = {
    id,
    title: '',
    mainReleaseId: null,
    year: null,
    notes: null,
    dataQuality: null,
    artists: [],
    genres: [],
    styles: [],
    videos: [],
  }
  if (n.children)
    for (const c of n.children) {
      switch (c.name) {
        case 'images':
          break
        case 'main_release':
          r.mainReleaseId = parseId(c.text)
          break
        case 'title':
          r.title = c.text
          break
        case 'year': {
          const y = parseSmallInt(c.text, 32767)
          r.year = y === 0 ? null : y // the dumps write 0 for "unknown"
          break
        }
        case 'notes':
          r.notes = textOrNull(c.text)
          break
        case 'data_quality':
          r.dataQuality = textOrNull(c.text)
          break
        case 'artists':
          r.artists = credits(c, 'master/artists', unknown)
          break
        case 'genres':
          r.genres = distinctTexts(c, 'genre', 'master/genres', unknown)
          break
        case 'styles':
          r.styles = distinctTexts(c, 'style', 'master/styles', unknown)
          break
        case 'videos':
          r.videos = videos(c, 'master/videos', unknown)
          break
        default:
          unknown(`master/${c.name}`)
      }
    }
  return r
}

interface RawTrack {
  position: string | null
  title: string | null
  durationText: string | null
  declaredType: string | null
  artists: Credit[]
  credits: Credit[]
  subTracks: RawTrack[]
}

function rawTracks(n: XmlNode, path: string, unknown: UnknownCounter): RawTrack[] {
  const out: RawTrack[] = []
  if (!n.children) return out
  for (const t of n.children) {
    if (t.name !== 'track') {
      unknown(`${path}/${t.name}`)
      continue
    }
    const tr: RawTrack = {
      position: null,
      title: null,
      durationText: null,
      declaredType: null,
      artists: [],
      credits: [],
      subTracks: [],
    }
    if (t.children)
      for (const f of t.children) {
        switch (f.name) {
          case 'position':
            tr.position = textOrNull(f.text)
            break
          case 'title':
            tr.title = textOrNull(f.text)
            break
          case 'duration':
            tr.durationText = textOrNull(f.text)
            break
          case 'type_':
          case 'type':
            tr.declaredType = textOrNull(f.text)
            break
          case 'artists':
            tr.artists = credits(f, `${path}/track/artists`, unknown)
            break
          case 'extraartists':
            tr.credits = credits(f, `${path}/track/extraartists`, unknown)
            break
          case 'sub_tracks':
            tr.subTracks = rawTracks(f, `${path}/track/sub_tracks`, unknown)
            break
          default:
            unknown(`${path}/track/${f.name}`)
        }
      }
    out.push(tr)
  }
  return out
}

/**
 * Type of a tracklist entry. The dumps state no type (the API's `type_` is honoured if it ever appears):
 * an entry with sub-tracks is an index track; an entry with no position, no duration and no credits is
 * a heading when some sibling has a position (in an all-unnumbered tracklist such entries are tracks).
 * Sub-tracks are never headings: unnumbered parts of a medley are still parts.
 */
function trackType(t: RawTrack, siblingsHavePositions: boolean): TrackType {
  if (t.declaredType === 'heading' || t.declaredType === 'index' || t.declaredType === 'track')
    return t.declaredType
  if (t.subTracks.length > 0) return 'index'
  if (
    siblingsHavePositions &&
    t.position === null &&
    t.durationText === null &&
    t.artists.length === 0 &&
    t.credits.length === 0
  )
    return 'heading'
  return 'track'
}

/** A release with nothing but its id: what the parser fills in, element by element. */
export function emptyRelease(id: number): ReleaseRecord {
  return {
    id,
    status: null,
    title: '',
    country: null,
    released: null,
    year: null,
    notes: null,
    dataQuality: null,
    masterId: null,
    isMainRelease: false,
    artists: [],
    credits: [],
    labels: [],
    series: [],
    formats: [],
    identifiers: [],
    companies: [],
    videos: [],
    genres: [],
    styles: [],
    tracks: [],
  }
}

/** Flattens a tracklist (parents before their sub-tracks) and assigns keys, sequence and types. */
export function flattenTracklist(raw: RawTrack[]): Track[] {
  const out: Track[] = []
  flattenInto(out, raw, null)
  return out
}

// A module function, not a closure inside flattenTracklist: under tsx (esbuild's keepNames) a named
// closure costs an Object.defineProperty call each time it is made, here once per release.
function flattenInto(out: Track[], list: RawTrack[], parentKey: string | null): void {
  const keys = trackKeys(list.map((t) => t.position))
  const positioned = parentKey === null && list.some((t) => t.position !== null)
  for (let i = 0; i < list.length; i++) {
    const t = list[i]
    const key = parentKey === null ? keys[i] : `${parentKey}/${keys[i]}`
    out.push({
      key,
      parentKey,
      sequence: out.length + 1,
      position: t.position,
      title: t.title,
      durationText: t.durationText,
      durationS: parseDuration(t.durationText),
      type: trackType(t, positioned),
      artists: t.artists,
      credits: t.credits,
    })
    if (t.subTracks.length > 0) flattenInto(out, t.subTracks, key)
  }
}

export function parseRelease(n: XmlNode, unknown: UnknownCounter): ReleaseRecord | null {
  const id = recordId(n)
  if (id === null) return null
  const r = emptyRelease(id)
  r.status = textOrNull(attr(n, 'status'))
  if (n.children)
    for (const c of n.children) {
      switch (c.name) {
        case 'images':
          break
        case 'title':
          r.title = c.text
          break
        case 'country':
          r.country = textOrNull(c.text)
          break
        case 'released':
          r.released = textOrNull(c.text)
          r.year = parseYear(c.text)
          break
        case 'notes':
          r.notes = textOrNull(c.text)
          break
        case 'data_quality':
          r.dataQuality = textOrNull(c.text)
          break
        case 'master_id':
          r.masterId = parseId(c.text)
          r.isMainRelease = attr(c, 'is_main_release') === 'true'
          break
        case 'artists':
          r.artists = credits(c, 'release/artists', unknown)
          break
        case 'extraartists':
          r.credits = credits(c, 'release/extraartists', unknown)
          break
        case 'labels':
          r.labels = catalogEntries(c, 'label', 'release/labels', unknown)
          break
        case 'series':
          r.series = catalogEntries(c, 'series', 'release/series', unknown)
          break
        case 'formats':
          r.formats = formats(c, unknown)
          break
        case 'identifiers':
          if (c.children)
            for (const i of c.children) {
              if (i.name !== 'identifier') unknown(`release/identifiers/${i.name}`)
              else
                r.identifiers.push({
                  type: textOrNull(attr(i, 'type')),
                  description: textOrNull(attr(i, 'description')),
                  value: textOrNull(attr(i, 'value')),
                })
            }
          break
        case 'companies':
          r.companies = companies(c, unknown)
          break
        case 'videos':
          r.videos = videos(c, 'release/videos', unknown)
          break
        case 'genres':
          r.genres = distinctTexts(c, 'genre', 'release/genres', unknown)
          break
        case 'styles':
          r.styles = distinctTexts(c, 'style', 'release/styles', unknown)
          break
        case 'tracklist':
          r.tracks = flattenTracklist(rawTracks(c, 'release/tracklist', unknown))
          break
        default:
          unknown(`release/${c.name}`)
      }
    }
  return r
}

function formats(n: XmlNode, unknown: UnknownCounter): Format[] {
  const out: Format[] = []
  if (n.children)
    for (const f of n.children) {
      if (f.name !== 'format') {
        unknown(`release/formats/${f.name}`)
        continue
      }
      const fmt: Format = {
        name: textOrNull(attr(f, 'name')),
        qty: textOrNull(attr(f, 'qty')),
        text: textOrNull(attr(f, 'text')),
        descriptions: [],
      }
      if (f.children)
        for (const d of f.children) {
          if (d.name === 'descriptions')
            fmt.descriptions = texts(d, 'description', 'release/formats/format/descriptions', unknown)
          else unknown(`release/formats/format/${d.name}`)
        }
      out.push(fmt)
    }
  return out
}

function companies(n: XmlNode, unknown: UnknownCounter): Company[] {
  const out: Company[] = []
  if (n.children)
    for (const c of n.children) {
      if (c.name !== 'company') {
        unknown(`release/companies/${c.name}`)
        continue
      }
      const co: Company = { id: null, name: null, catno: null, entityType: null, entityTypeName: null }
      if (c.children)
        for (const f of c.children) {
          switch (f.name) {
            case 'id':
              co.id = parseId(f.text)
              break
            case 'name':
              co.name = textOrNull(f.text)
              break
            case 'catno':
              co.catno = textOrNull(f.text)
              break
            case 'entity_type':
              co.entityType = textOrNull(f.text)
              break
            case 'entity_type_name':
              co.entityTypeName = textOrNull(f.text)
              break
            case 'resource_url':
              break // derivable from the id
            default:
              unknown(`release/companies/company/${f.name}`)
          }
        }
      out.push(co)
    }
  return out
}

export function parseRecord(type: DumpType, n: XmlNode, unknown: UnknownCounter): DiscogsRecord | null {
  switch (type) {
    case 'artists': {
      const record = parseArtist(n, unknown)
      return record && { type, record }
    }
    case 'labels': {
      const record = parseLabel(n, unknown)
      return record && { type, record }
    }
    case 'masters': {
      const record = parseMaster(n, unknown)
      return record && { type, record }
    }
    case 'releases': {
      const record = parseRelease(n, unknown)
      return record && { type, record }
    }
  }
}

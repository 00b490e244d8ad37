import type { Credit, SynthArtist, SynthLabel, SynthMaster, SynthRelease, SynthTrack } from './world.ts'

/**
 * Serialises synthetic records exactly as the monthly Discogs dumps do: one record per line under a
 * root element, element order as in the dumps, empty elements self-closed (`<anv/>`), `&`, `<`, `>` and
 * (in attributes) `"` escaped, and every non-ASCII character and CR written as a numeric character
 * reference (`&#228;`, `&#13;`), which is how the real dumps are encoded. Pure string functions.
 */

/** Escapes text content the way the dumps do. */
export function escapeText(s: string): string {
  let out = ''
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    if (ch === '&') out += '&amp;'
    else if (ch === '<') out += '&lt;'
    else if (ch === '>') out += '&gt;'
    else if (c === 13 || c > 126) out += `&#${c};`
    else out += ch
  }
  return out
}

export function escapeAttr(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;')
}

/** `<name>text</name>`, or `<name/>` when the text is empty. */
function el(name: string, text: string | number | null | undefined): string {
  const t = text === null || text === undefined ? '' : String(text)
  return t === '' ? `<${name}/>` : `<${name}>${escapeText(t)}</${name}>`
}

/** A wrapper around a list: omitted when the list is empty, as the dumps do for optional lists. */
function list(name: string, items: string[]): string {
  return items.length ? `<${name}>${items.join('')}</${name}>` : ''
}

function attrs(a: Record<string, string | number>): string {
  return Object.entries(a)
    .map(([k, v]) => ` ${k}="${escapeAttr(String(v))}"`)
    .join('')
}

function credits(cs: Credit[]): string[] {
  return cs.map(
    (c) =>
      `<artist>${el('id', c.artistId)}${el('name', c.name)}${el('anv', c.anv)}${el('join', c.join)}` +
      `${el('role', c.role)}${el('tracks', c.tracks)}</artist>`,
  )
}

export function artistXml(a: SynthArtist): string {
  return (
    `<artist>${el('id', a.id)}${el('name', a.name)}${a.realName ? el('realname', a.realName) : ''}` +
    `${el('profile', a.profile)}${el('data_quality', a.dataQuality)}` +
    list(
      'urls',
      a.urls.map((u) => el('url', u)),
    ) +
    list(
      'namevariations',
      a.nameVariations.map((n) => el('name', n)),
    ) +
    list(
      'aliases',
      a.aliases.map((x) => `<name${attrs({ id: x.id })}>${escapeText(x.name)}</name>`),
    ) +
    // Members are listed as <id> then <name id>, pairwise, as in the dumps.
    list(
      'members',
      a.members.map((x) => `${el('id', x.id)}<name${attrs({ id: x.id })}>${escapeText(x.name)}</name>`),
    ) +
    list(
      'groups',
      a.groups.map((x) => `<name${attrs({ id: x.id })}>${escapeText(x.name)}</name>`),
    ) +
    `</artist>`
  )
}

export function labelXml(l: SynthLabel): string {
  return (
    `<label>${el('id', l.id)}${el('name', l.name)}${el('contactinfo', l.contactInfo)}${el('profile', l.profile)}` +
    `${el('data_quality', l.dataQuality)}` +
    (l.parent ? `<parentLabel${attrs({ id: l.parent.id })}>${escapeText(l.parent.name)}</parentLabel>` : '') +
    list(
      'urls',
      l.urls.map((u) => el('url', u)),
    ) +
    list(
      'sublabels',
      l.sublabels.map((s) => `<label${attrs({ id: s.id })}>${escapeText(s.name)}</label>`),
    ) +
    `</label>`
  )
}

export function masterXml(m: SynthMaster): string {
  return (
    `<master${attrs({ id: m.id })}>${el('main_release', m.mainReleaseId)}` +
    list('artists', credits(m.artists)) +
    list(
      'genres',
      m.genres.map((g) => el('genre', g)),
    ) +
    list(
      'styles',
      m.styles.map((s) => el('style', s)),
    ) +
    `${el('year', m.year)}${el('title', m.title)}${el('data_quality', m.dataQuality)}</master>`
  )
}

function trackXml(t: SynthTrack): string {
  const duration = t.durationS === null ? '' : formatDuration(t.durationS)
  return (
    `<track>${el('position', t.position)}${el('title', t.title)}${el('duration', duration)}` +
    list('artists', credits(t.artists)) +
    list('extraartists', credits(t.credits)) +
    list('sub_tracks', t.subTracks.map(trackXml)) +
    `</track>`
  )
}

export function releaseXml(r: SynthRelease): string {
  return (
    `<release${attrs({ id: r.id, status: 'Accepted' })}>` +
    list('artists', credits(r.artists)) +
    el('title', r.title) +
    list(
      'labels',
      r.labels.map((l) => `<label${attrs({ name: l.name, catno: l.catno, id: l.id })}/>`),
    ) +
    list(
      'series',
      r.series.map((s) => `<series${attrs({ name: s.name, catno: s.catno, id: s.id })}/>`),
    ) +
    list('extraartists', credits(r.credits)) +
    list(
      'formats',
      r.formats.map(
        (f) =>
          `<format${attrs({ name: f.name, qty: f.qty, text: f.text })}>` +
          list(
            'descriptions',
            f.descriptions.map((d) => el('description', d)),
          ) +
          `</format>`,
      ),
    ) +
    list(
      'genres',
      r.genres.map((g) => el('genre', g)),
    ) +
    list(
      'styles',
      r.styles.map((s) => el('style', s)),
    ) +
    el('country', r.country) +
    el('released', r.released) +
    el('notes', r.notes) +
    el('data_quality', r.dataQuality) +
    (r.masterId !== null
      ? `<master_id${attrs({ is_main_release: String(r.isMainRelease) })}>${r.masterId}</master_id>`
      : '') +
    list('tracklist', r.tracks.map(trackXml)) +
    list(
      'identifiers',
      r.identifiers.map(
        (i) =>
          `<identifier${attrs(i.description ? { type: i.type, description: i.description, value: i.value } : { type: i.type, value: i.value })}/>`,
      ),
    ) +
    list(
      'companies',
      r.companies.map(
        (c) =>
          `<company>${el('id', c.id)}${el('name', c.name)}${el('catno', c.catno)}${el('entity_type', c.entityType)}` +
          `${el('entity_type_name', c.entityTypeName)}${el('resource_url', `https://api.discogs.com/labels/${c.id}`)}</company>`,
      ),
    ) +
    `</release>`
  )
}

/** "m:ss" as the dumps write durations (no hours: tracks here are short). */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds)
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

/** A whole dump file's text: root element, one record per line. */
export function dumpXml<T>(root: string, records: readonly T[], toXml: (r: T) => string): string {
  return `<${root}>\n${records.map((r) => toXml(r) + '\n').join('')}</${root}>\n`
}

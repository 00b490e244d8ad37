import { VARIOUS_ARTIST_ID } from '../discogs.ts'
import { Rng } from './prng.ts'
import {
  ADJECTIVES,
  COUNTRIES,
  FIRST_NAMES,
  GENRES,
  LABEL_SUFFIXES,
  LAST_NAMES,
  NOUNS,
  PRESSING_PLANTS,
  STUDIO_SUFFIXES,
  STYLES,
  TITLE_WORDS,
  styleByName,
  type Genre,
  type StyleProfile,
} from './vocabulary.ts'

/**
 * The synthetic catalog as plain data, generated from a seed by pure functions: artists with a sound,
 * labels leaning to styles, releases with tracklists and credits, masters with versions, compilations.
 * Every audible track carries everything the renderer needs (TrackRender), so rendering is a pure
 * function of one record. See docs/synth.md for the design.
 */

/** Discogs' own "Various" artist (id 194), used as the main artist of compilations as in the real dumps. */
export const VARIOUS_ARTIST = { id: VARIOUS_ARTIST_ID, name: 'Various' } as const

// ---------------------------------------------------------------- sound parameters

/** An artist's timbre palette and habits; the renderer reads nothing else about an artist. */
export interface ArtistSound {
  /** harmonic roll-off exponent: amplitude of harmonic k ∝ k^-brightness */
  brightness: number
  /** 0: all harmonics, 1: odd harmonics only (hollow, clarinet/square-like) */
  oddness: number
  /** a resonance over the harmonics (vowel-like colour): centre harmonic and gain */
  formantHarmonic: number
  formantGain: number
  /** note envelope: attack, decay (s), sustain level (0–1), release (s) */
  attack: number
  decay: number
  sustain: number
  release: number
  /** vibrato rate (Hz) and depth (semitones) */
  vibratoRate: number
  vibratoDepth: number
  /** detune of the second oscillator of chord voices (semitones) */
  detune: number
  /** octave offset of lead lines */
  register: -1 | 0 | 1
  /** drum tuning multiplier and drum level */
  drumTune: number
  drumLevel: number
  /** where in a style's tempo range this artist plays (0–1) and how widely it strays (share of the range) */
  tempoCentre: number
  tempoWidth: number
  /** favourite tonics (pitch classes 0 = C) with weights, and bias towards minor (−0.3…0.3) */
  tonics: number[]
  tonicWeights: number[]
  minorBias: number
  /** melody habits: share of stepwise motion, rests, notes-per-beat multiplier */
  stepwise: number
  restiness: number
  density: number
  /** stereo position of the lead (−1 left … 1 right) */
  pan: number
}

/** A release's production: the same for all its tracks; a label's house sound shifts it. */
export interface Production {
  /** spectral tilt in dB per octave around 1 kHz (negative: darker) */
  tilt: number
  /** low-pass cut-off (Hz) of the master bus */
  lowpass: number
  /** high-pass cut-off (Hz) */
  highpass: number
  /** reverb send (0–1) and room size (0–1) */
  reverb: number
  roomSize: number
  /** bus drive into a soft clipper (1 = clean) */
  drive: number
  /** target RMS level (dBFS) after the clipper */
  loudness: number
  /** stereo width (0 mono … 1.5 wide) */
  width: number
  /** hiss/crackle level (linear, before loudness) */
  hiss: number
}

/** Everything needed to render one track's audio; serialisable (sent to worker threads). */
export interface TrackRender {
  /** the music's seed: versions and compilation appearances of one recording share it */
  musicSeed: number
  /** the release's seed for production noise (hiss, reverb diffusion) */
  productionSeed: number
  seconds: number
  style: string
  tempo: number
  tonic: number
  minor: boolean
  sound: ArtistSound
  production: Production
}

// ---------------------------------------------------------------- catalog records

export interface Credit {
  artistId: number
  name: string
  /** artist name variation as printed */
  anv?: string
  join?: string
  role?: string
  /** positions the credit applies to ("A1, B2") */
  tracks?: string
}

export interface SynthArtist {
  id: number
  name: string
  realName: string | null
  profile: string
  dataQuality: string
  urls: string[]
  nameVariations: string[]
  aliases: { id: number; name: string }[]
  members: { id: number; name: string }[]
  groups: { id: number; name: string }[]
  /** artists that release music have a sound and styles; credit-only people (engineers, members) do not */
  sound: ArtistSound | null
  genre: Genre | null
  styles: string[]
  /** first year of activity */
  since: number
}

export interface SynthLabel {
  id: number
  name: string
  /** 'label' releases music; 'company' only appears in companies (studios, pressing plants) */
  kind: 'label' | 'company'
  contactInfo: string
  profile: string
  dataQuality: string
  urls: string[]
  parent: { id: number; name: string } | null
  sublabels: { id: number; name: string }[]
  genre: Genre | null
  /** styles the label leans to, with weights */
  styleWeights: Record<string, number>
  /** house mastering: shifts every release's production */
  house: { loudness: number; tilt: number; drive: number }
  /** catalogue-number prefix */
  prefix: string
}

export interface SynthTrack {
  position: string
  title: string
  /** whole seconds; null for headings and index tracks without their own audio */
  durationS: number | null
  type: 'track' | 'heading' | 'index'
  artists: Credit[]
  credits: Credit[]
  subTracks: SynthTrack[]
  /** present on every track with audio */
  render: TrackRender | null
  /** the artist whose sound the track has (the track artist on compilations) */
  soundArtistId: number | null
}

export interface SynthRelease {
  id: number
  title: string
  artists: Credit[]
  labels: { id: number; name: string; catno: string }[]
  series: { id: number; name: string; catno: string }[]
  credits: Credit[]
  formats: { name: string; qty: number; text: string; descriptions: string[] }[]
  genres: string[]
  styles: string[]
  country: string
  released: string
  year: number
  notes: string
  dataQuality: string
  masterId: number | null
  isMainRelease: boolean
  tracks: SynthTrack[]
  identifiers: { type: string; description?: string; value: string }[]
  companies: { id: number; name: string; catno: string; entityType: number; entityTypeName: string }[]
  production: Production
  kind: 'single' | 'ep' | 'album' | 'compilation'
  /** this release re-issues the master's main release */
  reissueOf: number | null
}

export interface SynthMaster {
  id: number
  mainReleaseId: number
  artists: Credit[]
  genres: string[]
  styles: string[]
  year: number
  title: string
  dataQuality: string
}

export interface SynthWorld {
  seed: number
  artists: SynthArtist[]
  labels: SynthLabel[]
  masters: SynthMaster[]
  releases: SynthRelease[]
}

// ---------------------------------------------------------------- options

export type SynthSize = 'tiny' | 'small' | 'demo' | 'large'

export interface WorldOptions {
  seed: number
  /** artists who release music (credit-only people come on top) */
  artists: number
  /** record labels (studios and pressing plants come on top) */
  labels: number
  /** releases, including reissues and compilations */
  releases: number
  /** mean track length in seconds (each track varies ±20 %, whole seconds) */
  seconds: number
  /** first id of every record type; far above real Discogs ids so the two never collide */
  idBase: number
}

export const SIZES: Record<SynthSize, Omit<WorldOptions, 'seed' | 'idBase'>> = {
  tiny: { artists: 3, labels: 2, releases: 6, seconds: 3 },
  small: { artists: 40, labels: 12, releases: 72, seconds: 20 },
  demo: { artists: 24, labels: 8, releases: 48, seconds: 12 },
  large: { artists: 200, labels: 40, releases: 600, seconds: 30 },
}

export const DEFAULT_ID_BASE = 900_000_000

export function worldOptions(size: SynthSize, overrides: Partial<WorldOptions> = {}): WorldOptions {
  const o: WorldOptions = { seed: 1, idBase: DEFAULT_ID_BASE, ...SIZES[size], ...stripUndefined(overrides) }
  for (const k of ['artists', 'labels', 'releases', 'seconds'] as const)
    if (!Number.isInteger(o[k]) || o[k] < 1)
      throw new RangeError(`${k} must be a positive integer, got ${o[k]}`)
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff)
    throw new RangeError(`seed must be an integer in 0…4294967295, got ${o.seed}`)
  if (
    !Number.isInteger(o.idBase) ||
    o.idBase < 1 ||
    o.idBase + 10 * (o.artists + o.labels + o.releases) + 1000 > 2147483647
  )
    throw new RangeError(`idBase must leave room for every id below 2^31, got ${o.idBase}`)
  return o
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

// ---------------------------------------------------------------- the generator

/** Years each style was mostly released in; reissues come later. */
const ERAS: Record<string, [number, number]> = {
  Techno: [1990, 2020],
  'Deep House': [1992, 2020],
  Ambient: [1980, 2020],
  'Drum n Bass': [1993, 2015],
  Trance: [1993, 2010],
  Punk: [1976, 1990],
  Shoegaze: [1988, 1997],
  'Indie Rock': [1995, 2015],
  Bebop: [1950, 1965],
  'Cool Jazz': [1953, 1968],
  'Boom Bap': [1988, 2000],
  'Jazzy Hip-Hop': [1992, 2010],
}
const QUALITIES = ['Correct', 'Needs Vote', 'Complete and Correct', 'Needs Minor Changes'] as const

/** Generates the whole catalog. Pure: the same options give the same world. */
export function generateWorld(options: WorldOptions): SynthWorld {
  const root = new Rng(options.seed)
  const names = new NameBook()
  const ids = {
    artist: options.idBase,
    label: options.idBase,
    master: options.idBase,
    release: options.idBase,
  }

  // Styles are dealt round-robin over a shuffled deck so every style is present once artists ≥ 12.
  const deck = root.fork('style-deck').shuffle(STYLES.map((s) => s.name))
  const artists: SynthArtist[] = []
  const people: SynthArtist[] = []
  const person = (rng: Rng, group?: SynthArtist): SynthArtist => {
    const first = rng.pick(FIRST_NAMES)
    const last = rng.pick(LAST_NAMES)
    const p: SynthArtist = {
      id: ++ids.artist,
      name: names.unique(`${first} ${last}`),
      realName: null,
      profile: group ? `Member of [a=${group.name}].` : 'Studio engineer and producer.',
      dataQuality: rng.pick(QUALITIES),
      urls: [],
      nameVariations: [`${first[0]}. ${last}`],
      aliases: [],
      members: [],
      groups: group ? [{ id: group.id, name: group.name }] : [],
      sound: null,
      genre: null,
      styles: [],
      since: 0,
    }
    people.push(p)
    return p
  }

  for (let i = 0; i < options.artists; i++) {
    const rng = root.fork('artist', i)
    const primary = styleByName(deck[i % deck.length])
    const styles = [primary.name]
    const siblings = STYLES.filter((s) => s.genre === primary.genre && s.name !== primary.name)
    if (siblings.length && rng.chance(0.35)) styles.push(rng.pick(siblings).name)
    const isGroup = primary.genre === 'Rock' || primary.genre === 'Jazz' ? rng.chance(0.7) : rng.chance(0.15)
    const name = names.unique(isGroup ? groupName(rng) : soloName(rng, primary.genre))
    const era = ERAS[primary.name]
    const a: SynthArtist = {
      id: ++ids.artist,
      name,
      realName: null,
      profile: `${primary.name} ${isGroup ? 'band' : 'artist'} from ${rng.pick(COUNTRIES)}.`,
      dataQuality: rng.pick(QUALITIES),
      urls: [`https://${slug(name)}.bandcamp.com`],
      nameVariations: name.startsWith('The ') ? [name.slice(4)] : [name.toUpperCase()],
      aliases: [],
      members: [],
      groups: [],
      sound: artistSound(rng, primary),
      genre: primary.genre,
      styles,
      since: rng.int(era[0], Math.max(era[0], era[1] - 4)),
    }
    artists.push(a)
    if (isGroup) {
      const n = rng.int(2, 4)
      for (let m = 0; m < n; m++) {
        const p = person(rng.fork('member', m), a)
        a.members.push({ id: p.id, name: p.name })
      }
    } else {
      const first = rng.pick(FIRST_NAMES)
      a.realName = `${first} ${rng.pick(LAST_NAMES)}`
    }
  }
  // Aliases: some solo artists are another solo artist under a second name (same real name).
  const solos = artists.filter((a) => a.realName)
  const aliasRng = root.fork('aliases')
  for (let i = 0; i + 1 < solos.length; i += 2) {
    if (!aliasRng.chance(0.25)) continue
    const [a, b] = [solos[i], solos[i + 1]]
    b.realName = a.realName
    a.aliases.push({ id: b.id, name: b.name })
    b.aliases.push({ id: a.id, name: a.name })
  }
  // Credit-only people: producers, mastering engineers, designers.
  const crew: SynthArtist[] = []
  const crewCount = Math.max(2, Math.round(options.artists / 4))
  for (let i = 0; i < crewCount; i++) crew.push(person(root.fork('crew', i)))

  // ---- labels, sublabels, companies
  const labels: SynthLabel[] = []
  const genresPresent = GENRES.filter((g) => artists.some((a) => a.genre === g))
  for (let i = 0; i < options.labels; i++) {
    const rng = root.fork('label', i)
    // Sublabels (about a third, when a parent exists) share their parent's genre and narrow its focus.
    const parents = labels.filter((l) => l.parent === null)
    const parent = i >= 2 && parents.length && rng.chance(0.35) ? rng.pick(parents) : null
    const genre = parent?.genre ?? genresPresent[i % genresPresent.length]
    const inGenre = STYLES.filter((s) => s.genre === genre)
    const weights: Record<string, number> = {}
    const focus = rng.sample(inGenre, parent ? 1 : rng.int(1, Math.min(3, inGenre.length)))
    for (const s of inGenre) weights[s.name] = focus.includes(s) ? rng.range(2, 5) : 0.15
    const name = names.unique(parent ? `${parent.name.split(' ')[0]} ${rng.pick(NOUNS)}` : labelName(rng))
    const l: SynthLabel = {
      id: ++ids.label,
      name,
      kind: 'label',
      contactInfo: `${name}\r\nP.O. Box ${rng.int(100, 9999)}\r\n${rng.pick(COUNTRIES)}\r\n\r\nEmail: info@${slug(name)}.example`,
      profile: `${focus.map((s) => s.name).join(' & ')} label${parent ? `, a sublabel of [l=${parent.name}]` : ''}.`,
      dataQuality: rng.pick(QUALITIES),
      urls: [`https://${slug(name)}.example`],
      parent: parent ? { id: parent.id, name: parent.name } : null,
      sublabels: [],
      genre,
      styleWeights: weights,
      house: { loudness: rng.range(-20, -11), tilt: rng.range(-1.5, 1.5), drive: rng.range(1, 2.5) },
      prefix: initials(name) || 'SYN',
    }
    if (parent) parent.sublabels.push({ id: l.id, name: l.name })
    labels.push(l)
  }
  const companies: SynthLabel[] = []
  const companyRng = root.fork('companies')
  for (let i = 0; i < 3; i++) {
    const name = names.unique(
      i === 2
        ? companyRng.pick(PRESSING_PLANTS)
        : `${companyRng.pick(ADJECTIVES)} ${companyRng.pick(STUDIO_SUFFIXES)}`,
    )
    companies.push({
      id: ++ids.label,
      name,
      kind: 'company',
      contactInfo: '',
      profile: i === 2 ? 'Pressing plant.' : 'Recording and mastering studio.',
      dataQuality: 'Needs Vote',
      urls: [],
      parent: null,
      sublabels: [],
      genre: null,
      styleWeights: {},
      house: { loudness: 0, tilt: 0, drive: 1 },
      prefix: '',
    })
  }

  // Every artist signs to one or two "home" labels that lean to its styles: label ↔ artist ↔ style
  // correlate as in the real catalog, without being identical.
  const homeLabels = new Map<number, SynthLabel[]>()
  for (const a of artists) {
    const rng = root.fork('home', a.id)
    const w = labels.map((l) => (l.styleWeights[a.styles[0]] ?? 0) + (l.genre === a.genre ? 0.2 : 0.01))
    const first = labels[rng.weighted(w)]
    const home = [first]
    if (labels.length > 1 && rng.chance(0.5)) {
      const second = labels[rng.weighted(w.map((x, j) => (labels[j] === first ? 0 : x)))]
      home.push(second)
    }
    homeLabels.set(a.id, home)
  }

  // ---- releases: originals, then reissues (versions of a master), then compilations
  const nComp = options.releases >= 5 ? Math.max(1, Math.round(options.releases * 0.08)) : 0
  const nReissue = options.releases >= 6 ? Math.max(1, Math.round(options.releases * 0.12)) : 0
  const nOriginal = Math.max(1, options.releases - nComp - nReissue)
  const releases: SynthRelease[] = []
  const masters: SynthMaster[] = []
  const catCounter = new Map<number, number>()
  const nextCatno = (l: SynthLabel) => {
    const n = (catCounter.get(l.id) ?? 0) + 1
    catCounter.set(l.id, n)
    return `${l.prefix}${String(n).padStart(3, '0')}`
  }
  const releaseRng = root.fork('releases')
  // Each artist gets at least one original (two when there are enough), the rest go to a skewed few.
  const owners: SynthArtist[] = []
  for (let i = 0; i < nOriginal; i++) {
    owners.push(
      i < artists.length * 2
        ? artists[i % artists.length]
        : artists[Math.floor(artists.length * releaseRng.next() ** 2)],
    )
  }
  const artistReleaseCount = new Map<number, number>()
  const originals: SynthRelease[] = []
  for (let i = 0; i < nOriginal; i++) {
    const artist = owners[i]
    const rng = root.fork('release', i)
    const k = artistReleaseCount.get(artist.id) ?? 0
    artistReleaseCount.set(artist.id, k + 1)
    const style = styleByName(
      artist.styles.length > 1 && rng.chance(0.3) ? artist.styles[1] : artist.styles[0],
    )
    const home = homeLabels.get(artist.id)!
    const label = rng.chance(0.85)
      ? rng.pick(home)
      : labels[rng.weighted(labels.map((l) => (l.styleWeights[style.name] ?? 0) + 0.05))]
    const year = Math.min(2024, artist.since + k * rng.int(1, 3))
    const kind = rng.weighted([0.25, 0.4, 0.35])
    const release = originalRelease({
      rng,
      id: ++ids.release,
      artist,
      style,
      label,
      catno: nextCatno(label),
      year,
      kind: (['single', 'ep', 'album'] as const)[kind],
      seconds: options.seconds,
      people,
      crew,
      artists,
      companies,
      names,
    })
    originals.push(release)
    releases.push(release)
  }
  // Masters: every album and most EPs; reissues become further versions of some of them.
  for (const r of originals) {
    const rng = root.fork('master', r.id)
    if (r.kind === 'album' || (r.kind === 'ep' && rng.chance(0.6))) {
      const m: SynthMaster = {
        id: ++ids.master,
        mainReleaseId: r.id,
        artists: r.artists.map((a) => ({ ...a })),
        genres: r.genres.slice(),
        styles: r.styles.slice(),
        year: r.year,
        title: r.title,
        dataQuality: rng.pick(QUALITIES),
      }
      r.masterId = m.id
      r.isMainRelease = true
      masters.push(m)
    }
  }
  const mastered = originals.filter((r) => r.masterId !== null)
  for (let i = 0; i < nReissue && mastered.length; i++) {
    const rng = root.fork('reissue', i)
    const orig = mastered[Math.floor(rng.next() * mastered.length)]
    const label = rng.chance(0.6)
      ? labels.find((l) => l.id === orig.labels[0].id)!
      : labels[rng.int(0, labels.length - 1)]
    releases.push(reissue(rng, ++ids.release, orig, label, nextCatno(label), people, companies))
  }
  for (let i = 0; i < nComp; i++) {
    const rng = root.fork('compilation', i)
    const label = labels[i % labels.length]
    releases.push(compilation(rng, ++ids.release, label, nextCatno(label), originals, artists, crew, names))
  }
  const allLabels = [...labels, ...companies]
  // Sublabel lists of parents name each child; keep them in id order as the dumps do.
  for (const l of allLabels) l.sublabels.sort((a, b) => a.id - b.id)
  return {
    seed: options.seed,
    artists: [...artists, ...people].sort((a, b) => a.id - b.id),
    labels: allLabels.sort((a, b) => a.id - b.id),
    masters,
    releases: releases.sort((a, b) => a.id - b.id),
  }
}

function artistSound(rng: Rng, primary: StyleProfile): ArtistSound {
  const tonics = rng.sample([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], rng.int(2, 3))
  return {
    brightness: rng.range(0.7, 2.4),
    oddness: rng.chance(0.4) ? rng.range(0.6, 1) : rng.range(0, 0.3),
    formantHarmonic: rng.range(2, 10),
    formantGain: rng.range(0, 3),
    attack: Math.exp(rng.range(Math.log(0.002), Math.log(0.12))),
    decay: rng.range(0.05, 0.6),
    sustain: rng.range(0.25, 1),
    release: rng.range(0.03, 0.4),
    vibratoRate: rng.range(3, 7),
    vibratoDepth: rng.chance(0.5) ? rng.range(0.05, 0.3) : 0,
    detune: rng.range(0.02, 0.25),
    register: rng.pick([-1, 0, 0, 1] as const),
    drumTune: rng.range(0.8, 1.25),
    drumLevel: rng.range(0.6, 1.1),
    tempoCentre: rng.range(0.15, 0.85),
    tempoWidth: rng.range(0.05, 0.2),
    tonics,
    tonicWeights: tonics.map((_, i) => (i === 0 ? 3 : 1)),
    minorBias: rng.range(-0.3, 0.3),
    stepwise: rng.range(0.4, 0.95),
    restiness: rng.range(0.05, 0.35),
    density: rng.range(0.6, 1.5),
    pan: rng.range(-0.6, 0.6) + (primary.genre === 'Jazz' ? 0.2 : 0),
  }
}

function releaseProduction(rng: Rng, label: SynthLabel, style: StyleProfile): Production {
  return {
    tilt: label.house.tilt + rng.range(-2.5, 2.5),
    lowpass: 2500 + 9000 * style.brightness * rng.range(0.6, 1.2),
    highpass: rng.range(20, 120),
    reverb: Math.min(0.95, style.reverb * rng.range(0.6, 1.4)),
    roomSize: rng.range(0.3, 0.9),
    drive: label.house.drive * rng.range(0.8, 1.3),
    loudness: label.house.loudness + rng.range(-2, 2),
    width: rng.range(0.3, 1.3),
    hiss: style.noise * rng.range(0.5, 1.5) * 0.01 + (rng.chance(0.2) ? 0.002 : 0),
  }
}

interface OriginalArgs {
  rng: Rng
  id: number
  artist: SynthArtist
  style: StyleProfile
  label: SynthLabel
  catno: string
  year: number
  kind: 'single' | 'ep' | 'album'
  seconds: number
  people: SynthArtist[]
  crew: SynthArtist[]
  artists: SynthArtist[]
  companies: SynthLabel[]
  names: NameBook
}

function originalRelease(a: OriginalArgs): SynthRelease {
  const { rng, artist, style, label, kind } = a
  const vinyl = a.year < 1985 || rng.chance(kind === 'album' ? 0.4 : 0.8)
  const count = kind === 'single' ? 2 : kind === 'ep' ? rng.int(3, 5) : rng.int(6, 10)
  const production = releaseProduction(rng.fork('production'), label, style)
  const productionSeed = rng.fork('production-seed').int(0, 0xffffffff)
  const sound = artist.sound!
  const releaseStyles = style.name === artist.styles[0] ? artist.styles.slice() : [style.name]
  const titles = new Set<string>()
  const audible: SynthTrack[] = []
  for (let t = 0; t < count; t++) {
    const trng = rng.fork('track', t)
    let title = trackTitle(trng)
    while (titles.has(title)) title = trackTitle(trng)
    titles.add(title)
    // A release tagged with two styles has tracks in each (mostly the first).
    const trackStyle = releaseStyles.length > 1 && trng.chance(0.3) ? styleByName(releaseStyles[1]) : style
    const track = audibleTrack(
      trng,
      title,
      a.seconds,
      trackStyle,
      sound,
      production,
      productionSeed,
      artist.id,
    )
    // Now and then a guest on the track, or a remix by another artist of the same genre.
    if (trng.chance(0.12)) {
      const guest = trng.pick(a.people)
      track.credits.push({
        artistId: guest.id,
        name: guest.name,
        role: trng.pick(['Featuring', 'Vocals', 'Saxophone', 'Guitar']),
      })
    } else if (trng.chance(0.08)) {
      const others = a.artists.filter((x) => x.genre === artist.genre && x.id !== artist.id)
      if (others.length) {
        const remixer = trng.pick(others)
        track.title = `${title} (${remixer.name} Remix)`
        track.credits.push({ artistId: remixer.id, name: remixer.name, role: 'Remix' })
      }
    }
    audible.push(track)
  }
  // An album occasionally holds a suite: an index track whose parts are sub-tracks.
  const tracks = layoutTracklist(
    audible,
    vinyl,
    kind === 'album' && rng.chance(0.15),
    kind === 'album' && vinyl && rng.chance(0.4),
  )
  const title = kind === 'single' ? audible[0].title : releaseTitle(rng)
  const credits: Credit[] = []
  const producer = rng.chance(0.5) ? artist : rng.pick(a.crew)
  credits.push({ artistId: producer.id, name: producer.name, role: 'Producer' })
  const engineer = rng.pick(a.crew)
  credits.push({ artistId: engineer.id, name: engineer.name, role: 'Mastered By' })
  for (const m of artist.members.slice(0, 2))
    credits.push({ artistId: m.id, name: m.name, role: 'Written-By' })
  if (rng.chance(0.3)) {
    const designer = rng.pick(a.crew)
    credits.push({
      artistId: designer.id,
      name: designer.name,
      role: rng.pick(['Artwork By', 'Photography By', 'Design']),
    })
  }
  const studio = a.companies[rng.int(0, 1)]
  const plant = a.companies[2]
  const country = rng.pick(COUNTRIES)
  const released = releasedDate(rng, a.year)
  const descriptions = vinyl
    ? kind === 'single'
      ? ['7"', '45 RPM', 'Single']
      : kind === 'ep'
        ? ['12"', '33 ⅓ RPM', 'EP']
        : ['LP', 'Album']
    : kind === 'album'
      ? ['Album']
      : kind === 'ep'
        ? ['EP']
        : ['Single']
  const qty = vinyl && kind === 'album' && audible.length > 8 ? 2 : 1
  return {
    id: a.id,
    title,
    artists: [{ artistId: artist.id, name: artist.name }],
    labels: [{ id: label.id, name: label.name, catno: a.catno }],
    series: [],
    credits,
    formats: [{ name: vinyl ? 'Vinyl' : 'CD', qty, text: '', descriptions }],
    genres: [style.genre],
    styles: releaseStyles,
    country,
    released,
    year: a.year,
    notes: `Recorded at ${studio.name}.\nMastered at ${studio.name} by ${engineer.name} & pressed at ${plant.name}.\n\n© ${a.year} ${label.name}`,
    dataQuality: rng.pick(QUALITIES),
    masterId: null,
    isMainRelease: false,
    tracks,
    identifiers: [
      ...(vinyl
        ? [
            { type: 'Matrix / Runout', description: 'Side A', value: `${a.catno} A` },
            { type: 'Matrix / Runout', description: 'Side B', value: `${a.catno} B` },
          ]
        : []),
      ...(a.year >= 1980 ? [{ type: 'Barcode', value: barcode(rng) }] : []),
    ],
    companies: [
      { id: studio.id, name: studio.name, catno: '', entityType: 29, entityTypeName: 'Mastered At' },
      { id: plant.id, name: plant.name, catno: '', entityType: 17, entityTypeName: 'Pressed By' },
    ],
    production,
    kind,
    reissueOf: null,
  }
}

function audibleTrack(
  rng: Rng,
  title: string,
  seconds: number,
  style: StyleProfile,
  sound: ArtistSound,
  production: Production,
  productionSeed: number,
  soundArtistId: number,
): SynthTrack {
  const durationS = Math.max(1, Math.round(seconds * rng.range(0.8, 1.2)))
  const [lo, hi] = style.tempo
  const centre = lo + (hi - lo) * sound.tempoCentre
  const tempo =
    Math.round(
      10 * Math.min(hi, Math.max(lo, centre + (hi - lo) * sound.tempoWidth * (2 * rng.next() - 1))),
    ) / 10
  const tonic = rng.chance(0.8) ? sound.tonics[rng.weighted(sound.tonicWeights)] : rng.int(0, 11)
  return {
    position: '',
    title,
    durationS,
    type: 'track',
    artists: [],
    credits: [],
    subTracks: [],
    render: {
      musicSeed: rng.fork('music').int(0, 0xffffffff),
      productionSeed,
      seconds: durationS,
      style: style.name,
      tempo,
      tonic,
      minor: rng.chance(Math.min(1, Math.max(0, style.minor + sound.minorBias))),
      sound,
      production,
    },
    soundArtistId,
  }
}

/**
 * Positions as the dumps write them: vinyl sides (A1, A2, B1 …; a lone track on a side is just "A"),
 * CDs numbered 1…n; optional side headings (position empty, no duration) and an index track whose
 * parts are sub-tracks ("B2a", "B2b").
 */
function layoutTracklist(
  audible: SynthTrack[],
  vinyl: boolean,
  suite: boolean,
  headings: boolean,
): SynthTrack[] {
  let items: SynthTrack[] = audible.map((t) => ({ ...t }))
  if (suite && items.length >= 4) {
    const at = items.length - 3
    const parts = items.slice(at, at + 2)
    const index: SynthTrack = {
      position: '',
      title: `${parts[0].title} Suite`,
      durationS: null,
      type: 'index',
      artists: [],
      credits: [],
      subTracks: parts.map((p, j) => ({ ...p, title: `Part ${['I', 'II', 'III'][j]}: ${p.title}` })),
      render: null,
      soundArtistId: null,
    }
    items = [...items.slice(0, at), index, ...items.slice(at + 2)]
  }
  const out: SynthTrack[] = []
  if (vinyl) {
    const sides = items.length > 8 ? 4 : 2
    const perSide = Math.ceil(items.length / sides)
    for (let s = 0; s < sides; s++) {
      const side = items.slice(s * perSide, (s + 1) * perSide)
      if (!side.length) continue
      const letter = 'ABCD'[s]
      if (headings) out.push(heading(`${['This', 'That', 'Other', 'Last'][s]} Side`))
      side.forEach((t, j) => {
        t.position = side.length === 1 ? letter : `${letter}${j + 1}`
        t.subTracks.forEach((p, k) => (p.position = `${letter}${j + 1}${'abc'[k]}`))
        if (t.type === 'index') t.position = ''
        out.push(t)
      })
    }
  } else {
    items.forEach((t, j) => {
      t.position = String(j + 1)
      t.subTracks.forEach((p, k) => (p.position = `${j + 1}${'abc'[k]}`))
      if (t.type === 'index') t.position = ''
      out.push(t)
    })
  }
  return out
}

function heading(title: string): SynthTrack {
  return {
    position: '',
    title,
    durationS: null,
    type: 'heading',
    artists: [],
    credits: [],
    subTracks: [],
    render: null,
    soundArtistId: null,
  }
}

/** A later version of a master's main release: same recordings, new format, remastered sound. */
function reissue(
  rng: Rng,
  id: number,
  orig: SynthRelease,
  label: SynthLabel,
  catno: string,
  people: SynthArtist[],
  companies: SynthLabel[],
): SynthRelease {
  const year = Math.min(2024, orig.year + rng.int(3, 30))
  const vinyl = orig.formats[0].name === 'CD' ? rng.chance(0.5) : rng.chance(0.3)
  const remaster: Production = {
    ...orig.production,
    loudness: Math.min(-8, orig.production.loudness + rng.range(1, 5)),
    tilt: orig.production.tilt + rng.range(-1, 1.5),
    lowpass: orig.production.lowpass * rng.range(1, 1.3),
    drive: orig.production.drive * rng.range(1, 1.4),
    hiss: orig.production.hiss * 0.3,
  }
  const productionSeed = rng.fork('production-seed').int(0, 0xffffffff)
  const audible = flattenAudible(orig.tracks).map((t) => ({
    ...t,
    subTracks: [],
    render: { ...t.render!, production: remaster, productionSeed },
  }))
  const tracks = layoutTracklist(audible, vinyl, false, false)
  const engineer = rng.pick(people)
  return {
    ...orig,
    id,
    labels: [{ id: label.id, name: label.name, catno }],
    credits: [
      ...orig.credits.filter((c) => c.role !== 'Mastered By'),
      { artistId: engineer.id, name: engineer.name, role: 'Remastered By' },
    ],
    formats: [
      {
        name: vinyl ? 'Vinyl' : 'CD',
        qty: 1,
        text: 'Remastered',
        descriptions: vinyl
          ? ['LP', orig.kind === 'album' ? 'Album' : 'EP', 'Reissue', 'Remastered']
          : [orig.kind === 'album' ? 'Album' : 'EP', 'Reissue', 'Remastered'],
      },
    ],
    country: rng.pick(COUNTRIES),
    released: releasedDate(rng, year),
    year,
    notes: `Remastered reissue of the ${orig.year} original.\nOriginally released as ${orig.labels[0].catno} on ${orig.labels[0].name}.`,
    dataQuality: rng.pick(QUALITIES),
    isMainRelease: false,
    tracks,
    identifiers: year >= 1980 ? [{ type: 'Barcode', value: barcode(rng) }] : [],
    companies: [
      {
        id: companies[1].id,
        name: companies[1].name,
        catno: '',
        entityType: 29,
        entityTypeName: 'Mastered At',
      },
    ],
    production: remaster,
    reissueOf: orig.id,
  }
}

/**
 * A label's various-artists compilation: recordings taken from its own originals (same audio, the
 * compilation's mastering), each track credited to its artist at track level.
 */
function compilation(
  rng: Rng,
  id: number,
  label: SynthLabel,
  catno: string,
  originals: SynthRelease[],
  artists: SynthArtist[],
  crew: SynthArtist[],
  names: NameBook,
): SynthRelease {
  const own = originals.filter((r) => r.labels[0].id === label.id)
  const pool = (
    own.length >= 2 ? own : originals.filter((r) => r.genres[0] === (label.genre ?? r.genres[0]))
  ).flatMap((r) => flattenAudible(r.tracks).map((t) => ({ t, r })))
  const source = pool.length
    ? pool
    : originals.flatMap((r) => flattenAudible(r.tracks).map((t) => ({ t, r })))
  const picked = rng.sample(source, Math.min(source.length, rng.int(4, 8)))
  const styleNames = [...new Set(picked.map((p) => p.t.render!.style))]
  const genre = styleByName(styleNames[0]).genre
  const production = releaseProduction(rng.fork('production'), label, styleByName(styleNames[0]))
  const productionSeed = rng.fork('production-seed').int(0, 0xffffffff)
  const audible: SynthTrack[] = picked.map(({ t }) => {
    const artist = artists.find((a) => a.id === t.soundArtistId)!
    return {
      ...t,
      subTracks: [],
      // The compilation credits the recording's artist on the track, as the dumps do.
      artists: [{ artistId: artist.id, name: artist.name }],
      credits: t.credits.filter((c) => c.role === 'Remix'),
      render: { ...t.render!, production, productionSeed },
      title: t.title,
      soundArtistId: artist.id,
    }
  })
  const compiler = rng.pick(crew)
  const year = Math.max(...picked.map((p) => p.r.year)) + rng.int(0, 3)
  const title = names.unique(
    `${label.name} ${rng.pick(['Sampler', 'Selections', 'Collected', 'Volume'])} ${rng.int(1, 5)}`,
  )
  return {
    id,
    title,
    artists: [{ artistId: VARIOUS_ARTIST.id, name: VARIOUS_ARTIST.name }],
    labels: [{ id: label.id, name: label.name, catno }],
    series: [{ id: label.id, name: `${label.name} Compilations`, catno: `Vol. ${rng.int(1, 9)}` }],
    credits: [{ artistId: compiler.id, name: compiler.name, role: 'Compiled By' }],
    formats: [{ name: 'CD', qty: 1, text: '', descriptions: ['Compilation'] }],
    genres: [genre],
    styles: styleNames.slice(0, 3),
    country: rng.pick(COUNTRIES),
    released: releasedDate(rng, Math.min(2024, year)),
    year: Math.min(2024, year),
    notes: `Compiled by ${compiler.name}.\n"${label.name}" — a selection from the catalogue.`,
    dataQuality: rng.pick(QUALITIES),
    masterId: null,
    isMainRelease: false,
    tracks: layoutTracklist(audible, false, false, false),
    identifiers: [{ type: 'Barcode', value: barcode(rng) }],
    companies: [],
    production,
    kind: 'compilation',
    reissueOf: null,
  }
}

/** The tracks of a tracklist that carry audio, in order (sub-tracks in place of their index track). */
export function flattenAudible(tracks: SynthTrack[]): SynthTrack[] {
  const out: SynthTrack[] = []
  for (const t of tracks) {
    if (t.render) out.push(t)
    for (const s of t.subTracks) if (s.render) out.push(s)
  }
  return out
}

// ---------------------------------------------------------------- names and small values

class NameBook {
  private readonly seen = new Map<string, number>()
  /** Discogs disambiguates equal names with " (2)", " (3)"… */
  unique(name: string): string {
    const n = (this.seen.get(name) ?? 0) + 1
    this.seen.set(name, n)
    return n === 1 ? name : `${name} (${n})`
  }
}

function soloName(rng: Rng, genre: Genre): string {
  const r = rng.next()
  if (genre === 'Hip Hop' && r < 0.5) return `${rng.pick(['MC', 'DJ', 'Lil', 'Big'])} ${rng.pick(NOUNS)}`
  if (r < 0.35) return `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`
  if (r < 0.7) return `${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}`
  return `${rng.pick(NOUNS)}${rng.pick(['', ' & ', ' Of '])}${rng.pick(NOUNS)}`.replace(/(\S)(\S*)$/, '$1$2')
}

function groupName(rng: Rng): string {
  const r = rng.next()
  if (r < 0.4) return `The ${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}`
  if (r < 0.7)
    return `${rng.pick(LAST_NAMES)} ${rng.pick(['Quartet', 'Trio', 'Quintet', '& Co.', 'Ensemble'])}`
  return `${rng.pick(NOUNS)} ${rng.pick(['Club', 'Society', 'Machine', 'Kids', 'Union'])}`
}

function labelName(rng: Rng): string {
  return `${rng.pick(rng.chance(0.5) ? ADJECTIVES : NOUNS)} ${rng.pick(NOUNS)} ${rng.pick(LABEL_SUFFIXES)}`
}

function trackTitle(rng: Rng): string {
  const r = rng.next()
  if (r < 0.4) return `${rng.pick(TITLE_WORDS)} ${rng.pick(TITLE_WORDS)}`
  if (r < 0.7) return rng.pick(TITLE_WORDS)
  if (r < 0.85) return `${rng.pick(['The', 'A', 'No', 'In The'])} ${rng.pick(TITLE_WORDS)}`
  return `${rng.pick(TITLE_WORDS)} ${rng.pick(['Part 2', "'99", '(Dub)', '(Interlude)', '<Reprise>'])}`
}

function releaseTitle(rng: Rng): string {
  const r = rng.next()
  if (r < 0.5) return `${rng.pick(ADJECTIVES)} ${rng.pick(TITLE_WORDS)}`
  if (r < 0.8) return `${rng.pick(TITLE_WORDS)} ${rng.pick(['EP', 'Sessions', 'Vol. 1', 'Vol. 2', 'Works'])}`
  return rng.pick(TITLE_WORDS)
}

function releasedDate(rng: Rng, year: number): string {
  const r = rng.next()
  const mm = String(rng.int(1, 12)).padStart(2, '0')
  if (r < 0.2) return String(year)
  if (r < 0.45) return `${year}-${mm}-00`
  return `${year}-${mm}-${String(rng.int(1, 28)).padStart(2, '0')}`
}

function barcode(rng: Rng): string {
  let s = ''
  for (let i = 0; i < 12; i++) s += String(rng.int(0, 9))
  return s
}

function initials(name: string): string {
  return name
    .split(/\s+/)
    .map((w) => w.normalize('NFD').replace(/[^A-Za-z]/g, '')[0] ?? '')
    .join('')
    .toUpperCase()
    .slice(0, 4)
}

function slug(name: string): string {
  return name
    .normalize('NFD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
}

/**
 * The synthetic world's fixed vocabulary: real Discogs genres and styles, each style with the musical
 * traits the renderer turns into sound (tempo, groove, instrumentation), and the word lists names are
 * built from. Pure data.
 */

export const GENRES = ['Electronic', 'Rock', 'Jazz', 'Hip Hop'] as const
export type Genre = (typeof GENRES)[number]

/**
 * A 16-step drum grid per bar (4 beats × 4 sixteenths). 'X' accent, 'x' hit, 'o' ghost (soft),
 * '?' a hit half of the time (varies per bar), '.' rest.
 */
export interface DrumGrid {
  kick: string
  snare: string
  hat: string
  /** open hat or ride */
  ride?: string
}

export type BassKind = 'sub' | 'offbeat' | 'reese' | 'walking' | 'picked' | 'none'
export type ChordKind = 'pad' | 'stab' | 'power' | 'comp' | 'rhodes' | 'wash' | 'none'
export type LeadKind = 'arp' | 'melody' | 'horn' | 'bell' | 'none'

export interface StyleProfile {
  name: string
  genre: Genre
  tempo: readonly [number, number]
  /** delay of the off-beat subdivision, as a fraction of it (0 straight, 0.33 triplet swing) */
  swing: number
  /** subdivision swing applies to: 16ths (house, hip hop) or 8ths (jazz) */
  swingUnit: 8 | 16
  /** groove variants; null = no drums */
  drums: readonly DrumGrid[] | null
  kit: {
    /** kick start and end pitch (Hz) and decay (s) */
    kickHigh: number
    kickLow: number
    kickDecay: number
    /** snare body pitch (Hz), noise share (0–1), decay (s) */
    snareTone: number
    snareNoise: number
    snareDecay: number
    /** hat decay (s) and brightness (0 dull – 1 bright) */
    hatDecay: number
    hatBright: number
    /** brushes instead of sticks: long soft noise swishes */
    brushes?: boolean
  }
  bass: BassKind
  chords: ChordKind
  lead: LeadKind
  /** lead notes per beat (on average) */
  leadDensity: number
  /** chord voicing: 3 triad, 4 seventh, 5 ninth, 2 power (root + fifth) */
  chordSize: 2 | 3 | 4 | 5
  /** beats per chord */
  harmonicRhythm: number
  /** guitar-like drive on chords (0 clean – 1 fuzz) */
  distortion: number
  /** reverb send baseline (0–1) */
  reverb: number
  /** overall brightness (0 dark – 1 bright): the mix's low-pass */
  brightness: number
  /** vinyl crackle / hiss (0–1) */
  noise: number
  /** probability of minor tonality */
  minor: number
}

const FOUR = { kick: 'X...x...X...x...', snare: '................', hat: '..x...x...x...x.' }

export const STYLES: readonly StyleProfile[] = [
  {
    name: 'Techno',
    genre: 'Electronic',
    tempo: [124, 136],
    swing: 0,
    swingUnit: 16,
    drums: [
      {
        kick: 'X...X...X...X...',
        snare: '....o.......o..?',
        hat: 'xxoxxxoxxxoxxxox',
        ride: '..x...x...x...x.',
      },
      {
        kick: 'X...X...X...X..?',
        snare: '................',
        hat: 'x?x?x?x?x?x?x?x?',
        ride: '..x...x...x...x.',
      },
    ],
    kit: {
      kickHigh: 160,
      kickLow: 45,
      kickDecay: 0.35,
      snareTone: 210,
      snareNoise: 0.8,
      snareDecay: 0.12,
      hatDecay: 0.03,
      hatBright: 0.9,
    },
    bass: 'sub',
    chords: 'stab',
    lead: 'none',
    leadDensity: 0,
    chordSize: 3,
    harmonicRhythm: 16,
    distortion: 0.2,
    reverb: 0.25,
    brightness: 0.6,
    noise: 0,
    minor: 0.9,
  },
  {
    name: 'Deep House',
    genre: 'Electronic',
    tempo: [118, 124],
    swing: 0.18,
    swingUnit: 16,
    drums: [
      {
        kick: 'X...x...X...x...',
        snare: '....X.......X...',
        hat: '..x...x...x...x.',
        ride: 'o.o?o.o?o.o?o.o?',
      },
      {
        kick: 'X...x...X...x.o.',
        snare: '....X.......X...',
        hat: '..x.o.x...x.o.x.',
        ride: 'o?o?o?o?o?o?o?o?',
      },
    ],
    kit: {
      kickHigh: 120,
      kickLow: 50,
      kickDecay: 0.3,
      snareTone: 180,
      snareNoise: 0.9,
      snareDecay: 0.15,
      hatDecay: 0.05,
      hatBright: 0.6,
    },
    bass: 'picked',
    chords: 'rhodes',
    lead: 'bell',
    leadDensity: 0.5,
    chordSize: 4,
    harmonicRhythm: 8,
    distortion: 0,
    reverb: 0.35,
    brightness: 0.45,
    noise: 0.1,
    minor: 0.7,
  },
  {
    name: 'Ambient',
    genre: 'Electronic',
    tempo: [60, 90],
    swing: 0,
    swingUnit: 16,
    drums: null,
    kit: {
      kickHigh: 80,
      kickLow: 40,
      kickDecay: 0.5,
      snareTone: 150,
      snareNoise: 0.5,
      snareDecay: 0.3,
      hatDecay: 0.1,
      hatBright: 0.3,
    },
    bass: 'none',
    chords: 'pad',
    lead: 'bell',
    leadDensity: 0.25,
    chordSize: 4,
    harmonicRhythm: 16,
    distortion: 0,
    reverb: 0.8,
    brightness: 0.35,
    noise: 0.05,
    minor: 0.4,
  },
  {
    name: 'Drum n Bass',
    genre: 'Electronic',
    tempo: [168, 176],
    swing: 0,
    swingUnit: 16,
    drums: [
      { kick: 'X.........X.....', snare: '....X.......X..o', hat: 'x.x.x.x.x.x.x.x.' },
      { kick: 'X.........x..?..', snare: '....X..o.o..X...', hat: 'xoxxxoxxxoxxxoxx' },
    ],
    kit: {
      kickHigh: 140,
      kickLow: 50,
      kickDecay: 0.2,
      snareTone: 240,
      snareNoise: 0.6,
      snareDecay: 0.14,
      hatDecay: 0.025,
      hatBright: 1,
    },
    bass: 'reese',
    chords: 'pad',
    lead: 'none',
    leadDensity: 0,
    chordSize: 3,
    harmonicRhythm: 16,
    distortion: 0,
    reverb: 0.3,
    brightness: 0.7,
    noise: 0,
    minor: 0.9,
  },
  {
    name: 'Trance',
    genre: 'Electronic',
    tempo: [136, 142],
    swing: 0,
    swingUnit: 16,
    drums: [{ ...FOUR, snare: '....o.......o...', ride: 'x.x.x.x.x.x.x.x.' }],
    kit: {
      kickHigh: 150,
      kickLow: 48,
      kickDecay: 0.28,
      snareTone: 200,
      snareNoise: 0.9,
      snareDecay: 0.2,
      hatDecay: 0.06,
      hatBright: 0.8,
    },
    bass: 'offbeat',
    chords: 'pad',
    lead: 'arp',
    leadDensity: 4,
    chordSize: 3,
    harmonicRhythm: 8,
    distortion: 0,
    reverb: 0.45,
    brightness: 0.8,
    noise: 0,
    minor: 0.8,
  },
  {
    name: 'Punk',
    genre: 'Rock',
    tempo: [160, 200],
    swing: 0,
    swingUnit: 8,
    drums: [
      { kick: 'X...x...X...x...', snare: '....X.......X...', hat: 'x.x.x.x.x.x.x.x.' },
      { kick: 'X.x.X.x.X.x.X.x.', snare: '..X...X...X...X.', hat: 'x.x.x.x.x.x.x.x.' },
    ],
    kit: {
      kickHigh: 110,
      kickLow: 60,
      kickDecay: 0.15,
      snareTone: 190,
      snareNoise: 0.7,
      snareDecay: 0.16,
      hatDecay: 0.08,
      hatBright: 0.7,
    },
    bass: 'picked',
    chords: 'power',
    lead: 'none',
    leadDensity: 0,
    chordSize: 2,
    harmonicRhythm: 4,
    distortion: 0.9,
    reverb: 0.1,
    brightness: 0.75,
    noise: 0,
    minor: 0.3,
  },
  {
    name: 'Shoegaze',
    genre: 'Rock',
    tempo: [96, 126],
    swing: 0,
    swingUnit: 8,
    drums: [
      {
        kick: 'X.....x.X.......',
        snare: '....X.......X...',
        hat: 'x.x.x.x.x.x.x.x.',
        ride: 'x...............',
      },
    ],
    kit: {
      kickHigh: 100,
      kickLow: 55,
      kickDecay: 0.2,
      snareTone: 170,
      snareNoise: 0.8,
      snareDecay: 0.25,
      hatDecay: 0.2,
      hatBright: 0.5,
    },
    bass: 'picked',
    chords: 'wash',
    lead: 'melody',
    leadDensity: 0.5,
    chordSize: 3,
    harmonicRhythm: 8,
    distortion: 0.7,
    reverb: 0.75,
    brightness: 0.5,
    noise: 0,
    minor: 0.5,
  },
  {
    name: 'Indie Rock',
    genre: 'Rock',
    tempo: [108, 140],
    swing: 0,
    swingUnit: 8,
    drums: [
      { kick: 'X.....x.X.x.....', snare: '....X.......X...', hat: 'x.x.x.x.x.x.x.x.' },
      { kick: 'X.......X.x.....', snare: '....X.......X..o', hat: 'x.xox.x.x.xox.x.' },
    ],
    kit: {
      kickHigh: 105,
      kickLow: 55,
      kickDecay: 0.18,
      snareTone: 200,
      snareNoise: 0.6,
      snareDecay: 0.18,
      hatDecay: 0.06,
      hatBright: 0.6,
    },
    bass: 'picked',
    chords: 'comp',
    lead: 'melody',
    leadDensity: 1,
    chordSize: 3,
    harmonicRhythm: 4,
    distortion: 0.35,
    reverb: 0.25,
    brightness: 0.65,
    noise: 0,
    minor: 0.4,
  },
  {
    name: 'Bebop',
    genre: 'Jazz',
    tempo: [180, 260],
    swing: 0.33,
    swingUnit: 8,
    drums: [
      {
        kick: 'o.......?.......',
        snare: '......o?.....o..',
        hat: '....x.......x...',
        ride: 'x...x.x.x...x.x.',
      },
    ],
    kit: {
      kickHigh: 90,
      kickLow: 55,
      kickDecay: 0.2,
      snareTone: 220,
      snareNoise: 0.5,
      snareDecay: 0.1,
      hatDecay: 0.04,
      hatBright: 0.5,
    },
    bass: 'walking',
    chords: 'comp',
    lead: 'horn',
    leadDensity: 2,
    chordSize: 4,
    harmonicRhythm: 4,
    distortion: 0,
    reverb: 0.2,
    brightness: 0.55,
    noise: 0.15,
    minor: 0.3,
  },
  {
    name: 'Cool Jazz',
    genre: 'Jazz',
    tempo: [100, 150],
    swing: 0.28,
    swingUnit: 8,
    drums: [
      {
        kick: '................',
        snare: 'o...o...o...o...',
        hat: '....x.......x...',
        ride: 'x...x.x.x...x.x.',
      },
    ],
    kit: {
      kickHigh: 80,
      kickLow: 50,
      kickDecay: 0.25,
      snareTone: 200,
      snareNoise: 1,
      snareDecay: 0.35,
      hatDecay: 0.05,
      hatBright: 0.35,
      brushes: true,
    },
    bass: 'walking',
    chords: 'rhodes',
    lead: 'horn',
    leadDensity: 1,
    chordSize: 5,
    harmonicRhythm: 8,
    distortion: 0,
    reverb: 0.35,
    brightness: 0.4,
    noise: 0.1,
    minor: 0.5,
  },
  {
    name: 'Boom Bap',
    genre: 'Hip Hop',
    tempo: [84, 96],
    swing: 0.22,
    swingUnit: 16,
    drums: [
      { kick: 'X......x..X.....', snare: '....X.......X...', hat: 'x.x.x.x.x.x.x.x.' },
      { kick: 'X.x.......X..x..', snare: '....X.......X..o', hat: 'x?x?x?x?x?x?x?x?' },
    ],
    kit: {
      kickHigh: 110,
      kickLow: 50,
      kickDecay: 0.28,
      snareTone: 190,
      snareNoise: 0.85,
      snareDecay: 0.2,
      hatDecay: 0.04,
      hatBright: 0.55,
    },
    bass: 'sub',
    chords: 'stab',
    lead: 'none',
    leadDensity: 0,
    chordSize: 3,
    harmonicRhythm: 8,
    distortion: 0.15,
    reverb: 0.15,
    brightness: 0.45,
    noise: 0.5,
    minor: 0.75,
  },
  {
    name: 'Jazzy Hip-Hop',
    genre: 'Hip Hop',
    tempo: [80, 92],
    swing: 0.25,
    swingUnit: 16,
    drums: [{ kick: 'X.......x.X.....', snare: '....X.......X...', hat: 'x.xox.xox.xox.xo' }],
    kit: {
      kickHigh: 100,
      kickLow: 48,
      kickDecay: 0.3,
      snareTone: 180,
      snareNoise: 0.9,
      snareDecay: 0.22,
      hatDecay: 0.05,
      hatBright: 0.45,
    },
    bass: 'walking',
    chords: 'rhodes',
    lead: 'horn',
    leadDensity: 0.5,
    chordSize: 5,
    harmonicRhythm: 8,
    distortion: 0,
    reverb: 0.25,
    brightness: 0.4,
    noise: 0.4,
    minor: 0.6,
  },
]

export function styleByName(name: string): StyleProfile {
  const s = STYLES.find((x) => x.name === name)
  if (!s) throw new RangeError(`unknown style ${name}`)
  return s
}

export function stylesOfGenre(genre: Genre): StyleProfile[] {
  return STYLES.filter((s) => s.genre === genre)
}

// ---------------------------------------------------------------- words names are made of

export const FIRST_NAMES = [
  'Ada',
  'Bruno',
  'Céline',
  'Dmitri',
  'Elif',
  'Farid',
  'Greta',
  'Hiro',
  'Inès',
  'Jonas',
  'Kemi',
  'Lars',
  'Mira',
  'Nils',
  'Oona',
  'Pablo',
  'Quinn',
  'Rosa',
  'Sven',
  'Tamsin',
  'Ugo',
  'Vera',
  'Wes',
  'Yuki',
  'Zoë',
  'Björn',
  'Anaïs',
  'Marek',
  'Sofía',
  'Teodor',
] as const
export const LAST_NAMES = [
  'Albrecht',
  'Baptiste',
  'Castell',
  'Dahlgren',
  'Eklund',
  'Fontaine',
  'Grüner',
  'Haddad',
  'Ishikawa',
  'Jansen',
  'Kowalski',
  'Lindqvist',
  'Moreau',
  'Novak',
  "O'Hara",
  'Peralta',
  'Quist',
  'Rønning',
  'Sato',
  'Thorne',
  'Urban',
  'Vasquez',
  'Whitlock',
  'Yilmaz',
  'Zieliński',
] as const
export const ADJECTIVES = [
  'Silent',
  'Velvet',
  'Broken',
  'Electric',
  'Hollow',
  'Golden',
  'Frozen',
  'Crimson',
  'Distant',
  'Lucid',
  'Midnight',
  'Paper',
  'Static',
  'Tidal',
  'Urban',
  'Violet',
  'Wandering',
  'Neon',
  'Quiet',
  'Feral',
] as const
export const NOUNS = [
  'Harbour',
  'Circuit',
  'Garden',
  'Signal',
  'Orchard',
  'Engine',
  'Mirror',
  'Lantern',
  'Meridian',
  'Delta',
  'Comet',
  'Atlas',
  'Canyon',
  'Echo',
  'Fable',
  'Glacier',
  'Horizon',
  'Island',
  'Jungle',
  'Kingdom',
  'Motel',
  'Nebula',
  'Parade',
  'Rivers',
  'Satellite',
  'Tunnel',
  'Window',
  'Wolves',
  'Ruins',
  'Tides',
] as const
export const LABEL_SUFFIXES = [
  'Records',
  'Recordings',
  'Music',
  'Audio',
  'Sounds',
  'Tapes',
  'Editions',
] as const
export const STUDIO_SUFFIXES = ['Studios', 'Mastering', 'Sound Lab', 'Cutting Room'] as const
export const PRESSING_PLANTS = ['Optimal Media', 'GZ Media', 'MPO', 'Record Industry', 'Pallas'] as const
export const TITLE_WORDS = [
  'Night',
  'Drive',
  'Blue',
  'Morning',
  'Static',
  'Heart',
  'Glass',
  'Fire',
  'River',
  'Dust',
  'Gold',
  'Rain',
  'Shadow',
  'Light',
  'Stone',
  'Wire',
  'Bloom',
  'Ghost',
  'Summer',
  'Winter',
  'Ocean',
  'Pulse',
  'Machine',
  'Dream',
  'Mercury',
  'Velocity',
  'Haze',
  'Orbit',
  'Tokyo',
  'Zürich',
  'Café',
  'Déjà Vu',
  'Rock & Roll',
  'Nowhere',
  'Lullaby',
  'Avenue',
  'Circle',
  'Fever',
  'Satellite',
  'Echoes',
] as const
export const COUNTRIES = [
  'Germany',
  'UK',
  'US',
  'Netherlands',
  'Sweden',
  'France',
  'Japan',
  'Belgium',
  'Italy',
  'Canada',
] as const

/** Credits the dumps carry as extraartists, with how often the synthetic world uses them. */
export const RELEASE_ROLES = [
  'Producer',
  'Mastered By',
  'Mixed By',
  'Written-By',
  'Artwork By',
  'Photography By',
  'Engineer',
] as const
export const TRACK_ROLES = ['Remix', 'Featuring', 'Co-producer', 'Vocals', 'Saxophone', 'Guitar'] as const

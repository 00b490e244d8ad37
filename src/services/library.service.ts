import path from 'node:path'
import { audioContentType } from '../audio/content-types.ts'
import { SearchRepository } from '../db/repositories/search.repository.ts'
import {
  LibraryRepository,
  type AlbumOrder,
  type CreditRef,
  type LibraryCounts,
  type LibraryAlbumRow,
  type LibraryArtistRow,
  type LibrarySongRow,
  type SongFilter,
  type TagCount,
} from '../db/repositories/library.repository.ts'
import { wordsOf } from '../db/search-words.ts'
import type { Database } from '../db/database.ts'
import { BadInputError, NotFoundError } from '../errors.ts'

/**
 * The library: the catalog's tracks that have audio, as a music player sees them — songs with their album
 * (the Discogs release), artist, numbers, genre and file; albums; artists. What the Subsonic API serves.
 */

export interface Song {
  id: number
  title: string
  albumId: number
  album: string
  /** the track's own first artist on a compilation, else the release's first main artist */
  artistId: number | null
  artist: string
  track: number
  discNumber: number
  year: number | null
  /** the release's first style, else its first genre */
  genre: string | null
  /** seconds */
  duration: number
  size: number
  suffix: string
  contentType: string
  /** kbit/s over the whole file */
  bitRate: number | null
  channelCount: number | null
  samplingRate: number | null
  /** where the file is, as a player shows it: Artist/Album/NN Title.ext */
  path: string
  created: Date
}

export interface Album {
  id: number
  name: string
  artistId: number | null
  artist: string
  year: number | null
  genre: string | null
  songCount: number
  duration: number
  created: Date
}

export interface Artist {
  id: number
  name: string
  albumCount: number
}

export interface SearchInput {
  query: string
  artistCount: number
  artistOffset: number
  albumCount: number
  albumOffset: number
  songCount: number
  songOffset: number
}

export interface AlbumListInput {
  type: string
  size: number
  offset: number
  fromYear?: number
  toYear?: number
  genre?: string
  ownerKeyId?: number
}

const ALBUM_TYPES: Record<string, AlbumOrder | 'none'> = {
  random: 'random',
  newest: 'newest',
  alphabeticalByName: 'alphabeticalByName',
  alphabeticalByArtist: 'alphabeticalByArtist',
  byYear: 'byYear',
  byGenre: 'alphabeticalByName',
  recent: 'recent',
  frequent: 'frequent',
  // nothing is starred or rated in Discograph: these lists are empty
  starred: 'none',
  highest: 'none',
}

const SEARCH_CHECK_MS = 2000
const COUNTS_CACHE_MS = 30_000
const MAX_START_TRACKS = 50

export class LibraryService {
  private readonly library: LibraryRepository
  private readonly dictionary: SearchRepository

  private checkedAt: number | null = null
  private syncing: Promise<boolean> | null = null
  private checking: Promise<void> | null = null

  private cachedCounts: { counts: LibraryCounts; at: number } | null = null

  /** `searchCheckMs`: how long a search trusts that the search texts are current before looking again. */
  constructor(
    db: Database,
    private readonly options: { searchCheckMs?: number } = {},
  ) {
    this.library = new LibraryRepository(db.pool)
    this.dictionary = new SearchRepository(db.pool)
  }

  /** Counts of releases, artists, tracks and tracks with audio; cached briefly (every landing page asks). */
  async counts(): Promise<LibraryCounts> {
    if (this.cachedCounts && performance.now() - this.cachedCounts.at < COUNTS_CACHE_MS)
      return this.cachedCounts.counts
    const counts = await this.library.counts()
    this.cachedCounts = { counts, at: performance.now() }
    return counts
  }

  /** Up to `first` tracks with audio, picked at random (where to start listening). */
  startTracks(first: number): Promise<number[]> {
    if (!Number.isInteger(first) || first < 1 || first > MAX_START_TRACKS)
      throw new BadInputError(`must be an integer from 1 to ${MAX_START_TRACKS}`, 'first')
    return this.library.randomTracksWithAudio(first)
  }

  /** Library songs of these track ids, in the order given; ids not in the library are left out. */
  async songs(trackIds: readonly number[]): Promise<Song[]> {
    const rows = new Map((await this.library.songs(trackIds)).map((r) => [r.id, toSong(r)]))
    return trackIds.flatMap((id) => rows.get(id) ?? [])
  }

  async song(trackId: number): Promise<Song> {
    const [song] = await this.songs([trackId])
    if (!song) throw new NotFoundError('song', trackId)
    return song
  }

  async album(releaseId: number): Promise<{ album: Album; songs: Song[] }> {
    const [row] = await this.library.albums([releaseId])
    if (!row) throw new NotFoundError('album', releaseId)
    return { album: toAlbum(row), songs: (await this.library.albumSongs(releaseId)).map(toSong) }
  }

  async albums(releaseIds: readonly number[]): Promise<Album[]> {
    const rows = new Map((await this.library.albums(releaseIds)).map((r) => [r.id, toAlbum(r)]))
    return releaseIds.flatMap((id) => rows.get(id) ?? [])
  }

  /** Every artist with an album in the library, by name. */
  async artists(): Promise<Artist[]> {
    return (await this.library.artists())
      .map(toArtist)
      .sort((a, b) => sortName(a.name).localeCompare(sortName(b.name)) || a.id - b.id)
  }

  /** Library artists among these ids, in the order given. */
  async artistsById(ids: readonly number[]): Promise<Artist[]> {
    if (!ids.length) return []
    const rows = new Map((await this.library.artists(ids)).map((r) => [r.id, toArtist(r)]))
    return ids.flatMap((id) => rows.get(id) ?? [])
  }

  async artist(artistId: number): Promise<{ artist: Artist; albums: Album[] }> {
    const [row] = await this.library.artists([artistId])
    if (!row) throw new NotFoundError('artist', artistId)
    return { artist: toArtist(row), albums: (await this.library.artistAlbums(artistId)).map(toAlbum) }
  }

  /** The artist's Discogs profile and whether the artist is in the library. */
  async artistProfile(artistId: number): Promise<string | null> {
    await this.artist(artistId)
    return this.library.artistProfile(artistId)
  }

  async albumNotes(releaseId: number): Promise<string | null> {
    await this.album(releaseId)
    return this.library.releaseNotes(releaseId)
  }

  async artistSongs(artistId: number, limit: number): Promise<Song[]> {
    return (await this.library.artistSongs(artistId, checkCount(limit, 500, 'count'))).map(toSong)
  }

  /** An artist's most played songs (then the earliest releases'), the artist given by name as clients do. */
  async topSongs(artistName: string, count: number): Promise<Song[]> {
    checkCount(count, 500, 'count')
    const [id] = await this.library.artistIdsNamed(artistName.trim())
    return id === undefined ? [] : this.artistSongs(id, count)
  }

  async albumTrackIds(releaseId: number, limit = 100): Promise<number[]> {
    return this.library.albumTrackIds(releaseId, limit)
  }

  async randomSongs(size: number, filter: SongFilter): Promise<Song[]> {
    return (await this.library.randomSongs(checkCount(size, 500, 'size'), filter)).map(toSong)
  }

  async songsByGenre(genre: string, count: number, offset: number): Promise<Song[]> {
    return (await this.library.songsByGenre(genre, checkCount(count, 500, 'count'), checkOffset(offset))).map(
      toSong,
    )
  }

  /** getAlbumList2's lists. */
  async albumList(input: AlbumListInput): Promise<Album[]> {
    const order = ALBUM_TYPES[input.type]
    if (!order)
      throw new BadInputError(
        `unknown list type "${input.type}"; one of ${Object.keys(ALBUM_TYPES).join(', ')}`,
        'type',
      )
    if (order === 'none') return []
    if (input.type === 'byYear' && (input.fromYear === undefined || input.toYear === undefined))
      throw new BadInputError('byYear needs fromYear and toYear', 'fromYear')
    if (input.type === 'byGenre' && !input.genre) throw new BadInputError('byGenre needs genre', 'genre')
    const ids = await this.library.albumList({
      order,
      size: checkCount(input.size, 500, 'size'),
      offset: checkOffset(input.offset),
      fromYear: input.type === 'byYear' ? input.fromYear : undefined,
      toYear: input.type === 'byYear' ? input.toYear : undefined,
      genre: input.type === 'byGenre' ? input.genre : undefined,
      ownerKeyId: input.ownerKeyId,
    })
    return this.albums(ids)
  }

  /** Styles and genres (Discogs' two levels) with the library's song and album counts. */
  genres(): Promise<TagCount[]> {
    return this.library.tags()
  }

  /**
   * Artists, albums and songs matching a query: rows holding a word beginning with each word of it (so a
   * query being typed finds), ranked as the catalog's search ranks. When nothing matches the words as typed,
   * each word may also be one the catalog's dictionary has like it (a typo, SearchRepository.wordAlternatives).
   */
  async search(input: SearchInput): Promise<{ artists: Artist[]; albums: Album[]; songs: Song[] }> {
    const query = input.query
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .trim()
    if (query.length > 200) throw new BadInputError('must have at most 200 characters', 'query')
    const words = wordsOf(query).slice(0, 8)
    const counts = {
      artistCount: checkCount(input.artistCount, 500, 'artistCount', true),
      albumCount: checkCount(input.albumCount, 500, 'albumCount', true),
      songCount: checkCount(input.songCount, 500, 'songCount', true),
    }
    const run = (patterns: string[]) => this.searchWith(query, patterns, input, counts)
    const found = await run(words.map((w) => `\\m${w}`))
    if (!words.length || found.artists.length + found.albums.length + found.songs.length > 0) return found
    const likes = await this.dictionary.wordAlternatives(words)
    if (likes.every((l) => l.length === 1)) return found
    return run(likes.map(([word, ...alike]) => `\\m(?:${[word, ...alike.map((w) => `${w}\\M`)].join('|')})`))
  }

  private async searchWith(
    query: string,
    patterns: string[],
    input: SearchInput,
    counts: { artistCount: number; albumCount: number; songCount: number },
  ) {
    await this.currentSearchTexts()
    const page = (count: number, offset: number) => ({ query, patterns, count, offset: checkOffset(offset) })
    const [artists, albums, songs] = await Promise.all([
      counts.artistCount ? this.library.search('artist', page(counts.artistCount, input.artistOffset)) : [],
      counts.albumCount ? this.library.search('album', page(counts.albumCount, input.albumOffset)) : [],
      counts.songCount ? this.library.search('song', page(counts.songCount, input.songOffset)) : [],
    ])
    const [a, b, c] = await Promise.all([this.artistsById(artists), this.albums(albums), this.songs(songs)])
    return { artists: a, albums: b, songs: c }
  }

  /**
   * Keeps the search texts in step with the library (LibraryRepository.syncSearch), looking at most once per
   * `searchCheckMs` (default 2 s). Only a search before the texts were ever made waits for them; when the
   * library changed since, the search uses the texts as they are while they are made again in the
   * background (answers are read from the live catalog, so an unlinked song is never answered): making them
   * for 20,000 songs took seconds (docs/BENCHMARKS.md), and an audio import changes the library all along.
   */
  private currentSearchTexts(): Promise<void> {
    // searches meanwhile share the look in flight (and the first making, which they must wait for)
    if (this.checking) return this.checking
    const now = performance.now()
    if (this.checkedAt !== null && now - this.checkedAt < (this.options.searchCheckMs ?? SEARCH_CHECK_MS))
      return Promise.resolve()
    this.checkedAt = now
    this.checking = this.checkSearchTexts().finally(() => (this.checking = null))
    return this.checking
  }

  private async checkSearchTexts(): Promise<void> {
    const [signature, made] = await Promise.all([this.library.signature(), this.library.searchSignature()])
    if (signature === made) return
    const sync = (this.syncing ??= this.library.syncSearch(signature).finally(() => (this.syncing = null)))
    const failed = () => (this.checkedAt = null) // retried by the next search
    if (made !== null) return void sync.catch(failed)
    // nothing to search before the texts were ever made: this look, and every search meanwhile, waits
    try {
      await sync
    } catch (err) {
      failed()
      throw err
    }
  }

  /** Makes the search texts now if they are missing or stale, in the background (the server's first request). */
  warmSearch(): void {
    this.currentSearchTexts().catch(() => (this.checkedAt = null))
  }

  /** The file to stream for a library song, with its MIME type. */
  async audioFile(trackId: number): Promise<{ path: string; contentType: string }> {
    const file = await this.library.audioFile(trackId)
    if (!file) throw new NotFoundError('audio of song', trackId)
    return { path: file.path, contentType: audioContentType(file.path) }
  }

  lastModified(): Promise<Date | null> {
    return this.library.lastModified()
  }

  size(): Promise<number> {
    return this.library.size()
  }
}

/** A Discogs artist name without its disambiguation suffix: "John Smith (2)" → "John Smith". */
export function displayName(name: string): string {
  return name.replace(/\s+\(\d+\)$/, '')
}

/** How credits read together, with Discogs' join strings: "A & B feat. C". */
export function creditDisplay(credits: readonly CreditRef[]): string {
  return credits
    .map((c, i) => {
      const join = i < credits.length - 1 ? c.join?.trim() || ',' : ''
      return displayName(c.name) + (join === ',' ? ', ' : join ? ` ${join} ` : '')
    })
    .join('')
    .trim()
}

/**
 * Disc and track numbers from a Discogs position and the track's place in the release: "2-05", "CD2-5" and
 * "2.5" name the disc; other positions ("A1", "B2", "7") are numbered by their place, on disc 1.
 */
export function discAndTrack(position: string | null, ordinal: number): { disc: number; track: number } {
  const m = position ? /^(?:cd|dvd|disc|disk)?\s*(\d+)\s*[-.]\s*(\d+)$/i.exec(position.trim()) : null
  if (m) return { disc: Number(m[1]), track: Number(m[2]) }
  return { disc: 1, track: ordinal }
}

/** A name for sorting: without a leading article, lower-cased. */
function sortName(name: string): string {
  return name.replace(/^(the|a|an)\s+/i, '').toLowerCase()
}

function toArtist(r: LibraryArtistRow): Artist {
  return { id: r.id, name: displayName(r.name), albumCount: r.albums }
}

function mainArtist(credits: CreditRef[] | null): { id: number | null; name: string } {
  if (!credits?.length) return { id: null, name: '' }
  return { id: credits.find((c) => c.id !== null)?.id ?? null, name: creditDisplay(credits) }
}

function toAlbum(r: LibraryAlbumRow): Album {
  const artist = mainArtist(r.releaseArtists)
  return {
    id: r.id,
    name: r.title,
    artistId: artist.id,
    artist: artist.name,
    year: r.year || null,
    genre: r.style ?? r.genre,
    songCount: r.songs,
    duration: r.duration,
    created: r.created,
  }
}

function toSong(r: LibrarySongRow): Song {
  const artist = mainArtist(r.trackArtists?.length ? r.trackArtists : r.releaseArtists)
  const { disc, track } = discAndTrack(r.position, r.ordinal)
  const duration = Math.round(r.fileDuration ?? r.trackDuration ?? 0)
  const suffix = path.extname(r.path).slice(1).toLowerCase()
  const title = r.title || `Track ${track}`
  const albumArtist = mainArtist(r.releaseArtists).name || artist.name
  return {
    id: r.id,
    title,
    albumId: r.albumId,
    album: r.album,
    artistId: artist.id,
    artist: artist.name,
    track,
    discNumber: disc,
    year: r.year || null,
    genre: r.style ?? r.genre,
    duration,
    size: r.size,
    suffix,
    contentType: audioContentType(r.path),
    bitRate: duration > 0 ? Math.round((r.size * 8) / duration / 1000) : null,
    channelCount: r.channels,
    samplingRate: r.sampleRate,
    path: `${safeSegment(albumArtist)}/${safeSegment(r.album)}/${String(track).padStart(2, '0')} ${safeSegment(title)}.${suffix}`,
    created: r.created,
  }
}

function safeSegment(s: string): string {
  return s.replace(/[/\\]/g, '_') || '_'
}

function checkCount(n: number, max: number, field: string, zeroAllowed = false): number {
  if (!Number.isInteger(n) || n < (zeroAllowed ? 0 : 1) || n > max)
    throw new BadInputError(`must be an integer from ${zeroAllowed ? 0 : 1} to ${max}`, field)
  return n
}

function checkOffset(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 100_000)
    throw new BadInputError('must be an integer from 0 to 100000', 'offset')
  return n
}

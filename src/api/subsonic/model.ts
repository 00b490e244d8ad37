import type http from 'node:http'
import type { Logger } from '../../logger.ts'
import type { Album, Artist, Song } from '../../services/library.service.ts'
import type { LibraryService } from '../../services/library.service.ts'
import type { PlaylistService } from '../../services/playlist.service.ts'
import type { ScrobbleService } from '../../services/scrobble.service.ts'
import type { SimilarityService } from '../../services/similarity.service.ts'
import type { SonicService } from '../../services/sonic.service.ts'
import type { KeyViewer } from './auth.ts'
import type { Body, Format } from './envelope.ts'
import { albumId, artistId, songId } from './ids.ts'
import type { Params } from './params.ts'

/** What a method's handler works with. */
export interface SubsonicServices {
  library: LibraryService
  playlists: PlaylistService
  scrobbles: ScrobbleService
  sonic: SonicService
  similarity: SimilarityService
}

export interface Call {
  params: Params
  viewer: KeyViewer
  services: SubsonicServices
  req: http.IncomingMessage
  res: http.ServerResponse
  format: Format
  logger: Logger
}

/** A handler's answer: the body's fields, or STREAMED when it wrote the response itself (media). */
export const STREAMED = Symbol('streamed')
export type Handler = (call: Call) => Promise<Body | typeof STREAMED>

/** An artist's id, absent where the song or album has no one artist (the spec's attributes are optional, not nullable). */
export const artistRef = (id: number | null) => (id === null ? undefined : artistId(id))

/** Year and genre, absent where unknown. */
const yearAndGenre = (x: { year: number | null; genre: string | null }) => ({
  year: x.year ?? undefined,
  genre: x.genre ?? undefined,
})

/** A song as the spec's `Child` (a file, never a directory), with OpenSubsonic's mediaType and displayArtist. */
export function child(s: Song): Body {
  return {
    id: songId(s.id),
    parent: albumId(s.albumId),
    isDir: false,
    title: s.title,
    album: s.album,
    artist: s.artist,
    track: s.track,
    ...yearAndGenre(s),
    size: s.size,
    contentType: s.contentType,
    suffix: s.suffix,
    duration: s.duration,
    bitRate: s.bitRate ?? undefined,
    samplingRate: s.samplingRate ?? undefined,
    channelCount: s.channelCount ?? undefined,
    path: s.path,
    isVideo: false,
    discNumber: s.discNumber,
    created: s.created,
    albumId: albumId(s.albumId),
    artistId: artistRef(s.artistId),
    type: 'music',
    mediaType: 'song',
    displayArtist: s.artist,
  }
}

/** An album as `AlbumID3`. */
export function albumID3(a: Album): Body {
  return {
    id: albumId(a.id),
    name: a.name,
    artist: a.artist,
    artistId: artistRef(a.artistId),
    songCount: a.songCount,
    duration: a.duration,
    created: a.created,
    ...yearAndGenre(a),
    displayArtist: a.artist,
  }
}

/** An album as a directory `Child` (getMusicDirectory, getAlbumList). */
export function albumChild(a: Album): Body {
  return {
    id: albumId(a.id),
    parent: artistRef(a.artistId),
    isDir: true,
    title: a.name,
    album: a.name,
    artist: a.artist,
    ...yearAndGenre(a),
    duration: a.duration,
    created: a.created,
  }
}

/** An artist as `ArtistID3`. */
export function artistID3(a: Artist): Body {
  return { id: artistId(a.id), name: a.name, albumCount: a.albumCount }
}

/** Artists grouped by the first letter of their sort name ('#' for the rest), as getArtists and getIndexes list them. */
export const IGNORED_ARTICLES = 'The A An'

export function byInitial<T extends { name: string }>(artists: readonly T[]): { name: string; items: T[] }[] {
  const groups = new Map<string, T[]>()
  for (const a of artists) {
    const first = a.name
      .replace(/^(the|a|an)\s+/i, '')
      .charAt(0)
      .toUpperCase()
    const key = /\p{L}/u.test(first) ? first.normalize('NFD').charAt(0) : '#'
    const group = groups.get(key)
    if (group) group.push(a)
    else groups.set(key, [a])
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a === '#' ? 1 : b === '#' ? -1 : a.localeCompare(b)))
    .map(([name, items]) => ({ name, items }))
}

import { NotFoundError } from '../../errors.ts'
import type { Song } from '../../services/library.service.ts'
import type { SonicMatch } from '../../services/sonic.service.ts'
import { parseId, idOf } from './ids.ts'
import { child, type Call, type Handler } from './model.ts'

/** The seeds an id stands for: a song, an album's songs, an artist's songs (at most 100). */
async function seedsOf({ services }: Call, id: string): Promise<number[]> {
  const parsed = parseId(id)
  if (parsed.kind === 'tr') return [(await services.library.song(parsed.id)).id]
  if (parsed.kind === 'al') return services.library.albumTrackIds(parsed.id)
  if (parsed.kind === 'ar') return (await services.library.artistSongs(parsed.id, 100)).map((s) => s.id)
  throw new NotFoundError('song, album or artist', id)
}

/**
 * Songs that sound like the seeds, by other artists (as the web UI's default). A library without vectors,
 * or seeds without them, has no similar songs: an empty list, which players take as "nothing to add".
 */
async function similarSongs(call: Call): Promise<Song[]> {
  const seeds = await seedsOf(call, call.params.required('id'))
  try {
    const matches = await call.services.sonic.similarSongs(seeds, call.params.int('count', 50), {
      otherArtists: true,
    })
    return call.services.library.songs(matches.map((m) => m.trackId))
  } catch (err) {
    if (err instanceof NotFoundError) return []
    throw err
  }
}

/** OpenSubsonic's `sonicMatch`: the song's Child with `distance` (0 = same direction, 1 = opposite) and our `similarity` (1 − distance). */
async function sonicMatches(call: Call, matches: SonicMatch[]) {
  const songs = new Map(
    (await call.services.library.songs(matches.map((m) => m.trackId))).map((s) => [s.id, s]),
  )
  return matches.flatMap((m) => {
    const song = songs.get(m.trackId)
    return song
      ? [{ ...child(song), distance: round(1 - m.similarity), similarity: round(m.similarity) }]
      : []
  })
}

const round = (x: number) => Math.round(x * 1e6) / 1e6

export const similarityHandlers: Record<string, Handler> = {
  getSimilarSongs: async (call) => ({ similarSongs: { song: (await similarSongs(call)).map(child) } }),
  getSimilarSongs2: async (call) => ({ similarSongs2: { song: (await similarSongs(call)).map(child) } }),

  /** The nearest songs by sound alone (the same artist's included). A song without a vector is "not found". */
  getSonicSimilarTracks: async (call) => {
    const id = idOf('tr', call.params.required('id'))
    await call.services.library.song(id)
    const matches = await call.services.sonic.similarSongs([id], call.params.int('count', 10), {
      otherArtists: false,
    })
    return { sonicSimilarTracksResult: { sonicMatch: await sonicMatches(call, matches) } }
  },

  /** A path from startSongId to endSongId of at most `count` songs, both ends included (SonicService.trackPath). */
  findSonicPath: async (call) => {
    const from = idOf('tr', call.params.required('startSongId'))
    const to = idOf('tr', call.params.required('endSongId'))
    await Promise.all([call.services.library.song(from), call.services.library.song(to)])
    const path = await call.services.sonic.trackPath(from, to, call.params.int('count', 25))
    return { findSonicPathResult: { sonicMatch: await sonicMatches(call, path) } }
  },
}

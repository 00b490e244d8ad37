import { NotFoundError } from '../../errors.ts'
import type { Artist } from '../../services/library.service.ts'
import { albumId, artistId, idOf, parseId } from './ids.ts'
import {
  albumChild,
  albumID3,
  artistID3,
  artistRef,
  byInitial,
  child,
  IGNORED_ARTICLES,
  type Handler,
} from './model.ts'

/** The artists by initial, as getArtists and getIndexes list them. */
const artistIndex = (artists: readonly Artist[]) =>
  byInitial(artists).map((g) => ({ name: g.name, artist: g.items.map(artistID3) }))

/** Discogs' release notes of an album (getAlbumInfo and getAlbumInfo2 answer the same). */
const albumInfo: Handler = async ({ params, services }) => ({
  albumInfo: { notes: (await services.library.albumNotes(idOf('al', params.required('id')))) ?? undefined },
})

export const browsingHandlers: Record<string, Handler> = {
  getArtists: async ({ services }) => ({
    artists: { ignoredArticles: IGNORED_ARTICLES, index: artistIndex(await services.library.artists()) },
  }),

  /** The folder view of the same artists (clients that browse by folder). */
  getIndexes: async ({ services }) => {
    const [artists, modified] = await Promise.all([
      services.library.artists(),
      services.library.lastModified(),
    ])
    return {
      indexes: {
        lastModified: modified?.getTime() ?? 0,
        ignoredArticles: IGNORED_ARTICLES,
        index: artistIndex(artists),
      },
    }
  },

  /** Folders: an artist holds albums, an album holds songs. */
  getMusicDirectory: async ({ params, services }) => {
    const id = parseId(params.required('id'))
    if (id.kind === 'ar') {
      const { artist, albums } = await services.library.artist(id.id)
      return { directory: { id: artistId(artist.id), name: artist.name, child: albums.map(albumChild) } }
    }
    if (id.kind === 'al') {
      const { album, songs } = await services.library.album(id.id)
      return {
        directory: {
          id: albumId(album.id),
          parent: artistRef(album.artistId),
          name: album.name,
          child: songs.map(child),
        },
      }
    }
    throw new NotFoundError('directory', params.required('id'))
  },

  getArtist: async ({ params, services }) => {
    const { artist, albums } = await services.library.artist(idOf('ar', params.required('id')))
    return { artist: { ...artistID3(artist), album: albums.map(albumID3) } }
  },

  getAlbum: async ({ params, services }) => {
    const { album, songs } = await services.library.album(idOf('al', params.required('id')))
    return { album: { ...albumID3(album), song: songs.map(child) } }
  },

  getSong: async ({ params, services }) => ({
    song: child(await services.library.song(idOf('tr', params.required('id')))),
  }),

  /** Discogs' styles and genres, each with the library's song and album counts. */
  getGenres: async ({ services }) => ({
    genres: {
      genre: (await services.library.genres()).map((g) => ({
        value: g.name,
        songCount: g.songs,
        albumCount: g.albums,
      })),
    },
  }),

  getArtistInfo2: async (call) => ({ artistInfo2: await artistInfo(call) }),
  getArtistInfo: async (call) => ({ artistInfo: await artistInfo(call) }),

  getAlbumInfo2: albumInfo,
  getAlbumInfo: albumInfo,

  getTopSongs: async ({ params, services }) => ({
    topSongs: {
      song: (await services.library.topSongs(params.required('artist'), params.int('count', 50))).map(child),
    },
  }),
}

/**
 * The artist's Discogs profile as the biography, and similar artists from the centroids of their tracks'
 * vectors (SimilarityService.similarArtists), those in the library only. An artist
 * without a centroid (no vectors yet) has none.
 */
async function artistInfo({ params, services }: Parameters<Handler>[0]) {
  const id = idOf('ar', params.required('id'))
  const count = params.int('count', 20)
  const biography = await services.library.artistProfile(id)
  let similarArtist: ReturnType<typeof artistID3>[] = []
  try {
    const model = await services.sonic.model()
    const near = await services.similarity.similarArtists({
      id,
      model: model.id,
      first: Math.min(200, Math.max(count * 3, count)),
      pairs: 0,
    })
    const inLibrary = await services.library.artistsById(near.map((n) => n.id))
    similarArtist = inLibrary.slice(0, count).map(artistID3)
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err
  }
  return { biography: biography ?? undefined, similarArtist }
}

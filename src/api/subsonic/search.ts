import { albumID3, artistID3, child, type Handler } from './model.ts'

export const searchHandlers: Record<string, Handler> = {
  /** The library's ranked search (LibraryService.search); an empty query ("" too) lists everything, by name. */
  search3: async ({ params, services }) => {
    const found = await services.library.search({
      query: params.get('query') ?? '',
      artistCount: params.int('artistCount', 20),
      artistOffset: params.int('artistOffset', 0),
      albumCount: params.int('albumCount', 20),
      albumOffset: params.int('albumOffset', 0),
      songCount: params.int('songCount', 20),
      songOffset: params.int('songOffset', 0),
    })
    return {
      searchResult3: {
        artist: found.artists.map(artistID3),
        album: found.albums.map(albumID3),
        song: found.songs.map(child),
      },
    }
  },
}

import type { Call, Handler } from './model.ts'
import { albumChild, albumID3, child } from './model.ts'

function albumListInput({ params, viewer }: Call) {
  return {
    type: params.required('type'),
    size: params.int('size', 10),
    offset: params.int('offset', 0),
    fromYear: params.int('fromYear'),
    toYear: params.int('toYear'),
    genre: params.get('genre'),
    ownerKeyId: viewer.keyId,
  }
}

export const listHandlers: Record<string, Handler> = {
  getAlbumList2: async (call) => ({
    albumList2: { album: (await call.services.library.albumList(albumListInput(call))).map(albumID3) },
  }),
  getAlbumList: async (call) => ({
    albumList: { album: (await call.services.library.albumList(albumListInput(call))).map(albumChild) },
  }),

  getRandomSongs: async ({ params, services }) => ({
    randomSongs: {
      song: (
        await services.library.randomSongs(params.int('size', 10), {
          genre: params.get('genre'),
          fromYear: params.int('fromYear'),
          toYear: params.int('toYear'),
        })
      ).map(child),
    },
  }),

  getSongsByGenre: async ({ params, services }) => ({
    songsByGenre: {
      song: (
        await services.library.songsByGenre(
          params.required('genre'),
          params.int('count', 10),
          params.int('offset', 0),
        )
      ).map(child),
    },
  }),

  // Nothing is starred in Discograph, and no one is playing now as far as it knows: empty, not an error,
  // since clients ask for these on their home screens.
  getStarred2: async () => ({ starred2: {} }),
  getStarred: async () => ({ starred: {} }),
  getNowPlaying: async () => ({ nowPlaying: {} }),
}

import type { PlaylistRow } from '../../services/playlist.service.ts'
import { idOf, playlistId } from './ids.ts'
import { child, type Call, type Handler } from './model.ts'

function playlist(p: PlaylistRow, viewerKeyId: number) {
  return {
    id: playlistId(p.id),
    name: p.name,
    comment: p.comment ?? undefined,
    owner: p.owner,
    public: p.public,
    songCount: p.songCount,
    duration: p.duration,
    created: p.created,
    changed: p.changed,
    readonly: p.ownerKeyId !== viewerKeyId,
  }
}

async function withSongs(call: Call, id: number) {
  const { playlist: p, trackIds } = await call.services.playlists.get(call.viewer.keyId, id)
  const songs = await call.services.library.songs(trackIds)
  return { playlist: { ...playlist(p, call.viewer.keyId), entry: songs.map(child) } }
}

const songIds = (call: Call, name: string) => call.params.all(name).map((id) => idOf('tr', id))

export const playlistHandlers: Record<string, Handler> = {
  getPlaylists: async ({ services, viewer }) => ({
    playlists: {
      playlist: (await services.playlists.list(viewer.keyId)).map((p) => playlist(p, viewer.keyId)),
    },
  }),

  getPlaylist: async (call) => withSongs(call, idOf('pl', call.params.required('id'))),

  /** A new playlist (name), or with playlistId the songs of one of the key's own replaced. Answers the playlist (since 1.14). */
  createPlaylist: async (call) => {
    const songs = songIds(call, 'songId')
    const existing = call.params.get('playlistId')
    if (existing) {
      const id = idOf('pl', existing)
      await call.services.playlists.replace(call.viewer.keyId, id, songs, call.params.get('name'))
      return withSongs(call, id)
    }
    return withSongs(
      call,
      await call.services.playlists.create(call.viewer.keyId, call.params.required('name'), songs),
    )
  },

  updatePlaylist: async (call) => {
    const { params } = call
    await call.services.playlists.update(call.viewer.keyId, idOf('pl', params.required('playlistId')), {
      name: params.get('name'),
      comment: params.get('comment'),
      public: params.has('public') ? params.bool('public', false) : undefined,
      add: songIds(call, 'songIdToAdd'),
      removeIndexes: params.ints('songIndexToRemove'),
    })
    return {}
  },

  deletePlaylist: async ({ params, services, viewer }) => {
    await services.playlists.delete(viewer.keyId, idOf('pl', params.required('id')))
    return {}
  },
}

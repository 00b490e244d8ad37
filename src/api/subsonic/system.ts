import { ErrorCode, SubsonicError } from './envelope.ts'
import type { Handler } from './model.ts'

/** The OpenSubsonic extensions Discograph speaks, with their versions. */
export const EXTENSIONS = [
  { name: 'apiKeyAuthentication', versions: [1] },
  { name: 'formPost', versions: [1] },
  { name: 'sonicSimilarity', versions: [1] },
]

export const MUSIC_FOLDER = { id: 1, name: 'Discograph library' }

/** Answered without credentials (the spec: clients ask before they know how to log in). */
export const openSubsonicExtensions = () => ({ openSubsonicExtensions: EXTENSIONS })

export const systemHandlers: Record<string, Handler> = {
  // clients check credentials with ping: it answers only once the key is known
  ping: async () => ({}),
  getLicense: async () => ({ license: { valid: true } }),
  getMusicFolders: async () => ({ musicFolders: { musicFolder: [MUSIC_FOLDER] } }),
  /** The caller, as a user: a key reads, streams and keeps playlists; an admin key is an admin. */
  getUser: async ({ params, viewer }) => {
    const username = params.get('username')
    if (username !== undefined && username !== viewer.keyName && username !== params.get('u'))
      throw new SubsonicError(ErrorCode.notAuthorized, 'an API key can only read its own user')
    return {
      user: {
        username: username ?? viewer.keyName,
        scrobblingEnabled: true,
        adminRole: viewer.role === 'admin',
        settingsRole: false,
        downloadRole: true,
        uploadRole: false,
        playlistRole: true,
        coverArtRole: false,
        commentRole: false,
        podcastRole: false,
        streamRole: true,
        jukeboxRole: false,
        shareRole: false,
        videoConversionRole: false,
        folder: [MUSIC_FOLDER.id],
      },
    }
  },
  getScanStatus: async ({ services }) => ({
    scanStatus: { scanning: false, count: await services.library.size() },
  }),
}

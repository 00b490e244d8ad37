import type pg from 'pg'
import { PlaylistRepository, type PlaylistRow } from '../db/repositories/playlist.repository.ts'
import { BadInputError, NotFoundError } from '../errors.ts'
import { ForbiddenError } from './auth.service.ts'

export type { PlaylistRow }

/**
 * Playlists: each belongs to the API key that made it (a key is who someone is to Discograph). The owner
 * reads and changes it; others read it only when it is public, and never change it.
 */

export interface PlaylistChange {
  name?: string
  comment?: string
  public?: boolean
  /** track ids to append, in order */
  add?: number[]
  /** 0-based positions to remove (of the list before this change) */
  removeIndexes?: number[]
}

const MAX_TRACKS = 5000
const MAX_NAME = 500

export class PlaylistService {
  private readonly playlists: PlaylistRepository

  constructor(pool: pg.Pool) {
    this.playlists = new PlaylistRepository(pool)
  }

  /** The key's playlists and everyone's public ones. */
  list(ownerKeyId: number): Promise<PlaylistRow[]> {
    return this.playlists.list(ownerKeyId, true)
  }

  /** A playlist the key may read, with its track ids in order. */
  async get(ownerKeyId: number, id: number): Promise<{ playlist: PlaylistRow; trackIds: number[] }> {
    const playlist = await this.readable(ownerKeyId, id)
    return { playlist, trackIds: await this.playlists.trackIds(id) }
  }

  async create(ownerKeyId: number, name: string, trackIds: number[]): Promise<number> {
    await this.checkTracks(trackIds)
    return this.playlists.create(ownerKeyId, checkName(name), trackIds)
  }

  /** Replaces the tracks (and the name when given) of the key's own playlist: createPlaylist with an id. */
  async replace(ownerKeyId: number, id: number, trackIds: number[], name?: string): Promise<void> {
    await this.owned(ownerKeyId, id)
    await this.checkTracks(trackIds)
    await this.playlists.update(id, { name: name === undefined ? undefined : checkName(name), trackIds })
  }

  async update(ownerKeyId: number, id: number, change: PlaylistChange): Promise<void> {
    await this.owned(ownerKeyId, id)
    let trackIds: number[] | undefined
    if (change.add?.length || change.removeIndexes?.length) {
      const current = await this.playlists.trackIds(id)
      const remove = new Set(change.removeIndexes ?? [])
      for (const i of remove)
        if (!Number.isInteger(i) || i < 0 || i >= current.length)
          throw new BadInputError(
            `no song at index ${i} (the playlist has ${current.length})`,
            'songIndexToRemove',
          )
      await this.checkTracks(change.add ?? [])
      trackIds = [...current.filter((_, i) => !remove.has(i)), ...(change.add ?? [])]
      if (trackIds.length > MAX_TRACKS)
        throw new BadInputError(`a playlist holds at most ${MAX_TRACKS} songs`, 'songIdToAdd')
    }
    await this.playlists.update(id, {
      name: change.name === undefined ? undefined : checkName(change.name),
      comment: change.comment,
      public: change.public,
      trackIds,
    })
  }

  async delete(ownerKeyId: number, id: number): Promise<void> {
    await this.owned(ownerKeyId, id)
    await this.playlists.delete(id)
  }

  private async readable(ownerKeyId: number, id: number): Promise<PlaylistRow> {
    const p = await this.playlists.get(id)
    if (!p || (p.ownerKeyId !== ownerKeyId && !p.public)) throw new NotFoundError('playlist', id)
    return p
  }

  private async owned(ownerKeyId: number, id: number): Promise<PlaylistRow> {
    const p = await this.readable(ownerKeyId, id)
    if (p.ownerKeyId !== ownerKeyId)
      throw new ForbiddenError(`playlist ${id} belongs to ${p.owner}; only its owner may change it`)
    return p
  }

  private async checkTracks(trackIds: number[]): Promise<void> {
    if (trackIds.length > MAX_TRACKS)
      throw new BadInputError(`a playlist holds at most ${MAX_TRACKS} songs`, 'songId')
    if (!trackIds.length) return
    const found = await this.playlists.existingTracks(trackIds)
    const missing = trackIds.filter((id) => !found.has(id))
    if (missing.length) throw new NotFoundError('song', missing.join(', '))
  }
}

function checkName(name: string): string {
  const n = name.trim()
  if (!n || n.length > MAX_NAME) throw new BadInputError(`must have 1 to ${MAX_NAME} characters`, 'name')
  return n
}

import type pg from 'pg'
import { PlayRepository, type PlayRow } from '../db/repositories/play.repository.ts'
import { BadInputError, NotFoundError } from '../errors.ts'
import { LibraryRepository } from '../db/repositories/library.repository.ts'

/**
 * Plays (Subsonic scrobbles), per API key: what its players reported. A mix or radio reads them back
 * (recentPlays) to keep away from what was just heard.
 */
export class ScrobbleService {
  private readonly plays: PlayRepository
  private readonly library: LibraryRepository

  constructor(pool: pg.Pool) {
    this.plays = new PlayRepository(pool)
    this.library = new LibraryRepository(pool)
  }

  /**
   * Records plays of library songs: `times` (ms since the epoch) pairs with `trackIds` when given, else
   * now. `submission` false is a "now playing" notice, kept apart from plays proper.
   */
  async scrobble(
    ownerKeyId: number,
    trackIds: number[],
    times: number[] | undefined,
    submission: boolean,
    client: string | null,
  ): Promise<number> {
    if (!trackIds.length) throw new BadInputError('give at least one song', 'id')
    if (trackIds.length > 500) throw new BadInputError('at most 500 songs at once', 'id')
    if (times && times.length && times.length !== trackIds.length)
      throw new BadInputError(`${times.length} times for ${trackIds.length} songs`, 'time')
    const known = new Set((await this.library.songs(trackIds)).map((s) => s.id))
    const missing = trackIds.filter((id) => !known.has(id))
    if (missing.length) throw new NotFoundError('song', missing.join(', '))
    const now = Date.now()
    const plays = trackIds.map((trackId, i) => {
      const t = times?.length ? times[i] : now
      if (!Number.isFinite(t) || t < 0 || t > now + 86_400_000)
        throw new BadInputError(`not a time in ms since 1970: ${t}`, 'time')
      return { trackId, playedAt: new Date(t) }
    })
    return this.plays.insert(ownerKeyId, plays, submission, client)
  }

  /** The key's plays since `since`, newest first (at most `limit`); `nowPlaying` notices too when asked. */
  async recentPlays(
    ownerKeyId: number,
    since: Date,
    options: { limit?: number; nowPlaying?: boolean } = {},
  ): Promise<PlayRow[]> {
    return this.plays.since(ownerKeyId, since, options.limit ?? 1000, !options.nowPlaying)
  }
}

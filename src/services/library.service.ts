import type { Database } from '../db/database.ts'
import { LibraryRepository, type LibraryCounts } from '../db/repositories/library.repository.ts'
import { BadInputError } from '../errors.ts'

const COUNTS_CACHE_MS = 30_000
const MAX_START_TRACKS = 50

/** The library at a glance, for the landing page: counts, and tracks to start listening from. */
export class LibraryService {
  private readonly library: LibraryRepository
  private cached: { counts: LibraryCounts; at: number } | null = null

  constructor(db: Database) {
    this.library = new LibraryRepository(db.pool)
  }

  /** Counts of releases, artists, tracks and tracks with audio; cached briefly (every landing page asks). */
  async counts(): Promise<LibraryCounts> {
    if (this.cached && performance.now() - this.cached.at < COUNTS_CACHE_MS) return this.cached.counts
    const counts = await this.library.counts()
    this.cached = { counts, at: performance.now() }
    return counts
  }

  /** Up to `first` tracks with audio, picked at random. */
  startTracks(first: number): Promise<number[]> {
    if (!Number.isInteger(first) || first < 1 || first > MAX_START_TRACKS)
      throw new BadInputError(`must be an integer from 1 to ${MAX_START_TRACKS}`, 'first')
    return this.library.randomTracksWithAudio(first)
  }
}

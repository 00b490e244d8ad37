import fs from 'node:fs'
import type pg from 'pg'
import { AudioFileRepository } from '../db/repositories/audio-file.repository.ts'

/** Which file plays a track: the one linked to it and decoded fine, if it is still on disk. */
export class AudioPlaybackService {
  private readonly files: AudioFileRepository

  constructor(pool: pg.Pool) {
    this.files = new AudioFileRepository(pool)
  }

  async fileOfTrack(trackId: number): Promise<string | null> {
    const row = await this.files.pathOfTrack(trackId)
    return row && fs.existsSync(row.path) ? row.path : null
  }
}

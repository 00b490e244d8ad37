import { Entity, PrimaryColumn } from 'typeorm'

/** A genre of a release. Owned by its release (replaced with it on re-import). */
@Entity('release_genre')
export class ReleaseGenreEntity {
  @PrimaryColumn({ type: 'integer', name: 'release_id' }) releaseId: number
  @PrimaryColumn({ type: 'text' }) genre: string
}

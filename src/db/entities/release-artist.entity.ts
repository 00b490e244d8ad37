import { Entity, PrimaryColumn } from 'typeorm'
import { ArtistCreditColumns } from './artist-credit.columns.ts'

/** A main artist credit of a release (<artists>). Owned by its release (replaced with it on re-import). */
@Entity('release_artist')
export class ReleaseArtistEntity extends ArtistCreditColumns {
  @PrimaryColumn({ type: 'integer', name: 'release_id' }) releaseId: number
}

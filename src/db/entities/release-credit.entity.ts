import { Entity, PrimaryColumn } from 'typeorm'
import { ArtistCreditColumns } from './artist-credit.columns.ts'

/** An extra artist credit of a release (<extraartists>), with its role and the tracks it covers. Owned by its release (replaced with it on re-import). */
@Entity('release_credit')
export class ReleaseCreditEntity extends ArtistCreditColumns {
  @PrimaryColumn({ type: 'integer', name: 'release_id' }) releaseId: number
}

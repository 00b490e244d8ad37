import { Entity, PrimaryColumn } from 'typeorm'
import { ArtistCreditColumns } from './artist-credit.columns.ts'

/** A main artist credit of a master. Owned by its master (replaced with it on re-import). */
@Entity('master_artist')
export class MasterArtistEntity extends ArtistCreditColumns {
  @PrimaryColumn({ type: 'integer', name: 'master_id' }) masterId: number
}

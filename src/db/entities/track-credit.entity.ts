import { Entity, PrimaryColumn } from 'typeorm'
import { ArtistCreditColumns } from './artist-credit.columns.ts'

/** An extra artist credit of a track (<extraartists> inside the track). Owned by its track (replaced with it on re-import). */
@Entity('track_credit')
export class TrackCreditEntity extends ArtistCreditColumns {
  @PrimaryColumn({ type: 'bigint', name: 'track_id' }) trackId: string
}

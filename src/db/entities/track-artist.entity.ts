import { Entity, PrimaryColumn } from 'typeorm'
import { ArtistCreditColumns } from './artist-credit.columns.ts'

/** An artist credit of a track (<artists> inside the track). Owned by its track (replaced with it on re-import). */
@Entity('track_artist')
export class TrackArtistEntity extends ArtistCreditColumns {
  @PrimaryColumn({ type: 'bigint', name: 'track_id' }) trackId: string
}

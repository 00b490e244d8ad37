import { Column, Entity, PrimaryColumn } from 'typeorm'

/** An artist credit of a track (<artists> inside the track). Owned by its track (replaced with it on re-import). */
@Entity('track_artist')
export class TrackArtistEntity {
  @PrimaryColumn({ type: 'bigint', name: 'track_id' }) trackId: string
  @PrimaryColumn({ type: 'smallint' }) ord: number
  @Column({ type: 'integer', name: 'artist_id', nullable: true }) artistId: number | null
  @Column({ type: 'text' }) name: string
  @Column({ type: 'text', nullable: true }) anv: string | null
  @Column({ type: 'text', name: 'join_string', nullable: true }) joinString: string | null
  @Column({ type: 'text', nullable: true }) role: string | null
  @Column({ type: 'text', nullable: true }) tracks: string | null
}

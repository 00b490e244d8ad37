import { Column, Entity, PrimaryColumn } from 'typeorm'

/** A main artist credit of a master. Owned by its master (replaced with it on re-import). */
@Entity('master_artist')
export class MasterArtistEntity {
  @PrimaryColumn({ type: 'integer', name: 'master_id' }) masterId: number
  @PrimaryColumn({ type: 'smallint' }) ord: number
  @Column({ type: 'integer', name: 'artist_id', nullable: true }) artistId: number | null
  @Column({ type: 'text' }) name: string
  @Column({ type: 'text', nullable: true }) anv: string | null
  @Column({ type: 'text', name: 'join_string', nullable: true }) joinString: string | null
  @Column({ type: 'text', nullable: true }) role: string | null
  @Column({ type: 'text', nullable: true }) tracks: string | null
}

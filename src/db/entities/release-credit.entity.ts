import { Column, Entity, PrimaryColumn } from 'typeorm'

/** An extra artist credit of a release (<extraartists>), with its role and the tracks it covers. Owned by its release (replaced with it on re-import). */
@Entity('release_credit')
export class ReleaseCreditEntity {
  @PrimaryColumn({ type: 'integer', name: 'release_id' }) releaseId: number
  @PrimaryColumn({ type: 'smallint' }) ord: number
  @Column({ type: 'integer', name: 'artist_id', nullable: true }) artistId: number | null
  @Column({ type: 'text' }) name: string
  @Column({ type: 'text', nullable: true }) anv: string | null
  @Column({ type: 'text', name: 'join_string', nullable: true }) joinString: string | null
  @Column({ type: 'text', nullable: true }) role: string | null
  @Column({ type: 'text', nullable: true }) tracks: string | null
}

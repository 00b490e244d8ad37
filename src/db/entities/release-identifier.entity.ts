import { Column, Entity, PrimaryColumn } from 'typeorm'

/** An identifier of a release (barcode, matrix / runout, …). Owned by its release (replaced with it on re-import). */
@Entity('release_identifier')
export class ReleaseIdentifierEntity {
  @PrimaryColumn({ type: 'integer', name: 'release_id' }) releaseId: number
  @PrimaryColumn({ type: 'smallint' }) ord: number
  @Column({ type: 'text', nullable: true }) type: string | null
  @Column({ type: 'text', nullable: true }) description: string | null
  @Column({ type: 'text', nullable: true }) value: string | null
}

import { Column, Entity, PrimaryColumn } from 'typeorm'

/** A label a release is on, with its catalog number; label_id is null when the dump gives none. Owned by its release (replaced with it on re-import). */
@Entity('release_label')
export class ReleaseLabelEntity {
  @PrimaryColumn({ type: 'integer', name: 'release_id' }) releaseId: number
  @PrimaryColumn({ type: 'smallint' }) ord: number
  @Column({ type: 'integer', name: 'label_id', nullable: true }) labelId: number | null
  @Column({ type: 'text', nullable: true }) name: string | null
  @Column({ type: 'text', nullable: true }) catno: string | null
}

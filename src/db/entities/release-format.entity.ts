import { Column, Entity, PrimaryColumn } from 'typeorm'

/** A format of a release; qty is text because real dumps carry values no integer holds. Owned by its release (replaced with it on re-import). */
@Entity('release_format')
export class ReleaseFormatEntity {
  @PrimaryColumn({ type: 'integer', name: 'release_id' }) releaseId: number
  @PrimaryColumn({ type: 'smallint' }) ord: number
  @Column({ type: 'text', nullable: true }) name: string | null
  @Column({ type: 'text', nullable: true }) qty: string | null
  @Column({ type: 'text', nullable: true }) text: string | null
  @Column({ type: 'text', array: true, default: () => `'{}'` }) descriptions: string[]
}

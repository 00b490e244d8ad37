import { Column, Entity, PrimaryColumn } from 'typeorm'

/** A sublabel of a label (<sublabels>); the dumps sometimes give neither id nor name. Owned by its label (replaced with it on re-import). */
@Entity('label_sublabel')
export class LabelSublabelEntity {
  @PrimaryColumn({ type: 'integer', name: 'label_id' }) labelId: number
  @PrimaryColumn({ type: 'smallint' }) ord: number
  @Column({ type: 'integer', name: 'sublabel_id', nullable: true }) sublabelId: number | null
  @Column({ type: 'text', name: 'sublabel_name', nullable: true }) sublabelName: string | null
}

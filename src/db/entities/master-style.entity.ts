import { Entity, PrimaryColumn } from 'typeorm'

/** A style of a master. Owned by its master (replaced with it on re-import). */
@Entity('master_style')
export class MasterStyleEntity {
  @PrimaryColumn({ type: 'integer', name: 'master_id' }) masterId: number
  @PrimaryColumn({ type: 'text' }) style: string
}

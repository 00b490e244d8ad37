import { Column, Entity, PrimaryColumn } from 'typeorm'

/** A video linked from a master. Owned by its master (replaced with it on re-import). */
@Entity('master_video')
export class MasterVideoEntity {
  @PrimaryColumn({ type: 'integer', name: 'master_id' }) masterId: number
  @PrimaryColumn({ type: 'smallint' }) ord: number
  @Column({ type: 'text' }) src: string
  @Column({ type: 'integer', name: 'duration_s', nullable: true }) durationS: number | null
  @Column({ type: 'boolean', nullable: true }) embed: boolean | null
  @Column({ type: 'text', nullable: true }) title: string | null
  @Column({ type: 'text', nullable: true }) description: string | null
}

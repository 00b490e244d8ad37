import { Entity, PrimaryColumn } from 'typeorm'
import { VideoColumns } from './video.columns.ts'

/** A video linked from a master. Owned by its master (replaced with it on re-import). */
@Entity('master_video')
export class MasterVideoEntity extends VideoColumns {
  @PrimaryColumn({ type: 'integer', name: 'master_id' }) masterId: number
}

import { Entity, PrimaryColumn } from 'typeorm'
import { VideoColumns } from './video.columns.ts'

/** A video linked from a release. Owned by its release (replaced with it on re-import). */
@Entity('release_video')
export class ReleaseVideoEntity extends VideoColumns {
  @PrimaryColumn({ type: 'integer', name: 'release_id' }) releaseId: number
}

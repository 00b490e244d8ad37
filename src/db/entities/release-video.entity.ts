import { Column, Entity, PrimaryColumn } from 'typeorm'

/** A video linked from a release. Owned by its release (replaced with it on re-import). */
@Entity('release_video')
export class ReleaseVideoEntity {
  @PrimaryColumn({ type: 'integer', name: 'release_id' }) releaseId: number
  @PrimaryColumn({ type: 'smallint' }) ord: number
  @Column({ type: 'text' }) src: string
  @Column({ type: 'integer', name: 'duration_s', nullable: true }) durationS: number | null
  @Column({ type: 'boolean', nullable: true }) embed: boolean | null
  @Column({ type: 'text', nullable: true }) title: string | null
  @Column({ type: 'text', nullable: true }) description: string | null
}

import { Entity, PrimaryColumn } from 'typeorm'

/** A style of a release. Owned by its release (replaced with it on re-import). */
@Entity('release_style')
export class ReleaseStyleEntity {
  @PrimaryColumn({ type: 'integer', name: 'release_id' }) releaseId: number
  @PrimaryColumn({ type: 'text' }) style: string
}

import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm'
import { TrigramCountColumn } from './trigram-count.column.ts'

export type TrackType = 'track' | 'heading' | 'index'

/**
 * A tracklist entry. Discogs gives tracks no id: ours is stable across re-imports because rows are
 * matched on (releaseId, trackKey); see the catalog migration for how trackKey is formed.
 */
@Entity('track')
export class TrackEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'BY DEFAULT' }) id: string
  @Column({ type: 'integer', name: 'release_id' }) releaseId: number
  @Column({ type: 'text', name: 'track_key' }) trackKey: string
  @Column({ type: 'bigint', name: 'parent_id', nullable: true }) parentId: string | null
  @Column({ type: 'integer' }) sequence: number
  @Column({ type: 'text', nullable: true }) position: string | null
  @Column({ type: 'text', nullable: true }) title: string | null
  @TrigramCountColumn('title') titleTrigrams: number | null
  @Column({ type: 'text', name: 'duration_text', nullable: true }) durationText: string | null
  @Column({ type: 'integer', name: 'duration_s', nullable: true }) durationS: number | null
  @Column({ type: 'text' }) type: TrackType
  @Column({ type: 'text', name: 'missing_since_dump', nullable: true }) missingSinceDump: string | null
}

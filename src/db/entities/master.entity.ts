import { Column, Entity, PrimaryColumn } from 'typeorm'
import { TrigramCountColumn } from './trigram-count.column.ts'

/** A Discogs master: the work that groups the versions (releases) of one recording. */
@Entity('master')
export class MasterEntity {
  @PrimaryColumn({ type: 'integer' }) id: number
  @Column({ type: 'text' }) title: string
  @TrigramCountColumn('title') titleTrigrams: number | null
  @Column({ type: 'integer', name: 'main_release_id', nullable: true }) mainReleaseId: number | null
  @Column({ type: 'smallint', nullable: true }) year: number | null
  @Column({ type: 'text', nullable: true }) notes: string | null
  @Column({ type: 'text', name: 'data_quality', nullable: true }) dataQuality: string | null
  /** Hash of the record as parsed: an unchanged record in a newer dump is not rewritten. */
  @Column({ type: 'bytea', name: 'content_hash', nullable: true }) contentHash: Buffer | null
  @Column({ type: 'text', name: 'first_seen_dump', nullable: true }) firstSeenDump: string | null
  @Column({ type: 'text', name: 'last_seen_dump', nullable: true }) lastSeenDump: string | null
  @Column({ type: 'text', name: 'missing_since_dump', nullable: true }) missingSinceDump: string | null
}

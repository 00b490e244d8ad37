import { Column, Entity, PrimaryColumn } from 'typeorm'
import { TrigramCountColumn } from './trigram-count.column.ts'

/** A Discogs release; `released` is kept as given ("1999-03-00"), `year` is parsed from it. */
@Entity('release')
export class ReleaseEntity {
  @PrimaryColumn({ type: 'integer' }) id: number
  @Column({ type: 'text' }) title: string
  @TrigramCountColumn('title') titleTrigrams: number | null
  @Column({ type: 'text', nullable: true }) status: string | null
  @Column({ type: 'text', nullable: true }) country: string | null
  @Column({ type: 'text', nullable: true }) released: string | null
  @Column({ type: 'smallint', nullable: true }) year: number | null
  @Column({ type: 'text', nullable: true }) notes: string | null
  @Column({ type: 'text', name: 'data_quality', nullable: true }) dataQuality: string | null
  @Column({ type: 'integer', name: 'master_id', nullable: true }) masterId: number | null
  @Column({ type: 'boolean', name: 'is_main_release', default: false }) isMainRelease: boolean
  /** Hash of the record as parsed: an unchanged record in a newer dump is not rewritten. */
  @Column({ type: 'bytea', name: 'content_hash', nullable: true }) contentHash: Buffer | null
  @Column({ type: 'text', name: 'first_seen_dump', nullable: true }) firstSeenDump: string | null
  @Column({ type: 'text', name: 'last_seen_dump', nullable: true }) lastSeenDump: string | null
  @Column({ type: 'text', name: 'missing_since_dump', nullable: true }) missingSinceDump: string | null
}

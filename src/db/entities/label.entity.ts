import { Column, Entity, PrimaryColumn } from 'typeorm'
import { TrigramCountColumn } from './trigram-count.column.ts'

/** A Discogs label (also companies and series), keyed by its Discogs id. Some real labels have no name. */
@Entity('label')
export class LabelEntity {
  @PrimaryColumn({ type: 'integer' }) id: number
  @Column({ type: 'text', nullable: true }) name: string | null
  @TrigramCountColumn('name') nameTrigrams: number | null
  @Column({ type: 'text', name: 'contact_info', nullable: true }) contactInfo: string | null
  @Column({ type: 'text', nullable: true }) profile: string | null
  @Column({ type: 'text', name: 'data_quality', nullable: true }) dataQuality: string | null
  @Column({ type: 'text', array: true, default: () => `'{}'` }) urls: string[]
  @Column({ type: 'integer', name: 'parent_id', nullable: true }) parentId: number | null
  @Column({ type: 'text', name: 'parent_name', nullable: true }) parentName: string | null
  /** Hash of the record as parsed: an unchanged record in a newer dump is not rewritten. */
  @Column({ type: 'bytea', name: 'content_hash', nullable: true }) contentHash: Buffer | null
  @Column({ type: 'text', name: 'first_seen_dump', nullable: true }) firstSeenDump: string | null
  @Column({ type: 'text', name: 'last_seen_dump', nullable: true }) lastSeenDump: string | null
  @Column({ type: 'text', name: 'missing_since_dump', nullable: true }) missingSinceDump: string | null
}

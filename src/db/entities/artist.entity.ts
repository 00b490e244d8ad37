import { Column, Entity, PrimaryColumn } from 'typeorm'
import { TrigramCountColumn } from './trigram-count.column.ts'

/** A Discogs artist (person, group or alias), keyed by its Discogs id. */
@Entity('artist')
export class ArtistEntity {
  @PrimaryColumn({ type: 'integer' }) id: number
  @Column({ type: 'text' }) name: string
  @TrigramCountColumn('name') nameTrigrams: number | null
  @Column({ type: 'text', name: 'real_name', nullable: true }) realName: string | null
  @Column({ type: 'text', nullable: true }) profile: string | null
  @Column({ type: 'text', name: 'data_quality', nullable: true }) dataQuality: string | null
  @Column({ type: 'text', array: true, default: () => `'{}'` }) urls: string[]
  @Column({ type: 'text', array: true, name: 'name_variations', default: () => `'{}'` })
  nameVariations: string[]
  /** Hash of the record as parsed: an unchanged record in a newer dump is not rewritten. */
  @Column({ type: 'bytea', name: 'content_hash', nullable: true }) contentHash: Buffer | null
  @Column({ type: 'text', name: 'first_seen_dump', nullable: true }) firstSeenDump: string | null
  @Column({ type: 'text', name: 'last_seen_dump', nullable: true }) lastSeenDump: string | null
  @Column({ type: 'text', name: 'missing_since_dump', nullable: true }) missingSinceDump: string | null
}

import { Column, Entity, PrimaryColumn } from 'typeorm'

/** Import bookkeeping: how far the last run over one dump file got (resume point) and whether it finished. */
@Entity('discogs_import')
export class DiscogsImportEntity {
  @PrimaryColumn({ type: 'text', name: 'dump_date' }) dumpDate: string
  @PrimaryColumn({ type: 'text' }) type: 'artists' | 'labels' | 'masters' | 'releases'
  @Column({ type: 'text' }) file: string
  @Column({ type: 'bigint', name: 'file_size' }) fileSize: string
  @Column({ type: 'text' }) status: 'running' | 'failed' | 'done'
  /** records handled so far, committed with each batch: a re-run skips this many */
  @Column({ type: 'bigint', default: 0 }) records: string
  @Column({ type: 'integer', name: 'last_id', nullable: true }) lastId: number | null
  @Column({ type: 'text', nullable: true }) error: string | null
  @Column({ type: 'timestamptz', name: 'started_at', default: () => 'now()' }) startedAt: Date
  @Column({ type: 'timestamptz', name: 'finished_at', nullable: true }) finishedAt: Date | null
}

import { Column, Entity, PrimaryColumn } from 'typeorm'

/** A series a release belongs to (<series>), with its number in the series. Owned by its release (replaced with it on re-import). */
@Entity('release_series')
export class ReleaseSeriesEntity {
  @PrimaryColumn({ type: 'integer', name: 'release_id' }) releaseId: number
  @PrimaryColumn({ type: 'smallint' }) ord: number
  @Column({ type: 'integer', name: 'series_id', nullable: true }) seriesId: number | null
  @Column({ type: 'text', nullable: true }) name: string | null
  @Column({ type: 'text', nullable: true }) catno: string | null
}

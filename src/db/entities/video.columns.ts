import { Column, PrimaryColumn } from 'typeorm'

/**
 * The columns of a linked video, the same <video> element under masters and releases. Each video
 * entity adds its owner's key; TypeORM copies these columns into each table.
 */
export abstract class VideoColumns {
  /** position among the owner's videos, as listed */
  @PrimaryColumn({ type: 'smallint' }) ord: number
  @Column({ type: 'text' }) src: string
  @Column({ type: 'integer', name: 'duration_s', nullable: true }) durationS: number | null
  @Column({ type: 'boolean', nullable: true }) embed: boolean | null
  @Column({ type: 'text', nullable: true }) title: string | null
  @Column({ type: 'text', nullable: true }) description: string | null
}

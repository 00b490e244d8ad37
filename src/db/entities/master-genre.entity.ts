import { Entity, PrimaryColumn } from 'typeorm'

/** A genre of a master. Owned by its master (replaced with it on re-import). */
@Entity('master_genre')
export class MasterGenreEntity {
  @PrimaryColumn({ type: 'integer', name: 'master_id' }) masterId: number
  @PrimaryColumn({ type: 'text' }) genre: string
}

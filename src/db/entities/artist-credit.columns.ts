import { Column, PrimaryColumn } from 'typeorm'

/**
 * The columns every artist credit shares (main artists and extra artists of masters, releases and
 * tracks: the dumps' <artist> element is the same in all five places). Each credit entity adds its
 * owner's key; TypeORM copies these columns into each table (concrete-table inheritance).
 */
export abstract class ArtistCreditColumns {
  /** position among the owner's credits, as listed */
  @PrimaryColumn({ type: 'smallint' }) ord: number
  /** null where the dump gives no id (or id 0) */
  @Column({ type: 'integer', name: 'artist_id', nullable: true }) artistId: number | null
  @Column({ type: 'text' }) name: string
  @Column({ type: 'text', nullable: true }) anv: string | null
  @Column({ type: 'text', name: 'join_string', nullable: true }) joinString: string | null
  @Column({ type: 'text', nullable: true }) role: string | null
  @Column({ type: 'text', nullable: true }) tracks: string | null
}

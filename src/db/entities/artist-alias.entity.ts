import { Column, Entity, PrimaryColumn } from 'typeorm'

/** An alias of an artist (<aliases>), as stated by the artist's record. Owned by its artist (replaced with it on re-import). */
@Entity('artist_alias')
export class ArtistAliasEntity {
  @PrimaryColumn({ type: 'integer', name: 'artist_id' }) artistId: number
  @PrimaryColumn({ type: 'smallint' }) ord: number
  @Column({ type: 'integer', name: 'alias_id', nullable: true }) aliasId: number | null
  @Column({ type: 'text', name: 'alias_name' }) aliasName: string
}

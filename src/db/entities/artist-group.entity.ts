import { Column, Entity, PrimaryColumn } from 'typeorm'

/** A group an artist belongs to (<groups>), as stated by the member's record. Owned by its artist (replaced with it on re-import). */
@Entity('artist_group')
export class ArtistGroupEntity {
  @PrimaryColumn({ type: 'integer', name: 'artist_id' }) artistId: number
  @PrimaryColumn({ type: 'smallint' }) ord: number
  @Column({ type: 'integer', name: 'group_id', nullable: true }) groupId: number | null
  @Column({ type: 'text', name: 'group_name' }) groupName: string
}

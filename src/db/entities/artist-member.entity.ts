import { Column, Entity, PrimaryColumn } from 'typeorm'

/** A member of a group (<members>), as stated by the group's record. Owned by its artist (replaced with it on re-import). */
@Entity('artist_member')
export class ArtistMemberEntity {
  @PrimaryColumn({ type: 'integer', name: 'group_id' }) groupId: number
  @PrimaryColumn({ type: 'smallint' }) ord: number
  @Column({ type: 'integer', name: 'member_id', nullable: true }) memberId: number | null
  @Column({ type: 'text', name: 'member_name' }) memberName: string
}

import { Column, Entity, PrimaryColumn } from 'typeorm'

/** A company credited on a release with its role (entity type); the id may be missing in the dumps. Owned by its release (replaced with it on re-import). */
@Entity('release_company')
export class ReleaseCompanyEntity {
  @PrimaryColumn({ type: 'integer', name: 'release_id' }) releaseId: number
  @PrimaryColumn({ type: 'smallint' }) ord: number
  @Column({ type: 'integer', name: 'company_id', nullable: true }) companyId: number | null
  @Column({ type: 'text', nullable: true }) name: string | null
  @Column({ type: 'text', nullable: true }) catno: string | null
  @Column({ type: 'text', name: 'entity_type', nullable: true }) entityType: string | null
  @Column({ type: 'text', name: 'entity_type_name', nullable: true }) entityTypeName: string | null
}

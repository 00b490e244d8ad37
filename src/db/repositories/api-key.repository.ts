import type pg from 'pg'

export type ApiKeyRole = 'reader' | 'admin'

export interface ApiKeyRow {
  id: number
  name: string
  role: ApiKeyRole
  prefix: string
  createdAt: Date
  lastUsedAt: Date | null
  revokedAt: Date | null
}

const columns = `id, name, role, prefix, created_at AS "createdAt", last_used_at AS "lastUsedAt", revoked_at AS "revokedAt"`

/** All SQL on `api_key`. Only hashes are stored. */
export class ApiKeyRepository {
  constructor(private readonly pool: pg.Pool) {}

  async insert(name: string, role: ApiKeyRole, prefix: string, hash: Buffer): Promise<ApiKeyRow> {
    const { rows } = await this.pool.query(
      `INSERT INTO api_key (name, role, prefix, key_hash) VALUES ($1, $2, $3, $4) RETURNING ${columns}`,
      [name, role, prefix, hash],
    )
    return rows[0]
  }

  /** The active key with this hash, touching last_used_at at most once a minute. */
  async findActiveByHash(hash: Buffer): Promise<ApiKeyRow | null> {
    const { rows } = await this.pool.query(
      `UPDATE api_key SET last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < now() - interval '1 minute'
                                             THEN now() ELSE last_used_at END
        WHERE key_hash = $1 AND revoked_at IS NULL RETURNING ${columns}`,
      [hash],
    )
    return rows[0] ?? null
  }

  /** The key with this id, unless revoked (a signed URL names its key by id). */
  async findActiveById(id: number): Promise<ApiKeyRow | null> {
    const { rows } = await this.pool.query(
      `SELECT ${columns} FROM api_key WHERE id = $1 AND revoked_at IS NULL`,
      [id],
    )
    return rows[0] ?? null
  }

  async list(): Promise<ApiKeyRow[]> {
    const { rows } = await this.pool.query(`SELECT ${columns} FROM api_key ORDER BY id`)
    return rows
  }

  async revoke(id: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE api_key SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`,
      [id],
    )
    return rowCount === 1
  }
}

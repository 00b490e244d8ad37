import crypto from 'node:crypto'
import type pg from 'pg'
import { ApiKeyRepository, type ApiKeyRole, type ApiKeyRow } from '../db/repositories/api-key.repository.ts'
import { DiscographError } from '../errors.ts'

export class UnauthenticatedError extends DiscographError {
  readonly code = 'UNAUTHENTICATED'
}
export class ForbiddenError extends DiscographError {
  readonly code = 'FORBIDDEN'
}

export interface Viewer {
  role: ApiKeyRole | 'anonymous'
  keyId?: number
  keyName?: string
}

const KEY_PREFIX = 'dg_'

function hashKey(key: string): Buffer {
  return crypto.createHash('sha256').update(key).digest()
}

/**
 * API keys: random 32-byte secrets shown once, stored as SHA-256 (a slow hash buys nothing for
 * high-entropy random keys and would cost every request). Roles: reader < admin.
 */
export class AuthService {
  private readonly keys: ApiKeyRepository

  constructor(pool: pg.Pool, private readonly options: { publicRead: boolean }) {
    this.keys = new ApiKeyRepository(pool)
  }

  async createKey(name: string, role: ApiKeyRole): Promise<{ key: string; row: ApiKeyRow }> {
    const key = KEY_PREFIX + crypto.randomBytes(32).toString('base64url')
    const row = await this.keys.insert(name, role, key.slice(0, 10), hashKey(key))
    return { key, row }
  }

  listKeys(): Promise<ApiKeyRow[]> {
    return this.keys.list()
  }

  revokeKey(id: number): Promise<boolean> {
    return this.keys.revoke(id)
  }

  /** Resolves the caller from an `Authorization: Bearer <key>` (or `x-api-key`) header value. */
  async viewerFor(header: string | undefined): Promise<Viewer> {
    if (!header) return { role: 'anonymous' }
    const key = header.replace(/^Bearer\s+/i, '').trim()
    const row = key.startsWith(KEY_PREFIX) ? await this.keys.findActiveByHash(hashKey(key)) : null
    if (!row) throw new UnauthenticatedError('invalid or revoked API key')
    return { role: row.role, keyId: row.id, keyName: row.name }
  }

  /** Throws unless the viewer may read (public reading is a configuration choice). */
  assertCanRead(viewer: Viewer): void {
    if (viewer.role === 'anonymous' && !this.options.publicRead) {
      throw new UnauthenticatedError('reading requires an API key (READ_ACCESS=key)')
    }
  }

  assertAdmin(viewer: Viewer): void {
    if (viewer.role === 'anonymous') throw new UnauthenticatedError('this operation requires an admin API key')
    if (viewer.role !== 'admin') throw new ForbiddenError(`this operation requires an admin API key; ${viewer.keyName} is a ${viewer.role} key`)
  }
}

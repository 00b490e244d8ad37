import crypto from 'node:crypto'
import type pg from 'pg'
import { ApiKeyRepository, type ApiKeyRole, type ApiKeyRow } from '../db/repositories/api-key.repository.ts'
import { DiscographError } from '../errors.ts'
import { signPath, verifyPath } from './signed-path.ts'

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

/**
 * What a route asks of its caller:
 * - `public`: nothing; credentials are not even looked at (static files, GraphiQL's page, /healthz).
 * - `caller`: who is calling, if anyone; a bad key is refused, and the route decides per operation (GraphQL).
 * - `read`: whatever reading the catalog needs (READ_ACCESS): nothing, or a reader or admin key.
 * - `admin`: an admin key.
 * - `metrics`: METRICS_TOKEN or an admin key; with no METRICS_TOKEN and public reading, nothing.
 */
export type Access = 'public' | 'caller' | 'read' | 'admin' | 'metrics'

/** What a request presents: an Authorization / x-api-key header value, and a signed path's token. */
export interface Credentials {
  header?: string
  signed?: { path: string; token: string }
}

export interface AuthOptions {
  publicRead: boolean
  metricsToken?: string
  /** Secret of signed paths; unset: random, so this process's signed URLs work on this process only. */
  urlSigningSecret?: string
}

const KEY_PREFIX = 'dg_'
const ANONYMOUS: Viewer = { role: 'anonymous' }
/** How long a signed URL lasts: a page of tracks listened to, not a day of logs. */
export const SIGNED_PATH_SECONDS = 3600

function hashKey(key: string): Buffer {
  return crypto.createHash('sha256').update(key).digest()
}

function bearer(header: string): string {
  return header.replace(/^Bearer\s+/i, '').trim()
}

function sameSecret(a: string, b: string): boolean {
  // Compared as hashes so that the comparison takes the same time whatever the lengths.
  return crypto.timingSafeEqual(hashKey(a), hashKey(b))
}

/**
 * API keys: random 32-byte secrets shown once, stored as SHA-256 (a slow hash buys nothing for
 * high-entropy random keys and would cost every request). Roles: reader < admin. Every route's access
 * check is `authorize` (src/api/access.ts hands it a request's credentials).
 */
export class AuthService {
  private readonly keys: ApiKeyRepository
  private readonly urlSecret: Buffer

  constructor(
    pool: pg.Pool,
    private readonly options: AuthOptions,
  ) {
    this.keys = new ApiKeyRepository(pool)
    this.urlSecret = options.urlSigningSecret
      ? Buffer.from(options.urlSigningSecret, 'utf8')
      : crypto.randomBytes(32)
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
    if (!header) return ANONYMOUS
    const key = bearer(header)
    const row = key.startsWith(KEY_PREFIX) ? await this.keys.findActiveByHash(hashKey(key)) : null
    if (!row) throw new UnauthenticatedError('invalid or revoked API key')
    return { role: row.role, keyId: row.id, keyName: row.name }
  }

  /**
   * The one access check of every route: who presents these credentials, and may they have what the route
   * asks (`access`). Throws UnauthenticatedError (no or bad credentials) or ForbiddenError (a key of too
   * low a role). A header wins over a signed path's token.
   */
  async authorize(access: Access, credentials: Credentials): Promise<Viewer> {
    if (access === 'public') return ANONYMOUS
    if (access === 'metrics') {
      if (
        this.options.metricsToken &&
        credentials.header &&
        sameSecret(bearer(credentials.header), this.options.metricsToken)
      )
        return ANONYMOUS
      if (!this.options.metricsToken && this.options.publicRead) return ANONYMOUS
    }
    const viewer =
      credentials.header || !credentials.signed
        ? await this.viewerFor(credentials.header)
        : await this.viewerForSignedPath(credentials.signed)
    if (access === 'read') this.assertCanRead(viewer)
    if (access === 'admin' || access === 'metrics') this.assertAdmin(viewer)
    return viewer
  }

  /**
   * `path` as a URL the viewer can hand to something that sends no headers (`<audio src>`): unchanged when
   * reading is public or the viewer has no key, else with a token for this path, this key, one hour.
   */
  signedUrl(path: string, viewer: Viewer, nowSeconds = Math.floor(Date.now() / 1000)): string {
    if (this.options.publicRead || viewer.keyId === undefined) return path
    const token = signPath(this.urlSecret, path, {
      keyId: viewer.keyId,
      expiresAt: nowSeconds + SIGNED_PATH_SECONDS,
    })
    return `${path}?token=${token}`
  }

  private async viewerForSignedPath(signed: { path: string; token: string }): Promise<Viewer> {
    const checked = verifyPath(this.urlSecret, signed.path, signed.token, Math.floor(Date.now() / 1000))
    if ('refused' in checked)
      throw new UnauthenticatedError(
        `signed URL ${checked.refused === 'expired' ? 'expired' : 'not valid for this path'}`,
      )
    const row = await this.keys.findActiveById(checked.grant.keyId)
    if (!row) throw new UnauthenticatedError('signed URL of a revoked API key')
    return { role: row.role, keyId: row.id, keyName: row.name }
  }

  /** Throws unless the viewer may read (public reading is a configuration choice). */
  assertCanRead(viewer: Viewer): void {
    if (viewer.role === 'anonymous' && !this.options.publicRead) {
      throw new UnauthenticatedError('reading requires an API key (READ_ACCESS=key)')
    }
  }

  /** Throws unless the viewer holds a key (of any role): what owns something, such as a playlist, needs one. Returns its id. */
  assertKeyHolder(viewer: Viewer): number {
    if (viewer.role === 'anonymous' || viewer.keyId === undefined)
      throw new UnauthenticatedError('this operation needs an API key: what it saves belongs to the key')
    return viewer.keyId
  }

  assertAdmin(viewer: Viewer): void {
    if (viewer.role === 'anonymous')
      throw new UnauthenticatedError('this operation requires an admin API key')
    if (viewer.role !== 'admin')
      throw new ForbiddenError(
        `this operation requires an admin API key; ${viewer.keyName} is a ${viewer.role} key`,
      )
  }
}

import crypto from 'node:crypto'

/**
 * Signed paths: a token that lets whoever holds it GET one path, on behalf of one API key, until it
 * expires. `<audio src>` cannot send an Authorization header, and an API key in a URL would outlive the
 * page in access logs, browser history and Referer headers; a token names one file, ends within the hour,
 * and dies with its key (the key is looked up on every use, so revoking it revokes its URLs).
 *
 * Token: `<expiry, unix seconds>.<key id>.<HMAC-SHA256 of path, expiry and key id, base64url>`.
 */

export interface PathGrant {
  keyId: number
  expiresAt: number
}

function mac(secret: Buffer, path: string, expiresAt: number, keyId: number): Buffer {
  return crypto.createHmac('sha256', secret).update(`${path}\n${expiresAt}\n${keyId}`).digest()
}

export function signPath(secret: Buffer, path: string, grant: PathGrant): string {
  return `${grant.expiresAt}.${grant.keyId}.${mac(secret, path, grant.expiresAt, grant.keyId).toString('base64url')}`
}

/** The grant a token carries for this path, or why it carries none. `nowSeconds` is the clock (a parameter, for tests). */
export function verifyPath(
  secret: Buffer,
  path: string,
  token: string,
  nowSeconds: number,
): { grant: PathGrant } | { refused: 'malformed' | 'forged' | 'expired' } {
  const m = /^(\d{1,12})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token)
  if (!m) return { refused: 'malformed' }
  const grant = { expiresAt: Number(m[1]), keyId: Number(m[2]) }
  const given = Buffer.from(m[3], 'base64url')
  if (!crypto.timingSafeEqual(given, mac(secret, path, grant.expiresAt, grant.keyId)))
    return { refused: 'forged' }
  if (grant.expiresAt <= nowSeconds) return { refused: 'expired' }
  return { grant }
}

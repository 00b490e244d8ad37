import { UnauthenticatedError, type AuthService, type Viewer } from '../../services/auth.service.ts'
import { ErrorCode, SubsonicError } from './envelope.ts'
import type { Params } from './params.ts'

/** A caller known by an API key: every Subsonic method but getOpenSubsonicExtensions needs one. */
export interface KeyViewer extends Viewer {
  keyId: number
  keyName: string
}

/**
 * Who is calling, from the Subsonic credentials. Discograph's identity is an API key:
 * - `apiKey=<key>` (OpenSubsonic apiKeyAuthentication); `u` beside it is a conflict (43);
 * - `u=<anything>&p=<key>`, the key as the password, plain or `enc:` + hex;
 * - `t` + `s` (token = md5(password + salt)) cannot be checked against keys stored as hashes: error 41,
 *   as the apiKey extension says a server without token authentication answers.
 * A wrong key is 44 with apiKey, 40 as a password; no credentials at all is a missing parameter (10).
 */
export async function authenticate(p: Params, auth: AuthService): Promise<KeyViewer> {
  const apiKey = p.get('apiKey')
  const [u, pw, t, s] = [p.get('u'), p.get('p'), p.get('t'), p.get('s')]
  if (apiKey !== undefined) {
    if (u !== undefined || pw !== undefined || t !== undefined || s !== undefined)
      throw new SubsonicError(
        ErrorCode.conflictingAuth,
        'Multiple conflicting authentication mechanisms provided: apiKey with u, p, t or s',
      )
    return viewerOf(auth, apiKey, ErrorCode.invalidApiKey, 'Invalid API key')
  }
  if (t !== undefined || s !== undefined) {
    if (pw !== undefined)
      throw new SubsonicError(
        ErrorCode.conflictingAuth,
        'Multiple conflicting authentication mechanisms provided: p with t and s',
      )
    throw new SubsonicError(
      ErrorCode.tokenAuthNotSupported,
      'Token authentication is not supported: Discograph keeps only hashes of API keys. Send apiKey=<API key>, or the API key as the password (p)',
    )
  }
  if (pw !== undefined) {
    if (!u) throw new SubsonicError(ErrorCode.missingParameter, 'Required parameter is missing: u')
    return viewerOf(
      auth,
      decodePassword(pw),
      ErrorCode.wrongCredentials,
      'Wrong username or password (the password is a Discograph API key)',
    )
  }
  throw new SubsonicError(
    ErrorCode.missingParameter,
    'Required parameter is missing: apiKey (or u and p, with an API key as the password)',
  )
}

/** `enc:<hex>` is the password's UTF-8 bytes in hex (Subsonic's light obfuscation); anything else is the password. */
export function decodePassword(p: string): string {
  if (!p.startsWith('enc:')) return p
  const hex = p.slice(4)
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex))
    throw new SubsonicError(
      ErrorCode.wrongCredentials,
      'Wrong username or password: enc: must be followed by hex',
    )
  return Buffer.from(hex, 'hex').toString('utf8')
}

async function viewerOf(auth: AuthService, key: string, code: number, message: string): Promise<KeyViewer> {
  if (!key.trim()) throw new SubsonicError(code, message)
  try {
    // the access check every route makes (src/api/access.ts), with the key read from Subsonic's parameters;
    // a key of any role reads, and the Subsonic API writes only the key's own playlists and plays
    const viewer = await auth.authorize('read', { header: key })
    if (viewer.role === 'anonymous' || viewer.keyId === undefined) throw new SubsonicError(code, message)
    return { ...viewer, keyId: viewer.keyId, keyName: viewer.keyName ?? `key ${viewer.keyId}` }
  } catch (err) {
    if (err instanceof UnauthenticatedError) throw new SubsonicError(code, message)
    throw err
  }
}

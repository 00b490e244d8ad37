import type http from 'node:http'
import type { Access, AuthService, Credentials, Viewer } from '../services/auth.service.ts'

/**
 * The credentials a request presents: `Authorization: Bearer <key>` (or `x-api-key: <key>`), and for a GET,
 * a signed path's `?token=` (src/services/signed-path.ts). A later route with credentials of its own (the
 * Subsonic API's `u`/`t`/`s` or `apiKey` parameters) adds them here, and so goes through the same check.
 */
export function credentialsOf(req: http.IncomingMessage, url: URL): Credentials {
  const header = req.headers.authorization ?? (req.headers['x-api-key'] as string | undefined)
  const token = req.method === 'GET' || req.method === 'HEAD' ? url.searchParams.get('token') : null
  return { ...(header ? { header } : {}), ...(token ? { signed: { path: url.pathname, token } } : {}) }
}

/** The access check every HTTP route goes through (the route table in http-server.ts names each one's `access`). */
export function authorizeRequest(auth: AuthService, access: Access, req: http.IncomingMessage, url: URL): Promise<Viewer> {
  return auth.authorize(access, credentialsOf(req, url))
}

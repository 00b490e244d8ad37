import type http from 'node:http'
import type { Access, AuthService, Credentials, Viewer } from '../services/auth.service.ts'

/**
 * The credentials a request presents: `Authorization: Bearer <key>` (or `x-api-key: <key>`), and for a GET,
 * a signed path's `?token=` (src/services/signed-path.ts). A route whose credentials come in a form of its
 * own (the Subsonic API's `apiKey` or `u`+`p` parameters, possibly in a POST body) is `public` in the route
 * table and calls `AuthService.authorize` itself once it has read them (`{ header: key }`), answering a
 * refusal in its own envelope: the same check, the same rules.
 */
export function credentialsOf(req: http.IncomingMessage, url: URL): Credentials {
  const header = req.headers.authorization ?? (req.headers['x-api-key'] as string | undefined)
  const token = req.method === 'GET' || req.method === 'HEAD' ? url.searchParams.get('token') : null
  return { ...(header ? { header } : {}), ...(token ? { signed: { path: url.pathname, token } } : {}) }
}

/** The access check every HTTP route goes through (the route table in http-server.ts names each one's `access`). */
export function authorizeRequest(
  auth: AuthService,
  access: Access,
  req: http.IncomingMessage,
  url: URL,
): Promise<Viewer> {
  return auth.authorize(access, credentialsOf(req, url))
}

import fs from 'node:fs'
import type http from 'node:http'
import path from 'node:path'
import { audioContentType } from '../audio/content-types.ts'
import { sendFile } from './send-file.ts'

const STATIC_DIR = path.resolve(import.meta.dirname, '../web/static')
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
}

/**
 * An audio file, seekable (browsers seek audio with Range requests). Private to its reader when reading
 * needs a key: shared caches must not keep what a key was needed for.
 */
export function sendAudio(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  file: string,
  cachePublic: boolean,
): Promise<void> {
  const headers = { 'cache-control': cachePublic ? 'public, max-age=3600' : 'private, max-age=3600' }
  return sendFile(req, res, file, { contentType: audioContentType(file), headers })
}

/** The web UI's static files (code only: its data comes through /graphql). Returns false when `pathname` is none of them. */
export async function serveStaticFile(
  pathname: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<boolean> {
  const rel = pathname === '/' ? 'index.html' : pathname.slice(1)
  const file = path.resolve(STATIC_DIR, rel)
  if (!file.startsWith(STATIC_DIR + path.sep) || !TYPES[path.extname(file)] || !fs.existsSync(file))
    return false
  await sendFile(req, res, file, { contentType: TYPES[path.extname(file)] })
  return true
}

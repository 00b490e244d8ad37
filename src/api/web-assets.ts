import fs from 'node:fs'
import type http from 'node:http'
import path from 'node:path'
import { audioContentType } from '../audio/content-types.ts'

const STATIC_DIR = path.resolve(import.meta.dirname, '../web/static')
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
}

/** Streams a file, honouring a single byte range (browsers seek audio with Range requests). */
function sendFile(
  res: http.ServerResponse,
  file: string,
  type: string,
  range: string | undefined,
  headers: Record<string, string> = {},
): void {
  const size = fs.statSync(file).size
  const m = range && /^bytes=(\d*)-(\d*)$/.exec(range)
  if (m && (m[1] || m[2])) {
    const start = m[1] ? Number(m[1]) : Math.max(0, size - Number(m[2]))
    const end = m[1] && m[2] ? Math.min(Number(m[2]), size - 1) : size - 1
    if (start >= size || start > end) {
      res.writeHead(416, { 'content-range': `bytes */${size}`, ...headers }).end()
      return
    }
    res.writeHead(206, {
      'content-type': type,
      'content-length': end - start + 1,
      'content-range': `bytes ${start}-${end}/${size}`,
      'accept-ranges': 'bytes',
      ...headers,
    })
    fs.createReadStream(file, { start, end }).pipe(res)
    return
  }
  res.writeHead(200, { 'content-type': type, 'content-length': size, 'accept-ranges': 'bytes', ...headers })
  fs.createReadStream(file).pipe(res)
}

/** An audio file, seekable. Private to its reader: shared caches must not keep what a key was needed for. */
export function sendAudio(
  res: http.ServerResponse,
  file: string,
  range: string | undefined,
  cachePublic: boolean,
): void {
  const headers = { 'cache-control': cachePublic ? 'public, max-age=3600' : 'private, max-age=3600' }
  sendFile(res, file, audioContentType(file), range, headers)
}

/** The web UI's static files (code only: its data comes through /graphql). Returns false when `pathname` is none of them. */
export function serveStaticFile(pathname: string, res: http.ServerResponse): boolean {
  const rel = pathname === '/' ? 'index.html' : pathname.slice(1)
  const file = path.resolve(STATIC_DIR, rel)
  if (!file.startsWith(STATIC_DIR + path.sep) || !TYPES[path.extname(file)] || !fs.existsSync(file))
    return false
  sendFile(res, file, TYPES[path.extname(file)], undefined)
  return true
}

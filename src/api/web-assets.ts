import fs from 'node:fs'
import type http from 'node:http'
import path from 'node:path'
import { audioContentType } from '../audio/content-types.ts'
import type { Config } from '../config/config.ts'
import type { Database } from '../db/database.ts'

const STATIC_DIR = path.resolve(import.meta.dirname, '../web/static')
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
}

/** Streams a file, honouring a single byte range (browsers seek audio with Range requests). */
function sendFile(res: http.ServerResponse, file: string, type: string, range: string | undefined): void {
  const size = fs.statSync(file).size
  const m = range && /^bytes=(\d*)-(\d*)$/.exec(range)
  if (m && (m[1] || m[2])) {
    const start = m[1] ? Number(m[1]) : Math.max(0, size - Number(m[2]))
    const end = m[1] && m[2] ? Math.min(Number(m[2]), size - 1) : size - 1
    if (start >= size || start > end) {
      res.writeHead(416, { 'content-range': `bytes */${size}` }).end()
      return
    }
    res.writeHead(206, { 'content-type': type, 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${size}`, 'accept-ranges': 'bytes' })
    fs.createReadStream(file, { start, end }).pipe(res)
    return
  }
  res.writeHead(200, { 'content-type': type, 'content-length': size, 'accept-ranges': 'bytes' })
  fs.createReadStream(file).pipe(res)
}

/**
 * The web UI's static files, and `/audio/tracks/<track id>`: the audio file linked to a track, so the UI
 * can play it. Returns false when the path is not one of these.
 */
export async function serveWebAsset(pathname: string, res: http.ServerResponse, deps: { db: Database; config: Config }, range?: string): Promise<boolean> {
  const audio = /^\/audio\/tracks\/(\d+)$/.exec(pathname)
  if (audio) {
    const { rows } = await deps.db.pool.query<{ path: string }>(`SELECT path FROM audio_file WHERE track_id = $1 AND status = 'ok'`, [audio[1]])
    const file = rows[0]?.path
    if (!file || !fs.existsSync(file)) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no audio for track ${audio[1]}` }))
      return true
    }
    sendFile(res, file, audioContentType(file), range)
    return true
  }
  const rel = pathname === '/' ? 'index.html' : pathname.slice(1)
  const file = path.resolve(STATIC_DIR, rel)
  if (!file.startsWith(STATIC_DIR + path.sep) || !TYPES[path.extname(file)] || !fs.existsSync(file)) return false
  sendFile(res, file, TYPES[path.extname(file)], undefined)
  return true
}

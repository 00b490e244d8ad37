import type http from 'node:http'
import path from 'node:path'
import send from 'send'

export interface SendFileOptions {
  /** Content-Type to send (send's own guess is by extension, and knows no `.opus` nor the UI's charset). */
  contentType: string
  /** Extra response headers (cache-control, content-disposition). */
  headers?: Record<string, string>
}

/** The file is not there (its row outlived it, or a static path names nothing). */
export class FileMissingError extends Error {
  constructor(readonly file: string) {
    super(`file missing: ${file}`)
  }
}

/**
 * Streams one file through `send`: byte ranges (206, 416 with the size), conditional requests (ETag,
 * Last-Modified, 304/412) and HEAD. Resolves when the response is done or the client went away; rejects
 * with FileMissingError when the file is gone, so each caller answers that in its own protocol. HTTP's own
 * refusals (416, 412, 400) are answered here: a player reads the status, not a body.
 */
export function sendFile(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  file: string,
  { contentType, headers = {} }: SendFileOptions,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // root + one encoded segment: send decodes its path, and a file name may hold '%' or '#'
    send(req, '/' + encodeURIComponent(path.basename(file)), {
      root: path.dirname(file),
      dotfiles: 'allow',
      index: false,
      etag: true,
      cacheControl: false,
    })
      .on('headers', (r) => {
        r.setHeader('content-type', contentType)
        for (const [name, value] of Object.entries(headers)) r.setHeader(name, value)
      })
      .on('error', (err: Error & { status?: number; headers?: Record<string, string> }) => {
        if (err.status === 404) return reject(new FileMissingError(file))
        if (!err.status || res.headersSent) return reject(err)
        res.writeHead(err.status, err.headers ?? {}).end()
        resolve()
      })
      .on('end', resolve)
      .on('stream', (stream) => stream.on('error', reject))
      .pipe(res)
    res.on('close', resolve)
  })
}

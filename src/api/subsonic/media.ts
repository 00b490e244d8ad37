import path from 'node:path'
import send from 'send'
import { ErrorCode, SubsonicError } from './envelope.ts'
import { idOf } from './ids.ts'
import { STREAMED, type Call, type Handler } from './model.ts'

/**
 * The song's file as it is (no transcoding: `format` and `maxBitRate` are ignored, and the file's own type
 * is sent), with byte ranges, conditional requests and HEAD through `send`.
 */
async function serveFile(
  { params, services, req, res }: Call,
  attachment: boolean,
): Promise<typeof STREAMED> {
  const file = await services.library.audioFile(idOf('tr', params.required('id')))
  await new Promise<void>((resolve, reject) => {
    // root + one encoded segment: send decodes its path, and a file name may hold '%' or '#'
    send(req, '/' + encodeURIComponent(path.basename(file.path)), {
      root: path.dirname(file.path),
      dotfiles: 'allow',
      index: false,
      etag: true,
    })
      .on('headers', (r) => {
        r.setHeader('content-type', file.contentType)
        if (attachment)
          r.setHeader(
            'content-disposition',
            `attachment; filename*=UTF-8''${encodeURIComponent(path.basename(file.path))}`,
          )
      })
      .on('error', (err: Error & { status?: number; headers?: Record<string, string> }) => {
        if (err.status === 404)
          return reject(
            new SubsonicError(ErrorCode.notFound, `the audio file of this song is missing: ${file.path}`),
          )
        if (!err.status || res.headersSent) return reject(err)
        // HTTP's own answers (416 with the file's size, 412, 400): a player reads the status, not a body
        res.writeHead(err.status, err.headers ?? {}).end()
        resolve()
      })
      .on('end', resolve)
      .on('stream', (stream) => stream.on('error', reject))
      .pipe(res)
    res.on('close', resolve)
  })
  return STREAMED
}

export const mediaHandlers: Record<string, Handler> = {
  stream: (call) => serveFile(call, false),
  download: (call) => serveFile(call, true),
  // Discograph holds no images; the spec answers an absent image with "not found".
  getCoverArt: async ({ params }) => {
    throw new SubsonicError(ErrorCode.notFound, `no cover art for ${params.required('id')}`)
  },
}

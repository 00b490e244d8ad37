import path from 'node:path'
import { FileMissingError, sendFile } from '../send-file.ts'
import { ErrorCode, SubsonicError } from './envelope.ts'
import { idOf } from './ids.ts'
import { STREAMED, type Call, type Handler } from './model.ts'

/**
 * The song's file as it is (no transcoding: `format` and `maxBitRate` are ignored, and the file's own type
 * is sent), with byte ranges, conditional requests and HEAD (sendFile). Private to the key that asked.
 */
async function serveFile(
  { params, services, req, res }: Call,
  attachment: boolean,
): Promise<typeof STREAMED> {
  const file = await services.library.audioFile(idOf('tr', params.required('id')))
  const name = path.basename(file.path)
  const headers: Record<string, string> = { 'cache-control': 'private, max-age=3600' }
  if (attachment) headers['content-disposition'] = `attachment; filename*=UTF-8''${encodeURIComponent(name)}`
  try {
    await sendFile(req, res, file.path, { contentType: file.contentType, headers })
  } catch (err) {
    if (err instanceof FileMissingError)
      throw new SubsonicError(ErrorCode.notFound, `the audio file of this song is missing: ${file.path}`)
    throw err
  }
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

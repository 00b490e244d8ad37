import path from 'node:path'

/** The MIME type of each audio file extension Discograph decodes, for serving the files. */
export const AUDIO_CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.wav': 'audio/wav',
  '.mp3': 'audio/mpeg',
  '.flac': 'audio/flac',
  '.ogg': 'audio/ogg',
  '.opus': 'audio/ogg',
  '.m4a': 'audio/mp4',
}

/** The MIME type of an audio file by its extension, `application/octet-stream` when unknown. */
export function audioContentType(file: string): string {
  return AUDIO_CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream'
}

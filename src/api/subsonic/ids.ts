import { SubsonicError, ErrorCode } from './envelope.ts'

/**
 * Subsonic ids are strings; Discograph's say what they name and carry the Discogs-derived id, so they stay
 * the same across restarts and re-imports: `ar-<Discogs artist id>`, `al-<Discogs release id>`,
 * `tr-<track id>` (a track's id survives re-imports: tracks are matched by release and position,
 * src/db/repositories/catalog-batch-sql.ts), `pl-<playlist id>`.
 */

export type IdKind = 'ar' | 'al' | 'tr' | 'pl'
const NAMES: Record<IdKind, string> = { ar: 'artist', al: 'album', tr: 'song', pl: 'playlist' }

export const artistId = (id: number) => `ar-${id}`
export const albumId = (id: number) => `al-${id}`
export const songId = (id: number) => `tr-${id}`
export const playlistId = (id: number) => `pl-${id}`

/** The kind and number of an id; unknown forms are "not found" (70), as the spec answers an unknown id. */
export function parseId(id: string): { kind: IdKind; id: number } {
  const m = /^(ar|al|tr|pl)-(\d{1,15})$/.exec(id.trim())
  if (!m) throw new SubsonicError(ErrorCode.notFound, `no such id: "${id}"`)
  return { kind: m[1] as IdKind, id: Number(m[2]) }
}

/** The number of an id that must be of one kind. */
export function idOf(kind: IdKind, id: string): number {
  const parsed = parseId(id)
  if (parsed.kind !== kind) throw new SubsonicError(ErrorCode.notFound, `"${id}" is not a ${NAMES[kind]} id`)
  return parsed.id
}

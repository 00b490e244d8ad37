import { BadInputError } from '../errors.ts'
import { decodeOpaque, encodeOpaque } from './cursor.ts'

export const NODE_TYPES = ['Artist', 'Label', 'Master', 'Release', 'Track', 'Style', 'Genre'] as const
export type NodeType = (typeof NODE_TYPES)[number]

/** Opaque, URL-safe global ids: base64url("Type:key"). Keys are Discogs ids, track ids or style names. */
export function toGlobalId(type: NodeType, key: string | number): string {
  return encodeOpaque(`${type}:${key}`)
}

export function fromGlobalId(id: string, field = 'id'): { type: NodeType; key: string } {
  const text = decodeOpaque(id)
  const colon = text.indexOf(':')
  const type = text.slice(0, colon) as NodeType
  if (colon < 1 || !NODE_TYPES.includes(type) || colon === text.length - 1) {
    throw new BadInputError(`"${id}" is not a Discograph node id`, field)
  }
  return { type, key: text.slice(colon + 1) }
}

/** The numeric key of a global id of the expected type. */
export function numericKey(id: string, expected: NodeType, field = 'id'): number {
  const { type, key } = fromGlobalId(id, field)
  if (type !== expected) throw new BadInputError(`"${id}" is a ${type} id, not a ${expected} id`, field)
  const n = Number(key)
  if (!Number.isSafeInteger(n) || n < 0)
    throw new BadInputError(`"${id}" has no valid ${expected} key`, field)
  return n
}

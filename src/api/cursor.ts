import { BadInputError } from '../errors.ts'

/**
 * The one codec of the API's opaque tokens (list cursors and global ids): base64url of a short text. Each
 * list keeps its own text (`k:<key>`, `o:<offset>`, `<microsecond time>|<uuid>`, `Type:key`); only the
 * wrapping is shared, so a client can treat every cursor alike and none is read by guessing.
 */
export function encodeOpaque(text: string): string {
  return Buffer.from(text).toString('base64url')
}

export function decodeOpaque(token: string): string {
  return Buffer.from(token, 'base64url').toString('utf8')
}

/**
 * The groups captured by `pattern` in the text of `cursor` (group 1 first), or a BadInputError naming `field`
 * when it is not one of this list's cursors.
 */
export function decodeCursor(cursor: string, pattern: RegExp, field: string, what = 'list'): string[] {
  const m = pattern.exec(decodeOpaque(cursor))
  if (!m) throw new BadInputError(`"${cursor}" is not a cursor of this ${what}`, field)
  return m.slice(1)
}

import { describe, expect, it } from 'vitest'
import { decodeCursor, decodeOpaque, encodeOpaque } from '../../src/api/cursor.ts'
import { fromGlobalId, toGlobalId } from '../../src/api/global-id.ts'
import { encodeCursor, parsePage } from '../../src/api/pagination.ts'
import { BadInputError } from '../../src/errors.ts'

describe('one cursor codec', () => {
  it('keeps every wire format: base64url of the list’s own text', () => {
    expect(encodeCursor(42)).toBe('azo0Mg') // base64url('k:42'), as clients already hold
    expect(encodeOpaque('o:20')).toBe(Buffer.from('o:20').toString('base64url'))
    const job = '2026-12-07T03:41:17.123456Z|0f8fad5b-d9cb-469f-a165-70867728950e'
    expect(decodeOpaque(encodeOpaque(job))).toBe(job)
    expect(toGlobalId('Release', 7)).toBe(Buffer.from('Release:7').toString('base64url'))
    expect(fromGlobalId(toGlobalId('Style', 'Deep House'))).toEqual({ type: 'Style', key: 'Deep House' })
  })

  it('decodes to the captured groups, and refuses another list’s cursor naming the argument', () => {
    expect(decodeCursor(encodeOpaque('a|b'), /^(\w)\|(\w)$/, 'after')).toEqual(['a', 'b'])
    expect(parsePage({ first: 5, after: encodeCursor(-3) }).after).toBe(-3)
    expect(() => parsePage({ first: 5, after: encodeOpaque('o:3') })).toThrow(BadInputError)
    expect(() => decodeCursor(encodeOpaque('k:1'), /^o:(\d+)$/, 'before', 'search')).toThrow(
      /^before: ".*" is not a cursor of this search$/,
    )
  })
})

import { describe, expect, it } from 'vitest'
import { AsciiStringCache } from '../../src/ingest/discogs/ascii-string-cache.ts'

describe('AsciiStringCache', () => {
  it('decodes any slice of ASCII bytes exactly, repeated or not', () => {
    const cache = new AsciiStringCache(4, 8)
    const b = Buffer.from('Vinyl|LP|Vinyl|Electronic music|LP|12"|A1|A1|', 'latin1')
    const words = b.toString('latin1').split('|')
    let at = 0
    for (const w of words) {
      expect(cache.get(b, at, at + w.length)).toBe(w)
      at += w.length + 1
    }
  })

  it('returns the remembered string for equal bytes, and never a string of other bytes', () => {
    const cache = new AsciiStringCache(1, 16) // one slot: every value collides with the previous one
    const first = cache.get(Buffer.from('Needs Vote'), 0, 10)
    expect(cache.get(Buffer.from('xNeeds Vote'), 1, 11)).toBe(first)
    expect(cache.get(Buffer.from('Needs Vots'), 0, 10)).toBe('Needs Vots')
    expect(cache.get(Buffer.from('Correct'), 0, 7)).toBe('Correct')
    expect(cache.get(Buffer.from('Needs Vote'), 0, 10)).toBe('Needs Vote')
  })

  it('empty and over-long slices', () => {
    const cache = new AsciiStringCache(8, 4)
    expect(cache.get(Buffer.from('abc'), 1, 1)).toBe('')
    expect(cache.get(Buffer.from('abcdefgh'), 0, 8)).toBe('abcdefgh')
  })

  it('slot count must be a power of two', () => {
    expect(() => new AsciiStringCache(12, 8)).toThrow(RangeError)
  })
})

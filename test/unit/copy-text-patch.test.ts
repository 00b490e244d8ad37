import { describe, expect, it } from 'vitest'
import { TRACK_NUMBER_DIGITS } from '../../src/db/repositories/catalog-staging.ts'
import { assignTrackIds, writeTrigramCounts } from '../../src/ingest/discogs/copy-text-patch.ts'

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'))
const utf8 = (b: Uint8Array) => Buffer.from(b).toString('utf8')
const padded = (n: number) => String(n).padStart(TRACK_NUMBER_DIGITS, '0')

describe('COPY text patches', () => {
  it('turns the track numbers at the offsets into base + number, in place, leaving every other byte', () => {
    // a track row: its number, its parent's number, a title; a parent's 0 (no parent) is not listed
    const row = `${padded(2)}\t${padded(1)}\tIntro\n${padded(1)}\t\\N\tSide A\n`
    const text = bytes(row)
    const at = (k: number) => row.indexOf(padded(k))
    assignTrackIds(text, Int32Array.of(at(2), at(1), row.lastIndexOf(padded(1))), 4_294_967_296)
    expect(utf8(text)).toBe(
      `${padded(4_294_967_298)}\t${padded(4_294_967_297)}\tIntro\n${padded(4_294_967_297)}\t\\N\tSide A\n`,
    )
  })

  it('refuses an id wider than the field, before writing it', () => {
    const text = bytes(padded(5))
    expect(() => assignTrackIds(text, Int32Array.of(0), 10 ** TRACK_NUMBER_DIGITS - 5)).toThrow(
      `track id ${10 ** TRACK_NUMBER_DIGITS} does not fit ${TRACK_NUMBER_DIGITS} digits`,
    )
    expect(utf8(text)).toBe(padded(5))
  })

  it('fills trigram count placeholders with the counts in order, zero-padded to their width', () => {
    const text = bytes('Café\t00000\nÜber\t00000\n')
    writeTrigramCounts(text, Int32Array.of(6, 18), [9, 12345])
    expect(utf8(text)).toBe('Café\t00009\nÜber\t12345\n')
  })
})

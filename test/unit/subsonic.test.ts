import { describe, expect, it } from 'vitest'
import { decodePassword } from '../../src/api/subsonic/auth.ts'
import { envelope, escapeXml, formatOf, toXml } from '../../src/api/subsonic/envelope.ts'
import { idOf, parseId } from '../../src/api/subsonic/ids.ts'
import { byInitial } from '../../src/api/subsonic/model.ts'
import { creditDisplay, discAndTrack, displayName } from '../../src/services/library.service.ts'

describe('Subsonic XML', () => {
  it('writes scalars as attributes, objects and arrays as children, value as text, nulls not at all', () => {
    expect(
      toXml('album', {
        id: 'al-1',
        name: 'A & B <live>',
        year: 1999,
        starred: undefined,
        genre: null,
        song: [
          { id: 'tr-1', isDir: false },
          { id: 'tr-2', isDir: false },
        ],
      }),
    ).toBe(
      '<album id="al-1" name="A &amp; B &lt;live&gt;" year="1999"><song id="tr-1" isDir="false"/><song id="tr-2" isDir="false"/></album>',
    )
    expect(toXml('genres', { genre: [{ value: 'Deep House', songCount: 2, albumCount: 1 }] })).toBe(
      '<genres><genre songCount="2" albumCount="1">Deep House</genre></genres>',
    )
    expect(toXml('openSubsonicExtensions', { name: 'formPost', versions: [1, 2] })).toBe(
      '<openSubsonicExtensions name="formPost"><versions>1</versions><versions>2</versions></openSubsonicExtensions>',
    )
    expect(toXml('artistInfo2', { biography: 'Born "here"', similarArtist: [] })).toBe(
      '<artistInfo2><biography>Born &quot;here&quot;</biography></artistInfo2>',
    )
    expect(toXml('x', { created: new Date('2026-01-02T03:04:05Z') })).toBe(
      '<x created="2026-01-02T03:04:05.000Z"/>',
    )
    expect(toXml('starred2', {})).toBe('<starred2/>')
  })

  it('drops the control characters XML 1.0 cannot carry', () => {
    expect(escapeXml('a\u0001b\tc\u000bd')).toBe('ab\tcd')
  })

  it('has the envelope the spec asks for and picks the encoding', () => {
    expect(envelope('ok', { ping: 1 })).toEqual({
      status: 'ok',
      version: '1.16.1',
      type: 'discograph',
      serverVersion: expect.any(String),
      openSubsonic: true,
      ping: 1,
    })
    expect(formatOf(undefined, undefined)).toEqual({ kind: 'xml' })
    expect(formatOf('json', undefined)).toEqual({ kind: 'json' })
    expect(formatOf('jsonp', 'cb.done')).toEqual({ kind: 'jsonp', callback: 'cb.done' })
    expect(formatOf('jsonp', 'alert(1)//')).toEqual({ kind: 'xml' })
  })
})

describe('Subsonic ids and credentials', () => {
  it('parses the kinds of id and refuses others as not found (70)', () => {
    expect(parseId('tr-42')).toEqual({ kind: 'tr', id: 42 })
    expect(idOf('al', 'al-7')).toBe(7)
    expect(() => idOf('al', 'tr-7')).toThrow(expect.objectContaining({ code: 70 }))
    expect(() => parseId('42')).toThrow(expect.objectContaining({ code: 70 }))
    expect(() => parseId('tr-1e3')).toThrow(expect.objectContaining({ code: 70 }))
  })

  it('decodes enc:-hex passwords, and only those', () => {
    expect(decodePassword('enc:' + Buffer.from('dg_é!').toString('hex'))).toBe('dg_é!')
    expect(decodePassword('dg_plain')).toBe('dg_plain')
    expect(() => decodePassword('enc:zz')).toThrow(expect.objectContaining({ code: 40 }))
  })
})

describe('library metadata', () => {
  it('takes disc and track numbers from Discogs positions, else the place in the release', () => {
    expect(discAndTrack('2-05', 17)).toEqual({ disc: 2, track: 5 })
    expect(discAndTrack('CD2-3', 9)).toEqual({ disc: 2, track: 3 })
    expect(discAndTrack('1.4', 4)).toEqual({ disc: 1, track: 4 })
    expect(discAndTrack('B2', 6)).toEqual({ disc: 1, track: 6 })
    expect(discAndTrack('7', 7)).toEqual({ disc: 1, track: 7 })
    expect(discAndTrack(null, 3)).toEqual({ disc: 1, track: 3 })
  })

  it('writes credits with their join strings and without the disambiguation number', () => {
    expect(displayName('John Smith (2)')).toBe('John Smith')
    expect(displayName('Band (Live)')).toBe('Band (Live)')
    expect(
      creditDisplay([
        { id: 1, name: 'A (3)', join: '&' },
        { id: 2, name: 'B', join: 'Feat.' },
        { id: 3, name: 'C', join: null },
      ]),
    ).toBe('A & B Feat. C')
    expect(
      creditDisplay([
        { id: 1, name: 'A', join: ',' },
        { id: 2, name: 'B', join: null },
      ]),
    ).toBe('A, B')
    expect(
      creditDisplay([
        { id: 1, name: 'A', join: null },
        { id: 2, name: 'B', join: null },
      ]),
    ).toBe('A, B')
  })

  it('indexes artists by the first letter without the article, the rest under #', () => {
    const groups = byInitial([
      { name: 'The Orb' },
      { name: 'Ólafur' },
      { name: '808 State' },
      { name: 'orbital' },
      { name: 'Aphex' },
    ])
    expect(groups.map((g) => [g.name, g.items.map((i) => i.name)])).toEqual([
      ['A', ['Aphex']],
      ['O', ['The Orb', 'Ólafur', 'orbital']],
      ['#', ['808 State']],
    ])
  })
})

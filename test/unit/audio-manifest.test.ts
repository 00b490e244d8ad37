import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { BadInputError } from '../../src/errors.ts'
import { firstNonUtf8Line, parseCsv, parseManifest, readManifest } from '../../src/ingest/audio/manifest.ts'

const MANIFEST = '/music/lib/manifest.csv'

function errorOf(fn: () => unknown): BadInputError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(BadInputError)
    return err as BadInputError
  }
  throw new Error('expected a BadInputError')
}

describe('CSV records', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, and says where each record starts', () => {
    const text = '\ufeffa,b\r\n"x, y","say ""hi"""\n\n"two\nlines",z\nlast,row'
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
      { line: 4, fields: ['two\nlines', 'z'] },
      { line: 6, fields: ['last', 'row'] },
    ])
  })

  it('counts a CRLF inside quotes as one line, and a lone CR as a line end, as the file shows them', () => {
    const text = 'a,"one\r\ntwo\r\nthree"\r\nb,c\rd,e\r\n\r\n"open\r\nstill open,f'
    expect(() => parseCsv(text)).toThrow(/^unterminated quoted field starting on line 7$/)
    expect(parseCsv(text.slice(0, text.lastIndexOf('"open')))).toEqual([
      { line: 1, fields: ['a', 'one\r\ntwo\r\nthree'] },
      { line: 4, fields: ['b', 'c'] },
      { line: 5, fields: ['d', 'e'] },
    ])
  })

  it('keeps a quote inside an unquoted field; a line holding only "" is a record of one empty field', () => {
    expect(parseCsv('My "Best" Song.mp3,1\n""\n')).toEqual([
      { line: 1, fields: ['My "Best" Song.mp3', '1'] },
      { line: 2, fields: [''] },
    ])
  })
})

describe('audio manifest', () => {
  it('resolves paths against the manifest folder, keeps absolute ones, accepts any column order', () => {
    const rows = parseManifest(
      'position,path,release_id,comment\nA1,audio/01 Intro.wav,123,x\nB2,"/elsewhere/a, b.flac",456,\n',
      MANIFEST,
    )
    expect(rows).toEqual([
      { line: 2, path: path.resolve('/music/lib/audio/01 Intro.wav'), releaseId: 123, position: 'A1' },
      { line: 3, path: '/elsewhere/a, b.flac', releaseId: 456, position: 'B2' },
    ])
  })

  it('writes one error naming every bad line, and imports nothing', () => {
    const err = errorOf(() =>
      parseManifest(
        'path,release_id,position\n' +
          'a.wav,12,A1\n' + // good
          'b.wav,abc,A2\n' + // line 3: release id
          'c.wav,5\n' + // line 4: too few fields
          ',7,\n' + // line 5: empty path and position
          'a.wav,13,A1\n' + // line 6: same file, another track
          'a.wav,12,A1\n', // identical repeat: fine
        MANIFEST,
      ),
    )
    expect(err.message).toBe(
      `${MANIFEST}: 4 bad rows:\n` +
        '  line 3: release_id must be a positive integer, got "abc"\n' +
        '  line 4: 2 fields, the header has 3\n' +
        '  line 5: empty path; empty position\n' +
        '  line 6: a.wav is already given as release 12 position A1 on line 2',
    )
  })

  it('refuses a manifest without the header, naming what it expected', () => {
    expect(errorOf(() => parseManifest('a.wav,12,A1\n', MANIFEST)).message).toMatch(
      /line 1: header lacks path, release_id, position \(expected "path,release_id,position", got "a.wav,12,A1"\)/,
    )
    expect(errorOf(() => parseManifest('', MANIFEST)).message).toMatch(/empty; expected a header line/)
    expect(errorOf(() => parseManifest('path,release_id,position\n"open,1,A', MANIFEST)).message).toMatch(
      /unterminated quoted field starting on line 2/,
    )
  })

  it('lists at most twenty bad lines and counts the rest', () => {
    const text =
      'path,release_id,position\n' + Array.from({ length: 25 }, (_, i) => `f${i}.wav,x,A`).join('\n')
    const msg = errorOf(() => parseManifest(text, MANIFEST)).message
    expect(msg).toMatch(/25 bad rows/)
    expect(msg).toMatch(/line 21: /)
    expect(msg).not.toMatch(/line 22: /)
    expect(msg).toMatch(/… and 5 more$/)
  })

  it('refuses a NUL in a path or position, naming the line', () => {
    const err = errorOf(() =>
      parseManifest(
        'path,release_id,position\na.wav,1,A1\n"b\u0000.wav",2,A2\nc.wav,3,"A\u00003"\n',
        MANIFEST,
      ),
    )
    expect(err.message).toBe(
      `${MANIFEST}: 2 bad rows:\n  line 3: path contains a NUL character\n  line 4: position contains a NUL character`,
    )
  })

  it('refuses a file that is not UTF-8, naming the file and the line of the first bad bytes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'discograph-manifest-'))
    try {
      const file = path.join(dir, 'links.csv')
      // line 3 holds "é" in Latin-1 (one byte 0xE9), as a spreadsheet saving in a legacy encoding writes it
      fs.writeFileSync(
        file,
        Buffer.concat([
          Buffer.from('path,release_id,position\nok.wav,1,A1\ncaf'),
          Buffer.from([0xe9]),
          Buffer.from('.wav,2,A2\n'),
        ]),
      )
      expect(errorOf(() => readManifest(file)).message).toBe(
        `${file}: line 3: not UTF-8 text (save the manifest as UTF-8)`,
      )
      fs.writeFileSync(file, 'path,release_id,position\ncafé.wav,2,A2\n')
      expect(readManifest(file)).toEqual([
        { line: 2, path: path.join(dir, 'café.wav'), releaseId: 2, position: 'A2' },
      ])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
    // a lone surrogate's UTF-8-like encoding (CESU) and a truncated sequence at the very end
    expect(firstNonUtf8Line(Buffer.from([0x61, 0x0a, 0xed, 0xa0, 0x80]))).toBe(2)
    expect(firstNonUtf8Line(Buffer.from([0x61, 0x0a, 0x62, 0x0a, 0xc3]))).toBe(3)
    expect(firstNonUtf8Line(Buffer.from('a\nb\n'))).toBeNull()
  })
})

import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { BadInputError } from '../../src/errors.ts'
import { parseCsv, parseManifest } from '../../src/ingest/audio/manifest.ts'

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
})

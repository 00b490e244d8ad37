import { describe, expect, it } from 'vitest'
import { emptyRelease, type ReleaseRecord } from '../../src/ingest/discogs/records.ts'
import { StagingBatch } from '../../src/ingest/discogs/staging-batch.ts'
import { parseElement } from '../../src/ingest/discogs/xml-records.ts'

/** COPY text of a field, the plain way: escapes by string replacement, UTF-8 by Buffer. */
const copyField = (s: string) =>
  s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')
/** An element of a text[] array literal inside COPY text. */
const copyElement = (s: string) =>
  `"${s.replace(/\\/g, '\\\\\\\\').replace(/"/g, '\\\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`

const TEXTS = [
  '',
  'a',
  'plain ASCII',
  '"quoted"',
  'ends with a quote"',
  'tab\there',
  '\ttab first',
  'line\nbreak\r\n',
  'back\\slash',
  'x\\',
  'Dahlbäck',
  'äh',
  'Ω and ✓',
  '𝄞 clef',
  'lone \ud800 surrogate',
  'lone low \udc00',
  '\u0001\u000b\u000c\u007f',
  'a long value well beyond the native threshold, with no escapes at all',
  'a long value well beyond the native threshold, with a tab\tand a "quote"',
  'a long value well beyond the native threshold: Ünïcödé ✓ 𝄞',
]

function release(over: Partial<ReleaseRecord>): ReleaseRecord {
  return { ...emptyRelease(1), title: 'T', ...over }
}

const utf8 = (b: Uint8Array | undefined) => Buffer.from(b!).toString('utf8')

describe('COPY encoding', () => {
  it('escapes fields and array elements and writes UTF-8 as Buffer.from does, whatever the length', () => {
    const batch = new StagingBatch('releases', 'copy', '20200806')
    batch.add({
      type: 'releases',
      record: release({
        genres: TEXTS,
        formats: [{ name: 'Vinyl', qty: null, text: null, descriptions: TEXTS }],
      }),
    })
    const b = batch.take()
    // compared as bytes: a lone surrogate is written as U+FFFD, as Buffer.from writes it
    expect(Buffer.from(b.tables.stage_release_genre!)).toEqual(
      Buffer.from(TEXTS.map((t) => `1\t${copyField(t)}\n`).join('')),
    )
    expect(Buffer.from(b.tables.stage_release_format!)).toEqual(
      Buffer.from(`1\t1\tVinyl\t\\N\t\\N\t{${TEXTS.map(copyElement).join(',')}}\n`),
    )
  })

  it('writes integers as String() does', () => {
    const values = [
      0, 7, 10, 99, 100, 12345, 2147483647, -1, -2147483647, 2147483648, 9007199254740991, -9007199254740991,
    ]
    const batch = new StagingBatch('releases', 'copy', '20200806')
    batch.add({
      type: 'releases',
      record: release({ labels: values.map((id) => ({ id, name: null, catno: null })) }),
    })
    const rows = utf8(batch.take().tables.stage_release_label).trimEnd().split('\n')
    expect(rows.map((r) => r.split('\t')[2])).toEqual(values.map(String))
  })
})

describe('tokenizer values', () => {
  it('texts and attribute values of every short length, ASCII or not, with or without entities', () => {
    for (const v of [
      '',
      'a',
      'ab',
      'abc',
      'abcd',
      'abcde',
      'abcdef',
      'abcdefg',
      'abcdefgh',
      'abcdefghi',
      'äb',
      'a&amp;b',
      '&#228;',
      'x&lt;',
    ]) {
      const decoded = v.replace('&amp;', '&').replace('&#228;', 'ä').replace('&lt;', '<')
      const node = parseElement(`<r v="${v}"><t>${v}</t><t/></r>`, 0)!.node
      expect(node.attrs!.v).toBe(decoded)
      expect(node.children![0].text).toBe(decoded)
      expect(node.children![1].text).toBe('')
    }
  })

  it('names: many distinct ones, and names that differ only late', () => {
    const names = Array.from({ length: 3000 }, (_, i) => `n${i}`).concat([
      'abcdefgh1',
      'abcdefgh2',
      'ä',
      'äb',
    ])
    const node = parseElement(`<r>${names.map((n) => `<${n} ${n}="1">x</${n}>`).join('')}</r>`, 0)!.node
    expect(node.children!.map((c) => c.name)).toEqual(names)
    expect(node.children!.map((c) => Object.keys(c.attrs!)[0])).toEqual(names)
  })
})

import { describe, expect, it } from 'vitest'
import { writeTrigramCounts } from '../../src/ingest/discogs/copy-text-patch.ts'
import { bandCondition, trigramCount, TRIGRAM_BANDS } from '../../src/db/trigram-bands.ts'
import {
  bandScoreBound,
  bandsByBound,
  isSettled,
  searchScoreBound,
} from '../../src/services/search/band-order.ts'
import { parseRelease } from '../../src/ingest/discogs/records.ts'
import { StagingBatch } from '../../src/ingest/discogs/staging-batch.ts'
import { XmlRecordReader } from '../../src/ingest/discogs/xml-records.ts'

/**
 * The best search score a text of n trigrams reaches against a query of q, found by trying every number
 * of shared trigrams: similarity shared / (q + n − shared), word similarity at most shared / q.
 */
function bruteBound(q: number, n: number): number {
  let best = 0
  for (let shared = 0; shared <= Math.min(q, n); shared++) {
    const sim = q + n - shared === 0 ? 0 : shared / (q + n - shared)
    best = Math.max(best, (sim + shared / q) / 2)
  }
  return best
}

describe('trigram bands', () => {
  it('cover every trigram count exactly once, in order', () => {
    expect(TRIGRAM_BANDS[0].lo).toBe(0)
    expect(TRIGRAM_BANDS.at(-1)!.hi).toBeNull()
    for (let i = 1; i < TRIGRAM_BANDS.length; i++)
      expect(TRIGRAM_BANDS[i].lo).toBe(TRIGRAM_BANDS[i - 1].hi! + 1)
  })

  it('bound the search score exactly: no text scores above it, and some text can reach it', () => {
    for (let q = 1; q <= 40; q++)
      for (let n = 0; n <= 80; n++)
        expect(searchScoreBound(q, n), `q=${q} n=${n}`).toBeCloseTo(bruteBound(q, n), 12)
    expect(searchScoreBound(0, 5)).toBe(0) // a query with no trigrams matches nothing
  })

  it("give each band its best text's bound", () => {
    for (let q = 1; q <= 40; q++)
      for (const band of TRIGRAM_BANDS) {
        let best = 0
        for (let n = band.lo; n <= (band.hi ?? 200); n++) best = Math.max(best, searchScoreBound(q, n))
        expect(bandScoreBound(q, band), `q=${q} band ${band.lo}-${band.hi}`).toBeCloseTo(best, 12)
      }
  })

  it('order the bands best bound first: the query’s own length first, then its neighbours', () => {
    const order = bandsByBound(5).map((b) => [b.band.lo, Number(b.bound.toFixed(3))])
    expect(order.slice(0, 5)).toEqual([
      [5, 1],
      [6, 0.917],
      [7, 0.857],
      [8, 0.813],
      [0, 0.8],
    ])
    expect(bandsByBound(0)).toEqual([]) // nothing to search
    for (let q = 1; q <= 40; q++) {
      const bounds = bandsByBound(q).map((b) => b.bound)
      expect(bounds).toEqual([...bounds].sort((a, b) => b - a))
      expect(bounds[0]).toBe(1)
    }
  })

  it('settle only when the k best strictly beat the bound, with room for rounding', () => {
    const hits = [{ score: 1 }, { score: 0.8 }, { score: 0.7 }]
    expect(isSettled(hits, 3, 0.69)).toBe(true)
    expect(isSettled(hits, 3, 0.7)).toBe(false) // a tie could still come with a smaller id
    expect(isSettled(hits, 3, 0.69995)).toBe(false) // within rounding of the bound
    expect(isSettled(hits, 4, 0.1)).toBe(false) // not enough hits yet
  })

  it('write band conditions as the partial indexes’ predicates', () => {
    expect(bandCondition('t.title_trigrams', { lo: 5, hi: 6 })).toBe('t.title_trigrams BETWEEN 5 AND 6')
    expect(bandCondition('n', { lo: 24, hi: null })).toBe('n >= 24')
  })

  it("count a text's distinct trigrams as pg_trgm does (values from PostgreSQL's show_trgm), leaving non-ASCII texts to the database", () => {
    const pg: [string, number][] = [
      ['Stockholm', 10],
      ['Stockholm Syndrome', 18],
      ['a', 2],
      ['ab', 3],
      ['', 0],
      ['!!', 0],
      ["Can't Get Enough (Extended Version)", 33],
      ['A-1 B2', 7],
      ['aaa aaa', 4],
    ]
    for (const [text, n] of pg) expect(trigramCount(text), text).toBe(n)
    expect(trigramCount('Über')).toBeNull()
    expect(trigramCount('Stockholm – Remix')).toBeNull() // an en dash
  })
})

describe('trigram counts in the encoded rows', () => {
  const xml = `<releases><release id="7" status="Accepted"><title>Café Stockholm</title><tracklist>
    <track><position>A</position><title>Intro</title><duration>1:00</duration></track>
    <track><position>B</position><title>Übergang</title><duration>2:00</duration></track>
    <track><position>C</position><duration>3:00</duration></track></tracklist></release></releases>`
  const encode = (encoding: 'copy' | 'json') => {
    const reader = new XmlRecordReader()
    reader.feed(xml)
    reader.next() // the root
    const ev = reader.next()!
    if (ev.kind !== 'record') throw new Error('no record')
    const batch = new StagingBatch('releases', encoding, '20200806')
    batch.add({ type: 'releases', record: parseRelease(ev.node, () => {})! })
    return batch.take()
  }
  const utf8 = (b: Uint8Array | undefined) => Buffer.from(b!).toString('utf8')

  it('end each row with its text’s count; the ones beyond ASCII are placeholders the writer fills in', () => {
    const b = encode('copy')
    expect(b.uncounted.stage_release!.texts).toEqual(['Café Stockholm'])
    expect(b.uncounted.stage_track!.texts).toEqual(['Übergang'])
    const tracks = utf8(b.tables.stage_track).trimEnd().split('\n')
    expect(tracks.map((r) => r.split('\t').at(-1))).toEqual(['6', '00000', '\\N']) // "intro": 6; no title: null
    writeTrigramCounts(b.tables.stage_track!, b.uncounted.stage_track!.offsets, [9])
    writeTrigramCounts(b.tables.stage_release!, b.uncounted.stage_release!.offsets, [16])
    expect(utf8(b.tables.stage_track).trimEnd().split('\n')[1].split('\t').at(-1)).toBe('00009')
    expect(utf8(b.tables.stage_release).trimEnd().split('\t').at(-1)).toBe('00016')
    expect(() => writeTrigramCounts(b.tables.stage_track!, b.uncounted.stage_track!.offsets, [])).toThrow(
      RangeError,
    )
  })

  it('leave them null in JSON, where the insert counts them', () => {
    const b = encode('json')
    expect(b.uncounted).toEqual({})
    const tracks = JSON.parse(utf8(b.tables.stage_track)) as unknown[][]
    expect(tracks.map((r) => r.at(-1))).toEqual([6, null, null])
  })

  it('leave the content hash as it was before rows had counts (so an upgrade does not rewrite every record)', () => {
    // the release row this record encoded to before counts were added (commit c18d6cc), and after
    const before =
      '7\tCafé Stockholm\tAccepted\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\tf\t\\\\x96926ec944ea1d35c2c9a2556e629c9fda2f55b6\t20200806\t20200806\t\\N'
    expect(utf8(encode('copy').tables.stage_release)).toBe(`${before}\t00000\n`)
  })
})

describe('trigramCount on long texts', () => {
  /** The distinct trigrams of lower-case words, plainly. */
  const plain = (words: string[]) =>
    new Set(words.flatMap((w) => [...`  ${w} `].slice(0, -2).map((_, i) => `  ${w} `.slice(i, i + 3)))).size

  it('counts beyond its table’s size the same way, case-insensitively, and caps at smallint', () => {
    const words = Array.from({ length: 3000 }, (_, i) => `w${i.toString(36)}x`)
    const expected = plain(words)
    expect(expected).toBeGreaterThan(4096)
    expect(trigramCount(words.join(' '))).toBe(expected)
    expect(trigramCount(`AB ${words.join(' ').toUpperCase()}`)).toBe(plain(['ab', ...words]))
    const many = Array.from({ length: 40000 }, (_, i) => ((i * 2654435761) >>> 0).toString(36))
    expect(plain(many)).toBeGreaterThan(32767)
    expect(trigramCount(many.join(' '))).toBe(32767)
  })
})

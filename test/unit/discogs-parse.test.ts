import { describe, expect, it } from 'vitest'
import {
  flattenTracklist,
  parseArtist,
  parseDuration,
  parseId,
  parseLabel,
  parseRelease,
  parseYear,
  trackKeys,
} from '../../src/ingest/discogs/records.ts'
import {
  decodeEntities,
  parseElement,
  XmlRecordReader,
  XmlSyntaxError,
} from '../../src/ingest/discogs/xml-records.ts'

function tree(xml: string) {
  const r = parseElement(xml, 0)
  if (!r) throw new Error('incomplete')
  return r.node
}

function counter() {
  const seen: Record<string, number> = {}
  return { seen, count: (p: string) => void (seen[p] = (seen[p] ?? 0) + 1) }
}

describe('scalar parsers', () => {
  it('durations: m:ss, h:mm:ss, bare seconds; junk is null', () => {
    expect(parseDuration('4:45')).toBe(285)
    expect(parseDuration('6:11')).toBe(371)
    expect(parseDuration('1:02:03')).toBe(3723)
    expect(parseDuration('75:00')).toBe(4500)
    expect(parseDuration(' 2:49 ')).toBe(169)
    expect(parseDuration('45')).toBe(45)
    expect(parseDuration('4:75')).toBeNull()
    expect(parseDuration('1:75:00')).toBeNull()
    expect(parseDuration('abc')).toBeNull()
    expect(parseDuration("4'45")).toBeNull()
    expect(parseDuration('')).toBeNull()
    expect(parseDuration(null)).toBeNull()
  })

  it('year of released as given', () => {
    expect(parseYear('1999-03-00')).toBe(1999)
    expect(parseYear('1999')).toBe(1999)
    expect(parseYear('19990300')).toBe(1999)
    expect(parseYear('0000')).toBeNull()
    expect(parseYear('?')).toBeNull()
    expect(parseYear(null)).toBeNull()
  })

  it('ids: positive int32, else null', () => {
    expect(parseId('5')).toBe(5)
    expect(parseId(' 42 ')).toBe(42)
    expect(parseId('')).toBeNull()
    expect(parseId('0')).toBeNull()
    expect(parseId('-3')).toBeNull()
    expect(parseId('12a')).toBeNull()
    expect(parseId('99999999999')).toBeNull()
    expect(parseId(undefined)).toBeNull()
    // plain digits, padded or spaced, up to int32
    expect(parseId('0000000042')).toBe(42)
    expect(parseId('2147483647')).toBe(2147483647)
    expect(parseId('2147483648')).toBeNull()
    expect(parseId('9999999999')).toBeNull()
    expect(parseId('00000000000')).toBeNull()
    expect(parseId('\t7\n')).toBe(7)
    expect(parseId('1 2')).toBeNull()
    expect(parseId('+5')).toBeNull()
    expect(parseId('٣')).toBeNull()
  })

  it('entities', () => {
    expect(decodeEntities('Dahlb&#228;ck &amp; &lt;x&gt; &quot;q&quot; &apos;a&apos; &#x2153;')).toBe(
      'Dahlbäck & <x> "q" \'a\' ⅓',
    )
    expect(decodeEntities('R&B &unknown; &#0;')).toBe('R&B &unknown; &#0;')
    // kept as written: no name, no digits, no ';', past U+10FFFF, a name on Object.prototype
    expect(decodeEntities('&; &#; &#x; &amp &#12a; &#x110000; &constructor; &toString;')).toBe(
      '&; &#; &#x; &amp &#12a; &#x110000; &constructor; &toString;',
    )
    expect(decodeEntities('&amp;&amp;x&#x1F600;&#1114111;')).toBe('&&x😀\u{10FFFF}')
    // hex digits in either case (but a lowercase x), leading zeros, huge numbers, names are case-sensitive
    expect(
      decodeEntities('&#xe4;&#xE4;&#XE4;&#00228;&#99999999999999999999;&#x0000000000041;&AMP;&ampx;&lt&gt;'),
    ).toBe('ää&#XE4;ä&#99999999999999999999;A&AMP;&ampx;&lt>')
  })
})

describe('track identity', () => {
  it('position when unique, else #n', () => {
    expect(trackKeys(['A', 'B1', 'B2'])).toEqual(['A', 'B1', 'B2'])
    expect(trackKeys([null, 'A1', 'A2', null])).toEqual(['#1', 'A1', 'A2', '#4'])
    expect(trackKeys(['1', '1', '2'])).toEqual(['#1', '#2', '2'])
    expect(trackKeys(['Video', ' 3 ', '#5', 'a/b'])).toEqual(['Video', '3', '#3', '#4'])
  })

  it('sub-tracks: parent key + "/" + own key, flattened in order, index and heading types', () => {
    const n = tree(`<tracklist>
      <track><position/><title>Side A</title><duration/></track>
      <track><position>A1</position><title>One</title><duration>3:00</duration></track>
      <track><position>A2</position><title>Medley</title><duration>10:00</duration><sub_tracks>
        <track><position>A2a</position><title>Part 1</title><duration>5:00</duration></track>
        <track><position/><title>Part 2</title><duration/></track>
      </sub_tracks></track>
      <track><position>A1</position><title>Dup</title><duration>1:00:00</duration></track>
    </tracklist>`)
    const { count } = counter()
    const r = parseRelease(tree(`<release id="9"><title>T</title>${xmlOf(n)}</release>`), count)!
    expect(r.tracks.map((t) => [t.key, t.parentKey, t.sequence, t.type, t.durationS])).toEqual([
      ['#1', null, 1, 'heading', null],
      ['#2', null, 2, 'track', 180],
      ['A2', null, 3, 'index', 600],
      ['A2/A2a', 'A2', 4, 'track', 300],
      ['A2/#2', 'A2', 5, 'track', null],
      ['#4', null, 6, 'track', 3600],
    ])
    expect(flattenTracklist([])).toEqual([])
  })
})

/** Re-serialises a tree (enough for the tests: no attributes needed). */
function xmlOf(n: ReturnType<typeof tree>): string {
  const attrs = n.attrs
    ? Object.entries(n.attrs)
        .map(([k, v]) => ` ${k}="${v}"`)
        .join('')
    : ''
  const inner = n.children
    ? n.children.map(xmlOf).join('')
    : n.text.replace(/&/g, '&amp;').replace(/</g, '&lt;')
  return `<${n.name}${attrs}>${inner}</${n.name}>`
}

describe('record parsers on drifted input', () => {
  it('release: no images, no status, empty/missing company ids, 64-digit qty, series, unknown elements', () => {
    const { seen, count } = counter()
    const qty = '1'.repeat(64)
    const r = parseRelease(
      tree(`<release id="77">
        <artists><artist><id>0</id><name>Various</name><anv/><join/><role/><tracks/></artist></artists>
        <title>Drift &amp; Co</title>
        <labels><label name="" catno="none" id=""/></labels>
        <series><series name="Series X" catno="3" id="123"/></series>
        <formats><format name="CD" qty="${qty}" text=""><descriptions><description>Album</description></descriptions></format></formats>
        <companies><company><id/><name>Pressing Plant</name><catno/><entity_type>17</entity_type><entity_type_name>Pressed By</entity_type_name></company>
          <company><name>No Id GmbH</name><entity_type>23</entity_type></company></companies>
        <genres><genre>Rock</genre><genre>Rock</genre></genres>
        <master_id is_main_release="false">55</master_id>
        <released>2024</released>
        <hologram>yes</hologram>
      </release>`),
      count,
    )!
    expect(r.status).toBeNull()
    expect(r.title).toBe('Drift & Co')
    expect(r.year).toBe(2024)
    expect(r.masterId).toBe(55)
    expect(r.isMainRelease).toBe(false)
    expect(r.artists[0]).toMatchObject({ artistId: null, name: 'Various', anv: null })
    expect(r.labels).toEqual([{ id: null, name: null, catno: 'none' }])
    expect(r.series).toEqual([{ id: 123, name: 'Series X', catno: '3' }])
    expect(r.formats[0]).toEqual({ name: 'CD', qty, text: null, descriptions: ['Album'] })
    expect(r.companies.map((c) => [c.id, c.name, c.entityType])).toEqual([
      [null, 'Pressing Plant', '17'],
      [null, 'No Id GmbH', '23'],
    ])
    expect(r.genres).toEqual(['Rock'])
    expect(seen).toEqual({ 'release/hologram': 1 })
  })

  it('label without a name; artist members without <id> siblings', () => {
    const { seen, count } = counter()
    expect(
      parseLabel(
        tree(`<label><id>9</id><sublabels><label id="10">Sub</label><label/></sublabels></label>`),
        count,
      ),
    ).toEqual({
      id: 9,
      name: null,
      contactInfo: null,
      profile: null,
      dataQuality: null,
      urls: [],
      parent: null,
      sublabels: [
        { id: 10, name: 'Sub' },
        { id: null, name: null },
      ],
    })
    const a = parseArtist(
      tree(
        `<artist><id>2</id><name>Duo</name><members><name id="26">A</name><name id="27">B</name></members></artist>`,
      ),
      count,
    )!
    expect(a.members).toEqual([
      { id: 26, name: 'A' },
      { id: 27, name: 'B' },
    ])
    expect(seen).toEqual({})
  })

  it('a record without an id is skipped (null), not an error', () => {
    expect(parseRelease(tree(`<release><title>x</title></release>`), () => {})).toBeNull()
  })
})

describe('XmlRecordReader', () => {
  const doc =
    '<?xml version="1.0"?>\n<releases>\n<release id="1"><title>A &amp; B</title><notes><![CDATA[x<y]]></notes></release>\n' +
    '<!-- c --><release id="2" status="Accepted"><title>Ω</title></release>\n</releases>\n'

  function readAll(chunks: string[]) {
    const r = new XmlRecordReader()
    const out: string[] = []
    for (const c of chunks) {
      r.feed(c)
      for (let ev = r.next(); ev; ev = r.next())
        out.push(ev.kind === 'record' ? `${ev.node.attrs!.id}:${ev.node.children![0].text}` : ev.kind)
    }
    return { out, done: r.done }
  }

  it('gives the same records whatever the chunking', () => {
    const whole = readAll([doc])
    expect(whole).toEqual({ out: ['root', '1:A & B', '2:Ω', 'end'], done: true })
    for (const size of [1, 2, 3, 7, 13]) {
      const chunks: string[] = []
      for (let i = 0; i < doc.length; i += size) chunks.push(doc.slice(i, i + size))
      expect(readAll(chunks)).toEqual(whole)
    }
  })

  it('reports mismatched tags with their offset', () => {
    const r = new XmlRecordReader()
    r.feed('<releases><release id="1"><title>x</titel></release></releases>')
    expect(r.next()).toMatchObject({ kind: 'root', name: 'releases' })
    try {
      r.next()
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(XmlSyntaxError)
      expect((err as XmlSyntaxError).message).toBe('</titel> does not close <title>')
      expect((err as XmlSyntaxError).charOffset).toBe(34)
    }
    expect(r.byteOffsetOf(34)).toBe(34)
  })

  it('end tags: spaces before ">" are allowed; a same-length other name or a cut-off tag is an error', () => {
    const r = new XmlRecordReader()
    r.feed('<releases><release id="1"><title >x</title  ></release\n></releases>')
    r.next()
    expect(r.next()).toMatchObject({ kind: 'record', node: { children: [{ name: 'title', text: 'x' }] } })
    expect(r.next()).toEqual({ kind: 'end' })
    for (const [xml, message] of [
      ['<releases><release id="1"><title>x</titlf></release>', '</titlf> does not close <title>'],
      ['<releases><release id="1"><title>x</titles></release>', '</titles> does not close <title>'],
      ['<releases><release id="1"><title>x</tit></release>', '</tit> does not close <title>'],
    ]) {
      const bad = new XmlRecordReader()
      bad.feed(xml)
      bad.next()
      expect(() => bad.next()).toThrow(message)
    }
  })

  it('rejects non-XML at the start', () => {
    const r = new XmlRecordReader()
    r.feed('\u0089PNG\r\n')
    expect(() => r.next()).toThrow(/not XML/)
  })
})

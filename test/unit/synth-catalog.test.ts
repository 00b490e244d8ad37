import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { SaxesParser } from 'saxes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeWav } from '../../src/audio/wav.ts'
import {
  parseDuration,
  parseRecord,
  RECORD_ELEMENT,
  DUMP_TYPES,
  type DumpType,
} from '../../src/ingest/discogs/records.ts'
import { XmlRecordReader, type XmlNode } from '../../src/ingest/discogs/xml-records.ts'
import { writeSyntheticCatalog, type SynthSummary } from '../../src/synth/catalog-writer.ts'
import { worldOptions } from '../../src/synth/world.ts'
import { FIXTURES } from '../support/cli.ts'
import { tmpDir } from '../support/database.ts'
import { nearestCentroidAccuracy, spectralFeatures } from '../support/spectral-features.ts'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })))

async function synth(
  size: 'tiny' | 'small',
  over: Record<string, number>,
  format = { sampleRate: 16000, channels: 1 as 1 | 2 },
) {
  const out = tmpDir('discograph-synth-')
  dirs.push(out)
  const summary = await writeSyntheticCatalog({
    ...worldOptions(size, over),
    ...format,
    out,
    dumpDate: '20250101',
    workers: 1,
  })
  return { out, summary }
}

/** sha256 of every file under dir, by relative path. */
function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const f of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!f.isFile()) continue
    const p = path.join(f.parentPath, f.name)
    out[path.relative(dir, p)] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')
  }
  return out
}

/** The record trees of a dump's text, read by the importer's own record splitter. */
function records(xml: string): XmlNode[] {
  const reader = new XmlRecordReader()
  reader.feed(xml)
  const out: XmlNode[] = []
  for (let ev = reader.next(); ev && ev.kind !== 'end'; ev = reader.next())
    if (ev.kind === 'record') out.push(ev.node)
  return out
}

/** Element and attribute paths used in a dump ("release/tracklist/track/position", "release/labels/label@catno"). */
function pathsOf(xml: string, type: DumpType): Set<string> {
  const out = new Set<string>()
  const walk = (n: XmlNode, p: string) => {
    out.add(p)
    for (const a of Object.keys(n.attrs ?? {})) out.add(`${p}@${a}`)
    for (const c of n.children ?? []) walk(c, `${p}/${c.name}`)
  }
  for (const r of records(xml)) walk(r, RECORD_ELEMENT[type])
  return out
}

describe('synthetic catalog files', () => {
  let tiny: { out: string; summary: SynthSummary }
  beforeAll(async () => {
    tiny = await synth('tiny', { seed: 5 }, { sampleRate: 22050, channels: 2 })
  })

  it('same seed → byte-identical files; another seed → different files', async () => {
    const again = await synth('tiny', { seed: 5 }, { sampleRate: 22050, channels: 2 })
    const a = hashTree(tiny.out)
    const b = hashTree(again.out)
    expect(Object.keys(a).length).toBe(4 + 2 + tiny.summary.audioFiles)
    expect(b).toEqual(a)
    const other = hashTree((await synth('tiny', { seed: 6 }, { sampleRate: 22050, channels: 2 })).out)
    const same = Object.keys(a).filter((k) => other[k] === a[k])
    expect(same).toEqual([])
  })

  it('renders the same bytes in worker threads as in-process', async () => {
    // Over two minutes of audio, so the pool is really used.
    const over = { seed: 8, artists: 6, labels: 2, releases: 24, seconds: 2 }
    const format = { sampleRate: 8000, channels: 1 as const }
    const single = await synth('small', over, format)
    const out = tmpDir('discograph-synth-')
    dirs.push(out)
    const pooled = await writeSyntheticCatalog({
      ...worldOptions('small', over),
      ...format,
      out,
      dumpDate: '20250101',
      workers: 2,
    })
    expect(pooled.workers).toBe(2)
    expect(pooled.audioSeconds).toBeGreaterThanOrEqual(120)
    expect(hashTree(out)).toEqual(hashTree(single.out))
  })

  it('dumps are well-formed XML that streams through saxes with the expected record counts', () => {
    for (const type of DUMP_TYPES) {
      const text = zlib.gunzipSync(fs.readFileSync(tiny.summary.dumps[type])).toString('utf8')
      const parser = new SaxesParser()
      let records = 0
      let depth = 0
      const errors: Error[] = []
      parser.on('opentag', () => {
        if (depth++ === 1) records++
      })
      parser.on('closetag', () => void depth--)
      parser.on('error', (e) => errors.push(e))
      // Feed in small chunks, as a stream would.
      for (let i = 0; i < text.length; i += 997) parser.write(text.slice(i, i + 997))
      parser.close()
      expect(errors).toEqual([])
      expect(records, type).toBe(tiny.summary.records[type])
    }
  })

  it('uses only elements and attributes the real dumps use, and the importer reads every one of them', async () => {
    const { out } = await synth('small', { seed: 9, seconds: 1, releases: 60 })
    for (const type of DUMP_TYPES) {
      const ours = zlib
        .gunzipSync(fs.readFileSync(path.join(out, `discogs_20250101_${type}.xml.gz`)))
        .toString('utf8')
      const real = zlib
        .gunzipSync(fs.readFileSync(path.join(FIXTURES, `discogs_20200806_${type}.xml.gz`)))
        .toString('utf8')
      const realPaths = pathsOf(real, type)
      // Not in the fixture though in the dumps: series (none among its first 1000 releases) and sublabel
      // ids (the fixture's sublabel entries are blanked to `<label/>`; full dumps carry `<label id="…">`).
      const notInFixture = (p: string) => p.startsWith('release/series') || p === 'label/sublabels/label@id'
      const extra = [...pathsOf(ours, type)].filter((p) => !realPaths.has(p) && !notInFixture(p))
      expect(extra, type).toEqual([])
      const unknown: string[] = []
      let parsed = 0
      for (const r of records(ours)) if (parseRecord(type, r, (p) => unknown.push(p))) parsed++
      expect(unknown, type).toEqual([])
      expect(parsed).toBeGreaterThan(0)
    }
  })

  it('every manifest row is an existing WAV whose length is the track duration in the dump, with tags', () => {
    const text = zlib.gunzipSync(fs.readFileSync(tiny.summary.dumps.releases)).toString('utf8')
    const durations = new Map<string, number | null>()
    const titles = new Map<number, string>()
    for (const node of records(text)) {
      const rec = parseRecord('releases', node, () => {})
      if (rec?.type !== 'releases') continue
      titles.set(rec.record.id, rec.record.title)
      for (const t of rec.record.tracks)
        if (t.position) durations.set(`${rec.record.id}|${t.position}`, t.durationS)
    }
    const rows = fs.readFileSync(path.join(tiny.out, 'manifest.csv'), 'utf8').trim().split('\n')
    expect(rows[0]).toBe('path,release_id,position')
    expect(rows.length - 1).toBe(tiny.summary.audioFiles)
    const seen = new Set<string>()
    for (const row of rows.slice(1)) {
      // Paths here contain no commas or quotes; the writer quotes them when they do.
      const [file, releaseId, position] = row.split(',')
      const key = `${releaseId}|${position}`
      expect(seen.has(key), key).toBe(false)
      seen.add(key)
      const wav = decodeWav(fs.readFileSync(path.join(tiny.out, file)))
      expect(wav.sampleRate).toBe(22050)
      expect(wav.channels).toHaveLength(2)
      const seconds = durations.get(key)
      expect(seconds, key).toBeTypeOf('number')
      expect(wav.channels[0].length).toBe(seconds! * 22050)
      expect(
        parseDuration(String(Math.floor(seconds! / 60)) + ':' + String(seconds! % 60).padStart(2, '0')),
      ).toBe(seconds)
      expect(wav.tags.IPRD).toBe(titles.get(Number(releaseId)))
      expect(wav.tags.INAM.length).toBeGreaterThan(0)
      expect(wav.tags.IART.length).toBeGreaterThan(0)
      expect(Number(wav.tags.ITRK)).toBeGreaterThanOrEqual(1)
    }
    const truth = JSON.parse(fs.readFileSync(path.join(tiny.out, 'truth.json'), 'utf8'))
    expect(truth.tracks.map((t: { path: string }) => t.path)).toEqual(
      rows.slice(1).map((r) => r.split(',')[0]),
    )
  })

  it('refuses to write into a non-empty directory that is not a synthetic catalog', async () => {
    const d = tmpDir('discograph-synth-')
    dirs.push(d)
    fs.writeFileSync(path.join(d, 'precious.txt'), 'x')
    await expect(
      writeSyntheticCatalog({
        ...worldOptions('tiny'),
        out: d,
        sampleRate: 16000,
        channels: 1,
        dumpDate: '20250101',
      }),
    ).rejects.toThrow(/precious|not empty/)
    expect(fs.existsSync(path.join(d, 'precious.txt'))).toBe(true)
  })
})

describe('structure in the audio', () => {
  // Enough artists for every style, short tracks at 16 kHz to stay fast.
  let items: { x: number[]; t: { artistId: number; style: string; releaseId: number; genre: string } }[]
  beforeAll(async () => {
    const { out } = await synth('small', { seed: 21, artists: 24, labels: 6, releases: 60, seconds: 4 })
    const truth = JSON.parse(fs.readFileSync(path.join(out, 'truth.json'), 'utf8'))
    const originals: number[] = truth.releases
      .filter(
        (r: { kind: string; reissueOf: number | null }) => r.kind !== 'compilation' && r.reissueOf === null,
      )
      .map((r: { id: number }) => r.id)
    const keep = new Set(originals)
    items = truth.tracks
      .filter((t: { releaseId: number }) => keep.has(t.releaseId))
      .map((t: { path: string; artistId: number; style: string; releaseId: number; genre: string }) => {
        const wav = decodeWav(fs.readFileSync(path.join(out, t.path)))
        return { x: spectralFeatures(wav.channels[0], wav.sampleRate), t }
      })
  }, 60_000)

  const evaluate = (
    label: (t: (typeof items)[0]['t']) => string,
    heldOut: (t: (typeof items)[0]['t'], i: number) => boolean,
  ) => {
    const train = items.filter((it, i) => !heldOut(it.t, i)).map((it) => ({ x: it.x, y: label(it.t) }))
    const test = items.filter((it, i) => heldOut(it.t, i)).map((it) => ({ x: it.x, y: label(it.t) }))
    return {
      accuracy: nearestCentroidAccuracy(train, test),
      classes: new Set(train.map((t) => t.y)).size,
      n: test.length,
    }
  }

  it('a spectral nearest-centroid classifier predicts the style of unseen releases far above chance', () => {
    // Per style, every other release holding it is held out: train and test never share a release.
    const releasesOf = new Map<string, number[]>()
    for (const { t } of items) {
      const rs = releasesOf.get(t.style) ?? []
      if (!rs.includes(t.releaseId)) rs.push(t.releaseId)
      releasesOf.set(t.style, rs)
    }
    const r = evaluate(
      (t) => t.style,
      (t) => releasesOf.get(t.style)!.indexOf(t.releaseId) % 2 === 1,
    )
    expect(r.classes).toBe(12)
    expect(r.n).toBeGreaterThan(30)
    expect(r.accuracy).toBeGreaterThan(3 / r.classes)
  })

  it('and the artist of held-out tracks far above chance', () => {
    const seen = new Map<number, number>()
    const held = items.map(({ t }) => {
      const k = seen.get(t.artistId) ?? 0
      seen.set(t.artistId, k + 1)
      return k % 3 === 2
    })
    const r = evaluate(
      (t) => String(t.artistId),
      (_, i) => held[i],
    )
    expect(r.classes).toBe(24)
    expect(r.accuracy).toBeGreaterThan(5 / r.classes)
  })

  it("and, among one artist's releases, which release a held-out track is from (its production)", () => {
    let right = 0
    let total = 0
    let chance = 0
    const byArtist = new Map<number, typeof items>()
    for (const it of items) byArtist.set(it.t.artistId, [...(byArtist.get(it.t.artistId) ?? []), it])
    for (const tracks of byArtist.values()) {
      const releases = [...new Set(tracks.map((it) => it.t.releaseId))].filter(
        (id) => tracks.filter((it) => it.t.releaseId === id).length >= 2,
      )
      if (releases.length < 2) continue
      const mine = tracks.filter((it) => releases.includes(it.t.releaseId))
      // The first track of each release is held out; the others define its centroid.
      const first = new Set(releases.map((id) => mine.find((it) => it.t.releaseId === id)!))
      const acc = nearestCentroidAccuracy(
        mine.filter((it) => !first.has(it)).map((it) => ({ x: it.x, y: String(it.t.releaseId) })),
        [...first].map((it) => ({ x: it.x, y: String(it.t.releaseId) })),
      )
      right += acc * first.size
      total += first.size
      chance += 1 // each of the k held-out tracks of this artist is right by chance with probability 1/k
    }
    expect(total).toBeGreaterThan(20)
    // Measured 0.73 against a chance level of 0.5 here (48 held-out tracks: ~3 standard errors above).
    expect(right / total).toBeGreaterThan(chance / total + 0.12)
  })
})

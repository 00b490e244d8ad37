import { describe, expect, it } from 'vitest'
import { escapeAttr, escapeText, formatDuration, releaseXml } from '../../src/synth/dump-xml.ts'
import { fnv1a32 } from '../../src/random/seeded-random.ts'
import { Rng } from '../../src/synth/prng.ts'
import { renderTrack, wavetable } from '../../src/synth/render.ts'
import { STYLES } from '../../src/synth/vocabulary.ts'
import { flattenAudible, generateWorld, VARIOUS_ARTIST, worldOptions } from '../../src/synth/world.ts'

describe('seeded PRNG', () => {
  it('mulberry32: fixed stream for a seed, uniform in [0, 1)', () => {
    const a = new Rng(42)
    const b = new Rng(42)
    const xs = Array.from({ length: 10000 }, () => a.next())
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b.next()))
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...xs)).toBeLessThan(1)
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1)
    expect(new Rng(43).next()).not.toBe(new Rng(42).next())
  })

  it('forks depend on the parent seed and the names, not on how far the parent has run', () => {
    const a = new Rng(7)
    const f1 = a.fork('artist', 3).next()
    a.next()
    a.next()
    expect(a.fork('artist', 3).next()).toBe(f1)
    expect(a.fork('artist', 4).next()).not.toBe(f1)
    expect(fnv1a32('')).toBe(0x811c9dc5)
    expect(fnv1a32('a')).toBe(0xe40c292c) // FNV-1a test vector
  })

  it('weighted picks follow their weights', () => {
    const r = new Rng(1)
    const counts = [0, 0, 0]
    for (let i = 0; i < 30000; i++) counts[r.weighted([1, 2, 0])]++
    expect(counts[2]).toBe(0)
    expect(counts[1] / counts[0]).toBeCloseTo(2, 0)
  })
})

describe('XML escaping as in the dumps', () => {
  it('escapes markup and writes non-ASCII and CR as character references', () => {
    expect(escapeText('Jesper Dahlbäck & <Co> "x"\r\n')).toBe(
      'Jesper Dahlb&#228;ck &amp; &lt;Co&gt; "x"&#13;\n',
    )
    expect(escapeAttr('12" & 33 ⅓')).toBe('12&quot; &amp; 33 &#8531;')
    expect(escapeText('𝄞')).toBe('&#119070;') // one reference per code point, not per UTF-16 unit
    expect(formatDuration(0)).toBe('0:00')
    expect(formatDuration(65)).toBe('1:05')
    expect(formatDuration(600)).toBe('10:00')
  })
})

describe('generated world', () => {
  const opts = worldOptions('small', { seed: 11 })
  const world = generateWorld(opts)
  const audible = world.releases.flatMap((r) => flattenAudible(r.tracks))

  it('is a pure function of its options', () => {
    expect(generateWorld(opts)).toEqual(world)
    expect(generateWorld({ ...opts, seed: 12 })).not.toEqual(world)
  })

  it('has the requested sizes and ids far above real Discogs ids', () => {
    expect(world.artists.filter((a) => a.sound)).toHaveLength(opts.artists)
    expect(world.labels.filter((l) => l.kind === 'label')).toHaveLength(opts.labels)
    expect(world.releases).toHaveLength(opts.releases)
    for (const x of [...world.artists, ...world.labels, ...world.masters, ...world.releases])
      expect(x.id).toBeGreaterThan(900_000_000)
    expect(new Set(world.releases.map((r) => r.id)).size).toBe(world.releases.length)
    // Every style is present once there are at least as many artists as styles.
    expect(new Set(audible.map((t) => t.render!.style)).size).toBe(STYLES.length)
  })

  it('has the graph features of the real catalog', () => {
    const perArtist = new Map<number, number>()
    for (const r of world.releases)
      for (const a of r.artists) perArtist.set(a.artistId, (perArtist.get(a.artistId) ?? 0) + 1)
    expect([...perArtist.values()].filter((n) => n >= 2).length).toBeGreaterThan(opts.artists / 2)
    // Sublabels point at their parent and the parent lists them.
    const subs = world.labels.filter((l) => l.parent)
    expect(subs.length).toBeGreaterThan(0)
    for (const s of subs)
      expect(world.labels.find((l) => l.id === s.parent!.id)!.sublabels.map((x) => x.id)).toContain(s.id)
    // Masters: exactly one main release each; some with several versions.
    const versions = new Map<number, number>()
    for (const m of world.masters) {
      const rs = world.releases.filter((r) => r.masterId === m.id)
      expect(rs.filter((r) => r.isMainRelease).map((r) => r.id)).toEqual([m.mainReleaseId])
      versions.set(m.id, rs.length)
    }
    expect([...versions.values()].some((n) => n >= 2)).toBe(true)
    // Compilations: "Various" with track-level artists.
    const comps = world.releases.filter((r) => r.kind === 'compilation')
    expect(comps.length).toBeGreaterThan(0)
    for (const c of comps) {
      expect(c.artists).toEqual([{ artistId: VARIOUS_ARTIST.id, name: 'Various' }])
      for (const t of flattenAudible(c.tracks)) expect(t.artists).toHaveLength(1)
    }
    expect(world.releases.every((r) => r.credits.length > 0)).toBe(true)
    const all = world.releases.flatMap((r) => r.tracks)
    expect(all.some((t) => t.type === 'heading' && t.position === '' && t.durationS === null)).toBe(true)
    expect(all.some((t) => t.type === 'index' && t.subTracks.length >= 2)).toBe(true)
    expect(
      all.some((t) =>
        t.credits.some((c) => c.role === 'Remix' || c.role === 'Featuring' || c.role === 'Vocals'),
      ),
    ).toBe(true)
    // Labels lean to styles: a label's releases mostly carry its favourite styles.
    const leaning = world.labels
      .filter((l) => l.kind === 'label')
      .map((l) => {
        const rs = world.releases.filter((r) => r.labels[0].id === l.id && r.kind !== 'compilation')
        const fav = rs.filter((r) => r.styles.some((s) => (l.styleWeights[s] ?? 0) >= 1)).length
        return rs.length ? fav / rs.length : 1
      })
    expect(leaning.reduce((s, x) => s + x, 0) / leaning.length).toBeGreaterThan(0.6)
  })

  it('tracks of one artist share tempo habits and keys; durations are whole seconds', () => {
    for (const t of audible) {
      expect(Number.isInteger(t.durationS)).toBe(true)
      expect(t.render!.seconds).toBe(t.durationS)
      const [lo, hi] = STYLES.find((s) => s.name === t.render!.style)!.tempo
      expect(t.render!.tempo).toBeGreaterThanOrEqual(lo)
      expect(t.render!.tempo).toBeLessThanOrEqual(hi)
    }
    // A reissue's tracks are the same recordings as its original's, with another production.
    const re = world.releases.find((r) => r.reissueOf !== null)!
    const orig = world.releases.find((r) => r.id === re.reissueOf)!
    const a = flattenAudible(orig.tracks)
    const b = flattenAudible(re.tracks)
    expect(b.map((t) => t.render!.musicSeed)).toEqual(a.map((t) => t.render!.musicSeed))
    expect(b[0].render!.production).not.toEqual(a[0].render!.production)
  })

  it('serialises a release with its tracklist in dump element order', () => {
    const xml = releaseXml(world.releases[0])
    const order = [
      '<artists>',
      '<title>',
      '<labels>',
      '<extraartists>',
      '<formats>',
      '<genres>',
      '<styles>',
      '<country>',
      '<released>',
      '<notes>',
      '<data_quality>',
      '<tracklist>',
      '<companies>',
    ]
    const at = order.map((t) => xml.indexOf(t))
    expect(at.every((i) => i > 0)).toBe(true)
    expect(at).toEqual([...at].sort((x, y) => x - y))
  })
})

describe('renderer', () => {
  const world = generateWorld(worldOptions('tiny', { seed: 3 }))
  const track = world.releases.flatMap((r) => flattenAudible(r.tracks))[0]

  it('renders the requested length, finite, within full scale, at the release loudness', () => {
    const [l, r] = renderTrack(track.render!, { sampleRate: 22050, channels: 2 })
    expect(l.length).toBe(track.durationS! * 22050)
    expect(r.length).toBe(l.length)
    let peak = 0
    let sum = 0
    let finite = true
    for (let i = 0; i < l.length; i++) {
      finite &&= Number.isFinite(l[i]) && Number.isFinite(r[i])
      peak = Math.max(peak, Math.abs(l[i]), Math.abs(r[i]))
      sum += l[i] * l[i] + r[i] * r[i]
    }
    expect(finite).toBe(true)
    expect(peak).toBeLessThanOrEqual(0.98 + 1e-6)
    const rmsDb = 20 * Math.log10(Math.sqrt(sum / (2 * l.length)))
    // Loudness is normalised before the final peak guard, which can only lower it.
    expect(rmsDb).toBeLessThanOrEqual(track.render!.production.loudness + 0.01)
    expect(rmsDb).toBeGreaterThan(track.render!.production.loudness - 12)
  })

  it('is deterministic, and mono is the mean of the stereo channels', () => {
    const a = renderTrack(track.render!, { sampleRate: 16000, channels: 2 })
    const b = renderTrack(track.render!, { sampleRate: 16000, channels: 2 })
    expect(b[0]).toEqual(a[0])
    const [m] = renderTrack(track.render!, { sampleRate: 16000, channels: 1 })
    for (let i = 0; i < m.length; i += 997) expect(m[i]).toBeCloseTo(0.5 * (a[0][i] + a[1][i]), 6)
  })

  it('wavetables are band-limited and shaped by the artist palette', () => {
    const sound = track.render!.sound
    const t = wavetable({ ...sound, oddness: 1, formantGain: 0 }, 1000, 16000)
    // Odd harmonics only → half-wave antisymmetry: x(t + T/2) = −x(t).
    for (let i = 0; i < 1024; i += 37) expect(t[i + 1024]).toBeCloseTo(-t[i], 5)
    // At 1 kHz and 16 kHz, harmonics stop at 8 (Nyquist): the spectrum above is empty.
    const re = (k: number) =>
      t.slice(0, 2048).reduce((s, x, i) => s + x * Math.sin((2 * Math.PI * k * i) / 2048), 0)
    expect(Math.abs(re(9))).toBeLessThan(1e-6 * 2048)
    expect(Math.abs(re(7))).toBeGreaterThan(1e-3)
    expect(Math.max(...t)).toBeCloseTo(1, 5)
  })
})

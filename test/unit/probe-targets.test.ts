import { describe, expect, it } from 'vitest'
import { parseLabelFile, resolveLabelRows } from '../../src/ml/probes/label-file.ts'
import {
  decadeOf,
  multiLabelTargets,
  restrictTargets,
  singleLabelTargets,
} from '../../src/ml/probes/targets.ts'

describe('probe targets', () => {
  it('keeps the top-K labels by frequency (ties by name) and drops tracks with none of them', () => {
    const t = multiLabelTargets(
      new Map([
        [3, ['Techno', 'Ambient']],
        [1, ['Techno']],
        [2, ['Punk']],
        [4, ['Ambient', 'Ambient']],
        [5, ['Bebop']],
      ]),
      2,
    )
    expect(t.classes).toEqual(['Ambient', 'Techno'])
    expect(t.trackIds).toEqual([1, 3, 4])
    expect(Array.from(t.labels)).toEqual([0, 1, 1, 1, 1, 0])
    expect(t.multiLabel).toBe(true)
  })

  it('builds single-label targets with class indices and one-hot rows', () => {
    const t = singleLabelTargets(
      new Map([
        [7, '1990s'],
        [8, '1980s'],
        [9, '1990s'],
        [10, '1970s'],
      ]),
      2,
    )
    expect(t.classes).toEqual(['1990s', '1970s'])
    expect(t.trackIds).toEqual([7, 9, 10])
    expect(Array.from(t.classIndex!)).toEqual([0, 0, 1])
    expect(Array.from(t.labels)).toEqual([1, 0, 1, 0, 0, 1])
    const r = restrictTargets(t, new Set([9, 10]))
    expect(r.trackIds).toEqual([9, 10])
    expect(Array.from(r.classIndex!)).toEqual([0, 1])
    expect(Array.from(r.labels)).toEqual([1, 0, 0, 1])
  })

  it('maps years to decades and ignores unknown ones', () => {
    expect(decadeOf(1999)).toBe('1990s')
    expect(decadeOf(2000)).toBe('2000s')
    expect(decadeOf(0)).toBeUndefined()
    expect(decadeOf(null)).toBeUndefined()
  })
})

describe('parseLabelFile', () => {
  it('reads track ids or paths, then labels, skipping comments, blanks and a header', () => {
    const f = parseLabelFile(
      'track_id\tlabels\n# a comment\n12\tTechno\tAmbient\n\naudio/a b.wav\tPunk\n',
      'tags.tsv',
    )
    expect(f.rows).toEqual([
      { line: 3, track: { trackId: 12 }, labels: ['Techno', 'Ambient'] },
      { line: 5, track: { path: 'audio/a b.wav' }, labels: ['Punk'] },
    ])
    expect(f.multiLabel).toBe(true)
    expect(parseLabelFile('1\tA\n2\tB\n', 'x.tsv').multiLabel).toBe(false)
  })

  it('understands the MTG-Jamendo header', () => {
    const text =
      'TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\ntrack_0000214\tartist_000014\talbum_000031\t14/214.mp3\t124.6\tgenre---punkrock\tmood/theme---energetic\n'
    expect(parseLabelFile(text, 'autotagging.tsv').rows).toEqual([
      { line: 2, track: { path: '14/214.mp3' }, labels: ['genre---punkrock', 'mood/theme---energetic'] },
    ])
  })

  it('names the file and line of every error', () => {
    expect(() => parseLabelFile('1\tA\n2\n', 'tags.tsv')).toThrow(/tags\.tsv line 2: no labels after "2"/)
    expect(() => parseLabelFile('1\tA\n\n1\tB\n', 'tags.tsv')).toThrow(
      /tags\.tsv line 3: "1" is listed again \(first on line 1\)/,
    )
    expect(() => parseLabelFile('1\tA\n3 Techno House\n', 'tags.tsv')).toThrow(/tags\.tsv line 2: no tab/)
    expect(() => parseLabelFile('1\tA\n\tB\n', 'tags.tsv')).toThrow(/tags\.tsv line 2: the first column/)
    expect(() => parseLabelFile('99999999999999999999\tA\n', 'tags.tsv')).toThrow(
      /line 1: track id .* out of range/,
    )
    expect(() => parseLabelFile('# nothing\n', 'tags.tsv')).toThrow(/tags\.tsv: no labelled tracks/)
  })
})

describe('resolveLabelRows', () => {
  const catalog = {
    existingTrackIds: new Set([1, 2, 3, 4]),
    audioPaths: [
      { path: '/music/jamendo/14/214.mp3', trackId: 3 },
      { path: '/music/other/214.mp3', trackId: 4 },
      { path: '/music/a/x.wav', trackId: 2 },
    ],
  }

  it('maps ids and path tails to tracks', () => {
    const parsed = parseLabelFile('1\tA\n14/214.mp3\tB\tC\n./a/x.wav\tD\n', 'f.tsv')
    expect([...resolveLabelRows(parsed, 'f.tsv', catalog)]).toEqual([
      [1, ['A']],
      [3, ['B', 'C']],
      [2, ['D']],
    ])
  })

  it('names the lines of unknown, ambiguous and repeated tracks', () => {
    const parsed = parseLabelFile('9\tA\n214.mp3\tB\nnope.wav\tC\n2\tD\n/music/a/x.wav\tE\n', 'f.tsv')
    let message = ''
    try {
      resolveLabelRows(parsed, 'f.tsv', catalog)
    } catch (e) {
      message = (e as Error).message
    }
    expect(message).toMatch(/f\.tsv: 4 rows not resolved/)
    expect(message).toMatch(/line 1: no track with id 9/)
    expect(message).toMatch(/line 2: "214\.mp3" matches 2 audio files/)
    expect(message).toMatch(/line 3: no audio file linked to a track at "nope\.wav"/)
    expect(message).toMatch(/line 5: names track 2 again \(first on line 4\)/)
  })
})

import { describe, expect, it } from 'vitest'
import { parseLabelFile } from '../../src/ml/probes/label-file.ts'
import { decadeOf, multiLabelTargets, restrictTargets, singleLabelTargets } from '../../src/ml/probes/targets.ts'

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
    const t = singleLabelTargets(new Map([[7, '1990s'], [8, '1980s'], [9, '1990s'], [10, '1970s']]), 2)
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
    const f = parseLabelFile('track_id\tlabels\n# a comment\n12\tTechno\tAmbient\n\naudio/a b.wav\tPunk\n', 'tags.tsv')
    expect(f.rows).toEqual([
      { line: 3, track: { trackId: 12 }, labels: ['Techno', 'Ambient'] },
      { line: 5, track: { path: 'audio/a b.wav' }, labels: ['Punk'] },
    ])
    expect(f.multiLabel).toBe(true)
    expect(parseLabelFile('1\tA\n2\tB\n', 'x.tsv').multiLabel).toBe(false)
  })

  it('understands the MTG-Jamendo header', () => {
    const text = 'TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\ntrack_0000214\tartist_000014\talbum_000031\t14/214.mp3\t124.6\tgenre---punkrock\tmood/theme---energetic\n'
    expect(parseLabelFile(text, 'autotagging.tsv').rows).toEqual([{ line: 2, track: { path: '14/214.mp3' }, labels: ['genre---punkrock', 'mood/theme---energetic'] }])
  })

  it('names the file and line of every error', () => {
    expect(() => parseLabelFile('1\tA\n2\n', 'tags.tsv')).toThrow(/tags\.tsv line 2: no labels after "2"/)
    expect(() => parseLabelFile('1\tA\n\n1\tB\n', 'tags.tsv')).toThrow(/tags\.tsv line 3: "1" is listed again \(first on line 1\)/)
    expect(() => parseLabelFile('1\tA\n3 Techno House\n', 'tags.tsv')).toThrow(/tags\.tsv line 2: no tab/)
    expect(() => parseLabelFile('1\tA\n\tB\n', 'tags.tsv')).toThrow(/tags\.tsv line 2: the first column/)
    expect(() => parseLabelFile('99999999999999999999\tA\n', 'tags.tsv')).toThrow(/line 1: track id .* out of range/)
    expect(() => parseLabelFile('# nothing\n', 'tags.tsv')).toThrow(/tags\.tsv: no labelled tracks/)
  })
})

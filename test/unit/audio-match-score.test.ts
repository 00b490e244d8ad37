import { describe, expect, it } from 'vitest'
import {
  decideMatch,
  durationAgreement,
  scoreCandidate,
  trackNumberAgrees,
  type CandidateTrack,
} from '../../src/ingest/audio/match-score.ts'
import { fileTagsFrom, repairUtf8 } from '../../src/ingest/audio/tags.ts'

function cand(over: Partial<CandidateTrack>): CandidateTrack {
  return {
    trackId: 1,
    releaseId: 10,
    position: 'A1',
    title: 'Echoes',
    releaseTitle: 'Urban Lullaby',
    releaseYear: 1989,
    ordinal: 1,
    durationS: 180,
    titleSim: 1,
    albumSim: 1,
    artistSim: 1,
    ...over,
  }
}

describe('evidence', () => {
  it('track numbers agree with the ordinal, a CD position and its disc', () => {
    expect(trackNumberAgrees({ position: 'B2', ordinal: 4 }, { trackNo: 4 })).toBe(true)
    expect(trackNumberAgrees({ position: 'B2', ordinal: 4 }, { trackNo: 2 })).toBe(false)
    expect(trackNumberAgrees({ position: '2-3', ordinal: 13 }, { trackNo: 3, discNo: 2 })).toBe(true)
    expect(trackNumberAgrees({ position: '2-3', ordinal: 13 }, { trackNo: 3, discNo: 1 })).toBe(false)
    expect(trackNumberAgrees({ position: '2-3', ordinal: 13 }, { trackNo: 13 })).toBe(true) // numbered straight through
    expect(trackNumberAgrees({ position: '7', ordinal: 6 }, { trackNo: 7 })).toBe(true) // a heading-less gap
    expect(trackNumberAgrees({ position: 'A1', ordinal: 1 }, {})).toBeNull()
  })

  it('durations agree within max(2 s, 2 %) and fall to nothing at five times that', () => {
    expect(durationAgreement(181.9, 180)).toBe(1)
    expect(durationAgreement(180 + 3.6, 180)).toBe(1) // 2 % of 180 s
    expect(durationAgreement(180 + 3.6 + 7.2, 180)).toBeCloseTo(0.5, 9)
    expect(durationAgreement(200, 180)).toBe(0)
    expect(durationAgreement(10, null)).toBeNull()
    expect(durationAgreement(undefined, 180)).toBeNull()
  })
})

describe('scores', () => {
  it('is a weighted mean over the evidence both sides have', () => {
    // tags mode weights: title .4, album .25, artist .15, track no .1, duration .1, year .1
    const c = cand({ titleSim: 0.8, albumSim: 0.6, artistSim: 0.5 })
    expect(scoreCandidate(c, { trackNo: 1, durationS: 180, year: 1989 }, 'tags')).toBeCloseTo(
      (0.32 + 0.15 + 0.075 + 0.3) / 1.1,
      9,
    )
    // no track number, duration or year on the file: only title, album and artist count
    expect(scoreCandidate(c, {}, 'tags')).toBeCloseTo((0.32 + 0.15 + 0.075) / 0.8, 9)
    // release mode ignores album, artist and year: title .45, track no .35, duration .2
    expect(
      scoreCandidate(
        cand({ titleSim: 0.2, albumSim: 0, artistSim: 0 }),
        { trackNo: 1, durationS: 180, year: 1 },
        'release',
      ),
    ).toBeCloseTo(0.09 + 0.35 + 0.2, 9)
  })

  it('rejects, whatever else agrees, a candidate whose title, album or artist is unlike the tags', () => {
    const f = { trackNo: 1, durationS: 180, year: 1989 }
    expect(scoreCandidate(cand({ titleSim: 0.45 }), f, 'tags')).toBeNull()
    expect(scoreCandidate(cand({ albumSim: 0.3 }), f, 'tags')).toBeNull()
    expect(scoreCandidate(cand({ artistSim: 0.2 }), f, 'tags')).toBeNull() // "Greatest Hits" by someone else
    expect(scoreCandidate(cand({ albumSim: null, artistSim: null }), f, 'tags')).toBe(1)
  })
})

describe('decisions', () => {
  const file = { trackNo: 2, durationS: 200, year: 1978 }

  it('takes the year-matching reissue over its original, which has the same titles', () => {
    const original = cand({ trackId: 7, releaseId: 3, releaseYear: 1957, ordinal: 2, durationS: 200 })
    const reissue = cand({ trackId: 17, releaseId: 5, releaseYear: 1978, ordinal: 2, durationS: 200 })
    const d = decideMatch([original, reissue], file, 'tags')
    expect(d.kind).toBe('matched')
    if (d.kind !== 'matched') return
    expect(d.best.candidate.trackId).toBe(17)
    expect(d.best.score).toBe(1)
    expect(d.runnerUp?.score).toBeCloseTo(1 / 1.1, 9)
  })

  it('calls it ambiguous when the two best are within the margin', () => {
    const a = cand({ trackId: 7, releaseYear: 1957, ordinal: 2, durationS: 200 })
    const b = cand({ trackId: 17, releaseYear: 1957, ordinal: 2, durationS: 200, titleSim: 0.95 })
    const d = decideMatch([b, a], { trackNo: 2, durationS: 200 }, 'tags')
    expect(d.kind).toBe('ambiguous')
    if (d.kind === 'ambiguous') expect(d.contenders.map((s) => s.candidate.trackId)).toEqual([7, 17])
  })

  it('leaves the file unmatched below the threshold, or with no candidate past the gates', () => {
    const weak = cand({ titleSim: 0.6, albumSim: 0.5, artistSim: 0.5, ordinal: 9, durationS: 100 })
    const d = decideMatch([weak], file, 'tags')
    expect(d).toMatchObject({ kind: 'unmatched', reason: 'low-confidence' })
    if (d.kind === 'unmatched') expect(d.best!.score).toBeLessThan(0.8)
    expect(decideMatch([cand({ titleSim: 0.1 })], file, 'tags')).toEqual({
      kind: 'unmatched',
      reason: 'no-candidates',
    })
    expect(decideMatch([], file, 'tags')).toEqual({ kind: 'unmatched', reason: 'no-candidates' })
  })

  it('with a known release, finds a track by number and length, unless its title tag says otherwise', () => {
    const tracks = (titleSim: number | null) =>
      [1, 2, 3].map((n) =>
        cand({ trackId: n, ordinal: n, position: `A${n}`, titleSim, durationS: n === 2 ? 200 : 150 }),
      )
    const d = decideMatch(tracks(null), file, 'release')
    expect(d.kind).toBe('matched')
    if (d.kind === 'matched') expect([d.best.candidate.trackId, d.best.score]).toEqual([2, 1])
    // a title unlike every track of the release contradicts the number: .45·0.1 + .35 + .2 < 0.6
    expect(decideMatch(tracks(0.1), file, 'release')).toMatchObject({
      kind: 'unmatched',
      reason: 'low-confidence',
    })
  })
})

describe('tags', () => {
  it('reads Discogs ids and positions written by taggers, and the common fields', () => {
    const t = fileTagsFrom({
      common: {
        title: 'Echoes',
        artist: 'DJ Horizon',
        album: 'Urban Lullaby',
        year: 1989,
        track: { no: null, of: null },
        disk: { no: 1, of: 2 },
        movementIndex: { no: null, of: null },
      },
      native: {
        'ID3v2.3': [
          { id: 'TXXX:DISCOGS_RELEASE_ID', value: '900000001' },
          { id: 'TRCK', value: 'A2/4' },
        ],
      },
    })
    expect(t).toEqual({
      title: 'Echoes',
      artist: 'DJ Horizon',
      album: 'Urban Lullaby',
      year: 1989,
      discNo: 1,
      discogsReleaseId: 900000001,
      discogsPosition: 'A2',
    })
    const v = fileTagsFrom({
      common: {
        track: { no: 3, of: null },
        disk: { no: null, of: null },
        movementIndex: { no: null, of: null },
      },
      native: {
        vorbis: [
          { id: 'WWW', value: 'https://www.discogs.com/release/123-Some-Title' },
          { id: 'DISCOGS_TRACK_POSITION', value: 'B1' },
        ],
      },
    })
    expect(v).toEqual({ trackNo: 3, discogsReleaseId: 123, discogsPosition: 'B1' })
    // a plain track number is not a position; a non-numeric id is ignored
    expect(
      fileTagsFrom({
        common: {
          track: { no: 3, of: null },
          disk: { no: null, of: null },
          movementIndex: { no: null, of: null },
        },
        native: {
          vorbis: [
            { id: 'TRACKNUMBER', value: '3' },
            { id: 'DISCOGS_RELEASE_ID', value: 'r123' },
          ],
        },
      }),
    ).toEqual({ trackNo: 3 })
  })

  it('reads UTF-8 that a Latin-1 tag field was filled with, and leaves real Latin-1 alone', () => {
    expect(repairUtf8('ZÃ¼rich Mercury')).toBe('Zürich Mercury')
    expect(repairUtf8('SigurÃ°ur RÃ³s')).toBe('Sigurður Rós')
    expect(repairUtf8('Zürich')).toBe('Zürich') // Latin-1 ü alone is not a UTF-8 sequence
    expect(repairUtf8('Ã\u0080x€')).toBe('Ã\u0080x€') // has a character outside Latin-1: already decoded
    expect(repairUtf8('Ã©tÃ')).toBe('Ã©tÃ') // a trailing lone lead byte is not valid UTF-8
    expect(
      fileTagsFrom({
        common: {
          title: 'ZÃ¼rich',
          track: { no: null, of: null },
          disk: { no: null, of: null },
          movementIndex: { no: null, of: null },
        },
        native: {},
      }).title,
    ).toBe('Zürich')
  })
})

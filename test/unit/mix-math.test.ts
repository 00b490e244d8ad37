import { describe, expect, it } from 'vitest'
import {
  PlayedSet,
  choosePath,
  meanDirection,
  orderMix,
  pathWaypoints,
  recordingKey,
  similarity,
  slerp,
  type MixCandidate,
} from '../../src/ml/retrieval/mix.ts'

const f32 = (...x: number[]) => Float32Array.from(x)
/** A unit vector in the plane at `deg` degrees from the x axis. */
const at = (deg: number) => f32(Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180))
const cand = (id: number, deg: number, artists = [id], recording = `t${id}`): MixCandidate => ({
  id,
  vector: at(deg),
  artists,
  recording,
})
const angle = (v: Float32Array) => (Math.atan2(v[1], v[0]) * 180) / Math.PI

describe('slerp', () => {
  it('moves along the great arc in equal angles, staying unit length', () => {
    const a = at(0)
    const b = at(90)
    for (const [t, deg] of [
      [0, 0],
      [0.25, 22.5],
      [0.5, 45],
      [1, 90],
    ]) {
      const v = slerp(a, b, t)
      expect(angle(v)).toBeCloseTo(deg, 4)
      expect(Math.hypot(...v)).toBeCloseTo(1, 6)
    }
  })

  it('falls back to lerp for equal vectors and refuses opposite ones', () => {
    expect(Array.from(slerp(at(10), at(10), 0.3))).toEqual(
      Array.from(at(10)).map((x) => expect.closeTo(x, 6)),
    )
    expect(() => slerp(at(0), at(180), 0.5)).toThrow(/opposite/)
  })

  it('gives tracks − 2 inner waypoints', () => {
    const w = pathWaypoints(at(0), at(60), 4)
    expect(w.map(angle)).toEqual([expect.closeTo(20, 4), expect.closeTo(40, 4)])
  })
})

describe('similarity, centre and recording keys', () => {
  it('maps cosine to (1 + cos) / 2', () => {
    expect(similarity(at(0), at(0))).toBeCloseTo(1, 6)
    expect(similarity(at(0), at(90))).toBeCloseTo(0.5, 6)
    expect(similarity(at(0), at(180))).toBeCloseTo(0, 6)
    expect(similarity(at(0), at(60))).toBeCloseTo(0.75, 6)
  })

  it('takes the mean direction of the seeds', () => {
    expect(angle(meanDirection([at(0), at(90)]))).toBeCloseTo(45, 4)
  })

  it('folds remaster notes, accents and punctuation, not performances', () => {
    expect(recordingKey('Café del Mar (2011 Remaster)', [7])).toBe(recordingKey('cafe del mar', [7]))
    expect(recordingKey('Song – Remastered [Mono]', [2, 1])).toBe(recordingKey('song remastered', [1, 2]))
    expect(recordingKey('Song (Live)', [7])).not.toBe(recordingKey('Song', [7]))
    expect(recordingKey('Song', [7])).not.toBe(recordingKey('Song', [8]))
  })

  it('sees ids, recordings and near-identical vectors as repeats', () => {
    const played = new PlayedSet()
    played.add(cand(1, 0))
    expect(played.repeats(cand(1, 90))).toBe(true)
    expect(played.repeats({ ...cand(2, 90), recording: 't1' })).toBe(true)
    // cos 5° = 0.9962 > 0.99; cos 10° = 0.985
    expect(played.repeats(cand(3, 5))).toBe(true)
    expect(played.repeats(cand(4, 10))).toBe(false)
  })
})

describe('orderMix', () => {
  it('with α = 0 is the top-k by similarity to the centre', () => {
    const out = orderMix({
      start: at(0),
      centre: at(0),
      candidates: [cand(1, 80), cand(2, 20), cand(3, 40)],
      first: 3,
      maxPerArtist: 3,
      alpha: 0,
      played: new PlayedSet(),
    })
    expect(out.map((c) => c.id)).toEqual([2, 3, 1])
  })

  it('flows: with α = 1 each next track is the nearest to the last one', () => {
    // from 0°: 30° is nearest, then from 30° the nearest left is 55°, then -40° (95° away) vs 120° (65°)
    const out = orderMix({
      start: at(0),
      centre: at(0),
      candidates: [cand(1, -40), cand(2, 30), cand(3, 55), cand(4, 120)],
      first: 4,
      maxPerArtist: 3,
      alpha: 1,
      played: new PlayedSet(),
    })
    expect(out.map((c) => c.id)).toEqual([2, 3, 4, 1])
  })

  it('weighs last and centre by α (hand-computed scores)', () => {
    // start 0°, centre 0°, α = 0.5. Step 1: 30° scores (0.933+0.933)/2 = 0.933, -35° 0.910 → 30°.
    // Step 2 from 30°: 60° scores 0.5·0.933 + 0.5·0.75 = 0.842; -35° scores 0.5·0.711 + 0.5·0.910 = 0.811 → 60°.
    const out = orderMix({
      start: at(0),
      centre: at(0),
      candidates: [cand(1, -35), cand(2, 30), cand(3, 60)],
      first: 3,
      maxPerArtist: 3,
      alpha: 0.5,
      played: new PlayedSet(),
    })
    expect(out.map((c) => c.id)).toEqual([2, 3, 1])
  })

  it('caps artists, leaves out repeats of what was played and stops when candidates run out', () => {
    const played = new PlayedSet()
    played.add(cand(100, 0, [9], 'seed'))
    const candidates = [
      cand(1, 20, [5]),
      cand(2, 21 + 10, [5]),
      cand(3, 45, [5]),
      cand(4, 60, [6]),
      { ...cand(5, 70, [6]), recording: 'seed' },
      cand(6, 2, [7]),
    ]
    const out = orderMix({
      start: at(0),
      centre: at(0),
      candidates,
      first: 10,
      maxPerArtist: 2,
      alpha: 0.5,
      played,
    })
    expect(out.map((c) => c.id)).toEqual([1, 2, 4])
  })
})

describe('choosePath', () => {
  const waypoints = pathWaypoints(at(0), at(90), 5) // 22.5°, 45°, 67.5°

  it('starts and ends right, takes the candidates nearest their waypoints and rises towards `to`', () => {
    const nearWaypoint = [
      [cand(3, 28), cand(4, 33)],
      [cand(5, 58), cand(3, 28)],
      [cand(6, 92), cand(7, 70)],
    ]
    const { tracks, skipped } = choosePath({ from: cand(1, 0), to: cand(2, 90), waypoints, nearWaypoint })
    // 92° is 2° from `to`: closer, but a near duplicate of it (cos 2° > 0.99); 28° fits 22.5° better than 33°
    expect(tracks.map((c) => c.id)).toEqual([1, 3, 5, 7, 2])
    expect(skipped).toBe(0)
  })

  it('does not let an early overshoot cost later steps (the most tracks win)', () => {
    // greedy would take 60° at the first waypoint and then find nothing above it at the second
    const nearWaypoint = [[cand(3, 60), cand(4, 20)], [cand(5, 40)], [cand(6, 70)]]
    const { tracks } = choosePath({ from: cand(1, 0), to: cand(2, 90), waypoints, nearWaypoint })
    expect(tracks.map((c) => c.id)).toEqual([1, 4, 5, 6, 2])
  })

  it('skips a waypoint that cannot rise, so the path is shorter, preferring tracks near their waypoints', () => {
    const nearWaypoint = [[cand(3, 50)], [cand(4, 40), cand(3, 50)], [cand(5, 70)]]
    const { tracks, skipped } = choosePath({ from: cand(1, 0), to: cand(2, 90), waypoints, nearWaypoint })
    // 50° at the first waypoint (27.5° off it) or 40° at the second (5° off): the second
    expect(tracks.map((c) => c.id)).toEqual([1, 4, 5, 2])
    expect(skipped).toBe(1)
  })

  it('drops a repeated recording, keeping the rise', () => {
    const nearWaypoint = [[cand(3, 25, [9], 'same')], [cand(4, 45, [9], 'same')], [cand(5, 65)]]
    const { tracks } = choosePath({ from: cand(1, 0), to: cand(2, 90), waypoints, nearWaypoint })
    expect(tracks.map((c) => c.id)).toEqual([1, 3, 5, 2])
  })
})

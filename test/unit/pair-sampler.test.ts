import { describe, expect, it } from 'vitest'
import {
  eligibleGroupCount,
  epochBatches,
  largestFittingBatch,
  splitGroups,
  type AssociationGroups,
} from '../../src/ml/training/pair-sampler.ts'
import { SeededRandom } from '../../src/random/seeded-random.ts'

/** 30 artists with 1–40 tracks each; every 7th track is a collaboration with the next artist. */
function artistWorld(): AssociationGroups {
  const rng = new SeededRandom(7)
  const groups = new Map<string, number[]>()
  const trackGroups = new Map<number, string[]>()
  let track = 1
  for (let a = 0; a < 30; a++) {
    const n = a === 0 ? 40 : 1 + rng.int(8)
    for (let i = 0; i < n; i++, track++) {
      const keys = [`a${a}`]
      if (track % 7 === 0 && a < 29) keys.push(`a${a + 1}`)
      for (const k of keys) groups.set(k, [...(groups.get(k) ?? []), track])
      trackGroups.set(track, keys)
    }
  }
  return { groups, trackGroups }
}

describe('pair sampler', () => {
  const world = artistWorld()

  it('never puts two pairs that share any group in one batch', () => {
    const batches = epochBatches(world, { batchSize: 8, seed: 1, epoch: 0 })
    expect(batches.length).toBeGreaterThan(0)
    for (const batch of batches) {
      expect(batch).toHaveLength(8)
      const seen = new Set<string>()
      for (const p of batch) {
        expect(p.anchor).not.toBe(p.positive)
        expect(world.groups.get(p.group)).toEqual(expect.arrayContaining([p.anchor, p.positive]))
        const keys = new Set([...world.trackGroups.get(p.anchor)!, ...world.trackGroups.get(p.positive)!])
        for (const k of keys) {
          expect(seen.has(k), `group ${k} twice in a batch`).toBe(false)
          seen.add(k)
        }
      }
    }
  })

  it('is deterministic under a seed and differs between seeds and epochs', () => {
    const a = epochBatches(world, { batchSize: 4, seed: 42, epoch: 3 })
    expect(epochBatches(world, { batchSize: 4, seed: 42, epoch: 3 })).toEqual(a)
    expect(epochBatches(world, { batchSize: 4, seed: 43, epoch: 3 })).not.toEqual(a)
    expect(epochBatches(world, { batchSize: 4, seed: 42, epoch: 4 })).not.toEqual(a)
  })

  it('visits each group at most once per epoch, so a 40-track artist weighs like a 2-track one', () => {
    const counts = new Map<string, number>()
    for (const b of epochBatches(world, { batchSize: 4, seed: 5, epoch: 0 }))
      for (const p of b) counts.set(p.group, (counts.get(p.group) ?? 0) + 1)
    expect(Math.max(...counts.values())).toBe(1)
  })

  it('track association pairs a track with itself (two patches)', () => {
    const tracks: AssociationGroups = { groups: new Map(), trackGroups: new Map() }
    for (let t = 1; t <= 20; t++) {
      tracks.groups.set(`t${t}`, [t])
      tracks.trackGroups.set(t, [`t${t}`])
    }
    const batches = epochBatches(tracks, { batchSize: 5, seed: 1, epoch: 0, samePatchTrack: true })
    expect(batches).toHaveLength(4)
    expect(batches.flat().every((p) => p.anchor === p.positive)).toBe(true)
  })

  it('holds out whole groups and their tracks for validation', () => {
    const { train, validation } = splitGroups(world, 0.3, 9)
    expect(validation.groups.size).toBeGreaterThan(3)
    for (const key of validation.groups.keys()) expect(train.groups.has(key)).toBe(false)
    const valTracks = new Set([...validation.groups.values()].flat())
    for (const tracks of train.groups.values()) for (const t of tracks) expect(valTracks.has(t)).toBe(false)
  })
})

describe('the largest batch a catalog can fill', () => {
  /** Groups by key → tracks; a track listed under two keys belongs to both. */
  const world = (groups: Record<string, number[]>): AssociationGroups => {
    const trackGroups = new Map<number, string[]>()
    for (const [k, tracks] of Object.entries(groups))
      for (const t of tracks) trackGroups.set(t, [...(trackGroups.get(t) ?? []), k])
    return { groups: new Map(Object.entries(groups)), trackGroups }
  }

  it('counts the groups that can give a pair: two or more tracks, or every group for the track association', () => {
    const w = world({ a: [1, 2], b: [3], c: [4, 5, 6] })
    expect(eligibleGroupCount(w)).toBe(2)
    expect(eligibleGroupCount(w, true)).toBe(3)
  })

  it('is the batch asked for when it fits, else the largest that does, else 0', () => {
    const five = world({ a: [1, 2], b: [3, 4], c: [5, 6], d: [7, 8], e: [9, 10], f: [11] })
    expect(largestFittingBatch(five, { batchSize: 4, seed: 1 }).size).toBe(4)
    const fit = largestFittingBatch(five, { batchSize: 8, seed: 1 })
    expect(fit.size).toBe(5)
    expect(fit.batches[0]).toHaveLength(5)
    expect(largestFittingBatch(world({ a: [1, 2], b: [3] }), { batchSize: 8, seed: 1 })).toEqual({
      size: 0,
      batches: [],
    })
  })

  it('is smaller than the group count when groups share tracks (a shared track blocks both groups)', () => {
    // Every track of b and c is also an a track: a pair of a, b or c blocks the other two.
    const shared = world({ a: [1, 2, 3, 4], b: [1, 2], c: [3, 4], d: [5, 6] })
    expect(eligibleGroupCount(shared)).toBe(4)
    expect(largestFittingBatch(shared, { batchSize: 4, seed: 1 }).size).toBe(2)
  })
})

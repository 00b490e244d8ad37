import { SeededRandom, hash32 } from '../../random/seeded-random.ts'

/**
 * Contrastive pair sampling from editorial associations (pure; the groups come from SQL).
 *
 * - A group is what two positives share: a track (two patches of it), a release, an artist or a label.
 * - Each epoch visits every eligible group once, in a seeded order, and draws one pair inside it: large
 *   groups (majors, prolific artists) count once per epoch, like small ones, so they do not dominate.
 * - No false negatives: within a batch no two pairs share any group of any of their tracks (a track with
 *   two artists blocks both), because every other pair of the batch is a negative for COLA's softmax.
 */

export interface AssociationGroups {
  /** group key → tracks in it (tracks with audio only). */
  groups: Map<string, number[]>
  /** track → every group key it belongs to. */
  trackGroups: Map<number, string[]>
}

export interface Pair {
  group: string
  anchor: number
  positive: number
}

/**
 * Splits groups into training and validation by a seeded hash, holding out whole groups and every track
 * in them (a held-out track is removed from its other groups too), so validation measures generalisation
 * to unseen artists/releases/labels.
 */
export function splitGroups(
  all: AssociationGroups,
  validationFraction: number,
  seed: number,
): { train: AssociationGroups; validation: AssociationGroups } {
  const heldOut = new Set<number>()
  const valKeys = new Set<string>()
  for (const [key, tracks] of all.groups) {
    if (hash32(key, seed) / 4294967296 < validationFraction) {
      valKeys.add(key)
      for (const t of tracks) heldOut.add(t)
    }
  }
  const pick = (keep: (key: string) => boolean, trackOk: (t: number) => boolean): AssociationGroups => {
    const groups = new Map<string, number[]>()
    const trackGroups = new Map<number, string[]>()
    for (const [key, tracks] of all.groups) {
      if (!keep(key)) continue
      const kept = tracks.filter(trackOk)
      if (!kept.length) continue
      groups.set(key, kept)
      for (const t of kept) {
        const list = trackGroups.get(t)
        if (list) list.push(key)
        else trackGroups.set(t, [key])
      }
    }
    return { groups, trackGroups }
  }
  return {
    train: pick(
      (k) => !valKeys.has(k),
      (t) => !heldOut.has(t),
    ),
    validation: pick(
      (k) => valKeys.has(k),
      () => true,
    ),
  }
}

/**
 * The batches of one epoch. For the `track` association (`samePatchTrack`), a group is a single track and
 * the pair is (track, track): the two views are two different patches of it, chosen by the patch sampler.
 * Pairs that would collide with the batch being built wait for the next batch; leftovers that cannot fill
 * a whole batch are dropped (COLA needs full batches of negatives).
 */
export function epochBatches(
  g: AssociationGroups,
  options: { batchSize: number; seed: number; epoch: number; samePatchTrack?: boolean },
): Pair[][] {
  const rng = new SeededRandom(options.seed).fork(options.epoch + 1)
  const keys = [...g.groups.keys()].filter((k) =>
    options.samePatchTrack ? true : g.groups.get(k)!.length >= 2,
  )
  keys.sort() // Map order depends on SQL row order; sorting makes the shuffle depend on the seed only
  rng.shuffle(keys)

  const batches: Pair[][] = []
  let waiting: Pair[] = []
  let queue: Pair[] = keys.map((key) => {
    const tracks = g.groups.get(key)!
    if (options.samePatchTrack) return { group: key, anchor: tracks[0], positive: tracks[0] }
    const a = rng.int(tracks.length)
    let b = rng.int(tracks.length - 1)
    if (b >= a) b++
    return { group: key, anchor: tracks[a], positive: tracks[b] }
  })

  while (queue.length) {
    const batch: Pair[] = []
    const used = new Set<string>()
    for (const pair of queue) {
      const groups = [
        ...(g.trackGroups.get(pair.anchor) ?? []),
        ...(g.trackGroups.get(pair.positive) ?? []),
        pair.group,
      ]
      if (batch.length < options.batchSize && groups.every((k) => !used.has(k))) {
        batch.push(pair)
        for (const k of groups) used.add(k)
      } else {
        waiting.push(pair)
      }
    }
    if (batch.length === options.batchSize) batches.push(batch)
    else break // not enough mutually compatible pairs left for a whole batch
    queue = waiting
    waiting = []
  }
  return batches
}

/** Groups that can give a pair: every group for the track association (two patches), else those of 2+ tracks. */
export function eligibleGroupCount(g: AssociationGroups, samePatchTrack = false): number {
  let n = 0
  for (const tracks of g.groups.values()) if (samePatchTrack || tracks.length >= 2) n++
  return n
}

/**
 * The largest batch size, at most `batchSize` and at least 2, of which an epoch (epoch 0) has at least one
 * whole batch, with that epoch's batches; size 0 and no batches when not even two pairs fit together. A batch
 * needs that many eligible groups whose pairs share no group, so it can be smaller than the group count.
 */
export function largestFittingBatch(
  g: AssociationGroups,
  options: { batchSize: number; seed: number; samePatchTrack?: boolean },
): { size: number; batches: Pair[][] } {
  for (
    let size = Math.min(options.batchSize, eligibleGroupCount(g, options.samePatchTrack));
    size >= 2;
    size--
  ) {
    const batches = epochBatches(g, { ...options, batchSize: size, epoch: 0 })
    if (batches.length) return { size, batches }
  }
  return { size: 0, batches: [] }
}

import * as tf from '@tensorflow/tfjs'
import { l2Normalize } from '../embedding/pooling.ts'
import { precisionAtK } from '../retrieval/metrics.ts'
import type { ContrastiveModel } from './contrastive-model.ts'
import type { AssociationGroups } from './pair-sampler.ts'

/**
 * Validation as retrieval on held-out groups (groups never used for training pairs): each held-out item is
 * embedded (mean of its patches' vectors, unit length, centred on the held-out set's mean, unit length
 * again, as search does), and its k nearest other items are checked for sharing one of its groups. Chance
 * is the share of candidates that do. For artist and label groups, candidates of the query's own release
 * are left out (two tracks of one release share its production, which is not what an artist shares).
 */

export interface HeldOutItem {
  /** Which track's patches make the item's vector. */
  trackId: number
  /** Which of the track's patches (all of them for an item per track; a half for the track association). */
  patches: number[]
  /** Group keys: an item is relevant to a query when they share one. */
  groups: string[]
  /** Candidates sharing this key with the query (its release) are not ranked; undefined excludes nothing. */
  exclude?: string
}

export interface HeldOutFigure {
  precision: number
  chance: number
  queries: number
}

/** At most this many patches (evenly spaced) represent a held-out track: validation stays cheap. */
export const VALIDATION_PATCHES = 4

/** Evenly spaced patch indices: all when there are at most `max`. */
export function spreadPatches(count: number, max = VALIDATION_PATCHES): number[] {
  if (count <= max) return Array.from({ length: count }, (_, i) => i)
  return Array.from({ length: max }, (_, i) => Math.floor(((i + 0.5) * count) / max))
}

/**
 * The held-out items of one objective. `trackExclude` maps a track to the key excluded from its candidates
 * (its release). For the track association every group is one track, so each track gives two items, from
 * the first and the second half of its patches: a query should find its own track's other half first.
 */
export function heldOutItems(
  validation: AssociationGroups,
  patchCount: (trackId: number) => number,
  options: { samePatchTrack: boolean; trackExclude?: (trackId: number) => string | undefined },
): HeldOutItem[] {
  const items: HeldOutItem[] = []
  const tracks = [...validation.trackGroups.keys()].sort((a, b) => a - b)
  for (const trackId of tracks) {
    const groups = validation.trackGroups.get(trackId)!
    const n = patchCount(trackId)
    if (options.samePatchTrack) {
      if (n < 2) continue
      const half = Math.floor(n / 2)
      const first = spreadPatches(half, VALIDATION_PATCHES / 2)
      const second = spreadPatches(n - half, VALIDATION_PATCHES / 2).map((p) => p + half)
      items.push({ trackId, patches: first, groups }, { trackId, patches: second, groups })
    } else {
      items.push({ trackId, patches: spreadPatches(n), groups, exclude: options.trackExclude?.(trackId) })
    }
  }
  return items
}

/**
 * Precision@k of same-group neighbours over unit-length `vectors` (one per item, row-major n × d), and its
 * chance rate, averaged over the queries that have at least one relevant candidate.
 */
export function heldOutPrecision(
  vectors: Float32Array,
  items: readonly HeldOutItem[],
  k: number,
): HeldOutFigure {
  const n = items.length
  const d = n ? vectors.length / n : 0
  let precision = 0
  let chance = 0
  let queries = 0
  for (let q = 0; q < n; q++) {
    const scored: { score: number; relevant: boolean }[] = []
    for (let c = 0; c < n; c++) {
      if (c === q) continue
      if (items[q].exclude !== undefined && items[c].exclude === items[q].exclude) continue
      let dot = 0
      for (let i = 0; i < d; i++) dot += vectors[q * d + i] * vectors[c * d + i]
      scored.push({ score: dot, relevant: items[c].groups.some((g) => items[q].groups.includes(g)) })
    }
    const relevant = scored.filter((s) => s.relevant).length
    if (!relevant) continue
    scored.sort((a, b) => b.score - a.score)
    precision += precisionAtK(
      scored.map((s) => s.relevant),
      Math.min(k, scored.length),
    )
    chance += relevant / scored.length
    queries++
  }
  return queries
    ? { precision: precision / queries, chance: chance / queries, queries }
    : { precision: NaN, chance: NaN, queries: 0 }
}

/** Subtracts the mean row and scales each row to unit length, in place (rows of `d` values). */
export function centreRows(rows: Float32Array, d: number): Float32Array {
  const n = rows.length / d
  const mean = new Float64Array(d)
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) mean[i] += rows[r * d + i] / n
  for (let r = 0; r < n; r++) {
    let sum = 0
    for (let i = 0; i < d; i++) {
      const v = rows[r * d + i] - mean[i]
      rows[r * d + i] = v
      sum += v * v
    }
    const inv = sum > 0 ? 1 / Math.sqrt(sum) : 0
    for (let i = 0; i < d; i++) rows[r * d + i] *= inv
  }
  return rows
}

/**
 * Embeds the held-out items with `model` in inference mode (backbone and head `head`'s projection) and
 * measures precision@k in each space.
 */
export async function validateRetrieval(
  model: ContrastiveModel,
  head: number,
  items: readonly HeldOutItem[],
  read: (refs: { trackId: number; patch: number }[]) => Promise<Float32Array>,
  k: number,
  shape: { frames: number; bands: number },
): Promise<{ backbone: HeldOutFigure; projection: HeldOutFigure }> {
  const backbone: Float32Array[] = []
  const projection: Float32Array[] = []
  for (const item of items) {
    const x = await read(item.patches.map((patch) => ({ trackId: item.trackId, patch })))
    const [b, p] = tf.tidy(() => {
      const reps = model.encode(tf.tensor3d(x, [item.patches.length, shape.frames, shape.bands]), {
        training: false,
        seed: 0,
      })
      return [tf.mean(reps, 0), tf.mean(model.project(reps, head), 0)]
    })
    backbone.push((await b.data()) as Float32Array)
    projection.push((await p.data()) as Float32Array)
    b.dispose()
    p.dispose()
  }
  const figure = (rows: Float32Array[]) => {
    if (!rows.length) return { precision: NaN, chance: NaN, queries: 0 }
    const d = rows[0].length
    const flat = new Float32Array(rows.length * d)
    rows.forEach((r, i) => flat.set(l2Normalize(r), i * d))
    return heldOutPrecision(centreRows(flat, d), items, k)
  }
  return { backbone: figure(backbone), projection: figure(projection) }
}

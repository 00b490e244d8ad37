import { hash32 } from '../training/seeded-random.ts'

export type SplitName = 'train' | 'validation' | 'test'
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'validation', 'test']

export interface SplitFractions {
  train: number
  validation: number
  test: number
}

export const DEFAULT_SPLIT: SplitFractions = { train: 0.7, validation: 0.15, test: 0.15 }

/**
 * Splits tracks so that no artist has tracks in two splits: a probe tested on an artist it was trained on
 * would be rewarded for recognising the artist's sound instead of the style (the "artist effect").
 *
 * Tracks sharing any artist are joined (union–find), so a collaboration pulls both artists' catalogues into
 * one split; a track with no artist is a group of its own. Groups are visited in an order fixed by the seed
 * (a hash of the group's smallest track id, independent of input order) and each goes to the split furthest
 * below its target share, which keeps the shares close to the fractions without favouring big or small
 * artists in any split.
 */
export function artistSplit(
  trackIds: readonly number[],
  artistsOf: ReadonlyMap<number, readonly string[]>,
  options: { seed: number; fractions?: SplitFractions },
): Map<number, SplitName> {
  trackIds = [...new Set(trackIds)]
  const fractions = normaliseFractions(options.fractions ?? DEFAULT_SPLIT)
  const parent = new Map<number, number>()
  const find = (t: number): number => {
    let root = t
    while (parent.get(root) !== root) root = parent.get(root)!
    for (let x = t; x !== root; ) {
      const next = parent.get(x)!
      parent.set(x, root)
      x = next
    }
    return root
  }
  for (const t of trackIds) parent.set(t, t)
  const firstTrackOfArtist = new Map<string, number>()
  for (const t of trackIds) {
    for (const a of artistsOf.get(t) ?? []) {
      const other = firstTrackOfArtist.get(a)
      if (other === undefined) firstTrackOfArtist.set(a, t)
      else {
        const [ra, rb] = [find(t), find(other)]
        // the smaller id becomes the root so a group's identity does not depend on input order
        if (ra !== rb) ra < rb ? parent.set(rb, ra) : parent.set(ra, rb)
      }
    }
  }
  const groups = new Map<number, number[]>()
  for (const t of trackIds) {
    const r = find(t)
    const g = groups.get(r)
    if (g) g.push(t)
    else groups.set(r, [t])
  }
  const order = [...groups.keys()].sort((a, b) => hash32(String(a), options.seed) - hash32(String(b), options.seed) || a - b)
  const filled: Record<SplitName, number> = { train: 0, validation: 0, test: 0 }
  const total = trackIds.length
  const out = new Map<number, SplitName>()
  for (const root of order) {
    const tracks = groups.get(root)!
    let best: SplitName = 'train'
    let bestDeficit = -Infinity
    for (const s of SPLIT_NAMES) {
      if (fractions[s] === 0) continue
      const deficit = (fractions[s] * total - filled[s]) / (fractions[s] * total)
      if (deficit > bestDeficit) [best, bestDeficit] = [s, deficit]
    }
    filled[best] += tracks.length
    for (const t of tracks) out.set(t, best)
  }
  return out
}

function normaliseFractions(f: SplitFractions): SplitFractions {
  for (const s of SPLIT_NAMES) {
    if (!(f[s] >= 0)) throw new RangeError(`split fraction ${s} must be ≥ 0, got ${f[s]}`)
  }
  const sum = f.train + f.validation + f.test
  if (!(f.train > 0) || sum <= 0) throw new RangeError('the train split must have a positive share')
  return { train: f.train / sum, validation: f.validation / sum, test: f.test / sum }
}

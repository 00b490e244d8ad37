import { hash32 } from '../../random/seeded-random.ts'

export type SplitName = 'train' | 'validation' | 'test'
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'validation', 'test']

export interface SplitFractions {
  train: number
  validation: number
  test: number
}

export const DEFAULT_SPLIT: SplitFractions = { train: 0.7, validation: 0.15, test: 0.15 }

export interface ArtistSplitOptions {
  seed: number
  fractions?: SplitFractions
  /** Class indices of each track: when given, the split is stratified so every split sees as many classes as it can. */
  classesOf?: ReadonlyMap<number, readonly number[]>
}

/**
 * Splits tracks so that no artist has tracks in two splits: a probe tested on an artist it was trained on
 * would be rewarded for recognising the artist's sound instead of the style (the "artist effect").
 *
 * Tracks sharing any artist are joined (union–find), so a collaboration pulls both artists' catalogues into
 * one split; a track with no artist is a group of its own. Groups are then dealt out by iterative
 * stratification (Sechidis et al., 2011) applied to whole groups: the class with the fewest tracks left is
 * handled first, each of its groups going to the split that still wants most of that class (then most
 * tracks). Without that, a small catalogue's test split easily misses whole classes, and the macro metrics
 * silently average over fewer of them. Unlabelled groups go to the split furthest below its share. Groups are
 * visited in an order fixed by the seed (a hash of the group's smallest track id, independent of input
 * order), so the split is a function of the tracks, their artists and classes, and the seed.
 */
export function artistSplit(
  trackIds: readonly number[],
  artistsOf: ReadonlyMap<number, readonly string[]>,
  options: ArtistSplitOptions,
): Map<number, SplitName> {
  trackIds = [...new Set(trackIds)]
  const fractions = normaliseFractions(options.fractions ?? DEFAULT_SPLIT)
  const splits = SPLIT_NAMES.filter((s) => fractions[s] > 0)
  const groups = artistGroups(trackIds, artistsOf)
    .map((tracks) => ({
      tracks,
      key: hash32(String(tracks[0]), options.seed),
      classes: classCounts(tracks, options.classesOf),
    }))
    .sort((a, b) => a.key - b.key || a.tracks[0] - b.tracks[0])

  const total = trackIds.length
  const wantTracks = new Map(splits.map((s) => [s, fractions[s] * total]))
  const classTotals = new Map<number, number>()
  for (const g of groups) for (const [c, n] of g.classes) classTotals.set(c, (classTotals.get(c) ?? 0) + n)
  const wantClass = new Map(
    splits.map((s) => [s, new Map([...classTotals].map(([c, n]) => [c, fractions[s] * n]))]),
  )
  const out = new Map<number, SplitName>()
  const assign = (g: (typeof groups)[number], s: SplitName) => {
    for (const t of g.tracks) out.set(t, s)
    wantTracks.set(s, wantTracks.get(s)! - g.tracks.length)
    const want = wantClass.get(s)!
    for (const [c, n] of g.classes) want.set(c, want.get(c)! - n)
  }

  let left = groups
  const remaining = new Map(classTotals)
  while (left.length) {
    // the rarest class still to place; classes are small integers, ties go to the lower index
    let rarest: number | undefined
    for (const [c, n] of remaining)
      if (
        n > 0 &&
        (rarest === undefined || n < remaining.get(rarest)! || (n === remaining.get(rarest)! && c < rarest))
      )
        rarest = c
    const now = rarest === undefined ? left : left.filter((g) => g.classes.has(rarest!))
    for (const g of now) {
      // a split with no room left for most of this group is passed over while another has room: whole
      // artists are large units, and without this the rare classes would pull the small splits far past
      // their share
      const roomy = splits.filter((s) => wantTracks.get(s)! >= g.tracks.length / 2)
      const candidates = roomy.length ? roomy : splits
      let best = candidates[0]
      for (const s of candidates.slice(1)) {
        const [a, b] =
          rarest === undefined
            ? [relative(s), relative(best)]
            : [wantClass.get(s)!.get(rarest)!, wantClass.get(best)!.get(rarest)!]
        if (a > b || (a === b && relative(s) > relative(best))) best = s
      }
      assign(g, best)
      for (const [c, n] of g.classes) remaining.set(c, remaining.get(c)! - n)
    }
    const placed = new Set(now)
    left = left.filter((g) => !placed.has(g))
  }
  return out

  function relative(s: SplitName): number {
    return wantTracks.get(s)! / (fractions[s] * total)
  }
}

/** Tracks joined by shared artists (union–find), each group sorted, smallest track id first. */
function artistGroups(
  trackIds: readonly number[],
  artistsOf: ReadonlyMap<number, readonly string[]>,
): number[][] {
  const parent = new Map<number, number>()
  const find = (t: number): number => {
    let root = t
    while (parent.get(root) !== root) root = parent.get(root)!
    for (let x = t; x !== root;) {
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
        // the smaller id becomes the root, so a group's identity does not depend on input order
        if (ra !== rb) parent.set(Math.max(ra, rb), Math.min(ra, rb))
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
  return [...groups.values()].map((g) => g.sort((a, b) => a - b))
}

function classCounts(
  tracks: readonly number[],
  classesOf?: ReadonlyMap<number, readonly number[]>,
): Map<number, number> {
  const counts = new Map<number, number>()
  if (!classesOf) return counts
  for (const t of tracks)
    for (const c of new Set(classesOf.get(t) ?? [])) counts.set(c, (counts.get(c) ?? 0) + 1)
  return counts
}

function normaliseFractions(f: SplitFractions): SplitFractions {
  for (const s of SPLIT_NAMES) {
    if (!(f[s] >= 0)) throw new RangeError(`split fraction ${s} must be ≥ 0, got ${f[s]}`)
  }
  const sum = f.train + f.validation + f.test
  if (!(f.train > 0) || sum <= 0) throw new RangeError('the train split must have a positive share')
  return { train: f.train / sum, validation: f.validation / sum, test: f.test / sum }
}

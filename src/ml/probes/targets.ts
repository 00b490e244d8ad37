/**
 * Probe targets as matrices: which classes a task has and, per track, which of them apply. Pure functions of
 * per-track label lists (read from the catalog or a user's file by the service).
 */

export interface ProbeTargets {
  classes: string[]
  multiLabel: boolean
  /** Tracks kept (those with at least one of the classes), in increasing id order. */
  trackIds: number[]
  /** Multi-hot rows `[trackIds.length, classes.length]` (one-hot for single-label tasks). */
  labels: Uint8Array
  /** Single-label tasks: the class index of each track. */
  classIndex?: Int32Array
}

/**
 * Multi-label targets over the `top` most frequent labels (all when omitted; ties broken by name so the class
 * list is stable). Tracks with none of the kept labels are dropped: they would only teach "none of these".
 */
export function multiLabelTargets(
  labelsByTrack: ReadonlyMap<number, readonly string[]>,
  top?: number,
): ProbeTargets {
  const classes = mostFrequent(countLabels(labelsByTrack), top)
  const index = new Map(classes.map((c, i) => [c, i]))
  const kept = [...labelsByTrack.keys()]
    .filter((t) => labelsByTrack.get(t)!.some((l) => index.has(l)))
    .sort((a, b) => a - b)
  const labels = new Uint8Array(kept.length * classes.length)
  kept.forEach((t, row) => {
    for (const l of labelsByTrack.get(t)!) {
      const c = index.get(l)
      if (c !== undefined) labels[row * classes.length + c] = 1
    }
  })
  return { classes, multiLabel: true, trackIds: kept, labels }
}

/** Single-label targets over the `top` most frequent labels; tracks with another label are dropped. */
export function singleLabelTargets(labelByTrack: ReadonlyMap<number, string>, top?: number): ProbeTargets {
  const counts = new Map<string, number>()
  for (const l of labelByTrack.values()) counts.set(l, (counts.get(l) ?? 0) + 1)
  const classes = mostFrequent(counts, top)
  const index = new Map(classes.map((c, i) => [c, i]))
  const kept = [...labelByTrack.keys()].filter((t) => index.has(labelByTrack.get(t)!)).sort((a, b) => a - b)
  const classIndex = Int32Array.from(kept, (t) => index.get(labelByTrack.get(t)!)!)
  const labels = new Uint8Array(kept.length * classes.length)
  classIndex.forEach((c, row) => (labels[row * classes.length + c] = 1))
  return { classes, multiLabel: false, trackIds: kept, labels, classIndex }
}

/** The targets restricted to `keep` tracks (e.g. those embedded by every model), in the same class order. */
export function restrictTargets(targets: ProbeTargets, keep: ReadonlySet<number>): ProbeTargets {
  const c = targets.classes.length
  const rows = targets.trackIds.flatMap((t, i) => (keep.has(t) ? [i] : []))
  const labels = new Uint8Array(rows.length * c)
  rows.forEach((r, i) => labels.set(targets.labels.subarray(r * c, (r + 1) * c), i * c))
  return {
    classes: targets.classes,
    multiLabel: targets.multiLabel,
    trackIds: rows.map((r) => targets.trackIds[r]),
    labels,
    classIndex: targets.classIndex ? Int32Array.from(rows, (r) => targets.classIndex![r]) : undefined,
  }
}

/** "1990s" for 1990–1999; undefined for a missing or implausible year (Discogs stores 0 for unknown). */
export function decadeOf(year: number | null | undefined): string | undefined {
  if (year === null || year === undefined || !Number.isInteger(year) || year < 1000 || year > 2999)
    return undefined
  return `${Math.floor(year / 10) * 10}s`
}

function countLabels(labelsByTrack: ReadonlyMap<number, readonly string[]>): Map<string, number> {
  const counts = new Map<string, number>()
  for (const ls of labelsByTrack.values())
    for (const l of new Set(ls)) counts.set(l, (counts.get(l) ?? 0) + 1)
  return counts
}

function mostFrequent(counts: Map<string, number>, top?: number): string[] {
  if (top !== undefined && !(Number.isInteger(top) && top >= 1))
    throw new RangeError(`top must be a positive integer, got ${top}`)
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  return ranked.slice(0, top ?? ranked.length).map(([l]) => l)
}

/**
 * Classification metrics of the paper's evaluation table, as pure functions of arrays. Scores and labels of
 * several classes are row-major matrices: `[n, classes]`, row i = one example.
 *
 * Ties are handled the way scikit-learn does, so figures are comparable with published ones: ROC-AUC gives
 * tied scores their mean rank (a positive tied with a negative counts half), and average precision treats a
 * run of equal scores as one threshold (precision is taken after the whole run).
 */

/** ROC-AUC of one binary problem (Mann–Whitney U with midranks). NaN without both positives and negatives. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = checkLengths(scores, labels)
  const order = sortedIndices(scores, n, 'ascending')
  let positives = 0
  let positiveRankSum = 0
  for (let start = 0; start < n;) {
    let end = start + 1
    while (end < n && scores[order[end]] === scores[order[start]]) end++
    // ranks start+1 … end share their mean
    const midrank = (start + 1 + end) / 2
    for (let k = start; k < end; k++) {
      if (labels[order[k]]) {
        positives++
        positiveRankSum += midrank
      }
    }
    start = end
  }
  const negatives = n - positives
  if (positives === 0 || negatives === 0) return Number.NaN
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives)
}

/**
 * Average precision (the area under the precision–recall curve as a step sum): Σ (Rₖ − Rₖ₋₁)·Pₖ over the
 * distinct score thresholds, highest first. NaN without positives.
 */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = checkLengths(scores, labels)
  let positives = 0
  for (let i = 0; i < n; i++) if (labels[i]) positives++
  if (positives === 0) return Number.NaN
  const order = sortedIndices(scores, n, 'descending')
  let tp = 0
  let seen = 0
  let ap = 0
  for (let start = 0; start < n;) {
    let end = start + 1
    while (end < n && scores[order[end]] === scores[order[start]]) end++
    let tpInRun = 0
    for (let k = start; k < end; k++) if (labels[order[k]]) tpInRun++
    tp += tpInRun
    seen += end - start
    ap += (tpInRun / positives) * (tp / seen)
    start = end
  }
  return ap
}

export interface MacroMetric {
  /** Mean over the classes evaluated (NaN if none could be). */
  value: number
  /** Classes with both positives and negatives among the examples. */
  evaluated: number
  /** Classes left out: all examples positive, or none. */
  skipped: number
  /** Per class, NaN where skipped. */
  perClass: number[]
}

/**
 * A binary metric averaged over classes with equal weight. Classes whose column is all positive or all
 * negative are skipped (ROC-AUC is undefined there, and average precision would be trivially 1 or undefined),
 * the same classes for both metrics so that the two columns of the table average over the same set.
 */
export function macroAverage(
  metric: (scores: ArrayLike<number>, labels: ArrayLike<number>) => number,
  scores: Float32Array,
  labels: Uint8Array,
  classes: number,
): MacroMetric {
  if (classes < 1 || !Number.isInteger(classes))
    throw new RangeError(`classes must be a positive integer, got ${classes}`)
  if (scores.length !== labels.length)
    throw new RangeError(`scores (${scores.length}) and labels (${labels.length}) differ in length`)
  if (scores.length % classes !== 0)
    throw new RangeError(`${scores.length} values are not a whole number of rows of ${classes} classes`)
  const n = scores.length / classes
  const s = new Float32Array(n)
  const l = new Uint8Array(n)
  const perClass: number[] = []
  let sum = 0
  let evaluated = 0
  for (let c = 0; c < classes; c++) {
    let positives = 0
    for (let i = 0; i < n; i++) {
      s[i] = scores[i * classes + c]
      l[i] = labels[i * classes + c] ? 1 : 0
      positives += l[i]
    }
    if (positives === 0 || positives === n) {
      perClass.push(Number.NaN)
      continue
    }
    const v = metric(s, l)
    perClass.push(v)
    sum += v
    evaluated++
  }
  return {
    value: evaluated ? sum / evaluated : Number.NaN,
    evaluated,
    skipped: classes - evaluated,
    perClass,
  }
}

export function macroRocAuc(scores: Float32Array, labels: Uint8Array, classes: number): MacroMetric {
  return macroAverage(rocAuc, scores, labels, classes)
}

export function macroAveragePrecision(
  scores: Float32Array,
  labels: Uint8Array,
  classes: number,
): MacroMetric {
  return macroAverage(averagePrecision, scores, labels, classes)
}

/** Share of rows whose highest score (the first, on ties) is the true class. NaN for no rows. */
export function accuracy(scores: Float32Array, truth: ArrayLike<number>, classes: number): number {
  if (scores.length !== truth.length * classes) {
    throw new RangeError(`scores (${scores.length}) is not ${truth.length} rows of ${classes} classes`)
  }
  if (truth.length === 0) return Number.NaN
  let correct = 0
  for (let i = 0; i < truth.length; i++) if (argmax(scores, i * classes, classes) === truth[i]) correct++
  return correct / truth.length
}

/** Index (0-based, within the row) of the highest value of `values[offset … offset + length)`. */
export function argmax(values: ArrayLike<number>, offset: number, length: number): number {
  let best = 0
  for (let k = 1; k < length; k++) if (values[offset + k] > values[offset + best]) best = k
  return best
}

/** One-hot rows from class indices, so single-label probes are scored by the same macro metrics. */
export function oneHot(truth: ArrayLike<number>, classes: number): Uint8Array {
  const out = new Uint8Array(truth.length * classes)
  for (let i = 0; i < truth.length; i++) {
    const c = truth[i]
    if (!Number.isInteger(c) || c < 0 || c >= classes)
      throw new RangeError(`class ${c} at row ${i} is outside 0..${classes - 1}`)
    out[i * classes + c] = 1
  }
  return out
}

function checkLengths(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (scores.length !== labels.length)
    throw new RangeError(`scores (${scores.length}) and labels (${labels.length}) differ in length`)
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) throw new RangeError(`score ${i} is NaN`)
  }
  return scores.length
}

function sortedIndices(
  scores: ArrayLike<number>,
  n: number,
  direction: 'ascending' | 'descending',
): Uint32Array {
  const order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  const sign = direction === 'ascending' ? 1 : -1
  // comparisons, not subtraction: Infinity − Infinity is NaN and would break the sort
  return order.sort((a, b) => sign * (scores[a] < scores[b] ? -1 : scores[a] > scores[b] ? 1 : 0))
}

/**
 * A vector holding NaN or ±Infinity is no embedding: pgvector refuses it (`NaN not allowed in vector`) and
 * no distance to it means anything. These find such values before anything is written (pure).
 */

/** Index of the first NaN or ±Infinity in `v`, or −1 when every value is finite. */
export function firstNonFinite(v: ArrayLike<number>): number {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return i
  return -1
}

/** The first of `rows` whose vector holds a NaN or ±Infinity, with where and what it is; null when none does. */
export function firstNonFiniteRow<R extends { vector: ArrayLike<number> }>(
  rows: Iterable<R>,
): { row: R; index: number; value: number } | null {
  for (const row of rows) {
    const index = firstNonFinite(row.vector)
    if (index >= 0) return { row, index, value: row.vector[index] }
  }
  return null
}

import { TRACK_NUMBER_DIGITS, TRIGRAM_COUNT_DIGITS } from '../../db/repositories/catalog-staging.ts'
import type { CopyTextEditor } from '../../db/repositories/catalog-writer.repository.ts'

/**
 * Edits of an encoded batch's COPY text, in place, for what only the database knows once the batch is
 * encoded: its tracks' ids (a range the writer reserves) and the trigram counts of texts beyond ASCII.
 * staging-batch.ts leaves fixed-width fields for both, so an edit never moves a byte; the writer calls these
 * through CopyTextEditor, as the byte layout is the encoder's business and not the database's.
 */

/**
 * Turns the fixed-width track numbers n at `offsets` of COPY text into track ids base + n, in place
 * (same width: ids stay below 10^TRACK_NUMBER_DIGITS).
 */
export function assignTrackIds(text: Uint8Array, offsets: Int32Array, base: number): void {
  const w = TRACK_NUMBER_DIGITS
  for (let k = 0; k < offsets.length; k++) {
    const o = offsets[k]
    let n = 0
    for (let i = o; i < o + w; i++) n = n * 10 + (text[i] - 48)
    const v = base + n
    if (v >= 10 ** w) throw new RangeError(`track id ${v} does not fit ${w} digits`)
    writeDigits(text, o, w, v)
  }
}

/** Writes the counts into the fixed-width placeholders at `offsets` of COPY text, in place. */
export function writeTrigramCounts(text: Uint8Array, offsets: Int32Array, counts: readonly number[]): void {
  if (counts.length !== offsets.length)
    throw new RangeError(`${counts.length} trigram counts for ${offsets.length} places`)
  for (let k = 0; k < offsets.length; k++) writeDigits(text, offsets[k], TRIGRAM_COUNT_DIGITS, counts[k])
}

/**
 * v in decimal, zero-padded to `width` digits, at text[o]. Doubles, not the encoder's 32-bit division
 * (staging-batch.ts, `padded`): a track id may pass 2^31.
 */
function writeDigits(text: Uint8Array, o: number, width: number, v: number): void {
  for (let i = o + width - 1; i >= o; i--) {
    text[i] = 48 + (v % 10)
    v = Math.floor(v / 10)
  }
}

/** The edits as the catalog writer takes them. */
export const copyTextEditor: CopyTextEditor = { assignTrackIds, writeTrigramCounts }

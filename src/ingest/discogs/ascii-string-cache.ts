/**
 * Short ASCII strings decoded from bytes, remembered by a hash of their bytes. Most values in the dumps
 * repeat endlessly (roles, formats, countries, genres, positions, small ids), and making a new string
 * for each one — a call into C++ plus an allocation — cost the tokenizer more than finding them. Hashing
 * a few bytes in JS and comparing them with the remembered string is cheaper, and the garbage collector
 * sees far fewer strings.
 *
 * Direct-mapped: one string per slot, a newcomer replaces whatever hashed to its slot, so memory stays
 * bounded however many distinct values a dump holds, and values that are never repeated cost one hash.
 */

/** Node's native Latin-1 slicer (Buffer.prototype, not in its type declarations): no argument checks. */
interface Latin1Slicer {
  latin1Slice(start: number, end: number): string
}

export class AsciiStringCache {
  private readonly slots: string[]
  private readonly mask: number

  /**
   * @param slots number of slots, a power of two
   * @param maxLength longer strings are decoded without being remembered (they rarely repeat)
   */
  constructor(
    slots: number,
    readonly maxLength: number,
  ) {
    if (slots < 1 || (slots & (slots - 1)) !== 0) throw new RangeError(`slots must be a power of two, got ${slots}`)
    this.slots = new Array<string>(slots).fill('')
    this.mask = slots - 1
  }

  /** The text of b[start, end), whose bytes must all be ASCII. */
  get(b: Buffer, start: number, end: number): string {
    const length = end - start
    if (length === 0) return ''
    if (length > this.maxLength) return (b as unknown as Latin1Slicer).latin1Slice(start, end)
    let h = length
    for (let k = start; k < end; k++) h = (Math.imul(h, 31) + b[k]) | 0
    const slot = (h ^ (h >>> 15)) & this.mask
    const hit = this.slots[slot]
    if (hit.length === length) {
      let k = 0
      while (k < length && hit.charCodeAt(k) === b[start + k]) k++
      if (k === length) return hit
    }
    const s = (b as unknown as Latin1Slicer).latin1Slice(start, end)
    this.slots[slot] = s
    return s
  }
}

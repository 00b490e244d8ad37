import { BadInputError } from '../errors.ts'

/**
 * Commander argument parsers for numeric options: each turns the text into a number or stops with a
 * BadInputError naming the flag and the value given. Ranges that depend on other settings (a hop no
 * longer than a patch, say) are the service's to check; these only check what a number of that kind is.
 */

const KIND: Record<number, string> = { 0: 'a non-negative integer', 1: 'a positive integer' }

/** An integer (`1e3` included), at least `min` if given. */
export function integerOption(flag: string, { min }: { min?: number } = {}): (value: string) => number {
  const kind = min === undefined ? 'an integer' : (KIND[min] ?? `an integer of at least ${min}`)
  return (value) => {
    const n = Number(value)
    if (value.trim() === '' || !Number.isSafeInteger(n) || (min !== undefined && n < min))
      throw new BadInputError(`must be ${kind}, got "${value}"`, flag)
    return n
  }
}

/** A finite number. */
export function numberOption(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value)
    if (value.trim() === '' || !Number.isFinite(n))
      throw new BadInputError(`must be a number, got "${value}"`, flag)
    return n
  }
}

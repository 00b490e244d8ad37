import { BadInputError } from '../errors.ts'

/**
 * The most items a list field without paging (models, probes, playlists) returns: each grows only by what
 * an admin or a listener makes, so one page holds them all in practice, and this bounds the answer when not.
 */
export const MAX_WHOLE_LIST = 1000

/** The first `first` items of a list a field returns whole; `first` outside 1..max is refused. */
export function firstOf<T>(list: readonly T[], first: number, max = MAX_WHOLE_LIST): T[] {
  if (!Number.isInteger(first) || first < 1 || first > max)
    throw new BadInputError(`must be an integer from 1 to ${max}`, 'first')
  return list.slice(0, first)
}

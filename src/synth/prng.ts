/**
 * The synthetic catalog's only source of randomness: a seeded PRNG (mulberry32) plus helpers. Every
 * choice the generator makes comes from an Rng derived from the seed and a path of names
 * (`rng.fork('artist', 3)`), so adding a field to one record never shifts the random stream of another.
 */
import { fnv1a32, SeededRandom } from '../random/seeded-random.ts'

export class Rng {
  private readonly stream: SeededRandom

  constructor(readonly seed: number) {
    this.stream = new SeededRandom(seed)
  }

  /** Uniform in [0, 1): mulberry32, 2^32 period per stream, plenty for one record's choices. */
  next(): number {
    return this.stream.next()
  }

  /** A new independent stream named by `parts`, a function of this stream's seed only (not its position). */
  fork(...parts: (string | number)[]): Rng {
    return new Rng(fnv1a32(parts.join('\u0001'), fnv1a32(String(this.seed))))
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next()
  }

  /** Integer uniform in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1))
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list')
    return items[Math.floor(this.next() * items.length)]
  }

  /** Index drawn with probability proportional to its weight (weights ≥ 0, not all zero). */
  weighted(weights: readonly number[]): number {
    let total = 0
    for (const w of weights) total += w
    let r = this.next() * total
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]
      if (r < 0) return i
    }
    return weights.length - 1
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next()
    const v = this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const a = items.slice()
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1))
      ;[a[i], a[j]] = [a[j], a[i]]
    }
    return a
  }

  /** `k` distinct items (or all of them when k ≥ length), in random order. */
  sample<T>(items: readonly T[], k: number): T[] {
    return this.shuffle(items).slice(0, Math.max(0, k))
  }
}

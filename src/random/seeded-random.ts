/**
 * The project's one seeded PRNG and string hash. Deterministic pseudo-random numbers (mulberry32): the same
 * seed gives the same stream on every machine, which is what makes sampling, resumed training and the
 * synthetic catalog (src/synth/prng.ts builds its helpers on this stream) reproducible.
 */
export class SeededRandom {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** Fisher–Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      ;[items[i], items[j]] = [items[j], items[i]]
    }
    return items
  }

  /** A child stream for a sub-task, so adding draws in one place does not shift another. */
  fork(salt: number): SeededRandom {
    return new SeededRandom((Math.imul(this.state ^ salt, 0x9e3779b1) + salt) >>> 0)
  }
}

const FNV_OFFSET_BASIS = 0x811c9dc5

/**
 * Plain 32-bit FNV-1a of a string, starting from `basis` (FNV's offset basis by default). The synthetic
 * catalog derives its sub-seeds with it, so its output for a seed depends on exactly this function.
 */
export function fnv1a32(s: string, basis = FNV_OFFSET_BASIS): number {
  let h = basis >>> 0
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}

/** Stable, well-mixed 32-bit hash of a string (FNV-1a, then murmur3's finaliser), e.g. to split groups into train/validation by seed. */
export function hash32(s: string, seed = 0): number {
  let h = fnv1a32(s, FNV_OFFSET_BASIS ^ seed)
  // murmur3's finaliser: FNV alone leaves the high bits of short keys poorly mixed
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

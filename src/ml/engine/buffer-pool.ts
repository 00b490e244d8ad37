/**
 * Recycles the Float32Arrays of disposed tensors for the next tensor of the same length.
 *
 * A training step allocates and frees gigabytes of activations and gradients. Fresh typed arrays are zeroed
 * by V8, count as external memory (which triggers garbage collections every few milliseconds at this rate),
 * and are only returned to the allocator when collected, so their pages are cold when memory is reused. The
 * same shapes recur every step, so exact-length free lists serve almost every allocation after the first
 * step with memory that is already mapped and warm. Arrays below `minLength` are left to the garbage
 * collector (cheap, and too many shapes), and the free lists hold at most `maxBytes`.
 *
 * The pool only sees arrays its owner proves unreachable (see NativeBackend): a recycled array must not be
 * visible to anything else, because its next user overwrites it.
 */
export class BufferPool {
  private readonly free = new Map<number, Float32Array[]>()
  private pooledBytes = 0
  private hits = 0
  private misses = 0

  constructor(
    private readonly maxBytes: number,
    private readonly minLength = 16384,
  ) {}

  /** An array of `length` floats with unspecified contents (recycled when possible). */
  take(length: number): Float32Array {
    if (length >= this.minLength) {
      const list = this.free.get(length)
      const a = list?.pop()
      if (a) {
        this.pooledBytes -= a.byteLength
        this.hits++
        return a
      }
      this.misses++
    }
    return new Float32Array(length)
  }

  /** Whether `take` would have recycled an array of this length at all (it is large enough to be pooled). */
  pools(length: number): boolean {
    return length >= this.minLength
  }

  /** Hands back an array nothing references any more. Returns false if the pool declined it (full, small). */
  give(a: Float32Array): boolean {
    if (a.length < this.minLength || this.pooledBytes + a.byteLength > this.maxBytes) return false
    const list = this.free.get(a.length)
    if (list) list.push(a)
    else this.free.set(a.length, [a])
    this.pooledBytes += a.byteLength
    return true
  }

  /** Drops every pooled array (left to the garbage collector). */
  clear(): void {
    this.free.clear()
    this.pooledBytes = 0
  }

  stats(): { pooledBytes: number; hits: number; misses: number } {
    return { pooledBytes: this.pooledBytes, hits: this.hits, misses: this.misses }
  }
}

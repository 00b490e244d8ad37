/**
 * A window over a stream of samples, addressed by absolute sample index: chunks are appended at the end and
 * samples no longer needed are dropped from the front, so a streaming stage (resampler, mel framer) holds
 * only its filter or frame overlap plus the latest chunk, whatever the length of the stream.
 */
export class SlidingSamples {
  /** samples [start, end) live in data[0 .. end − start) */
  data = new Float32Array(0)
  start = 0
  end = 0

  append(chunk: Float32Array): void {
    const keep = this.end - this.start
    if (keep + chunk.length > this.data.length) {
      const grown = new Float32Array(Math.max(keep + chunk.length, 2 * this.data.length, 1024))
      grown.set(this.data.subarray(0, keep))
      this.data = grown
    }
    this.data.set(chunk, keep)
    this.end += chunk.length
  }

  /** Forgets samples before absolute index `index` (moves the rest to the front; amortised by chunk size). */
  dropBefore(index: number): void {
    const drop = Math.min(this.end, index) - this.start
    if (drop <= 0) return
    this.data.copyWithin(0, drop, this.end - this.start)
    this.start += drop
  }
}

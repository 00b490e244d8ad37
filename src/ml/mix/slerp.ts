/**
 * Spherical interpolation between track vectors, for paths from one track to another: embeddings live on
 * the unit sphere (src/ml/embedding/pooling.ts), and the straight line between two of them cuts through
 * the sphere, its midpoint shorter than any track's vector; the great circle stays among them, at even
 * angular steps. Pure functions of arrays, no database.
 */

/** The point a fraction `t` (0..1) along the great circle from `a` to `b`; both are scaled to unit length first. */
export function slerp(a: ArrayLike<number>, b: ArrayLike<number>, t: number): Float32Array {
  if (a.length !== b.length) throw new RangeError(`dimension mismatch: ${a.length} vs ${b.length}`)
  if (!(t >= 0 && t <= 1)) throw new RangeError(`t must be in 0..1, got ${t}`)
  const ua = unit(a, 'a')
  const ub = unit(b, 'b')
  let dot = 0
  for (let i = 0; i < ua.length; i++) dot += ua[i] * ub[i]
  dot = Math.min(1, Math.max(-1, dot))
  const omega = Math.acos(dot)
  const sin = Math.sin(omega)
  const out = new Float32Array(ua.length)
  // Nearly the same direction: the weights' ratio is 0/0; the chord and the arc coincide.
  // Nearly opposite: every great circle joins them, and none is better; the chord picks none, so the
  // normalised lerp below is as good an answer as any, except exactly halfway (a zero vector), refused.
  if (sin < 1e-6) {
    for (let i = 0; i < out.length; i++) out[i] = (1 - t) * ua[i] + t * ub[i]
    return unit(out, 'the interpolation of opposite vectors')
  }
  const wa = Math.sin((1 - t) * omega) / sin
  const wb = Math.sin(t * omega) / sin
  for (let i = 0; i < out.length; i++) out[i] = wa * ua[i] + wb * ub[i]
  return out
}

/** The `steps` points strictly between `a` and `b` at even angles: t = 1/(steps+1) … steps/(steps+1). */
export function slerpSteps(a: ArrayLike<number>, b: ArrayLike<number>, steps: number): Float32Array[] {
  if (!Number.isInteger(steps) || steps < 0)
    throw new RangeError(`steps must be a non-negative integer, got ${steps}`)
  return Array.from({ length: steps }, (_, i) => slerp(a, b, (i + 1) / (steps + 1)))
}

function unit(v: ArrayLike<number>, name: string): Float32Array {
  let sum = 0
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i]
  if (!(sum > 1e-24) || !Number.isFinite(sum))
    throw new RangeError(`${name} has no direction (zero or non-finite)`)
  const inv = 1 / Math.sqrt(sum)
  return Float32Array.from(v, (x) => x * inv)
}

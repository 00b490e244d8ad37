import { EigenvalueDecomposition, Matrix } from 'ml-matrix'
import { SeededRandom } from '../../random/seeded-random.ts'

/**
 * The transform a (model, space)'s vectors go through before they meet the index. Mean-pooled conv features
 * of one model all point into one narrow cone (raw cosine 0.99 between unrelated tracks), so cosine mostly
 * measures the cone, not the music:
 * - `center` subtracts the library's mean vector, so directions are measured from the middle of the cone;
 * - `whiten` then rotates onto the top principal components and divides each by its spread (with shrinkage,
 *   so the faint components, which are mostly noise, are not blown up to the size of the strong ones).
 * Every output is L2-normalised: the index compares directions.
 */

export const TRANSFORM_KINDS = ['raw', 'center', 'whiten'] as const
export type TransformKind = (typeof TRANSFORM_KINDS)[number]

export interface SearchTransform {
  kind: TransformKind
  inDims: number
  outDims: number
  /** the fitted mean (center, whiten); null for raw */
  mean: Float32Array | null
  /** whiten: outDims rows of inDims, each a principal direction divided by sqrt(its variance + shrinkage) */
  components: Float32Array | null
  /** whiten: the variance along each kept component */
  variances: Float32Array | null
  /** vectors the transform was fitted on */
  fittedOn: number
}

export interface FitOptions {
  kind: TransformKind
  /** whiten: components kept (default 128, at most fitted vectors − 1 and inDims) */
  dims?: number
  /** whiten: added to every variance, as a share of the mean kept variance (default 0.1) */
  shrinkage?: number
  /** at most this many vectors, sampled with `seed`, are fitted on (default 5000) */
  maxFit?: number
  seed?: number
}

export const DEFAULT_WHITEN_DIMS = 128

export function fitSearchTransform(vectors: readonly Float32Array[], options: FitOptions): SearchTransform {
  const n = vectors.length
  if (!n) throw new RangeError('no vectors to fit a search transform on')
  const d = vectors[0].length
  for (const v of vectors) if (v.length !== d) throw new RangeError(`vectors of ${v.length} and ${d} dims`)
  if (options.kind === 'raw')
    return { kind: 'raw', inDims: d, outDims: d, mean: null, components: null, variances: null, fittedOn: n }

  const rng = new SeededRandom(options.seed ?? 1)
  const fit = sample(vectors, options.maxFit ?? 5000, rng)
  const mean = new Float64Array(d)
  for (const v of fit) for (let j = 0; j < d; j++) mean[j] += v[j]
  for (let j = 0; j < d; j++) mean[j] /= fit.length
  const mean32 = Float32Array.from(mean)
  if (options.kind === 'center')
    return {
      kind: 'center',
      inDims: d,
      outDims: d,
      mean: mean32,
      components: null,
      variances: null,
      fittedOn: n,
    }

  if (options.kind !== 'whiten') throw new RangeError(`unknown transform ${String(options.kind)}`)
  const k = Math.min(options.dims ?? DEFAULT_WHITEN_DIMS, fit.length - 1, d)
  if (k < 1) throw new RangeError(`whitening needs at least 2 vectors, got ${fit.length}`)
  const { directions, variances } = principalComponents(fit, mean, k, rng)
  let meanVariance = 0
  for (const v of variances) meanVariance += v
  meanVariance /= k
  const shrink = (options.shrinkage ?? 0.1) * meanVariance
  const components = new Float32Array(k * d)
  for (let c = 0; c < k; c++) {
    const scale = 1 / Math.sqrt(variances[c] + shrink)
    for (let j = 0; j < d; j++) components[c * d + j] = directions[c * d + j] * scale
  }
  return {
    kind: 'whiten',
    inDims: d,
    outDims: k,
    mean: mean32,
    components,
    variances: Float32Array.from(variances),
    fittedOn: n,
  }
}

/** The search vector of a model vector: transformed and L2-normalised. Throws if it has no direction left. */
export function applySearchTransform(t: SearchTransform, v: ArrayLike<number>): Float32Array {
  if (v.length !== t.inDims)
    throw new RangeError(`a vector of ${v.length} values; the transform takes ${t.inDims}`)
  const d = t.inDims
  const x = new Float64Array(d)
  for (let j = 0; j < d; j++) x[j] = v[j] - (t.mean ? t.mean[j] : 0)
  let out: Float64Array
  if (t.components) {
    out = new Float64Array(t.outDims)
    for (let c = 0; c < t.outDims; c++) {
      let s = 0
      const row = c * d
      for (let j = 0; j < d; j++) s += t.components[row + j] * x[j]
      out[c] = s
    }
  } else out = x
  let norm = 0
  for (const y of out) norm += y * y
  norm = Math.sqrt(norm)
  if (!(norm > 1e-12) || !Number.isFinite(norm))
    throw new RangeError(
      'the vector has no direction after the search transform (it equals the mean, or is not finite)',
    )
  const result = new Float32Array(out.length)
  for (let i = 0; i < out.length; i++) result[i] = out[i] / norm
  return result
}

function sample(vectors: readonly Float32Array[], max: number, rng: SeededRandom): readonly Float32Array[] {
  if (vectors.length <= max) return vectors
  return rng.shuffle([...vectors]).slice(0, max)
}

/**
 * The top k principal directions (rows of a k×d array) and variances of the centred vectors, by randomized
 * subspace iteration (Halko, Martinsson, Tropp 2011): a few products with the n×d data instead of
 * decomposing the d×d covariance (1280² for B0), which plain JavaScript would take seconds over.
 */
export function principalComponents(
  vectors: readonly Float32Array[],
  mean: Float64Array,
  k: number,
  rng: SeededRandom,
  powerIterations = 3,
): { directions: Float64Array; variances: Float64Array } {
  const n = vectors.length
  const d = mean.length
  const l = Math.min(k + 10, n, d)
  const x = new Float64Array(n * d)
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = vectors[i][j] - mean[j]
  // Y = X Ω, Ω gaussian d×l
  let omega: Float64Array = new Float64Array(d * l)
  for (let i = 0; i < omega.length; i++) omega[i] = gaussian(rng)
  let y: Float64Array = orthonormalColumns(multiply(x, n, d, omega, l), n, l)
  for (let it = 0; it < powerIterations; it++) {
    omega = orthonormalColumns(multiplyTransposed(x, n, d, y, l), d, l)
    y = orthonormalColumns(multiply(x, n, d, omega, l), n, l)
  }
  // B = Yᵀ X (l×d); eigenvectors of B Bᵀ give the left singular vectors of B, its rows span the directions
  const b = multiplyTransposed(x, n, d, y, l) // d×l = Xᵀ Y = Bᵀ
  const bbt = new Matrix(l, l)
  for (let p = 0; p < l; p++) {
    for (let q = p; q < l; q++) {
      let s = 0
      for (let j = 0; j < d; j++) s += b[j * l + p] * b[j * l + q]
      bbt.set(p, q, s)
      bbt.set(q, p, s)
    }
  }
  const evd = new EigenvalueDecomposition(bbt, { assumeSymmetric: true })
  const values = evd.realEigenvalues
  const vecs = evd.eigenvectorMatrix
  const order = values.map((_, i) => i).sort((p, q) => values[q] - values[p])
  const directions = new Float64Array(k * d)
  const variances = new Float64Array(k)
  for (let c = 0; c < k; c++) {
    const e = order[c]
    const sigma2 = Math.max(values[e], 0)
    variances[c] = sigma2 / Math.max(n - 1, 1)
    // direction = Bᵀ u / σ
    const sigma = Math.sqrt(sigma2) || 1
    let norm = 0
    for (let j = 0; j < d; j++) {
      let s = 0
      for (let p = 0; p < l; p++) s += b[j * l + p] * vecs.get(p, e)
      directions[c * d + j] = s / sigma
      norm += (s / sigma) ** 2
    }
    // a zero-variance direction is arbitrary; keep it unit length so the transform stays well defined
    norm = Math.sqrt(norm) || 1
    for (let j = 0; j < d; j++) directions[c * d + j] /= norm
  }
  return { directions, variances }
}

/** (n×d) · (d×l) */
function multiply(a: Float64Array, n: number, d: number, b: Float64Array, l: number): Float64Array {
  const out = new Float64Array(n * l)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = a[i * d + j]
      if (v === 0) continue
      const row = j * l
      const o = i * l
      for (let c = 0; c < l; c++) out[o + c] += v * b[row + c]
    }
  }
  return out
}

/** (n×d)ᵀ · (n×l) = d×l */
function multiplyTransposed(a: Float64Array, n: number, d: number, b: Float64Array, l: number): Float64Array {
  const out = new Float64Array(d * l)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = a[i * d + j]
      if (v === 0) continue
      const o = j * l
      const row = i * l
      for (let c = 0; c < l; c++) out[o + c] += v * b[row + c]
    }
  }
  return out
}

/** Modified Gram–Schmidt on the l columns of a rows×l array, in place; a dependent column becomes zero. */
function orthonormalColumns(m: Float64Array, rows: number, l: number): Float64Array {
  for (let c = 0; c < l; c++) {
    for (let p = 0; p < c; p++) {
      let s = 0
      for (let i = 0; i < rows; i++) s += m[i * l + c] * m[i * l + p]
      for (let i = 0; i < rows; i++) m[i * l + c] -= s * m[i * l + p]
    }
    let norm = 0
    for (let i = 0; i < rows; i++) norm += m[i * l + c] ** 2
    norm = Math.sqrt(norm)
    const inv = norm > 1e-10 ? 1 / norm : 0
    for (let i = 0; i < rows; i++) m[i * l + c] *= inv
  }
  return m
}

function gaussian(rng: SeededRandom): number {
  const u = 1 - rng.next()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next())
}

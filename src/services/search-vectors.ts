import type { Database } from '../db/database.ts'
import { EmbeddingRepository } from '../db/repositories/embedding.repository.ts'
import type { ModelSpace } from '../db/repositories/model.repository.ts'
import { SearchVectorRepository } from '../db/repositories/search-vector.repository.ts'
import { BadInputError } from '../errors.ts'
import {
  applySearchTransform,
  fitSearchTransform,
  TRANSFORM_KINDS,
  type SearchTransform,
  type TransformKind,
} from '../ml/retrieval/transform.ts'

/**
 * Fitting each (model, space)'s search transform and rewriting its search vectors (migration 1765500000000
 * says why they exist). The default, `center`, was chosen by measuring retrieval of raw, centred and whitened
 * vectors (docs/evaluation.md, "Retrieval"): whitening did not rank better on the measured worlds, and on a
 * small library (components close to the track count) it makes every pair about equally far apart.
 */

export interface SearchTransformChoice {
  kind: TransformKind
  /** whiten: components kept */
  dims?: number
}

export const DEFAULT_SEARCH_TRANSFORM: SearchTransformChoice = { kind: 'center' }

export const DEFAULT_WHITEN_DIMS = 128

/** Vectors a transform is fitted on, at most: fitting is linear in them, and 5000 pin a mean and 128 components well. */
const MAX_FIT = 5000

export function checkTransformChoice(
  kind: string | undefined,
  dims: number | undefined,
): SearchTransformChoice {
  const k = (kind ?? DEFAULT_SEARCH_TRANSFORM.kind) as TransformKind
  if (!(TRANSFORM_KINDS as readonly string[]).includes(k))
    throw new BadInputError(`must be ${TRANSFORM_KINDS.join(', ')}; got ${kind}`, '--search-transform')
  if (dims !== undefined && (!Number.isInteger(dims) || dims < 1 || dims > 4096))
    throw new BadInputError(`must be an integer from 1 to 4096, got ${dims}`, '--whiten-dims')
  return { kind: k, dims: k === 'whiten' ? (dims ?? DEFAULT_WHITEN_DIMS) : undefined }
}

export interface RefitSummary {
  kind: TransformKind
  outDims: number
  fittedOn: number
  seconds: number
}

/**
 * Fits the transform on (a sample of) the raw vectors of (model, space), then rewrites every search vector
 * in one transaction. The HNSW index is dropped first (its width may change); the caller rebuilds it and the
 * centroids.
 */
export async function refitSearchVectors(
  db: Pick<Database, 'pool' | 'kind'>,
  modelId: number,
  space: ModelSpace,
  choice: SearchTransformChoice = DEFAULT_SEARCH_TRANSFORM,
): Promise<RefitSummary> {
  const started = performance.now()
  const repo = new SearchVectorRepository(db.pool)
  const embeddings = new EmbeddingRepository(db.pool, db.kind)
  const sample = await repo.sample(modelId, space, MAX_FIT)
  if (!sample.length)
    throw new BadInputError(`model ${modelId} has no ${space} vectors to fit a search transform on`, 'model')
  const transform: SearchTransform = fitSearchTransform(sample, { kind: choice.kind, dims: choice.dims })
  await embeddings.dropIndex(modelId, space)
  await repo.replace(modelId, space, transform, (v) => applySearchTransform(transform, v))
  return {
    kind: transform.kind,
    outDims: transform.outDims,
    fittedOn: transform.fittedOn,
    seconds: (performance.now() - started) / 1000,
  }
}

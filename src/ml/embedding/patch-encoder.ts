import * as tf from '@tensorflow/tfjs'
import { ModelShapeError } from '../../errors.ts'
import type { ColaModel } from '../models/contrastive.ts'
import { MEL_BANDS, PATCH_FRAMES } from '../models/efficientnet.ts'

/**
 * The two places a track's vector can be read from: the encoder's pooled output (`backbone`, 1280-d for B0,
 * what Essentia's discogs-effnet exposes as embeddings) and the contrastive head's projection
 * (`projection`, 512-d, the space the COLA similarity was trained in).
 */
export const EMBEDDING_SPACES = ['backbone', 'projection'] as const
export type EmbeddingSpace = (typeof EMBEDDING_SPACES)[number]

export function isEmbeddingSpace(s: string): s is EmbeddingSpace {
  return (EMBEDDING_SPACES as readonly string[]).includes(s)
}

export type SpaceVectors = Partial<Record<EmbeddingSpace, Float32Array>>

/** What one forward pass returns: the asked spaces' vectors, and the graph's own class scores when asked. */
export type EncodedPatches = SpaceVectors & { activations?: Float32Array }

/** Anything that turns mel patches into per-patch vectors: a tfjs model or an ONNX graph. */
export interface PatchEncoder {
  /** Width of each space this encoder produces. */
  readonly dims: Partial<Record<EmbeddingSpace, number>>
  /** Patches per forward pass it is best fed (a fixed-batch graph pads to it). */
  readonly preferredBatch: number
  /**
   * Width of the class scores the graph computes beside its vectors (discogs-effnet's 400 style
   * activations), when it was opened to read them.
   */
  readonly activations?: number
  /**
   * patches: `count` × 128 × 96 float32 (row-major) → per space, `count` × dims values. Only the asked
   * spaces are computed (the projection needs the backbone anyway); `activations` adds `count` × that width
   * class scores from the same pass.
   */
  encode(
    patches: Float32Array,
    count: number,
    spaces: readonly EmbeddingSpace[],
    options?: { activations?: boolean },
  ): Promise<EncodedPatches>
  dispose(): Promise<void>
}

export const PATCH_SIZE = PATCH_FRAMES * MEL_BANDS

export function checkPatchBuffer(what: string, patches: Float32Array, count: number): void {
  if (patches.length !== count * PATCH_SIZE) {
    throw new ModelShapeError(
      what,
      `expected ${count} patches of ${PATCH_FRAMES}×${MEL_BANDS} (${count * PATCH_SIZE} values), got ${patches.length}`,
    )
  }
}

/**
 * A trained (or random-weights) COLA model as a PatchEncoder: backbone = the encoder in inference mode
 * (batch norm from its moving statistics), projection = head `head` (0: the first objective; for the
 * multi-task model that is the track objective). Owns the model and disposes it.
 */
export function colaPatchEncoder(
  model: ColaModel,
  options: { head?: number; batch?: number } = {},
): PatchEncoder {
  const head = options.head ?? 0
  if (!model.colaHeads[head])
    throw new ModelShapeError('contrastive model', `no head ${head} (it has ${model.colaHeads.length})`)
  const projection = model.colaHeads[head]
  return {
    dims: { backbone: model.encoder.outputDim, projection: projection.dim },
    preferredBatch: options.batch ?? 32,
    async encode(patches, count, spaces) {
      checkPatchBuffer('patches', patches, count)
      const wanted = new Set(spaces)
      const out = tf.tidy(() => {
        const x = tf.tensor3d(patches, [count, PATCH_FRAMES, MEL_BANDS])
        const backbone = model.encoder.embed(x, { training: false }).backbone
        return {
          backbone: wanted.has('backbone') ? backbone : undefined,
          projection: wanted.has('projection') ? projection.project(backbone) : undefined,
        }
      })
      const result: SpaceVectors = {}
      for (const space of spaces) {
        const t = out[space]!
        result[space] = (await t.data()) as Float32Array
      }
      out.backbone?.dispose()
      out.projection?.dispose()
      return result
    },
    async dispose() {
      model.dispose()
    },
  }
}

import * as tf from '@tensorflow/tfjs'

interface TapeState {
  gradientDepth: number
  activeTape: { saved?: tf.Tensor[] }[] | null
}

/**
 * tf.variableGrads, except that a pass that throws leaves no tensor behind. TensorFlow.js keeps a clone of
 * every tensor a kernel's gradient will need on the tape ("saved", marked kept so that tidy spares it) and
 * disposes them only at the end of the backward pass; when `f` (or the backward pass) throws, the clones
 * outlive the run, and the next tape is started over them (12 tensors for the trainer test's small model,
 * a step's activations for EfficientNet).
 */
export function variableGrads(
  f: () => tf.Scalar,
  varList?: tf.Variable[],
): ReturnType<typeof tf.variableGrads> {
  try {
    return tf.variableGrads(f, varList)
  } catch (err) {
    const state = (tf.engine() as unknown as { state: TapeState }).state
    // Only the outermost tape owns its saved tensors (a higher-order gradient's inner tape shares them).
    if (state.gradientDepth === 0 && state.activeTape) {
      for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose()
      state.activeTape = null
    }
    throw err
  }
}

/**
 * Where a probe's scores come from, read from its `config.source`:
 * - `trained`: an MLP trained here on frozen vectors (config.source is `catalog` or a label file's path);
 * - `model-output` (config.source `onnx-output`): an imported encoder's own classifier output, e.g.
 *   discogs-effnet's 400 style activations, scored per patch at embed time;
 * - `onnx-head` (config.source `onnx-head`): an imported classifier head (Essentia's
 *   genre_discogs400, mtg_jamendo_moodtheme…) run on the encoder's per-patch embeddings at embed time.
 * The last two have no weights of their own to run on a stored track vector (see docs/embeddings.md).
 */
export type ProbeKind = 'trained' | 'model-output' | 'onnx-head'

export const ONNX_OUTPUT_SOURCE = 'onnx-output'
export const ONNX_HEAD_SOURCE = 'onnx-head'

export function probeKind(p: { config: Record<string, unknown> }): ProbeKind {
  if (p.config.source === ONNX_OUTPUT_SOURCE) return 'model-output'
  if (p.config.source === ONNX_HEAD_SOURCE) return 'onnx-head'
  return 'trained'
}

/** Scored by an ONNX graph at embed time rather than by a probe trained here. */
export function isImportedProbe(p: { config: Record<string, unknown> }): boolean {
  return probeKind(p) !== 'trained'
}

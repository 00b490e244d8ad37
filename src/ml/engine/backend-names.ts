/**
 * The TensorFlow.js backends by name, apart from ./backend.ts so that what only checks a name (a job's
 * payload, an option) does not load TensorFlow.js.
 */
export const BACKENDS = ['tfjs-node-gpu', 'tfjs-node', 'native', 'wasm', 'cpu'] as const
export type BackendName = (typeof BACKENDS)[number]

/** What training may ask for: `auto` or a backend with gradient kernels (tfjs' WASM backend has none for convolutions). */
export const TRAINING_BACKENDS = ['auto', ...BACKENDS.filter((b) => b !== 'wasm')] as [string, ...string[]]

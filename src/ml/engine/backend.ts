import * as tf from '@tensorflow/tfjs'
import type pino from 'pino'
import { MlBackendError } from '../../errors.ts'
import { BACKENDS, type BackendName } from './backend-names.ts'
import { NATIVE_BACKEND, registerNativeBackend } from './native-backend.ts'

/**
 * Backend selection. Order when nothing is forced: `@tensorflow/tfjs-node-gpu` (CUDA), `@tensorflow/tfjs-node`
 * (libtensorflow on CPU) — both optional packages, loaded only if installed — then `native` (TensorFlow.js' CPU
 * backend with this project's native kernels), then plain `cpu`, which always works. `wasm` can be forced but
 * is never chosen: it lacks the gradient kernels training needs (docs/ml-engine.md).
 */

// TensorFlow.js' CPU backend prints "install tfjs-node to speed things up" on its first tensor, which is
// often created before a backend is chosen (a model's weights are fingerprinted when it is resolved):
// misleading beside the native kernels, and tfjs-node cannot install without a download. The choice made
// here is logged instead. PROD only silences tfjs' console warnings (DEBUG checks are off either way).
tf.env().set('PROD', true)

export { BACKENDS, type BackendName }
const AUTO_ORDER: BackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'native', 'cpu']

export interface BackendChoice {
  name: BackendName
  /** What it runs on (library, threads, devices), for logs and the training-run record. */
  details: string
}

export interface BackendOptions {
  logger?: pino.Logger
  /** Threads of the native kernels (default: every core). */
  threads?: number
}

async function tryBackend(name: BackendName, options: BackendOptions): Promise<BackendChoice> {
  switch (name) {
    case 'tfjs-node-gpu':
    case 'tfjs-node': {
      const pkg = `@tensorflow/${name}`
      let mod: { version?: Record<string, string> }
      try {
        // A variable specifier: optional packages that are usually absent must not be resolved at build time.
        mod = (await import(pkg)) as typeof mod
      } catch (e) {
        throw new MlBackendError(name, `${pkg} is not installed or does not load: ${(e as Error).message}`, {
          cause: e,
        })
      }
      if (!(await tf.setBackend('tensorflow')))
        throw new MlBackendError(name, `${pkg} loaded but its backend did not initialise`)
      const version = mod.version?.['tfjs-node'] ?? 'unknown version'
      return { name, details: `${pkg} ${version} (libtensorflow${name === 'tfjs-node-gpu' ? ', CUDA' : ''})` }
    }
    case 'native': {
      const info = registerNativeBackend({ threads: options.threads })
      if (!(await tf.setBackend(NATIVE_BACKEND))) throw new MlBackendError(name, 'backend did not initialise')
      return { name, details: `tfjs CPU backend + native kernels (OpenMP): ${info}` }
    }
    case 'wasm': {
      await import('@tensorflow/tfjs-backend-wasm')
      if (!(await tf.setBackend('wasm'))) throw new MlBackendError(name, 'backend did not initialise')
      return { name, details: 'tfjs WASM backend (SIMD, one thread; no conv/depthwise gradient kernels)' }
    }
    case 'cpu':
      if (!(await tf.setBackend('cpu'))) throw new MlBackendError(name, 'backend did not initialise')
      return { name, details: 'tfjs plain JavaScript CPU backend (slow: fallback only)' }
  }
}

/**
 * Chooses and activates the TensorFlow.js backend. `preferred` (a `--backend` value) forces one and fails with
 * MlBackendError if it cannot be used; otherwise the first that works in AUTO_ORDER. The choice is logged.
 */
export async function initBackend(preferred?: string, options: BackendOptions = {}): Promise<BackendChoice> {
  if (preferred !== undefined && preferred !== 'auto') {
    if (!(BACKENDS as readonly string[]).includes(preferred)) {
      throw new MlBackendError(preferred, `unknown backend; choose one of auto, ${BACKENDS.join(', ')}`)
    }
    const choice = await tryBackend(preferred as BackendName, options)
    options.logger?.info({ backend: choice.name, details: choice.details }, 'ML backend (forced)')
    return choice
  }
  const skipped: string[] = []
  for (const name of AUTO_ORDER) {
    try {
      const choice = await tryBackend(name, options)
      options.logger?.info({ backend: choice.name, details: choice.details, skipped }, 'ML backend')
      return choice
    } catch (e) {
      skipped.push(`${name}: ${(e as Error).message}`)
      options.logger?.debug({ backend: name, reason: (e as Error).message }, 'ML backend unavailable')
    }
  }
  throw new MlBackendError('auto', `no backend could be initialised (${skipped.join('; ')})`)
}

// Worker-thread entry for audio feature extraction, from source. Plain JS because a worker does not inherit
// the TypeScript loader of its parent: register tsx here, then run the TypeScript worker body. In dist/ this
// name is the compiled worker itself (scripts/build.mjs does not copy this file).
import { register } from 'tsx/esm/api'

register()
await import('./extract-worker.ts')

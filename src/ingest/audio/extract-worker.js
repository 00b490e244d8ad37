// Worker-thread entry for audio feature extraction. Plain JS because a worker does not inherit the
// TypeScript loader of its parent: register tsx here, then run the TypeScript worker body.
import { register } from 'tsx/esm/api'

register()
await import('./extract-worker.ts')

// Worker-thread entry for parsing a dump, from source. Plain JS because a worker does not inherit the
// TypeScript loader of its parent (bin/discograph-dev.js registers tsx in-process; vitest uses its own):
// register tsx here, then run the TypeScript worker body. In dist/ this name is the compiled worker itself.
import { register } from 'tsx/esm/api'

register()
await import('./parse-worker.ts')

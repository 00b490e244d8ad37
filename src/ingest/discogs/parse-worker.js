// Worker-thread entry for parsing a dump. Plain JS because a worker does not inherit the TypeScript
// loader of its parent (bin/discograph.js registers tsx in-process; vitest uses its own): register tsx
// here, then run the TypeScript worker body.
import { register } from 'tsx/esm/api'

register()
await import('./parse-worker.ts')

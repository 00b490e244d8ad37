#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm ci` or `npm run build`). Transpiling the TypeScript at every
// start (and in every worker thread) took 3.6–4 s for `--help`; see docs/BENCHMARKS.md.
// From source, without a build: bin/discograph-dev.js.
import fs from 'node:fs'

const main = new URL('../dist/src/cli/main.js', import.meta.url)
if (!fs.existsSync(main)) {
  console.error('discograph: not built (no dist/); run `npm run build` (`npm ci` builds it too)')
  process.exit(1)
}
await import(main.href)

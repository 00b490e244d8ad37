#!/usr/bin/env node
// The CLI from its TypeScript source through tsx (a devDependency), for development and the tests: no build
// between an edit and a run. `npm run dev -- <command>`. Users run bin/discograph.js, the compiled build.
// The project's tsconfig is named explicitly: tsx would otherwise look for one in the caller's working
// directory, and TypeORM's decorators need its `experimentalDecorators`.
import { fileURLToPath } from 'node:url'
import { register } from 'tsx/esm/api'

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) })
await import('../src/cli/main.ts')

#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so there is no build step between `npm ci` and `npx discograph`.
// The project's tsconfig is named explicitly: tsx would otherwise look for one in the caller's working
// directory, and TypeORM's decorators need its `experimentalDecorators`.
import { fileURLToPath } from 'node:url'
import { register } from 'tsx/esm/api'

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) })
await import('../src/cli/main.ts')

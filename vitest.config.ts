import { createRequire } from 'node:module'
import { defineConfig } from 'vitest/config'
import LongestFirst from './test/support/longest-first.ts'

export default defineConfig({
  // One graphql instance: Node loads graphql's CommonJS build for @apollo/server and @graphql-tools, so
  // our own imports must resolve to it too, or graphql-js refuses types "from another realm".
  resolve: { alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve('graphql') }] },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/yield-between-tests.ts'],
    // the longest files first (CI's fresh clone has no timing cache): test/support/longest-first.ts
    sequence: { sequencer: LongestFirst },
    // Two cores: more workers only contend; integration tests each make their own database.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
})

import fs from 'node:fs'
import path from 'node:path'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

/**
 * Runs the files that took longest in CI first, so that two forks finish together instead of one waiting
 * on a long file started last. Vitest does this by itself from its cache, but CI starts from a fresh clone
 * with none and falls back to file size, which ranks the 110 s demo test among the short ones. The seconds
 * come from a CI run's JSON report (test-durations.json; an unknown file counts as long and goes first, as
 * Vitest's own order does). Only the order changes: each file still makes its own database.
 */
export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds: Record<string, number> = JSON.parse(
      fs.readFileSync(path.join(import.meta.dirname, 'test-durations.json'), 'utf8'),
    )
    const root = this.ctx.config.root
    const of = (f: TestSpecification) => seconds[path.relative(root, f.moduleId)] ?? Infinity
    return [...files].sort((a, b) => of(b) - of(a))
  }
}

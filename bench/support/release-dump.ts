import { execFileSync } from 'node:child_process'
import path from 'node:path'

const REPO = path.resolve(import.meta.dirname, '../..')

/**
 * Writes a releases dump of n records renumbered from the fixture (writeRenumberedReleaseDump, gzip level 6,
 * dump date 20990101) into dir and returns its path. Built in a child process, so that building it does
 * not count in the benchmark's own memory.
 */
export function buildReleaseDump(dir: string, n: number): string {
  const code = `const { writeRenumberedReleaseDump } = await import('./test/support/dumps.ts')
    process.stdout.write(writeRenumberedReleaseDump(${JSON.stringify(dir)}, ${n}, { date: '20990101', level: 6 }))`
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: REPO,
    encoding: 'utf8',
  })
}

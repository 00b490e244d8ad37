import { spawn } from 'node:child_process'
import path from 'node:path'

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..')
export const FIXTURES = path.resolve(REPO_ROOT, '../shared/fixtures/discogs')
/** The CLI from source through tsx: what the tests run, so that they test the tree as it is, unbuilt. */
export const CLI_SOURCE = path.join(REPO_ROOT, 'bin/discograph-dev.js')
/** The CLI as users run it: the compiled build in dist/ (test/e2e/compiled-cli.test.ts). */
export const CLI_BUILT = path.join(REPO_ROOT, 'bin/discograph.js')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `discograph …` as a user would (a child process through bin/), with its own environment. */
export function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 120_000,
  entry = CLI_SOURCE,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', DATABASE_URL: undefined, ...env }
    for (const k of Object.keys(childEnv)) if (childEnv[k] === undefined) delete childEnv[k]
    const child = spawn(process.execPath, [entry, ...args], {
      cwd: REPO_ROOT,
      env: childEnv,
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

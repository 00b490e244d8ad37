import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { CLI_SOURCE, REPO_ROOT, runCli } from '../support/cli.ts'
import { tmpDir } from '../support/database.ts'

/**
 * The README's main command, as a user runs it: `discograph demo` on the embedded database (no
 * DATABASE_URL), every step for real (few training steps), then serving; GraphQL answers over HTTP with
 * similar tracks and predictions; Ctrl-C stops it cleanly.
 */
describe('discograph demo (embedded database)', () => {
  const dataDir = tmpDir('discograph-demo-')
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }))

  it('prepares everything, serves it, answers, and stops on SIGINT', async () => {
    // As a user runs it: without vitest's NODE_ENV=test, under which Apollo installs no signal handlers of
    // its own (with them, SIGINT once left serve hanging).
    const { NODE_ENV: _, ...userEnv } = process.env
    const child = spawn(process.execPath, [CLI_SOURCE, 'demo', '--steps', '4', '--port', '0'], {
      cwd: REPO_ROOT,
      env: { ...userEnv, DATA_DIR: dataDir, LOG_LEVEL: 'warn', DATABASE_URL: '' },
    })
    let stderr = ''
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`demo did not start serving:\n${stderr.slice(-3000)}`)),
        420_000,
      )
      child.stderr.on('data', (d) => {
        stderr += d
        const m = /GraphQL\s+(http:\/\/\S+)\/graphql/.exec(stderr)
        if (m) {
          clearTimeout(timer)
          resolve(m[1])
        }
      })
      child.on('exit', (code) =>
        reject(new Error(`demo exited ${code} before serving:\n${stderr.slice(-3000)}`)),
      )
    })
    for (const n of [1, 2, 3, 4, 5, 6, 7]) expect(stderr).toContain(`[${n}/7]`)
    // the retrieval headline, with its baselines beside it
    expect(stderr).toMatch(/style precision@10 over \d+ tracks \(chance \d+\.\d%\):/)
    for (const row of ['demo-artist-demo \\(served\\)', 'random weights', 'no learning \\(mel statistics\\)'])
      expect(stderr).toMatch(new RegExp(`  ${row} +\\d+\\.\\d%  \\d+\\.\\d\\d× chance`))
    const gql = async (query: string) =>
      (await (
        await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query }),
        })
      ).json()) as {
        data: Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
        errors?: unknown[]
      }
    // The example queries it prints find something in the demo's catalog: each answers without errors, and
    // no top-level answer is null or an empty list.
    const examples = [...stderr.matchAll(/-d '(.*)'$/gm)].map(
      (m) => (JSON.parse(m[1].replaceAll("'\\''", "'")) as { query: string }).query,
    )
    expect(examples).toHaveLength(3)
    for (const query of examples) {
      const r = await gql(query)
      expect(r.errors, query).toBeUndefined()
      const [answer] = Object.values(r.data)
      expect(answer, query).not.toBeNull()
      if (answer.edges) expect(answer.edges.length, query).toBeGreaterThan(0)
    }
    const models = await gql(
      `{ models { name kind embedded } probes { name task } trainingRuns { name status } }`,
    )
    expect(models.errors).toBeUndefined()
    expect(models.data.trainingRuns).toEqual([{ name: 'demo-artist-demo', status: 'succeeded' }])
    expect(models.data.probes).toEqual([{ name: 'demo-styles-demo', task: 'styles' }])
    const [{ id }] = (
      await gql(
        `{ search(query: "summer", types: [TRACK], first: 1) { edges { node { ... on Track { id } } } } }`,
      )
    ).data.search.edges.map((e: { node: { id: string } }) => e.node)
    const similar = await gql(
      `{ similarTracks(track: "${id}", first: 5) { similarity track { title } } track(id: "${id}") { audio { url } predictions(probe: "demo-styles-demo") { scores { class score } } } }`,
    )
    expect(similar.errors).toBeUndefined()
    expect(similar.data.similarTracks).toHaveLength(5)
    expect(similar.data.track.predictions.scores.length).toBeGreaterThan(3)
    expect((await fetch(`${url}${similar.data.track.audio.url}`)).status).toBe(200)

    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    child.kill('SIGINT')
    // Stopping takes well under a second; a minute means it hangs (which the test would otherwise only show
    // as its own timeout).
    const hung = new Promise<string>((resolve) =>
      setTimeout(() => resolve('still running a minute after SIGINT'), 60_000).unref(),
    )
    expect(await Promise.race([exited, hung])).toBe(0)
    // The embedded database was closed cleanly: another command can open it straight away.
    const again = await runCli(['models', 'list', '--json'], { DATA_DIR: dataDir })
    expect(again.code, again.stderr).toBe(0)
  }, 600_000)
})

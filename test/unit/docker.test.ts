import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadConfig } from '../../src/config/config.ts'
import { REPO_ROOT, runCli } from '../support/cli.ts'

// No Docker engine runs here, so the files are checked for consistency with the code they package.
const compose = parse(fs.readFileSync(path.join(REPO_ROOT, 'docker/compose.yaml'), 'utf8'))

describe('docker files', () => {
  it('compose has postgres with pgvector, api, worker and a GPU worker, all healthy-gated', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['postgres', 'api', 'worker', 'gpu-worker', 'migrate']),
    )
    expect(compose.services.postgres.image).toMatch(/^pgvector\/pgvector:/)
    expect(compose.services.api.depends_on.migrate.condition).toBe('service_completed_successfully')
  })

  it('every service runs a real CLI command, with a configuration the app accepts', async () => {
    const help = (await runCli(['--help'])).stdout
    for (const [name, svc] of Object.entries<{ command?: string[]; environment?: Record<string, string> }>(
      compose.services,
    )) {
      if (name === 'postgres') continue
      const [cmd, sub] = svc.command!
      expect(help, `${name}: ${cmd}`).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'))
      if (sub && !sub.startsWith('--')) {
        expect((await runCli([cmd, '--help'])).stdout, `${name}: ${cmd} ${sub}`).toMatch(
          new RegExp(`^\\s+${sub}\\b`, 'm'),
        )
      }
      expect(() => loadConfig(svc.environment as NodeJS.ProcessEnv)).not.toThrow()
    }
  })

  it('Dockerfiles copy only paths that exist and start the CLI', () => {
    for (const file of ['docker/Dockerfile', 'docker/Dockerfile.gpu']) {
      const text = fs.readFileSync(path.join(REPO_ROOT, file), 'utf8')
      const copies = [...text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/))
      expect(copies.length).toBeGreaterThan(3)
      for (const src of copies) expect(fs.existsSync(path.join(REPO_ROOT, src)), `${file}: ${src}`).toBe(true)
      expect(text).toContain('ENTRYPOINT ["node", "bin/discograph.js"]')
    }
  })

  it('Dockerfiles copy what `npm ci` builds from (the kernels, dist/) before running it', () => {
    for (const file of ['docker/Dockerfile', 'docker/Dockerfile.gpu']) {
      const text = fs.readFileSync(path.join(REPO_ROOT, file), 'utf8')
      const ci = text.search(/^RUN npm ci\b/m)
      expect(ci, `${file}: RUN npm ci`).toBeGreaterThan(0)
      const copiedBefore = [...text.slice(0, ci).matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) =>
        m[1].split(/\s+/),
      )
      for (const needed of [
        'package.json',
        'package-lock.json',
        'tsconfig.json',
        'tsconfig.build.json',
        'scripts',
        'src',
        'migrations',
      ])
        expect(copiedBefore, `${file}: ${needed} before npm ci`).toContain(needed)
      expect(text, `${file}: kernels for a portable target`).toMatch(/^ARG DG_NATIVE_ARCH=(?!native)\S+$/m)
    }
  })
})

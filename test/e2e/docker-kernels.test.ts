import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../support/cli.ts'
import { tmpDir } from '../support/database.ts'

/**
 * The native kernels as docker/Dockerfile builds them, without a Docker engine: the build stage's `DG_*` ARGs
 * (read from the Dockerfile, so the two cannot drift) passed to scripts/build-ml-native.sh, into a copy of
 * dist/ laid out as in the image; there the backend selection must pick `native`, on OpenBLAS. With a
 * baseline x86-64 target the kernels must use no AVX register (the host build, -march=native, uses them).
 */
const dockerfile = fs.readFileSync(path.join(REPO_ROOT, 'docker/Dockerfile'), 'utf8')
const buildStage = dockerfile.split(/^FROM /m)[1]
const imageArgs = Object.fromEntries(
  [...buildStage.matchAll(/^ARG (DG_\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]),
)

const compiler = spawnSync('g++', ['--version']).status === 0
const openblas =
  compiler &&
  spawnSync('sh', ['-c', "printf 'int main(){return 0;}' | g++ -x c++ - -o /dev/null -lopenblas"]).status ===
    0
const objdump = spawnSync('objdump', ['--version']).status === 0

describe.skipIf(process.arch !== 'x64' || !openblas)(
  'native kernels built as the CPU image builds them',
  () => {
    let app: string
    let addon: string

    beforeAll(() => {
      expect(
        fs.existsSync(path.join(REPO_ROOT, 'dist/src/ml/engine/backend.js')),
        'dist/ is not built: run `npm run build`',
      ).toBe(true)
      app = tmpDir('discograph-image-')
      fs.cpSync(path.join(REPO_ROOT, 'dist'), path.join(app, 'dist'), {
        recursive: true,
        filter: (src) => !src.includes(path.join('native', 'build')), // the host's kernels stay out, as in the image
      })
      fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(app, 'node_modules'))
      const out = path.join(app, 'dist/src/ml/engine/native/build')
      execFileSync('sh', ['scripts/build-ml-native.sh'], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...imageArgs, DG_NATIVE_OUT_DIR: out },
        stdio: 'pipe',
      })
      addon = path.join(out, 'discograph_kernels.node')
    }, 120_000)
    afterAll(() => {
      if (app) fs.rmSync(app, { recursive: true, force: true })
    })

    it('the Dockerfile names a portable target and requires OpenBLAS', () => {
      expect(imageArgs.DG_NATIVE_ARCH).toMatch(/^x86-64(-v[234])?$/)
      expect(imageArgs.DG_NATIVE_REQUIRE_OPENBLAS).toBe('1')
    })

    it('the backend selection picks them: native, on OpenBLAS', () => {
      const code = `const { initBackend } = await import('./dist/src/ml/engine/backend.js'); console.log(JSON.stringify(await initBackend()))`
      const choice = JSON.parse(
        execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: app, encoding: 'utf8' }),
      )
      expect(choice.name).toBe('native')
      expect(choice.details).toContain('OpenBLAS')
    })

    it.skipIf(!objdump || !/^x86-64(-v2)?$/.test(imageArgs.DG_NATIVE_ARCH ?? ''))(
      'use no AVX register (nothing of the building CPU)',
      () => {
        const asm = execFileSync('objdump', ['-d', '--no-show-raw-insn', addon], {
          encoding: 'utf8',
          maxBuffer: 256 << 20,
        })
        expect(asm).toMatch(/%xmm/) // vectorised, on SSE
        expect(asm).not.toMatch(/%[yz]mm/)
      },
    )
  },
)

import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { NativeKernels } from '../../src/ml/engine/native-addon.ts'
import { SeededRandom } from '../../src/random/seeded-random.ts'

const REPO = path.resolve(import.meta.dirname, '../..')
const compiler = spawnSync('g++', ['--version']).status === 0

/**
 * The kernels as built where OpenBLAS is missing (a fresh machine after `npm ci` alone): the same addon
 * with portable-gemm.h's matrix product. Built into a temporary directory and checked against float64 sums
 * on every transpose case, at sizes around its register tile (4 × 32) and blocks (K 256, N 512), with beta,
 * and through gemm.h's splits across threads (rows, columns, K).
 */
describe.skipIf(!compiler)('native kernels without OpenBLAS (portable matrix product)', () => {
  let dir: string
  let k: NativeKernels

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-portable-gemm-'))
    execFileSync('sh', ['scripts/build-ml-native.sh'], {
      cwd: REPO,
      env: { ...process.env, DG_PORTABLE_GEMM: '1', DG_NATIVE_OUT_DIR: dir },
      stdio: 'pipe',
    })
    k = createRequire(import.meta.url)(path.join(dir, 'discograph_kernels.node')) as NativeKernels
    k.setThreads(2)
  }, 120_000)
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

  it('says it runs without OpenBLAS', () => {
    expect(k.info()).toContain('portable sgemm')
  })

  const rng = new SeededRandom(11)
  const random = (n: number) => Float32Array.from({ length: n }, () => rng.next() * 2 - 1)

  // C = op(A)·op(B) + beta·C in float64, A stored [M,K] (or [K,M] when transposed), B [K,N] (or [N,K]).
  function reference(
    ta: boolean,
    tb: boolean,
    M: number,
    N: number,
    K: number,
    A: Float32Array,
    B: Float32Array,
    C: Float32Array,
    beta: number,
  ) {
    const out = new Float64Array(M * N)
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0
        for (let p = 0; p < K; p++)
          s += (ta ? A[p * M + i] : A[i * K + p]) * (tb ? B[j * K + p] : B[p * N + j])
        out[i * N + j] = s + (beta === 0 ? 0 : beta * C[i * N + j])
      }
    return out
  }

  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [3, 31, 5],
    [4, 32, 256],
    [5, 33, 257],
    [37, 600, 40], // N past one 512 block; rows split across threads
    [8, 8, 3000], // small C, long K: split by K, partial sums
    [9, 70, 300], // columns split across threads
  ]
  for (const [M, N, K] of shapes)
    it(`C[${M}×${N}] over K ${K}: every transpose case, beta 0 and 0.5`, () => {
      for (const ta of [false, true])
        for (const tb of [false, true])
          for (const beta of [0, 0.5]) {
            const A = random(M * K)
            const B = random(K * N)
            const C0 = random(M * N)
            const C = beta === 0 ? new Float32Array(M * N).fill(Number.NaN) : C0.slice() // beta 0 must not read C
            k.gemm(Number(ta), Number(tb), M, N, K, A, B, C, beta)
            const want = reference(ta, tb, M, N, K, A, B, C0, beta)
            let worst = 0
            want.forEach((w, i) => (worst = Math.max(worst, Math.abs(w - C[i]))))
            expect(worst, `ta ${ta} tb ${tb} beta ${beta}`).toBeLessThan(1e-4 * Math.sqrt(K) + 1e-5)
          }
    })
})

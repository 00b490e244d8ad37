// A single-threaded sgemm of our own, compiled in (DG_PORTABLE_GEMM) when OpenBLAS is not installed, so
// that `npm ci` alone still builds the native backend. Without it a fresh machine falls back to the plain
// tfjs CPU backend, which trains even the demo's tiny model ~100× slower (0.5 samples/s: hours for the
// demo). It is several times slower than OpenBLAS on the large products but keeps every other native kernel.
//
// Classic blocking: op(B) is packed per (K block × N block) into contiguous rows, op(A) per 4 rows into
// [k][4], and a 4 × 32 tile of C is accumulated in registers over the K block (GCC vectorises the fixed-size
// inner loops at -O3 -march=native). gemm.h splits products across OpenMP threads as it does for OpenBLAS.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace dg {

namespace portable {

constexpr int KC = 256;  // K block: a packed B block (KC × NC floats) stays in L2
constexpr int NC = 512;
constexpr int MR = 4;    // rows of C per register tile
constexpr int NR = 32;   // columns of C per register tile (two AVX-512 / four AVX2 vectors)

// C[MR × NR] += Ap[kc][MR] · Bp[kc][ldbp] (columns j0..j0+NR of the packed block).
inline void tile(int kc, const float* Ap, const float* Bp, int ldbp, float* C, int ldc) {
  float acc[MR][NR] = {};
  for (int k = 0; k < kc; k++) {
    const float* b = Bp + static_cast<size_t>(k) * ldbp;
    const float* a = Ap + static_cast<size_t>(k) * MR;
    for (int r = 0; r < MR; r++) {
      const float ar = a[r];
#pragma omp simd
      for (int v = 0; v < NR; v++) acc[r][v] += ar * b[v];
    }
  }
  for (int r = 0; r < MR; r++) {
    float* c = C + static_cast<size_t>(r) * ldc;
#pragma omp simd
    for (int v = 0; v < NR; v++) c[v] += acc[r][v];
  }
}

// The edges (fewer than MR rows or NR columns left): the same sums, without the register tile.
inline void edge(int mr, int nr, int kc, const float* Ap, const float* Bp, int ldbp, float* C, int ldc) {
  for (int r = 0; r < mr; r++) {
    float* c = C + static_cast<size_t>(r) * ldc;
    for (int k = 0; k < kc; k++) {
      const float ar = Ap[static_cast<size_t>(k) * MR + r];
      const float* b = Bp + static_cast<size_t>(k) * ldbp;
      for (int v = 0; v < nr; v++) c[v] += ar * b[v];
    }
  }
}

}  // namespace portable

// Row-major C[M,N] = alpha·op(A)·op(B) + beta·C, the cblas_sgemm contract for the cases gemm.h uses.
inline void portableSgemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
                          int ldb, float beta, float* C, int ldc) {
  using namespace portable;
  for (int i = 0; i < M; i++) {
    float* c = C + static_cast<size_t>(i) * ldc;
    if (beta == 0.0f) std::fill(c, c + N, 0.0f);  // C may be uninitialised (a recycled buffer): never read it
    else if (beta != 1.0f) for (int j = 0; j < N; j++) c[j] *= beta;
  }
  thread_local std::vector<float> Bp, Ap;
  Bp.resize(static_cast<size_t>(KC) * NC);
  Ap.resize(static_cast<size_t>(KC) * MR);
  for (int k0 = 0; k0 < K; k0 += KC) {
    const int kc = std::min(KC, K - k0);
    for (int j0 = 0; j0 < N; j0 += NC) {
      const int nc = std::min(NC, N - j0);
      for (int k = 0; k < kc; k++) {
        float* dst = Bp.data() + static_cast<size_t>(k) * nc;
        if (tb)
          for (int j = 0; j < nc; j++) dst[j] = B[static_cast<size_t>(j0 + j) * ldb + k0 + k];
        else
          std::copy_n(B + static_cast<size_t>(k0 + k) * ldb + j0, nc, dst);
      }
      for (int i0 = 0; i0 < M; i0 += MR) {
        const int mr = std::min(MR, M - i0);
        for (int k = 0; k < kc; k++)
          for (int r = 0; r < MR; r++) {
            const float a = r < mr ? (ta ? A[static_cast<size_t>(k0 + k) * lda + i0 + r] : A[static_cast<size_t>(i0 + r) * lda + k0 + k]) : 0.0f;
            Ap[static_cast<size_t>(k) * MR + r] = alpha * a;
          }
        float* c = C + static_cast<size_t>(i0) * ldc + j0;
        int j = 0;
        if (mr == MR)
          for (; j + NR <= nc; j += NR) tile(kc, Ap.data(), Bp.data() + j, nc, c + j, ldc);
        if (j < nc) edge(mr, nc - j, kc, Ap.data(), Bp.data() + j, nc, c + j, ldc);
      }
    }
  }
}

}  // namespace dg

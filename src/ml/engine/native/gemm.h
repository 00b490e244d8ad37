// Matrix products on OpenMP's threads with a single-threaded OpenBLAS sgemm per thread.
//
// Why not OpenBLAS' own threads: Debian's default OpenBLAS runs a pthread pool whose workers spin for a
// while after each product, and the OpenMP pool of the other kernels spins too; on two cores the two pools
// took turns stealing each other's core (a B0 inference batch: 850 ms with both pools, 650 ms with OpenMP
// made passive, and less with one pool). So OpenBLAS is set to one thread at load and every product is
// split here: by rows of C, by columns of C, or (when C is small and K large, as in weight gradients) by K
// with per-thread partial products summed at the end.
#pragma once

#include "common.h"
#ifdef DG_PORTABLE_GEMM
#include "portable-gemm.h"
#endif

namespace dg {

inline void sgemmOne(bool ta, bool tb, int M, int N, int K, const float* A, int lda, const float* B, int ldb, float beta,
                     float* C, int ldc) {
#ifdef DG_PORTABLE_GEMM
  portableSgemm(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
#else
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A, lda, B, ldb,
              beta, C, ldc);
#endif
}

// OpenBLAS runs single-threaded inside our OpenMP splits (see above); the portable product has no threads.
inline void blasSingleThreaded() {
#ifndef DG_PORTABLE_GEMM
  openblas_set_num_threads(1);
#endif
}

inline const char* blasDescription() {
#ifdef DG_PORTABLE_GEMM
  return "portable sgemm, no OpenBLAS: scripts/install-ml-native-deps.sh makes products several times faster";
#else
  return openblas_get_config();
#endif
}

// Splits [0, n) into `parts` ranges aligned to `align` (the last takes the rest).
inline void splitRange(int n, int parts, int part, int align, int* begin, int* end) {
  int per = ((n + parts - 1) / parts + align - 1) / align * align;
  *begin = std::min(n, part * per);
  *end = std::min(n, *begin + per);
}

// Row-major C[M,N] = op(A)·op(B) + beta·C, with lda/ldb/ldc the row strides of A, B and C as stored.
inline void sgemm(bool ta, bool tb, int M, int N, int K, const float* A, int lda, const float* B, int ldb, float beta,
                  float* C, int ldc) {
  if (K == 0) {  // an empty sum: C = beta·C, written here (C may be a recycled buffer)
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++) C[static_cast<size_t>(i) * ldc + j] = beta == 0.0f ? 0.0f : beta * C[static_cast<size_t>(i) * ldc + j];
    return;
  }
  const int T = omp_get_max_threads();
  const double work = static_cast<double>(M) * N * K;
  if (T <= 1 || omp_in_parallel() || work < (1 << 18)) {
    sgemmOne(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  if (M >= 16 * T || (M >= 4 * T && M >= N)) {
#pragma omp parallel num_threads(T)
    {
      int m0, m1;
      splitRange(M, T, omp_get_thread_num(), 8, &m0, &m1);
      if (m1 > m0) {
        const float* a = ta ? A + m0 : A + static_cast<size_t>(m0) * lda;
        sgemmOne(ta, tb, m1 - m0, N, K, a, lda, B, ldb, beta, C + static_cast<size_t>(m0) * ldc, ldc);
      }
    }
    return;
  }
  if (N >= 4 * T) {
#pragma omp parallel num_threads(T)
    {
      int n0, n1;
      splitRange(N, T, omp_get_thread_num(), 8, &n0, &n1);
      if (n1 > n0) {
        const float* b = tb ? B + static_cast<size_t>(n0) * ldb : B + n0;
        sgemmOne(ta, tb, M, n1 - n0, K, A, lda, b, ldb, beta, C + n0, ldc);
      }
    }
    return;
  }
  // Small C, long K: each thread a K range into its own buffer, then C = beta·C + Σ partials.
  std::vector<float> partial(static_cast<size_t>(T) * M * N);
#pragma omp parallel num_threads(T)
  {
    int t = omp_get_thread_num();
    int k0, k1;
    splitRange(K, T, t, 1, &k0, &k1);
    float* P = partial.data() + static_cast<size_t>(t) * M * N;
    if (k1 > k0) {
      const float* a = ta ? A + static_cast<size_t>(k0) * lda : A + k0;
      const float* b = tb ? B + k0 : B + static_cast<size_t>(k0) * ldb;
      sgemmOne(ta, tb, M, N, k1 - k0, a, lda, b, ldb, 0.0f, P, N);
    } else {
      std::fill(P, P + static_cast<size_t>(M) * N, 0.0f);
    }
  }
  for (int i = 0; i < M; i++) {
    float* c = C + static_cast<size_t>(i) * ldc;
    for (int j = 0; j < N; j++) {
      float s = 0.0f;
      for (int t = 0; t < T; t++) s += partial[(static_cast<size_t>(t) * M + i) * N + j];
      c[j] = beta == 0.0f ? s : beta * c[j] + s;
    }
  }
}

}  // namespace dg

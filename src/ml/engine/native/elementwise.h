// Binary arithmetic with the broadcasts a training step uses (equal shapes, a scalar, or a per-channel vector
// repeated over rows), and Adam's update fused into one pass over a variable.
#pragma once

#include "common.h"

namespace dg {

enum BinaryOp { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3 };

template <int OP>
inline float apply(float a, float b) {
  if constexpr (OP == kAdd) return a + b;
  if constexpr (OP == kSub) return a - b;
  if constexpr (OP == kMul) return a * b;
  return a / b;
}

// out[i] = a[⌊i/ia⌋ mod na] OP b[⌊i/ib⌋ mod nb], n = max(na, nb): the shorter operand repeats, each of its
// elements `inner` times in a row (1: a scalar or a vector along the last axes; more: a column such as the
// [rows, 1] statistics of a layer norm). The longer operand has inner 1.
template <int OP>
void binaryOp(const float* a, size_t na, const float* b, size_t nb, size_t inner, float* out) {
  const size_t n = std::max(na, nb);
  if (inner > 1) {
    const bool bSmall = nb < na;
    const float* big = bSmall ? a : b;
    const float* small = bSmall ? b : a;
    const size_t ns = bSmall ? nb : na, rows = n / inner;
#pragma omp parallel for schedule(static) if (n > kParallelElements)
    for (size_t r = 0; r < rows; r++) {
      const float s = small[r % ns];
      const float* __restrict x = big + r * inner;
      float* __restrict o = out + r * inner;
      if (bSmall)
        for (size_t j = 0; j < inner; j++) o[j] = apply<OP>(x[j], s);
      else
        for (size_t j = 0; j < inner; j++) o[j] = apply<OP>(s, x[j]);
    }
    return;
  }
  if (na == nb) {
#pragma omp parallel for schedule(static) if (n > kParallelElements)
    for (size_t i = 0; i < n; i++) out[i] = apply<OP>(a[i], b[i]);
  } else if (nb == 1) {
    const float s = b[0];
#pragma omp parallel for schedule(static) if (n > kParallelElements)
    for (size_t i = 0; i < n; i++) out[i] = apply<OP>(a[i], s);
  } else if (na == 1) {
    const float s = a[0];
#pragma omp parallel for schedule(static) if (n > kParallelElements)
    for (size_t i = 0; i < n; i++) out[i] = apply<OP>(s, b[i]);
  } else if (na > nb) {
    const size_t rows = na / nb;
#pragma omp parallel for schedule(static) if (n > kParallelElements)
    for (size_t r = 0; r < rows; r++) {
      const float* __restrict ar = a + r * nb;
      float* __restrict o = out + r * nb;
      for (size_t j = 0; j < nb; j++) o[j] = apply<OP>(ar[j], b[j]);
    }
  } else {
    const size_t rows = nb / na;
#pragma omp parallel for schedule(static) if (n > kParallelElements)
    for (size_t r = 0; r < rows; r++) {
      const float* __restrict br = b + r * na;
      float* __restrict o = out + r * na;
      for (size_t j = 0; j < na; j++) o[j] = apply<OP>(a[j], br[j]);
    }
  }
}

inline void binary(int op, const float* a, size_t na, const float* b, size_t nb, size_t inner, float* out) {
  switch (op) {
    case kAdd: return binaryOp<kAdd>(a, na, b, nb, inner, out);
    case kSub: return binaryOp<kSub>(a, na, b, nb, inner, out);
    case kMul: return binaryOp<kMul>(a, na, b, nb, inner, out);
    default: return binaryOp<kDiv>(a, na, b, nb, inner, out);
  }
}

inline void sigmoid(const float* x, size_t n, float* y) {
#pragma omp parallel for schedule(static) if (n > kParallelElements)
  for (size_t i = 0; i < n; i++) y[i] = sigmoidf(x[i]);
}

// x viewed as [outer, inner]: leading = true sums over outer (out[inner]), else over inner (out[outer]).
// Float partial sums flushed to double per 256 rows, as the norm kernels do.
inline void reduceSum(const float* x, size_t outer, size_t inner, bool leading, float* out) {
  if (leading) {
    std::vector<double> acc(inner, 0.0);
    std::vector<float> part(inner, 0.0f);
    for (size_t r = 0; r < outer; r++) {
      const float* __restrict xr = x + r * inner;
      for (size_t j = 0; j < inner; j++) part[j] += xr[j];
      if ((r + 1) % 256 == 0)
        for (size_t j = 0; j < inner; j++) acc[j] += part[j], part[j] = 0.0f;
    }
    for (size_t j = 0; j < inner; j++) out[j] = static_cast<float>(acc[j] + part[j]);
  } else {
#pragma omp parallel for schedule(static) if (outer * inner > kParallelElements)
    for (size_t r = 0; r < outer; r++) {
      const float* __restrict xr = x + r * inner;
      double s = 0.0;
      for (size_t j0 = 0; j0 < inner; j0 += 256) {
        float p = 0.0f;
        for (size_t j = j0; j < std::min(inner, j0 + 256); j++) p += xr[j];
        s += p;
      }
      out[r] = static_cast<float>(s);
    }
  }
}

// Σ of several equal-length arrays (AddN: gradients of a tensor used more than once).
inline void addN(const std::vector<const float*>& xs, size_t n, float* out) {
#pragma omp parallel for schedule(static) if (n > kParallelElements)
  for (size_t i = 0; i < n; i++) {
    float s = xs[0][i];
    for (size_t k = 1; k < xs.size(); k++) s += xs[k][i];
    out[i] = s;
  }
}

// Adam as TensorFlow.js computes it (tf.train.adam): m' = β1·m + (1−β1)·g, v' = β2·v + (1−β2)·g²,
// θ' = θ − lr · (m'/c1) / (√(v'/c2) + ε), with c1 = 1 − β1^t, c2 = 1 − β2^t.
struct AdamParams {
  float lr, beta1, beta2, eps, c1, c2;
};
inline void adam(const float* theta, const float* m, const float* v, const float* g, size_t n, const AdamParams& p,
                 float* thetaOut, float* mOut, float* vOut) {
  const float b1 = p.beta1, b2 = p.beta2, lr = p.lr, eps = p.eps, ic1 = 1.0f / p.c1, ic2 = 1.0f / p.c2;
#pragma omp parallel for schedule(static) if (n > kParallelElements)
  for (size_t i = 0; i < n; i++) {
    float mi = b1 * m[i] + (1.0f - b1) * g[i];
    float vi = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
    mOut[i] = mi;
    vOut[i] = vi;
    thetaOut[i] = theta[i] - lr * (mi * ic1) / (std::sqrt(vi * ic2) + eps);
  }
}

}  // namespace dg

// Batch normalisation (+ swish), swish, and the per-channel ops of squeeze-excitation, over rows of C
// channels (rows = N·H·W, channels innermost). Statistics are summed in float over runs of 256 rows and
// flushed to double, which keeps float rounding small without a double per element.
#pragma once

#include "common.h"

namespace dg {

constexpr size_t kFlushRows = 256;

// Σx and Σx² per channel.
inline void channelSums(const float* x, size_t rows, int C, std::vector<double>& sum, std::vector<double>& sumsq) {
  sum.assign(C, 0.0);
  sumsq.assign(C, 0.0);
  OrderedPartials<double> sums(C), squares(C);
#pragma omp parallel if (rows * C > kParallelElements)
  {
    std::vector<float> s(C, 0.0f), q(C, 0.0f);
    int nt = omp_get_num_threads(), t = omp_get_thread_num();
    double* sd = sums.of(t);
    double* qd = squares.of(t);
    size_t r0 = rows * t / nt, r1 = rows * (t + 1) / nt;
    for (size_t b = r0; b < r1; b += kFlushRows) {
      size_t e = std::min(r1, b + kFlushRows);
      for (size_t r = b; r < e; r++) {
        const float* __restrict xr = x + r * C;
        for (int c = 0; c < C; c++) {
          s[c] += xr[c];
          q[c] += xr[c] * xr[c];
        }
      }
      for (int c = 0; c < C; c++) {
        sd[c] += s[c];
        qd[c] += q[c];
        s[c] = q[c] = 0.0f;
      }
    }
  }
  sums.addTo(sum.data());
  squares.addTo(sumsq.data());
}

// y = act(x·scale + shift) per channel; act 1 = swish, 0 = none.
inline void affineAct(const float* x, size_t rows, int C, const float* scale, const float* shift, int act, float* y) {
#pragma omp parallel for schedule(static) if (rows * C > kParallelElements)
  for (size_t r = 0; r < rows; r++) {
    const float* __restrict xr = x + r * C;
    float* __restrict yr = y + r * C;
    if (act == 1) {
      for (int c = 0; c < C; c++) {
        float v = xr[c] * scale[c] + shift[c];
        yr[c] = v * sigmoidf(v);
      }
    } else {
      for (int c = 0; c < C; c++) yr[c] = xr[c] * scale[c] + shift[c];
    }
  }
}

// Training batch norm: batch statistics (biased variance), then act(γ·x̂ + β). Returns mean and 1/√(var + ε).
inline void bnActForward(const float* x, size_t rows, int C, const float* gamma, const float* beta, double eps, int act,
                         float* y, float* mean, float* invStd) {
  std::vector<double> sum, sumsq;
  channelSums(x, rows, C, sum, sumsq);
  std::vector<float> scale(C), shift(C);
  for (int c = 0; c < C; c++) {
    double m = sum[c] / rows;
    double v = std::max(0.0, sumsq[c] / rows - m * m);
    mean[c] = static_cast<float>(m);
    invStd[c] = static_cast<float>(1.0 / std::sqrt(v + eps));
    scale[c] = gamma[c] * invStd[c];
    shift[c] = beta[c] - static_cast<float>(m) * scale[c];
  }
  affineAct(x, rows, C, scale.data(), shift.data(), act, y);
}

// Gradient of bnActForward: dx = γ·invStd·(g − mean(g) − x̂·mean(g·x̂)), g = dz through the activation;
// dγ = Σ g·x̂, dβ = Σ g.
inline void bnActBackward(const float* dz, const float* x, size_t rows, int C, const float* gamma, const float* beta,
                          const float* mean, const float* invStd, int act, float* dx, float* dgamma, float* dbeta) {
  std::vector<double> sdy(C, 0.0), sdyx(C, 0.0);
  OrderedPartials<double> sums(C), products(C);
  // Pass 1: g into dx as scratch, and its sums.
#pragma omp parallel if (rows * C > kParallelElements)
  {
    std::vector<float> s(C, 0.0f), q(C, 0.0f);
    int nt = omp_get_num_threads(), t = omp_get_thread_num();
    double* sd = sums.of(t);
    double* qd = products.of(t);
    size_t r0 = rows * t / nt, r1 = rows * (t + 1) / nt;
    for (size_t b = r0; b < r1; b += kFlushRows) {
      size_t e = std::min(r1, b + kFlushRows);
      for (size_t r = b; r < e; r++) {
        const float* __restrict xr = x + r * C;
        const float* __restrict gr = dz + r * C;
        float* __restrict dr = dx + r * C;
        if (act == 1) {
          for (int c = 0; c < C; c++) {
            float xhat = (xr[c] - mean[c]) * invStd[c];
            float v = xhat * gamma[c] + beta[c];
            float sg = sigmoidf(v);
            float g = gr[c] * sg * (1.0f + v * (1.0f - sg));
            dr[c] = g;
            s[c] += g;
            q[c] += g * xhat;
          }
        } else {
          for (int c = 0; c < C; c++) {
            float xhat = (xr[c] - mean[c]) * invStd[c];
            float g = gr[c];
            dr[c] = g;
            s[c] += g;
            q[c] += g * xhat;
          }
        }
      }
      for (int c = 0; c < C; c++) {
        sd[c] += s[c];
        qd[c] += q[c];
        s[c] = q[c] = 0.0f;
      }
    }
  }
  sums.addTo(sdy.data());
  products.addTo(sdyx.data());
  // Pass 2: dx = k·(g − mean(g) − x̂·mean(g·x̂)), k = γ·invStd.
  std::vector<float> k(C), mdy(C), mdyx(C);
  for (int c = 0; c < C; c++) {
    dbeta[c] = static_cast<float>(sdy[c]);
    dgamma[c] = static_cast<float>(sdyx[c]);
    k[c] = gamma[c] * invStd[c];
    mdy[c] = static_cast<float>(sdy[c] / rows);
    mdyx[c] = static_cast<float>(sdyx[c] / rows);
  }
#pragma omp parallel for schedule(static) if (rows * C > kParallelElements)
  for (size_t r = 0; r < rows; r++) {
    const float* __restrict xr = x + r * C;
    float* __restrict dr = dx + r * C;
    for (int c = 0; c < C; c++) dr[c] = k[c] * (dr[c] - mdy[c] - (xr[c] - mean[c]) * invStd[c] * mdyx[c]);
  }
}

inline void swish(const float* x, size_t n, float* y) {
#pragma omp parallel for schedule(static) if (n > kParallelElements)
  for (size_t i = 0; i < n; i++) y[i] = x[i] * sigmoidf(x[i]);
}

inline void swishGrad(const float* dy, const float* x, size_t n, float* dx) {
#pragma omp parallel for schedule(static) if (n > kParallelElements)
  for (size_t i = 0; i < n; i++) {
    float s = sigmoidf(x[i]);
    dx[i] = dy[i] * s * (1.0f + x[i] * (1.0f - s));
  }
}

// y[n, c] = mean over HW of x[n, ·, c]
inline void channelMean(const float* x, int N, int HW, int C, float* y) {
#pragma omp parallel for schedule(static) if (static_cast<size_t>(N) * HW * C > kParallelElements)
  for (int n = 0; n < N; n++) {
    std::vector<double> acc(C, 0.0);
    std::vector<float> part(C, 0.0f);
    const float* xn = x + static_cast<size_t>(n) * HW * C;
    for (int p = 0; p < HW; p++) {
      const float* __restrict xp = xn + static_cast<size_t>(p) * C;
      for (int c = 0; c < C; c++) part[c] += xp[c];
      if ((p + 1) % kFlushRows == 0)
        for (int c = 0; c < C; c++) acc[c] += part[c], part[c] = 0.0f;
    }
    for (int c = 0; c < C; c++) y[static_cast<size_t>(n) * C + c] = static_cast<float>((acc[c] + part[c]) / HW);
  }
}

inline void channelMeanGrad(const float* dy, int N, int HW, int C, float* dx) {
  const float k = 1.0f / HW;
#pragma omp parallel for collapse(2) schedule(static) if (static_cast<size_t>(N) * HW * C > kParallelElements)
  for (int n = 0; n < N; n++)
    for (int p = 0; p < HW; p++) {
      const float* __restrict g = dy + static_cast<size_t>(n) * C;
      float* __restrict d = dx + (static_cast<size_t>(n) * HW + p) * C;
      for (int c = 0; c < C; c++) d[c] = g[c] * k;
    }
}

// y = x[n, h, w, c] · s[n, c]
inline void channelScale(const float* x, const float* sc, int N, int HW, int C, float* y) {
#pragma omp parallel for collapse(2) schedule(static) if (static_cast<size_t>(N) * HW * C > kParallelElements)
  for (int n = 0; n < N; n++)
    for (int p = 0; p < HW; p++) {
      const float* __restrict s = sc + static_cast<size_t>(n) * C;
      size_t o = (static_cast<size_t>(n) * HW + p) * C;
      const float* __restrict xp = x + o;
      float* __restrict yp = y + o;
      for (int c = 0; c < C; c++) yp[c] = xp[c] * s[c];
    }
}

// dx = dy · s, ds[n, c] = Σ_p dy · x
inline void channelScaleGrad(const float* dy, const float* x, const float* sc, int N, int HW, int C, float* dx, float* ds) {
#pragma omp parallel for schedule(static) if (static_cast<size_t>(N) * HW * C > kParallelElements)
  for (int n = 0; n < N; n++) {
    const float* __restrict s = sc + static_cast<size_t>(n) * C;
    std::vector<double> acc(C, 0.0);
    std::vector<float> part(C, 0.0f);
    for (int p = 0; p < HW; p++) {
      size_t o = (static_cast<size_t>(n) * HW + p) * C;
      const float* __restrict g = dy + o;
      const float* __restrict xp = x + o;
      float* __restrict d = dx + o;
      for (int c = 0; c < C; c++) {
        d[c] = g[c] * s[c];
        part[c] += g[c] * xp[c];
      }
      if ((p + 1) % kFlushRows == 0)
        for (int c = 0; c < C; c++) acc[c] += part[c], part[c] = 0.0f;
    }
    for (int c = 0; c < C; c++) ds[static_cast<size_t>(n) * C + c] = static_cast<float>(acc[c] + part[c]);
  }
}

}  // namespace dg

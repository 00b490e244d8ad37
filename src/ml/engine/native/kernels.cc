// Fast CPU kernels for the `native` TensorFlow.js backend (src/ml/engine/native-backend.ts).
//
// Every function works in place on the Float32Arrays that back tensors of tfjs' CPU backend (no copies):
// JS computes shapes and padding (tfjs' own computeConv2DInfo) and allocates outputs; this file does the
// arithmetic. Matrix products go to OpenBLAS' sgemm (threaded, with native transposes, so backprop never
// takes a slow transposed path); depthwise convolutions, batch norm, swish and the per-channel ops are
// written here for NHWC with channels innermost (vectorised by the compiler) and split across cores with
// OpenMP. Layouts: activations NHWC, conv filters HWIO, depthwise filters HWC1 (multiplier 1).
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include <malloc.h>
#include <omp.h>

extern "C" {
// From OpenBLAS' cblas.h, declared here so the build does not depend on where a distribution puts the header.
enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112 };
void cblas_sgemm(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, int M, int N, int K, float alpha,
                 const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc);
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
}

namespace {

struct Args {
  napi_env env;
  size_t argc = 24;
  napi_value argv[24];
  bool ok = true;

  Args(napi_env e, napi_callback_info info) : env(e) { napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr); }

  float* f32(size_t i, size_t* length = nullptr) {
    napi_typedarray_type type;
    size_t len;
    void* data;
    napi_value ab;
    size_t offset;
    if (i >= argc || napi_get_typedarray_info(env, argv[i], &type, &len, &data, &ab, &offset) != napi_ok ||
        type != napi_float32_array) {
      fail("expected a Float32Array argument");
      return nullptr;
    }
    if (length) *length = len;
    return static_cast<float*>(data);
  }
  int64_t i64(size_t i) {
    double v = 0;
    if (i >= argc || napi_get_value_double(env, argv[i], &v) != napi_ok) fail("expected a number argument");
    return static_cast<int64_t>(v);
  }
  double f64(size_t i) {
    double v = 0;
    if (i >= argc || napi_get_value_double(env, argv[i], &v) != napi_ok) fail("expected a number argument");
    return v;
  }
  void fail(const char* msg) {
    if (ok) napi_throw_type_error(env, nullptr, msg);
    ok = false;
  }
};

inline float sigmoidf(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// ---------------------------------------------------------------------------------------------------------
// GEMM: C[M,N] = alpha · op(A) · op(B) + beta · C, row-major.
napi_value Gemm(napi_env env, napi_callback_info info) {
  Args a(env, info);
  bool ta = a.i64(0) != 0, tb = a.i64(1) != 0;
  int M = a.i64(2), N = a.i64(3), K = a.i64(4);
  float* A = a.f32(5);
  float* B = a.f32(6);
  float* C = a.f32(7);
  float beta = static_cast<float>(a.f64(8));
  if (!a.ok) return nullptr;
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A,
              ta ? M : K, B, tb ? K : N, beta, C, N);
  return nullptr;
}

// Batched GEMM for BatchMatMul: batch × (op(A_b) · op(B_b)), A or B broadcast when its batch is 1.
napi_value BatchGemm(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int batch = a.i64(0), batchA = a.i64(1), batchB = a.i64(2);
  bool ta = a.i64(3) != 0, tb = a.i64(4) != 0;
  int M = a.i64(5), N = a.i64(6), K = a.i64(7);
  float* A = a.f32(8);
  float* B = a.f32(9);
  float* C = a.f32(10);
  if (!a.ok) return nullptr;
  for (int b = 0; b < batch; b++) {
    const float* Ab = A + static_cast<size_t>(batchA == 1 ? 0 : b) * M * K;
    const float* Bb = B + static_cast<size_t>(batchB == 1 ? 0 : b) * K * N;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, Ab,
                ta ? M : K, Bb, tb ? K : N, 0.0f, C + static_cast<size_t>(b) * M * N, N);
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------------------
// General convolution through im2col + GEMM, image by image in chunks that bound the column buffer.
struct ConvShape {
  int N, H, W, Ci, KH, KW, SH, SW, PT, PL, HO, WO, Co;
  size_t cols() const { return static_cast<size_t>(KH) * KW * Ci; }
  size_t rowsPerImage() const { return static_cast<size_t>(HO) * WO; }
};

ConvShape convShape(Args& a, int first) {
  ConvShape s;
  int* f[] = {&s.N, &s.H, &s.W, &s.Ci, &s.KH, &s.KW, &s.SH, &s.SW, &s.PT, &s.PL, &s.HO, &s.WO, &s.Co};
  for (int i = 0; i < 13; i++) *f[i] = static_cast<int>(a.i64(first + i));
  return s;
}

void im2col(const float* x, const ConvShape& s, int n0, int images, float* col) {
  const size_t K = s.cols();
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < images; n++) {
    for (int oh = 0; oh < s.HO; oh++) {
      const float* xn = x + static_cast<size_t>(n0 + n) * s.H * s.W * s.Ci;
      for (int ow = 0; ow < s.WO; ow++) {
        float* row = col + ((static_cast<size_t>(n) * s.HO + oh) * s.WO + ow) * K;
        for (int kh = 0; kh < s.KH; kh++) {
          int ih = oh * s.SH - s.PT + kh;
          for (int kw = 0; kw < s.KW; kw++) {
            int iw = ow * s.SW - s.PL + kw;
            float* dst = row + (static_cast<size_t>(kh) * s.KW + kw) * s.Ci;
            if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) {
              std::memset(dst, 0, sizeof(float) * s.Ci);
            } else {
              std::memcpy(dst, xn + (static_cast<size_t>(ih) * s.W + iw) * s.Ci, sizeof(float) * s.Ci);
            }
          }
        }
      }
    }
  }
}

int imagesPerChunk(const ConvShape& s) {
  size_t per = s.rowsPerImage() * s.cols();
  size_t budget = size_t(1) << 23;  // 32 MB of columns
  return static_cast<int>(std::max<size_t>(1, std::min<size_t>(s.N, budget / std::max<size_t>(per, 1))));
}

// conv2dIm2col(x, ...shape, w, y)
napi_value Conv2dIm2col(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float* x = a.f32(0);
  ConvShape s = convShape(a, 1);
  float* w = a.f32(14);
  float* y = a.f32(15);
  if (!a.ok) return nullptr;
  int chunk = imagesPerChunk(s);
  std::vector<float> col(static_cast<size_t>(chunk) * s.rowsPerImage() * s.cols());
  for (int n0 = 0; n0 < s.N; n0 += chunk) {
    int images = std::min(chunk, s.N - n0);
    im2col(x, s, n0, images, col.data());
    int rows = images * s.rowsPerImage();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, s.Co, s.cols(), 1.0f, col.data(), s.cols(), w, s.Co,
                0.0f, y + static_cast<size_t>(n0) * s.rowsPerImage() * s.Co, s.Co);
  }
  return nullptr;
}

// conv2dBackpropFilterIm2col(x, ...shape, dy, dw): dw[K, Co] = Σ colᵀ · dy
napi_value Conv2dBackpropFilterIm2col(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float* x = a.f32(0);
  ConvShape s = convShape(a, 1);
  float* dy = a.f32(14);
  float* dw = a.f32(15);
  if (!a.ok) return nullptr;
  int chunk = imagesPerChunk(s);
  std::vector<float> col(static_cast<size_t>(chunk) * s.rowsPerImage() * s.cols());
  for (int n0 = 0; n0 < s.N; n0 += chunk) {
    int images = std::min(chunk, s.N - n0);
    im2col(x, s, n0, images, col.data());
    int rows = images * s.rowsPerImage();
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, s.cols(), s.Co, rows, 1.0f, col.data(), s.cols(),
                dy + static_cast<size_t>(n0) * s.rowsPerImage() * s.Co, s.Co, n0 == 0 ? 0.0f : 1.0f, dw, s.Co);
  }
  return nullptr;
}

// conv2dBackpropInputCol2im(dy, ...shape, w, dx): dcol = dy · wᵀ, scattered back (dx must be zeroed)
napi_value Conv2dBackpropInputCol2im(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float* dy = a.f32(0);
  ConvShape s = convShape(a, 1);
  float* w = a.f32(14);
  float* dx = a.f32(15);
  if (!a.ok) return nullptr;
  int chunk = imagesPerChunk(s);
  const size_t K = s.cols();
  std::vector<float> col(static_cast<size_t>(chunk) * s.rowsPerImage() * K);
  for (int n0 = 0; n0 < s.N; n0 += chunk) {
    int images = std::min(chunk, s.N - n0);
    int rows = images * s.rowsPerImage();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, K, s.Co, 1.0f,
                dy + static_cast<size_t>(n0) * s.rowsPerImage() * s.Co, s.Co, w, s.Co, 0.0f, col.data(), K);
#pragma omp parallel for schedule(static)
    for (int n = 0; n < images; n++) {
      float* dxn = dx + static_cast<size_t>(n0 + n) * s.H * s.W * s.Ci;
      for (int oh = 0; oh < s.HO; oh++)
        for (int ow = 0; ow < s.WO; ow++) {
          const float* row = col.data() + ((static_cast<size_t>(n) * s.HO + oh) * s.WO + ow) * K;
          for (int kh = 0; kh < s.KH; kh++) {
            int ih = oh * s.SH - s.PT + kh;
            if (ih < 0 || ih >= s.H) continue;
            for (int kw = 0; kw < s.KW; kw++) {
              int iw = ow * s.SW - s.PL + kw;
              if (iw < 0 || iw >= s.W) continue;
              float* d = dxn + (static_cast<size_t>(ih) * s.W + iw) * s.Ci;
              const float* r = row + (static_cast<size_t>(kh) * s.KW + kw) * s.Ci;
              for (int c = 0; c < s.Ci; c++) d[c] += r[c];
            }
          }
        }
    }
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------------------
// Depthwise convolution, multiplier 1 (Ci == Co == C). Shape args as ConvShape with Co = C.
napi_value DepthwiseForward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float* x = a.f32(0);
  ConvShape s = convShape(a, 1);
  float* w = a.f32(14);
  float* y = a.f32(15);
  if (!a.ok) return nullptr;
  const int C = s.Ci;
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < s.N; n++)
    for (int oh = 0; oh < s.HO; oh++) {
      const float* xn = x + static_cast<size_t>(n) * s.H * s.W * C;
      float* yrow = y + (static_cast<size_t>(n) * s.HO + oh) * s.WO * C;
      for (int ow = 0; ow < s.WO; ow++) {
        float* yp = yrow + static_cast<size_t>(ow) * C;
        for (int c = 0; c < C; c++) yp[c] = 0.0f;
        for (int kh = 0; kh < s.KH; kh++) {
          int ih = oh * s.SH - s.PT + kh;
          if (ih < 0 || ih >= s.H) continue;
          for (int kw = 0; kw < s.KW; kw++) {
            int iw = ow * s.SW - s.PL + kw;
            if (iw < 0 || iw >= s.W) continue;
            const float* xp = xn + (static_cast<size_t>(ih) * s.W + iw) * C;
            const float* wp = w + (static_cast<size_t>(kh) * s.KW + kw) * C;
            for (int c = 0; c < C; c++) yp[c] += xp[c] * wp[c];
          }
        }
      }
    }
  return nullptr;
}

// dx[n, ih, iw, c] = Σ over taps reaching it of dy[n, oh, ow, c] · w[kh, kw, c]; gathered per input pixel
// (no write conflicts, so rows split freely across threads).
napi_value DepthwiseBackpropInput(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float* dy = a.f32(0);
  ConvShape s = convShape(a, 1);
  float* w = a.f32(14);
  float* dx = a.f32(15);
  if (!a.ok) return nullptr;
  const int C = s.Ci;
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < s.N; n++)
    for (int ih = 0; ih < s.H; ih++) {
      const float* dyn = dy + static_cast<size_t>(n) * s.HO * s.WO * C;
      float* dxrow = dx + (static_cast<size_t>(n) * s.H + ih) * s.W * C;
      for (int iw = 0; iw < s.W; iw++) {
        float* d = dxrow + static_cast<size_t>(iw) * C;
        for (int c = 0; c < C; c++) d[c] = 0.0f;
        for (int kh = 0; kh < s.KH; kh++) {
          int t = ih + s.PT - kh;  // = oh · SH
          if (t < 0 || t % s.SH) continue;
          int oh = t / s.SH;
          if (oh >= s.HO) continue;
          for (int kw = 0; kw < s.KW; kw++) {
            int u = iw + s.PL - kw;
            if (u < 0 || u % s.SW) continue;
            int ow = u / s.SW;
            if (ow >= s.WO) continue;
            const float* g = dyn + (static_cast<size_t>(oh) * s.WO + ow) * C;
            const float* wp = w + (static_cast<size_t>(kh) * s.KW + kw) * C;
            for (int c = 0; c < C; c++) d[c] += g[c] * wp[c];
          }
        }
      }
    }
  return nullptr;
}

// dw[kh, kw, c] = Σ_{n, oh, ow} x[n, ih, iw, c] · dy[n, oh, ow, c]; per-thread partial sums, then reduced.
napi_value DepthwiseBackpropFilter(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float* x = a.f32(0);
  ConvShape s = convShape(a, 1);
  float* dy = a.f32(14);
  float* dw = a.f32(15);
  if (!a.ok) return nullptr;
  const int C = s.Ci;
  const size_t taps = static_cast<size_t>(s.KH) * s.KW * C;
  std::fill(dw, dw + taps, 0.0f);
#pragma omp parallel
  {
    std::vector<float> acc(taps, 0.0f);
#pragma omp for collapse(2) schedule(static) nowait
    for (int n = 0; n < s.N; n++)
      for (int oh = 0; oh < s.HO; oh++) {
        const float* xn = x + static_cast<size_t>(n) * s.H * s.W * C;
        for (int ow = 0; ow < s.WO; ow++) {
          const float* g = dy + ((static_cast<size_t>(n) * s.HO + oh) * s.WO + ow) * C;
          for (int kh = 0; kh < s.KH; kh++) {
            int ih = oh * s.SH - s.PT + kh;
            if (ih < 0 || ih >= s.H) continue;
            for (int kw = 0; kw < s.KW; kw++) {
              int iw = ow * s.SW - s.PL + kw;
              if (iw < 0 || iw >= s.W) continue;
              const float* xp = xn + (static_cast<size_t>(ih) * s.W + iw) * C;
              float* ap = acc.data() + (static_cast<size_t>(kh) * s.KW + kw) * C;
              for (int c = 0; c < C; c++) ap[c] += xp[c] * g[c];
            }
          }
        }
      }
#pragma omp critical
    for (size_t i = 0; i < taps; i++) dw[i] += acc[i];
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------------------
// Per-channel reductions over rows (rows = N·H·W, channels innermost), in double for stability.
void channelSums(const float* x, size_t rows, int C, std::vector<double>& sum, std::vector<double>& sumsq) {
  sum.assign(C, 0.0);
  sumsq.assign(C, 0.0);
#pragma omp parallel
  {
    std::vector<float> s(C, 0.0f), q(C, 0.0f);
    std::vector<double> sd(C, 0.0), qd(C, 0.0);
    size_t count = 0;
#pragma omp for schedule(static) nowait
    for (size_t r = 0; r < rows; r++) {
      const float* xr = x + r * C;
      for (int c = 0; c < C; c++) {
        s[c] += xr[c];
        q[c] += xr[c] * xr[c];
      }
      // flush float partials to double every 256 rows to keep float error small
      if (++count % 256 == 0) {
        for (int c = 0; c < C; c++) {
          sd[c] += s[c];
          qd[c] += q[c];
          s[c] = q[c] = 0.0f;
        }
      }
    }
    for (int c = 0; c < C; c++) {
      sd[c] += s[c];
      qd[c] += q[c];
    }
#pragma omp critical
    for (int c = 0; c < C; c++) {
      sum[c] += sd[c];
      sumsq[c] += qd[c];
    }
  }
}

// bnActForward(x, rows, C, gamma, beta, eps, act, y, mean, invStd); act: 0 none, 1 swish
napi_value BnActForward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float* x = a.f32(0);
  size_t rows = a.i64(1);
  int C = a.i64(2);
  float* gamma = a.f32(3);
  float* beta = a.f32(4);
  double eps = a.f64(5);
  int act = a.i64(6);
  float* y = a.f32(7);
  float* mean = a.f32(8);
  float* invStd = a.f32(9);
  if (!a.ok) return nullptr;
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
#pragma omp parallel for schedule(static)
  for (size_t r = 0; r < rows; r++) {
    const float* xr = x + r * C;
    float* yr = y + r * C;
    if (act == 1) {
      for (int c = 0; c < C; c++) {
        float v = xr[c] * scale[c] + shift[c];
        yr[c] = v / (1.0f + std::exp(-v));
      }
    } else {
      for (int c = 0; c < C; c++) yr[c] = xr[c] * scale[c] + shift[c];
    }
  }
  return nullptr;
}

// bnActBackward(dy, x, rows, C, gamma, beta, mean, invStd, act, dx, dgamma, dbeta)
napi_value BnActBackward(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float* dz = a.f32(0);
  float* x = a.f32(1);
  size_t rows = a.i64(2);
  int C = a.i64(3);
  float* gamma = a.f32(4);
  float* beta = a.f32(5);
  float* mean = a.f32(6);
  float* invStd = a.f32(7);
  int act = a.i64(8);
  float* dx = a.f32(9);
  float* dgamma = a.f32(10);
  float* dbeta = a.f32(11);
  if (!a.ok) return nullptr;
  std::vector<double> sdy(C, 0.0), sdyx(C, 0.0);
  // Pass 1: dy (gradient at the BN output, through the activation) into dx as scratch, and its sums.
#pragma omp parallel
  {
    std::vector<float> s(C, 0.0f), q(C, 0.0f);
    std::vector<double> sd(C, 0.0), qd(C, 0.0);
    size_t count = 0;
#pragma omp for schedule(static) nowait
    for (size_t r = 0; r < rows; r++) {
      const float* xr = x + r * C;
      const float* gr = dz + r * C;
      float* dr = dx + r * C;
      for (int c = 0; c < C; c++) {
        float xhat = (xr[c] - mean[c]) * invStd[c];
        float g = gr[c];
        if (act == 1) {
          float v = xhat * gamma[c] + beta[c];
          float sg = 1.0f / (1.0f + std::exp(-v));
          g *= sg * (1.0f + v * (1.0f - sg));
        }
        dr[c] = g;
        s[c] += g;
        q[c] += g * xhat;
      }
      if (++count % 256 == 0) {
        for (int c = 0; c < C; c++) {
          sd[c] += s[c];
          qd[c] += q[c];
          s[c] = q[c] = 0.0f;
        }
      }
    }
    for (int c = 0; c < C; c++) {
      sd[c] += s[c];
      qd[c] += q[c];
    }
#pragma omp critical
    for (int c = 0; c < C; c++) {
      sdy[c] += sd[c];
      sdyx[c] += qd[c];
    }
  }
  std::vector<float> k(C), mdy(C), mdyx(C);
  for (int c = 0; c < C; c++) {
    dbeta[c] = static_cast<float>(sdy[c]);
    dgamma[c] = static_cast<float>(sdyx[c]);
    k[c] = gamma[c] * invStd[c];
    mdy[c] = static_cast<float>(sdy[c] / rows);
    mdyx[c] = static_cast<float>(sdyx[c] / rows);
  }
  // Pass 2: dx = γ·invStd·(dy − mean(dy) − x̂·mean(dy·x̂))
#pragma omp parallel for schedule(static)
  for (size_t r = 0; r < rows; r++) {
    const float* xr = x + r * C;
    float* dr = dx + r * C;
    for (int c = 0; c < C; c++) {
      float xhat = (xr[c] - mean[c]) * invStd[c];
      dr[c] = k[c] * (dr[c] - mdy[c] - xhat * mdyx[c]);
    }
  }
  return nullptr;
}

// affineAct(x, rows, C, scale, shift, act, y): inference batch norm
napi_value AffineAct(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float* x = a.f32(0);
  size_t rows = a.i64(1);
  int C = a.i64(2);
  float* scale = a.f32(3);
  float* shift = a.f32(4);
  int act = a.i64(5);
  float* y = a.f32(6);
  if (!a.ok) return nullptr;
#pragma omp parallel for schedule(static)
  for (size_t r = 0; r < rows; r++) {
    const float* xr = x + r * C;
    float* yr = y + r * C;
    for (int c = 0; c < C; c++) {
      float v = xr[c] * scale[c] + shift[c];
      yr[c] = act == 1 ? v / (1.0f + std::exp(-v)) : v;
    }
  }
  return nullptr;
}

napi_value Swish(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n;
  float* x = a.f32(0, &n);
  float* y = a.f32(1);
  if (!a.ok) return nullptr;
#pragma omp parallel for schedule(static) if (n > 32768)
  for (size_t i = 0; i < n; i++) y[i] = x[i] / (1.0f + std::exp(-x[i]));
  return nullptr;
}

napi_value SwishGrad(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n;
  float* dy = a.f32(0, &n);
  float* x = a.f32(1);
  float* dx = a.f32(2);
  if (!a.ok) return nullptr;
#pragma omp parallel for schedule(static) if (n > 32768)
  for (size_t i = 0; i < n; i++) {
    float s = 1.0f / (1.0f + std::exp(-x[i]));
    dx[i] = dy[i] * s * (1.0f + x[i] * (1.0f - s));
  }
  return nullptr;
}

// channelMean(x, N, HW, C, y[N, C])
napi_value ChannelMean(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float* x = a.f32(0);
  int N = a.i64(1), HW = a.i64(2), C = a.i64(3);
  float* y = a.f32(4);
  if (!a.ok) return nullptr;
#pragma omp parallel for schedule(static)
  for (int n = 0; n < N; n++) {
    std::vector<double> acc(C, 0.0);
    std::vector<float> part(C, 0.0f);
    const float* xn = x + static_cast<size_t>(n) * HW * C;
    for (int p = 0; p < HW; p++) {
      const float* xp = xn + static_cast<size_t>(p) * C;
      for (int c = 0; c < C; c++) part[c] += xp[c];
      if ((p + 1) % 256 == 0)
        for (int c = 0; c < C; c++) acc[c] += part[c], part[c] = 0.0f;
    }
    for (int c = 0; c < C; c++) y[static_cast<size_t>(n) * C + c] = static_cast<float>((acc[c] + part[c]) / HW);
  }
  return nullptr;
}

// channelMeanGrad(dy[N, C], N, HW, C, dx)
napi_value ChannelMeanGrad(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float* dy = a.f32(0);
  int N = a.i64(1), HW = a.i64(2), C = a.i64(3);
  float* dx = a.f32(4);
  if (!a.ok) return nullptr;
  const float k = 1.0f / HW;
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < N; n++)
    for (int p = 0; p < HW; p++) {
      const float* g = dy + static_cast<size_t>(n) * C;
      float* d = dx + (static_cast<size_t>(n) * HW + p) * C;
      for (int c = 0; c < C; c++) d[c] = g[c] * k;
    }
  return nullptr;
}

// channelScale(x, s[N, C], N, HW, C, y)
napi_value ChannelScale(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float* x = a.f32(0);
  float* sc = a.f32(1);
  int N = a.i64(2), HW = a.i64(3), C = a.i64(4);
  float* y = a.f32(5);
  if (!a.ok) return nullptr;
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < N; n++)
    for (int p = 0; p < HW; p++) {
      const float* s = sc + static_cast<size_t>(n) * C;
      size_t o = (static_cast<size_t>(n) * HW + p) * C;
      for (int c = 0; c < C; c++) y[o + c] = x[o + c] * s[c];
    }
  return nullptr;
}

// channelScaleGrad(dy, x, s, N, HW, C, dx, ds): dx = dy·s, ds[n, c] = Σ_p dy·x
napi_value ChannelScaleGrad(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float* dy = a.f32(0);
  float* x = a.f32(1);
  float* sc = a.f32(2);
  int N = a.i64(3), HW = a.i64(4), C = a.i64(5);
  float* dx = a.f32(6);
  float* ds = a.f32(7);
  if (!a.ok) return nullptr;
#pragma omp parallel for schedule(static)
  for (int n = 0; n < N; n++) {
    const float* s = sc + static_cast<size_t>(n) * C;
    std::vector<double> acc(C, 0.0);
    std::vector<float> part(C, 0.0f);
    for (int p = 0; p < HW; p++) {
      size_t o = (static_cast<size_t>(n) * HW + p) * C;
      for (int c = 0; c < C; c++) {
        dx[o + c] = dy[o + c] * s[c];
        part[c] += dy[o + c] * x[o + c];
      }
      if ((p + 1) % 256 == 0)
        for (int c = 0; c < C; c++) acc[c] += part[c], part[c] = 0.0f;
    }
    for (int c = 0; c < C; c++) ds[static_cast<size_t>(n) * C + c] = static_cast<float>(acc[c] + part[c]);
  }
  return nullptr;
}

// setThreads(n): threads for both OpenMP loops and OpenBLAS.
napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int n = a.i64(0);
  if (!a.ok) return nullptr;
  if (n > 0) {
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
  }
  return nullptr;
}

napi_value Info(napi_env env, napi_callback_info) {
  char buf[512];
  snprintf(buf, sizeof buf, "openmp threads %d; openblas threads %d (%s)", omp_get_max_threads(),
           openblas_get_num_threads(), openblas_get_config());
  napi_value s;
  napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &s);
  return s;
}

// Large tensors are allocated and freed at a high rate (every op of every step makes a new Float32Array).
// glibc serves allocations above 32 MB with fresh mmap()s and gives them back with munmap(), so every large
// tensor pays a page fault per 4 KB on first touch — measured here at ~0.5 GB/s, i.e. ~150 ms to fill a
// 76 MB activation that takes ~4 ms to compute when its pages are already mapped. Serving every allocation
// from the heap and never trimming it keeps freed pages mapped for the next tensor.
napi_value TuneAllocator(napi_env env, napi_callback_info) {
  bool ok = mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1 && mallopt(M_TOP_PAD, 64 << 20) == 1;
  napi_value v;
  napi_get_boolean(env, ok, &v);
  return v;
}

napi_value Init(napi_env env, napi_value exports) {
  struct {
    const char* name;
    napi_callback fn;
  } fns[] = {
      {"gemm", Gemm},
      {"batchGemm", BatchGemm},
      {"conv2dIm2col", Conv2dIm2col},
      {"conv2dBackpropFilterIm2col", Conv2dBackpropFilterIm2col},
      {"conv2dBackpropInputCol2im", Conv2dBackpropInputCol2im},
      {"depthwiseForward", DepthwiseForward},
      {"depthwiseBackpropInput", DepthwiseBackpropInput},
      {"depthwiseBackpropFilter", DepthwiseBackpropFilter},
      {"bnActForward", BnActForward},
      {"bnActBackward", BnActBackward},
      {"affineAct", AffineAct},
      {"swish", Swish},
      {"swishGrad", SwishGrad},
      {"channelMean", ChannelMean},
      {"channelMeanGrad", ChannelMeanGrad},
      {"channelScale", ChannelScale},
      {"channelScaleGrad", ChannelScaleGrad},
      {"setThreads", SetThreads},
      {"tuneAllocator", TuneAllocator},
      {"info", Info},
  };
  for (auto& f : fns) {
    napi_value v;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &v);
    napi_set_named_property(env, exports, f.name, v);
  }
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)

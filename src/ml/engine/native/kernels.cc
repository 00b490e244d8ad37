// Fast CPU kernels for the `native` TensorFlow.js backend (src/ml/engine/native-backend.ts): the N-API
// bindings. The arithmetic lives in the headers (one translation unit, built by scripts/build-ml-native.sh):
//   gemm.h         matrix products (OpenBLAS sgemm, split across OpenMP threads)
//   conv.h         convolutions (im2col + GEMM; 1×1 ones are plain products, done by the caller)
//   depthwise.h    depthwise convolutions, forward and both gradients
//   norm.h         batch norm (+ swish) forward/backward, swish, squeeze-excitation channel ops
//   elementwise.h  broadcast arithmetic, AddN, fused Adam
//
// Every function works in place on the Float32Arrays that back tensors of tfjs' CPU backend (no copies): JS
// computes shapes and padding (tfjs' own computeConv2DInfo) and allocates outputs; the kernels write every
// element of their outputs (which may be recycled buffers). Layouts: activations NHWC, conv filters HWIO,
// depthwise filters HWC1 (multiplier 1).
#include <cstdio>

#include <malloc.h>

#include "common.h"
#include "conv.h"
#include "depthwise.h"
#include "elementwise.h"
#include "gemm.h"
#include "norm.h"

namespace {

using dg::Args;
using dg::ConvShape;

ConvShape convShape(Args& a, int first) {
  ConvShape s;
  int* f[] = {&s.N, &s.H, &s.W, &s.Ci, &s.KH, &s.KW, &s.SH, &s.SW, &s.PT, &s.PL, &s.HO, &s.WO, &s.Co};
  for (int i = 0; i < 13; i++) *f[i] = static_cast<int>(a.i64(first + i));
  return s;
}

// gemm(ta, tb, M, N, K, A, B, C, beta): C[M,N] = op(A)·op(B) + beta·C, row-major, dense.
napi_value Gemm(napi_env env, napi_callback_info info) {
  Args a(env, info);
  bool ta = a.i64(0) != 0, tb = a.i64(1) != 0;
  int M = a.i64(2), N = a.i64(3), K = a.i64(4);
  float* A = a.f32(5);
  float* B = a.f32(6);
  float* C = a.f32(7);
  float beta = static_cast<float>(a.f64(8));
  if (!a.ok) return nullptr;
  dg::sgemm(ta, tb, M, N, K, A, ta ? M : K, B, tb ? K : N, beta, C, N);
  return nullptr;
}

// batchGemm(batch, batchA, batchB, ta, tb, M, N, K, A, B, C): BatchMatMul, A or B broadcast when its batch is 1.
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
    dg::sgemm(ta, tb, M, N, K, Ab, ta ? M : K, Bb, tb ? K : N, 0.0f, C + static_cast<size_t>(b) * M * N, N);
  }
  return nullptr;
}

// The convolution bindings share one signature: (input, ...13 shape integers, second input, output).
using ConvFn = void (*)(const float*, const ConvShape&, const float*, float*);
template <ConvFn F>
napi_value ConvBinding(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float* in = a.f32(0);
  ConvShape s = convShape(a, 1);
  float* other = a.f32(14);
  float* out = a.f32(15);
  if (!a.ok) return nullptr;
  F(in, s, other, out);
  return nullptr;
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
  dg::bnActForward(x, rows, C, gamma, beta, eps, act, y, mean, invStd);
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
  dg::bnActBackward(dz, x, rows, C, gamma, beta, mean, invStd, act, dx, dgamma, dbeta);
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
  dg::affineAct(x, rows, C, scale, shift, act, y);
  return nullptr;
}

napi_value Swish(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n;
  float* x = a.f32(0, &n);
  float* y = a.f32(1);
  if (!a.ok) return nullptr;
  dg::swish(x, n, y);
  return nullptr;
}

napi_value SwishGrad(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n;
  float* dy = a.f32(0, &n);
  float* x = a.f32(1);
  float* dx = a.f32(2);
  if (!a.ok) return nullptr;
  dg::swishGrad(dy, x, n, dx);
  return nullptr;
}

// channelMean(x, N, HW, C, y[N, C]) and channelMeanGrad(dy[N, C], N, HW, C, dx)
template <void (*F)(const float*, int, int, int, float*)>
napi_value ChannelBinding(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float* in = a.f32(0);
  int N = a.i64(1), HW = a.i64(2), C = a.i64(3);
  float* out = a.f32(4);
  if (!a.ok) return nullptr;
  F(in, N, HW, C, out);
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
  dg::channelScale(x, sc, N, HW, C, y);
  return nullptr;
}

// channelScaleGrad(dy, x, s, N, HW, C, dx, ds)
napi_value ChannelScaleGrad(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float* dy = a.f32(0);
  float* x = a.f32(1);
  float* sc = a.f32(2);
  int N = a.i64(3), HW = a.i64(4), C = a.i64(5);
  float* dx = a.f32(6);
  float* ds = a.f32(7);
  if (!a.ok) return nullptr;
  dg::channelScaleGrad(dy, x, sc, N, HW, C, dx, ds);
  return nullptr;
}

// binary(op, a, b, out, inner): op 0 add, 1 sub, 2 mul, 3 div; the shorter input repeats, each element `inner`
// times (see elementwise.h).
napi_value Binary(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int op = a.i64(0);
  size_t na, nb, no;
  float* x = a.f32(1, &na);
  float* y = a.f32(2, &nb);
  float* out = a.f32(3, &no);
  size_t inner = a.i64(4);
  if (!a.ok) return nullptr;
  size_t n = std::max(na, nb), ns = std::min(na, nb);
  if (ns == 0 || inner == 0 || n % (ns * inner) || no != n || (inner > 1 && na == nb)) {
    a.fail("binary: the shorter input (repeated `inner` times per element) must tile the output");
    return nullptr;
  }
  dg::binary(op, x, na, y, nb, inner, out);
  return nullptr;
}

napi_value Sigmoid(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n, no;
  float* x = a.f32(0, &n);
  float* y = a.f32(1, &no);
  if (!a.ok) return nullptr;
  if (no != n) {
    a.fail("sigmoid: output length differs from input");
    return nullptr;
  }
  dg::sigmoid(x, n, y);
  return nullptr;
}

// reduceSum(x, outer, inner, leading, out)
napi_value ReduceSum(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n, no;
  float* x = a.f32(0, &n);
  size_t outer = a.i64(1), inner = a.i64(2);
  bool leading = a.i64(3) != 0;
  float* out = a.f32(4, &no);
  if (!a.ok) return nullptr;
  if (outer * inner != n || no != (leading ? inner : outer)) {
    a.fail("reduceSum: shape does not match the arrays");
    return nullptr;
  }
  dg::reduceSum(x, outer, inner, leading, out);
  return nullptr;
}

// addN([x1, x2, …], out)
napi_value AddN(napi_env env, napi_callback_info info) {
  Args a(env, info);
  uint32_t count = 0;
  if (a.argc < 2 || napi_get_array_length(env, a.argv[0], &count) != napi_ok || count == 0) {
    a.fail("addN: expected a non-empty array of Float32Arrays");
    return nullptr;
  }
  size_t n;
  float* out = a.f32(1, &n);
  if (!a.ok) return nullptr;
  std::vector<const float*> xs(count);
  for (uint32_t i = 0; i < count; i++) {
    napi_value v;
    napi_typedarray_type type;
    size_t len;
    void* data;
    napi_value ab;
    size_t offset;
    if (napi_get_element(env, a.argv[0], i, &v) != napi_ok ||
        napi_get_typedarray_info(env, v, &type, &len, &data, &ab, &offset) != napi_ok || type != napi_float32_array ||
        len != n) {
      a.fail("addN: every input must be a Float32Array of the output's length");
      return nullptr;
    }
    xs[i] = static_cast<const float*>(data);
  }
  dg::addN(xs, n, out);
  return nullptr;
}

// adam(theta, m, v, g, lr, beta1, beta2, eps, c1, c2, thetaOut, mOut, vOut)
napi_value Adam(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n;
  float* theta = a.f32(0, &n);
  float* m = a.f32(1);
  float* v = a.f32(2);
  float* g = a.f32(3);
  dg::AdamParams p{static_cast<float>(a.f64(4)), static_cast<float>(a.f64(5)), static_cast<float>(a.f64(6)),
                   static_cast<float>(a.f64(7)), static_cast<float>(a.f64(8)), static_cast<float>(a.f64(9))};
  float* thetaOut = a.f32(10);
  float* mOut = a.f32(11);
  float* vOut = a.f32(12);
  if (!a.ok) return nullptr;
  dg::adam(theta, m, v, g, n, p, thetaOut, mOut, vOut);
  return nullptr;
}

// setThreads(n): the OpenMP pool every kernel (and every sgemm split, see gemm.h) runs on.
napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args a(env, info);
  int n = a.i64(0);
  if (!a.ok) return nullptr;
  if (n > 0) omp_set_num_threads(n);
  dg::blasSingleThreaded();
  return nullptr;
}

napi_value Info(napi_env env, napi_callback_info) {
  char buf[512];
  snprintf(buf, sizeof buf, "openmp threads %d; sgemm single-threaded per openmp thread (%s)", omp_get_max_threads(),
           dg::blasDescription());
  napi_value s;
  napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &s);
  return s;
}

// Large tensors are allocated and freed at a high rate. glibc serves allocations above 32 MB with fresh
// mmap()s and gives them back with munmap(), so every large tensor pays a page fault per 4 KB on first touch —
// measured here at ~0.5 GB/s, i.e. ~150 ms to fill a 76 MB activation that takes ~4 ms to compute when its
// pages are already mapped. Serving every allocation from the heap and never trimming it keeps freed pages
// mapped for the next tensor (the JS buffer pool of native-backend.ts avoids most allocations altogether).
napi_value TuneAllocator(napi_env env, napi_callback_info) {
  bool ok = mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1 && mallopt(M_TOP_PAD, 64 << 20) == 1;
  napi_value v;
  napi_get_boolean(env, ok, &v);
  return v;
}

napi_value Init(napi_env env, napi_value exports) {
  dg::blasSingleThreaded();
  struct {
    const char* name;
    napi_callback fn;
  } fns[] = {
      {"gemm", Gemm},
      {"batchGemm", BatchGemm},
      {"conv2dIm2col", ConvBinding<dg::conv2dIm2col>},
      {"conv2dBackpropFilterIm2col", ConvBinding<dg::conv2dBackpropFilterIm2col>},
      {"conv2dBackpropInputCol2im", ConvBinding<dg::conv2dBackpropInputCol2im>},
      {"depthwiseForward", ConvBinding<dg::depthwiseForward>},
      {"depthwiseBackpropInput", ConvBinding<dg::depthwiseBackpropInput>},
      {"depthwiseBackpropFilter", ConvBinding<dg::depthwiseBackpropFilter>},
      {"bnActForward", BnActForward},
      {"bnActBackward", BnActBackward},
      {"affineAct", AffineAct},
      {"swish", Swish},
      {"swishGrad", SwishGrad},
      {"channelMean", ChannelBinding<dg::channelMean>},
      {"channelMeanGrad", ChannelBinding<dg::channelMeanGrad>},
      {"channelScale", ChannelScale},
      {"channelScaleGrad", ChannelScaleGrad},
      {"binary", Binary},
      {"addN", AddN},
      {"sigmoid", Sigmoid},
      {"reduceSum", ReduceSum},
      {"adam", Adam},
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

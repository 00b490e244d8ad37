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
using dg::product;

// Every binding checks each array against its shape arguments before any kernel runs (Args: RangeError).

ConvShape convShape(Args& a, int first) {
  static const char* names[] = {"N", "H", "W", "Ci", "KH", "KW", "SH", "SW", "PT", "PL", "HO", "WO", "Co"};
  ConvShape s;
  int* f[] = {&s.N, &s.H, &s.W, &s.Ci, &s.KH, &s.KW, &s.SH, &s.SW, &s.PT, &s.PL, &s.HO, &s.WO, &s.Co};
  // kernel sizes and strides of at least 1; padding, as any size, at least 0
  for (int i = 0; i < 13; i++) *f[i] = static_cast<int>(a.size(first + i, names[i], (i >= 4 && i <= 7) ? 1 : 0));
  return s;
}

// gemm(ta, tb, M, N, K, A, B, C, beta): C[M,N] = op(A)·op(B) + beta·C, row-major, dense.
napi_value Gemm(napi_env env, napi_callback_info info) {
  Args a(env, info, "gemm");
  bool ta = a.i64(0) != 0, tb = a.i64(1) != 0;
  int M = a.size(2, "M"), N = a.size(3, "N"), K = a.size(4, "K");
  float* A = a.f32(5, product({M, K}), "A");
  float* B = a.f32(6, product({K, N}), "B");
  float* C = a.f32(7, product({M, N}), "C");
  float beta = static_cast<float>(a.f64(8));
  if (!a.ok) return nullptr;
  dg::sgemm(ta, tb, M, N, K, A, ta ? M : K, B, tb ? K : N, beta, C, N);
  return nullptr;
}

// batchGemm(batch, batchA, batchB, ta, tb, M, N, K, A, B, C): BatchMatMul, A or B broadcast when its batch is 1.
napi_value BatchGemm(napi_env env, napi_callback_info info) {
  Args a(env, info, "batchGemm");
  int batch = a.size(0, "batch"), batchA = a.size(1, "batchA"), batchB = a.size(2, "batchB");
  bool ta = a.i64(3) != 0, tb = a.i64(4) != 0;
  int M = a.size(5, "M"), N = a.size(6, "N"), K = a.size(7, "K");
  if (a.ok && ((batchA != 1 && batchA != batch) || (batchB != 1 && batchB != batch)))
    a.rangeError("batchA (%d) and batchB (%d) must each be 1 or batch (%d)", batchA, batchB, batch);
  float* A = a.f32(8, product({batchA, M, K}), "A");
  float* B = a.f32(9, product({batchB, K, N}), "B");
  float* C = a.f32(10, product({batch, M, N}), "C");
  if (!a.ok) return nullptr;
  for (int b = 0; b < batch; b++) {
    const float* Ab = A + static_cast<size_t>(batchA == 1 ? 0 : b) * M * K;
    const float* Bb = B + static_cast<size_t>(batchB == 1 ? 0 : b) * K * N;
    dg::sgemm(ta, tb, M, N, K, Ab, ta ? M : K, Bb, tb ? K : N, 0.0f, C + static_cast<size_t>(b) * M * N, N);
  }
  return nullptr;
}

// The sizes of a convolution's three arrays.
size_t imageSize(const ConvShape& s) { return product({s.N, s.H, s.W, s.Ci}); }
size_t outputSize(const ConvShape& s) { return product({s.N, s.HO, s.WO, s.Co}); }
size_t filterSize(const ConvShape& s) { return product({s.KH, s.KW, s.Ci, s.Co}); }
size_t depthwiseFilterSize(const ConvShape& s) { return product({s.KH, s.KW, s.Ci}); }
using SizeFn = size_t (*)(const ConvShape&);

// The convolution bindings share one signature: (input, ...13 shape integers, second input, output); each
// says which of the sizes above its three arrays have. Depthwise ones have one output channel per input one.
using ConvFn = void (*)(const float*, const ConvShape&, const float*, float*);
template <ConvFn F, SizeFn In, SizeFn Other, SizeFn Out, bool Depthwise>
napi_value ConvBinding(napi_env env, napi_callback_info info, const char* name) {
  Args a(env, info, name);
  ConvShape s = convShape(a, 1);
  if (a.ok && Depthwise && s.Co != s.Ci) a.rangeError("Co (%d) must equal Ci (%d): depthwise, multiplier 1", s.Co, s.Ci);
  float* in = a.f32(0, In(s), "the first array");
  float* other = a.f32(14, Other(s), "the second array");
  float* out = a.f32(15, Out(s), "the output");
  if (!a.ok) return nullptr;
  F(in, s, other, out);
  return nullptr;
}
#define DG_CONV(fn, F, In, Other, Out, Depthwise)                                  \
  napi_value fn(napi_env env, napi_callback_info info) {                           \
    return ConvBinding<F, In, Other, Out, Depthwise>(env, info, #fn);              \
  }
DG_CONV(conv2dIm2col, dg::conv2dIm2col, imageSize, filterSize, outputSize, false)
DG_CONV(conv2dBackpropFilterIm2col, dg::conv2dBackpropFilterIm2col, imageSize, outputSize, filterSize, false)
DG_CONV(conv2dBackpropInputCol2im, dg::conv2dBackpropInputCol2im, outputSize, filterSize, imageSize, false)
DG_CONV(depthwiseForward, dg::depthwiseForward, imageSize, depthwiseFilterSize, outputSize, true)
DG_CONV(depthwiseBackpropInput, dg::depthwiseBackpropInput, outputSize, depthwiseFilterSize, imageSize, true)
DG_CONV(depthwiseBackpropFilter, dg::depthwiseBackpropFilter, imageSize, outputSize, depthwiseFilterSize, true)
#undef DG_CONV

constexpr int64_t kMaxRows = int64_t(1) << 53;

// bnActForward(x, rows, C, gamma, beta, eps, act, y, mean, invStd); act: 0 none, 1 swish
napi_value BnActForward(napi_env env, napi_callback_info info) {
  Args a(env, info, "bnActForward");
  size_t rows = a.size(1, "rows", 0, kMaxRows);
  int C = a.size(2, "C");
  size_t n = product({static_cast<int64_t>(rows), C});
  float* x = a.f32(0, n, "x");
  float* gamma = a.f32(3, C, "gamma");
  float* beta = a.f32(4, C, "beta");
  double eps = a.f64(5);
  int act = a.i64(6);
  float* y = a.f32(7, n, "y");
  float* mean = a.f32(8, C, "mean");
  float* invStd = a.f32(9, C, "invStd");
  if (!a.ok) return nullptr;
  dg::bnActForward(x, rows, C, gamma, beta, eps, act, y, mean, invStd);
  return nullptr;
}

// bnActBackward(dy, x, rows, C, gamma, beta, mean, invStd, act, dx, dgamma, dbeta)
napi_value BnActBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, "bnActBackward");
  size_t rows = a.size(2, "rows", 0, kMaxRows);
  int C = a.size(3, "C");
  size_t n = product({static_cast<int64_t>(rows), C});
  float* dz = a.f32(0, n, "dy");
  float* x = a.f32(1, n, "x");
  float* gamma = a.f32(4, C, "gamma");
  float* beta = a.f32(5, C, "beta");
  float* mean = a.f32(6, C, "mean");
  float* invStd = a.f32(7, C, "invStd");
  int act = a.i64(8);
  float* dx = a.f32(9, n, "dx");
  float* dgamma = a.f32(10, C, "dgamma");
  float* dbeta = a.f32(11, C, "dbeta");
  if (!a.ok) return nullptr;
  dg::bnActBackward(dz, x, rows, C, gamma, beta, mean, invStd, act, dx, dgamma, dbeta);
  return nullptr;
}

// affineAct(x, rows, C, scale, shift, act, y): inference batch norm
napi_value AffineAct(napi_env env, napi_callback_info info) {
  Args a(env, info, "affineAct");
  size_t rows = a.size(1, "rows", 0, kMaxRows);
  int C = a.size(2, "C");
  size_t n = product({static_cast<int64_t>(rows), C});
  float* x = a.f32(0, n, "x");
  float* scale = a.f32(3, C, "scale");
  float* shift = a.f32(4, C, "shift");
  int act = a.i64(5);
  float* y = a.f32(6, n, "y");
  if (!a.ok) return nullptr;
  dg::affineAct(x, rows, C, scale, shift, act, y);
  return nullptr;
}

napi_value Swish(napi_env env, napi_callback_info info) {
  Args a(env, info, "swish");
  size_t n = 0;
  float* x = a.f32(0, &n);
  float* y = a.f32(1, n, "y");
  if (!a.ok) return nullptr;
  dg::swish(x, n, y);
  return nullptr;
}

napi_value SwishGrad(napi_env env, napi_callback_info info) {
  Args a(env, info, "swishGrad");
  size_t n = 0;
  float* dy = a.f32(0, &n);
  float* x = a.f32(1, n, "x");
  float* dx = a.f32(2, n, "dx");
  if (!a.ok) return nullptr;
  dg::swishGrad(dy, x, n, dx);
  return nullptr;
}

// channelMean(x[N, HW, C], N, HW, C, y[N, C])
napi_value ChannelMean(napi_env env, napi_callback_info info) {
  Args a(env, info, "channelMean");
  int N = a.size(1, "N"), HW = a.size(2, "HW"), C = a.size(3, "C");
  float* x = a.f32(0, product({N, HW, C}), "x");
  float* y = a.f32(4, product({N, C}), "y");
  if (!a.ok) return nullptr;
  dg::channelMean(x, N, HW, C, y);
  return nullptr;
}

// channelMeanGrad(dy[N, C], N, HW, C, dx[N, HW, C])
napi_value ChannelMeanGrad(napi_env env, napi_callback_info info) {
  Args a(env, info, "channelMeanGrad");
  int N = a.size(1, "N"), HW = a.size(2, "HW"), C = a.size(3, "C");
  float* dy = a.f32(0, product({N, C}), "dy");
  float* dx = a.f32(4, product({N, HW, C}), "dx");
  if (!a.ok) return nullptr;
  dg::channelMeanGrad(dy, N, HW, C, dx);
  return nullptr;
}

// channelScale(x, s[N, C], N, HW, C, y)
napi_value ChannelScale(napi_env env, napi_callback_info info) {
  Args a(env, info, "channelScale");
  int N = a.size(2, "N"), HW = a.size(3, "HW"), C = a.size(4, "C");
  float* x = a.f32(0, product({N, HW, C}), "x");
  float* sc = a.f32(1, product({N, C}), "s");
  float* y = a.f32(5, product({N, HW, C}), "y");
  if (!a.ok) return nullptr;
  dg::channelScale(x, sc, N, HW, C, y);
  return nullptr;
}

// channelScaleGrad(dy, x, s, N, HW, C, dx, ds)
napi_value ChannelScaleGrad(napi_env env, napi_callback_info info) {
  Args a(env, info, "channelScaleGrad");
  int N = a.size(3, "N"), HW = a.size(4, "HW"), C = a.size(5, "C");
  size_t n = product({N, HW, C});
  float* dy = a.f32(0, n, "dy");
  float* x = a.f32(1, n, "x");
  float* sc = a.f32(2, product({N, C}), "s");
  float* dx = a.f32(6, n, "dx");
  float* ds = a.f32(7, product({N, C}), "ds");
  if (!a.ok) return nullptr;
  dg::channelScaleGrad(dy, x, sc, N, HW, C, dx, ds);
  return nullptr;
}

// binary(op, a, b, out, inner): op 0 add, 1 sub, 2 mul, 3 div; the shorter input repeats, each element `inner`
// times (see elementwise.h).
napi_value Binary(napi_env env, napi_callback_info info) {
  Args a(env, info, "binary");
  int op = a.size(0, "op", 0, 3);
  size_t na = 0, nb = 0;
  float* x = a.f32(1, &na);
  float* y = a.f32(2, &nb);
  size_t inner = a.size(4, "inner", 0, kMaxRows);
  size_t n = std::max(na, nb), ns = std::min(na, nb);
  float* out = a.f32(3, n, "out");
  if (a.ok && (ns == 0 || inner == 0 || n % (ns * inner) || (inner > 1 && na == nb)))
    a.rangeError("the shorter input (%zu floats, each repeated %zu times) does not tile the output (%zu)", ns, inner, n);
  if (!a.ok) return nullptr;
  dg::binary(op, x, na, y, nb, inner, out);
  return nullptr;
}

napi_value Sigmoid(napi_env env, napi_callback_info info) {
  Args a(env, info, "sigmoid");
  size_t n = 0;
  float* x = a.f32(0, &n);
  float* y = a.f32(1, n, "y");
  if (!a.ok) return nullptr;
  dg::sigmoid(x, n, y);
  return nullptr;
}

// reduceSum(x, outer, inner, leading, out)
napi_value ReduceSum(napi_env env, napi_callback_info info) {
  Args a(env, info, "reduceSum");
  size_t outer = a.size(1, "outer", 0, kMaxRows), inner = a.size(2, "inner", 0, kMaxRows);
  bool leading = a.i64(3) != 0;
  float* x = a.f32(0, product({static_cast<int64_t>(outer), static_cast<int64_t>(inner)}), "x");
  float* out = a.f32(4, leading ? inner : outer, "out");
  if (!a.ok) return nullptr;
  dg::reduceSum(x, outer, inner, leading, out);
  return nullptr;
}

// addN([x1, x2, …], out)
napi_value AddN(napi_env env, napi_callback_info info) {
  Args a(env, info, "addN");
  uint32_t count = 0;
  bool isArray = false;
  if (a.argc < 2 || napi_is_array(env, a.argv[0], &isArray) != napi_ok || !isArray ||
      napi_get_array_length(env, a.argv[0], &count) != napi_ok || count == 0) {
    a.fail("addN: expected a non-empty array of Float32Arrays");
    return nullptr;
  }
  size_t n = 0;
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
        napi_get_typedarray_info(env, v, &type, &len, &data, &ab, &offset) != napi_ok || type != napi_float32_array) {
      a.fail("addN: every input must be a Float32Array");
      return nullptr;
    }
    if (len != n) {
      a.rangeError("input %u has %zu floats, the output %zu", i, len, n);
      return nullptr;
    }
    xs[i] = static_cast<const float*>(data);
  }
  dg::addN(xs, n, out);
  return nullptr;
}

// adam(theta, m, v, g, lr, beta1, beta2, eps, c1, c2, thetaOut, mOut, vOut)
napi_value Adam(napi_env env, napi_callback_info info) {
  Args a(env, info, "adam");
  size_t n = 0;
  float* theta = a.f32(0, &n);
  float* m = a.f32(1, n, "m");
  float* v = a.f32(2, n, "v");
  float* g = a.f32(3, n, "g");
  dg::AdamParams p{static_cast<float>(a.f64(4)), static_cast<float>(a.f64(5)), static_cast<float>(a.f64(6)),
                   static_cast<float>(a.f64(7)), static_cast<float>(a.f64(8)), static_cast<float>(a.f64(9))};
  float* thetaOut = a.f32(10, n, "thetaOut");
  float* mOut = a.f32(11, n, "mOut");
  float* vOut = a.f32(12, n, "vOut");
  if (!a.ok) return nullptr;
  dg::adam(theta, m, v, g, n, p, thetaOut, mOut, vOut);
  return nullptr;
}

// setThreads(n): the OpenMP pool every kernel (and every sgemm split, see gemm.h) runs on.
napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args a(env, info, "setThreads");
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
      {"conv2dIm2col", conv2dIm2col},
      {"conv2dBackpropFilterIm2col", conv2dBackpropFilterIm2col},
      {"conv2dBackpropInputCol2im", conv2dBackpropInputCol2im},
      {"depthwiseForward", depthwiseForward},
      {"depthwiseBackpropInput", depthwiseBackpropInput},
      {"depthwiseBackpropFilter", depthwiseBackpropFilter},
      {"bnActForward", BnActForward},
      {"bnActBackward", BnActBackward},
      {"affineAct", AffineAct},
      {"swish", Swish},
      {"swishGrad", SwishGrad},
      {"channelMean", ChannelMean},
      {"channelMeanGrad", ChannelMeanGrad},
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

// Shared by the kernel headers of kernels.cc (one translation unit: scripts/build-ml-native.sh compiles
// kernels.cc only). Argument unpacking for N-API calls, the OpenBLAS declarations, small helpers.
#pragma once

#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <initializer_list>
#include <cstdint>
#include <cstring>
#include <vector>

#include <omp.h>

#ifndef DG_PORTABLE_GEMM
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
#endif

namespace dg {

// The arguments of one N-API call. A wrong type throws a TypeError; a shape argument that is not a size, or an
// array whose length is not what the shape arguments say, throws a RangeError: the kernels index with those
// shapes, so a length that does not match would read or write outside the array. After the first error `ok`
// is false and later calls only return placeholders, so a binding checks `ok` once before computing.
struct Args {
  napi_env env;
  const char* fn;
  size_t argc = 24;
  napi_value argv[24];
  bool ok = true;

  Args(napi_env e, napi_callback_info info, const char* name) : env(e), fn(name) {
    napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  }

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
  // A Float32Array that must hold exactly `expected` floats (what the shape arguments make it).
  float* f32(size_t i, size_t expected, const char* name) {
    size_t len = 0;
    float* p = f32(i, &len);
    if (p && len != expected) {
      rangeError("%s has %zu floats where the shape arguments need %zu", name, len, expected);
      return nullptr;
    }
    return p;
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
  // A shape argument: a whole number from `min` to `max` (the kernels index with int, hence INT_MAX).
  int64_t size(size_t i, const char* name, int64_t min = 0, int64_t max = 2147483647) {
    double v = 0;
    if (i >= argc || napi_get_value_double(env, argv[i], &v) != napi_ok) {
      fail("expected a number argument");
      return 0;
    }
    if (!(v >= static_cast<double>(min) && v <= static_cast<double>(max)) || v != std::floor(v)) {
      rangeError("%s is %g, not a whole number from %lld to %lld", name, v, static_cast<long long>(min),
                 static_cast<long long>(max));
      return 0;
    }
    return static_cast<int64_t>(v);
  }
  void fail(const char* msg) {
    if (ok) napi_throw_type_error(env, nullptr, msg);
    ok = false;
  }
  __attribute__((format(printf, 2, 3))) void rangeError(const char* fmt, ...) {
    if (!ok) return;
    char msg[256];
    int used = snprintf(msg, sizeof msg, "%s: ", fn);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + used, sizeof msg - used, fmt, ap);
    va_end(ap);
    napi_throw_range_error(env, nullptr, msg);
    ok = false;
  }
};

// The product of sizes, or SIZE_MAX (which no array's length equals) when it overflows.
inline size_t product(std::initializer_list<int64_t> dims) {
  size_t p = 1;
  for (int64_t d : dims)
    if (d < 0 || __builtin_mul_overflow(p, static_cast<size_t>(d), &p)) return SIZE_MAX;
  return p;
}

// exp's argument in sigmoidf stops here: e^80 ≈ 5.5e34 is still finite.
constexpr float kSigmoidExpMax = 80.0f;

// 1 / (1 + e^−x), finite for every finite x. The build's -ffast-math vectorises a float division as a
// reciprocal estimate refined by a Newton–Raphson step (r·(2 − d·r)); for d = +Inf the estimate is 0 and the
// step computes 0·Inf = NaN, so the textbook form gave NaN, not 0, once e^−x overflowed (x < −88.7), and so
// did swish. A trained model's batch norm, which runs on moving statistics at inference, reaches such
// inputs on some passages of real music (−143 on the patches that broke `embed`), and every layer after
// them turned NaN. With the exponent capped the division never sees Inf: below x = −80 the result is
// 1.8e−35 instead of less, which no later use can tell from 0. No select on x: under -ffast-math a compare
// may treat NaN as anything, and a NaN input must stay NaN in swish (x · sigmoidf(x)) so that a bad input
// shows up instead of being turned into a plausible value.
inline float sigmoidf(float x) { return 1.0f / (1.0f + std::exp(std::min(-x, kSigmoidExpMax))); }

// Elementwise loops below this size run on the calling thread: waking the pool costs more than it saves.
constexpr size_t kParallelElements = 1 << 15;

// Per-thread partial sums, added in thread order once the parallel region ends: a reduction then gives the
// same bits on every run with the same thread count (a critical section adds them in whichever order the
// threads finish), which a resumed training run needs to reproduce an uninterrupted one.
template <typename T>
struct OrderedPartials {
  size_t width;
  std::vector<T> data;
  explicit OrderedPartials(size_t w) : width(w), data(static_cast<size_t>(omp_get_max_threads()) * w, T(0)) {}
  T* of(int thread) { return data.data() + static_cast<size_t>(thread) * width; }
  template <typename U>
  void addTo(U* out) const {
    for (size_t t = 0; t < data.size() / width; t++)
      for (size_t i = 0; i < width; i++) out[i] += data[t * width + i];
  }
};

// Zeroes a buffer on every thread (kernels that accumulate into outputs recycled by the buffer pool).
inline void zero(float* p, size_t n) {
#pragma omp parallel for schedule(static) if (n > kParallelElements)
  for (size_t i = 0; i < n; i++) p[i] = 0.0f;
}

}  // namespace dg

// Convolutions in NHWC with HWIO filters. 1×1 convolutions are single products (no copies, handled by the
// caller); the others go through im2col + GEMM, a chunk of images at a time so the column buffer stays bounded.
#pragma once

#include "gemm.h"

namespace dg {

struct ConvShape {
  int N, H, W, Ci, KH, KW, SH, SW, PT, PL, HO, WO, Co;
  size_t cols() const { return static_cast<size_t>(KH) * KW * Ci; }
  size_t rowsPerImage() const { return static_cast<size_t>(HO) * WO; }
};

inline void im2col(const float* x, const ConvShape& s, int n0, int images, float* col) {
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

inline int imagesPerChunk(const ConvShape& s) {
  size_t per = s.rowsPerImage() * s.cols();
  size_t budget = size_t(1) << 23;  // 32 MB of columns
  return static_cast<int>(std::max<size_t>(1, std::min<size_t>(s.N, budget / std::max<size_t>(per, 1))));
}

inline void conv2dIm2col(const float* x, const ConvShape& s, const float* w, float* y) {
  int chunk = imagesPerChunk(s);
  std::vector<float> col(static_cast<size_t>(chunk) * s.rowsPerImage() * s.cols());
  for (int n0 = 0; n0 < s.N; n0 += chunk) {
    int images = std::min(chunk, s.N - n0);
    im2col(x, s, n0, images, col.data());
    int rows = images * s.rowsPerImage();
    sgemm(false, false, rows, s.Co, s.cols(), col.data(), s.cols(), w, s.Co, 0.0f,
          y + static_cast<size_t>(n0) * s.rowsPerImage() * s.Co, s.Co);
  }
}

// dw[K, Co] = Σ colᵀ · dy
inline void conv2dBackpropFilterIm2col(const float* x, const ConvShape& s, const float* dy, float* dw) {
  int chunk = imagesPerChunk(s);
  std::vector<float> col(static_cast<size_t>(chunk) * s.rowsPerImage() * s.cols());
  for (int n0 = 0; n0 < s.N; n0 += chunk) {
    int images = std::min(chunk, s.N - n0);
    im2col(x, s, n0, images, col.data());
    int rows = images * s.rowsPerImage();
    sgemm(true, false, s.cols(), s.Co, rows, col.data(), s.cols(), dy + static_cast<size_t>(n0) * s.rowsPerImage() * s.Co,
          s.Co, n0 == 0 ? 0.0f : 1.0f, dw, s.Co);
  }
}

// dcol = dy · wᵀ, scattered back into dx (zeroed first: outputs may be recycled buffers).
inline void conv2dBackpropInputCol2im(const float* dy, const ConvShape& s, const float* w, float* dx) {
  zero(dx, static_cast<size_t>(s.N) * s.H * s.W * s.Ci);
  int chunk = imagesPerChunk(s);
  const size_t K = s.cols();
  std::vector<float> col(static_cast<size_t>(chunk) * s.rowsPerImage() * K);
  for (int n0 = 0; n0 < s.N; n0 += chunk) {
    int images = std::min(chunk, s.N - n0);
    int rows = images * s.rowsPerImage();
    sgemm(false, true, rows, K, s.Co, dy + static_cast<size_t>(n0) * s.rowsPerImage() * s.Co, s.Co, w, s.Co, 0.0f, col.data(), K);
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
}

}  // namespace dg

// Depthwise convolutions, multiplier 1 (Ci == Co == C), NHWC with HWC1 filters, all three directions.
//
// Channels are innermost, so every tap is a short vector op over a block of 16 channels held in registers
// (one AVX-512 FMA, or two AVX2 ones); the tap loops only visit taps inside the image, so there is no
// per-element bounds test. Blocks of exactly 16 channels get a fixed-width instantiation the compiler fully
// vectorises; the last partial block (C not a multiple of 16: small width multipliers) a generic one.
#pragma once

#include "conv.h"

namespace dg {

constexpr int kBlock = 16;

// acc[0, width) += a · b, width = CW when CW > 0 (compile time), else cw.
template <int CW>
inline void fmaBlock(float* __restrict acc, const float* __restrict a, const float* __restrict b, int cw) {
  if constexpr (CW > 0) {
    for (int j = 0; j < CW; j++) acc[j] += a[j] * b[j];
  } else {
    for (int j = 0; j < cw; j++) acc[j] += a[j] * b[j];
  }
}

template <int CW>
inline void storeBlock(float* __restrict dst, const float* __restrict acc, int cw) {
  const int n = CW > 0 ? CW : cw;
  for (int j = 0; j < n; j++) dst[j] = acc[j];
}

// Taps of one output row/column: the filter offsets k whose input coordinate o·S − P + k is inside [0, size).
struct TapRange {
  int lo, hi;
};
inline TapRange taps(int o, int stride, int pad, int k, int size) {
  int i0 = o * stride - pad;
  return {std::max(0, -i0), std::min(k, size - i0)};
}

template <int CW>
void depthwiseForwardRow(const float* xn, const ConvShape& s, const float* w, float* yrow, int oh, int c0, int cw) {
  const size_t C = s.Ci;
  const TapRange th = taps(oh, s.SH, s.PT, s.KH, s.H);
  const int ih0 = oh * s.SH - s.PT;
  for (int ow = 0; ow < s.WO; ow++) {
    alignas(64) float acc[kBlock] = {};
    const TapRange tw = taps(ow, s.SW, s.PL, s.KW, s.W);
    const int iw0 = ow * s.SW - s.PL;
    for (int kh = th.lo; kh < th.hi; kh++) {
      const float* xr = xn + static_cast<size_t>(ih0 + kh) * s.W * C + c0;
      const float* wr = w + static_cast<size_t>(kh) * s.KW * C + c0;
      for (int kw = tw.lo; kw < tw.hi; kw++) fmaBlock<CW>(acc, xr + (iw0 + kw) * C, wr + kw * C, cw);
    }
    storeBlock<CW>(yrow + ow * C + c0, acc, cw);
  }
}

inline void depthwiseForward(const float* x, const ConvShape& s, const float* w, float* y) {
  const int C = s.Ci;
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < s.N; n++)
    for (int oh = 0; oh < s.HO; oh++) {
      const float* xn = x + static_cast<size_t>(n) * s.H * s.W * C;
      float* yrow = y + (static_cast<size_t>(n) * s.HO + oh) * s.WO * C;
      for (int c0 = 0; c0 < C; c0 += kBlock) {
        if (C - c0 >= kBlock) depthwiseForwardRow<kBlock>(xn, s, w, yrow, oh, c0, kBlock);
        else depthwiseForwardRow<0>(xn, s, w, yrow, oh, c0, C - c0);
      }
    }
}

// The output positions that input coordinate i receives gradient from, with their filter offsets:
// o·S − P + k = i for 0 ≤ k < K, 0 ≤ o < O.
struct Contribution {
  int k, o;
};
inline std::vector<std::vector<Contribution>> contributions(int size, int stride, int pad, int k, int outSize) {
  std::vector<std::vector<Contribution>> table(size);
  for (int i = 0; i < size; i++)
    for (int kk = 0; kk < k; kk++) {
      int t = i + pad - kk;
      if (t < 0 || t % stride) continue;
      int o = t / stride;
      if (o < outSize) table[i].push_back({kk, o});
    }
  return table;
}

template <int CW>
void depthwiseBackpropInputRow(const float* dyn, const ConvShape& s, const float* w, float* dxrow,
                               const std::vector<Contribution>& rows, const std::vector<std::vector<Contribution>>& cols,
                               int c0, int cw) {
  const size_t C = s.Ci;
  for (int iw = 0; iw < s.W; iw++) {
    alignas(64) float acc[kBlock] = {};
    for (const Contribution& r : rows) {
      const float* gr = dyn + static_cast<size_t>(r.o) * s.WO * C + c0;
      const float* wr = w + static_cast<size_t>(r.k) * s.KW * C + c0;
      for (const Contribution& c : cols[iw]) fmaBlock<CW>(acc, gr + c.o * C, wr + c.k * C, cw);
    }
    storeBlock<CW>(dxrow + iw * C + c0, acc, cw);
  }
}

// dx[n, ih, iw, c] = Σ over the taps reaching it of dy[n, oh, ow, c] · w[kh, kw, c]; gathered per input pixel,
// so rows split across threads without write conflicts.
inline void depthwiseBackpropInput(const float* dy, const ConvShape& s, const float* w, float* dx) {
  const int C = s.Ci;
  const auto rowTable = contributions(s.H, s.SH, s.PT, s.KH, s.HO);
  const auto colTable = contributions(s.W, s.SW, s.PL, s.KW, s.WO);
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < s.N; n++)
    for (int ih = 0; ih < s.H; ih++) {
      const float* dyn = dy + static_cast<size_t>(n) * s.HO * s.WO * C;
      float* dxrow = dx + (static_cast<size_t>(n) * s.H + ih) * s.W * C;
      for (int c0 = 0; c0 < C; c0 += kBlock) {
        if (C - c0 >= kBlock) depthwiseBackpropInputRow<kBlock>(dyn, s, w, dxrow, rowTable[ih], colTable, c0, kBlock);
        else depthwiseBackpropInputRow<0>(dyn, s, w, dxrow, rowTable[ih], colTable, c0, C - c0);
      }
    }
}

template <int CW>
void depthwiseBackpropFilterRow(const float* xn, const ConvShape& s, const float* dyrow, float* acc, int oh, int c0, int cw) {
  const size_t C = s.Ci;
  const TapRange th = taps(oh, s.SH, s.PT, s.KH, s.H);
  const int ih0 = oh * s.SH - s.PT;
  for (int ow = 0; ow < s.WO; ow++) {
    const float* g = dyrow + ow * C + c0;
    const TapRange tw = taps(ow, s.SW, s.PL, s.KW, s.W);
    const int iw0 = ow * s.SW - s.PL;
    for (int kh = th.lo; kh < th.hi; kh++) {
      const float* xr = xn + static_cast<size_t>(ih0 + kh) * s.W * C + c0;
      float* ar = acc + static_cast<size_t>(kh) * s.KW * C + c0;
      for (int kw = tw.lo; kw < tw.hi; kw++) fmaBlock<CW>(ar + kw * C, xr + (iw0 + kw) * C, g, cw);
    }
  }
}

// dw[kh, kw, c] = Σ_{n, oh, ow} x[n, ih, iw, c] · dy[n, oh, ow, c]: per-thread partial sums (KH·KW·C floats,
// cache-resident), reduced at the end.
inline void depthwiseBackpropFilter(const float* x, const ConvShape& s, const float* dy, float* dw) {
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
        const float* dyrow = dy + (static_cast<size_t>(n) * s.HO + oh) * s.WO * C;
        for (int c0 = 0; c0 < C; c0 += kBlock) {
          if (C - c0 >= kBlock) depthwiseBackpropFilterRow<kBlock>(xn, s, dyrow, acc.data(), oh, c0, kBlock);
          else depthwiseBackpropFilterRow<0>(xn, s, dyrow, acc.data(), oh, c0, C - c0);
        }
      }
#pragma omp critical
    for (size_t i = 0; i < taps; i++) dw[i] += acc[i];
  }
}

}  // namespace dg

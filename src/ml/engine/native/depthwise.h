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
inline void depthwiseForwardPixel(const float* xn, const ConvShape& s, const float* w, float* yp, TapRange th, int ih0, int ow,
                                  int c0, int cw) {
  const size_t C = s.Ci;
  alignas(64) float acc[CW > 0 ? CW : kBlock] = {};
  const TapRange tw = taps(ow, s.SW, s.PL, s.KW, s.W);
  const int iw0 = ow * s.SW - s.PL;
  for (int kh = th.lo; kh < th.hi; kh++) {
    const float* xr = xn + static_cast<size_t>(ih0 + kh) * s.W * C + c0;
    const float* wr = w + static_cast<size_t>(kh) * s.KW * C + c0;
    for (int kw = tw.lo; kw < tw.hi; kw++) fmaBlock<CW>(acc, xr + (iw0 + kw) * C, wr + kw * C, cw);
  }
  storeBlock<CW>(yp + c0, acc, cw);
}

inline void depthwiseForward(const float* x, const ConvShape& s, const float* w, float* y) {
  const int C = s.Ci;
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < s.N; n++)
    for (int oh = 0; oh < s.HO; oh++) {
      const float* xn = x + static_cast<size_t>(n) * s.H * s.W * C;
      float* yrow = y + (static_cast<size_t>(n) * s.HO + oh) * s.WO * C;
      const TapRange th = taps(oh, s.SH, s.PT, s.KH, s.H);
      const int ih0 = oh * s.SH - s.PT;
      for (int ow = 0; ow < s.WO; ow++) {
        float* yp = yrow + static_cast<size_t>(ow) * C;
        int c0 = 0;
        for (; c0 + 4 * kBlock <= C; c0 += 4 * kBlock) depthwiseForwardPixel<4 * kBlock>(xn, s, w, yp, th, ih0, ow, c0, 0);
        for (; c0 + kBlock <= C; c0 += kBlock) depthwiseForwardPixel<kBlock>(xn, s, w, yp, th, ih0, ow, c0, kBlock);
        if (c0 < C) depthwiseForwardPixel<0>(xn, s, w, yp, th, ih0, ow, c0, C - c0);
      }
    }
}

// The outputs that input coordinate i receives gradient from: o·S − P + k = i with 0 ≤ k < K, 0 ≤ o < O, i.e.
// k = k0 + j·S and o = o0 − j for j < count (an arithmetic progression: no per-tap tests).
struct Progression {
  int k0, o0, count;
};
inline Progression progression(int i, int stride, int pad, int k, int outSize) {
  const int t = i + pad;  // = o·S + k
  const int kFirst = t % stride, oFirst = t / stride;
  const int jlo = std::max(0, oFirst - (outSize - 1));
  const int jhi = std::min((k - kFirst + stride - 1) / stride, oFirst + 1);
  return {kFirst + jlo * stride, oFirst - jlo, std::max(0, jhi - jlo)};
}

template <int CW>
inline void depthwiseBackpropInputPixel(const float* dyn, const ConvShape& s, const float* w, float* dxp, Progression rows,
                                        Progression cols, int c0, int cw) {
  const size_t C = s.Ci;
  alignas(64) float acc[CW > 0 ? CW : kBlock] = {};
  for (int a = 0; a < rows.count; a++) {
    const float* gr = dyn + static_cast<size_t>(rows.o0 - a) * s.WO * C + c0;
    const float* wr = w + static_cast<size_t>(rows.k0 + a * s.SH) * s.KW * C + c0;
    for (int b = 0; b < cols.count; b++) fmaBlock<CW>(acc, gr + (cols.o0 - b) * C, wr + (cols.k0 + b * s.SW) * C, cw);
  }
  storeBlock<CW>(dxp + c0, acc, cw);
}

// dx[n, ih, iw, c] = Σ over the taps reaching it of dy[n, oh, ow, c] · w[kh, kw, c]; gathered per input pixel,
// so rows split across threads without write conflicts.
inline void depthwiseBackpropInput(const float* dy, const ConvShape& s, const float* w, float* dx) {
  const int C = s.Ci;
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < s.N; n++)
    for (int ih = 0; ih < s.H; ih++) {
      const float* dyn = dy + static_cast<size_t>(n) * s.HO * s.WO * C;
      float* dxrow = dx + (static_cast<size_t>(n) * s.H + ih) * s.W * C;
      const Progression rows = progression(ih, s.SH, s.PT, s.KH, s.HO);
      for (int iw = 0; iw < s.W; iw++) {
        float* dxp = dxrow + static_cast<size_t>(iw) * C;
        const Progression cols = progression(iw, s.SW, s.PL, s.KW, s.WO);
        int c0 = 0;
        for (; c0 + 4 * kBlock <= C; c0 += 4 * kBlock) depthwiseBackpropInputPixel<4 * kBlock>(dyn, s, w, dxp, rows, cols, c0, 0);
        for (; c0 + kBlock <= C; c0 += kBlock) depthwiseBackpropInputPixel<kBlock>(dyn, s, w, dxp, rows, cols, c0, 0);
        if (c0 < C) depthwiseBackpropInputPixel<0>(dyn, s, w, dxp, rows, cols, c0, C - c0);
      }
    }
}

template <int CW>
inline void depthwiseBackpropFilterPixel(const float* xn, const ConvShape& s, const float* g, float* acc, TapRange th,
                                         int ih0, TapRange tw, int iw0, int c0, int cw) {
  const size_t C = s.Ci;
  for (int kh = th.lo; kh < th.hi; kh++) {
    const float* xr = xn + static_cast<size_t>(ih0 + kh) * s.W * C + c0;
    float* ar = acc + static_cast<size_t>(kh) * s.KW * C + c0;
    for (int kw = tw.lo; kw < tw.hi; kw++) fmaBlock<CW>(ar + kw * C, xr + (iw0 + kw) * C, g + c0, cw);
  }
}

// dw[kh, kw, c] = Σ_{n, oh, ow} x[n, ih, iw, c] · dy[n, oh, ow, c]: per-thread partial sums (KH·KW·C floats,
// cache-resident), added in thread order at the end.
inline void depthwiseBackpropFilter(const float* x, const ConvShape& s, const float* dy, float* dw) {
  const int C = s.Ci;
  const size_t taps = static_cast<size_t>(s.KH) * s.KW * C;
  std::fill(dw, dw + taps, 0.0f);
  OrderedPartials<float> partial(taps);
#pragma omp parallel
  {
    float* acc = partial.of(omp_get_thread_num());
#pragma omp for collapse(2) schedule(static) nowait
    for (int n = 0; n < s.N; n++)
      for (int oh = 0; oh < s.HO; oh++) {
        const float* xn = x + static_cast<size_t>(n) * s.H * s.W * C;
        const float* dyrow = dy + (static_cast<size_t>(n) * s.HO + oh) * s.WO * C;
        const TapRange th = dg::taps(oh, s.SH, s.PT, s.KH, s.H);
        const int ih0 = oh * s.SH - s.PT;
        for (int ow = 0; ow < s.WO; ow++) {
          const float* g = dyrow + static_cast<size_t>(ow) * C;
          const TapRange tw = dg::taps(ow, s.SW, s.PL, s.KW, s.W);
          const int iw0 = ow * s.SW - s.PL;
          float* a = acc;
          int c0 = 0;
          for (; c0 + 4 * kBlock <= C; c0 += 4 * kBlock) depthwiseBackpropFilterPixel<4 * kBlock>(xn, s, g, a, th, ih0, tw, iw0, c0, 0);
          for (; c0 + kBlock <= C; c0 += kBlock) depthwiseBackpropFilterPixel<kBlock>(xn, s, g, a, th, ih0, tw, iw0, c0, 0);
          if (c0 < C) depthwiseBackpropFilterPixel<0>(xn, s, g, a, th, ih0, tw, iw0, c0, C - c0);
        }
      }
  }
  partial.addTo(dw);
}

}  // namespace dg

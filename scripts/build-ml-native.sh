#!/bin/sh
# Builds the native CPU kernels of the `native` TensorFlow.js backend (src/ml/engine/native/kernels.cc) into
# src/ml/engine/native/build/discograph_kernels.node. Run by `npm ci`/`npm install` (package "install" script)
# and by hand after editing the C++. Needs g++, Node's headers and OpenBLAS (scripts/install-ml-native-deps.sh).
# Compiled for the CPU it is built on (-march=native) by default: build on the machine that trains. An image,
# built on one machine and run on others, names a portable target instead: DG_NATIVE_ARCH=x86-64-v2 (any x86-64
# since 2009; docker/Dockerfile). OpenBLAS picks its own kernels for the CPU it runs on either way.
# DG_NATIVE_REQUIRE_OPENBLAS=1 fails instead of falling back to the portable matrix product (images).
set -eu
cd "$(dirname "$0")/.."
SRC=src/ml/engine/native/kernels.cc
OUT_DIR="${DG_NATIVE_OUT_DIR:-src/ml/engine/native/build}"  # elsewhere only for tests of another variant
NODE_INCLUDE=""
for d in "$(dirname "$(dirname "$(command -v node)")")/include/node" /usr/include/node /usr/local/include/node; do
  if [ -f "$d/node_api.h" ]; then NODE_INCLUDE="$d"; break; fi
done
if [ -z "$NODE_INCLUDE" ]; then echo "build-ml-native: Node headers (node_api.h) not found" >&2; exit 1; fi
CXX="${CXX:-g++}"
if ! command -v "$CXX" >/dev/null 2>&1; then echo "build-ml-native: no C++ compiler ($CXX)" >&2; exit 1; fi
mkdir -p "$OUT_DIR"
# Without OpenBLAS (a fresh machine after `npm ci` alone) the kernels still build, on the portable product
# of portable-gemm.h: several times slower matrix products, still ~100x the plain tfjs CPU backend.
# DG_PORTABLE_GEMM=1 forces it (to test that build).
BLAS="-lopenblas"
if [ "${DG_PORTABLE_GEMM:-0}" = 1 ]; then
  BLAS="-DDG_PORTABLE_GEMM"
elif ! printf 'int main(){return 0;}' | "$CXX" -x c++ - -o /dev/null -lopenblas 2>/dev/null; then
  if [ "${DG_NATIVE_REQUIRE_OPENBLAS:-0}" = 1 ]; then echo "build-ml-native: OpenBLAS not found (libopenblas-dev) and DG_NATIVE_REQUIRE_OPENBLAS=1" >&2; exit 1; fi
  BLAS="-DDG_PORTABLE_GEMM"
  echo "build-ml-native: OpenBLAS not found, building with the portable matrix product (install it with scripts/install-ml-native-deps.sh for faster training)" >&2
fi
# -ffast-math lets GCC vectorise expf through glibc's libmvec (swish, sigmoid). It also assumes no Inf or NaN
# ever occurs: a vectorised float division becomes a reciprocal estimate and a Newton step, which turns
# x / +Inf into NaN. So no kernel may let a value overflow to Inf (common.h's sigmoidf caps its exponent;
# without that, trained models embedded some real music as NaN). -fopenmp: loops split across cores.
# shellcheck disable=SC2086
"$CXX" -std=c++17 -O3 -march="${DG_NATIVE_ARCH:-native}" -ffast-math -fopenmp -fPIC -shared \
  -DNODE_GYP_MODULE_NAME=discograph_kernels -I"$NODE_INCLUDE" \
  "$SRC" -o "$OUT_DIR/discograph_kernels.node.tmp" $BLAS -lm
mv "$OUT_DIR/discograph_kernels.node.tmp" "$OUT_DIR/discograph_kernels.node"
echo "build-ml-native: built $OUT_DIR/discograph_kernels.node (-march=${DG_NATIVE_ARCH:-native} $BLAS)" >&2

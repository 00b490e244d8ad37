#!/bin/sh
# Installs what the native ML kernels build against (scripts/build-ml-native.sh): OpenBLAS (Debian's
# libopenblas-dev) and a C++ compiler. Idempotent and quick when they are present; then (re)builds the kernels
# and copies them into the build (dist/).
set -eu
cd "$(dirname "$0")/.."
need=""
[ -e /usr/lib/x86_64-linux-gnu/libopenblas.so ] || [ -e /usr/lib/aarch64-linux-gnu/libopenblas.so ] || [ -e /usr/lib/libopenblas.so ] || need="$need libopenblas-dev"
command -v g++ >/dev/null 2>&1 || need="$need g++"
if [ -n "$need" ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "install-ml-native-deps: installing$need" >&2
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $need
fi
sh scripts/build-ml-native.sh
node scripts/build.mjs --assets

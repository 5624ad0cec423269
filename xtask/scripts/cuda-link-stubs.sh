#!/usr/bin/env bash
# Link-time stand-ins for the CUDA libraries that candle's CUDA backend links against, so the
# `cuda` build links on a machine with no GPU driver and only the PyPI CUDA 13.0 wheels.
#
#   usage: cuda-link-stubs.sh CUDA_ROOT CUDARC_SOURCE_DIR
#
# cudarc (feature `dynamic-linking`) passes -lcuda -lnvrtc -lcurand -lcublas -lcublasLt (and
# -lcudart) to the linker and searches CUDA_ROOT/lib and CUDA_ROOT/lib/stubs. For each library:
#   - present in CUDA_ROOT/lib as lib*.so.N (e.g. libcudart.so.13 from nvidia-cuda-runtime):
#     only the unversioned lib*.so symlink that -lNAME looks for;
#   - absent (the driver's libcuda.so.1, and the libraries of wheels we do not install): a small
#     shared library in CUDA_ROOT/lib/stubs with the real SONAME (so the binary asks for the real
#     file at start-up) and, where the real library versions its symbols, the same version node,
#     exporting every function cudarc declares for it (read from cudarc's generated bindings).
# The stubs only satisfy the linker: they never travel to the GPU machine (`cargo xtask
# build-cuda` copies the binary alone) and must never be on LD_LIBRARY_PATH there.
set -euo pipefail
root=${1:?usage: cuda-link-stubs.sh CUDA_ROOT CUDARC_SOURCE_DIR}
cudarc=${2:?usage: cuda-link-stubs.sh CUDA_ROOT CUDARC_SOURCE_DIR}
lib="$root/lib"
stubs="$lib/stubs"
mkdir -p "$stubs"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# make_stub NAME SONAME BINDINGS_DIR SYMBOL_PREFIX VERSIONED(yes|no)
make_stub() {
  local name=$1 soname=$2 dir=$3 prefix=$4 versioned=$5
  if [[ $name != cuda && -e "$lib/$soname" ]]; then
    ln -sfn "$soname" "$lib/lib$name.so"
    echo "cuda-link-stubs: lib$name.so -> $soname (real library)"
    return
  fi
  local bindings="$cudarc/src/$dir/sys/mod.rs"
  [[ -f $bindings ]] || { echo "cuda-link-stubs: $bindings not found" >&2; exit 1; }
  # The declarations of the extern blocks: an indented `fn cuXxx(`.
  sed -nE "s/^[[:space:]]+fn (${prefix}[A-Za-z0-9_]*)\(.*/\1/p" "$bindings" | sort -u >"$work/$name.syms"
  local count
  count=$(wc -l <"$work/$name.syms")
  [[ $count -gt 0 ]] || { echo "cuda-link-stubs: no $prefix* functions in $bindings" >&2; exit 1; }
  # Every stub returns a non-zero status; it is never called (the real library is loaded).
  awk '{ printf "int %s(void) { return 999; }\n", $1 }' "$work/$name.syms" >"$work/$name.c"
  local flags=(-shared -fPIC -O0 "-Wl,-soname,$soname")
  if [[ $versioned == yes ]]; then
    printf '%s {\n  global: *;\n};\n' "$soname" >"$work/$name.map"
    flags+=("-Wl,--version-script=$work/$name.map")
  fi
  cc "${flags[@]}" -o "$stubs/lib$name.so" "$work/$name.c"
  echo "cuda-link-stubs: stubs/lib$name.so ($soname, $count functions)"
}

make_stub cuda     libcuda.so.1      driver   cu       no
make_stub cublas   libcublas.so.13   cublas   cublas   yes
make_stub cublasLt libcublasLt.so.13 cublaslt cublasLt yes
make_stub curand   libcurand.so.10   curand   curand   yes
make_stub nvrtc    libnvrtc.so.13    nvrtc    nvrtc    yes
if [[ -e "$lib/libcudart.so.13" ]]; then
  ln -sfn libcudart.so.13 "$lib/libcudart.so"
  echo "cuda-link-stubs: libcudart.so -> libcudart.so.13 (real library)"
else
  echo "cuda-link-stubs: $lib/libcudart.so.13 missing (install the nvidia-cuda-runtime wheel)" >&2
  exit 1
fi

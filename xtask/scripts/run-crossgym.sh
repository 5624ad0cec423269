#!/usr/bin/env bash
# Runs the CUDA build of `crossgym` (beside this script) on a GPU machine.
#
#   usage: run-crossgym.sh [crossgym arguments...]     e.g. run-crossgym.sh gpu-check --device cuda
#
# The binary was linked on a machine without CUDA against CUDA 13.0 and needs, at start-up,
# libcuda.so.1 (the driver), libcudart.so.13, libcublas.so.13, libcublasLt.so.13,
# libcurand.so.10 and libnvrtc.so.13. GPU images keep the CUDA 13 user-space libraries in
# places the loader does not search by default, so this looks for them and puts their folders
# on LD_LIBRARY_PATH, in this order:
#   1. $CROSSGYM_CUDA_LIBS (colon-separated folders), and lib/ beside this script;
#   2. the `nvidia/cu13/lib` folder of the pip CUDA 13 wheels of the machine's Python
#      environments (PyTorch images install them there);
#   3. /usr/local/cuda (and its targets/ folder), /usr/local/nvidia;
#   4. when the loader cache has no libcublas.so.13: the first libcublas.so.13 on the disk.
# It then checks with ldd that every library resolves, and says which do not instead of the
# loader's one-line error. Set CROSSGYM_CUDA_VERBOSE=1 to print the folders used.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
binary="$here/crossgym"
dirs=()
[[ -n ${CROSSGYM_CUDA_LIBS:-} ]] && IFS=: read -r -a dirs <<<"$CROSSGYM_CUDA_LIBS"
dirs+=("$here/lib")
for python in python3 python /opt/conda/bin/python3 /opt/torch/.venv/bin/python3 /usr/local/bin/python3; do
  found=$("$python" -c 'import nvidia.cu13, os; print(os.path.join(list(nvidia.cu13.__path__)[0], "lib"))' 2>/dev/null) \
    && dirs+=("$found")
done
dirs+=(/usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/nvidia/lib64 /usr/local/nvidia/lib)
if ! ldconfig -p 2>/dev/null | grep -q 'libcublas\.so\.13 '; then
  found=$(find / -xdev -name 'libcublas.so.13' -not -path '*/proc/*' 2>/dev/null | head -n 1)
  [[ -n $found ]] && dirs+=("$(dirname "$found")")
fi
existing=()
for dir in "${dirs[@]}"; do [[ -d $dir ]] && existing+=("$dir"); done
path=$(IFS=:; echo "${existing[*]}")
export LD_LIBRARY_PATH="$path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
[[ ${CROSSGYM_CUDA_VERBOSE:-0} == 1 ]] && echo "run-crossgym: LD_LIBRARY_PATH=$LD_LIBRARY_PATH" >&2
if command -v ldd >/dev/null; then
  missing=$(ldd "$binary" 2>/dev/null | awk '/not found/ { print $1 }')
  if [[ -n $missing ]]; then
    echo "run-crossgym: these libraries of the CUDA build were not found:" $missing >&2
    echo "run-crossgym: searched: ${existing[*]:-(no folder exists)}" >&2
    echo "run-crossgym: set CROSSGYM_CUDA_LIBS to the folder(s) holding them (CUDA 13 user-space libraries; libcuda.so.1 comes with the NVIDIA driver)." >&2
    exit 127
  fi
fi
exec "$binary" "$@"

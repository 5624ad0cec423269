"""Intel MKL's bf16 GEMM (cblas_gemm_bf16bf16f32) and f32 GEMM (cblas_sgemm) on the shapes of
benches/matmul.rs, for comparison with crossgym's own AMX kernel.

MKL comes from the PyPI wheel `mkl` (Intel Simplified Software License) in a venv under the
workspace's target/ (never a system path):

    python3 -m venv target/mkl-venv && target/mkl-venv/bin/pip install mkl numpy
    MKL_NUM_THREADS=1 target/mkl-venv/bin/python crates/policy/benches/reference/mkl_bf16.py

Operands are stored as in the Rust bench (`x Wᵀ` with W row-major [n, k]; `dYᵀ X`); bf16
inputs are prepared once outside the timed loop (MKL takes bf16, while crossgym's kernel takes
f32 and rounds while packing, so these MKL numbers exclude the conversion). Prints GFLOP/s, the
median of repeated runs.
"""
import ctypes
import glob
import os
import sys
import time

import numpy as np

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112


def load_mkl():
    prefix = sys.prefix
    paths = glob.glob(os.path.join(prefix, "lib", "libmkl_rt.so*"))
    if not paths:
        sys.exit(f"libmkl_rt.so not found under {prefix}/lib: pip install mkl in this venv")
    lib = ctypes.CDLL(sorted(paths)[0])
    i, f, p = ctypes.c_int, ctypes.c_float, ctypes.c_void_p
    lib.cblas_gemm_bf16bf16f32.argtypes = [i, i, i, i, i, i, f, p, i, p, i, f, p, i]
    lib.cblas_sgemm.argtypes = [i, i, i, i, i, i, f, p, i, p, i, f, p, i]
    return lib


def to_bf16(x):
    """Round-to-nearest-even f32 -> bf16 bits (no NaNs in this data)."""
    bits = x.astype(np.float32).view(np.uint32)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def median_seconds(fn, min_time=1.0):
    fn()
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < min_time or len(times) < 5:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def bench(lib, name, m, k, n, kind):
    rng = np.random.default_rng(1)
    if kind == "linear":  # A [m, k] row-major, W [n, k] row-major used transposed
        a = rng.uniform(-1, 1, (m, k)).astype(np.float32)
        b = rng.uniform(-1, 1, (n, k)).astype(np.float32)
        ta, tb, lda, ldb = NO_TRANS, TRANS, k, k
    elif kind == "wgrad":  # dY [k, m] row-major used transposed, X [k, n] row-major
        a = rng.uniform(-1, 1, (k, m)).astype(np.float32)
        b = rng.uniform(-1, 1, (k, n)).astype(np.float32)
        ta, tb, lda, ldb = TRANS, NO_TRANS, m, n
    else:  # plain
        a = rng.uniform(-1, 1, (m, k)).astype(np.float32)
        b = rng.uniform(-1, 1, (k, n)).astype(np.float32)
        ta, tb, lda, ldb = NO_TRANS, NO_TRANS, k, n
    a16, b16 = to_bf16(a), to_bf16(b)
    c = np.zeros((m, n), dtype=np.float32)
    ptr = lambda arr: arr.ctypes.data_as(ctypes.c_void_p)
    flops = 2.0 * m * n * k

    def bf16():
        lib.cblas_gemm_bf16bf16f32(ROW_MAJOR, ta, tb, m, n, k, 1.0, ptr(a16), lda, ptr(b16), ldb, 0.0, ptr(c), n)

    def f32():
        lib.cblas_sgemm(ROW_MAJOR, ta, tb, m, n, k, 1.0, ptr(a), lda, ptr(b), ldb, 0.0, ptr(c), n)

    t16, t32 = median_seconds(bf16), median_seconds(f32)
    print(f"{name:28s} m={m:5d} k={k:5d} n={n:6d}  bf16 {flops / t16 / 1e9:8.1f} GFLOP/s"
          f"  f32 {flops / t32 / 1e9:8.1f} GFLOP/s", flush=True)


def main():
    lib = load_mkl()
    print(f"MKL_NUM_THREADS={os.environ.get('MKL_NUM_THREADS', '(all)')}")
    shapes = [
        ("mlp_up", 512, 576, 1536, "linear"),
        ("mlp_down", 512, 1536, 576, "linear"),
        ("attn_proj", 512, 576, 576, "linear"),
        ("kv_proj", 512, 576, 192, "linear"),
        ("lm_head", 512, 576, 49152, "linear"),
        ("dW", 576, 512, 1536, "wgrad"),
        ("decode 576x1536 m=1", 1, 576, 1536, "linear"),
        ("decode 576x1536 m=16", 16, 576, 1536, "linear"),
        ("decode 576x1536 m=32", 32, 576, 1536, "linear"),
        ("decode 576x49152 m=1", 1, 576, 49152, "linear"),
        ("decode 576x49152 m=16", 16, 576, 49152, "linear"),
        ("decode 576x49152 m=32", 32, 576, 49152, "linear"),
        ("attn_tile 64x64x64", 64, 64, 64, "plain"),
        ("attn_tile 128x64x128", 128, 64, 128, "plain"),
    ]
    for s in shapes:
        bench(lib, *s)


if __name__ == "__main__":
    main()

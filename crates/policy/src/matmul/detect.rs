//! Whether this process may run AMX-BF16 tile instructions.
//!
//! Two things must hold. The CPU must report `AMX-TILE` and `AMX-BF16` in CPUID leaf 7 (read
//! with `raw-cpuid`), plus AVX-512 F/BW, which the packing code uses and which every AMX CPU has.
//! And the OS must let this process use the 8 KiB of tile data: Linux keeps AMX state off by
//! default (it would grow every signal frame and context switch), and a tile instruction run
//! without permission dies with `SIGILL`. Permission is asked once per process with
//! `arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)`; it then holds for every thread of the
//! process, those started later included. When the request fails (an old kernel, a seccomp
//! filter, a non-Linux OS) the answer is `false` and the matmuls stay in f32.
//!
//! The probe runs once (a [`OnceLock`]); later calls are one atomic load.
#![allow(unsafe_code)]

use std::sync::OnceLock;

/// Whether this CPU and OS can run AMX-BF16 tile instructions in this process: CPUID reports
/// AMX-TILE, AMX-BF16 and AVX-512 F/BW, and Linux granted the tile-data permission. Probed once.
pub fn amx_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(probe)
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn probe() -> bool {
    let cpuid = raw_cpuid::CpuId::new();
    let Some(features) = cpuid.get_extended_feature_info() else {
        return false;
    };
    if !(features.has_amx_tile() && features.has_amx_bf16()) {
        return false;
    }
    if !(std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512bw"))
    {
        return false;
    }
    request_tile_permission()
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn probe() -> bool {
    false
}

/// Asks Linux for the AMX tile-data state component (`arch_prctl(2)`, x86-specific).
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn request_tile_permission() -> bool {
    /// `ARCH_REQ_XCOMP_PERM` from `<asm/prctl.h>`.
    const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
    /// The XSAVE state component number of AMX tile data.
    const XFEATURE_XTILEDATA: libc::c_long = 18;
    // SAFETY: arch_prctl(ARCH_REQ_XCOMP_PERM, n) takes two integers and passes no memory; at
    // worst it returns -1 (EINVAL on kernels without AMX support, EPERM under a sandbox).
    let rc = unsafe {
        libc::syscall(
            libc::SYS_arch_prctl,
            ARCH_REQ_XCOMP_PERM,
            XFEATURE_XTILEDATA,
        )
    };
    rc == 0
}

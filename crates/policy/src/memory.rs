//! Process-wide allocator settings for training.
//!
//! A training step allocates and frees hundreds of megabytes of activation and gradient buffers.
//! glibc's allocator serves large blocks with fresh `mmap`s and hands freed memory back to the
//! kernel, so every step faults its buffers in again, page by page: zeroing each page and, on a
//! multi-core VM, interrupting the other cores to flush their TLBs. Measured on the 2-core Xeon
//! this project runs on (SmolLM2-135M, 1×512 tokens, `train_step` example): ~218,000 page faults
//! per step by default, ~0 after [`keep_freed_memory`], and the step ~10–20% faster. (A 32 MiB
//! mmap threshold, which older glibc documentation gives as the maximum, still left ~190,000
//! faults a step: the packed output head and the embedding's gradient are larger.)

/// Makes glibc's allocator keep freed memory for reuse (blocks up to 2 GiB from the heap, no
/// trimming, a 256 MiB top pad) instead of returning it to the kernel. The process's resident size then stays at its peak.
/// Call it once at the start of a training program; elsewhere (other C libraries) it does
/// nothing. Binaries of this workspace that train call it (`crossgym`, the policy benches and
/// examples).
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    glibc::keep_freed_memory();
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
mod glibc {
    pub(super) fn keep_freed_memory() {
        // SAFETY: `mallopt` only changes allocator parameters; it is thread-safe in glibc and
        // takes plain integers. A rejected value leaves the default in place (return value 0),
        // which is harmless, so the result is not checked.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, i32::MAX);
            libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
            libc::mallopt(libc::M_TOP_PAD, 256 << 20);
        }
    }
}

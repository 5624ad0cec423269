//! Vectorised exponentials and softmax pieces: [`vector_exp`], an `eˣ` in straight-line f32
//! arithmetic that loops vectorise (flash attention's tiles, the MLP's SiLU), and 16 lanes of
//! AVX-512 for the scale, the maximum, the exponentials and the sum of the attention softmax of
//! the bf16 rollout engine ([`fast_causal_softmax`]) and of the token sampler's unnormalised
//! probabilities ([`shifted_exponentials`]).
//!
//! In decoding at long contexts the softmax is a third of a step when each exponential is a
//! call to libm's `expf` and the sum a chain of f64 additions (as the f32 engine and the training
//! path compute it, which the f32 engine must match bit for bit). The bf16 engine already rounds
//! its operands, so it takes a vectorised exponential instead: `eˣ = 2ⁿ · eʳ` with `n` the
//! nearest integer to `x / ln 2`, `r = x − n·ln 2` (in two parts, Cody–Waite, so `r` is exact)
//! and `eʳ` a degree-7 Taylor polynomial on `|r| ≤ ln 2 / 2` (truncation below 6·10⁻⁹, so about
//! one f32 rounding in all); the sum is f32 in 16 lanes. A row's result depends only on the row.
//! The sampler's pass over the vocabulary (49,152 entries for SmolLM2, every generated token)
//! costs about as much as a decoding step's attention when done in f64 with libm's `exp`.
#![allow(unsafe_code)]

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m512, __mmask16, _mm256_castpd_ps, _mm512_add_pd, _mm512_add_ps, _mm512_castps_pd,
    _mm512_castps512_ps256, _mm512_cvtps_pd, _mm512_extractf64x4_pd, _mm512_fmadd_ps,
    _mm512_fnmadd_ps, _mm512_mask_loadu_ps, _mm512_mask_storeu_ps, _mm512_maskz_loadu_ps,
    _mm512_max_ps, _mm512_mul_ps, _mm512_reduce_add_ps, _mm512_reduce_max_ps, _mm512_roundscale_ps,
    _mm512_scalef_ps, _mm512_set1_ps, _mm512_setzero_pd, _mm512_setzero_ps, _mm512_storeu_pd,
    _mm512_sub_ps,
};
use std::sync::OnceLock;

/// Softmax of `row[..valid] · scale` in place, the rest of `row` set to 0: vectorised where the
/// CPU has AVX-512 F (every CPU with AMX), else scalar with the same formula.
pub(crate) fn fast_causal_softmax(row: &mut [f32], valid: usize, scale: f32) {
    let (live, masked) = row.split_at_mut(valid);
    masked.fill(0.0);
    if live.is_empty() {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if avx512_available() {
        // SAFETY: the CPU has AVX-512 F (checked just above).
        unsafe { softmax_avx512(live, scale) };
        return;
    }
    softmax_portable(live, scale);
}

/// `row[i] ← e^(row[i]·scale − max)` in place, with `max` the largest `row[i]·scale`; returns
/// `(max, sum)`. The sum runs in 16 f64 lanes (lane `j` adds the entries `i ≡ j (mod 16)` in
/// order) that are then added in lane order, on the vector and the portable path alike, so both
/// give the same bits. An empty row gives `(−∞, 0)`.
pub(crate) fn shifted_exponentials(row: &mut [f32], scale: f32) -> (f32, f64) {
    if row.is_empty() {
        return (f32::NEG_INFINITY, 0.0);
    }
    #[cfg(target_arch = "x86_64")]
    if avx512_available() {
        // SAFETY: the CPU has AVX-512 F (checked just above).
        return unsafe { shifted_exponentials_avx512(row, scale) };
    }
    shifted_exponentials_portable(row, scale)
}

fn shifted_exponentials_portable(row: &mut [f32], scale: f32) -> (f32, f64) {
    let max = row.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x * scale));
    let mut lanes = [0f64; 16];
    for (at, x) in row.iter_mut().enumerate() {
        *x = exp_nonpositive(*x * scale - max);
        lanes[at % 16] += f64::from(*x);
    }
    (max, lanes.iter().sum())
}

/// Whether this CPU has AVX-512 F (probed once).
pub(crate) fn avx512_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("avx512f")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
}

/// `e^x` in straight-line arithmetic that LLVM vectorizes (the C library's `expf` is a call per
/// element, the largest cost of long-sequence attention and of the MLP's SiLU): `x = n·ln 2 + r` with `|r| ≤ ln 2 / 2`
/// (Cody–Waite, two-part ln 2), `e^r` by its degree-7 Taylor polynomial (truncation error below
/// 2⁻²⁴ relative), times `2^n` built in the exponent bits. Within 2 ulp of `expf` on
/// `[-87, 88]`; below −87 it returns about 1e-38 instead of a subnormal or 0 (negligible beside
/// the row's largest term, which is 1), above 88 it saturates at about 1.6e38; NaN stays NaN;
/// `e^0` is exactly 1.
#[inline(always)]
pub(crate) fn vector_exp(x: f32) -> f32 {
    let (shifted, p) = vector_exp_parts(x);
    // `2ⁿ` from `n`'s integer bits (`n` is within [−126, 127] after the clamp): integer lanes,
    // where `n as i32` (a saturating conversion) would not vectorize. A NaN `x` gives a NaN `p`
    // whatever this factor is.
    let n_bits = shifted.to_bits().wrapping_sub(VECTOR_EXP_ROUND.to_bits());
    p * f32::from_bits(n_bits.wrapping_add(127) << 23)
}

/// 1.5 · 2²³: adding and subtracting it rounds to the nearest integer (ties to even).
const VECTOR_EXP_ROUND: f32 = 12_582_912.0;

/// [`vector_exp`]'s reduction and polynomial: `(n + 1.5 · 2²³, e^r)` for `x = n·ln 2 + r`
/// (`x` clamped to [−87, 88]). The first is exact: in that binade one unit is one ulp, so its
/// low bits count `n`.
#[inline(always)]
fn vector_exp_parts(x: f32) -> (f32, f32) {
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * std::f32::consts::LOG2_E + VECTOR_EXP_ROUND;
    let n = shifted - VECTOR_EXP_ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    (shifted, p)
}

/// `ln 2` in two parts: `HI` has few enough bits that `n · HI` is exact for any `|n| < 2¹⁵`.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// Below this, `eˣ` is under f32's smallest subnormal.
const EXP_FLOOR: f32 = -110.0;
/// `1 / k!` for `k = 7, 6, …, 2` (the Horner order); the two leading ones are 1.
const TAYLOR: [f32; 6] = [
    1.0 / 5040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    0.5,
];

/// `eˣ` for `x ≤ 0` (any `x` below [`EXP_FLOOR`] gives 0), scalar.
fn exp_nonpositive(x: f32) -> f32 {
    let x = x.max(EXP_FLOOR);
    let n = (x * std::f32::consts::LOG2_E).round_ties_even();
    let r = (-n).mul_add(LN2_LO, (-n).mul_add(LN2_HI, x));
    let mut p = TAYLOR[0];
    for c in &TAYLOR[1..] {
        p = p.mul_add(r, *c);
    }
    p = p.mul_add(r, 1.0).mul_add(r, 1.0);
    // 2ⁿ in two steps, so that n down to −150 stays representable.
    let half = (n / 2.0).trunc();
    p * 2f32.powi(half as i32) * 2f32.powi((n - half) as i32)
}

fn softmax_portable(live: &mut [f32], scale: f32) {
    let max = live
        .iter()
        .fold(f32::NEG_INFINITY, |m, &x| m.max(x * scale));
    let mut sum = 0f32;
    for x in live.iter_mut() {
        *x = exp_nonpositive(*x * scale - max);
        sum += *x;
    }
    let inv = 1.0 / sum;
    live.iter_mut().for_each(|x| *x *= inv);
}

/// `eˣ` in 16 lanes for `x ≤ 0`; see the module docs.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn exp_lanes(x: __m512) -> __m512 {
    let x = _mm512_max_ps(x, _mm512_set1_ps(EXP_FLOOR));
    // Round to nearest (imm 0x08: to nearest, exceptions suppressed).
    let n =
        _mm512_roundscale_ps::<0x08>(_mm512_mul_ps(x, _mm512_set1_ps(std::f32::consts::LOG2_E)));
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_HI), x);
    let r = _mm512_fnmadd_ps(n, _mm512_set1_ps(LN2_LO), r);
    let mut p = _mm512_set1_ps(TAYLOR[0]);
    for c in &TAYLOR[1..] {
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(*c));
    }
    let one = _mm512_set1_ps(1.0);
    p = _mm512_fmadd_ps(_mm512_fmadd_ps(p, r, one), r, one);
    _mm512_scalef_ps(p, n)
}

/// The lanes of the chunk at `at` (16 or, at the end, fewer: `mask`).
#[cfg(target_arch = "x86_64")]
fn chunk_mask(len: usize, at: usize) -> __mmask16 {
    let lanes = (len - at).min(16);
    ((1u32 << lanes) - 1) as u16
}

/// `row[i] ← row[i]·scale` in place; returns the largest (−∞ for an empty row).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn scale_and_max_avx512(row: &mut [f32], scale: f32) -> f32 {
    let len = row.len();
    let ptr = row.as_mut_ptr();
    let scale = _mm512_set1_ps(scale);
    let low = _mm512_set1_ps(f32::NEG_INFINITY);
    let mut max = low;
    for at in (0..len).step_by(16) {
        let mask = chunk_mask(len, at);
        // SAFETY: the mask keeps the lanes at `at..min(at + 16, len)`, inside `row`.
        unsafe {
            let x = _mm512_mul_ps(_mm512_mask_loadu_ps(low, mask, ptr.add(at)), scale);
            _mm512_mask_storeu_ps(ptr.add(at), mask, x);
            max = _mm512_max_ps(max, x);
        }
    }
    _mm512_reduce_max_ps(max)
}

/// `row[i] ← e^(row[i] − max)` in place (`row[i] ≤ max`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn exp_shifted_avx512(row: &mut [f32], max: f32) {
    let len = row.len();
    let ptr = row.as_mut_ptr();
    let max = _mm512_set1_ps(max);
    for at in (0..len).step_by(16) {
        let mask = chunk_mask(len, at);
        // SAFETY: the mask keeps the lanes at `at..min(at + 16, len)`, inside `row`.
        unsafe {
            let x = _mm512_maskz_loadu_ps(mask, ptr.add(at));
            let e = exp_lanes(_mm512_sub_ps(x, max));
            _mm512_mask_storeu_ps(ptr.add(at), mask, e);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn softmax_avx512(live: &mut [f32], scale: f32) {
    let len = live.len();
    let low = _mm512_set1_ps(f32::NEG_INFINITY);
    let max = scale_and_max_avx512(live, scale);
    exp_shifted_avx512(live, max);
    let ptr = live.as_mut_ptr();
    let mut sum = _mm512_setzero_ps();
    for at in (0..len).step_by(16) {
        let mask = chunk_mask(len, at);
        // SAFETY: the mask keeps the lanes at `at..min(at + 16, len)`, inside `live`.
        sum = _mm512_add_ps(sum, unsafe { _mm512_maskz_loadu_ps(mask, ptr.add(at)) });
    }
    let inv = _mm512_set1_ps(1.0 / _mm512_reduce_add_ps(sum));
    for at in (0..len).step_by(16) {
        let mask = chunk_mask(len, at);
        // SAFETY: as above.
        unsafe {
            let e = _mm512_mask_loadu_ps(low, mask, ptr.add(at));
            _mm512_mask_storeu_ps(ptr.add(at), mask, _mm512_mul_ps(e, inv));
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn shifted_exponentials_avx512(row: &mut [f32], scale: f32) -> (f32, f64) {
    let len = row.len();
    let top = scale_and_max_avx512(row, scale);
    exp_shifted_avx512(row, top);
    let ptr = row.as_ptr();
    // Lanes 0–7 and 8–15, in f64.
    let (mut low_sum, mut high_sum) = (_mm512_setzero_pd(), _mm512_setzero_pd());
    for at in (0..len).step_by(16) {
        let mask = chunk_mask(len, at);
        // SAFETY: the mask keeps the lanes at `at..min(at + 16, len)`, inside `row`.
        unsafe {
            let e = _mm512_maskz_loadu_ps(mask, ptr.add(at));
            let high = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(e)));
            low_sum = _mm512_add_pd(low_sum, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
            high_sum = _mm512_add_pd(high_sum, _mm512_cvtps_pd(high));
        }
    }
    let mut lanes = [0f64; 16];
    // SAFETY: `lanes` holds 16 doubles.
    unsafe {
        _mm512_storeu_pd(lanes.as_mut_ptr(), low_sum);
        _mm512_storeu_pd(lanes.as_mut_ptr().add(8), high_sum);
    }
    (top, lanes.iter().sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exponential_is_within_two_roundings_of_f64() {
        let mut x = 0f32;
        while x > -110.0 {
            let want = f64::from(x).exp();
            let got = f64::from(exp_nonpositive(x));
            if x > -87.0 {
                assert!(
                    (got - want).abs() <= 2.5e-7 * want,
                    "e^{x}: {got} vs {want}"
                );
            } else {
                assert!((got - want).abs() <= 2e-38, "e^{x}: {got} vs {want}");
            }
            x -= 0.0137;
        }
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(f32::NEG_INFINITY), 0.0);
    }

    fn row(len: usize, seed: f32) -> Vec<f32> {
        (0..len)
            .map(|i| ((i as f32 + seed) * 0.77).sin() * 9.0)
            .collect()
    }

    #[test]
    fn softmax_matches_f64_and_zeroes_the_masked_tail() {
        for (len, valid) in [(1, 1), (5, 3), (16, 16), (17, 17), (40, 33), (1300, 1299)] {
            let x = row(len, len as f32);
            let scale = 0.125;
            let mut got = x.clone();
            fast_causal_softmax(&mut got, valid, scale);
            let mut portable = x.clone();
            portable[valid..].fill(0.0);
            softmax_portable(&mut portable[..valid], scale);
            let max = x[..valid]
                .iter()
                .fold(f64::MIN, |m, &v| m.max(f64::from(v * scale)));
            let exps: Vec<f64> = x[..valid]
                .iter()
                .map(|&v| (f64::from(v * scale) - max).exp())
                .collect();
            let total: f64 = exps.iter().sum();
            for (i, (&g, &p)) in got.iter().zip(&portable).enumerate() {
                let want = if i < valid { exps[i] / total } else { 0.0 };
                for (name, value) in [("vector", g), ("portable", p)] {
                    assert!(
                        (f64::from(value) - want).abs() <= 1e-6 * want + 1e-9,
                        "{name} {len}/{valid} at {i}: {value} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn shifted_exponentials_agree_on_both_paths_and_with_f64() {
        for len in [1, 7, 16, 33, 1000, 49_152] {
            let x = row(len, 3.0);
            let scale = 0.8;
            let mut vector = x.clone();
            let (max, sum) = shifted_exponentials(&mut vector, scale);
            let mut portable = x.clone();
            let (pmax, psum) = shifted_exponentials_portable(&mut portable, scale);
            assert_eq!((max, sum), (pmax, psum), "len {len}");
            assert_eq!(vector, portable, "len {len}");
            let top = x.iter().fold(f32::MIN, |m, &v| m.max(v * scale));
            assert_eq!(max, top);
            let exact: Vec<f64> = x
                .iter()
                .map(|&v| f64::from(v * scale - top).exp())
                .collect();
            for (i, (&got, want)) in vector.iter().zip(&exact).enumerate() {
                assert!(
                    (f64::from(got) - want).abs() <= 2.5e-7 * want,
                    "{len} at {i}"
                );
            }
            let total: f64 = exact.iter().sum();
            assert!(
                (sum - total).abs() <= 3e-7 * total,
                "{len}: {sum} vs {total}"
            );
        }
        assert_eq!(shifted_exponentials(&mut [], 1.0), (f32::NEG_INFINITY, 0.0));
    }

    #[test]
    fn vector_exp_is_within_two_ulp_and_exact_at_zero() {
        assert_eq!(vector_exp(0.0), 1.0);
        assert!(vector_exp(f32::NAN).is_nan());
        assert!(vector_exp(f32::NEG_INFINITY) < 1e-37);
        let mut worst = 0f64;
        for i in 0..=1_750_000 {
            let x = -87.0 + f64::from(i) * 1e-4;
            let xf = x as f32;
            let exact = f64::from(xf).exp();
            let rel = (f64::from(vector_exp(xf)) - exact).abs() / exact;
            worst = worst.max(rel);
        }
        // 2 ulp of f32 is 2 · 2⁻²³ relative at most.
        assert!(
            worst <= 2.0 * f64::from(f32::EPSILON),
            "worst relative error {worst:e}"
        );
    }

    #[test]
    fn vector_exp_builds_its_power_of_two_as_a_float_to_int_conversion_would() {
        // The factor 2ⁿ from `n as i32`, as the function computed it before it took `n`'s
        // integer bits: the results must agree bit for bit on every 61st f32 in [−100, 100]
        // (the clamp's edges and beyond; ~36 million), infinities included.
        fn with_conversion(x: f32) -> f32 {
            let (shifted, p) = vector_exp_parts(x);
            let n = shifted - VECTOR_EXP_ROUND;
            p * f32::from_bits(((n as i32 + 127) as u32) << 23)
        }
        let mut x = -100f32;
        while x <= 100.0 {
            assert_eq!(
                vector_exp(x).to_bits(),
                with_conversion(x).to_bits(),
                "x = {x}"
            );
            x = if x < -1e-30 {
                f32::from_bits(x.to_bits() - 61)
            } else if x < 1e-30 {
                1e-30
            } else {
                f32::from_bits(x.to_bits() + 61)
            };
        }
        for x in [f32::INFINITY, f32::NEG_INFINITY, f32::MAX, f32::MIN] {
            assert_eq!(
                vector_exp(x).to_bits(),
                with_conversion(x).to_bits(),
                "x = {x}"
            );
        }
    }
}

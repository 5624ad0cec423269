//! f32 → bf16 rounding, the only place where the AMX backend loses precision.
//!
//! bf16 keeps f32's sign and 8-bit exponent and the top 7 of its 23 mantissa bits, so a value is
//! its f32 bit pattern's upper half after rounding the lower half away. Rounding is to nearest,
//! ties to even (as PyTorch, oneDNN and the `vcvtneps2bf16` instruction do); NaNs stay NaN (their
//! quiet bit is set so that truncating a signalling NaN's payload cannot turn it into ±inf);
//! ±inf stay ±inf, and finite values past bf16's largest (about 3.39e38) round to ±inf.
//! Subnormals are rounded like the rest; the AMX `tdpbf16ps` instruction then reads bf16
//! subnormal inputs as zero and flushes subnormal results to zero, whatever MXCSR says.

/// The bf16 bit pattern nearest to `x` (ties to even), NaN kept NaN.
#[inline(always)]
pub(crate) fn f32_to_bf16_bits(x: f32) -> u16 {
    let bits = x.to_bits();
    let is_nan = bits & 0x7FFF_FFFF > 0x7F80_0000;
    // Adding 0x7FFF plus the lowest kept bit rounds to nearest, ties to even; for finite values
    // and infinities it cannot overflow past the sign bit (0x7F7F_FFFF + 0x8000 = 0x7F80_7FFF).
    let rounded = bits.wrapping_add(0x7FFF + ((bits >> 16) & 1)) >> 16;
    let quiet_nan = (bits >> 16) | 0x0040;
    (if is_nan { quiet_nan } else { rounded }) as u16
}

/// `x` rounded to the nearest bf16 (ties to even; NaN stays NaN, overflow goes to ±inf), as an
/// f32: the operand values the AMX backend multiplies. Tests use it to build exact references.
pub fn round_to_bf16(x: f32) -> f32 {
    f32::from_bits(u32::from(f32_to_bf16_bits(x)) << 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_to_nearest_even() {
        // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1).
        assert_eq!(round_to_bf16(1.0 + 2f32.powi(-8)), 1.0);
        // 1 + 3·2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: even is 1 + 2^-6.
        assert_eq!(
            round_to_bf16(1.0 + 3.0 * 2f32.powi(-8)),
            1.0 + 2f32.powi(-6)
        );
        // Just above the halfway point rounds up.
        assert_eq!(
            round_to_bf16(1.0 + 2f32.powi(-8) + 2f32.powi(-20)),
            1.0 + 2f32.powi(-7)
        );
        assert_eq!(round_to_bf16(-1.5), -1.5);
        assert_eq!(round_to_bf16(0.0).to_bits(), 0);
        assert_eq!(round_to_bf16(-0.0).to_bits(), (-0.0f32).to_bits());
    }

    #[test]
    fn specials_survive() {
        assert!(round_to_bf16(f32::NAN).is_nan());
        // A NaN whose payload lives only in the low half must not become an infinity.
        assert!(round_to_bf16(f32::from_bits(0x7F80_0001)).is_nan());
        assert!(round_to_bf16(f32::from_bits(0xFF80_0001)).is_nan());
        assert_eq!(round_to_bf16(f32::INFINITY), f32::INFINITY);
        assert_eq!(round_to_bf16(f32::NEG_INFINITY), f32::NEG_INFINITY);
        assert_eq!(round_to_bf16(f32::MAX), f32::INFINITY);
        assert_eq!(round_to_bf16(f32::MIN), f32::NEG_INFINITY);
    }

    #[test]
    fn relative_error_is_at_most_half_an_ulp() {
        let mut x = 1.0e-30f32;
        while x < 1.0e30 {
            for v in [x, -x] {
                let r = round_to_bf16(v);
                assert!(((r - v) / v).abs() <= 2f32.powi(-8), "{v} -> {r}");
            }
            x *= 1.37;
        }
    }
}

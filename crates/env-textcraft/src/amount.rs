//! Item counts with Python's unbounded integers.
//!
//! The reference parses counts with `int(...)`, so `get 99999999999999999999999 stick` succeeds and
//! the inventory shows that exact number. Counts here are a `u64` on the fast path and fall back to
//! a decimal digit string only when a count outgrows it, so no reply can overflow or panic.

use std::cmp::Ordering;
use std::fmt;

/// A non-negative item count of any size.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Amount {
    /// A count that fits in a `u64` (every count in a sane episode).
    Small(u64),
    /// A larger count: its decimal digits, most significant first, no leading zero.
    Big(Box<[u8]>),
}

impl Amount {
    /// Zero.
    pub const ZERO: Amount = Amount::Small(0);

    /// Parses a non-empty string of ASCII digits the way Python's `int()` does (leading zeros
    /// allowed). Returns `None` for an empty string or any other character.
    pub fn parse_digits(digits: &str) -> Option<Amount> {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let trimmed = digits.trim_start_matches('0');
        if trimmed.len() <= 19 {
            // 19 digits always fit in a u64.
            return Some(Amount::Small(trimmed.parse().unwrap_or(0)));
        }
        match trimmed.parse::<u64>() {
            Ok(value) => Some(Amount::Small(value)),
            Err(_) => Some(Amount::Big(trimmed.bytes().map(|b| b - b'0').collect())),
        }
    }

    /// The count as a `u64`, if it fits.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Amount::Small(value) => Some(*value),
            Amount::Big(_) => None,
        }
    }

    /// Whether the count is zero.
    pub fn is_zero(&self) -> bool {
        matches!(self, Amount::Small(0))
    }

    /// `self + other`.
    pub fn add(&self, other: &Amount) -> Amount {
        if let (Amount::Small(a), Amount::Small(b)) = (self, other)
            && let Some(sum) = a.checked_add(*b)
        {
            return Amount::Small(sum);
        }
        let (a, b) = (self.digits(), other.digits());
        let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
        let mut carry = 0u8;
        let (mut i, mut j) = (a.len(), b.len());
        while i > 0 || j > 0 || carry > 0 {
            let mut sum = carry;
            if i > 0 {
                i -= 1;
                sum += a[i];
            }
            if j > 0 {
                j -= 1;
                sum += b[j];
            }
            out.push(sum % 10);
            carry = sum / 10;
        }
        out.reverse();
        Amount::from_digits(out)
    }

    /// `self - other`, or `None` when `other > self`.
    pub fn checked_sub(&self, other: &Amount) -> Option<Amount> {
        if let (Amount::Small(a), Amount::Small(b)) = (self, other) {
            return a.checked_sub(*b).map(Amount::Small);
        }
        if self < other {
            return None;
        }
        let (a, b) = (self.digits(), other.digits());
        let mut out = Vec::with_capacity(a.len());
        let mut borrow = 0i16;
        let mut j = b.len();
        for i in (0..a.len()).rev() {
            let sub = if j > 0 {
                j -= 1;
                i16::from(b[j])
            } else {
                0
            };
            let mut digit = i16::from(a[i]) - sub - borrow;
            borrow = 0;
            if digit < 0 {
                digit += 10;
                borrow = 1;
            }
            out.push(digit as u8);
        }
        out.reverse();
        Some(Amount::from_digits(out))
    }

    fn digits(&self) -> Vec<u8> {
        match self {
            Amount::Small(value) => value.to_string().bytes().map(|b| b - b'0').collect(),
            Amount::Big(digits) => digits.to_vec(),
        }
    }

    fn from_digits(digits: Vec<u8>) -> Amount {
        let start = digits.iter().position(|d| *d != 0).unwrap_or(digits.len());
        let digits = &digits[start..];
        if digits.len() <= 19 {
            let value = digits.iter().fold(0u64, |acc, d| acc * 10 + u64::from(*d));
            return Amount::Small(value);
        }
        let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
        match text.parse::<u64>() {
            Ok(value) => Amount::Small(value),
            Err(_) => Amount::Big(digits.into()),
        }
    }
}

impl From<u64> for Amount {
    fn from(value: u64) -> Self {
        Amount::Small(value)
    }
}

impl PartialOrd for Amount {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Amount {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Amount::Small(a), Amount::Small(b)) => a.cmp(b),
            // Big is always larger than any u64 (it is only used past u64::MAX).
            (Amount::Small(_), Amount::Big(_)) => Ordering::Less,
            (Amount::Big(_), Amount::Small(_)) => Ordering::Greater,
            (Amount::Big(a), Amount::Big(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
        }
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Amount::Small(value) => value.fmt(f),
            Amount::Big(digits) => {
                for digit in digits.iter() {
                    fmt::Write::write_char(f, char::from(b'0' + digit))?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(text: &str) -> Amount {
        Amount::parse_digits(text).unwrap()
    }

    #[test]
    fn parses_like_python_int() {
        assert_eq!(amount("007"), Amount::Small(7));
        assert_eq!(amount("0"), Amount::ZERO);
        assert_eq!(amount("000"), Amount::ZERO);
        assert_eq!(
            amount("18446744073709551615"),
            Amount::Small(u64::MAX),
            "u64::MAX stays small"
        );
        assert!(matches!(amount("18446744073709551616"), Amount::Big(_)));
        assert_eq!(
            amount("0099999999999999999999999").to_string(),
            "99999999999999999999999"
        );
        assert_eq!(Amount::parse_digits(""), None);
        assert_eq!(Amount::parse_digits("1a"), None);
        assert_eq!(Amount::parse_digits("-1"), None);
    }

    #[test]
    fn big_arithmetic_round_trips() {
        let max = Amount::Small(u64::MAX);
        let big = max.add(&Amount::Small(1));
        assert_eq!(big.to_string(), "18446744073709551616");
        assert!(big > max);
        assert_eq!(big.checked_sub(&Amount::Small(1)), Some(max.clone()));
        assert_eq!(max.checked_sub(&big), None);
        let huge = amount("99999999999999999999999");
        assert_eq!(huge.add(&huge).to_string(), "199999999999999999999998");
        assert_eq!(huge.checked_sub(&huge), Some(Amount::ZERO));
        assert!(huge < huge.add(&Amount::Small(1)));
        assert_eq!(Amount::Small(5).checked_sub(&Amount::Small(6)), None);
    }
}

//! Strict parsing of byte sizes such as `"100MB"`, `"512KiB"` or `"4096"`.
//!
//! Meant for configuration strings (files, environment variables, command-line flags):
//! anything that is not clearly a size is rejected with a [`SizeError`] that quotes the
//! input and names the rule it broke. Nothing is guessed, clamped or wrapped.
//!
//! # Grammar
//!
//! After trimming ASCII whitespace at both ends, a size is
//!
//! ```text
//! DIGITS [ "." DIGITS ] [ " " ] [ UNIT ]
//! ```
//!
//! - `DIGITS` are ASCII decimal digits; leading zeros are fine (`"007"` is 7).
//! - At most one ASCII space between the number and the unit (`"10 MB"`).
//! - The unit is matched case-insensitively: `b` is `B`, `kib` is `KiB`. Lethe never counts
//!   bits, so there is no `b`/`B` distinction. No unit means bytes.
//! - A fraction is accepted only when the result is a whole number of bytes:
//!   `"1.5KiB"` is 1536, `"0.5KB"` is 500, but `"0.1B"` and `"1.0001KiB"` are rejected
//!   ([`SizeErrorKind::InexactFraction`]). Nothing is rounded.
//! - Zero is a valid size (`"0"`, `"0KiB"`); callers check their own ranges.
//! - Rejected: signs (`"-5"`, `"+5"`), exponents (`"1e3"`), digit separators (`"1_000"`,
//!   `"1,000"`), a fraction without a leading digit (`".5K"`), two spaces, and anything
//!   after the unit (`"10MB10"`, `"10MB; rm -rf /"`).
//!
//! # Units
//!
//! Decimal (SI) units are powers of 1000, binary (IEC) units are powers of 1024:
//!
//! | unit (any case) | bytes | | unit (any case) | bytes |
//! |---|---|---|---|---|
//! | *(none)*, `B` | 1 | | | |
//! | `K`, `KB` | 1000 | | `Ki`, `KiB` | 1024 |
//! | `M`, `MB` | 1000² | | `Mi`, `MiB` | 1024² |
//! | `G`, `GB` | 1000³ | | `Gi`, `GiB` | 1024³ |
//! | `T`, `TB` | 1000⁴ | | `Ti`, `TiB` | 1024⁴ |
//! | `P`, `PB` | 1000⁵ | | `Pi`, `PiB` | 1024⁵ |
//! | `E`, `EB` | 1000⁶ | | `Ei`, `EiB` | 1024⁶ |
//!
//! The largest size is `u64::MAX` bytes (16 EiB − 1); anything larger is
//! [`SizeErrorKind::Overflow`].
//!
//! # Errors
//!
//! | input | [`SizeErrorKind`] |
//! |---|---|
//! | `""`, `"   "` | `Empty` |
//! | `"10\0MB"` | `NulByte` |
//! | `"-5MB"` | `Negative` |
//! | `"MB"`, `".5K"`, `"5.K"` | `InvalidNumber` |
//! | `"+5"`, `"1e3"`, `"10MB10"`, `"10MB; rm -rf /"`, `"10  MB"` | `InvalidCharacter` |
//! | `"10XB"`, `"10 bytes"` | `UnknownUnit` |
//! | `"0.1B"` | `InexactFraction` |
//! | `"16EiB"`, `"99999999999999999999"` | `Overflow` |
//!
//! When an input breaks several rules, the first one in reading order is reported, except
//! that the unit is checked before what follows it (so `"10XB; junk"` is `UnknownUnit`) and
//! the arithmetic (`Overflow`, `InexactFraction`) only after the whole syntax is valid.
//!
//! # Examples
//!
//! ```
//! use lethe_core::size::{parse_size, ByteSize, SizeErrorKind};
//!
//! assert_eq!(parse_size("100MB"), Ok(100_000_000));
//! assert_eq!(parse_size("512 KiB"), Ok(512 * 1024));
//! assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
//!
//! let err = parse_size("10XB").unwrap_err();
//! assert_eq!(err.kind(), SizeErrorKind::UnknownUnit);
//! assert!(err.to_string().starts_with(r#"invalid size "10XB": unknown unit "XB""#));
//!
//! let size: ByteSize = "1048576".parse()?;
//! assert_eq!(size.to_string(), "1MiB");
//! # Ok::<(), lethe_core::size::SizeError>(())
//! ```

use core::fmt;
use core::str::FromStr;

use crate::snippet::Snippet;

/// Units as (name, multiplier), matched case-insensitively. Empty means bytes.
const UNITS: [(&str, u64); 26] = [
    ("", 1),
    ("b", 1),
    ("k", KB),
    ("kb", KB),
    ("ki", KIB),
    ("kib", KIB),
    ("m", KB.pow(2)),
    ("mb", KB.pow(2)),
    ("mi", KIB.pow(2)),
    ("mib", KIB.pow(2)),
    ("g", KB.pow(3)),
    ("gb", KB.pow(3)),
    ("gi", KIB.pow(3)),
    ("gib", KIB.pow(3)),
    ("t", KB.pow(4)),
    ("tb", KB.pow(4)),
    ("ti", KIB.pow(4)),
    ("tib", KIB.pow(4)),
    ("p", KB.pow(5)),
    ("pb", KB.pow(5)),
    ("pi", KIB.pow(5)),
    ("pib", KIB.pow(5)),
    ("e", KB.pow(6)),
    ("eb", KB.pow(6)),
    ("ei", KIB.pow(6)),
    ("eib", KIB.pow(6)),
];

const KB: u64 = 1000;
const KIB: u64 = 1024;

/// Units [`ByteSize`]'s `Display` may print, as (name, multiplier).
const DISPLAY_UNITS: [(&str, u64); 12] = [
    ("KiB", KIB),
    ("MiB", KIB.pow(2)),
    ("GiB", KIB.pow(3)),
    ("TiB", KIB.pow(4)),
    ("PiB", KIB.pow(5)),
    ("EiB", KIB.pow(6)),
    ("KB", KB),
    ("MB", KB.pow(2)),
    ("GB", KB.pow(3)),
    ("TB", KB.pow(4)),
    ("PB", KB.pow(5)),
    ("EB", KB.pow(6)),
];

const EXPECTED_UNITS: &str = "expected B, K/KB, Ki/KiB, M/MB, Mi/MiB, G/GB, Gi/GiB, T/TB, Ti/TiB, \
     P/PB, Pi/PiB, E/EB or Ei/EiB, in any case";

/// Parses a byte size such as `"100MB"`, `"512KiB"`, `"1.5G"` or `"4096"`.
///
/// See the [module documentation](self) for the exact grammar and the unit table.
///
/// # Errors
///
/// A [`SizeError`] whose [`kind`](SizeError::kind) says which rule the input broke and whose
/// `Display` quotes the input.
///
/// # Examples
///
/// ```
/// use lethe_core::size::{parse_size, SizeErrorKind};
///
/// assert_eq!(parse_size(" 64k "), Ok(64_000));
/// assert_eq!(parse_size("0.5KiB"), Ok(512));
/// assert_eq!(parse_size("0.1B").unwrap_err().kind(), SizeErrorKind::InexactFraction);
/// assert_eq!(parse_size("10MB; rm -rf /").unwrap_err().kind(), SizeErrorKind::InvalidCharacter);
/// ```
pub fn parse_size(s: &str) -> Result<u64, SizeError> {
    let err = |kind, position: usize, found: &str, rule| SizeError {
        kind,
        rule,
        position,
        input: Snippet::new(s),
        found: Snippet::new(found),
    };
    if let Some(p) = s.bytes().position(|b| b == 0) {
        return Err(err(
            SizeErrorKind::NulByte,
            p,
            "\0",
            "a NUL byte is never part of a size",
        ));
    }
    let t = s.trim_ascii();
    if t.is_empty() {
        return Err(err(
            SizeErrorKind::Empty,
            0,
            "",
            "expected a number with an optional unit, e.g. \"100MB\"",
        ));
    }
    // Byte offset of `t` in `s`, for positions in errors.
    let base = s.len() - s.trim_ascii_start().len();
    // Every token boundary below sits next to an ASCII byte, so `get` never returns `None`
    // for the ranges used; the fallbacks only keep the code panic-free.
    let rest = |from: usize| t.get(from..).unwrap_or("");
    let first_char = |from: usize| rest(from).chars().next().unwrap_or('\0');
    let char_str = |from: usize| {
        let len = first_char(from).len_utf8();
        t.get(from..from + len).unwrap_or("")
    };

    let int_end = count_digits(t, 0);
    if int_end == 0 {
        let (kind, rule) = match first_char(0) {
            '-' => (SizeErrorKind::Negative, "sizes cannot be negative"),
            '+' => (
                SizeErrorKind::InvalidCharacter,
                "a size starts with a decimal digit; no '+' sign is accepted",
            ),
            '.' => (
                SizeErrorKind::InvalidNumber,
                "a fraction needs a digit before the point, e.g. \"0.5KiB\"",
            ),
            c if c.is_ascii_alphabetic() => (
                SizeErrorKind::InvalidNumber,
                "a size starts with a number, e.g. \"100MB\"",
            ),
            _ => (
                SizeErrorKind::InvalidCharacter,
                "a size starts with a decimal digit",
            ),
        };
        return Err(err(kind, base, char_str(0), rule));
    }
    let mut end = int_end;
    let mut frac = "";
    if t.as_bytes().get(end) == Some(&b'.') {
        let frac_end = end + 1 + count_digits(t, end + 1);
        if frac_end == end + 1 {
            return Err(err(
                SizeErrorKind::InvalidNumber,
                base + end,
                ".",
                "a decimal point must be followed by digits, e.g. \"1.5GiB\"",
            ));
        }
        frac = t.get(end + 1..frac_end).unwrap_or("");
        end = frac_end;
    }
    let unit_start = if t.as_bytes().get(end) == Some(&b' ') {
        end + 1
    } else {
        end
    };
    let unit_end = unit_start
        + rest(unit_start)
            .bytes()
            .take_while(u8::is_ascii_alphabetic)
            .count();
    let unit = t.get(unit_start..unit_end).unwrap_or("");
    let Some(mult) = unit_multiplier(unit) else {
        return Err(err(
            SizeErrorKind::UnknownUnit,
            base + unit_start,
            unit,
            EXPECTED_UNITS,
        ));
    };
    if unit_end < t.len() {
        return Err(err(
            SizeErrorKind::InvalidCharacter,
            base + unit_end,
            char_str(unit_end),
            "nothing may follow the unit (one optional space before it; no exponents, \
             separators or second number)",
        ));
    }

    let overflow = || {
        err(
            SizeErrorKind::Overflow,
            base,
            t,
            "the largest size is 18446744073709551615 bytes (16EiB - 1)",
        )
    };
    let int = t
        .get(..int_end)
        .unwrap_or("")
        .bytes()
        .try_fold(0u64, |acc, d| {
            acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
        .ok_or_else(overflow)?;
    let frac_bytes = fraction_times(frac, mult).ok_or_else(|| {
        err(
            SizeErrorKind::InexactFraction,
            base + int_end,
            frac,
            "a fraction is accepted only when it gives a whole number of bytes, \
             e.g. \"1.5KiB\" = 1536",
        )
    })?;
    int.checked_mul(mult)
        .and_then(|v| v.checked_add(frac_bytes))
        .ok_or_else(overflow)
}

/// Number of ASCII digits at the start of `t[from..]`.
fn count_digits(t: &str, from: usize) -> usize {
    t.as_bytes()
        .get(from..)
        .unwrap_or(&[])
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count()
}

fn unit_multiplier(unit: &str) -> Option<u64> {
    UNITS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(unit))
        .map(|&(_, mult)| mult)
}

/// `0.<digits> * mult` if that is a whole number, else `None`. The result is below `mult`.
///
/// Horner's scheme from the last digit: `v = d * mult + v / 10`. If any division by 10 is
/// inexact, the running value has a non-integer part that no later step can cancel (it is
/// only ever divided by 10 and added to integers), so the final value is not whole either.
/// Each `v` stays below `10 * mult`, which fits in `u128` (and in fact in `u64`).
fn fraction_times(digits: &str, mult: u64) -> Option<u64> {
    let mult = u128::from(mult);
    let mut v: u128 = 0;
    for d in digits.bytes().rev() {
        if !v.is_multiple_of(10) {
            return None;
        }
        v = u128::from(d - b'0') * mult + v / 10;
    }
    if !v.is_multiple_of(10) {
        return None;
    }
    u64::try_from(v / 10).ok()
}

/// Why a size was rejected; see the [module documentation](self) for examples.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SizeErrorKind {
    /// The input is empty or only whitespace.
    Empty,
    /// The input contains a NUL byte.
    NulByte,
    /// The input starts with `-`.
    Negative,
    /// The number is missing (`"MB"`) or malformed (`".5K"`, `"5.K"`).
    InvalidNumber,
    /// A character that may not appear there: a leading `+`, or anything after the unit.
    InvalidCharacter,
    /// The unit is not in the unit table.
    UnknownUnit,
    /// A fraction that does not give a whole number of bytes (`"0.1B"`).
    InexactFraction,
    /// The value exceeds `u64::MAX` bytes.
    Overflow,
}

/// The error returned by [`parse_size`] and [`ByteSize::from_str`].
///
/// It owns a copy of the first 32 bytes of the input (longer inputs are shown with a
/// trailing `…`), so it can be returned and displayed without borrowing or allocating.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SizeError {
    kind: SizeErrorKind,
    rule: &'static str,
    position: usize,
    input: Snippet<32>,
    found: Snippet<16>,
}

impl SizeError {
    /// Which rule the input broke.
    pub fn kind(&self) -> SizeErrorKind {
        self.kind
    }

    /// Byte offset, in the original (untrimmed) input, of the part that was rejected: the
    /// offending character, the start of the unknown unit or of the bad fraction; the start
    /// of the number for `Overflow`, and 0 for `Empty`.
    pub fn position(&self) -> usize {
        self.position
    }

    /// The start of the rejected input (at most 32 bytes, cut on a character boundary).
    pub fn input(&self) -> &str {
        self.input.as_str()
    }
}

impl fmt::Display for SizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid size {}: ", self.input)?;
        let (pos, found) = (self.position, &self.found);
        match self.kind {
            SizeErrorKind::Empty => f.write_str("empty input")?,
            SizeErrorKind::NulByte => write!(f, "NUL byte at offset {pos}")?,
            SizeErrorKind::Negative => write!(f, "negative sign at offset {pos}")?,
            SizeErrorKind::InvalidNumber => {
                write!(f, "invalid number at offset {pos}, found {found}")?;
            }
            SizeErrorKind::InvalidCharacter => {
                write!(f, "unexpected character {found} at offset {pos}")?;
            }
            SizeErrorKind::UnknownUnit => write!(f, "unknown unit {found}")?,
            SizeErrorKind::InexactFraction => {
                write!(
                    f,
                    "fraction .{} is not a whole number of bytes",
                    found.as_str()
                )?;
                if found.is_truncated() {
                    f.write_str("…")?;
                }
            }
            SizeErrorKind::Overflow => f.write_str("too large")?,
        }
        write!(f, " ({})", self.rule)
    }
}

impl core::error::Error for SizeError {}

/// A number of bytes that parses from and displays as a human-readable size.
///
/// `FromStr` accepts exactly what [`parse_size`] accepts. `Display` prints a canonical form
/// that parses back to the same value: the exact unit (IEC or SI) that gives the smallest
/// whole number, or plain bytes (`"0B"`, `"1536B"`, `"1MiB"`, `"100MB"`, `"1000KiB"`).
///
/// # Examples
///
/// ```
/// use lethe_core::size::ByteSize;
///
/// let max: ByteSize = "100MB".parse()?;
/// assert_eq!(max.as_u64(), 100_000_000);
/// assert_eq!(max.to_string(), "100MB");
/// assert_eq!(ByteSize(3 << 29).to_string(), "1536MiB");
/// assert_eq!(ByteSize(1536).to_string().parse::<ByteSize>()?, ByteSize(1536));
/// # Ok::<(), lethe_core::size::SizeError>(())
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// The number of bytes.
    pub const fn as_u64(self) -> u64 {
        self.0
    }
}

impl From<u64> for ByteSize {
    fn from(bytes: u64) -> Self {
        ByteSize(bytes)
    }
}

impl From<ByteSize> for u64 {
    fn from(size: ByteSize) -> Self {
        size.0
    }
}

impl FromStr for ByteSize {
    type Err = SizeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_size(s).map(ByteSize)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut best = (self.0, "B");
        if self.0 != 0 {
            for &(name, mult) in &DISPLAY_UNITS {
                if self.0.is_multiple_of(mult) && self.0 / mult < best.0 {
                    best = (self.0 / mult, name);
                }
            }
        }
        write!(f, "{}{}", best.0, best.1)
    }
}

#[cfg(test)]
#[allow(clippy::std_instead_of_alloc)] // `alloc` is only linked with its feature
mod tests {
    use super::*;
    use std::string::ToString;

    const KI: u64 = 1024;
    const MI: u64 = 1024 * 1024;
    const GI: u64 = 1024 * 1024 * 1024;

    #[test]
    fn accepted_forms() {
        let cases: &[(&str, u64)] = &[
            ("0", 0),
            ("0B", 0),
            ("0KiB", 0),
            ("4096", 4096),
            ("007", 7),
            ("4096B", 4096),
            ("4096b", 4096),
            ("64k", 64_000),
            ("64K", 64_000),
            ("64KB", 64_000),
            ("64kb", 64_000),
            ("512KiB", 512 * KI),
            ("512kib", 512 * KI),
            ("512KIB", 512 * KI),
            ("512Ki", 512 * KI),
            ("100MB", 100_000_000),
            ("100M", 100_000_000),
            ("100MiB", 100 * MI),
            ("1G", 1_000_000_000),
            ("1GB", 1_000_000_000),
            ("1GiB", GI),
            ("2T", 2_000_000_000_000),
            ("2TiB", 2 << 40),
            ("3PB", 3_000_000_000_000_000),
            ("3PiB", 3 << 50),
            ("15EB", 15_000_000_000_000_000_000),
            ("15EiB", 15 << 60),
            ("1e", 1_000_000_000_000_000_000),
            ("10 MB", 10_000_000),
            ("10 B", 10),
            ("  10MB\t\n", 10_000_000),
            ("1.5KiB", 1536),
            ("1.5GiB", 3 << 29),
            ("0.5KB", 500),
            ("0.5 KiB", 512),
            ("2.50MB", 2_500_000),
            ("1.0", 1),
            ("1.000B", 1),
            ("0.001KB", 1),
            ("0.0009765625KiB", 1),
            (
                "0.000000000000000000867361737988403547205962240695953369140625EiB",
                1,
            ),
            ("18446744073709551615", u64::MAX),
            ("18446744073709551615B", u64::MAX),
            ("00000000000000000000000000001", 1),
            ("18.446744073709551615EB", u64::MAX),
            ("10MB ", 10_000_000),
        ];
        for &(input, want) in cases {
            assert_eq!(parse_size(input), Ok(want), "{input:?}");
            assert_eq!(input.parse::<ByteSize>(), Ok(ByteSize(want)), "{input:?}");
        }
    }

    #[test]
    fn rejected_forms() {
        use SizeErrorKind::*;
        let cases: &[(&str, SizeErrorKind, usize)] = &[
            ("", Empty, 0),
            ("   \t", Empty, 0),
            ("10\0MB", NulByte, 2),
            ("\0", NulByte, 0),
            ("-5MB", Negative, 0),
            ("  -0", Negative, 2),
            ("MB", InvalidNumber, 0),
            ("KiB10", InvalidNumber, 0),
            (".5K", InvalidNumber, 0),
            ("5.K", InvalidNumber, 1),
            ("5.", InvalidNumber, 1),
            ("+5", InvalidCharacter, 0),
            ("_5", InvalidCharacter, 0),
            ("1e3", InvalidCharacter, 2),
            ("10MB10", InvalidCharacter, 4),
            ("10MB; rm -rf /", InvalidCharacter, 4),
            ("10  MB", InvalidCharacter, 3),
            ("10 5", InvalidCharacter, 3),
            ("1_000", InvalidCharacter, 1),
            ("1,000", InvalidCharacter, 1),
            ("1.2.3", InvalidCharacter, 3),
            ("10\u{a0}MB", InvalidCharacter, 2),
            ("10µB", InvalidCharacter, 2),
            // Only ASCII digits: Arabic-Indic and fullwidth digits are not numbers here.
            ("١٠MB", InvalidCharacter, 0),
            ("１０MB", InvalidCharacter, 0),
            ("1٠MB", InvalidCharacter, 1),
            ("10ＭB", InvalidCharacter, 2),
            ("10XB", UnknownUnit, 2),
            ("10 bytes", UnknownUnit, 3),
            ("10KIBI", UnknownUnit, 2),
            ("10XB; rm -rf /", UnknownUnit, 2),
            ("0.1B", InexactFraction, 1),
            ("0.1", InexactFraction, 1),
            ("1.0001KiB", InexactFraction, 1),
            ("0.0001KB", InexactFraction, 1),
            ("16EiB", Overflow, 0),
            ("19EB", Overflow, 0),
            ("18446744073709551616", Overflow, 0),
            ("99999999999999999999999999999999", Overflow, 0),
            ("18446744073709551615.5KiB", Overflow, 0),
            ("15.99999999999999999999EiB", InexactFraction, 2),
        ];
        for &(input, kind, position) in cases {
            let e = parse_size(input).expect_err(input);
            assert_eq!((e.kind(), e.position()), (kind, position), "{input:?}: {e}");
        }
    }

    #[test]
    fn display_names_input_and_rule() {
        let cases: &[(&str, &str)] = &[
            (
                "10XB",
                "invalid size \"10XB\": unknown unit \"XB\" (expected B, K/KB, Ki/KiB, M/MB, \
                 Mi/MiB, G/GB, Gi/GiB, T/TB, Ti/TiB, P/PB, Pi/PiB, E/EB or Ei/EiB, in any case)",
            ),
            (
                "10MB; rm -rf /",
                "invalid size \"10MB; rm -rf /\": unexpected character \";\" at offset 4 \
                 (nothing may follow the unit (one optional space before it; no exponents, \
                 separators or second number))",
            ),
            (
                "",
                "invalid size \"\": empty input (expected a number with an optional unit, \
                 e.g. \"100MB\")",
            ),
            (
                "-1",
                "invalid size \"-1\": negative sign at offset 0 (sizes cannot be negative)",
            ),
            (
                "0.1B",
                "invalid size \"0.1B\": fraction .1 is not a whole number of bytes (a fraction \
                 is accepted only when it gives a whole number of bytes, e.g. \"1.5KiB\" = 1536)",
            ),
            (
                "16EiB",
                "invalid size \"16EiB\": too large (the largest size is 18446744073709551615 \
                 bytes (16EiB - 1))",
            ),
            (
                "1\n\0",
                "invalid size \"1\\n\\0\": NUL byte at offset 2 (a NUL byte is never part of \
                 a size)",
            ),
            (
                "MB",
                "invalid size \"MB\": invalid number at offset 0, found \"M\" (a size starts \
                 with a number, e.g. \"100MB\")",
            ),
        ];
        for &(input, want) in cases {
            assert_eq!(parse_size(input).unwrap_err().to_string(), want);
        }
    }

    #[test]
    fn long_input_is_truncated_in_display() {
        let input = "1234567890123456789012345678901234567890XB";
        let e = parse_size(input).unwrap_err();
        assert_eq!(e.kind(), SizeErrorKind::UnknownUnit);
        assert_eq!(e.position(), 40);
        assert_eq!(e.input(), &input[..32]);
        assert!(e.to_string().starts_with(
            "invalid size \"12345678901234567890123456789012\"…: unknown unit \"XB\""
        ));
    }

    #[test]
    fn display_is_canonical() {
        let cases: &[(u64, &str)] = &[
            (0, "0B"),
            (1, "1B"),
            (1000, "1KB"),
            (1024, "1KiB"),
            (1536, "1536B"),
            (1_024_000, "1000KiB"),
            (100_000_000, "100MB"),
            (100 * MI, "100MiB"),
            (3 << 29, "1536MiB"),
            (15 << 60, "15EiB"),
            (u64::MAX, "18446744073709551615B"),
        ];
        for &(v, want) in cases {
            assert_eq!(ByteSize(v).to_string(), want);
            assert_eq!(parse_size(want), Ok(v));
        }
    }

    #[test]
    fn conversions() {
        assert_eq!(u64::from(ByteSize::from(5)), 5);
        assert_eq!(ByteSize(7).as_u64(), 7);
    }
}

//! Strict parsing of durations such as `"7d"`, `"1h30m"` or `"250ms"`.
//!
//! Meant for configuration strings (files, environment variables, command-line flags):
//! anything that is not clearly a duration is rejected with a [`DurationError`] that quotes
//! the input and names the rule it broke. Nothing is guessed, clamped or wrapped.
//!
//! # Grammar
//!
//! After trimming ASCII whitespace at both ends, a duration is one or more terms
//!
//! ```text
//! TERM = DIGITS [ " " ] UNIT          e.g. "30m", "30 m", "30 minutes"
//! DURATION = TERM { [ " " ] TERM }    e.g. "1h30m", "1h 30m", "2d12h"
//! ```
//!
//! - `DIGITS` are ASCII decimal digits; leading zeros are fine. No fractions (`"1.5h"`):
//!   write `"1h30m"`.
//! - Every number needs a unit. A bare `"30"` is rejected ([`DurationErrorKind::MissingUnit`])
//!   because it is ambiguous: seconds, minutes and days are all plausible for a log setting,
//!   and a silent misreading is off by a factor of 60 or more. `"0"` is rejected too; write
//!   `"0s"`.
//! - Units appear in strictly decreasing order, each at most once: `"1h30m"` is fine,
//!   `"30m1h"` and `"1h1h"` are rejected ([`DurationErrorKind::UnitOrder`]), as they are
//!   almost certainly typos.
//! - At most one ASCII space between a number and its unit, and between terms.
//! - Units are lowercase only. In particular `M` is not minutes (nor months).
//!
//! # Units
//!
//! | unit | also accepted | length |
//! |---|---|---|
//! | `w` | `week`, `weeks` | 7 days |
//! | `d` | `day`, `days` | 24 hours |
//! | `h` | `hr`, `hrs`, `hour`, `hours` | 60 minutes |
//! | `m` | `min`, `mins`, `minute`, `minutes` | 60 seconds |
//! | `s` | `sec`, `secs`, `second`, `seconds` | 1 second |
//! | `ms` | `msec`, `msecs`, `millisecond`, `milliseconds` | 10⁻³ s |
//! | `us` | `usec`, `usecs`, `microsecond`, `microseconds` | 10⁻⁶ s |
//! | `ns` | `nsec`, `nsecs`, `nanosecond`, `nanoseconds` | 10⁻⁹ s |
//!
//! These are fixed lengths: `"1d"` is always 86 400 s, even across a daylight-saving change,
//! and there are no months or years (their length varies). "Rotate at local midnight" or "on
//! the first of the month" is calendar-aligned rotation, a different mechanism from "rotate
//! every 1d", which only ever adds 86 400 s.
//!
//! The largest duration is [`Duration::MAX`] (`u64::MAX` seconds plus 999 999 999 ns);
//! anything larger, in one term or in the sum, is [`DurationErrorKind::Overflow`].
//!
//! # Errors
//!
//! | input | [`DurationErrorKind`] |
//! |---|---|
//! | `""`, `"  "` | `Empty` |
//! | `"7d\0"` | `NulByte` |
//! | `"-5s"` | `Negative` |
//! | `"h"`, `"1.5h"`, `"1h m"` | `InvalidNumber` |
//! | `"30"`, `"1h30"`, `"1 2h"` | `MissingUnit` |
//! | `"7y"`, `"1M"`, `"3mo"` | `UnknownUnit` |
//! | `"30m1h"`, `"1h1h"` | `UnitOrder` |
//! | `"+5s"`, `"7d; rm -rf /"`, `"1h  30m"`, `"1h,30m"` | `InvalidCharacter` |
//! | `"18446744073709551616s"`, `"30500568904944w"` | `Overflow` |
//!
//! When an input breaks several rules, the first one in reading order is reported, except
//! that `Overflow` is only reported once the whole syntax is valid.
//!
//! # Examples
//!
//! ```
//! use core::time::Duration;
//! use lethe_core::duration::{parse_duration, DurationErrorKind, HumanDuration};
//!
//! assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
//! assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5_400)));
//! assert_eq!(parse_duration("30").unwrap_err().kind(), DurationErrorKind::MissingUnit);
//!
//! let every: HumanDuration = "90m".parse()?;
//! assert_eq!(every.to_string(), "1h30m");
//! # Ok::<(), lethe_core::duration::DurationError>(())
//! ```

use core::fmt;
use core::str::FromStr;
use core::time::Duration;

use crate::snippet::Snippet;

const NS: u128 = 1;
const US: u128 = 1_000;
const MS: u128 = 1_000_000;
const SEC: u128 = 1_000_000_000;
const MIN: u128 = 60 * SEC;
const HOUR: u128 = 60 * MIN;
const DAY: u128 = 24 * HOUR;
const WEEK: u128 = 7 * DAY;

/// `Duration::MAX` in nanoseconds.
const MAX_NANOS: u128 = u64::MAX as u128 * SEC + (SEC - 1);

/// (short name, long names, nanoseconds), largest first; the index is the order rank.
const UNITS: [(&str, [&str; 4], u128); 8] = [
    ("w", ["week", "weeks", "", ""], WEEK),
    ("d", ["day", "days", "", ""], DAY),
    ("h", ["hr", "hrs", "hour", "hours"], HOUR),
    ("m", ["min", "mins", "minute", "minutes"], MIN),
    ("s", ["sec", "secs", "second", "seconds"], SEC),
    ("ms", ["msec", "msecs", "millisecond", "milliseconds"], MS),
    ("us", ["usec", "usecs", "microsecond", "microseconds"], US),
    ("ns", ["nsec", "nsecs", "nanosecond", "nanoseconds"], NS),
];

const EXPECTED_UNITS: &str = "expected w, d, h, m, s, ms, us or ns (or a long form such as \
     \"days\"), lowercase; months and years have no fixed length";

/// Parses a duration such as `"7d"`, `"1h30m"`, `"1h 30m"` or `"250ms"`.
///
/// See the [module documentation](self) for the exact grammar and the unit table.
///
/// # Errors
///
/// A [`DurationError`] whose [`kind`](DurationError::kind) says which rule the input broke
/// and whose `Display` quotes the input.
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use lethe_core::duration::{parse_duration, DurationErrorKind};
///
/// assert_eq!(parse_duration("2d12h"), Ok(Duration::from_secs(60 * 3_600)));
/// assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
/// assert_eq!(parse_duration("2 weeks"), Ok(Duration::from_secs(14 * 86_400)));
/// assert_eq!(parse_duration("30m1h").unwrap_err().kind(), DurationErrorKind::UnitOrder);
/// ```
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let err = |kind, position: usize, found: &str, rule| DurationError {
        kind,
        rule,
        position,
        input: Snippet::new(s),
        found: Snippet::new(found),
    };
    if let Some(p) = s.bytes().position(|b| b == 0) {
        return Err(err(
            DurationErrorKind::NulByte,
            p,
            "\0",
            "a NUL byte is never part of a duration",
        ));
    }
    let t = s.trim_ascii();
    if t.is_empty() {
        return Err(err(
            DurationErrorKind::Empty,
            0,
            "",
            "expected a number and a unit, e.g. \"7d\" or \"1h30m\"",
        ));
    }
    // Byte offset of `t` in `s`, for positions in errors.
    let base = s.len() - s.trim_ascii_start().len();
    // Every token boundary below sits next to an ASCII byte, so `get` never returns `None`
    // for the ranges used; the fallbacks only keep the code panic-free.
    let bytes = t.as_bytes();
    let first_char = |from: usize| t.get(from..).and_then(|r| r.chars().next()).unwrap_or('\0');
    let char_str = |from: usize| {
        let len = first_char(from).len_utf8();
        t.get(from..from + len).unwrap_or("")
    };
    let count = |from: usize, pred: fn(&u8) -> bool| {
        bytes
            .get(from..)
            .unwrap_or(&[])
            .iter()
            .take_while(|b| pred(b))
            .count()
    };

    let mut total: Option<u128> = Some(0);
    let mut prev_unit: Option<(usize, &str)> = None;
    let mut i = 0;
    loop {
        // A term starts here: digits first.
        let digits = count(i, u8::is_ascii_digit);
        if digits == 0 {
            let (kind, rule) = match first_char(i) {
                '-' if i == 0 => (DurationErrorKind::Negative, "durations cannot be negative"),
                '.' => (
                    DurationErrorKind::InvalidNumber,
                    "a term starts with a whole number, e.g. \"1h30m\"",
                ),
                c if c.is_ascii_alphabetic() => (
                    DurationErrorKind::InvalidNumber,
                    "every unit needs a number before it, e.g. \"1h30m\"",
                ),
                _ => (
                    DurationErrorKind::InvalidCharacter,
                    "a term starts with a decimal digit (no signs)",
                ),
            };
            return Err(err(kind, base + i, char_str(i), rule));
        }
        let num_end = i + digits;
        if bytes.get(num_end) == Some(&b'.') {
            return Err(err(
                DurationErrorKind::InvalidNumber,
                base + num_end,
                ".",
                "fractions are not accepted; combine units instead, e.g. \"1h30m\"",
            ));
        }
        let unit_start = if bytes.get(num_end) == Some(&b' ') {
            num_end + 1
        } else {
            num_end
        };
        let unit_end = unit_start + count(unit_start, u8::is_ascii_alphabetic);
        let unit = t.get(unit_start..unit_end).unwrap_or("");
        if unit.is_empty() {
            let next = bytes.get(unit_start);
            if next.is_none_or(u8::is_ascii_digit) {
                return Err(err(
                    DurationErrorKind::MissingUnit,
                    base + num_end,
                    t.get(i..num_end).unwrap_or(""),
                    "a bare number is ambiguous (seconds? minutes? days?): add a unit, \
                     e.g. \"30s\", \"30m\" or \"30d\"",
                ));
            }
            return Err(err(
                DurationErrorKind::InvalidCharacter,
                base + unit_start,
                char_str(unit_start),
                "a number is followed by a unit, with at most one space between them",
            ));
        }
        let Some(rank) = UNITS
            .iter()
            .position(|(short, long, _)| *short == unit || long.contains(&unit))
        else {
            return Err(err(
                DurationErrorKind::UnknownUnit,
                base + unit_start,
                unit,
                EXPECTED_UNITS,
            ));
        };
        if let Some((prev_rank, _)) = prev_unit
            && rank <= prev_rank
        {
            return Err(err(
                DurationErrorKind::UnitOrder,
                base + unit_start,
                unit,
                "units must appear from largest to smallest, each at most once, \
                 e.g. \"1d12h\" rather than \"12h1d\"",
            ));
        }
        prev_unit = Some((rank, unit));
        let unit_nanos = UNITS.get(rank).map_or(0, |u| u.2);
        // Overflow is remembered, not returned, so a later syntax error wins.
        total = t
            .get(i..num_end)
            .unwrap_or("")
            .bytes()
            .try_fold(0u128, |acc, d| {
                acc.checked_mul(10)?.checked_add(u128::from(d - b'0'))
            })
            .and_then(|n| n.checked_mul(unit_nanos))
            .zip(total)
            .and_then(|(term, sum)| sum.checked_add(term))
            .filter(|&sum| sum <= MAX_NANOS);

        i = unit_end;
        match bytes.get(i) {
            None => break,
            // One space, then the next term (checked at the top of the loop).
            Some(b' ') => i += 1,
            Some(b) if b.is_ascii_digit() => {}
            Some(_) => {
                return Err(err(
                    DurationErrorKind::InvalidCharacter,
                    base + i,
                    char_str(i),
                    "a unit is followed by the end of input or by the next term \
                     (at most one space between terms)",
                ));
            }
        }
    }
    let total = total.ok_or_else(|| {
        err(
            DurationErrorKind::Overflow,
            base,
            t,
            "the largest duration is 18446744073709551615s 999999999ns",
        )
    })?;
    // Both conversions succeed as `total <= MAX_NANOS`.
    let secs = u64::try_from(total / SEC).unwrap_or(u64::MAX);
    let nanos = u32::try_from(total % SEC).unwrap_or(0);
    Ok(Duration::new(secs, nanos))
}

/// Why a duration was rejected; see the [module documentation](self) for examples.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DurationErrorKind {
    /// The input is empty or only whitespace.
    Empty,
    /// The input contains a NUL byte.
    NulByte,
    /// The input starts with `-`.
    Negative,
    /// A number is missing (`"h"`) or malformed (`"1.5h"`).
    InvalidNumber,
    /// A number has no unit (`"30"`, `"1h30"`).
    MissingUnit,
    /// The unit is not in the unit table (`"7y"`, `"1M"`).
    UnknownUnit,
    /// A unit is not smaller than the one before it (`"30m1h"`, `"1h1h"`).
    UnitOrder,
    /// A character that may not appear there (`"+5s"`, `"7d; rm -rf /"`, `"1h  30m"`).
    InvalidCharacter,
    /// The value exceeds [`Duration::MAX`].
    Overflow,
}

/// The error returned by [`parse_duration`] and [`HumanDuration::from_str`].
///
/// It owns a copy of the first 32 bytes of the input (longer inputs are shown with a
/// trailing `…`), so it can be returned and displayed without borrowing or allocating.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct DurationError {
    kind: DurationErrorKind,
    rule: &'static str,
    position: usize,
    input: Snippet<32>,
    found: Snippet<16>,
}

impl DurationError {
    /// Which rule the input broke.
    pub fn kind(&self) -> DurationErrorKind {
        self.kind
    }

    /// Byte offset, in the original (untrimmed) input, of the part that was rejected: the
    /// offending character or unit, the end of a number lacking a unit; the start of the
    /// input for `Overflow`, and 0 for `Empty`.
    pub fn position(&self) -> usize {
        self.position
    }

    /// The start of the rejected input (at most 32 bytes, cut on a character boundary).
    pub fn input(&self) -> &str {
        self.input.as_str()
    }
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid duration {}: ", self.input)?;
        let (pos, found) = (self.position, &self.found);
        match self.kind {
            DurationErrorKind::Empty => f.write_str("empty input")?,
            DurationErrorKind::NulByte => write!(f, "NUL byte at offset {pos}")?,
            DurationErrorKind::Negative => write!(f, "negative sign at offset {pos}")?,
            DurationErrorKind::InvalidNumber => {
                write!(f, "invalid number at offset {pos}, found {found}")?;
            }
            DurationErrorKind::MissingUnit => {
                write!(f, "number {found} has no unit (offset {pos})")?;
            }
            DurationErrorKind::UnknownUnit => write!(f, "unknown unit {found}")?,
            DurationErrorKind::UnitOrder => write!(f, "unit {found} out of order")?,
            DurationErrorKind::InvalidCharacter => {
                write!(f, "unexpected character {found} at offset {pos}")?;
            }
            DurationErrorKind::Overflow => f.write_str("too large")?,
        }
        write!(f, " ({})", self.rule)
    }
}

impl core::error::Error for DurationError {}

/// A [`Duration`] that parses from and displays as a human-readable duration.
///
/// `FromStr` accepts exactly what [`parse_duration`] accepts. `Display` prints a canonical
/// form that parses back to the same value: `"0s"` for zero, `"<n>w"` when the value is a
/// whole number of weeks, otherwise the nonzero components from days down to nanoseconds,
/// with no spaces (`"1h30m"`, `"10d"`, `"1s500ms"`, `"250ms"`).
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use lethe_core::duration::HumanDuration;
///
/// let keep: HumanDuration = "14 days".parse()?;
/// assert_eq!(keep.as_duration(), Duration::from_secs(14 * 86_400));
/// assert_eq!(keep.to_string(), "2w");
/// assert_eq!(HumanDuration(Duration::from_secs(30 * 86_400)).to_string(), "30d");
/// assert_eq!(HumanDuration(Duration::from_millis(1_500)).to_string(), "1s500ms");
/// # Ok::<(), lethe_core::duration::DurationError>(())
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// The wrapped duration.
    pub const fn as_duration(self) -> Duration {
        self.0
    }
}

impl From<Duration> for HumanDuration {
    fn from(d: Duration) -> Self {
        HumanDuration(d)
    }
}

impl From<HumanDuration> for Duration {
    fn from(d: HumanDuration) -> Self {
        d.0
    }
}

impl FromStr for HumanDuration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_duration(s).map(HumanDuration)
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0.as_nanos();
        if rest == 0 {
            return f.write_str("0s");
        }
        if rest.is_multiple_of(WEEK) {
            return write!(f, "{}w", rest / WEEK);
        }
        for &(name, _, nanos) in UNITS.get(1..).unwrap_or(&[]) {
            let n = rest / nanos;
            if n != 0 {
                write!(f, "{n}{name}")?;
            }
            rest %= nanos;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::std_instead_of_alloc)] // `alloc` is only linked with its feature
mod tests {
    use super::*;
    use std::string::ToString;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn accepted_forms() {
        let cases: &[(&str, Duration)] = &[
            ("0s", secs(0)),
            ("0ns", secs(0)),
            ("7d", secs(7 * 86_400)),
            ("2w", secs(14 * 86_400)),
            ("1h30m", secs(5_400)),
            ("1h 30m", secs(5_400)),
            ("1 h 30 m", secs(5_400)),
            ("2d12h", secs(60 * 3_600)),
            (
                "1w2d3h4m5s6ms7us8ns",
                Duration::new(((7 + 2) * 24 + 3) * 3600 + 4 * 60 + 5, 6_007_008),
            ),
            ("250ms", Duration::from_millis(250)),
            ("250 msec", Duration::from_millis(250)),
            ("3 milliseconds", Duration::from_millis(3)),
            ("15us", Duration::from_micros(15)),
            ("15 microseconds", Duration::from_micros(15)),
            ("15ns", Duration::from_nanos(15)),
            ("9 nanoseconds", Duration::from_nanos(9)),
            ("30s", secs(30)),
            ("30 sec", secs(30)),
            ("30secs", secs(30)),
            ("1 second", secs(1)),
            ("2 seconds", secs(2)),
            ("5min", secs(300)),
            ("5 mins", secs(300)),
            ("1 minute", secs(60)),
            ("5 minutes", secs(300)),
            ("1hr", secs(3600)),
            ("2hrs", secs(7200)),
            ("1 hour", secs(3600)),
            ("2 hours", secs(7200)),
            ("1 day", secs(86_400)),
            ("3 days", secs(3 * 86_400)),
            ("1 week", secs(7 * 86_400)),
            ("2 weeks", secs(14 * 86_400)),
            ("1 hour 30 minutes", secs(5_400)),
            ("  7d\t\n", secs(7 * 86_400)),
            ("007d", secs(7 * 86_400)),
            ("90m", secs(5_400)),
            ("18446744073709551615s", secs(u64::MAX)),
            ("18446744073709551615s999ms999us999ns", Duration::MAX),
            ("18446744073709551615999999999ns", Duration::MAX),
            ("18446744073709551615000ms", secs(u64::MAX)),
            ("0000000000000000000000000000000000000000001s", secs(1)),
        ];
        for &(input, want) in cases {
            assert_eq!(parse_duration(input), Ok(want), "{input:?}");
            assert_eq!(input.parse::<HumanDuration>(), Ok(HumanDuration(want)));
        }
    }

    #[test]
    fn rejected_forms() {
        use DurationErrorKind::*;
        let cases: &[(&str, DurationErrorKind, usize)] = &[
            ("", Empty, 0),
            (" \t ", Empty, 0),
            ("7d\0", NulByte, 2),
            ("\x007d", NulByte, 0),
            ("-5s", Negative, 0),
            (" -1d", Negative, 1),
            ("h", InvalidNumber, 0),
            ("1h m", InvalidNumber, 3),
            ("1.5h", InvalidNumber, 1),
            (".5h", InvalidNumber, 0),
            ("30", MissingUnit, 2),
            ("0", MissingUnit, 1),
            ("1h30", MissingUnit, 4),
            ("1h 30", MissingUnit, 5),
            ("1 2h", MissingUnit, 1),
            ("7y", UnknownUnit, 1),
            ("1M", UnknownUnit, 1),
            ("1H", UnknownUnit, 1),
            ("3mo", UnknownUnit, 1),
            ("3 months", UnknownUnit, 2),
            ("1hm", UnknownUnit, 1),
            ("7d; rm", InvalidCharacter, 2),
            ("30m1h", UnitOrder, 4),
            ("1h1h", UnitOrder, 3),
            ("1h 2hours", UnitOrder, 4),
            ("1s1m", UnitOrder, 3),
            ("+5s", InvalidCharacter, 0),
            ("1h-30m", InvalidCharacter, 2),
            ("7d; rm -rf /", InvalidCharacter, 2),
            ("1h  30m", InvalidCharacter, 3),
            ("1  h", InvalidCharacter, 2),
            ("1h,30m", InvalidCharacter, 2),
            ("5µs", InvalidCharacter, 1),
            ("５s", InvalidCharacter, 0),
            ("٥s", InvalidCharacter, 0),
            ("5ｓ", InvalidCharacter, 1),
            ("1_000s", InvalidCharacter, 1),
            ("18446744073709551616s", Overflow, 0),
            ("18446744073709551615s1000ms", Overflow, 0),
            ("30500568904944w", Overflow, 0),
            ("99999999999999999999999999999999999999999999w", Overflow, 0),
            (
                "99999999999999999999999999999999999999999999w; junk",
                InvalidCharacter,
                45,
            ),
        ];
        for &(input, kind, position) in cases {
            let e = parse_duration(input).expect_err(input);
            assert_eq!((e.kind(), e.position()), (kind, position), "{input:?}: {e}");
        }
    }

    #[test]
    fn display_names_input_and_rule() {
        let cases: &[(&str, &str)] = &[
            (
                "7y",
                "invalid duration \"7y\": unknown unit \"y\" (expected w, d, h, m, s, ms, us or \
                 ns (or a long form such as \"days\"), lowercase; months and years have no \
                 fixed length)",
            ),
            (
                "30",
                "invalid duration \"30\": number \"30\" has no unit (offset 2) (a bare number \
                 is ambiguous (seconds? minutes? days?): add a unit, e.g. \"30s\", \"30m\" or \
                 \"30d\")",
            ),
            (
                "7d; rm -rf /",
                "invalid duration \"7d; rm -rf /\": unexpected character \";\" at offset 2 (a \
                 unit is followed by the end of input or by the next term (at most one space \
                 between terms))",
            ),
            (
                "30m1h",
                "invalid duration \"30m1h\": unit \"h\" out of order (units must appear from \
                 largest to smallest, each at most once, e.g. \"1d12h\" rather than \"12h1d\")",
            ),
        ];
        for &(input, want) in cases {
            assert_eq!(parse_duration(input).unwrap_err().to_string(), want);
        }
    }

    #[test]
    fn display_is_canonical() {
        let cases: &[(Duration, &str)] = &[
            (secs(0), "0s"),
            (secs(7 * 86_400), "1w"),
            (secs(14 * 86_400), "2w"),
            (secs(30 * 86_400), "30d"),
            (secs(8 * 86_400), "8d"),
            (secs(5_400), "1h30m"),
            (secs(60 * 3_600), "2d12h"),
            (Duration::from_millis(250), "250ms"),
            (Duration::from_millis(1_500), "1s500ms"),
            (Duration::new(1, 1), "1s1ns"),
            (Duration::from_micros(1_001), "1ms1us"),
        ];
        for &(d, want) in cases {
            assert_eq!(HumanDuration(d).to_string(), want);
            assert_eq!(parse_duration(want), Ok(d));
        }
        let max = HumanDuration(Duration::MAX).to_string();
        assert_eq!(parse_duration(&max), Ok(Duration::MAX));
    }

    #[test]
    fn conversions() {
        let d = Duration::from_secs(3);
        assert_eq!(Duration::from(HumanDuration::from(d)), d);
        assert_eq!(HumanDuration(d).as_duration(), d);
    }
}

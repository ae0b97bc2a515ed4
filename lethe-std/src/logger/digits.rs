//! Numbers as text for the formatters, without `fmt` and straight into a [`Sink`]:
//! integers below 10^8 as one word of digits computed in registers, larger ones two
//! digits at a time from a table; floats with up to three decimals directly, others
//! with zmij (always the shortest text that reads back as the same value).

#[cfg(test)]
use super::format::Out;
use super::format::Sink;
use crate::decimal::u64_digits;

/// The 8 decimal digits of `n` (below 10^8), zero-padded, as ASCII in a little-endian
/// word: byte 0 holds the most significant digit. Computed in registers (two steps of
/// division by constants, on 32-bit then 16-bit lanes), so that the word is stored at
/// once: digits written two bytes at a time through a buffer and then read back as
/// wider words stall the CPU's store-to-load forwarding.
#[inline(always)]
pub(crate) fn digits8(n: u32) -> u64 {
    debug_assert!(n < 100_000_000);
    // [n / 10^4, n % 10^4] in two 32-bit lanes.
    let v = u64::from(n / 10_000) | u64::from(n % 10_000) << 32;
    // Each lane (below 10^4) / 100, exact: x * 10486 >> 20 == x / 100 for x < 43699.
    let q = ((v * 10_486) >> 20) & 0x0000_007f_0000_007f;
    // [hundreds, rest] in 16-bit lanes, each below 100.
    let v = q | (v - q * 100) << 16;
    // Each lane / 10, exact: x * 103 >> 10 == x / 10 for x < 179.
    let q = ((v * 103) >> 10) & 0x000f_000f_000f_000f;
    let v = q | (v - q * 10) << 8;
    v + 0x3030_3030_3030_3030
}

/// How many leading zeros of a [`digits8`] word to skip: all but the last digit may go.
#[inline(always)]
fn leading_zeros8(ascii: u64) -> usize {
    ((ascii - 0x3030_3030_3030_3030).trailing_zeros() / 8).min(7) as usize
}

/// Writes `v` in decimal.
#[inline(always)]
pub(crate) fn write_u64<S: Sink + ?Sized>(out: &mut S, v: u64) {
    if v < 100_000_000 {
        let w = digits8(v as u32);
        out.put(&w.to_le_bytes()[leading_zeros8(w)..]);
    } else {
        let mut buf = [0; 20];
        let i = u64_digits(v, &mut buf);
        out.put(&buf[i..]);
    }
}

/// Writes `v` in decimal, with a leading `-` when negative.
#[inline]
pub(crate) fn write_i64<S: Sink + ?Sized>(out: &mut S, v: i64) {
    if v < 0 {
        out.put(b"-");
    }
    write_u64(out, v.unsigned_abs());
}

/// `v` in thousandths (`|v| * 1000`) when that decimal is exactly the one that reads
/// back as `v`, and `|v| < 10^8`; `None` otherwise (also for NaN and infinities).
///
/// Then that decimal, without trailing zeros (`1.25`, `200.0`), is also the shortest
/// text that reads back as `v`, so it is what zmij writes: below 10^8 a double's spacing
/// is at most 2^-26, so no other decimal with at most 3 fraction digits (all at least
/// 0.001 away) rounds to `v`; and zmij writes numbers from 10^-5 to below 10^16 without
/// an exponent.
#[inline(always)]
fn thousandths(v: f64) -> Option<u64> {
    let a = v.abs();
    // Also false for NaN.
    if a.partial_cmp(&1e8) != Some(std::cmp::Ordering::Less) {
        return None;
    }
    // Rounded to the nearest thousandth (half up; the check below decides anyway).
    let m = (a * 1000.0 + 0.5) as u64;
    // `m` is below 2^47, so exact as a double, and the division is correctly rounded:
    // equality means `v` is the double nearest to m / 1000.
    if m as f64 / 1000.0 != a {
        return None;
    }
    Some(m)
}

/// Writes a finite float as the shortest text that reads back as `v`, as zmij
/// (serde_json's float printer) writes it: `1.25`, `200.0`, `1e16`, `1.5e-7`. Values
/// with at most three decimals below 10^8 (durations, ratios, prices) are written
/// directly, the rest by zmij.
#[inline(always)]
pub(crate) fn write_finite_f64<S: Sink + ?Sized>(out: &mut S, v: f64) {
    let Some(m) = thousandths(v) else {
        out.put(zmij::Buffer::new().format_finite(v).as_bytes());
        return;
    };
    if v.is_sign_negative() {
        out.put(b"-");
    }
    let frac = m % 1000;
    // The fraction's digits, in the low bytes of `f`.
    let f = if m < 100_000_000 {
        // One word for both parts: 5 integer digits, then the 3 of the fraction.
        let w = digits8(m as u32);
        let skip = leading_zeros8(w).min(4);
        out.put(&w.to_le_bytes()[skip..5]);
        w >> 40
    } else {
        let w = digits8((m / 1000) as u32);
        out.put(&w.to_le_bytes()[leading_zeros8(w)..]);
        digits8(frac as u32) >> 40
    };
    // `.` then the digits without trailing zeros, but at least one (`.0`).
    let len = if frac % 100 == 0 {
        2
    } else if frac % 10 == 0 {
        3
    } else {
        4
    };
    out.put(&(f << 8 | u64::from(b'.')).to_le_bytes()[..len]);
}

/// Writes a float: finite ones as [`write_finite_f64`], else `NaN`, `inf` or `-inf`.
#[inline]
pub(crate) fn write_f64<S: Sink + ?Sized>(out: &mut S, v: f64) {
    if v.is_finite() {
        write_finite_f64(out, v);
    } else if v.is_nan() {
        out.put(b"NaN");
    } else if v > 0.0 {
        out.put(b"inf");
    } else {
        out.put(b"-inf");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(v: f64) -> String {
        let mut b = Vec::new();
        write_f64(&mut Out::vec(&mut b), v);
        String::from_utf8(b).unwrap()
    }

    fn reference(v: f64) -> String {
        let mut s = String::new();
        super::super::record::emit_f64(v, |p| s.push_str(p));
        s
    }

    #[test]
    fn integers_match_std() {
        let mut cases: Vec<i64> = vec![0, 1, -1, 9, 10, 99, 100, 101, i64::MAX, i64::MIN];
        let mut p = 1i64;
        while let Some(q) = p.checked_mul(10) {
            cases.extend([p - 1, p, p + 1, -p, -p + 1, -p - 1]);
            p = q;
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.push(x as i64);
            cases.push((x >> (x % 60)) as i64);
        }
        for v in cases {
            let mut b = Vec::new();
            write_i64(&mut Out::vec(&mut b), v);
            assert_eq!(String::from_utf8(b).unwrap(), v.to_string());
            let mut b = Vec::new();
            write_u64(&mut Out::vec(&mut b), v as u64);
            assert_eq!(String::from_utf8(b).unwrap(), (v as u64).to_string());
        }
    }

    /// Floats are written as `record::emit_f64` writes them (the text the other value
    /// paths use).
    #[test]
    fn floats_match_the_value_text() {
        let mut cases = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            1.25,
            -1.25,
            0.1,
            200.0,
            1e-7,
            1e16,
            1e300,
            5e-324,
            f64::MAX,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.push(f64::from_bits(x));
        }
        for v in cases {
            assert_eq!(float(v), reference(v), "{v:?} ({:#x})", v.to_bits());
        }
    }

    /// The direct path for decimals with up to three fraction digits writes what zmij
    /// writes: every thousandth up to 200, both signs; ordinary values in many
    /// magnitudes; values that are not short decimals (`0.1 + 0.2`); and the edges of
    /// the path (10^8, the spacing of doubles, tiny values, one ulp either side).
    #[test]
    fn short_decimals_match_zmij() {
        let mut cases = Vec::new();
        for m in 0..200_000u32 {
            let v = f64::from(m) / 1000.0;
            cases.extend([v, -v]);
        }
        for scale in [1.0, 10.0, 1e3, 1e5, 1e7, 99_999_999.0, 1e8, 1e8 + 1.0, 1e9] {
            for m in [0.0, 0.001, 0.01, 0.125, 0.5, 0.999, 1.0] {
                let v: f64 = scale + m;
                cases.extend([v, -v, v.next_up(), v.next_down()]);
            }
        }
        cases.extend([
            0.1 + 0.2,
            1.0 / 3.0,
            0.0005,
            0.0015,
            1e-5,
            1e-7,
            5e-324,
            1e16,
            123_456.789,
            99_999_999.999,
            99_999_999.999_9,
            -0.0,
        ]);
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..50_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Random thousandths over the whole range of the path, and random doubles.
            cases.push((x % 100_000_000_000) as f64 / 1000.0);
            cases.push((x >> 11) as f64 / (1u64 << 53) as f64 * 1e8);
        }
        for v in cases {
            assert_eq!(float(v), reference(v), "{v:?} ({:#x})", v.to_bits());
        }
    }

    #[test]
    fn digit_words() {
        let mut cases: Vec<u32> = (0..1_000_000).collect();
        cases.extend((0..100_000_000).step_by(997));
        cases.extend([9_999_999, 10_000_000, 99_999_999]);
        for n in cases {
            let w = digits8(n);
            assert_eq!(w.to_le_bytes(), *format!("{n:08}").as_bytes(), "{n}");
            assert_eq!(
                &w.to_le_bytes()[leading_zeros8(w)..],
                n.to_string().as_bytes()
            );
        }
    }
}

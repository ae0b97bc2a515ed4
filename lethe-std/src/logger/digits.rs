//! Numbers as text for the formatters, without `fmt` and straight into an [`Out`]:
//! integers two digits at a time from a table, floats with zmij (the shortest text that
//! reads back as the same value).

#[cfg(test)]
use super::format::Out;
use super::format::Sink;
use crate::decimal::{PAIRS, u64_digits};

/// Writes `v` in decimal.
#[inline]
pub(crate) fn write_u64<S: Sink + ?Sized>(out: &mut S, v: u64) {
    let mut buf = [0; 20];
    let i = u64_digits(v, &mut buf);
    out.put(&buf[i..]);
}

/// Writes `v` in decimal, with a leading `-` when negative.
#[inline]
pub(crate) fn write_i64<S: Sink + ?Sized>(out: &mut S, v: i64) {
    let mut buf = [0; 21];
    let mut digits = [0; 20];
    let i = u64_digits(v.unsigned_abs(), &mut digits);
    let n = 20 - i;
    let neg = usize::from(v < 0);
    buf[0] = b'-';
    buf[neg..neg + n].copy_from_slice(&digits[i..]);
    out.put(&buf[..neg + n]);
}

/// The last `digits` (at most 9) decimal digits of `n`, zero-padded, into `buf[..digits]`.
#[inline]
pub(crate) fn fixed_digits(mut n: u32, digits: usize, buf: &mut [u8]) {
    let mut i = digits;
    while i >= 2 {
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[(n % 100) as usize]);
        n /= 100;
    }
    if i == 1 {
        buf[0] = b'0' + (n % 10) as u8;
    }
}

/// Writes a finite float as the shortest text that reads back as `v`, with zmij
/// (serde_json's float printer): `1.25`, `200.0`, `1e16`, `1.5e-7`.
#[inline]
pub(crate) fn write_finite_f64<S: Sink + ?Sized>(out: &mut S, v: f64) {
    out.put(zmij::Buffer::new().format_finite(v).as_bytes());
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

    #[test]
    fn fraction_digits() {
        for (n, d, want) in [
            (123_456u32, 6, "123456"),
            (5, 6, "000005"),
            (7, 3, "007"),
            (999_999_999, 9, "999999999"),
            (0, 9, "000000000"),
            (42, 1, "2"),
        ] {
            let mut b = [0u8; 9];
            fixed_digits(n, d, &mut b);
            assert_eq!(std::str::from_utf8(&b[..d]).unwrap(), want);
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
}

//! `size_parse`: `lethe_core::size::parse_size` against an independent reference parser.
//!
//! The model splits the input with `str` methods and does the arithmetic as schoolbook
//! decimal multiplication on a digit vector (so fractions of any length are exact), where
//! lethe-core uses a Horner scheme in `u128`. Both must agree on Ok-vs-Err and on every Ok
//! value; an Ok value must also survive `ByteSize`'s `Display` round trip.

use lethe_core::size::{ByteSize, parse_size};

pub fn check(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let got = parse_size(&s);
    let want = model(&s);
    match (&got, want) {
        (Ok(v), Some(w)) => assert_eq!(*v, w, "value differs for {s:?}"),
        (Err(_), None) => {}
        _ => panic!("lethe-core and the model disagree on {s:?}: {got:?} vs {want:?}"),
    }
    match got {
        Ok(v) => {
            let text = ByteSize(v).to_string();
            assert_eq!(
                parse_size(&text),
                Ok(v),
                "Display {text:?} does not round-trip"
            );
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with("invalid size \""), "{msg}");
            assert!(e.position() <= s.len() && s.is_char_boundary(e.position()));
            assert!(s.starts_with(e.input()));
        }
    }
}

/// The reference: `Some(bytes)` iff `s` is a valid size.
fn model(s: &str) -> Option<u64> {
    if s.contains('\0') {
        return None;
    }
    let t = s.trim_matches(|c: char| c.is_ascii_whitespace());
    let num_len = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, rest) = t.split_at(num_len);
    let unit = rest.strip_prefix(' ').unwrap_or(rest);
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty() || (num.contains('.') && frac.is_empty()) || frac.contains('.') {
        return None;
    }
    if !unit.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let unit = unit.to_ascii_lowercase();
    let mult: u128 = if unit.is_empty() || unit == "b" {
        1
    } else {
        let power = "kmgtpe".find(unit.get(..1)?)? as u32 + 1;
        match unit.get(1..)? {
            "" | "b" => 1000u128.pow(power),
            "i" | "ib" => 1024u128.pow(power),
            _ => return None,
        }
    };
    // (int ++ frac) * mult, little-endian decimal digits.
    let mut digits: Vec<u128> = int
        .bytes()
        .chain(frac.bytes())
        .rev()
        .map(|b| u128::from(b - b'0'))
        .collect();
    let mut carry = 0u128;
    for d in &mut digits {
        let x = *d * mult + carry;
        *d = x % 10;
        carry = x / 10;
    }
    while carry > 0 {
        digits.push(carry % 10);
        carry /= 10;
    }
    // Exact iff the digits below the decimal point are all zero.
    let (below, above) = digits.split_at(frac.len());
    if below.iter().any(|&d| d != 0) {
        return None;
    }
    let whole: String = above
        .iter()
        .rev()
        .map(|&d| char::from(b'0' + d as u8))
        .collect();
    if whole.is_empty() {
        return Some(0);
    }
    whole.parse::<u64>().ok()
}

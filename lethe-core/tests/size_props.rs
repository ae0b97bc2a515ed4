//! Property tests for `lethe_core::size`.

use lethe_core::size::{ByteSize, SizeErrorKind, parse_size};
use proptest::prelude::*;

/// Every unit spelling with its multiplier.
const UNITS: &[(&str, u128)] = &[
    ("", 1),
    ("B", 1),
    ("b", 1),
    ("K", 1000),
    ("KB", 1000),
    ("kb", 1000),
    ("Ki", 1024),
    ("KiB", 1024),
    ("kib", 1024),
    ("M", 1000u128.pow(2)),
    ("MB", 1000u128.pow(2)),
    ("Mi", 1024u128.pow(2)),
    ("MiB", 1024u128.pow(2)),
    ("G", 1000u128.pow(3)),
    ("GB", 1000u128.pow(3)),
    ("Gi", 1024u128.pow(3)),
    ("GiB", 1024u128.pow(3)),
    ("T", 1000u128.pow(4)),
    ("TB", 1000u128.pow(4)),
    ("TiB", 1024u128.pow(4)),
    ("P", 1000u128.pow(5)),
    ("PB", 1000u128.pow(5)),
    ("PiB", 1024u128.pow(5)),
    ("E", 1000u128.pow(6)),
    ("EB", 1000u128.pow(6)),
    ("EiB", 1024u128.pow(6)),
];

fn unit() -> impl Strategy<Value = (&'static str, u128)> {
    proptest::sample::select(UNITS)
}

/// u64 values spread over all magnitudes, not just huge ones.
fn any_magnitude() -> impl Strategy<Value = u64> {
    (any::<u64>(), 0u32..64).prop_map(|(v, shift)| v >> shift)
}

proptest! {
    #[test]
    fn display_round_trips(v in any_magnitude()) {
        let text = ByteSize(v).to_string();
        prop_assert_eq!(parse_size(&text), Ok(v), "{}", text);
    }

    #[test]
    fn number_with_unit_is_exact_or_overflow(n in any_magnitude(), (name, mult) in unit(), space in any::<bool>()) {
        let sep = if space && !name.is_empty() { " " } else { "" };
        let text = format!("{n}{sep}{name}");
        let exact = u128::from(n) * mult;
        match parse_size(&text) {
            Ok(v) => prop_assert_eq!(u128::from(v), exact, "{}", text),
            Err(e) => {
                prop_assert_eq!(e.kind(), SizeErrorKind::Overflow, "{}: {}", text, e);
                prop_assert!(exact > u128::from(u64::MAX), "{}", text);
            }
        }
    }

    #[test]
    fn fraction_is_exact_or_rejected(int in 0u64..1_000_000, frac in "[0-9]{1,12}", (name, mult) in unit()) {
        let text = format!("{int}.{frac}{name}");
        // Reference: (int.frac) * mult = (int frac as one integer) * mult / 10^len.
        let trimmed = frac.trim_end_matches('0');
        let scaled = trimmed.len() as u32;
        let numerator: Option<u128> = format!("{int}{trimmed}")
            .parse::<u128>()
            .ok()
            .and_then(|n| n.checked_mul(mult));
        match (parse_size(&text), numerator) {
            (Ok(v), Some(num)) => {
                prop_assert_eq!(num % 10u128.pow(scaled), 0, "{}", text);
                prop_assert_eq!(u128::from(v), num / 10u128.pow(scaled), "{}", text);
            }
            (Err(e), Some(num)) => {
                let exact = num % 10u128.pow(scaled) == 0;
                if exact {
                    prop_assert_eq!(e.kind(), SizeErrorKind::Overflow, "{}", text);
                } else {
                    prop_assert_eq!(e.kind(), SizeErrorKind::InexactFraction, "{}", text);
                }
            }
            // Cannot happen for these ranges (< 10^18 * 1024^6 < 2^128).
            (_, None) => prop_assert!(false, "reference overflowed on {}", text),
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        check_consistent(&s)?;
    }

    #[test]
    fn near_miss_strings_never_panic(s in "[0-9kKmMgGiIbBeE. +\\-;_\t]{0,14}") {
        check_consistent(&s)?;
    }
}

fn check_consistent(s: &str) -> Result<(), TestCaseError> {
    match parse_size(s) {
        Ok(v) => prop_assert_eq!(parse_size(&ByteSize(v).to_string()), Ok(v)),
        Err(e) => {
            let msg = e.to_string();
            prop_assert!(msg.starts_with("invalid size \""), "{}", msg);
            prop_assert!(e.position() <= s.len());
            prop_assert!(s.is_char_boundary(e.position()));
            prop_assert!(s.starts_with(e.input()));
        }
    }
    Ok(())
}

//! Property tests for `lethe_core::duration`.

use core::time::Duration;

use lethe_core::duration::{DurationErrorKind, HumanDuration, parse_duration};
use proptest::prelude::*;

const SEC: u128 = 1_000_000_000;

/// Every unit spelling with its length in nanoseconds.
const UNITS: &[(&str, u128)] = &[
    ("w", 604_800 * SEC),
    ("weeks", 604_800 * SEC),
    ("d", 86_400 * SEC),
    ("days", 86_400 * SEC),
    ("h", 3_600 * SEC),
    ("hr", 3_600 * SEC),
    ("hours", 3_600 * SEC),
    ("m", 60 * SEC),
    ("min", 60 * SEC),
    ("minutes", 60 * SEC),
    ("s", SEC),
    ("sec", SEC),
    ("seconds", SEC),
    ("ms", 1_000_000),
    ("msec", 1_000_000),
    ("us", 1_000),
    ("microseconds", 1_000),
    ("ns", 1),
    ("nanoseconds", 1),
];

const MAX_NANOS: u128 = u64::MAX as u128 * SEC + (SEC - 1);

fn any_magnitude() -> impl Strategy<Value = u64> {
    (any::<u64>(), 0u32..64).prop_map(|(v, shift)| v >> shift)
}

fn any_duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        (any_magnitude(), 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n)),
        (0u64..10_000, 0u32..1000).prop_map(|(s, ms)| Duration::new(s, ms * 1_000_000)),
        (0u64..1_000).prop_map(|w| Duration::from_secs(w * 604_800)),
    ]
}

proptest! {
    #[test]
    fn display_round_trips(d in any_duration()) {
        let text = HumanDuration(d).to_string();
        prop_assert_eq!(parse_duration(&text), Ok(d), "{}", text);
    }

    #[test]
    fn number_with_unit_is_exact_or_overflow(
        n in any_magnitude(),
        (name, nanos) in proptest::sample::select(UNITS),
        space in any::<bool>(),
    ) {
        let sep = if space { " " } else { "" };
        let text = format!("{n}{sep}{name}");
        let exact = u128::from(n) * nanos;
        match parse_duration(&text) {
            Ok(d) => prop_assert_eq!(d.as_nanos(), exact, "{}", text),
            Err(e) => {
                prop_assert_eq!(e.kind(), DurationErrorKind::Overflow, "{}: {}", text, e);
                prop_assert!(exact > MAX_NANOS, "{}", text);
            }
        }
    }

    #[test]
    fn combinations_sum(
        d in 0u64..1_000, h in 0u64..1_000, m in 0u64..1_000, s in 0u64..1_000, space in any::<bool>()
    ) {
        let sep = if space { " " } else { "" };
        let text = format!("{d}d{sep}{h}h{sep}{m}m{sep}{s}s");
        let want = Duration::from_secs(((d * 24 + h) * 60 + m) * 60 + s);
        prop_assert_eq!(parse_duration(&text), Ok(want));
    }

    #[test]
    fn out_of_order_is_rejected(a in 0usize..8, b in 0usize..8, x in 0u64..100, y in 0u64..100) {
        let short = ["w", "d", "h", "m", "s", "ms", "us", "ns"];
        let text = format!("{x}{}{y}{}", short[a], short[b]);
        let r = parse_duration(&text);
        if a < b {
            prop_assert!(r.is_ok(), "{}", text);
        } else {
            prop_assert_eq!(r.unwrap_err().kind(), DurationErrorKind::UnitOrder, "{}", text);
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        check_consistent(&s)?;
    }

    #[test]
    fn near_miss_strings_never_panic(s in "[0-9wdhmsnu. +\\-;\t]{0,14}") {
        check_consistent(&s)?;
    }
}

fn check_consistent(s: &str) -> Result<(), TestCaseError> {
    match parse_duration(s) {
        Ok(d) => prop_assert_eq!(parse_duration(&HumanDuration(d).to_string()), Ok(d)),
        Err(e) => {
            let msg = e.to_string();
            prop_assert!(msg.starts_with("invalid duration \""), "{}", msg);
            prop_assert!(e.position() <= s.len());
            prop_assert!(s.is_char_boundary(e.position()));
            prop_assert!(s.starts_with(e.input()));
        }
    }
    Ok(())
}

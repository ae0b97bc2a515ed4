//! `duration_parse`: `lethe_core::duration::parse_duration` against an independent
//! reference parser written with `str` methods and `u128` nanoseconds. Both must agree on
//! Ok-vs-Err and on every Ok value; an Ok value must also survive `HumanDuration`'s
//! `Display` round trip.

use lethe_core::duration::{HumanDuration, parse_duration};

pub fn check(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let got = parse_duration(&s);
    let want = model(&s);
    match (&got, want) {
        (Ok(d), Some(w)) => assert_eq!(d.as_nanos(), w, "value differs for {s:?}"),
        (Err(_), None) => {}
        _ => panic!("lethe-core and the model disagree on {s:?}: {got:?} vs {want:?}"),
    }
    match got {
        Ok(d) => {
            let text = HumanDuration(d).to_string();
            assert_eq!(
                parse_duration(&text),
                Ok(d),
                "Display {text:?} does not round-trip"
            );
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with("invalid duration \""), "{msg}");
            assert!(e.position() <= s.len() && s.is_char_boundary(e.position()));
            assert!(s.starts_with(e.input()));
        }
    }
}

/// Unit length in nanoseconds by name; a larger unit has a smaller rank.
fn unit(name: &str) -> Option<(u32, u128)> {
    let sec = 1_000_000_000u128;
    Some(match name {
        "w" | "week" | "weeks" => (0, 7 * 86_400 * sec),
        "d" | "day" | "days" => (1, 86_400 * sec),
        "h" | "hr" | "hrs" | "hour" | "hours" => (2, 3_600 * sec),
        "m" | "min" | "mins" | "minute" | "minutes" => (3, 60 * sec),
        "s" | "sec" | "secs" | "second" | "seconds" => (4, sec),
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => (5, 1_000_000),
        "us" | "usec" | "usecs" | "microsecond" | "microseconds" => (6, 1_000),
        "ns" | "nsec" | "nsecs" | "nanosecond" | "nanoseconds" => (7, 1),
        _ => return None,
    })
}

/// The reference: `Some(nanoseconds)` iff `s` is a valid duration.
fn model(s: &str) -> Option<u128> {
    if s.contains('\0') {
        return None;
    }
    let mut rest = s.trim_matches(|c: char| c.is_ascii_whitespace());
    if rest.is_empty() {
        return None;
    }
    let max = u128::from(u64::MAX) * 1_000_000_000 + 999_999_999;
    let mut total = 0u128;
    let mut last_rank = None;
    loop {
        let n_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(n_len);
        if number.is_empty() {
            return None;
        }
        let after = after.strip_prefix(' ').unwrap_or(after);
        let u_len = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let (name, after) = after.split_at(u_len);
        let (rank, nanos) = unit(name)?;
        if last_rank.is_some_and(|last| rank <= last) {
            return None;
        }
        last_rank = Some(rank);
        total = total.checked_add(number.parse::<u128>().ok()?.checked_mul(nanos)?)?;
        if after.is_empty() {
            break;
        }
        rest = after.strip_prefix(' ').unwrap_or(after);
    }
    (total <= max).then_some(total)
}

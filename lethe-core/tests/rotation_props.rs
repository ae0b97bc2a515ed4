//! Property tests for `lethe_core::rotation`: invariants over arbitrary policies, clocks,
//! offsets and event sequences.

use core::time::Duration;

use lethe_core::civil::{UnixTime, UtcOffset, Weekday};
use lethe_core::rotation::{
    Decision, NO_BOUNDARY, Reason, RotationPolicy, Rotator, Schedule, next_boundary, period_start,
};
use proptest::prelude::*;

fn schedule() -> impl Strategy<Value = Schedule> {
    prop_oneof![
        Just(Schedule::HOURLY),
        (0u8..24).prop_map(|h| Schedule::daily(h).unwrap()),
        (0u8..7, 0u8..24)
            .prop_map(|(w, h)| Schedule::weekly(Weekday::from_days_from_monday(w), h).unwrap()),
        (1u64..200_000).prop_map(|s| Schedule::every(Duration::from_secs(s)).unwrap()),
        any::<u64>().prop_map(|s| Schedule::every(Duration::from_secs(s.max(1))).unwrap()),
    ]
}

fn instant() -> impl Strategy<Value = UnixTime> {
    prop_oneof![
        8 => (0i64..4_102_444_800).prop_map(|s| UnixTime::new(s, 0).unwrap()),
        1 => (UnixTime::MIN.secs()..=UnixTime::MAX.secs(), 0u32..1_000_000_000)
            .prop_map(|(s, n)| UnixTime::new(s, n).unwrap()),
        1 => (0i64..200_000).prop_map(|d| UnixTime::new(UnixTime::MAX.secs() - d, 0).unwrap()),
    ]
}

fn offset() -> impl Strategy<Value = UtcOffset> {
    prop_oneof![
        Just(UtcOffset::UTC),
        (-14i32..=14).prop_map(|h| UtcOffset::from_seconds(h * 3600).unwrap()),
        (-86_399i32..=86_399).prop_map(|s| UtcOffset::from_seconds(s).unwrap()),
    ]
}

#[derive(Clone, Debug)]
enum Event {
    /// A record `len` bytes long stamped `dt` seconds after the previous event.
    Record {
        dt: i64,
        len: u64,
    },
    Request,
    Offset(UtcOffset),
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        12 => (-100i64..4_000, 0u64..300).prop_map(|(dt, len)| Event::Record { dt, len }),
        2 => (-10_000_000i64..10_000_000, prop_oneof![0u64..300, Just(u64::MAX)])
            .prop_map(|(dt, len)| Event::Record { dt, len }),
        1 => Just(Event::Request),
        1 => offset().prop_map(Event::Offset),
    ]
}

fn policy() -> impl Strategy<Value = RotationPolicy> {
    (
        proptest::option::of(prop_oneof![1u64..1_000, Just(u64::MAX)]),
        proptest::option::of(schedule()),
        prop_oneof![Just(60u64), 0u64..100_000],
    )
        .prop_map(|(max, sched, slack)| {
            RotationPolicy::new(max, sched)
                .unwrap()
                .with_backward_slack(slack)
        })
}

/// Is `b` (seconds) a boundary of `s` at `off`?
fn aligned(s: Schedule, b: i64, off: UtcOffset) -> bool {
    period_start(s, UnixTime::new(b, 0).unwrap(), off) == b
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn boundaries_are_after_now_aligned_and_within_one_period(
        s in schedule(), now in instant(), off in offset(),
    ) {
        let b = next_boundary(s, now, off);
        let start = period_start(s, now, off);
        prop_assert!(start <= now.secs());
        if b != NO_BOUNDARY {
            prop_assert!(b > now.secs());
            prop_assert!(i128::from(b) - i128::from(now.secs()) <= i128::from(s.period_secs()));
            prop_assert!(aligned(s, b, off));
            if start > UnixTime::MIN.secs() {
                prop_assert_eq!(i128::from(b) - i128::from(start), i128::from(s.period_secs()));
            }
        } else {
            // Only when the true next boundary is past the supported range.
            let next = i128::from(start) + i128::from(s.period_secs());
            prop_assert!(next > i128::from(UnixTime::MAX.secs()) || start == UnixTime::MIN.secs());
        }
        if start > UnixTime::MIN.secs() {
            prop_assert!(aligned(s, start, off));
        }
    }

    #[test]
    fn machine_invariants_hold_for_any_event_sequence(
        policy in policy(),
        start in instant(),
        start_off in offset(),
        events in proptest::collection::vec(event(), 0..200),
    ) {
        let mut off = start_off;
        let mut now = start.secs();
        let mut r = Rotator::new(policy, start, off);
        // Non-empty records in the current file.
        let mut records = 0u64;
        for ev in events {
            match ev {
                Event::Request => {
                    r.request();
                    continue;
                }
                Event::Offset(o) => {
                    off = o;
                    r.offset_changed(UnixTime::new(now, 0).unwrap(), off);
                    continue;
                }
                Event::Record { dt, len } => {
                    now = now.saturating_add(dt).clamp(UnixTime::MIN.secs(), UnixTime::MAX.secs());
                    let t = UnixTime::new(now, 0).unwrap();
                    let end_before = r.period_end_secs();
                    let requested = r.is_requested();
                    match r.before_write(len, t) {
                        Decision::Write => {
                            prop_assert!(!requested);
                            prop_assert!(now < end_before);
                        }
                        Decision::Rotate(reason) => {
                            match reason {
                                Reason::Manual => prop_assert!(requested),
                                Reason::Time => prop_assert!(now >= end_before),
                                Reason::Size => {
                                    let max = policy.max_size().unwrap();
                                    prop_assert!(r.size() > 0 && len > 0);
                                    prop_assert!(r.size().checked_add(len).is_none_or(|s| s > max));
                                }
                                _ => prop_assert!(false, "unknown reason"),
                            }
                            r.rotated(t, off);
                            records = 0;
                            prop_assert_eq!(r.size(), 0);
                            prop_assert!(!r.is_requested());
                            prop_assert!(r.period_start().secs() <= now);
                            let end = r.period_end_secs();
                            prop_assert!(end > now);
                            if let Some(s) = policy.schedule() {
                                if end != NO_BOUNDARY {
                                    prop_assert!(aligned(s, end, off));
                                    prop_assert_eq!(end, next_boundary(s, t, off));
                                }
                            } else {
                                prop_assert_eq!(end, NO_BOUNDARY);
                            }
                            // Never two rotations for one record.
                            prop_assert_eq!(r.before_write(len, t), Decision::Write);
                        }
                    }
                    r.wrote(len);
                    if len > 0 {
                        records += 1;
                    }
                    if let Some(max) = policy.max_size() {
                        prop_assert!(r.size() <= max || records == 1,
                            "size {} over {} with {} records", r.size(), max, records);
                    }
                }
            }
        }
    }

    #[test]
    fn resume_rotates_iff_the_file_period_has_ended(
        s in schedule(), now in instant(), age in 0i64..20_000_000, off in offset(), size in any::<u64>(),
    ) {
        let policy = RotationPolicy::new(None, Some(s)).unwrap();
        let mtime = UnixTime::from_secs_clamped(now.secs().saturating_sub(age));
        let mut r = Rotator::resume(policy, now, off, size, Some(mtime));
        prop_assert_eq!(r.size(), size);
        let same = period_start(s, mtime, off) == period_start(s, now, off);
        let d = r.before_write(0, now);
        if same {
            prop_assert_eq!(d, Decision::Write);
        } else {
            prop_assert_eq!(d, Decision::Rotate(Reason::Time));
            prop_assert_eq!(r.period_start().secs(), period_start(s, mtime, off));
        }
    }
}

proptest! {
    /// `Rotator::fits` over a batch's total means every record of the batch, decided one by
    /// one at the same instant, is written without a rotation (what lets a writer take the
    /// batch in one step); and it never holds across a pending request or a boundary.
    #[test]
    fn fits_over_a_batch_means_no_record_of_it_rotates(
        policy in policy(),
        start in instant(),
        off in offset(),
        before in proptest::collection::vec((0i64..4_000, 0u64..300), 0..20),
        request in proptest::bool::ANY,
        dt in -100i64..4_000,
        batch in proptest::collection::vec(0u64..300, 1..50),
    ) {
        let mut r = Rotator::new(policy, start, off);
        let mut now = start.secs();
        for (step, len) in before {
            now = now.saturating_add(step).min(UnixTime::MAX.secs());
            let t = UnixTime::new(now, 0).unwrap();
            if r.before_write(len, t) != Decision::Write {
                r.rotated(t, off);
            }
            r.wrote(len);
        }
        if request {
            r.request();
        }
        now = now.saturating_add(dt).clamp(UnixTime::MIN.secs(), UnixTime::MAX.secs());
        let t = UnixTime::new(now, 0).unwrap();
        let total: u64 = batch.iter().sum();
        if r.fits(total, t) {
            prop_assert!(!r.is_requested());
            prop_assert!(now < r.period_end_secs());
            for len in batch {
                prop_assert_eq!(r.before_write(len, t), Decision::Write);
                r.wrote(len);
            }
        }
    }
}

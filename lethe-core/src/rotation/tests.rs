// Unit tests run with std but possibly without the `alloc` feature (no `extern crate alloc`).
#![allow(clippy::std_instead_of_alloc)]

use core::time::Duration;
use std::vec::Vec;

use super::*;
use crate::civil::{DateTime, SECS_PER_DAY, Weekday, days_from_civil};

fn at(y: i32, mo: u8, d: u8, h: u8, mi: u8, s: u8) -> UnixTime {
    let secs = days_from_civil(y, mo, d) * SECS_PER_DAY
        + i64::from(h) * 3600
        + i64::from(mi) * 60
        + i64::from(s);
    UnixTime::new(secs, 0).unwrap()
}

fn t(secs: i64) -> UnixTime {
    UnixTime::new(secs, 0).unwrap()
}

fn off(secs: i32) -> UtcOffset {
    UtcOffset::from_seconds(secs).unwrap()
}

fn policy(max: Option<u64>, schedule: Option<Schedule>) -> RotationPolicy {
    RotationPolicy::new(max, schedule).unwrap()
}

/// Drive the protocol for one record; returns the reason if it rotated.
fn record(r: &mut Rotator, len: u64, now: UnixTime, offset: UtcOffset) -> Option<Reason> {
    let reason = match r.before_write(len, now) {
        Decision::Write => None,
        Decision::Rotate(reason) => {
            r.rotated(now, offset);
            Some(reason)
        }
    };
    r.wrote(len);
    reason
}

#[test]
fn size_only_rotates_before_the_record_that_overflows() {
    let mut r = Rotator::new(policy(Some(10), None), t(0), UtcOffset::UTC);
    assert_eq!(r.period_end_secs(), NO_BOUNDARY);
    assert_eq!(record(&mut r, 4, t(1), UtcOffset::UTC), None);
    assert_eq!(record(&mut r, 6, t(2), UtcOffset::UTC), None); // exactly 10
    assert_eq!(r.size(), 10);
    assert_eq!(r.before_write(0, t(3)), Decision::Write); // a tick never size-rotates
    assert_eq!(record(&mut r, 1, t(3), UtcOffset::UTC), Some(Reason::Size));
    assert_eq!(r.size(), 1);
    assert_eq!(r.sequence(), 1);
    assert_eq!(r.period_sequence(), 0);
    assert_eq!(r.period_start(), t(3)); // size-only: the file's start instant
    assert_eq!(r.file_start(), t(3));
    // Years later: no time trigger without a schedule.
    assert_eq!(r.before_write(1, at(2100, 1, 1, 0, 0, 0)), Decision::Write);
}

#[test]
fn bytes_taken_back_count_no_more_toward_the_size_limit() {
    let mut r = Rotator::new(policy(Some(10), None), t(0), UtcOffset::UTC);
    assert_eq!(record(&mut r, 8, t(1), UtcOffset::UTC), None);
    r.wrote(2); // a record's prefix reached the file, and was then cut off again
    r.took_back(2);
    assert_eq!(r.size(), 8);
    assert_eq!(record(&mut r, 2, t(2), UtcOffset::UTC), None); // exactly 10: no rotation
    r.took_back(100);
    assert_eq!(r.size(), 0, "saturates at an empty file");
}

#[test]
fn record_larger_than_the_limit_goes_alone_into_a_file() {
    let mut r = Rotator::new(policy(Some(10), None), t(0), UtcOffset::UTC);
    assert_eq!(record(&mut r, 25, t(1), UtcOffset::UTC), None); // empty file: no rotation
    assert_eq!(r.size(), 25);
    assert_eq!(record(&mut r, 25, t(2), UtcOffset::UTC), Some(Reason::Size));
    assert_eq!(r.size(), 25);
    // The oversized file rotates before the next record however small, exactly once.
    assert_eq!(record(&mut r, 1, t(3), UtcOffset::UTC), Some(Reason::Size));
    assert_eq!(record(&mut r, 1, t(3), UtcOffset::UTC), None);
    assert_eq!(r.sequence(), 2);
}

#[test]
fn sizes_near_u64_max_do_not_overflow() {
    let mut r = Rotator::new(policy(Some(u64::MAX), None), t(0), UtcOffset::UTC);
    assert_eq!(record(&mut r, u64::MAX - 1, t(1), UtcOffset::UTC), None);
    assert_eq!(record(&mut r, 1, t(1), UtcOffset::UTC), None); // exactly u64::MAX
    assert_eq!(
        r.before_write(u64::MAX, t(1)),
        Decision::Rotate(Reason::Size)
    );
    r.wrote(u64::MAX);
    assert_eq!(r.size(), u64::MAX); // saturates
    let resumed = Rotator::resume(policy(Some(5), None), t(0), UtcOffset::UTC, u64::MAX, None);
    assert_eq!(
        resumed.clone().before_write(1, t(1)),
        Decision::Rotate(Reason::Size)
    );
}

#[test]
fn daily_rotation_across_midnight_uses_the_record_timestamp() {
    let plus1 = off(3600);
    let start = at(2024, 5, 1, 12, 0, 0);
    let mut r = Rotator::new(
        policy(None, Some(Schedule::daily(0).unwrap())),
        start,
        plus1,
    );
    // Local midnight of May 2 is 23:00Z on May 1.
    assert_eq!(r.period_end_secs(), at(2024, 5, 1, 23, 0, 0).secs());
    assert_eq!(r.period_start().secs(), at(2024, 4, 30, 23, 0, 0).secs());
    let last_of_day = UnixTime::new(at(2024, 5, 1, 22, 59, 59).secs(), 999_999_999).unwrap();
    assert_eq!(record(&mut r, 10, last_of_day, plus1), None);
    let first_of_day = at(2024, 5, 1, 23, 0, 0);
    assert_eq!(
        r.before_write(10, first_of_day),
        Decision::Rotate(Reason::Time)
    );
    assert_eq!(r.period_start().secs(), at(2024, 4, 30, 23, 0, 0).secs());
    r.rotated(first_of_day, plus1);
    assert_eq!(r.period_start(), first_of_day);
    assert_eq!(r.period_end_secs(), at(2024, 5, 2, 23, 0, 0).secs());
    assert_eq!(r.before_write(10, first_of_day), Decision::Write);
}

#[test]
fn size_and_time_whichever_comes_first() {
    let hourly = policy(Some(100), Some(Schedule::HOURLY));
    let mut r = Rotator::new(hourly, t(0), UtcOffset::UTC);
    assert_eq!(record(&mut r, 80, t(10), UtcOffset::UTC), None);
    assert_eq!(
        record(&mut r, 80, t(20), UtcOffset::UTC),
        Some(Reason::Size)
    );
    assert_eq!(r.period_sequence(), 1);
    assert_eq!(r.period_start(), t(0));
    assert_eq!(
        record(&mut r, 80, t(30), UtcOffset::UTC),
        Some(Reason::Size)
    );
    assert_eq!(r.period_sequence(), 2);
    // Both would apply: time is reported, and the period restarts.
    assert_eq!(
        record(&mut r, 80, t(3600), UtcOffset::UTC),
        Some(Reason::Time)
    );
    assert_eq!(r.period_sequence(), 0);
    assert_eq!(r.period_start(), t(3600));
    assert_eq!(record(&mut r, 10, t(3601), UtcOffset::UTC), None);
    assert_eq!(r.sequence(), 3);
}

#[test]
fn manual_request_is_reported_once_and_reset() {
    let mut r = Rotator::new(
        policy(Some(100), Some(Schedule::HOURLY)),
        t(0),
        UtcOffset::UTC,
    );
    r.request();
    assert!(r.is_requested());
    // Manual wins over time and size.
    assert_eq!(r.before_write(0, t(3600)), Decision::Rotate(Reason::Manual));
    r.rotated(t(5), UtcOffset::UTC);
    assert!(!r.is_requested());
    assert_eq!(r.before_write(0, t(6)), Decision::Write);
    // A manual rotation of an empty file is allowed (the caller asked).
    r.request();
    assert_eq!(r.before_write(0, t(7)), Decision::Rotate(Reason::Manual));
    let only = Rotator::new(RotationPolicy::MANUAL_ONLY, t(0), UtcOffset::UTC);
    assert_eq!(
        only.clone().before_write(u64::MAX, UnixTime::MAX),
        Decision::Write
    );
}

/// Europe/Paris-like offsets around the 2025 spring and autumn switches.
fn paris(now: i64) -> UtcOffset {
    let spring = at(2025, 3, 30, 1, 0, 0).secs();
    let autumn = at(2025, 10, 26, 1, 0, 0).secs();
    if (spring..autumn).contains(&now) {
        off(7200)
    } else {
        off(3600)
    }
}

/// Records every 10 minutes from `from` to `to`; returns the rotation instants.
fn run_dst(from: UnixTime, to: UnixTime, notify: bool) -> Vec<i64> {
    let daily = policy(None, Some(Schedule::daily(0).unwrap()));
    let mut r = Rotator::new(daily, from, paris(from.secs()));
    let mut rotations = Vec::new();
    let mut now = from.secs();
    while now <= to.secs() {
        let offset = paris(now);
        if notify {
            r.offset_changed(t(now), offset);
        }
        if record(&mut r, 1, t(now), offset).is_some() {
            rotations.push(now);
        }
        now += 600;
    }
    rotations
}

#[test]
fn dst_spring_forward_rotates_at_each_local_midnight() {
    let rotations = run_dst(at(2025, 3, 28, 12, 0, 0), at(2025, 4, 2, 12, 0, 0), true);
    let expected = [
        at(2025, 3, 28, 23, 0, 0), // 29 Mar 00:00 +01
        at(2025, 3, 29, 23, 0, 0), // 30 Mar 00:00 +01
        at(2025, 3, 30, 22, 0, 0), // 31 Mar 00:00 +02
        at(2025, 3, 31, 22, 0, 0),
        at(2025, 4, 1, 22, 0, 0),
    ];
    assert_eq!(rotations, expected.map(UnixTime::secs));
}

#[test]
fn dst_fall_back_rotates_once_at_each_local_midnight() {
    let rotations = run_dst(at(2025, 10, 24, 12, 0, 0), at(2025, 10, 29, 12, 0, 0), true);
    let expected = [
        at(2025, 10, 24, 22, 0, 0), // 25 Oct 00:00 +02
        at(2025, 10, 25, 22, 0, 0), // 26 Oct 00:00 +02
        at(2025, 10, 26, 23, 0, 0), // 27 Oct 00:00 +01
        at(2025, 10, 27, 23, 0, 0),
        at(2025, 10, 28, 23, 0, 0),
    ];
    assert_eq!(rotations, expected.map(UnixTime::secs));
}

#[test]
fn dst_without_notification_still_rotates_once_per_local_day() {
    // The caller only passes the new offset at rotations: the first boundary after the
    // switch is an hour late, but every local day still gets exactly one rotation.
    let rotations = run_dst(at(2025, 3, 28, 12, 0, 0), at(2025, 4, 2, 12, 0, 0), false);
    let mut days: Vec<(u16, u8, u8)> = rotations
        .iter()
        .map(|&s| {
            let d = DateTime::from_unix(t(s), paris(s)).unwrap();
            (d.year, d.month, d.day)
        })
        .collect();
    let n = days.len();
    days.dedup();
    assert_eq!(days.len(), n);
    assert_eq!(n, 5);
    assert_eq!(rotations[2], at(2025, 3, 30, 23, 0, 0).secs()); // 01:00 local, late
    assert_eq!(rotations[3], at(2025, 3, 31, 22, 0, 0).secs()); // back on midnight
}

#[test]
fn offset_change_jumping_over_a_boundary_makes_a_rotation_due() {
    let half = Schedule::every(Duration::from_secs(1800)).unwrap();
    let mut r = Rotator::new(
        policy(None, Some(half)),
        at(2024, 1, 1, 10, 0, 0),
        UtcOffset::UTC,
    );
    let now = at(2024, 1, 1, 10, 20, 0);
    r.offset_changed(now, off(900)); // 10:20 -> 10:35 local
    assert_eq!(r.before_write(1, now), Decision::Rotate(Reason::Time));
    r.rotated(now, off(900));
    assert_eq!(r.period_end_secs(), at(2024, 1, 1, 10, 45, 0).secs()); // 11:00 local
}

#[test]
fn backward_step_within_slack_writes_without_rotating() {
    let mut r = Rotator::new(
        policy(None, Some(Schedule::HOURLY)),
        t(3600),
        UtcOffset::UTC,
    );
    // A record stamped just before the period start (out-of-order producer).
    assert_eq!(record(&mut r, 1, t(3590), UtcOffset::UTC), None);
    assert_eq!(r.period_start(), t(3600));
    assert_eq!(r.period_end_secs(), 7200);
    assert_eq!(record(&mut r, 1, t(3601), UtcOffset::UTC), None);
}

#[test]
fn backward_step_beyond_slack_recomputes_without_rotating() {
    let day = at(2024, 6, 10, 12, 0, 0);
    let mut r = Rotator::new(
        policy(None, Some(Schedule::daily(0).unwrap())),
        day,
        UtcOffset::UTC,
    );
    let back = at(2024, 6, 8, 15, 0, 0); // two days back
    assert_eq!(record(&mut r, 1, back, UtcOffset::UTC), None);
    assert_eq!(r.period_start(), at(2024, 6, 8, 0, 0, 0));
    assert_eq!(r.period_end_secs(), at(2024, 6, 9, 0, 0, 0).secs());
    // Further records in the stepped-back day neither rotate nor recompute again.
    for h in 16..24 {
        assert_eq!(
            record(&mut r, 1, at(2024, 6, 8, h, 0, 0), UtcOffset::UTC),
            None
        );
    }
    // The next local midnight of the new clock rotates, once.
    assert_eq!(
        record(&mut r, 1, at(2024, 6, 9, 0, 0, 1), UtcOffset::UTC),
        Some(Reason::Time)
    );
    assert_eq!(
        record(&mut r, 1, at(2024, 6, 9, 0, 0, 2), UtcOffset::UTC),
        None
    );
    assert_eq!(r.sequence(), 1);

    // A zero slack treats any earlier timestamp as a step.
    let strict = policy(None, Some(Schedule::HOURLY)).with_backward_slack(0);
    let mut r = Rotator::new(strict, t(7200), UtcOffset::UTC);
    assert_eq!(record(&mut r, 1, t(7199), UtcOffset::UTC), None);
    assert_eq!(r.period_start(), t(3600));
    assert_eq!(r.period_end_secs(), 7200);
}

#[test]
fn forward_jump_of_days_rotates_once() {
    let mut r = Rotator::new(
        policy(Some(1000), Some(Schedule::HOURLY)),
        t(0),
        UtcOffset::UTC,
    );
    assert_eq!(record(&mut r, 1, t(10), UtcOffset::UTC), None);
    let later = t(5 * SECS_PER_DAY + 1234);
    assert_eq!(r.before_write(1, later), Decision::Rotate(Reason::Time));
    assert_eq!(r.period_start(), t(0)); // the finished file's period
    r.rotated(later, UtcOffset::UTC);
    r.wrote(1);
    assert_eq!(r.period_start(), t(5 * SECS_PER_DAY));
    assert_eq!(r.period_end_secs(), 5 * SECS_PER_DAY + 3600);
    assert_eq!(r.before_write(1, later), Decision::Write);
    assert_eq!(r.sequence(), 1);
}

#[test]
fn resume_in_the_current_period_keeps_appending() {
    let daily = policy(Some(1000), Some(Schedule::daily(0).unwrap()));
    let now = at(2024, 2, 2, 15, 0, 0);
    let mut r = Rotator::resume(
        daily,
        now,
        UtcOffset::UTC,
        400,
        Some(at(2024, 2, 2, 9, 0, 0)),
    );
    assert_eq!(r.size(), 400);
    assert_eq!(r.period_start(), at(2024, 2, 2, 0, 0, 0));
    assert_eq!(record(&mut r, 600, now, UtcOffset::UTC), None);
    assert_eq!(record(&mut r, 1, now, UtcOffset::UTC), Some(Reason::Size));

    // Unknown mtime or an mtime in the future: also the current period.
    let r = Rotator::resume(daily, now, UtcOffset::UTC, 10, None);
    assert_eq!(r.clone().before_write(1, now), Decision::Write);
    let r = Rotator::resume(
        daily,
        now,
        UtcOffset::UTC,
        10,
        Some(at(2024, 3, 1, 0, 0, 0)),
    );
    assert_eq!(r.clone().before_write(1, now), Decision::Write);
    assert_eq!(r.period_end_secs(), at(2024, 2, 3, 0, 0, 0).secs());
}

#[test]
fn resume_after_the_period_ended_rotates_first() {
    let daily = policy(None, Some(Schedule::daily(0).unwrap()));
    let now = at(2024, 2, 2, 15, 0, 0);
    let mtime = at(2024, 1, 30, 18, 30, 0);
    let mut r = Rotator::resume(daily, now, UtcOffset::UTC, 77, Some(mtime));
    assert_eq!(r.period_start(), at(2024, 1, 30, 0, 0, 0)); // name after its contents
    assert_eq!(r.file_start(), mtime);
    // Even a tick, and even a slightly earlier timestamp, reports the due rotation.
    assert_eq!(
        r.before_write(0, t(now.secs() - 3600)),
        Decision::Rotate(Reason::Time)
    );
    r.rotated(now, UtcOffset::UTC);
    assert_eq!(r.size(), 0);
    assert_eq!(r.period_start(), at(2024, 2, 2, 0, 0, 0));
    assert_eq!(r.before_write(1, now), Decision::Write);
}

#[test]
fn times_near_the_end_of_the_range_do_not_panic() {
    let every = Schedule::every(Duration::from_secs(u64::MAX)).unwrap();
    let mut r = Rotator::new(policy(Some(1), Some(every)), UnixTime::MAX, off(86_399));
    assert_eq!(r.period_end_secs(), NO_BOUNDARY);
    assert_eq!(record(&mut r, 5, UnixTime::MAX, off(-86_399)), None);
    assert_eq!(
        record(&mut r, 5, UnixTime::MIN, off(-86_399)),
        Some(Reason::Size)
    );
    let mut r = Rotator::new(
        policy(None, Some(Schedule::HOURLY)),
        UnixTime::MAX,
        off(86_399),
    );
    assert_eq!(r.period_end_secs(), NO_BOUNDARY);
    assert_eq!(record(&mut r, 1, UnixTime::MAX, off(86_399)), None);
    r.offset_changed(UnixTime::MAX, off(-86_399));
    assert_eq!(r.before_write(1, UnixTime::MIN), Decision::Write); // stepped back: recomputed
    assert!(r.period_end_secs() > UnixTime::MIN.secs());
    let w = Schedule::weekly(Weekday::Sunday, 23).unwrap();
    let r = Rotator::resume(
        policy(None, Some(w)),
        UnixTime::MAX,
        UtcOffset::UTC,
        1,
        Some(UnixTime::MIN),
    );
    assert_eq!(r.period_start(), UnixTime::MIN);
    let r = policy(None, None).with_backward_slack(u64::MAX);
    assert_eq!(r.backward_slack(), i64::MAX as u64);
}

#[test]
fn errors_name_the_value_and_the_rule() {
    use std::string::ToString;
    assert_eq!(
        RotationPolicy::new(Some(0), None),
        Err(PolicyError::ZeroMaxSize)
    );
    let msg = PolicyError::ZeroMaxSize.to_string();
    assert!(
        msg.contains("max_size of 0") && msg.contains("at least 1 byte"),
        "{msg}"
    );
    let msg = PolicyError::ZeroInterval.to_string();
    assert!(msg.contains("0s") && msg.contains("at least 1s"), "{msg}");
    let msg = PolicyError::FractionalInterval {
        secs: 1,
        nanos: 500_000_000,
    }
    .to_string();
    assert!(
        msg.contains("1.500000000s") && msg.contains("whole number"),
        "{msg}"
    );
    let msg = PolicyError::HourOutOfRange { hour: 24 }.to_string();
    assert!(msg.contains("24") && msg.contains("0..=23"), "{msg}");
}

//! Calendar-aligned time schedules and their boundary arithmetic.

use core::fmt;
use core::time::Duration;

use super::PolicyError;
use crate::civil::{SECS_PER_DAY, UnixTime, UtcOffset, Weekday};

/// The value [`next_boundary`] returns when there is no boundary inside the supported
/// range (after [`UnixTime::MAX`]), and [`Rotator::period_end_secs`] returns when no time
/// schedule is configured: no supported instant ever reaches it.
///
/// [`Rotator::period_end_secs`]: super::Rotator::period_end_secs
pub const NO_BOUNDARY: i64 = i64::MAX;

const SECS_PER_HOUR: u64 = 3_600;
const SECS_PER_WEEK: u64 = 7 * SECS_PER_DAY as u64;
/// Days from a Monday to 1970-01-01 (a Thursday), modulo 7.
const EPOCH_DAYS_FROM_MONDAY: u8 = 3;

/// When time-triggered rotations happen: boundaries aligned to the calendar in the UTC
/// offset the caller supplies.
///
/// A `Schedule` is valid by construction (hours are `0..=23`, intervals are whole,
/// non-zero seconds), so the boundary functions are total.
///
/// | constructor | boundaries (local time at the offset in force) |
/// |---|---|
/// | [`Schedule::HOURLY`] | every `HH:00:00` |
/// | [`Schedule::daily`]`(h)` | every day at `h:00:00` |
/// | [`Schedule::weekly`]`(w, h)` | every weekday `w` at `h:00:00` |
/// | [`Schedule::every`]`(d)` | local instants that are a multiple of `d` since 1970-01-01T00:00:00 local |
///
/// ## How `every` aligns
///
/// The grid of [`Schedule::every`] counts from the Unix epoch *as read on the local wall
/// clock*: a boundary is every local time whose seconds since `1970-01-01T00:00:00` (local)
/// are a multiple of the interval. For intervals that divide a day (`30m`, `6h`, `1d`, ...)
/// this puts boundaries at the expected clock times: `:00` and `:30`, or `00/06/12/18`.
/// Intervals that do not divide a day (`7h`, `25h`, `36h`, `1w`, ...) keep their exact
/// spacing and therefore drift across the clock face from day to day: `7h` boundaries
/// fall at different hours each day, and `1w` (604 800 s) falls on Thursdays at 00:00,
/// because 1970-01-01 was a Thursday (use [`Schedule::weekly`] to choose the weekday).
///
/// # Examples
///
/// ```
/// use core::time::Duration;
/// use lethe_core::civil::{UnixTime, UtcOffset, Weekday};
/// use lethe_core::rotation::{Schedule, next_boundary};
///
/// let half_hour = Schedule::every(Duration::from_secs(1800))?;
/// let t = UnixTime::new(1_700_000_000, 0).unwrap(); // 2023-11-14T22:13:20Z
/// assert_eq!(next_boundary(half_hour, t, UtcOffset::UTC), 1_700_001_000); // 22:30:00Z
///
/// let plus2 = UtcOffset::from_seconds(7200).unwrap();
/// let midnight = Schedule::daily(0)?;
/// // 00:13:20 local on the 15th: the next local midnight is 2023-11-16T00:00+02:00.
/// assert_eq!(next_boundary(midnight, t, plus2), 1_700_085_600);
///
/// assert!(Schedule::daily(24).is_err());
/// assert_eq!(Schedule::weekly(Weekday::Monday, 3)?.to_string(), "weekly on Monday at 03:00");
/// # Ok::<(), lethe_core::rotation::PolicyError>(())
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Schedule(Kind);

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Hourly,
    /// Invariant: `hour < 24`.
    Daily {
        hour: u8,
    },
    /// Invariant: `hour < 24`.
    Weekly {
        weekday: Weekday,
        hour: u8,
    },
    /// Invariant: `secs > 0`.
    Every {
        secs: u64,
    },
}

impl Schedule {
    /// Rotate at the start of every local hour.
    pub const HOURLY: Schedule = Schedule(Kind::Hourly);

    /// Rotate every day at `hour:00:00` local time.
    ///
    /// # Errors
    ///
    /// [`PolicyError::HourOutOfRange`] unless `hour <= 23`.
    pub const fn daily(hour: u8) -> Result<Schedule, PolicyError> {
        if hour >= 24 {
            return Err(PolicyError::HourOutOfRange { hour });
        }
        Ok(Schedule(Kind::Daily { hour }))
    }

    /// Rotate every week on `weekday` at `hour:00:00` local time.
    ///
    /// # Errors
    ///
    /// [`PolicyError::HourOutOfRange`] unless `hour <= 23`.
    pub const fn weekly(weekday: Weekday, hour: u8) -> Result<Schedule, PolicyError> {
        if hour >= 24 {
            return Err(PolicyError::HourOutOfRange { hour });
        }
        Ok(Schedule(Kind::Weekly { weekday, hour }))
    }

    /// Rotate every `interval`, on the local-epoch grid described in the type docs.
    ///
    /// Any whole number of seconds is accepted, even one far beyond the supported time
    /// range (its boundaries are then simply [`NO_BOUNDARY`]).
    ///
    /// # Errors
    ///
    /// [`PolicyError::ZeroInterval`] for a zero interval and
    /// [`PolicyError::FractionalInterval`] if `interval` is not a whole number of seconds.
    pub const fn every(interval: Duration) -> Result<Schedule, PolicyError> {
        let secs = interval.as_secs();
        let nanos = interval.subsec_nanos();
        if nanos != 0 {
            return Err(PolicyError::FractionalInterval { secs, nanos });
        }
        if secs == 0 {
            return Err(PolicyError::ZeroInterval);
        }
        Ok(Schedule(Kind::Every { secs }))
    }

    /// The spacing of consecutive boundaries in seconds (never 0).
    pub const fn period_secs(self) -> u64 {
        self.grid().0
    }

    /// `(period, phase)`: boundaries are the local second counts `phase + k * period`.
    /// `period > 0` and `phase < period`.
    const fn grid(self) -> (u64, u64) {
        match self.0 {
            Kind::Hourly => (SECS_PER_HOUR, 0),
            Kind::Daily { hour } => (SECS_PER_DAY as u64, hour as u64 * SECS_PER_HOUR),
            Kind::Weekly { weekday, hour } => {
                // Local day `d` is a `weekday` when (d + 3) % 7 == weekday, i.e.
                // d ≡ weekday - 3 (mod 7).
                let day = (weekday.days_from_monday() + 7 - EPOCH_DAYS_FROM_MONDAY) % 7;
                (
                    SECS_PER_WEEK,
                    day as u64 * SECS_PER_DAY as u64 + hour as u64 * SECS_PER_HOUR,
                )
            }
            Kind::Every { secs } => (secs, 0),
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Kind::Hourly => f.write_str("hourly"),
            Kind::Daily { hour } => write!(f, "daily at {hour:02}:00"),
            Kind::Weekly { weekday, hour } => write!(f, "weekly on {weekday:?} at {hour:02}:00"),
            Kind::Every { secs } => write!(f, "every {secs}s"),
        }
    }
}

/// The index of the grid period containing `secs` (seen at `offset`): period `k` covers
/// the local seconds `[phase + k * period, phase + (k + 1) * period)`.
///
/// All arithmetic is in `i128`, where no input can overflow it.
pub(crate) fn period_index(schedule: Schedule, secs: i64, offset: UtcOffset) -> i128 {
    let (period, phase) = schedule.grid();
    let local = secs as i128 + offset.seconds() as i128;
    (local - phase as i128).div_euclid(period as i128)
}

/// The aligned local start (in local seconds) of the period containing `secs`.
fn local_period_start(schedule: Schedule, secs: i64, offset: UtcOffset) -> i128 {
    let (period, phase) = schedule.grid();
    period_index(schedule, secs, offset) * period as i128 + phase as i128
}

/// The first boundary of `schedule` strictly after `now`, in seconds since the epoch,
/// computed in the UTC offset `offset`.
///
/// The result is always `> now.secs()` and aligned (its local time at `offset` lies on the
/// schedule's grid), except that a boundary after [`UnixTime::MAX`] is reported as
/// [`NO_BOUNDARY`]. Since boundaries are whole seconds, an instant `t` has reached the
/// boundary `b` exactly when `t.secs() >= b`.
///
/// Offsets are the caller's business: pass the offset in force at `now`. If the offset
/// changes before the boundary (a DST switch), recompute (see
/// [`Rotator::offset_changed`](super::Rotator::offset_changed)).
pub fn next_boundary(schedule: Schedule, now: UnixTime, offset: UtcOffset) -> i64 {
    let (period, _) = schedule.grid();
    let next_local = local_period_start(schedule, now.secs(), offset) + period as i128;
    let next = next_local - offset.seconds() as i128;
    if next > UnixTime::MAX.secs() as i128 {
        NO_BOUNDARY
    } else {
        // `next > now.secs() >= UnixTime::MIN.secs()`, so it fits.
        next as i64
    }
}

/// The start of the period of `schedule` that contains `now`: the last boundary at or
/// before `now`, in seconds since the epoch, computed in `offset`.
///
/// Always `<= now.secs()` and aligned, except that a start before [`UnixTime::MIN`] (only
/// possible for long periods near the year 1) is clamped to `UnixTime::MIN.secs()`.
pub fn period_start(schedule: Schedule, now: UnixTime, offset: UtcOffset) -> i64 {
    let start = local_period_start(schedule, now.secs(), offset) - offset.seconds() as i128;
    if start < UnixTime::MIN.secs() as i128 {
        UnixTime::MIN.secs()
    } else {
        // `start <= now.secs() <= UnixTime::MAX.secs()`, so it fits.
        start as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::civil::{DateTime, days_from_civil};

    fn at(y: i32, mo: u8, d: u8, h: u8, mi: u8, s: u8) -> UnixTime {
        let secs = days_from_civil(y, mo, d) * SECS_PER_DAY
            + i64::from(h) * 3600
            + i64::from(mi) * 60
            + i64::from(s);
        UnixTime::new(secs, 0).unwrap()
    }

    fn off(secs: i32) -> UtcOffset {
        UtcOffset::from_seconds(secs).unwrap()
    }

    #[test]
    fn hourly_and_half_hourly_align_to_the_clock() {
        let t = at(2024, 3, 1, 10, 17, 5);
        assert_eq!(
            next_boundary(Schedule::HOURLY, t, UtcOffset::UTC),
            at(2024, 3, 1, 11, 0, 0).secs()
        );
        assert_eq!(
            period_start(Schedule::HOURLY, t, UtcOffset::UTC),
            at(2024, 3, 1, 10, 0, 0).secs()
        );
        // +05:30: local hours start at :30 UTC.
        assert_eq!(
            next_boundary(Schedule::HOURLY, t, off(19_800)),
            at(2024, 3, 1, 10, 30, 0).secs()
        );
        let half = Schedule::every(Duration::from_secs(1800)).unwrap();
        assert_eq!(
            next_boundary(half, t, UtcOffset::UTC),
            at(2024, 3, 1, 10, 30, 0).secs()
        );
        // Exactly on a boundary: the next one is a full period later.
        let on = at(2024, 3, 1, 10, 30, 0);
        assert_eq!(
            next_boundary(half, on, UtcOffset::UTC),
            at(2024, 3, 1, 11, 0, 0).secs()
        );
        assert_eq!(period_start(half, on, UtcOffset::UTC), on.secs());
    }

    #[test]
    fn six_hours_fall_on_local_quarter_days() {
        let six = Schedule::every(Duration::from_secs(6 * 3600)).unwrap();
        let plus1 = off(3600);
        // 2024-03-01T13:00Z is 14:00 local; next local 18:00 is 17:00Z.
        assert_eq!(
            next_boundary(six, at(2024, 3, 1, 13, 0, 0), plus1),
            at(2024, 3, 1, 17, 0, 0).secs()
        );
    }

    #[test]
    fn seven_hours_drift_from_the_local_epoch() {
        let seven = Schedule::every(Duration::from_secs(7 * 3600)).unwrap();
        let t = at(2024, 3, 1, 0, 0, 0);
        let b = next_boundary(seven, t, UtcOffset::UTC);
        assert_eq!(b.rem_euclid(7 * 3600), 0);
        assert!(b > t.secs() && b - t.secs() <= 7 * 3600);
    }

    #[test]
    fn daily_and_weekly_land_on_the_requested_local_time() {
        let minus5 = off(-5 * 3600);
        let d = Schedule::daily(3).unwrap();
        let t = at(2024, 3, 1, 7, 59, 59); // 02:59:59 local
        assert_eq!(next_boundary(d, t, minus5), at(2024, 3, 1, 8, 0, 0).secs());
        let t = at(2024, 3, 1, 8, 0, 0);
        assert_eq!(next_boundary(d, t, minus5), at(2024, 3, 2, 8, 0, 0).secs());

        for wd in 0..7u8 {
            let weekday = Weekday::from_days_from_monday(wd);
            let w = Schedule::weekly(weekday, 5).unwrap();
            let b = next_boundary(w, t, minus5);
            let local = DateTime::from_unix(UnixTime::new(b, 0).unwrap(), minus5).unwrap();
            assert_eq!(local.weekday(), weekday);
            assert_eq!((local.hour, local.minute, local.second), (5, 0, 0));
            assert!(b > t.secs() && b - t.secs() <= SECS_PER_WEEK as i64);
        }
    }

    #[test]
    fn extremes_clamp_instead_of_overflowing() {
        let max = UnixTime::MAX;
        assert_eq!(
            next_boundary(Schedule::HOURLY, max, off(86_399)),
            NO_BOUNDARY
        );
        assert_eq!(
            next_boundary(Schedule::HOURLY, max, off(-86_399)),
            NO_BOUNDARY
        );
        let huge = Schedule::every(Duration::from_secs(u64::MAX)).unwrap();
        // Before 1970 the next multiple of the interval is the local epoch itself.
        assert_eq!(next_boundary(huge, UnixTime::MIN, off(-86_399)), 86_399);
        assert_eq!(
            next_boundary(huge, UnixTime::EPOCH, UtcOffset::UTC),
            NO_BOUNDARY
        );
        assert_eq!(
            period_start(huge, UnixTime::MIN, off(-86_399)),
            UnixTime::MIN.secs()
        );
        assert_eq!(period_start(huge, max, off(86_399)), 0 - 86_399);
        let w = Schedule::weekly(Weekday::Sunday, 23).unwrap();
        assert_eq!(
            period_start(w, UnixTime::MIN, off(-86_399)),
            UnixTime::MIN.secs()
        );
    }

    #[test]
    fn invalid_schedules_are_rejected() {
        assert_eq!(
            Schedule::daily(24),
            Err(PolicyError::HourOutOfRange { hour: 24 })
        );
        assert_eq!(
            Schedule::weekly(Weekday::Friday, 255),
            Err(PolicyError::HourOutOfRange { hour: 255 })
        );
        assert_eq!(
            Schedule::every(Duration::ZERO),
            Err(PolicyError::ZeroInterval)
        );
        assert_eq!(
            Schedule::every(Duration::from_millis(1500)),
            Err(PolicyError::FractionalInterval {
                secs: 1,
                nanos: 500_000_000
            })
        );
    }
}

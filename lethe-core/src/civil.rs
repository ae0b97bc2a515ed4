//! Civil (calendar) time without an allocator, a clock or a time-zone database.
//!
//! Callers supply the current time as [`UnixTime`] and, for local time, the UTC offset in
//! force as [`UtcOffset`]. Time-zone rules (DST) belong to the caller (lethe-std uses
//! `jiff`); this module only does exact proleptic-Gregorian arithmetic.
//!
//! The supported range is the years 1 to 9999, so that every instant has a four-digit
//! year when printed in a backup name.

use core::fmt;

/// Seconds in a day.
pub const SECS_PER_DAY: i64 = 86_400;

/// An instant: whole seconds since 1970-01-01T00:00:00Z plus nanoseconds.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixTime {
    secs: i64,
    nanos: u32,
}

impl UnixTime {
    /// The Unix epoch.
    pub const EPOCH: UnixTime = UnixTime { secs: 0, nanos: 0 };
    /// 0001-01-01T00:00:00Z, the earliest supported instant.
    pub const MIN: UnixTime = UnixTime {
        secs: -62_135_596_800,
        nanos: 0,
    };
    /// 9999-12-31T23:59:59.999999999Z, the latest supported instant.
    pub const MAX: UnixTime = UnixTime {
        secs: 253_402_300_799,
        nanos: 999_999_999,
    };

    /// An instant from seconds and nanoseconds since the epoch.
    ///
    /// Returns `None` if `nanos >= 1_000_000_000` or the instant is outside
    /// [`UnixTime::MIN`]..=[`UnixTime::MAX`].
    pub const fn new(secs: i64, nanos: u32) -> Option<UnixTime> {
        if nanos >= 1_000_000_000 || secs < Self::MIN.secs || secs > Self::MAX.secs {
            None
        } else {
            Some(UnixTime { secs, nanos })
        }
    }

    /// An instant from whole seconds since the epoch, clamped to the supported range.
    pub const fn from_secs_clamped(secs: i64) -> UnixTime {
        if secs < Self::MIN.secs {
            Self::MIN
        } else if secs > Self::MAX.secs {
            UnixTime {
                secs: Self::MAX.secs,
                nanos: 0,
            }
        } else {
            UnixTime { secs, nanos: 0 }
        }
    }

    /// Whole seconds since the epoch (negative before 1970).
    pub const fn secs(self) -> i64 {
        self.secs
    }

    /// Nanoseconds past [`UnixTime::secs`], below 1_000_000_000.
    pub const fn subsec_nanos(self) -> u32 {
        self.nanos
    }
}

/// A fixed offset from UTC, in seconds, strictly between -24 h and +24 h.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UtcOffset(i32);

/// The error for an out-of-range [`UtcOffset`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct OffsetError {
    /// The rejected offset in seconds.
    pub seconds: i32,
}

impl fmt::Display for OffsetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "UTC offset of {} seconds is out of range (must be strictly between -86400 and 86400)",
            self.seconds
        )
    }
}

impl core::error::Error for OffsetError {}

impl UtcOffset {
    /// UTC itself.
    pub const UTC: UtcOffset = UtcOffset(0);

    /// An offset of `seconds` east of UTC (negative is west).
    ///
    /// # Errors
    ///
    /// [`OffsetError`] unless `-86400 < seconds < 86400`.
    pub const fn from_seconds(seconds: i32) -> Result<UtcOffset, OffsetError> {
        if seconds <= -86_400 || seconds >= 86_400 {
            Err(OffsetError { seconds })
        } else {
            Ok(UtcOffset(seconds))
        }
    }

    /// Seconds east of UTC.
    pub const fn seconds(self) -> i32 {
        self.0
    }

    /// Is this UTC?
    pub const fn is_utc(self) -> bool {
        self.0 == 0
    }
}

/// Day of the week.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)]
pub enum Weekday {
    Monday = 0,
    Tuesday = 1,
    Wednesday = 2,
    Thursday = 3,
    Friday = 4,
    Saturday = 5,
    Sunday = 6,
}

impl Weekday {
    /// Days since Monday (Monday = 0, Sunday = 6).
    pub const fn days_from_monday(self) -> u8 {
        self as u8
    }

    /// The weekday `n` days after Monday, modulo 7.
    pub const fn from_days_from_monday(n: u8) -> Weekday {
        match n % 7 {
            0 => Weekday::Monday,
            1 => Weekday::Tuesday,
            2 => Weekday::Wednesday,
            3 => Weekday::Thursday,
            4 => Weekday::Friday,
            5 => Weekday::Saturday,
            _ => Weekday::Sunday,
        }
    }
}

/// A broken-down date and time of day, in some offset the caller keeps track of.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    /// Year, 1..=9999.
    pub year: u16,
    /// Month, 1..=12.
    pub month: u8,
    /// Day of the month, 1..=31.
    pub day: u8,
    /// Hour, 0..=23.
    pub hour: u8,
    /// Minute, 0..=59.
    pub minute: u8,
    /// Second, 0..=59.
    pub second: u8,
}

impl DateTime {
    /// The civil time of `t` as seen at `offset`.
    ///
    /// Returns `None` if the local date falls outside the years 1..=9999.
    pub const fn from_unix(t: UnixTime, offset: UtcOffset) -> Option<DateTime> {
        let local = t.secs + offset.0 as i64;
        let days = local.div_euclid(SECS_PER_DAY);
        let sod = local.rem_euclid(SECS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        if year < 1 || year > 9999 {
            return None;
        }
        Some(DateTime {
            year: year as u16,
            month,
            day,
            hour: (sod / 3600) as u8,
            minute: (sod / 60 % 60) as u8,
            second: (sod % 60) as u8,
        })
    }

    /// Seconds since the epoch of this civil time interpreted at `offset`.
    ///
    /// Returns `None` if a field is out of range (including day 31 of a 30-day month).
    pub const fn to_unix_secs(self, offset: UtcOffset) -> Option<i64> {
        if !self.is_valid() {
            return None;
        }
        let days = days_from_civil(self.year as i32, self.month, self.day);
        Some(
            days * SECS_PER_DAY
                + self.hour as i64 * 3600
                + self.minute as i64 * 60
                + self.second as i64
                - offset.0 as i64,
        )
    }

    /// Are all fields in range?
    pub const fn is_valid(self) -> bool {
        self.year >= 1
            && self.year <= 9999
            && self.month >= 1
            && self.month <= 12
            && self.day >= 1
            && self.day <= days_in_month(self.year as i32, self.month)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60
    }

    /// Day of the week of this date.
    pub const fn weekday(self) -> Weekday {
        weekday_from_days(days_from_civil(self.year as i32, self.month, self.day))
    }
}

/// Is `year` a leap year in the proleptic Gregorian calendar?
pub const fn is_leap_year(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in `month` (1..=12) of `year`; 0 for an invalid month.
pub const fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic-Gregorian date (Howard Hinnant's algorithm).
///
/// The date is not validated; use [`DateTime::is_valid`] first.
pub const fn days_from_civil(year: i32, month: u8, day: u8) -> i64 {
    let y = year as i64 - if month <= 2 { 1 } else { 0 };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The proleptic-Gregorian date `days` after 1970-01-01, as (year, month, day).
///
/// Exact for any `days` whose year fits in an `i32`; callers bound the range.
pub const fn civil_from_days(days: i64) -> (i32, u8, u8) {
    // Clamp so that the arithmetic below can never overflow; such dates are rejected
    // by every caller anyway (their year is far outside 1..=9999).
    let z = if days < -1_000_000_000 {
        -1_000_000_000
    } else if days > 1_000_000_000 {
        1_000_000_000
    } else {
        days
    } + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y as i32, m as u8, d as u8)
}

/// The weekday of the day `days` after 1970-01-01 (a Thursday).
pub const fn weekday_from_days(days: i64) -> Weekday {
    // 1970-01-01 is a Thursday: 3 days after Monday.
    Weekday::from_days_from_monday((days + 3).rem_euclid(7) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(weekday_from_days(0), Weekday::Thursday);
        // 2026-11-23 is a Monday.
        assert_eq!(
            weekday_from_days(days_from_civil(2026, 11, 23)),
            Weekday::Monday
        );
    }

    #[test]
    fn round_trip_every_day_in_range() {
        let first = days_from_civil(1, 1, 1);
        let last = days_from_civil(9999, 12, 31);
        let mut d = first;
        while d <= last {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
            d += 1;
        }
        assert_eq!(first * SECS_PER_DAY, UnixTime::MIN.secs());
        assert_eq!(last * SECS_PER_DAY + SECS_PER_DAY - 1, UnixTime::MAX.secs());
    }

    #[test]
    fn offsets_shift_the_civil_time() {
        let t = UnixTime::new(1_700_000_000, 0).unwrap(); // 2023-11-14T22:13:20Z
        let utc = DateTime::from_unix(t, UtcOffset::UTC).unwrap();
        assert_eq!(
            (utc.year, utc.month, utc.day, utc.hour, utc.minute),
            (2023, 11, 14, 22, 13)
        );
        let plus2 = UtcOffset::from_seconds(7200).unwrap();
        let local = DateTime::from_unix(t, plus2).unwrap();
        assert_eq!((local.day, local.hour), (15, 0));
        assert_eq!(local.to_unix_secs(plus2), Some(t.secs()));
        assert!(UtcOffset::from_seconds(86_400).is_err());
        assert!(UtcOffset::from_seconds(-86_400).is_err());
    }

    #[test]
    fn out_of_range_is_none_not_wrapped() {
        assert!(UnixTime::new(i64::MAX, 0).is_none());
        assert!(UnixTime::new(0, 1_000_000_000).is_none());
        assert!(
            DateTime::from_unix(UnixTime::MAX, UtcOffset::from_seconds(3600).unwrap()).is_none()
        );
        let bad = DateTime {
            year: 2023,
            month: 2,
            day: 29,
            hour: 0,
            minute: 0,
            second: 0,
        };
        assert_eq!(bad.to_unix_secs(UtcOffset::UTC), None);
    }
}

//! A pure rotation state machine: size, calendar-aligned time and manual triggers.
//!
//! [`Rotator`] decides, before each record is written, whether the active file must be
//! rotated first. It performs no I/O and reads no clock: the caller passes the record's
//! timestamp as [`UnixTime`] and, when a period starts, the UTC offset in force as
//! [`UtcOffset`]. It is plain `Copy` data behind `&mut self`; concurrency belongs to the
//! caller.
//!
//! # The protocol
//!
//! For every record of `len` bytes stamped `now`:
//!
//! 1. [`Rotator::before_write`]`(len, now)`. On [`Decision::Rotate`], name the finished
//!    file from [`Rotator::period_start`] (the period its records belong to), rotate it,
//!    then call [`Rotator::rotated`]`(now, offset)`.
//! 2. Write the record, then call [`Rotator::wrote`]`(bytes_written)`.
//!
//! The time check happens *before* the write and against the record's own timestamp, so
//! a record never lands in the window before its own (the logroller #17 bug, which wrote
//! first and checked the clock afterwards). A `len` of 0 is a pure clock tick: it can
//! report a time or manual rotation but never a size rotation, which lets a timer rotate
//! an idle file at its boundary.
//!
//! # Triggers
//!
//! - **Size**: rotate before a record that would push a *non-empty* file past
//!   `max_size`. A record that exactly reaches the limit does not rotate; a record larger
//!   than the limit written into an empty file goes alone into that file (no rotation
//!   loop).
//! - **Time**: rotate at the first record whose timestamp reaches the end of the current
//!   period ([`next_boundary`], an integer compare on the hot path).
//! - **Manual**: [`Rotator::request`] makes the next [`Rotator::before_write`] report
//!   [`Reason::Manual`].
//!
//! When several triggers apply, the reason reported is the first of manual, time, size.
//!
//! # Clock steps and offset changes
//!
//! - **Forward jump** past one or many boundaries: a single rotation ([`Reason::Time`]);
//!   [`Rotator::rotated`] computes the next boundary from the new `now`, so there is never
//!   a burst of rotations for the skipped periods.
//! - **Backward step**: a timestamp earlier than the current period's start by at most the
//!   policy's backward slack ([`RotationPolicy::with_backward_slack`], default
//!   [`DEFAULT_BACKWARD_SLACK_SECS`]) is written to the current file as is: that is the
//!   normal jitter of records stamped on several threads around a boundary. A larger step
//!   is taken as a clock step: the period is recomputed from the new `now` (start and end)
//!   *without rotating*, so the file neither rotates repeatedly nor stalls until the old,
//!   now far-away, boundary.
//! - **Offset change** (DST): boundaries are computed in the offset passed to
//!   [`Rotator::new`], [`Rotator::rotated`] and friends. Call [`Rotator::offset_changed`]
//!   when the offset in force changes mid-period; a daily `00:00` schedule then still
//!   rotates exactly at each local midnight and once per local day.

mod schedule;

use core::fmt;

pub use schedule::{NO_BOUNDARY, Schedule, next_boundary, period_start};

use crate::civil::{UnixTime, UtcOffset};

/// The default tolerance, in seconds, for timestamps earlier than the current period's
/// start before they count as a backward clock step (see the [module docs](self)).
pub const DEFAULT_BACKWARD_SLACK_SECS: u64 = 60;

/// An invalid rotation policy or schedule.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PolicyError {
    /// `max_size` was `Some(0)`.
    ZeroMaxSize,
    /// The interval of [`Schedule::every`] was zero.
    ZeroInterval,
    /// The interval of [`Schedule::every`] was not a whole number of seconds.
    FractionalInterval {
        /// Whole seconds of the rejected interval.
        secs: u64,
        /// Nanoseconds of the rejected interval (non-zero).
        nanos: u32,
    },
    /// An hour of [`Schedule::daily`] or [`Schedule::weekly`] was not in `0..=23`.
    HourOutOfRange {
        /// The rejected hour.
        hour: u8,
    },
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PolicyError::ZeroMaxSize => f.write_str(
                "max_size of 0 bytes is invalid: a size limit must be at least 1 byte \
                 (use no limit instead of 0)",
            ),
            PolicyError::ZeroInterval => {
                f.write_str("rotation interval of 0s is invalid: an interval must be at least 1s")
            }
            PolicyError::FractionalInterval { secs, nanos } => write!(
                f,
                "rotation interval of {secs}.{nanos:09}s is invalid: an interval must be a \
                 whole number of seconds"
            ),
            PolicyError::HourOutOfRange { hour } => {
                write!(
                    f,
                    "rotation hour {hour} is invalid: the hour must be 0..=23"
                )
            }
        }
    }
}

impl core::error::Error for PolicyError {}

/// What triggers a rotation: an optional size limit, an optional time schedule, or both
/// (whichever comes first). With neither, only manual rotations happen.
///
/// | setting | default |
/// |---|---|
/// | `max_size` | none |
/// | `schedule` | none |
/// | backward slack | [`DEFAULT_BACKWARD_SLACK_SECS`] |
///
/// # Examples
///
/// ```
/// use lethe_core::rotation::{PolicyError, RotationPolicy, Schedule};
///
/// let policy = RotationPolicy::new(Some(10 * 1024 * 1024), Some(Schedule::daily(0)?))?;
/// assert_eq!(policy.max_size(), Some(10 * 1024 * 1024));
///
/// let err = RotationPolicy::new(Some(0), None).unwrap_err();
/// assert_eq!(err, PolicyError::ZeroMaxSize);
/// assert!(err.to_string().contains("at least 1 byte"));
/// # Ok::<(), PolicyError>(())
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct RotationPolicy {
    /// Invariant: never `Some(0)`.
    max_size: Option<u64>,
    schedule: Option<Schedule>,
    /// Invariant: `<= i64::MAX as u64`.
    backward_slack: u64,
}

impl RotationPolicy {
    /// A policy rotating only on [`Rotator::request`].
    pub const MANUAL_ONLY: RotationPolicy = RotationPolicy {
        max_size: None,
        schedule: None,
        backward_slack: DEFAULT_BACKWARD_SLACK_SECS,
    };

    /// A policy with an optional size limit in bytes and an optional time schedule.
    ///
    /// # Errors
    ///
    /// [`PolicyError::ZeroMaxSize`] for `Some(0)`. (Schedules are validated when they are
    /// built; see [`Schedule`].)
    pub const fn new(
        max_size: Option<u64>,
        schedule: Option<Schedule>,
    ) -> Result<RotationPolicy, PolicyError> {
        if let Some(0) = max_size {
            return Err(PolicyError::ZeroMaxSize);
        }
        Ok(RotationPolicy {
            max_size,
            schedule,
            backward_slack: DEFAULT_BACKWARD_SLACK_SECS,
        })
    }

    /// This policy with a different tolerance for timestamps before the current period's
    /// start (see the [module docs](self)); values above `i64::MAX` are clamped.
    #[must_use]
    pub const fn with_backward_slack(mut self, secs: u64) -> RotationPolicy {
        self.backward_slack = if secs > i64::MAX as u64 {
            i64::MAX as u64
        } else {
            secs
        };
        self
    }

    /// The size limit in bytes, if any (never `Some(0)`).
    pub const fn max_size(&self) -> Option<u64> {
        self.max_size
    }

    /// The time schedule, if any.
    pub const fn schedule(&self) -> Option<Schedule> {
        self.schedule
    }

    /// The backward-step tolerance in seconds.
    pub const fn backward_slack(&self) -> u64 {
        self.backward_slack
    }
}

/// Why a rotation is due.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// The record would push a non-empty file past the size limit.
    Size,
    /// The record's timestamp reached the end of the file's period.
    Time,
    /// The caller asked for it ([`Rotator::request`]).
    Manual,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason::Size => "size",
            Reason::Time => "time",
            Reason::Manual => "manual",
        })
    }
}

/// The verdict of [`Rotator::before_write`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[must_use]
pub enum Decision {
    /// Write the record into the current file.
    Write,
    /// Rotate first (then call [`Rotator::rotated`]), then write the record.
    Rotate(Reason),
}

/// The rotation state of one active file.
///
/// See the [module docs](self) for the protocol and the rules.
///
/// # Examples
///
/// ```
/// use lethe_core::civil::{UnixTime, UtcOffset};
/// use lethe_core::rotation::{Decision, Reason, RotationPolicy, Rotator, Schedule};
///
/// let policy = RotationPolicy::new(Some(100), Some(Schedule::HOURLY))?;
/// let t = |s| UnixTime::new(s, 0).unwrap();
/// let mut r = Rotator::new(policy, t(7_200), UtcOffset::UTC); // 02:00:00Z
///
/// assert_eq!(r.before_write(60, t(7_210)), Decision::Write);
/// r.wrote(60);
/// assert_eq!(r.before_write(40, t(7_220)), Decision::Write); // exactly 100: fine
/// r.wrote(40);
/// assert_eq!(r.before_write(1, t(7_230)), Decision::Rotate(Reason::Size));
/// r.rotated(t(7_230), UtcOffset::UTC);
/// r.wrote(1);
///
/// // The first record stamped 03:00:00 or later starts a new file.
/// assert_eq!(r.before_write(5, t(10_800)), Decision::Rotate(Reason::Time));
/// assert_eq!(r.period_start().secs(), 7_200); // name the finished file after its period
/// r.rotated(t(10_800), UtcOffset::UTC);
/// assert_eq!(r.period_end_secs(), 14_400);
/// # Ok::<(), lethe_core::rotation::PolicyError>(())
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Rotator {
    policy: RotationPolicy,
    /// Bytes in the active file.
    size: u64,
    /// Start of the current period, seconds. With a schedule: aligned in `start_offset`
    /// (or clamped to `UnixTime::MIN`). Without: the instant the file was started.
    period_start: i64,
    /// The offset `period_start` was computed in.
    start_offset: UtcOffset,
    /// End of the current period, seconds: a time rotation is due once `now >= period_end`.
    /// [`NO_BOUNDARY`] without a schedule, `i64::MIN` when a rotation is already due.
    period_end: i64,
    /// Timestamps below this are a backward clock step: `period_start - slack`, or
    /// `i64::MIN` without a schedule.
    step_floor: i64,
    /// The offset most recently supplied by the caller.
    offset: UtcOffset,
    /// When the active file was started (`now` of the last `new`/`rotated`/`resume`).
    file_start: UnixTime,
    manual: bool,
    sequence: u64,
    period_sequence: u64,
}

impl Rotator {
    /// The state for a new, empty active file started at `now`, with boundaries computed in
    /// `offset`.
    pub fn new(policy: RotationPolicy, now: UnixTime, offset: UtcOffset) -> Rotator {
        let mut r = Rotator {
            policy,
            size: 0,
            period_start: now.secs(),
            start_offset: offset,
            period_end: NO_BOUNDARY,
            step_floor: i64::MIN,
            offset,
            file_start: now,
            manual: false,
            sequence: 0,
            period_sequence: 0,
        };
        r.start_period(now, offset);
        r
    }

    /// The state for an existing active file after a restart.
    ///
    /// `existing_size` is the file's current length. `existing_file_time` is the file's
    /// last modification time (its `mtime`: the time of the last record written to it), or
    /// `None` if unknown or the file is new.
    ///
    /// - Last modified in the current period (at `offset`), or unknown: keep appending;
    ///   the period is the one containing `now`.
    /// - Last modified in an earlier period: the first [`Rotator::before_write`] reports
    ///   [`Reason::Time`], and until then [`Rotator::period_start`] is the start of the
    ///   file's own period, so the backup is named after the records it holds.
    /// - Last modified in the future (the clock stepped back across the restart): treated
    ///   as the current period.
    ///
    /// A file already at or over the size limit rotates before its next non-empty record.
    pub fn resume(
        policy: RotationPolicy,
        now: UnixTime,
        offset: UtcOffset,
        existing_size: u64,
        existing_file_time: Option<UnixTime>,
    ) -> Rotator {
        let mut r = Rotator::new(policy, now, offset);
        r.size = existing_size;
        if let (Some(schedule), Some(mtime)) = (policy.schedule, existing_file_time) {
            let file_period = schedule::period_index(schedule, mtime.secs(), offset);
            let now_period = schedule::period_index(schedule, now.secs(), offset);
            if file_period < now_period {
                r.period_start = period_start(schedule, mtime, offset);
                r.start_offset = offset;
                r.step_floor = i64::MIN;
                r.period_end = i64::MIN;
                r.file_start = mtime;
            }
        }
        r
    }

    /// Decide whether the active file must be rotated before writing a record of `len`
    /// bytes stamped `now` (see the [module docs](self) for the rules).
    ///
    /// Apart from a backward clock step beyond the slack (which recomputes the current
    /// period without rotating), this does not change the state: call
    /// [`Rotator::rotated`] after rotating and [`Rotator::wrote`] after writing.
    pub fn before_write(&mut self, len: u64, now: UnixTime) -> Decision {
        let secs = now.secs();
        if self.manual {
            return Decision::Rotate(Reason::Manual);
        }
        if secs >= self.period_end {
            return Decision::Rotate(Reason::Time);
        }
        if secs < self.step_floor {
            // A backward clock step: the period is recomputed from the new clock.
            self.start_period(now, self.offset);
        }
        if let Some(max) = self.policy.max_size {
            let too_big = match self.size.checked_add(len) {
                Some(total) => total > max,
                None => true,
            };
            if self.size > 0 && len > 0 && too_big {
                return Decision::Rotate(Reason::Size);
            }
        }
        Decision::Write
    }

    /// Whether records totalling `len` bytes, written one after another at `now`, would
    /// each get [`Decision::Write`] from [`before_write`](Rotator::before_write): no
    /// request is pending, `now` is inside the current period and not behind a backward
    /// clock step, and the size limit (if any) holds `len` more bytes. Conservative: a
    /// `false` only means "decide record by record". Does not change the state.
    ///
    /// A writer uses it to take a whole batch in one step instead of one decision per
    /// record.
    pub fn fits(&self, len: u64, now: UnixTime) -> bool {
        let secs = now.secs();
        if self.manual || secs >= self.period_end || secs < self.step_floor {
            return false;
        }
        match self.policy.max_size {
            Some(max) => self.size.checked_add(len).is_some_and(|total| total <= max),
            None => true,
        }
    }

    /// Record that `len` bytes were appended to the active file (saturating).
    pub fn wrote(&mut self, len: u64) {
        self.size = self.size.saturating_add(len);
    }

    /// Record that the last `len` bytes reported through [`Rotator::wrote`] were cut off
    /// the active file again (saturating), as when a record that reached the file only in
    /// part is taken back.
    pub fn took_back(&mut self, len: u64) {
        self.size = self.size.saturating_sub(len);
    }

    /// Record that the active file was rotated at `now` and a new, empty one started; the
    /// next boundary is computed from `now` in `offset` (the offset in force at `now`).
    ///
    /// Clears any pending [`Rotator::request`]. Call [`Rotator::period_start`] *before* this
    /// to name the finished file.
    pub fn rotated(&mut self, now: UnixTime, offset: UtcOffset) {
        let old_start = self.period_start;
        self.size = 0;
        self.manual = false;
        self.sequence = self.sequence.saturating_add(1);
        self.file_start = now;
        self.start_period(now, offset);
        self.period_sequence = match self.policy.schedule {
            Some(_) if self.period_start == old_start => self.period_sequence.saturating_add(1),
            _ => 0,
        };
    }

    /// Ask for a rotation: the next [`Rotator::before_write`] reports [`Reason::Manual`].
    pub fn request(&mut self) {
        self.manual = true;
    }

    /// Tell the rotator that the UTC offset in force at `now` is now `offset` (for example
    /// after a DST switch), so that the current period ends at the right local time.
    ///
    /// - If a time rotation is already due at `now`, nothing changes: [`Rotator::rotated`]
    ///   will use the new offset.
    /// - If `now`, read in the new offset, lies in a later grid period than the current
    ///   period's start (the local clock jumped over a boundary), a time rotation becomes
    ///   due.
    /// - Otherwise the end of the current period is recomputed in `offset`; the start is
    ///   kept. A `00:00` daily period that started at local midnight in `+02:00` thus ends
    ///   at local midnight in `+01:00`, one hour later in UTC, with a single rotation.
    pub fn offset_changed(&mut self, now: UnixTime, offset: UtcOffset) {
        if offset == self.offset {
            return;
        }
        self.offset = offset;
        let Some(schedule) = self.policy.schedule else {
            return;
        };
        if now.secs() >= self.period_end {
            return;
        }
        let start_period = schedule::period_index(schedule, self.period_start, self.start_offset);
        if schedule::period_index(schedule, now.secs(), offset) > start_period {
            self.period_end = i64::MIN;
        } else {
            self.period_end = next_boundary(schedule, now, offset);
        }
    }

    /// The policy this rotator applies.
    pub const fn policy(&self) -> RotationPolicy {
        self.policy
    }

    /// Bytes in the active file, as reported through [`Rotator::wrote`] and
    /// [`Rotator::resume`].
    pub const fn size(&self) -> u64 {
        self.size
    }

    /// The start of the active file's period: with a schedule, the aligned boundary that
    /// opened it (in the offset in force then; clamped to [`UnixTime::MIN`]); without one,
    /// the instant the file was started. Use it to name the file when it is rotated.
    ///
    /// After a backward clock step beyond the slack it moves back with the clock.
    pub fn period_start(&self) -> UnixTime {
        UnixTime::from_secs_clamped(self.period_start)
    }

    /// The instant the active file was started (`now` of the last [`Rotator::new`] or
    /// [`Rotator::rotated`]; for a stale resumed file, its modification time).
    pub const fn file_start(&self) -> UnixTime {
        self.file_start
    }

    /// The end of the current period in seconds since the epoch: a time rotation is due for
    /// any timestamp `t` with `t.secs() >= period_end_secs()`. [`NO_BOUNDARY`] if there is no
    /// schedule or no boundary in the supported range; `i64::MIN` if one is already due.
    pub const fn period_end_secs(&self) -> i64 {
        self.period_end
    }

    /// The UTC offset most recently supplied.
    pub const fn offset(&self) -> UtcOffset {
        self.offset
    }

    /// Rotations since this rotator was created or resumed (saturating).
    pub const fn sequence(&self) -> u64 {
        self.sequence
    }

    /// Rotations since the current time period began: 0 for the first file of a period,
    /// then 1, 2, ... for files started by size or manual rotations within the same
    /// period. Always 0 without a schedule.
    pub const fn period_sequence(&self) -> u64 {
        self.period_sequence
    }

    /// Is a rotation requested through [`Rotator::request`] still pending?
    pub const fn is_requested(&self) -> bool {
        self.manual
    }

    /// Start a new period containing `now`, computed in `offset`.
    fn start_period(&mut self, now: UnixTime, offset: UtcOffset) {
        self.offset = offset;
        self.start_offset = offset;
        match self.policy.schedule {
            Some(schedule) => {
                self.period_start = period_start(schedule, now, offset);
                self.period_end = next_boundary(schedule, now, offset);
                let slack = self.policy.backward_slack as i64; // invariant: <= i64::MAX
                self.step_floor = self.period_start.saturating_sub(slack);
            }
            None => {
                self.period_start = now.secs();
                self.period_end = NO_BOUNDARY;
                self.step_floor = i64::MIN;
            }
        }
    }
}

#[cfg(test)]
mod tests;

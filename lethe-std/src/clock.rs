//! Where the current time comes from.
//!
//! Everything in Lethe that depends on time takes a [`Clock`], so tests drive rotation with
//! a [`ManualClock`] instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use lethe_core::civil::UnixTime;

/// A source of wall-clock time.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> UnixTime;
}

/// The system's real-time clock (`SystemTime::now`).
///
/// Times outside years 1 to 9999 (a badly set clock) are clamped to that range.
#[derive(Copy, Clone, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        system_time_to_unix(SystemTime::now())
    }
}

/// Converts a `SystemTime` (for example a file's modification time) to a [`UnixTime`],
/// clamping to the supported range.
pub fn system_time_to_unix(t: SystemTime) -> UnixTime {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => {
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            UnixTime::new(secs, d.subsec_nanos()).unwrap_or(UnixTime::from_secs_clamped(secs))
        }
        Err(before) => {
            let d = before.duration();
            let secs = i64::try_from(d.as_secs()).map_or(i64::MIN, |s| -s);
            // Round towards the past: -1.5 s is (-2 s, +0.5 s).
            match d.subsec_nanos() {
                0 => UnixTime::from_secs_clamped(secs),
                n => UnixTime::new(secs.saturating_sub(1), 1_000_000_000 - n)
                    .unwrap_or(UnixTime::from_secs_clamped(secs)),
            }
        }
    }
}

/// A clock that only moves when told to. Cloning shares the same time.
///
/// ```
/// use lethe_std::clock::{Clock, ManualClock};
///
/// let clock = ManualClock::new(1_000);
/// clock.advance(60);
/// assert_eq!(clock.now().secs(), 1_060);
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock {
    secs: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock standing at `secs` seconds since the Unix epoch.
    pub fn new(secs: i64) -> ManualClock {
        ManualClock {
            secs: Arc::new(AtomicI64::new(secs)),
        }
    }

    /// Sets the time to `secs` seconds since the epoch (it may go backwards).
    pub fn set(&self, secs: i64) {
        self.secs.store(secs, Ordering::Relaxed);
    }

    /// Moves the time by `secs` seconds (negative moves it back).
    pub fn advance(&self, secs: i64) {
        self.secs.fetch_add(secs, Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        UnixTime::from_secs_clamped(self.secs.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn system_times_convert_on_both_sides_of_the_epoch() {
        let t = system_time_to_unix(UNIX_EPOCH + Duration::new(5, 250));
        assert_eq!((t.secs(), t.subsec_nanos()), (5, 250));
        let t = system_time_to_unix(UNIX_EPOCH - Duration::new(1, 500_000_000));
        assert_eq!((t.secs(), t.subsec_nanos()), (-2, 500_000_000));
        let now = SystemClock.now().secs();
        assert!(now > 1_700_000_000, "{now}");
    }
}

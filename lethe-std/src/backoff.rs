//! [`Backoff`]: exponential backoff with jitter, for everything Lethe retries (the
//! writer's consumer on a failing file, background jobs, syslog's TCP reconnects).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// Exponential backoff with "equal jitter": the n-th consecutive failure waits a random
/// duration between half and all of `min(max, initial * 2^(n-1))`.
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    failures: u32,
    rng: u64,
}

impl Backoff {
    pub(crate) fn new(initial: Duration, max: Duration) -> Backoff {
        let mut h = RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        Backoff {
            initial,
            max,
            failures: 0,
            rng: h.finish(),
        }
    }

    /// The ceiling of the next delay (before jitter).
    fn ceiling(&self) -> Duration {
        let factor = 1u32 << self.failures.min(30);
        self.initial.saturating_mul(factor).min(self.max)
    }

    pub(crate) fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling();
        self.failures = self.failures.saturating_add(1);
        let half = ceiling / 2;
        let spread = u64::try_from((ceiling - half).as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(self.next_random() % spread.saturating_add(1))
    }

    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }

    /// splitmix64: jitter only has to decorrelate clients, not be unpredictable.
    fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Sleeps for [`Backoff::next_delay`].
    pub(crate) fn sleep(&mut self) {
        std::thread::sleep(self.next_delay());
    }
}

//! `rotation_machine`: drives `lethe_core::rotation::Rotator` with a decoded policy and
//! event sequence, and compares every decision and every period with a reference model
//! whose boundaries are found naively by stepping through the civil calendar.

use core::time::Duration;

use lethe_core::civil::{DateTime, UnixTime, UtcOffset, Weekday};
use lethe_core::rotation::{
    Decision, NO_BOUNDARY, Reason, RotationPolicy, Rotator, Schedule, next_boundary, period_start,
};

/// Times stay within these years so the naive calendar model never leaves the range.
const LO: i64 = -2_208_988_800; // 1900-01-01T00:00:00Z
const HI: i64 = 221_845_392_000; // 9000-01-01T00:00:00Z

#[derive(Copy, Clone, Debug)]
enum Sched {
    Hourly,
    Daily(u8),
    Weekly(Weekday, u8),
    Every(u64),
}

impl Sched {
    fn build(self) -> Schedule {
        match self {
            Sched::Hourly => Schedule::HOURLY,
            Sched::Daily(h) => Schedule::daily(h).unwrap(),
            Sched::Weekly(w, h) => Schedule::weekly(w, h).unwrap(),
            Sched::Every(n) => Schedule::every(Duration::from_secs(n)).unwrap(),
        }
    }
}

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn uint(&mut self, n: usize) -> u64 {
        (0..n).fold(0u64, |acc, _| (acc << 8) | u64::from(self.u8()))
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn t(secs: i64) -> UnixTime {
    UnixTime::new(secs, 0).unwrap()
}

fn local_at(dt: DateTime, hour: u8, off: UtcOffset) -> i64 {
    DateTime {
        hour,
        minute: 0,
        second: 0,
        ..dt
    }
    .to_unix_secs(off)
    .unwrap()
}

/// (start, end) of the period containing `now`, found by stepping through the calendar.
fn naive_period(s: Sched, now: i64, off: UtcOffset) -> (i64, i64) {
    let dt = DateTime::from_unix(t(now), off).unwrap();
    let (start, len) = match s {
        Sched::Hourly => (local_at(dt, dt.hour, off), 3600),
        Sched::Daily(h) => {
            let mut c = local_at(dt, h, off);
            while c > now {
                c -= 86_400;
            }
            (c, 86_400)
        }
        Sched::Weekly(w, h) => {
            let mut c = local_at(dt, h, off);
            while c > now || DateTime::from_unix(t(c), off).unwrap().weekday() != w {
                c -= 86_400;
            }
            (c, 7 * 86_400)
        }
        Sched::Every(n) if 86_400 % n == 0 && n >= 60 => {
            // Step from local midnight.
            let mut c = local_at(dt, 0, off);
            while c + n as i64 <= now {
                c += n as i64;
            }
            (c, n as i64)
        }
        Sched::Every(n) => {
            let n = i128::from(n);
            let l = i128::from(now) + i128::from(off.seconds());
            let mut q = l / n;
            if q * n > l {
                q -= 1;
            }
            let start = q * n - i128::from(off.seconds());
            let end = start + n;
            let end = if end > i128::from(UnixTime::MAX.secs()) {
                NO_BOUNDARY
            } else {
                end as i64
            };
            // Starts before year 1 (huge intervals before 1970) are clamped, as documented.
            let start = start.max(i128::from(UnixTime::MIN.secs())) as i64;
            return (start, end);
        }
    };
    (start, start + len)
}

/// The local second count at which the period containing `now` starts (not clamped to
/// the supported range), for comparing periods across offsets.
fn naive_local_start(s: Sched, now: i64, off: UtcOffset) -> i128 {
    match s {
        Sched::Every(n) if !(86_400 % n == 0 && n >= 60) => {
            let n = i128::from(n);
            let l = i128::from(now) + i128::from(off.seconds());
            let r = ((l % n) + n) % n;
            l - r
        }
        _ => i128::from(naive_period(s, now, off).0) + i128::from(off.seconds()),
    }
}

/// The reference model of the rotator.
struct Model {
    max: Option<u64>,
    sched: Option<Sched>,
    slack: i64,
    size: u64,
    manual: bool,
    start: i64,
    /// Local second count of the period start (unclamped).
    start_local: i128,
    end: i64,
    off: UtcOffset,
    seq: u64,
    period_seq: u64,
    /// Non-empty records in the current file, and whether it began oversized (resume).
    records: u64,
    oversized_start: bool,
}

impl Model {
    fn start_period(&mut self, now: i64, off: UtcOffset) {
        self.off = off;
        match self.sched {
            Some(s) => {
                (self.start, self.end) = naive_period(s, now, off);
                self.start_local = naive_local_start(s, now, off);
            }
            None => (self.start, self.end) = (now, NO_BOUNDARY),
        }
    }

    fn before_write(&mut self, len: u64, now: i64) -> Decision {
        if self.manual {
            return Decision::Rotate(Reason::Manual);
        }
        if now >= self.end {
            return Decision::Rotate(Reason::Time);
        }
        if self.sched.is_some() && i128::from(now) < i128::from(self.start) - i128::from(self.slack)
        {
            self.start_period(now, self.off);
        }
        if let Some(max) = self.max
            && self.size > 0
            && len > 0
            && u128::from(self.size) + u128::from(len) > u128::from(max)
        {
            return Decision::Rotate(Reason::Size);
        }
        Decision::Write
    }

    fn rotated(&mut self, now: i64, off: UtcOffset) {
        let old = self.start;
        self.size = 0;
        self.manual = false;
        self.seq += 1;
        self.records = 0;
        self.oversized_start = false;
        self.start_period(now, off);
        self.period_seq = if self.sched.is_some() && self.start == old {
            self.period_seq + 1
        } else {
            0
        };
    }

    fn offset_changed(&mut self, now: i64, off: UtcOffset) {
        if off == self.off {
            return;
        }
        self.off = off;
        let Some(s) = self.sched else { return };
        if now >= self.end {
            return;
        }
        if naive_local_start(s, now, off) > self.start_local {
            self.end = i64::MIN;
        } else {
            self.end = naive_period(s, now, off).1;
        }
    }
}

fn check_against(r: &Rotator, m: &Model) {
    assert_eq!(r.size(), m.size);
    assert_eq!(r.is_requested(), m.manual);
    assert_eq!(r.period_start().secs(), m.start);
    assert_eq!(r.period_end_secs(), m.end);
    assert_eq!(r.offset(), m.off);
    assert_eq!(r.sequence(), m.seq);
    assert_eq!(r.period_sequence(), m.period_seq);
}

fn decode_schedule(b: &mut Bytes<'_>) -> Option<Sched> {
    const DIVISORS: [u64; 9] = [60, 300, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400];
    let h = b.u8() % 24;
    match b.u8() % 8 {
        0 => None,
        1 => Some(Sched::Hourly),
        2 => Some(Sched::Daily(h)),
        3 => Some(Sched::Weekly(Weekday::from_days_from_monday(b.u8()), h)),
        4 => Some(Sched::Every(b.uint(2) + 1)),
        5 => Some(Sched::Every(DIVISORS[usize::from(b.u8()) % DIVISORS.len()])),
        6 => Some(Sched::Every(b.uint(4) + 1)),
        _ => Some(Sched::Every(u64::MAX - b.uint(8) % 1_000_000_000_000)),
    }
}

fn decode_offset(b: &mut Bytes<'_>) -> UtcOffset {
    let raw = b.uint(3) as i64 % 172_799 - 86_399;
    UtcOffset::from_seconds(raw as i32).unwrap()
}

fn clamp(secs: i128) -> i64 {
    secs.clamp(i128::from(LO), i128::from(HI)) as i64
}

/// Decode a policy and events from `data`, run the rotator and the model side by side.
pub fn check(data: &[u8]) {
    let mut b = Bytes(data);
    let sched = decode_schedule(&mut b);
    let max = match b.u8() % 4 {
        0 => None,
        1 => Some(b.uint(2) + 1),
        2 => Some(b.uint(1) + 1),
        _ => Some(u64::MAX - b.uint(1)),
    };
    let slack = match b.u8() % 4 {
        0 => 0,
        1 => 60,
        2 => b.uint(3),
        _ => u64::MAX,
    };
    let policy = RotationPolicy::new(max, sched.map(Sched::build))
        .unwrap()
        .with_backward_slack(slack);
    let mut off = decode_offset(&mut b);
    let mut now = clamp(i128::from(LO) + i128::from(b.uint(5)) % i128::from(HI - LO));

    let mut r = Rotator::new(policy, t(now), off);
    let mut m = Model {
        max,
        sched,
        slack: policy.backward_slack() as i64,
        size: 0,
        manual: false,
        start: 0,
        start_local: 0,
        end: 0,
        off,
        seq: 0,
        period_seq: 0,
        records: 0,
        oversized_start: false,
    };
    m.start_period(now, off);
    check_against(&r, &m);

    let mut steps = 0;
    while !b.is_empty() && steps < 4096 {
        steps += 1;
        match b.u8() % 16 {
            // A record a little after (or, rarely, before) the previous one.
            0..=9 => {
                let dt = b.uint(2) as i64 - 4096;
                now = clamp(i128::from(now) + i128::from(dt));
                let len = match b.u8() % 8 {
                    0 => 0,
                    7 => u64::MAX - b.uint(1),
                    _ => b.uint(2),
                };
                let d = r.before_write(len, t(now));
                assert_eq!(d, m.before_write(len, now), "decision at {now}");
                check_against(&r, &m);
                if let Decision::Rotate(_) = d {
                    r.rotated(t(now), off);
                    m.rotated(now, off);
                    check_against(&r, &m);
                    // Invariants right after a rotation.
                    assert_eq!(r.size(), 0);
                    assert!(r.period_end_secs() > now);
                    assert!(r.period_start().secs() <= now);
                    // The same record never triggers a second rotation.
                    assert_eq!(r.clone().before_write(len, t(now)), Decision::Write);
                }
                r.wrote(len);
                m.size = m.size.saturating_add(len);
                if len > 0 {
                    m.records += 1;
                }
                if let Some(max) = max
                    && m.size > max
                {
                    assert!(m.records == 1 || m.oversized_start, "file over the limit");
                }
            }
            // Jump the clock by up to ~±100 days.
            10 | 11 => {
                let dt = b.uint(4) as i64 % 17_280_000 - 8_640_000;
                now = clamp(i128::from(now) + i128::from(dt));
            }
            12 => {
                r.request();
                m.manual = true;
            }
            13 => {
                off = decode_offset(&mut b);
                r.offset_changed(t(now), off);
                m.offset_changed(now, off);
            }
            14 => {
                // Restart: resume from the model's file size and a modification time.
                let back = b.uint(4) as i64 % 20_000_000 - 1_000_000;
                let mtime = (b.u8() % 4 != 0).then(|| clamp(i128::from(now) - i128::from(back)));
                r = Rotator::resume(policy, t(now), off, m.size, mtime.map(t));
                let size = m.size;
                m.manual = false;
                m.seq = 0;
                m.period_seq = 0;
                m.records = 0;
                m.start_period(now, off);
                m.size = size;
                m.oversized_start = max.is_some_and(|x| size > x);
                if let (Some(s), Some(mt)) = (sched, mtime) {
                    let (file_start, _) = naive_period(s, mt, off);
                    let (now_start, _) = naive_period(s, now, off);
                    if file_start < now_start {
                        m.start = file_start;
                        m.start_local = naive_local_start(s, mt, off);
                        m.end = i64::MIN;
                    }
                }
                assert_eq!(
                    r.file_start().secs(),
                    if m.end == i64::MIN {
                        mtime.unwrap()
                    } else {
                        now
                    }
                );
            }
            _ => {
                // The pure boundary functions agree with the naive calendar walk.
                if let Some(s) = sched {
                    let (start, end) = naive_period(s, now, off);
                    assert_eq!(period_start(s.build(), t(now), off), start);
                    assert_eq!(next_boundary(s.build(), t(now), off), end);
                    assert!(end > now);
                }
            }
        }
        check_against(&r, &m);
    }
}

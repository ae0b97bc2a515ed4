//! [`Queue`]: a lock-free ring and one delivery thread in front of a [`Backend`], so a
//! backend that blocks (a socket, a pipe nobody reads) never blocks a logging thread.
//! Each ring record is one byte of level followed by the formatted record.

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use lethe_core::ring::{Ring, Slot, WriteGrant};

use super::backend::Backend;
use super::level::Level;
use super::metrics::DestCounters;

pub(crate) type SharedBackend = Arc<Mutex<Box<dyn Backend>>>;
pub(crate) type ErrorHook = Arc<dyn Fn(&str, &dyn std::error::Error) + Send + Sync>;

pub(crate) fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How a failing backend hands over to the fallback.
#[derive(Clone)]
pub(crate) struct FailOver {
    pub(crate) fallback: Option<SharedBackend>,
    /// Errors in a row after which records go to the fallback.
    pub(crate) after: u32,
    /// While failed over, how often the backend is tried again.
    pub(crate) retry: Duration,
}

/// A closed [`Queue`] refused a record.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Closed;

pub(crate) struct Queue {
    pub(crate) ring: Ring<Box<[Slot]>>,
    backend: Mutex<Box<dyn Backend>>,
    closed: AtomicBool,
    /// The delivery thread announced it is about to park.
    parked: AtomicBool,
    thread: Mutex<Option<JoinHandle<()>>>,
    waker: Mutex<Option<Thread>>,
}

/// Writes one record to a backend, catching a panic.
pub(crate) fn write_caught(
    backend: &mut dyn Backend,
    level: Level,
    bytes: &[u8],
) -> io::Result<()> {
    match catch_unwind(AssertUnwindSafe(|| backend.write(level, bytes))) {
        Ok(r) => r,
        Err(_) => Err(io::Error::other("the backend panicked")),
    }
}

/// Sends a record to the fallback, counting the outcome.
pub(crate) fn to_fallback(
    fail: &FailOver,
    counters: &DestCounters,
    level: Level,
    bytes: &[u8],
) -> bool {
    let Some(fb) = &fail.fallback else {
        return false;
    };
    if write_caught(&mut **lock(fb), level, bytes).is_ok() {
        counters.fallback.add(1);
        true
    } else {
        false
    }
}

impl Queue {
    pub(crate) fn start(
        name: &str,
        capacity: usize,
        backend: Box<dyn Backend>,
        counters: Arc<DestCounters>,
        fail: FailOver,
        on_error: ErrorHook,
    ) -> io::Result<Arc<Queue>> {
        let ring = Ring::with_capacity(capacity).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("queue capacity {capacity}: {e}"),
            )
        })?;
        let q = Arc::new(Queue {
            ring,
            backend: Mutex::new(backend),
            closed: AtomicBool::new(false),
            parked: AtomicBool::new(false),
            thread: Mutex::new(None),
            waker: Mutex::new(None),
        });
        let worker = Arc::clone(&q);
        let dest = name.to_owned();
        let join = std::thread::Builder::new()
            .name(format!("lethe-log-{name}"))
            .spawn(move || worker.deliver_loop(&dest, &counters, &fail, &*on_error))?;
        *lock(&q.waker) = Some(join.thread().clone());
        *lock(&q.thread) = Some(join);
        Ok(q)
    }

    /// Claims room for a record of up to `len` bytes (plus the level byte), never waiting:
    /// `Ok(None)` when the ring is full right now, [`Closed`] once the queue was closed
    /// (it takes no record again, so waiting for room would be in vain).
    #[inline]
    pub(crate) fn try_reserve(
        &self,
        len: usize,
        level: Level,
    ) -> Result<Option<WriteGrant<'_, Box<[Slot]>>>, Closed> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(Closed);
        }
        let Ok(mut g) = self.ring.reserve(len + 1) else {
            return Ok(None);
        };
        if g.push(&[level as u8]).is_err() {
            return Ok(None);
        }
        Ok(Some(g))
    }

    /// The longest record (without the level byte) the ring takes.
    pub(crate) fn max_record(&self) -> usize {
        self.ring.max_record_len() - 1
    }

    /// Wakes the delivery thread if it sleeps and the ring is at least half full.
    #[inline]
    pub(crate) fn committed(&self) {
        if self.parked.load(Ordering::Relaxed)
            && self.ring.used() * 2 >= self.ring.capacity()
            && self.parked.swap(false, Ordering::AcqRel)
        {
            self.wake();
        }
    }

    fn wake(&self) {
        if let Some(t) = lock(&self.waker).as_ref() {
            t.unpark();
        }
    }

    fn deliver_loop(
        &self,
        name: &str,
        counters: &DestCounters,
        fail: &FailOver,
        on_error: &dyn Fn(&str, &dyn std::error::Error),
    ) {
        let Some(mut consumer) = self.ring.consumer() else {
            return;
        };
        let mut in_a_row = 0u32;
        let mut last_try: Option<Instant> = None;
        let mut idle = 0u32;
        loop {
            let grant = consumer.read_up_to(256, 1 << 20);
            let Some(grant) = grant else {
                if self.closed.load(Ordering::Acquire) && !consumer.has_committed() {
                    if self.ring.is_empty() {
                        break;
                    }
                    // A producer still holds a reservation: let it finish.
                    std::thread::yield_now();
                    continue;
                }
                idle += 1;
                if idle < 64 {
                    std::hint::spin_loop();
                } else if idle < 96 {
                    std::thread::yield_now();
                } else {
                    self.parked.store(true, Ordering::SeqCst);
                    if !consumer.has_committed() && !self.closed.load(Ordering::SeqCst) {
                        std::thread::park_timeout(Duration::from_millis(2));
                    }
                    self.parked.store(false, Ordering::Relaxed);
                }
                continue;
            };
            idle = 0;
            let mut backend = lock(&self.backend);
            for record in grant.records() {
                let Some((&lvl, bytes)) = record.split_first() else {
                    continue;
                };
                let level = Level::ALL[usize::from(lvl).min(5)];
                let failed_over = in_a_row >= fail.after && fail.fallback.is_some();
                let try_primary =
                    !failed_over || last_try.is_none_or(|t| t.elapsed() >= fail.retry);
                if try_primary {
                    if failed_over {
                        last_try = Some(Instant::now());
                    }
                    match write_caught(&mut **backend, level, bytes) {
                        Ok(()) => {
                            in_a_row = 0;
                            continue;
                        }
                        Err(e) => {
                            counters.errors.add(1);
                            in_a_row = in_a_row.saturating_add(1);
                            if in_a_row == fail.after {
                                last_try = Some(Instant::now());
                            }
                            on_error(name, &e);
                        }
                    }
                }
                if !to_fallback(fail, counters, level, bytes) {
                    counters.lost.add(1);
                }
            }
            drop(backend);
            grant.release();
        }
        let _ = lock(&self.backend).flush();
    }

    /// Waits until every record committed before the call has been handed to the
    /// backend, then flushes the backend; gives up at `deadline`.
    pub(crate) fn flush(&self, deadline: Instant) -> io::Result<()> {
        let target = self.ring.claimed_position();
        loop {
            let consumed = self.ring.consumed_position();
            if (consumed.wrapping_sub(target) as isize) >= 0 {
                break;
            }
            if lock(&self.thread)
                .as_ref()
                .is_none_or(JoinHandle::is_finished)
            {
                return Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the destination's delivery thread is gone",
                ));
            }
            if Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the destination did not drain in time",
                ));
            }
            self.wake();
            std::thread::sleep(Duration::from_micros(200));
        }
        lock(&self.backend).flush()
    }

    /// Stops accepting records, lets the delivery thread drain the ring and joins it;
    /// gives up waiting at `deadline` (the thread then finishes on its own).
    pub(crate) fn close(&self, deadline: Instant) -> io::Result<()> {
        self.closed.store(true, Ordering::SeqCst);
        self.wake();
        let join = lock(&self.thread).take();
        let Some(join) = join else { return Ok(()) };
        while !join.is_finished() {
            if Instant::now() >= deadline {
                *lock(&self.thread) = Some(join);
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the destination did not drain in time",
                ));
            }
            self.wake();
            std::thread::sleep(Duration::from_micros(200));
        }
        join.join()
            .map_err(|_| io::Error::other("the destination's delivery thread panicked"))
    }

    /// Tells the delivery thread to drain the ring and stop, without waiting for it.
    pub(crate) fn signal_close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.wake();
    }
}

//! [`Queue`]: a lock-free ring and one delivery thread in front of a [`Backend`], so a
//! backend that blocks (a socket, a pipe nobody reads) never blocks a logging thread.
//! Each ring record is one byte of level followed by the formatted record.

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
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
    /// A flusher asked the delivery thread to flush the backend (see [`Queue::flush`]).
    flush_wanted: AtomicBool,
    flushes: Mutex<Flushes>,
    /// Notified when the delivery thread has served flushes.
    flushed: Condvar,
}

/// The backend's flushes, which the delivery thread does for [`Queue::flush`]: only that
/// thread calls the backend, so a backend stuck in a write or a flush holds up no caller
/// beyond its deadline.
#[derive(Default)]
struct Flushes {
    /// Flushes asked for so far; a flusher's ticket is the count with its own.
    requested: u64,
    /// Tickets served: the backend was flushed after they were asked for.
    served: u64,
    /// The error of the last flush served, if it failed.
    error: Option<(io::ErrorKind, String)>,
    /// The delivery thread has made its last flush (after every record it wrote) and
    /// serves no more: later tickets get that flush's result.
    gone: bool,
}

/// Flushes a backend, catching a panic.
fn flush_caught(backend: &mut dyn Backend) -> io::Result<()> {
    match catch_unwind(AssertUnwindSafe(|| backend.flush())) {
        Ok(r) => r,
        Err(_) => Err(io::Error::other("the backend panicked while flushing")),
    }
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
            flush_wanted: AtomicBool::new(false),
            flushes: Mutex::new(Flushes::default()),
            flushed: Condvar::new(),
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

    /// The delivery thread: writes the records to the backend until the queue is closed
    /// and drained, then flushes it a last time, which serves every flush asked for.
    fn deliver_loop(
        &self,
        name: &str,
        counters: &DestCounters,
        fail: &FailOver,
        on_error: &dyn Fn(&str, &dyn std::error::Error),
    ) {
        self.deliver(name, counters, fail, on_error);
        let r = flush_caught(&mut **lock(&self.backend));
        self.served(u64::MAX, r, true);
    }

    /// Flushes the backend if a flusher asked for it (see [`Queue::flush`]).
    fn serve_flushes(&self) {
        if !self.flush_wanted.swap(false, Ordering::AcqRel) {
            return;
        }
        // Tickets up to this one were asked for before the flush below starts.
        let requested = lock(&self.flushes).requested;
        let r = flush_caught(&mut **lock(&self.backend));
        self.served(requested, r, false);
    }

    /// Records that the tickets up to `requested` are served, with the flush's result
    /// (`gone`: the thread's last flush, which serves every ticket).
    fn served(&self, requested: u64, r: io::Result<()>, gone: bool) {
        let mut f = lock(&self.flushes);
        f.served = f.served.max(requested);
        f.error = r.err().map(|e| (e.kind(), e.to_string()));
        f.gone |= gone;
        drop(f);
        self.flushed.notify_all();
    }

    fn deliver(
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
            // A relaxed load each round, on this thread only (never on the logging path).
            if self.flush_wanted.load(Ordering::Relaxed) {
                self.serve_flushes();
            }
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
            // A user's backend that panics here keeps the last count it gave.
            if let Ok(n) = catch_unwind(AssertUnwindSafe(|| backend.truncated())) {
                counters.truncated.store(n, Ordering::Relaxed);
            }
            drop(backend);
            grant.release();
        }
    }

    /// Waits until every record committed before the call has been handed to the
    /// backend, then until the delivery thread has flushed the backend; gives up at
    /// `deadline` (`TimedOut`), even if the backend is stuck in a write or a flush.
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
        let mut f = lock(&self.flushes);
        f.requested += 1;
        let ticket = f.requested;
        self.flush_wanted.store(true, Ordering::Release);
        self.wake();
        loop {
            // Served, or the thread is gone, its last flush made after every record.
            if f.served >= ticket || f.gone {
                return match &f.error {
                    None => Ok(()),
                    Some((kind, message)) => Err(io::Error::new(*kind, message.clone())),
                };
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the destination's backend did not flush in time",
                ));
            }
            // `served` notifies after every flush it records.
            f = self
                .flushed
                .wait_timeout(f, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Condvar;

    /// A backend whose `flush` blocks while its gate is closed.
    struct StuckFlush(Arc<(Mutex<bool>, Condvar)>);

    impl Backend for StuckFlush {
        fn write(&mut self, _: Level, _: &[u8]) -> io::Result<()> {
            Ok(())
        }

        fn flush(&mut self) -> io::Result<()> {
            let (gate, opened) = &*self.0;
            let mut closed = lock(gate);
            while *closed {
                closed = opened.wait(closed).unwrap_or_else(PoisonError::into_inner);
            }
            Err(io::Error::other("flushed late"))
        }
    }

    /// A backend stuck in its flush holds `Queue::flush` up to its deadline, not longer;
    /// once it flushes, `flush` returns the flush's own result.
    #[test]
    fn flush_gives_up_on_a_backend_stuck_in_its_flush() {
        let gate = Arc::new((Mutex::new(true), Condvar::new()));
        let q = Queue::start(
            "stuck",
            4096,
            Box::new(StuckFlush(Arc::clone(&gate))),
            Arc::new(DestCounters::default()),
            FailOver {
                fallback: None,
                after: 3,
                retry: Duration::from_secs(1),
            },
            Arc::new(|_: &str, _: &dyn std::error::Error| {}),
        )
        .unwrap();
        let Ok(Some(mut g)) = q.try_reserve(5, Level::Info) else {
            panic!("an empty queue has room");
        };
        g.push(b"hello").unwrap();
        g.commit_written();
        q.committed();
        // On a thread of its own, so that a flush that never returns fails the test.
        let (tx, rx) = std::sync::mpsc::channel();
        let flusher = Arc::clone(&q);
        std::thread::spawn(move || {
            let _ = tx.send(flusher.flush(Instant::now() + Duration::from_millis(200)));
        });
        let first = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("flush waited for a backend stuck in its flush");
        assert_eq!(first.unwrap_err().kind(), io::ErrorKind::TimedOut);
        *lock(&gate.0) = false;
        gate.1.notify_all();
        let second = q.flush(Instant::now() + Duration::from_secs(30));
        assert_eq!(second.unwrap_err().to_string(), "flushed late");
        q.close(Instant::now() + Duration::from_secs(30)).unwrap();
        // After the delivery thread is gone: the result of its last flush, at once.
        let after = q.flush(Instant::now());
        assert_eq!(after.unwrap_err().to_string(), "flushed late");
    }
}

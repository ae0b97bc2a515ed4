//! [`Destination`]: where records go (a rotating file, stdout, stderr, any [`Backend`]),
//! with its own level, filter, formatter, delivery policy and fallback; and
//! [`DestinationHandle`], to control one at runtime.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::backend::{Backend, Stderr, Stdout};
use super::filter::Filter;
use super::format::{Formatter, Json, Out};
use super::level::{AtomicLevel, Level};
use super::metrics::{Counter, DestCounters, DestinationMetrics};
use super::queue::{ErrorHook, FailOver, Queue, to_fallback};
use super::record::Record;
use crate::{Error, Writer, WriterOptions};

/// What a destination does when its buffer (the file's ring or the backend's queue) is
/// full.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// Wait for room, up to `max_wait`. A wait that times out marks the destination
    /// *stalled*: later records do not wait at all (they go to the fallback, or are
    /// dropped and counted) until a record finds room again. So a destination that
    /// stops draining (a full disk, a hung socket) delays the application once by
    /// `max_wait`, never again until it recovers, and never blocks the other
    /// destinations for longer than that.
    Block {
        /// The longest one record waits.
        max_wait: Duration,
    },
    /// Never wait: a record that finds no room goes to the fallback, or is dropped and
    /// counted in [`DestinationMetrics::dropped`].
    Drop,
}

impl Default for Delivery {
    /// `Block { max_wait: 1 s }`.
    fn default() -> Delivery {
        Delivery::Block {
            max_wait: Duration::from_secs(1),
        }
    }
}

enum Kind {
    File(Writer),
    Backend(Box<dyn Backend>),
}

/// The configuration of one destination; add it to a logger with
/// [`Logger::add`](crate::logger::Logger::add) or
/// [`LoggerBuilder::destination`](crate::logger::LoggerBuilder::destination).
///
/// | setting | default |
/// |---|---|
/// | [`name`](Destination::name) | `file`, `stdout`, `stderr`, or the backend's given name |
/// | [`level`](Destination::level) | everything the logger lets through |
/// | [`filter`](Destination::filter) | none |
/// | [`formatter`](Destination::formatter) | [`Json`] |
/// | [`delivery`](Destination::delivery) | [`Delivery::Block`] for at most 1 s |
/// | [`reservation`](Destination::reservation) | 1 KiB (longer records take a slower path) |
/// | [`queue_capacity`](Destination::queue_capacity) | 256 KiB (backends only) |
/// | [`fallback`](Destination::fallback) | none |
/// | [`fail_after`](Destination::fail_after) | 3 errors in a row |
/// | [`retry_every`](Destination::retry_every) | 1 s |
///
/// A file destination writes through a [`Writer`] (its ring, consumer thread, rotation,
/// compression and retention): records are formatted straight into the writer's ring.
/// A backend destination gets a ring and a delivery thread of its own, so the backend
/// is never called on the logging thread.
pub struct Destination {
    pub(crate) name: String,
    kind: Kind,
    level: Option<Level>,
    filter: Option<Box<dyn Filter>>,
    formatter: Box<dyn Formatter>,
    delivery: Delivery,
    reservation: usize,
    queue_capacity: usize,
    fallback: Option<Box<dyn Backend>>,
    fail_after: u32,
    retry_every: Duration,
    enabled: bool,
}

impl fmt::Debug for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Destination")
            .field("name", &self.name)
            .field("level", &self.level)
            .field("delivery", &self.delivery)
            .field("reservation", &self.reservation)
            .finish_non_exhaustive()
    }
}

impl Destination {
    fn new(name: &str, kind: Kind) -> Destination {
        Destination {
            name: name.to_owned(),
            kind,
            level: None,
            filter: None,
            formatter: Box::new(Json::default()),
            delivery: Delivery::default(),
            reservation: 1024,
            queue_capacity: 256 << 10,
            fallback: None,
            fail_after: 3,
            retry_every: Duration::from_secs(1),
            enabled: true,
        }
    }

    /// Records go to this rotating file writer (named `file`). The destination sets the
    /// writer's error handler: the writer's errors are counted as the destination's and
    /// reported to the logger's error hook.
    pub fn file(writer: Writer) -> Destination {
        Destination::new("file", Kind::File(writer))
    }

    /// Opens a rotating file writer at `path` (see [`Writer::open`]).
    ///
    /// # Errors
    ///
    /// As [`Writer::open`].
    pub fn open_file(path: impl AsRef<Path>, options: WriterOptions) -> Result<Destination, Error> {
        Ok(Destination::file(Writer::open(path, options)?))
    }

    /// Standard output (named `stdout`).
    pub fn stdout() -> Destination {
        Destination::new("stdout", Kind::Backend(Box::new(Stdout)))
    }

    /// Standard error (named `stderr`).
    pub fn stderr() -> Destination {
        Destination::new("stderr", Kind::Backend(Box::new(Stderr)))
    }

    /// Any backend, under this name.
    pub fn backend(name: &str, backend: impl Backend) -> Destination {
        Destination::new(name, Kind::Backend(Box::new(backend)))
    }

    /// The name that identifies it in the logger (for [`remove`](crate::logger::Logger::remove),
    /// [`destination`](crate::logger::Logger::destination) and metrics). Names are unique
    /// within a logger.
    #[must_use]
    pub fn name(mut self, name: &str) -> Destination {
        name.clone_into(&mut self.name);
        self
    }

    /// Only records at `min` and above.
    #[must_use]
    pub fn level(mut self, min: Level) -> Destination {
        self.level = Some(min);
        self
    }

    /// Only records `filter` allows (counted in [`DestinationMetrics::filtered`]).
    #[must_use]
    pub fn filter(mut self, filter: impl Filter + 'static) -> Destination {
        self.filter = Some(Box::new(filter));
        self
    }

    /// The format ([`Json`], [`Text`](super::format::Text),
    /// [`Logfmt`](super::format::Logfmt), or your own).
    #[must_use]
    pub fn formatter(mut self, formatter: impl Formatter + 'static) -> Destination {
        self.formatter = Box::new(formatter);
        self
    }

    /// The delivery policy when the buffer is full.
    #[must_use]
    pub fn delivery(mut self, delivery: Delivery) -> Destination {
        self.delivery = delivery;
        self
    }

    /// Bytes reserved in the ring for each record before formatting into it. The unused
    /// rest is given back if no other thread claimed ring space meanwhile; otherwise it
    /// stays in the ring, skipped, until the consumer passes it. So with several threads
    /// logging at once, a reservation much larger than the records makes the ring hold
    /// fewer of them (150-byte records filling a 1 MiB ring: about 6 500 from one thread
    /// whatever the reservation, 2 300–3 500 from two contending threads with 1 KiB
    /// reservations; `cargo run --release -p lethe-benches --example reservation_fill`).
    /// A record that does not fit is formatted again into a thread-local
    /// buffer and copied (counted in [`DestinationMetrics::oversized`]). Clamped to the
    /// ring's record limit.
    #[must_use]
    pub fn reservation(mut self, bytes: usize) -> Destination {
        self.reservation = bytes.max(16);
        self
    }

    /// A backend destination's queue, in bytes (a power of two, 64 B to 2 GiB).
    #[must_use]
    pub fn queue_capacity(mut self, bytes: usize) -> Destination {
        self.queue_capacity = bytes;
        self
    }

    /// Where records go when this destination keeps failing: for a backend, after
    /// [`fail_after`](Destination::fail_after) errors in a row (the backend is tried again
    /// every [`retry_every`](Destination::retry_every)); for any destination, records that
    /// find no room (see [`Delivery`]). Counted in [`DestinationMetrics::fallback`].
    ///
    /// The fallback is called directly, under a lock: on the destination's delivery
    /// thread for a failing backend's records, and **on the logging thread** for records
    /// that find no room. So it must not block (standard error, a local file): a
    /// fallback that blocks holds up the application, which no [`Delivery`] bound covers.
    #[must_use]
    pub fn fallback(mut self, backend: impl Backend) -> Destination {
        self.fallback = Some(Box::new(backend));
        self
    }

    /// Errors in a row after which a backend's records go to the fallback.
    #[must_use]
    pub fn fail_after(mut self, errors: u32) -> Destination {
        self.fail_after = errors.max(1);
        self
    }

    /// While failed over, how often the backend is tried again.
    #[must_use]
    pub fn retry_every(mut self, every: Duration) -> Destination {
        self.retry_every = every;
        self
    }

    /// Starts disabled (enable it later through its [`DestinationHandle`]).
    #[must_use]
    pub fn disabled(mut self) -> Destination {
        self.enabled = false;
        self
    }

    /// Starts the destination (its delivery thread, for a backend). Records that reach
    /// it after it was closed are counted in `after_close` (the logger's
    /// [`LoggerMetrics::after_close`](super::LoggerMetrics::after_close)).
    pub(crate) fn start(
        self,
        on_error: ErrorHook,
        after_close: Arc<Counter>,
    ) -> io::Result<Arc<Active>> {
        let counters = Arc::new(DestCounters::default());
        let fail = FailOver {
            fallback: self.fallback.map(|b| Arc::new(Mutex::new(b))),
            after: self.fail_after,
            retry: self.retry_every,
        };
        let sink = match self.kind {
            Kind::File(writer) => {
                let counters = Arc::clone(&counters);
                let hook = Arc::clone(&on_error);
                let name = self.name.clone();
                writer.set_error_handler(move |e| {
                    counters.errors.add(1);
                    hook(&name, e);
                });
                Sink::File(writer)
            }
            Kind::Backend(backend) => Sink::Queue(Queue::start(
                &self.name,
                self.queue_capacity,
                backend,
                Arc::clone(&counters),
                fail.clone(),
                on_error,
            )?),
        };
        let level = AtomicLevel::new(Level::Trace);
        level.set(Some(self.level.unwrap_or(Level::Trace)));
        Ok(Arc::new(Active {
            name: self.name,
            enabled: AtomicBool::new(self.enabled),
            level,
            stalled: AtomicBool::new(false),
            filter: self.filter,
            formatter: self.formatter,
            delivery: self.delivery,
            reservation: self.reservation,
            sink,
            fail,
            counters,
            after_close,
        }))
    }
}

enum Sink {
    File(Writer),
    Queue(Arc<Queue>),
}

/// A running destination.
pub(crate) struct Active {
    pub(crate) name: String,
    enabled: AtomicBool,
    level: AtomicLevel,
    stalled: AtomicBool,
    filter: Option<Box<dyn Filter>>,
    formatter: Box<dyn Formatter>,
    delivery: Delivery,
    reservation: usize,
    sink: Sink,
    fail: FailOver,
    counters: Arc<DestCounters>,
    /// The logger's count of records that reached a closed destination.
    after_close: Arc<Counter>,
}

/// Why [`Active::room`] found no reservation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum NoRoom {
    /// The buffer is full (after the delivery policy's wait, if it has one), or the
    /// record can never fit: the record goes to the fallback or is dropped.
    Full,
    /// The buffer was closed (the destination was removed or shut down while the record
    /// was on its way): the record is counted in `after_close`, without waiting.
    Closed,
}

/// A file writer's flush that ended at its deadline is a `TimedOut` error.
fn file_in_time(flushed: io::Result<bool>) -> io::Result<()> {
    if flushed? {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the file writer did not drain in time",
        ))
    }
}

/// A queue's reservation as [`Active::room`] takes it.
#[inline(always)]
fn queue_room<G>(r: Result<Option<G>, super::queue::Closed>) -> Result<Option<G>, NoRoom> {
    r.map_err(|_| NoRoom::Closed)
}

/// A writer's reservation as [`Active::room`] takes it: closed is [`NoRoom::Closed`];
/// any other error (a record longer than the ring takes) is [`NoRoom::Full`] at once,
/// since waiting would not make it fit.
#[inline(always)]
fn writer_room<G>(r: io::Result<Option<G>>) -> Result<Option<G>, NoRoom> {
    r.map_err(|e| no_room_for(&e))
}

/// What a file writer's error means for a record: `BrokenPipe` is a closed writer,
/// anything else no room.
fn no_room_for(e: &io::Error) -> NoRoom {
    if e.kind() == io::ErrorKind::BrokenPipe {
        NoRoom::Closed
    } else {
        NoRoom::Full
    }
}

thread_local! {
    /// The slow path's buffer: records longer than the reservation, and records for a
    /// fallback. Reused, so it allocates only while growing.
    static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Formats `record` into a reusable buffer and hands the bytes to `then`.
fn with_formatted<R>(f: &dyn Formatter, record: &Record<'_>, then: impl FnOnce(&[u8]) -> R) -> R {
    let mut then = Some(then);
    let mut result = None;
    let _ = BUF.try_with(|cell| {
        if let Ok(mut buf) = cell.try_borrow_mut() {
            buf.clear();
            f.format(record, &mut Out::vec(&mut buf));
            if let Some(then) = then.take() {
                result = Some(then(&buf));
            }
            if buf.capacity() > 1 << 20 {
                *buf = Vec::new(); // do not keep a huge buffer per thread
            }
        }
    });
    if let Some(r) = result {
        return r;
    }
    // Re-entered (a formatter that logs) or thread exiting: a one-off buffer.
    let mut buf = Vec::new();
    f.format(record, &mut Out::vec(&mut buf));
    match then.take() {
        Some(then) => then(&buf),
        None => unreachable!("`then` is taken only when a result was produced"),
    }
}

impl Active {
    /// Delivers one record if this destination takes it. Never panics, never waits
    /// longer than its [`Delivery`] allows.
    #[inline]
    pub(crate) fn emit(&self, record: &Record<'_>) {
        if !self.enabled.load(Ordering::Relaxed) || !self.level.enabled(record.level()) {
            return;
        }
        let delivered = catch_unwind(AssertUnwindSafe(|| {
            if let Some(f) = &self.filter
                && !f.allow(record)
            {
                self.counters.filtered.add(1);
                return;
            }
            match &self.sink {
                Sink::File(w) => self.to_file(w, record),
                Sink::Queue(q) => self.to_queue(q, record),
            }
        }));
        if delivered.is_err() {
            // The filter or the formatter panicked before the record was committed: it is
            // lost for this destination.
            self.counters.errors.add(1);
            self.counters.panicked.add(1);
        }
    }

    #[inline]
    fn to_file(&self, w: &Writer, record: &Record<'_>) {
        let max = self.reservation.min(w.max_reservation());
        // The common case first, without the delivery policy's closures, and formatting
        // into the grant where it was returned (no move of the grant through a shared
        // binding). A miss goes to `room`, which tries once more and then applies the
        // policy.
        if let Ok(Some(grant)) = w.try_reserve(max) {
            self.unstall();
            return self.format_into(w, grant, record);
        }
        match self.room(|| writer_room(w.try_reserve(max))) {
            Ok(grant) => self.format_into(w, grant, record),
            Err(why) => self.no_room(record, why),
        }
    }

    /// Formats `record` into `grant` and commits it; a record that does not fit goes to
    /// [`oversized`](Active::oversized).
    #[inline(always)]
    fn format_into(
        &self,
        w: &Writer,
        mut grant: lethe_core::ring::WriteGrant<'_, Box<[lethe_core::ring::Slot]>>,
        record: &Record<'_>,
    ) {
        let mut out = Out::grant(&mut grant);
        self.formatter.format(record, &mut out);
        let full = out.is_full();
        drop(out);
        if !full {
            let n = grant.written();
            grant.commit_written();
            self.counters.records.add(1);
            self.counters.bytes.add(n as u64);
            return;
        }
        drop(grant);
        self.oversized(w, record);
    }

    /// A record longer than the reservation: formatted again into a thread-local buffer,
    /// then written as one record.
    #[inline(never)]
    fn oversized(&self, w: &Writer, record: &Record<'_>) {
        self.counters.oversized.add(1);
        with_formatted(&*self.formatter, record, |bytes| {
            let written = if bytes.len() <= w.max_reservation() {
                self.room(|| writer_room(w.try_reserve(bytes.len())))
                    .map(|mut g| {
                        let _ = g.push(bytes);
                        g.commit_written();
                    })
            } else {
                // Longer than the ring takes: the writer writes it directly, in order.
                w.write_record(bytes).map_err(|e| {
                    let why = no_room_for(&e);
                    if why == NoRoom::Full {
                        self.counters.errors.add(1);
                    }
                    why
                })
            };
            match written {
                Ok(()) => {
                    self.counters.records.add(1);
                    self.counters.bytes.add(bytes.len() as u64);
                }
                Err(NoRoom::Full) => self.fallback_or_drop(record.level(), bytes),
                Err(NoRoom::Closed) => self.after_close.add(1),
            }
        });
    }

    #[inline]
    fn to_queue(&self, q: &Queue, record: &Record<'_>) {
        let level = record.level();
        let max = self.reservation.min(q.max_record());
        let mut grant = match self.room(|| queue_room(q.try_reserve(max, level))) {
            Ok(grant) => grant,
            Err(why) => return self.no_room(record, why),
        };
        let mut out = Out::grant(&mut grant);
        self.formatter.format(record, &mut out);
        let full = out.is_full();
        drop(out);
        if !full {
            let n = grant.written() - 1;
            grant.commit_written();
            q.committed();
            self.counters.records.add(1);
            self.counters.bytes.add(n as u64);
            return;
        }
        drop(grant);
        self.counters.oversized.add(1);
        with_formatted(&*self.formatter, record, |bytes| {
            let grant = if bytes.len() <= q.max_record() {
                self.room(|| queue_room(q.try_reserve(bytes.len(), level)))
            } else {
                Err(NoRoom::Full)
            };
            match grant {
                Ok(mut g) => {
                    let _ = g.push(bytes);
                    g.commit_written();
                    q.committed();
                    self.counters.records.add(1);
                    self.counters.bytes.add(bytes.len() as u64);
                }
                Err(NoRoom::Full) => self.fallback_or_drop(level, bytes),
                Err(NoRoom::Closed) => self.after_close.add(1),
            }
        });
    }

    /// A reservation was found: the destination is not stalled (any more).
    #[inline(always)]
    fn unstall(&self) {
        if self.stalled.load(Ordering::Relaxed) {
            self.stalled.store(false, Ordering::Relaxed);
        }
    }

    /// A reservation under the delivery policy. `reserve` returns `Ok(None)` for a
    /// full buffer (worth waiting for, under [`Delivery::Block`]) and an error when
    /// waiting cannot help (a closed buffer, a record it can never take): that error is
    /// returned at once.
    #[inline]
    fn room<G>(&self, mut reserve: impl FnMut() -> Result<Option<G>, NoRoom>) -> Result<G, NoRoom> {
        if let Some(g) = reserve()? {
            self.unstall();
            return Ok(g);
        }
        let Delivery::Block { max_wait } = self.delivery else {
            return Err(NoRoom::Full);
        };
        if self.stalled.load(Ordering::Relaxed) {
            return Err(NoRoom::Full);
        }
        let start = Instant::now();
        let mut spins = 0u32;
        loop {
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else if spins < 96 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(50));
            }
            if let Some(g) = reserve()? {
                return Ok(g);
            }
            if start.elapsed() >= max_wait {
                self.stalled.store(true, Ordering::Relaxed);
                return Err(NoRoom::Full);
            }
        }
    }

    #[cold]
    fn no_room(&self, record: &Record<'_>, why: NoRoom) {
        if why == NoRoom::Closed {
            // Not this destination's loss to report (it is gone): the logger counts it.
            self.after_close.add(1);
        } else if self.fail.fallback.is_some() {
            with_formatted(&*self.formatter, record, |bytes| {
                self.fallback_or_drop(record.level(), bytes);
            });
        } else {
            self.counters.dropped.add(1);
        }
    }

    fn fallback_or_drop(&self, level: Level, bytes: &[u8]) {
        if !to_fallback(&self.fail, &self.counters, level, bytes) {
            self.counters.dropped.add(1);
        }
    }

    /// Waits until what was logged before the call is written (a file: in the page
    /// cache; a backend: written and flushed), or until `deadline` (`TimedOut`).
    pub(crate) fn flush(&self, deadline: Instant) -> io::Result<()> {
        match &self.sink {
            Sink::File(w) => file_in_time(w.flush_until(Some(deadline))),
            Sink::Queue(q) => q.flush(deadline),
        }
    }

    /// Stops a backend's queue and waits for its delivery thread to drain it, or flushes
    /// a file writer (which closes when the destination is dropped); gives up at
    /// `deadline` (`TimedOut`).
    pub(crate) fn close(&self, deadline: Instant) -> io::Result<()> {
        match &self.sink {
            Sink::File(w) => file_in_time(w.flush_until(Some(deadline))),
            Sink::Queue(q) => q.close(deadline),
        }
    }

    pub(crate) fn metrics(&self) -> DestinationMetrics {
        let mut m = self
            .counters
            .snapshot(&self.name, self.enabled.load(Ordering::Relaxed));
        m.writer = self.writer_metrics();
        m
    }

    /// The file writer's counters, for a file destination.
    pub(crate) fn writer_metrics(&self) -> Option<crate::Metrics> {
        match &self.sink {
            Sink::File(w) => Some(w.metrics()),
            Sink::Queue(_) => None,
        }
    }

    /// What stays of it, for the logger's metrics, once it is closed.
    pub(crate) fn retire(&self) -> Retired {
        Retired {
            name: self.name.clone(),
            enabled: self.enabled.load(Ordering::Relaxed),
            counters: Arc::clone(&self.counters),
            writer: self.writer_metrics(),
        }
    }
}

/// A destination that [`Logger::shutdown`](crate::logger::Logger::shutdown) closed: its
/// counters stay in the logger's metrics.
pub(crate) struct Retired {
    name: String,
    /// Whether it was enabled when it was shut down.
    enabled: bool,
    /// Its counters, still read live: a delivery thread that shutdown stopped waiting
    /// for keeps counting what it writes or loses.
    counters: Arc<DestCounters>,
    /// The file writer's counters, taken when it had drained (or when shutdown began,
    /// until it has).
    pub(crate) writer: Option<crate::Metrics>,
}

impl Retired {
    pub(crate) fn metrics(&self) -> DestinationMetrics {
        let mut m = self.counters.snapshot(&self.name, self.enabled);
        m.writer.clone_from(&self.writer);
        m
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        if let Sink::Queue(q) = &self.sink {
            q.signal_close();
        }
    }
}

/// Controls one running destination: its level, whether it is enabled, its counters.
/// Cheap to clone; it stays valid after the destination is removed (it then controls
/// nothing that matters).
#[derive(Clone)]
pub struct DestinationHandle(pub(crate) Arc<Active>);

impl fmt::Debug for DestinationHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DestinationHandle")
            .field("name", &self.0.name)
            .field("enabled", &self.is_enabled())
            .field("level", &self.level())
            .finish()
    }
}

impl DestinationHandle {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Its minimum level (`None`: off).
    pub fn level(&self) -> Option<Level> {
        self.0.level.get()
    }

    /// Sets its minimum level; `None` lets nothing through.
    pub fn set_level(&self, min: Option<Level>) {
        self.0.level.set(min);
    }

    /// Lets records through again.
    pub fn enable(&self) {
        self.0.enabled.store(true, Ordering::Relaxed);
    }

    /// Stops taking records (until enabled). Records already buffered are still written.
    pub fn disable(&self) {
        self.0.enabled.store(false, Ordering::Relaxed);
    }

    /// Whether it takes records.
    pub fn is_enabled(&self) -> bool {
        self.0.enabled.load(Ordering::Relaxed)
    }

    /// Its counters.
    pub fn metrics(&self) -> DestinationMetrics {
        self.0.metrics()
    }
}

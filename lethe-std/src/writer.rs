//! [`Writer`]: the shared, non-blocking rotating log writer.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering, fence};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use lethe_core::ring::{MAX_CAPACITY, Ring, Slot, WriteError, WriteGrant};

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Op};
use crate::events::RotateEvent;
use crate::io_backend::BLOCKING_BATCH;
use crate::rings::Rings;
use crate::rotating_file::{Options, RotatingFile, Stats};
use crate::workers::Shared;

type MetricsCallback = Box<dyn FnMut(&Metrics) + Send>;

/// What a write does when the ring is full.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backpressure {
    /// Wait for the consumer to make room (spinning briefly, then sleeping on a condition
    /// variable). Nothing is lost; a writer may wait as long as the disk is slow or full.
    #[default]
    Block,
    /// Drop the new record and count it ([`Metrics::dropped`]). The writer never waits.
    Drop,
    /// Write the record directly to the file, on the caller's thread, under the file's
    /// lock. Nothing is lost and the writer never waits for the ring, but **ordering**:
    /// such a record can reach the file before records that are still in the ring,
    /// including earlier records of the same thread.
    Sync,
    /// Replace the full ring by one twice as large, up to `max` bytes in all for the
    /// largest ring (the earlier, smaller rings are kept until the writer is dropped, so
    /// memory stays below `2 × max`). Nothing is lost and nothing is reordered: the
    /// consumer drains the old ring completely before it reads the new one, and a
    /// producer moves to the new ring only once the old one refuses it. Once the cap is
    /// reached the writer blocks as with [`Backpressure::Block`]. Growths are counted in
    /// [`Metrics::ring_growths`]. `max` must be at least the buffer and at most 2 GiB.
    Grow {
        /// The largest ring, in bytes.
        max: usize,
    },
}

/// How a [`Writer`] gets records to the file.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mode {
    /// Always through the ring and the consumer thread.
    #[default]
    Async,
    /// Start by writing directly (each record one `write` on the caller's thread, under a
    /// `try_lock` that never waits), and switch to the ring as soon as two writers meet
    /// (the lock is busy) or a direct write takes longer than
    /// [`WriterOptions::auto_slow_write`]. Switch back after the ring has been empty for
    /// [`WriterOptions::auto_idle`]. Each thread's order is kept across switches: a direct
    /// write first waits until the ring is empty. Switches are counted in
    /// [`Metrics::mode_switches`]. While writing directly nothing is buffered, so a failed
    /// write (a full disk) returns its error to the caller instead of being retried.
    Auto,
}

/// Configuration of a [`Writer`]: the file's [`Options`] plus the buffer's.
///
/// | setting | default |
/// |---|---|
/// | [`file`](WriterOptions::file) | [`Options::default`] |
/// | [`buffer`](WriterOptions::buffer) | 1 MiB; 8 MiB when the file's I/O goes through io_uring with an [`fsync`](Options::fsync) policy (records up to half the buffer, less 8 bytes, go through it) |
/// | [`backpressure`](WriterOptions::backpressure) | [`Backpressure::Block`] |
/// | [`max_record_len`](WriterOptions::max_record_len) | 16 MiB |
/// | [`max_idle`](WriterOptions::max_idle) | 2 ms |
/// | [`close_timeout`](WriterOptions::close_timeout) | 5 s |
/// | [`drop_marker`](WriterOptions::drop_marker) | off |
/// | [`mode`](WriterOptions::mode) | [`Mode::Async`] |
/// | [`auto_slow_write`](WriterOptions::auto_slow_write) | 50 µs |
/// | [`auto_idle`](WriterOptions::auto_idle) | 1 s |
#[derive(Clone, Debug)]
pub struct WriterOptions {
    file: Options,
    /// `None`: [`DEFAULT_BUFFER`] or, for io_uring's large runs, [`URING_BUFFER`].
    buffer: Option<usize>,
    backpressure: Backpressure,
    max_record_len: usize,
    max_idle: Duration,
    close_timeout: Duration,
    drop_marker: bool,
    mode: Mode,
    auto_slow_write: Duration,
    auto_idle: Duration,
}

impl Default for WriterOptions {
    fn default() -> WriterOptions {
        WriterOptions {
            file: Options::default(),
            buffer: None,
            backpressure: Backpressure::Block,
            max_record_len: 16 << 20,
            max_idle: Duration::from_millis(2),
            close_timeout: Duration::from_secs(5),
            drop_marker: false,
            mode: Mode::Async,
            auto_slow_write: Duration::from_micros(50),
            auto_idle: Duration::from_secs(1),
        }
    }
}

impl WriterOptions {
    /// The file's options (what [`WriterOptions::file`] set).
    pub fn file_options(&self) -> &Options {
        &self.file
    }

    /// The rotating file's options.
    #[must_use]
    pub fn file(mut self, options: Options) -> WriterOptions {
        self.file = options;
        self
    }

    /// Whether the file is in shared mode ([`Options::shared`]).
    pub fn is_shared(&self) -> bool {
        self.file.is_shared()
    }

    /// Ring capacity in bytes: a power of two from 32 B to 2 GiB. The whole buffer is
    /// mapped (its pages touched) when the writer opens, so it counts fully in the
    /// process's resident memory from then on and writes never take its page faults.
    /// A buffer of 1 MiB or more is placed on a 2 MiB boundary and, on Linux, advised
    /// for transparent huge pages ([`Ring::with_capacity_huge`]), so writers take no
    /// page walks in it; a 1 MiB buffer then takes a whole 2 MiB page of memory.
    ///
    /// Unset, it is 1 MiB, or 8 MiB when the file's I/O goes through io_uring
    /// ([`Stats::io`](crate::Stats::io) is [`IoStatus::Uring`](crate::IoStatus::Uring))
    /// with an [`fsync`](Options::fsync) policy other than `Never`, not in
    /// [`shared`](Options::shared) mode, and the backpressure policy is not
    /// [`Backpressure::Grow`] with a smaller `max`. There the consumer submits each batch,
    /// its writes and the `fsync`s linked between them, with one `io_uring_enter` (up to
    /// 16 384 records), and frees the batch's ring space when the submission completes, so
    /// a batch holds at most what the ring holds: with 8 MiB one call carries several MiB
    /// and several `fsync`s, where 1 MiB needs about two calls per MiB (docs/BENCHMARKS.md,
    /// "io_uring: an 8 MiB buffer"). Without an `fsync` policy a run holds at most 4 096
    /// records on either path, which a 1 MiB ring already takes, so the larger ring would
    /// only cost memory.
    #[must_use]
    pub fn buffer(mut self, bytes: usize) -> WriterOptions {
        self.buffer = Some(bytes);
        self
    }

    /// What a write does when the ring is full.
    #[must_use]
    pub fn backpressure(mut self, policy: Backpressure) -> WriterOptions {
        self.backpressure = policy;
        self
    }

    /// The longest record accepted; longer writes fail with `InvalidInput`. Records longer
    /// than the ring's limit (half the buffer) but within this one are written directly,
    /// after the ring has been flushed, so their order is kept.
    #[must_use]
    pub fn max_record_len(mut self, bytes: usize) -> WriterOptions {
        self.max_record_len = bytes;
        self
    }

    /// How long the consumer parks once it has caught up with the producers, unless half
    /// the ring fills (or a flush, a blocked producer or close wakes it) sooner: this
    /// bounds how long a record waits in the ring without a flush. Shorter means lines
    /// appear in the file sooner; longer means fewer wake-ups and fewer cache lines
    /// taken from the writing threads.
    #[must_use]
    pub fn max_idle(mut self, idle: Duration) -> WriterOptions {
        self.max_idle = idle;
        self
    }

    /// Write a line `lethe: dropped N records` into the log after records were dropped
    /// ([`Backpressure::Drop`] or [`Writer::reserve`] on a full ring), so a reader of the
    /// file sees where lines are missing. The counter is always kept either way.
    #[must_use]
    pub fn drop_marker(mut self, on: bool) -> WriterOptions {
        self.drop_marker = on;
        self
    }

    /// Async (default) or auto (see [`Mode`]).
    #[must_use]
    pub fn mode(mut self, mode: Mode) -> WriterOptions {
        self.mode = mode;
        self
    }

    /// In [`Mode::Auto`], a direct write slower than this switches to the ring.
    #[must_use]
    pub fn auto_slow_write(mut self, limit: Duration) -> WriterOptions {
        self.auto_slow_write = limit;
        self
    }

    /// In [`Mode::Auto`], how long the ring must stay empty before writing directly again.
    #[must_use]
    pub fn auto_idle(mut self, idle: Duration) -> WriterOptions {
        self.auto_idle = idle;
        self
    }

    /// How long closing keeps retrying a failing file before giving up on the records
    /// left (counted in [`Metrics::lost_at_close`]).
    #[must_use]
    pub fn close_timeout(mut self, timeout: Duration) -> WriterOptions {
        self.close_timeout = timeout;
        self
    }
}

/// A snapshot of a [`Writer`]'s (or [`SyncWriter`](crate::SyncWriter)'s) counters.
/// Reading them takes no lock: every field is an atomic counter, so [`Writer::metrics`]
/// never waits for the consumer, even while it writes or rotates.
///
/// Where to find what: records and bytes written ([`writes`](Metrics::writes),
/// [`bytes`](Metrics::bytes)), drops ([`dropped`](Metrics::dropped)), rotations
/// ([`Stats::rotations`]), compressions and checksums done and failed
/// ([`Stats::compressions`], [`Stats::compressions_failed`], [`Stats::checksums`],
/// [`Stats::checksums_failed`]), errors by kind ([`Stats::errors_by_op`]), the active file's
/// size ([`Stats::size`]), buffer fill ([`buffer_used`](Metrics::buffer_used) of
/// [`buffer_capacity`](Metrics::buffer_capacity)) and mode
/// ([`direct_mode`](Metrics::direct_mode)).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Records that reached the file (through the ring or directly). After `close`, every
    /// `Ok` write that was not dropped.
    pub writes: u64,
    /// Bytes that reached the file.
    pub bytes: u64,
    /// Records dropped by [`Backpressure::Drop`].
    pub dropped: u64,
    /// Records written directly to the file ([`Backpressure::Sync`] and records longer
    /// than the ring's limit).
    pub direct_writes: u64,
    /// Times a writer had to wait for room ([`Backpressure::Block`]).
    pub blocked: u64,
    /// Failed attempts to write a batch to the file (each is reported, then retried).
    pub write_errors: u64,
    /// Records that could not be written before close gave up.
    pub lost_at_close: u64,
    /// Bytes in the ring now (headers and padding included).
    pub buffer_used: u64,
    /// Ring capacity in bytes.
    pub buffer_capacity: u64,
    /// Whether records currently go directly to the file ([`Mode::Auto`]).
    pub direct_mode: bool,
    /// Switches between direct and buffered writing ([`Mode::Auto`]).
    pub mode_switches: u64,
    /// Times the ring was replaced by one twice as large ([`Backpressure::Grow`]).
    pub ring_growths: u64,
    /// The rotating file's counters: rotations, current file size, compressions and
    /// checksums done and failed, errors by operation, ... Read without a lock, so they
    /// are current even while the consumer is writing.
    pub file: Stats,
}

/// State shared by the handles and the consumer thread.
struct Core<C: Clock + 'static> {
    ring: Rings,
    file: Mutex<RotatingFile<C>>,
    backpressure: Backpressure,
    max_record_len: usize,
    max_idle: Duration,
    close_timeout: Duration,
    drop_marker: bool,
    auto: bool,
    auto_slow_write: Duration,
    auto_idle: Duration,
    /// In auto mode: records go directly to the file (true) or through the ring.
    direct: Padded<AtomicBool>,
    mode_switches: AtomicU64,
    /// Set once by close; read on every write, so it has a cache line of its own.
    closed: Padded<AtomicBool>,
    /// The process the writer was opened in ([`crate::fork`]): in a forked child, whose
    /// copy has no consumer thread, every call refuses.
    owner: crate::fork::Owner,
    /// The consumer announced it is about to park.
    parked: Padded<AtomicBool>,
    /// Flushers waiting on `progress`: woken after every batch.
    waiting: AtomicU64,
    /// Producers waiting for room: woken once the ring is at most half full, so a fast
    /// producer sleeps once per half ring rather than once per batch.
    waiting_room: AtomicU64,
    progress_lock: Mutex<()>,
    progress: Condvar,
    /// Set while the consumer cannot write (a failing file); cleared by a success.
    failing: Mutex<Option<(io::ErrorKind, String)>>,
    /// The file's lock-free counters (shared with its background workers).
    shared: Arc<Shared>,
    /// The periodic metrics callback: interval, callback, last call.
    on_metrics: Mutex<Option<(Duration, MetricsCallback, Instant)>>,
    /// Records and bytes that reached the file: counted by the consumer per batch and by
    /// direct writers, never on the ring's hot path.
    writes: Padded<AtomicU64>,
    bytes: AtomicU64,
    direct_writes: AtomicU64,
    blocked: AtomicU64,
    write_errors: AtomicU64,
    lost_at_close: AtomicU64,
    /// How much `write!` reserves in the ring for a second try when its output did not
    /// fit [`FMT_RESERVATION`]: the longest record it formatted outside the ring, rounded
    /// up (up to [`FMT_MAX_RESERVATION`]); 0 before there was one. Written only when it
    /// grows.
    fmt_reservation: AtomicUsize,
}

/// Keeps a value on its own cache line (128 bytes covers adjacent-line prefetch).
#[repr(align(128))]
struct Padded<T>(T);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The shared, non-blocking rotating log writer. Cheap to clone; all clones write to the
/// same file.
///
/// Any number of threads write through clones of one [`Writer`]. Each `write` is one
/// record: it is copied into lethe-core's lock-free ring (one CAS, one copy, no lock, no
/// syscall), and a single consumer thread takes the committed records in batches and
/// appends them to the [`RotatingFile`] with one `writev` per batch, rotating between
/// records as its policy says. Compression, checksums and retention run on the file's
/// background workers, so no writer ever waits for them.
///
/// # Guarantees
///
/// - **Records**: each `write` call, and each whole `write!`/`writeln!` (formatted in
///   place in the ring, or on the stack and then written once), is one record. A record is never split across files,
///   never interleaved with another,
///   never duplicated. Records of one thread reach the file in the order that thread wrote
///   them, with one exception: [`Backpressure::Sync`] (see there).
/// - **Nothing is lost silently**: a `write` that returns `Ok` reaches the file, unless
///   [`Backpressure::Drop`] dropped it, which [`Metrics::dropped`] counts. If the file
///   cannot be written (a full disk), the consumer keeps the records in the ring, reports
///   the error, and retries with exponential backoff and jitter; producers then see a full
///   ring and their policy applies. Records still unwritten when the writer is closed
///   after [`WriterOptions::close_timeout`] of failures are counted in
///   [`Metrics::lost_at_close`] and reported.
/// - **Durability**: [`Writer::flush`] returns once everything written before it is in
///   the file (the kernel's page cache); [`Writer::sync`] also `fsync`s it. Closing, or
///   dropping the last handle, writes everything out and waits for background work.
/// - **Hot path**: no lock, no allocation, no syscall. Producers wake a sleeping consumer
///   only when the ring is at least half full; otherwise the consumer, which parks for up
///   to [`WriterOptions::max_idle`] whenever it has caught up, finds the records when it
///   wakes, so a write after a pause costs no futex wake. The consumer never polls the
///   ring right behind the producers (that would pull the cache lines they write next to
///   its core): a record written without a flush reaches the file within about
///   `max_idle`, or sooner once half the ring is used.
///
/// # Examples
///
/// ```
/// use std::io::Write as _;
/// use lethe_std::{Writer, WriterOptions};
///
/// let dir = tempfile::tempdir()?;
/// let log = Writer::open(dir.path().join("app.log"), WriterOptions::default())?;
/// let handles: Vec<_> = (0..4)
///     .map(|t| {
///         let mut log = log.clone();
///         std::thread::spawn(move || {
///             for i in 0..1000 {
///                 writeln!(log, "thread {t} line {i}").unwrap();
///             }
///         })
///     })
///     .collect();
/// for h in handles {
///     h.join().unwrap();
/// }
/// log.close()?;
/// let text = std::fs::read_to_string(dir.path().join("app.log"))?;
/// assert_eq!(text.lines().count(), 4000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Writer<C: Clock + 'static = SystemClock> {
    handle: Arc<Handle<C>>,
}

impl<C: Clock + 'static> Clone for Writer<C> {
    fn clone(&self) -> Self {
        Writer {
            handle: Arc::clone(&self.handle),
        }
    }
}

/// Owns the consumer thread; dropping the last one shuts the writer down.
struct Handle<C: Clock + 'static> {
    core: Arc<Core<C>>,
    consumer: Mutex<Option<JoinHandle<()>>>,
    thread: Thread,
    /// Whether dropping this handle `fsync`s the file: cleared by `shutdown`, whose
    /// `RotatingFile::close` does it (and returns its error).
    sync_on_drop: bool,
}

/// The ring's capacity when [`WriterOptions::buffer`] is not set (also what a sizeless
/// `grow` in the configuration multiplies).
pub(crate) const DEFAULT_BUFFER: usize = 1 << 20;

/// The same when the consumer's runs are io_uring's large ones (see
/// [`WriterOptions::buffer`]).
const URING_BUFFER: usize = 8 << 20;

/// The ring's capacity when [`WriterOptions::buffer`] is not set: [`URING_BUFFER`] when
/// a run may hold more than [`BLOCKING_BATCH`] records (through io_uring with an `fsync`
/// policy), unless a grow policy caps the ring below it; else [`DEFAULT_BUFFER`].
fn default_buffer(max_run: usize, backpressure: Backpressure) -> usize {
    match backpressure {
        Backpressure::Grow { max } if max < URING_BUFFER => DEFAULT_BUFFER,
        _ if max_run > BLOCKING_BATCH => URING_BUFFER,
        _ => DEFAULT_BUFFER,
    }
}

impl Writer<SystemClock> {
    /// Opens the rotating file at `path` and starts the consumer thread.
    ///
    /// # Errors
    ///
    /// As [`RotatingFile::open`], and [`Op::CheckPath`] for an invalid buffer size.
    pub fn open(path: impl AsRef<Path>, options: WriterOptions) -> Result<Writer, Error> {
        Writer::open_with_clock(path, options, SystemClock)
    }
}

impl<C: Clock + 'static> Writer<C> {
    /// Like [`Writer::open`], with the given clock.
    ///
    /// # Errors
    ///
    /// As [`Writer::open`].
    pub fn open_with_clock(
        path: impl AsRef<Path>,
        options: WriterOptions,
        clock: C,
    ) -> Result<Writer<C>, Error> {
        let path = path.as_ref();
        let invalid = |msg: String| {
            Error::new(
                Op::CheckPath,
                path,
                io::Error::new(io::ErrorKind::InvalidInput, msg),
            )
        };
        // Everything about the buffer is checked before the file is opened (and perhaps
        // created): a buffer that was set is made now; the default is chosen once the
        // file's I/O path is known, and is never larger than a grow policy's `max`.
        let set = match options.buffer {
            Some(bytes) => {
                Some(Ring::with_capacity_huge(bytes).map_err(|e| invalid(format!("buffer: {e}")))?)
            }
            None => None,
        };
        let checked = set.as_ref().map_or(DEFAULT_BUFFER, Ring::capacity);
        if let Backpressure::Grow { max } = options.backpressure
            && (max < checked || max > MAX_CAPACITY)
        {
            return Err(invalid(format!(
                "backpressure grow max of {max} bytes is invalid: it must be at least \
                 the buffer ({checked} bytes) and at most {MAX_CAPACITY} bytes"
            )));
        }
        if options.mode == Mode::Auto && options.file.is_shared() {
            let e = io::Error::new(
                io::ErrorKind::InvalidInput,
                "mode auto writes lines directly, taking the shared-mode lock once per line; \
                 shared mode needs mode async (one lock per batch)",
            );
            return Err(Error::new(Op::CheckPath, path, e));
        }
        let mut file = RotatingFile::open_with_clock(path, options.file, clock)?;
        // Through io_uring, the consumer's next batch overlaps with the fsync before it.
        file.set_defer_syncs(true);
        let mut ring = match set {
            Some(ring) => ring,
            None => Ring::with_capacity_huge(default_buffer(file.max_run(), options.backpressure))
                .map_err(|e| invalid(format!("buffer: {e}")))?,
        };
        // Map the buffer now: otherwise the first pass of writes takes a page fault every
        // 4 KiB (a microsecond or more each, on the caller's thread).
        ring.prefault();
        let max = match options.backpressure {
            Backpressure::Grow { max } => max,
            _ => ring.capacity(),
        };
        let ring = Rings::new(ring, max);
        let shared = Arc::clone(file.shared());
        let core = Arc::new(Core {
            ring,
            file: Mutex::new(file),
            backpressure: options.backpressure,
            max_record_len: options.max_record_len,
            max_idle: options.max_idle,
            close_timeout: options.close_timeout,
            drop_marker: options.drop_marker,
            auto: options.mode == Mode::Auto,
            auto_slow_write: options.auto_slow_write,
            auto_idle: options.auto_idle,
            direct: Padded(AtomicBool::new(options.mode == Mode::Auto)),
            mode_switches: AtomicU64::new(0),
            closed: Padded(AtomicBool::new(false)),
            owner: crate::fork::Owner::here(),
            parked: Padded(AtomicBool::new(false)),
            waiting: AtomicU64::new(0),
            waiting_room: AtomicU64::new(0),
            progress_lock: Mutex::new(()),
            progress: Condvar::new(),
            failing: Mutex::new(None),
            shared,
            on_metrics: Mutex::new(None),
            writes: Padded(AtomicU64::new(0)),
            bytes: AtomicU64::new(0),
            direct_writes: AtomicU64::new(0),
            blocked: AtomicU64::new(0),
            write_errors: AtomicU64::new(0),
            lost_at_close: AtomicU64::new(0),
            fmt_reservation: AtomicUsize::new(0),
        });
        let consumer_core = Arc::clone(&core);
        let join = std::thread::Builder::new()
            .name("lethe-consumer".into())
            .spawn(move || consume(&consumer_core))
            .map_err(|e| Error::new(Op::Spawn, path, e))?;
        let thread = join.thread().clone();
        Ok(Writer {
            handle: Arc::new(Handle {
                core,
                consumer: Mutex::new(Some(join)),
                thread,
                sync_on_drop: true,
            }),
        })
    }

    fn core(&self) -> &Core<C> {
        &self.handle.core
    }

    /// Writes `record` as one record.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if it is longer than [`WriterOptions::max_record_len`] (naming both
    /// lengths); `BrokenPipe` after the writer was closed; `Unsupported` in a `fork(2)`
    /// child of the process that opened it (as every call there: docs/GUARANTEES.md,
    /// section 7); with [`Backpressure::Sync`] or an oversized record, the direct write's
    /// error.
    pub fn write_record(&self, record: &[u8]) -> io::Result<()> {
        let core = self.core();
        if record.len() > core.max_record_len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a record of {} bytes is longer than max_record_len ({} bytes)",
                    record.len(),
                    core.max_record_len
                ),
            ));
        }
        if core.closed.0.load(Ordering::Relaxed) || core.forked() {
            return Err(core.refusal());
        }
        if core.direct.0.load(Ordering::Relaxed) && self.try_write_direct(record)? {
            return Ok(());
        }
        let mut spins = 0u32;
        loop {
            let (index, ring) = core.ring.current();
            match ring.try_write_fill(record) {
                Ok(used) => {
                    self.wake_at_half(ring, used);
                    return Ok(());
                }
                Err(WriteError::Full { .. }) => match core.backpressure {
                    Backpressure::Drop => {
                        core.ring.first().add_dropped(1);
                        return Ok(());
                    }
                    Backpressure::Sync => return self.write_direct(record),
                    Backpressure::Grow { .. } if core.ring.grow(index) => {}
                    Backpressure::Block | Backpressure::Grow { .. } => {
                        spins += 1;
                        self.wait_for_room(spins, index)?;
                    }
                },
                // A larger ring was published: retry there.
                Err(WriteError::Sealed) => {}
                Err(WriteError::TooLarge { .. }) => {
                    // Keep this thread's order: everything it wrote before is in the
                    // file first.
                    self.flush()?;
                    return self.write_direct(record);
                }
                Err(e) => {
                    return Err(io::Error::new(io::ErrorKind::InvalidInput, e.to_string()));
                }
            }
        }
    }

    /// Reserves room for a record of up to `len` bytes in the ring, to be formatted in
    /// place and committed with [`WriteGrant::commit`] (zero copy). Dropping the grant
    /// without committing writes nothing. The unused end of the reservation is given
    /// back at commit if no other writer claimed space after it; otherwise it stays in
    /// the ring, skipped, until the consumer passes it, so under contention a
    /// reservation much larger than the record costs buffer space.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `len` exceeds the ring's record limit (half the buffer);
    /// `WouldBlock` if the ring is full under [`Backpressure::Drop`] or
    /// [`Backpressure::Sync`] (the drop is counted); `BrokenPipe` after close.
    pub fn reserve(&self, len: usize) -> io::Result<WriteGrant<'_, Box<[Slot]>>> {
        let core = self.core();
        let mut spins = 0u32;
        loop {
            if core.closed.0.load(Ordering::Relaxed) || core.forked() {
                return Err(core.refusal());
            }
            let (index, ring) = core.ring.current();
            match ring.reserve(len) {
                Ok(grant) => {
                    self.wake_at_half(ring, grant.fill());
                    return Ok(grant);
                }
                Err(WriteError::Sealed) => {}
                Err(WriteError::Full { .. })
                    if matches!(core.backpressure, Backpressure::Grow { .. })
                        && core.ring.grow(index) => {}
                Err(WriteError::Full { .. })
                    if matches!(
                        core.backpressure,
                        Backpressure::Block | Backpressure::Grow { .. }
                    ) =>
                {
                    spins += 1;
                    self.wait_for_room(spins, index)?;
                }
                Err(e @ WriteError::Full { .. }) => {
                    core.ring.first().add_dropped(1);
                    return Err(io::Error::new(io::ErrorKind::WouldBlock, e.to_string()));
                }
                Err(e) => {
                    return Err(io::Error::new(io::ErrorKind::InvalidInput, e.to_string()));
                }
            }
        }
    }

    /// Like [`reserve`](Writer::reserve), but never waits and never counts a drop: `None`
    /// when the ring is full right now, whatever the [`Backpressure`] policy. For callers
    /// that apply their own policy (the logger's destinations).
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `len` exceeds the ring's record limit; `BrokenPipe` after close.
    #[inline(always)]
    pub fn try_reserve(&self, len: usize) -> io::Result<Option<WriteGrant<'_, Box<[Slot]>>>> {
        let core = self.core();
        if core.closed.0.load(Ordering::Relaxed) || core.forked() {
            return Err(core.refusal());
        }
        loop {
            let (index, ring) = core.ring.current();
            match ring.reserve(len) {
                Ok(grant) => {
                    self.wake_at_half(ring, grant.fill());
                    return Ok(Some(grant));
                }
                // A grower replaced this ring: take the new one.
                Err(WriteError::Sealed) => {}
                // Growing never waits for the consumer.
                Err(WriteError::Full { .. })
                    if matches!(core.backpressure, Backpressure::Grow { .. })
                        && core.ring.grow(index) => {}
                Err(WriteError::Full { .. }) => return Ok(None),
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidInput, e.to_string())),
            }
        }
    }

    /// The longest record the ring takes now (half the buffer, less its header): the limit
    /// of [`reserve`](Writer::reserve) and [`try_reserve`](Writer::try_reserve). Under
    /// [`Backpressure::Grow`] it rises as the ring grows.
    pub fn max_reservation(&self) -> usize {
        self.core().ring.current().1.max_record_len()
    }

    /// Returns once every record written (by any thread) before the call is in the file.
    /// It waits as long as that takes: [`flush_timeout`](Writer::flush_timeout) gives up
    /// after a while.
    ///
    /// # Errors
    ///
    /// The file's error if the consumer cannot write it right now (the records stay
    /// buffered and are retried); `BrokenPipe` if the writer was closed; `Unsupported` in
    /// a forked child.
    pub fn flush(&self) -> io::Result<()> {
        self.flush_until(None).map(|_| ())
    }

    /// [`flush`](Writer::flush), waiting at most `timeout`: `Ok(true)` once every record
    /// written before the call is in the file, `Ok(false)` if `timeout` passed first (the
    /// consumer is still busy with earlier records, or cannot make progress, for example
    /// while a blocking write or a metrics callback holds it). The records stay buffered
    /// either way, and are written when the consumer gets to them.
    ///
    /// # Errors
    ///
    /// As [`flush`](Writer::flush).
    pub fn flush_timeout(&self, timeout: Duration) -> io::Result<bool> {
        // A timeout too large for an `Instant` is no limit at all.
        self.flush_until(Instant::now().checked_add(timeout))
    }

    /// [`flush`](Writer::flush) until `deadline` (`None`: no limit); `Ok(false)` at the
    /// deadline. Waits on the consumer's progress (as `flush` does), in slices that end
    /// at the deadline.
    pub(crate) fn flush_until(&self, deadline: Option<Instant>) -> io::Result<bool> {
        let core = self.core();
        if core.forked() {
            return Err(core.refusal());
        }
        let (index, ring) = core.ring.current();
        let target = ring.claimed_position();
        let mut first = true;
        // Has the consumer finished ring `index`, or passed `target` in it (wrapping
        // distance)?
        let done = || {
            let consuming = core.ring.consuming();
            consuming > index
                || (consuming == index
                    && (ring.consumed_position().wrapping_sub(target) as isize) >= 0)
        };
        loop {
            if done() {
                return Ok(true);
            }
            if !first {
                if let Some((kind, msg)) = lock(&core.failing).clone() {
                    return Err(io::Error::new(kind, msg));
                }
                if core.closed.0.load(Ordering::Relaxed) && self.handle_consumer_gone() {
                    return Err(closed());
                }
            }
            let mut wait = Duration::from_millis(10);
            if let Some(deadline) = deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(false);
                }
                wait = wait.min(left);
            }
            first = false;
            self.handle.thread.unpark();
            core.wait_progress(&core.waiting, wait, done);
        }
    }

    /// [`flush`](Writer::flush), then `fsync` the active file.
    ///
    /// # Errors
    ///
    /// As [`flush`](Writer::flush), or the `fsync` error. After a failed `fsync` do not
    /// assume the data is on disk: Linux reports such an error once.
    pub fn sync(&self) -> io::Result<()> {
        self.flush()?;
        lock(&self.core().file).sync().map_err(io::Error::from)
    }

    /// Rotates the file now, after the records already in the ring are written.
    ///
    /// # Errors
    ///
    /// As [`flush`](Writer::flush), or the rotation's error.
    pub fn rotate(&self) -> io::Result<()> {
        self.flush()?;
        lock(&self.core().file).rotate().map_err(io::Error::from)
    }

    /// Reopens the file at its path (see [`RotatingFile::reopen`]), after the records
    /// already in the ring are written to the old file.
    ///
    /// # Errors
    ///
    /// As [`flush`](Writer::flush), or the reopen's error (the old file stays active).
    pub fn reopen(&self) -> io::Result<()> {
        self.flush()?;
        lock(&self.core().file).reopen().map_err(io::Error::from)
    }

    /// Receives errors that do not fail a write: the consumer's write failures (before
    /// each retry), size and time rotations that failed (the records go on into the
    /// active file; see [`RotatingFile::write_record`]), background compression and
    /// checksums, retention, recovery.
    pub fn set_error_handler(&self, handler: impl FnMut(&Error) + Send + 'static) {
        lock(&self.core().file).set_error_handler(handler);
    }

    /// Calls `hook` after every rotation, on the thread that rotated (usually the consumer
    /// thread), with the backup's path, the active path, the sequence number and the
    /// finished file's size. See [`RotateEvent`]. Replaces any earlier hook.
    pub fn set_on_rotate(&self, hook: impl FnMut(&RotateEvent<'_>) + Send + 'static) {
        self.core().shared.set_rotate_hook(Box::new(hook));
    }

    /// Calls `callback` with a [`Metrics`] snapshot about every `every` (from the consumer
    /// thread, between batches, when idle, and between retries while the file fails, at
    /// most once per retry; never from a writer's thread).
    pub fn set_metrics_callback(
        &self,
        every: Duration,
        callback: impl FnMut(&Metrics) + Send + 'static,
    ) {
        *lock(&self.core().on_metrics) = Some((every, Box::new(callback), Instant::now()));
    }

    /// A snapshot of the counters.
    pub fn metrics(&self) -> Metrics {
        Writer::snapshot(self.core())
    }

    fn snapshot(core: &Core<C>) -> Metrics {
        Metrics {
            writes: core.writes.0.load(Ordering::Relaxed),
            bytes: core.bytes.load(Ordering::Relaxed),
            dropped: core.ring.first().dropped() as u64,
            direct_writes: core.direct_writes.load(Ordering::Relaxed),
            blocked: core.blocked.load(Ordering::Relaxed),
            write_errors: core.write_errors.load(Ordering::Relaxed),
            lost_at_close: core.lost_at_close.load(Ordering::Relaxed),
            buffer_used: core.ring.used() as u64,
            buffer_capacity: core.ring.current().1.capacity() as u64,
            direct_mode: core.direct.0.load(Ordering::Relaxed),
            mode_switches: core.mode_switches.load(Ordering::Relaxed),
            ring_growths: core.ring.growths(),
            file: core.shared.stats(),
        }
    }

    /// Closes this handle and returns the final counters. The last handle to close writes
    /// every buffered record out, `fsync`s the file and waits for the background work
    /// (compression, checksums, retention). Dropping the last handle does the same, but
    /// cannot return an error: a failed final `fsync` goes to the error handler.
    ///
    /// # Errors
    ///
    /// For the last handle: the final `fsync`'s error, or `Other` if records were lost
    /// because the file kept failing for [`WriterOptions::close_timeout`]. For other
    /// handles: as [`flush`](Writer::flush).
    pub fn close(self) -> io::Result<Metrics> {
        let (metrics, closed) = self.close_reporting();
        closed.map(|()| metrics)
    }

    /// [`close`](Writer::close), returning the final metrics even when closing fails:
    /// then [`Metrics::lost_at_close`] counts the records close gave up on, and the
    /// error says what failed (the records lost first, then a failed final `fsync`).
    pub fn close_reporting(self) -> (Metrics, io::Result<()>) {
        let core = self.core();
        if core.forked() {
            // Nothing to wait for here; dropping the handle leaves the parent's state alone.
            return (Writer::snapshot(core), Err(core.refusal()));
        }
        match Arc::try_unwrap(self.handle) {
            Ok(handle) => handle.shutdown(),
            Err(handle) => {
                let w = Writer { handle };
                let flushed = w.flush();
                (w.metrics(), flushed)
            }
        }
    }

    /// Auto mode's direct write. Returns `Ok(false)` (after switching to the ring) when
    /// another writer holds the file; switches after the write if it was slow.
    fn try_write_direct(&self, record: &[u8]) -> io::Result<bool> {
        let core = self.core();
        // Whether the backpressure policy holds records while the file fails: then a
        // failing file sends the record to the ring (whose consumer reports, retries with
        // backoff and holds it) instead of returning the error, as in the buffered phase.
        let holds = matches!(
            core.backpressure,
            Backpressure::Block | Backpressure::Grow { .. }
        );
        if !core.ring.is_empty() {
            // Records of an earlier buffered phase (perhaps this thread's) come first.
            if let Err(e) = self.flush() {
                if holds {
                    // The consumer is failing and holds them; so does the ring this one.
                    core.switch_direct(false);
                    return Ok(false);
                }
                return Err(e);
            }
        }
        // A few tries ride out the consumer's brief housekeeping (fsync and sweep ticks);
        // a lock that stays busy means another writer: switch to the ring.
        let mut file = None;
        for attempt in 0..72 {
            if let Ok(guard) = core.file.try_lock() {
                file = Some(guard);
                break;
            }
            if attempt < 64 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now(); // the holder may have been preempted
            }
        }
        let Some(mut file) = file else {
            core.switch_direct(false);
            return Ok(false);
        };
        let started = Instant::now();
        if let Err(e) = file.write_record(record) {
            if holds {
                // A full disk, say. `write_record` took any prefix back, so the whole
                // record goes to the ring; the caller does not see the error, the handler
                // does (the consumer reports its own retries).
                file.report_counted_error(e);
                drop(file);
                core.switch_direct(false);
                return Ok(false);
            }
            return Err(e.into());
        }
        drop(file);
        core.direct_writes.fetch_add(1, Ordering::Relaxed);
        core.delivered(1, record.len() as u64);
        if started.elapsed() > core.auto_slow_write {
            core.switch_direct(false);
        }
        Ok(true)
    }

    fn write_direct(&self, record: &[u8]) -> io::Result<()> {
        let core = self.core();
        lock(&core.file).write_record(record)?;
        core.direct_writes.fetch_add(1, Ordering::Relaxed);
        core.delivered(1, record.len() as u64);
        Ok(())
    }

    /// After a claim that left `fill` bytes in use (as the claim saw them): wakes a
    /// parked consumer if `ring` is at least half full. The reserving caller, such as the
    /// logger, commits without calling back, so for reservations the wake comes here; the
    /// consumer finds the record once it is committed. Only a claim that saw the ring half
    /// full reads the consumer's `head` (`fill` counts from the producers' cached head),
    /// so the hot path reads no line the consumer writes. That read also refreshes the
    /// cached head ([`Ring::refresh_used`]): otherwise the cache, which moves only when a
    /// claim does not fit, lags by up to a ring, every claim in the upper half of that lag
    /// reads `head`, and the first of them after each batch the consumer releases waits
    /// 200-400 ns for the line (docs/BENCHMARKS.md, "Writer tail latency").
    #[inline]
    fn wake_at_half(&self, ring: &lethe_core::ring::Ring<Box<[Slot]>>, fill: usize) {
        if fill * 2 >= ring.capacity() && ring.refresh_used() * 2 >= ring.capacity() {
            self.wake_if_parked();
        }
    }

    /// Wakes the consumer if it sleeps (the caller saw the ring at least half full): at
    /// most one wake per batch, and none on the hot path of a quiet writer.
    #[cold]
    fn wake_if_parked(&self) {
        let core = self.core();
        if core.parked.0.load(Ordering::Relaxed) && core.parked.0.swap(false, Ordering::AcqRel) {
            self.handle.thread.unpark();
        }
    }

    /// One round of waiting for room in ring `index`, found full.
    fn wait_for_room(&self, spins: u32, index: usize) -> io::Result<()> {
        let core = self.core();
        // (A forked child was refused before it got here: its thread cannot be waiting.)
        if core.closed.0.load(Ordering::Relaxed) {
            return Err(closed());
        }
        if spins < 64 {
            std::hint::spin_loop();
            return Ok(());
        }
        if spins == 64 {
            core.blocked.fetch_add(1, Ordering::Relaxed);
        }
        self.handle.thread.unpark();
        // Sleeps until the consumer has emptied half the ring (the condition
        // `notify_progress` wakes on), not just a record's worth: one sleep per half ring
        // instead of one per batch.
        core.wait_progress(&core.waiting_room, Duration::from_millis(10), || {
            core.room_regained(index)
        });
        Ok(())
    }

    fn handle_consumer_gone(&self) -> bool {
        lock(&self.handle.consumer).is_none()
    }
}

impl<C: Clock + 'static> io::Write for Writer<C> {
    /// Writes all of `buf` as one record (see [`Writer::write_record`]).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_record(buf)?;
        Ok(buf.len())
    }

    /// See [`Writer::flush`].
    fn flush(&mut self) -> io::Result<()> {
        Writer::flush(self)
    }

    /// Formats the whole of `args` into **one** record, so `write!`/`writeln!` from many
    /// threads never interleave fragments. The output is formatted straight into a
    /// reservation of 256 bytes in the ring (no intermediate buffer, no second copy; the
    /// unused end is given back when no other writer claimed space meanwhile). Output
    /// that does not fit is formatted again into a second reservation, as large as the
    /// longest line this writer's `write!` has produced so far (rounded up to 64 bytes,
    /// up to 4 KiB), once there was one. Output that fits neither (a line longer than
    /// any before, or over 4 KiB), a full ring, or auto mode's direct phase fall back to
    /// formatting on the stack (up to 512 bytes) or in a temporary `String`, and then to
    /// [`write_record`](Writer::write_record) and its backpressure policy; that record's
    /// length then raises the second reservation. So lines up to 4 KiB are formatted in
    /// the ring without allocating, short ones in one pass, and longer ones in at most
    /// two once one like them was seen; short lines never claim more than 256 bytes.
    fn write_fmt(&mut self, args: std::fmt::Arguments<'_>) -> io::Result<()> {
        if let Some(s) = args.as_str() {
            return self.write_record(s.as_bytes());
        }
        if self.try_format_in_ring(args, FMT_RESERVATION)? {
            return Ok(());
        }
        let longer = self.core().fmt_reservation.load(Ordering::Relaxed);
        if longer > FMT_RESERVATION && self.try_format_in_ring(args, longer)? {
            return Ok(());
        }
        with_formatted(args, |record| {
            self.note_formatted(record.len());
            self.write_record(record)
        })
    }
}

/// The reservation `write!`/`writeln!` on a [`Writer`] format into first: typical log
/// lines fit. Kept small whatever the longer lines are, because a reservation whose
/// unused end cannot be given back (another writer claimed after it) stays in the ring
/// until the consumer passes it.
const FMT_RESERVATION: usize = 256;

/// The largest second reservation `write!` grows to: longer records are formatted outside
/// the ring. Bounded so that one very long line does not make the long lines after it
/// claim a large span (which a nearly full ring cannot give, and which pads more at the
/// wrap point).
const FMT_MAX_RESERVATION: usize = 4096;

impl<C: Clock + 'static> Writer<C> {
    /// Formats `args` into a ring reservation of up to `len` bytes and commits it.
    /// `Ok(false)` (nothing written, the reservation given back or skipped as padding)
    /// when the output does not fit, the ring is full right now, or auto mode writes
    /// directly.
    fn try_format_in_ring(&self, args: std::fmt::Arguments<'_>, len: usize) -> io::Result<bool> {
        let core = self.core();
        if core.direct.0.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let len = len.min(core.max_record_len).min(self.max_reservation());
        let Some(mut grant) = self.try_reserve(len)? else {
            return Ok(false);
        };
        if std::fmt::Write::write_fmt(&mut grant, args).is_err() {
            return Ok(false); // dropping the grant gives its space back or pads it
        }
        grant.commit_written();
        Ok(true)
    }

    /// Raises `write!`'s second ring reservation to a formatted record of `len` bytes
    /// (rounded up to 64 bytes), if that is more than it is and at most
    /// [`FMT_MAX_RESERVATION`].
    fn note_formatted(&self, len: usize) {
        let want = len.next_multiple_of(64);
        let r = &self.core().fmt_reservation;
        if want <= FMT_MAX_RESERVATION && want > r.load(Ordering::Relaxed) {
            r.fetch_max(want, Ordering::Relaxed);
        }
    }
}

/// Formats `args` and hands the bytes to `write` as one record: on the stack when they
/// fit in 512 bytes (no allocation), otherwise in a temporary `String`.
pub(crate) fn with_formatted<R>(
    args: std::fmt::Arguments<'_>,
    write: impl FnOnce(&[u8]) -> io::Result<R>,
) -> io::Result<R> {
    if let Some(s) = args.as_str() {
        return write(s.as_bytes());
    }
    let mut stack = StackBuf {
        buf: [0; 512],
        len: 0,
    };
    if std::fmt::Write::write_fmt(&mut stack, args).is_ok() {
        return write(&stack.buf[..stack.len]);
    }
    // Through `fmt::Write`: `io::Write::write_fmt` would panic when a `Display` impl
    // returns an error of its own; here that is an error for the caller.
    let mut heap = String::with_capacity(1024);
    std::fmt::Write::write_fmt(&mut heap, args).map_err(|_| {
        io::Error::other("formatting failed: a Display or Debug implementation returned an error")
    })?;
    write(heap.as_bytes())
}

/// A fixed stack buffer for formatting one record.
struct StackBuf {
    buf: [u8; 512],
    len: usize,
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(std::fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }

    /// One character (`core::fmt` writes padding one `write_char` at a time): an ASCII
    /// one is stored directly, without a one-byte `memcpy`.
    fn write_char(&mut self, c: char) -> std::fmt::Result {
        if !c.is_ascii() {
            return self.write_str(c.encode_utf8(&mut [0; 4]));
        }
        let slot = self.buf.get_mut(self.len).ok_or(std::fmt::Error)?;
        *slot = c as u8;
        self.len += 1;
        Ok(())
    }
}

impl<C: Clock + 'static> Core<C> {
    /// Auto mode: switches between direct and buffered writing (counted once per change).
    fn switch_direct(&self, direct: bool) {
        if self.auto && self.direct.0.swap(direct, Ordering::Relaxed) != direct {
            self.mode_switches.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts records that reached the file.
    fn delivered(&self, records: u64, bytes: u64) {
        self.writes.0.fetch_add(records, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Sleeps until [`notify_progress`](Core::notify_progress) (or `timeout`, a safety
    /// net), unless `done` already holds. No wake-up is lost: `done` is checked under
    /// the lock the notifier takes, after `counter` is raised and a fence, and the
    /// consumer publishes its progress, fences, then reads `counter` (the two fences
    /// order the stores and loads as a Dekker pair), so either the waiter sees the
    /// progress or the consumer sees the waiter and notifies after it sleeps.
    fn wait_progress(&self, counter: &AtomicU64, timeout: Duration, done: impl Fn() -> bool) {
        counter.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let guard = lock(&self.progress_lock);
        if !done() {
            let _ = self
                .progress
                .wait_timeout(guard, timeout)
                .unwrap_or_else(PoisonError::into_inner);
        }
        counter.fetch_sub(1, Ordering::SeqCst);
    }

    /// What a producer blocked on full ring `index` waits for: the writer is closing, a
    /// newer ring replaced that one (retry there), or the consumer is on it and has
    /// emptied it to half. An older ring still being drained frees nothing in this one.
    fn room_regained(&self, index: usize) -> bool {
        let consuming = self.ring.consuming();
        let ring = self.ring.at(consuming);
        self.closed.0.load(Ordering::Relaxed)
            || consuming > index
            || (consuming == index && ring.used() * 2 <= ring.capacity())
    }

    /// Whether this is a forked child of the process that opened the writer (one relaxed
    /// load on the write path; see [`crate::fork`]).
    #[inline(always)]
    fn forked(&self) -> bool {
        self.owner.forked()
    }

    /// Why a call is refused: closed, or used in a forked child.
    #[cold]
    fn refusal(&self) -> io::Error {
        if self.forked() {
            self.owner.refused("log writer")
        } else {
            closed()
        }
    }

    fn notify_progress(&self) {
        fence(Ordering::SeqCst); // pairs with the one in `wait_progress`
        // The producers blocked on the ring being consumed are the ones it can free.
        let room_wanted = self.waiting_room.load(Ordering::SeqCst) > 0
            && self.room_regained(self.ring.consuming());
        if self.waiting.load(Ordering::SeqCst) > 0 || room_wanted {
            // Taking the lock orders this wake after a waiter's check (a waiter holds it
            // from its check until it sleeps); notifying after releasing it lets the
            // woken threads run without blocking on the lock again.
            drop(lock(&self.progress_lock));
            self.progress.notify_all();
        }
    }
}

impl<C: Clock + 'static> Handle<C> {
    fn stop_consumer(&self) {
        self.core.closed.0.store(true, Ordering::SeqCst);
        self.thread.unpark();
        if let Some(join) = lock(&self.consumer).take() {
            // The consumer does not panic (every error is reported and handled); if it
            // did, its records are counted in `lost_at_close` below.
            let _ = join.join();
        }
    }

    fn shutdown(mut self) -> (Metrics, io::Result<()>) {
        self.stop_consumer();
        self.sync_on_drop = false; // `close` below fsyncs
        let core = Arc::clone(&self.core);
        drop(self); // the consumer is joined: `core` is now the last reference
        let lost = core.lost_at_close.load(Ordering::Relaxed);
        let mut metrics = Writer::<C>::snapshot(&core);
        let closed = match Arc::try_unwrap(core) {
            Ok(core) => {
                let file = core
                    .file
                    .into_inner()
                    .unwrap_or_else(PoisonError::into_inner);
                let closed = file.close().map(|_| ());
                // The file's counters after close, failed or not: a failed final fsync
                // is counted (`Op::Sync`) in the metrics that come back with its error.
                metrics.file = core.shared.stats();
                closed
            }
            // Unreachable (no other owner exists); dropping `core` waits for the workers.
            Err(core) => lock(&core.file).sync(),
        };
        // Records lost come first: they matter more than a failed final fsync.
        let closed = closed.map_err(io::Error::from);
        let result = match closed {
            _ if lost == 0 => closed,
            Ok(()) => Err(io::Error::other(format!(
                "{lost} records could not be written before close gave up"
            ))),
            Err(e) => Err(io::Error::new(
                e.kind(),
                format!(
                    "{lost} records could not be written before close gave up; then the \
                     final fsync failed too: {e}"
                ),
            )),
        };
        (metrics, result)
    }
}

impl<C: Clock + 'static> Drop for Handle<C> {
    /// The last handle dropped without `close`: everything is written out (the consumer
    /// drains the ring before it stops) and `fsync`ed, as `close` does; a failed `fsync`,
    /// which cannot be returned here, goes to the error handler. The background work is
    /// waited for when the file drops.
    fn drop(&mut self) {
        if self.core.forked() {
            // A forked child's copy: its consumer and workers do not exist here, so
            // joining them would wait for ever, and the parent may have held the file's
            // lock when it forked. Leave the copy as it is (the child's exit frees it).
            if let Ok(mut consumer) = self.consumer.try_lock() {
                std::mem::forget(consumer.take());
            }
            std::mem::forget(Arc::clone(&self.core));
            return;
        }
        self.stop_consumer();
        if self.sync_on_drop
            && let Err(e) = lock(&self.core.file).sync()
        {
            // `sync` counted it.
            self.core.shared.report_counted(e);
        }
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the log writer is closed")
}

/// Calls the metrics callback if its interval has passed.
fn report_metrics<C: Clock + 'static>(core: &Core<C>) {
    let mut slot = lock(&core.on_metrics);
    if let Some((every, callback, last)) = slot.as_mut()
        && last.elapsed() >= *every
    {
        *last = Instant::now();
        let metrics = Writer::<C>::snapshot(core);
        callback(&metrics);
    }
}

/// The consumer thread: batches from the ring into the file.
fn consume<C: Clock + 'static>(core: &Core<C>) {
    let mut index = 0;
    let Some(mut consumer) = core.ring.at(index).consumer() else {
        return; // unreachable: the ring is created for this thread alone
    };
    let mut resume = 0usize;
    // Retries of a failing file: 10 ms doubling to 1 s, with jitter.
    let mut backoff =
        crate::backoff::Backoff::new(Duration::from_millis(10), Duration::from_secs(1));
    let mut closing_since: Option<Instant> = None;
    let mut marked_drops = 0usize;
    let mut failing = false;
    let mut empty_since = Instant::now();
    // Records per batch: one run's worth for the file's I/O path (more through io_uring,
    // where a larger batch saves `io_uring_enter`s). The slice list's storage is kept
    // across batches, so the loop does not allocate.
    let max_batch = lock(&core.file).max_run();
    let mut storage: Vec<&'static [u8]> = Vec::with_capacity(max_batch);
    // The last batch ended at the producers' frontier (its read stopped at a frame not
    // committed yet, not at the batch limit or a full ring): park before looking at the
    // frontier again. Every look takes the line a producer writes next, and that write
    // then waits for it.
    let mut drained = false;
    loop {
        if std::mem::take(&mut drained) && !core.closed.0.load(Ordering::SeqCst) {
            idle_wait(core, || true);
        }
        if core.drop_marker && !failing && resume == 0 {
            write_drop_marker(core, &mut marked_drops);
        }
        // A batch goes on past the ring's wrap point, so a drain costs one run, not two.
        let Some(batch) = consumer.read_wrapping_up_to(max_batch, usize::MAX) else {
            // Only a grown ring can be finished: look at its `tail` (a line every
            // producer writes) only then.
            let grown = core.ring.current().0 > index;
            if grown && consumer.is_finished() {
                // A larger ring replaced this one and everything in it is written: go on
                // to the next (Backpressure::Grow).
                index += 1;
                let Some(next) = core.ring.at(index).consumer() else {
                    return; // unreachable: this thread is the only consumer
                };
                consumer = next;
                core.ring.set_consuming(index);
                continue;
            }
            if core.closed.0.load(Ordering::SeqCst) && !consumer.has_committed() {
                if core.ring.is_empty() {
                    break;
                }
                // A reservation is still open somewhere; give it until the close timeout.
                let since = *closing_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= core.close_timeout {
                    give_up(core, &mut consumer);
                    break;
                }
                std::thread::yield_now();
                continue;
            }
            if core.auto
                && !core.direct.0.load(Ordering::Relaxed)
                && empty_since.elapsed() >= core.auto_idle
                && core.ring.is_empty()
            {
                core.switch_direct(true);
            }
            idle_wait(core, || !grown && !consumer.has_committed());
            continue;
        };
        empty_since = Instant::now();
        let mut records = recycle(std::mem::take(&mut storage));
        records.extend(batch.records());
        let n = records.len();
        let failure = {
            let mut file = lock(&core.file);
            let r = file.write_batch(&records[..n], resume);
            match r {
                Ok(()) => None,
                Err(e) => {
                    let info = (
                        e.written,
                        e.partial,
                        e.error.io_error().kind(),
                        e.to_string(),
                    );
                    // `write_batch` counted it already.
                    core.shared.report_counted(e.error);
                    Some(info)
                }
            }
        };
        match failure {
            None => {
                // The read summed the payload lengths already.
                core.delivered(n as u64, (batch.payload_bytes() - resume) as u64);
                storage = recycle(records);
                drained = batch.reached_frontier();
                batch.release();
                resume = 0;
                if failing {
                    // The file works again: flush stops reporting the error.
                    failing = false;
                    *lock(&core.failing) = None;
                    backoff.reset();
                    closing_since = None;
                }
                report_metrics(core);
            }
            Some((written, partial, kind, message)) => {
                core.write_errors.fetch_add(1, Ordering::Relaxed);
                failing = true;
                *lock(&core.failing) = Some((kind, message));
                let done: usize = records[..written].iter().map(|r| r.len()).sum();
                core.delivered(written as u64, (done + partial - resume) as u64);
                storage = recycle(records);
                batch.release_records(written);
                resume = partial;
                if core.closed.0.load(Ordering::SeqCst) {
                    let since = *closing_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= core.close_timeout {
                        give_up(core, &mut consumer);
                        break;
                    }
                }
                // A failing file must not silence the metrics: an outage is when they
                // matter most.
                report_metrics(core);
                backoff.sleep();
            }
        }
        core.notify_progress();
    }
    core.notify_progress();
}

/// `v` emptied, with its allocation kept for slices of another lifetime (an in-place
/// collect of an empty vector: no element is converted and nothing is allocated).
fn recycle<'b>(mut v: Vec<&[u8]>) -> Vec<&'b [u8]> {
    v.clear();
    v.into_iter().map(|_| &[][..]).collect()
}

/// Writes `lethe: dropped N records` if records were dropped since the last marker.
fn write_drop_marker<C: Clock + 'static>(core: &Core<C>, marked: &mut usize) {
    let dropped = core.ring.first().dropped();
    if dropped == *marked {
        return;
    }
    let n = dropped.wrapping_sub(*marked);
    let marker = with_formatted(format_args!("lethe: dropped {n} records\n"), |line| {
        lock(&core.file).write_record(line).map_err(io::Error::from)
    });
    if marker.is_ok() {
        // A marker that could not be written is retried with the next one; the counter
        // in the metrics is exact either way.
        *marked = dropped;
    }
}

/// Counts and discards what is left in the ring after close gave up on a failing file.
fn give_up(core: &Core<impl Clock>, consumer: &mut lethe_core::ring::Consumer<'_, Box<[Slot]>>) {
    let mut lost = 0u64;
    while let Some(batch) = consumer.read() {
        lost += batch.record_count() as u64;
        batch.release();
    }
    // Later rings (Backpressure::Grow), if any.
    let (current, _) = core.ring.current();
    for i in core.ring.consuming() + 1..=current {
        if let Some(mut c) = core.ring.at(i).consumer() {
            while let Some(batch) = c.read() {
                lost += batch.record_count() as u64;
                batch.release();
            }
        }
    }
    core.lost_at_close.fetch_add(lost, Ordering::Relaxed);
    let file = lock(&core.file);
    let path = file.path().to_path_buf();
    file.report_error(Error::new(
        Op::Write,
        &path,
        io::Error::other(format!(
            "closing: gave up after {:?} of write failures; {lost} records lost",
            core.close_timeout
        )),
    ));
}

/// The consumer caught up: it parks for up to
/// [`WriterOptions::max_idle`], until a producer finds the ring half full, a flush, a
/// blocked producer or close wakes it. It does not poll the ring meanwhile: a consumer
/// that polls right behind the producers takes the cache lines they are about to write
/// (the header at the head, the line its zeroing just dirtied, `tail`), and every write
/// then waits 100–400 ns for a line to come back. Parking instead gathers a window's
/// records into one batch, so a burst of writes meets the consumer at most once.
/// `quiet` says whether nothing is visible at the head right now (read from the line the
/// consumer's last look already holds).
fn idle_wait<C: Clock + 'static>(core: &Core<C>, quiet: impl FnOnce() -> bool) {
    if let Ok(mut file) = core.file.try_lock() {
        file.tick(); // fsync and retention intervals also cover quiet periods
    }
    report_metrics(core);
    core.parked.0.store(true, Ordering::SeqCst);
    if quiet() && !core.closed.0.load(Ordering::SeqCst) {
        std::thread::park_timeout(core.max_idle);
    }
    core.parked.0.store(false, Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use super::{Arc, Options, Writer, WriterOptions, recycle};

    #[test]
    fn dropping_the_last_handle_fsyncs_once_and_close_fsyncs_once() {
        let dir = tempfile::tempdir().unwrap();
        // `fsync = never`: no fsync but the final one.
        let never = || WriterOptions::default().file(Options::default().sync_on_rotate(false));
        let w = Writer::open(dir.path().join("dropped.log"), never()).unwrap();
        let shared = Arc::clone(&w.core().shared);
        w.write_record(b"one\n").unwrap();
        let other = w.clone();
        drop(w);
        assert_eq!(shared.stats().syncs, 0, "only the last handle syncs");
        other.write_record(b"two\n").unwrap();
        drop(other);
        assert_eq!(shared.stats().syncs, 1, "the last handle's drop fsyncs");
        assert_eq!(
            std::fs::read(dir.path().join("dropped.log")).unwrap(),
            b"one\ntwo\n"
        );

        let w = Writer::open(dir.path().join("closed.log"), never()).unwrap();
        let shared = Arc::clone(&w.core().shared);
        w.write_record(b"one\n").unwrap();
        let metrics = w.close().unwrap();
        assert_eq!(metrics.file.syncs, 1);
        assert_eq!(
            shared.stats().syncs,
            1,
            "close fsyncs once, not again on drop"
        );
    }

    #[test]
    fn recycle_keeps_the_allocation() {
        let line = b"line".to_vec();
        let mut v: Vec<&[u8]> = Vec::with_capacity(64);
        v.push(&line);
        let (ptr, cap) = (v.as_ptr() as usize, v.capacity());
        let w: Vec<&'static [u8]> = recycle(v);
        assert!(w.is_empty());
        assert_eq!((w.as_ptr() as usize, w.capacity()), (ptr, cap));
    }
}

//! The structured logger: levels, fields, formatters, filters, samplers, enrichers,
//! redaction, and many destinations (rotating files, stdout, stderr, your own backends),
//! with counters for everything it drops.
//!
//! ```
//! use lethe_std::logger::{Destination, Field, Level, Logger, Text};
//! use lethe_std::WriterOptions;
//!
//! let dir = tempfile::tempdir()?;
//! let log = Logger::builder()
//!     .level(Level::Info)
//!     .destination(Destination::open_file(dir.path().join("app.jsonl"), WriterOptions::default())?)
//!     .destination(Destination::stderr().level(Level::Error).formatter(Text::default()))
//!     .build()?;
//! let request = log.with_field("request_id", "r-42");
//! request.info("served", &[Field::new("status", 200), Field::new("ms", 1.5)]);
//! lethe_std::info!(request, "user {} logged in", "ann"; "admin" => false);
//! log.debug("not written: below the level", &[]);
//! log.shutdown(std::time::Duration::from_secs(5))?;
//! let text = std::fs::read_to_string(dir.path().join("app.jsonl"))?;
//! assert_eq!(text.lines().count(), 2);
//! assert!(text.contains(r#""msg":"served","request_id":"r-42","status":200,"ms":1.5"#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The path of a record
//!
//! 1. **Level**: one relaxed load ([`Logger::enabled`]); the macros check it before
//!    evaluating anything else.
//! 2. **Filters** of the logger ([`LoggerBuilder::filter`]); rejected records are counted
//!    in [`LoggerMetrics::filtered`], records whose filter or sampler panicked in
//!    [`LoggerMetrics::panicked`].
//! 3. **Samplers** ([`LoggerBuilder::sampler`]), in order; a dropped record is counted in
//!    [`LoggerMetrics::sampled_out`] and in the sampler's own [`SamplerStats`].
//! 4. **Destinations**, each in turn: its enabled flag, level and filter, then its
//!    formatter writes the record straight into a reservation in the destination's ring
//!    (the file writer's ring, or the backend's queue), on the caller's thread. The
//!    record's fields are the logger's bound fields, the thread's [`context`] fields, the
//!    call's fields, an integration's extra fields, then the [enrichers'](Enricher);
//!    [redaction](Redactor) applies while they are written, so the caller's data is
//!    never changed.
//! 5. **Delivery**: the file writer's consumer thread, or the backend's delivery
//!    thread, writes it out. A full buffer applies the destination's [`Delivery`]
//!    policy; a failing destination hands its records to its fallback, or counts them.
//!
//! Nothing on this path allocates in the common case (a record that fits its
//! reservation, no message-rewriting redaction pattern), takes a lock, or makes a
//! syscall besides reading the clock. Errors are counted per destination and reported to
//! the error hook (by default, at most one line a second on stderr); no error inside the
//! logger panics the application: panics of user filters, samplers, formatters,
//! enrichers and backends are caught, and the records they lose are counted
//! ([`LoggerMetrics::panicked`], [`DestinationMetrics::panicked`],
//! [`DestinationMetrics::lost`]).

use std::fmt;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

mod backend;
mod builder;
pub mod context;
mod destination;
mod digits;
mod field;
pub mod filter;
mod format;
mod key;
mod level;
#[cfg(feature = "log")]
mod log_bridge;
mod metrics;
mod queue;
mod record;
mod redact;
pub mod sample;
mod syslog_backend;
#[cfg(feature = "tracing")]
mod tracing_layer;
mod tsc_clock;
mod uri;

pub use backend::{Backend, Stderr, Stdout, WriteBackend};
pub use builder::LoggerBuilder;
pub use destination::{Delivery, Destination, DestinationHandle};
pub use field::{Field, OwnedField, OwnedValue, Value};
pub use filter::Filter;
pub use format::{
    Formatter, Json, Logfmt, Out, Text, TimePrecision, write_json_escaped, write_rfc3339,
};
pub use key::StaticStr;
pub use level::{AtomicLevel, Level, ParseLevelError};
#[cfg(feature = "log")]
pub use log_bridge::LogBridge;
pub use metrics::{DestinationMetrics, LoggerMetrics};
pub use record::{Enricher, ExtraFields, Message, Record, ThreadName, Timestamp};
pub use redact::Redactor;
pub use sample::{Sampler, SamplerStats};
pub use syslog_backend::{SyslogBackend, severity as syslog_severity};
#[cfg(feature = "tracing")]
pub use tracing_layer::TracingLayer;
pub use uri::{Registry, Uri, UriError};

use destination::{Active, Retired};
use metrics::LoggerCounters;
use queue::{ErrorHook, lock};

/// State shared by a logger and its children.
struct Shared {
    level: AtomicLevel,
    closed: AtomicBool,
    /// The process the logger was built in: a forked child's copy has no delivery
    /// threads, so it takes no records there ([`crate::fork`]).
    owner: crate::fork::Owner,
    filters: Vec<Box<dyn Filter>>,
    samplers: Vec<Arc<dyn Sampler>>,
    enrichers: Vec<Arc<dyn Enricher>>,
    redactor: Option<Redactor>,
    destinations: ArcSwap<Vec<Arc<Active>>>,
    /// Serializes adding and removing destinations (readers never take it).
    changing: Mutex<()>,
    /// The destinations [`Logger::shutdown`] closed, in order, for the metrics.
    retired: Arc<Mutex<Vec<Retired>>>,
    counters: LoggerCounters,
    clock: fn() -> Timestamp,
    on_error: ErrorHook,
}

impl Shared {
    /// Whether this is a forked child of the process that built the logger.
    #[inline(always)]
    fn forked(&self) -> bool {
        self.owner.forked()
    }

    /// Counts a record the logger does not take: after shutdown, or in a forked child.
    #[cold]
    fn not_taken(&self) {
        if self.forked() {
            self.counters.in_forked_child.add(1);
        } else {
            self.counters.after_shutdown.add(1);
        }
    }
}

/// The structured logger. Cheap to clone (an `Arc` and the bound fields); clones and
/// children ([`with_field`](Logger::with_field), [`named`](Logger::named)) share the
/// level, the pipeline and the destinations.
///
/// Call [`shutdown`](Logger::shutdown) before the program ends: it drains every
/// destination within a deadline. Dropping the last handle without it closes file
/// destinations (their writers drain on drop) but only tells backend destinations'
/// delivery threads to drain, without waiting for them.
#[derive(Clone)]
pub struct Logger {
    shared: Arc<Shared>,
    bound: Arc<[OwnedField]>,
    target: Arc<str>,
    /// `key::check(&target)`, made once.
    target_check: u8,
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("target", &self.target)
            .field("level", &self.shared.level.get())
            .field("bound", &self.bound)
            .field(
                "destinations",
                &self
                    .shared
                    .destinations
                    .load()
                    .iter()
                    .map(|d| d.name.clone())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Destinations that did not finish draining before the shutdown's deadline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShutdownError {
    /// Their names, with the error or timeout of each.
    pub pending: Vec<(String, String)>,
}

impl fmt::Display for ShutdownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "logger shutdown incomplete:")?;
        for (name, why) in &self.pending {
            write!(f, " {name}: {why};")?;
        }
        Ok(())
    }
}

impl std::error::Error for ShutdownError {}

impl Logger {
    /// A builder with the defaults in [`LoggerBuilder`]'s table.
    pub fn builder() -> LoggerBuilder {
        LoggerBuilder::new()
    }

    /// Whether a record at `level` would pass the logger's level (one relaxed load).
    #[inline(always)]
    pub fn enabled(&self, level: Level) -> bool {
        self.shared.level.enabled(level)
    }

    /// The logger's minimum level (`None`: off).
    pub fn level(&self) -> Option<Level> {
        self.shared.level.get()
    }

    /// Sets the minimum level for this logger, its clones and children; `None` turns
    /// logging off.
    pub fn set_level(&self, min: Option<Level>) {
        self.shared.level.set(min);
    }

    /// A child logger whose records carry `key = value` as well.
    pub fn with_field<'a>(&self, key: &'a str, value: impl Into<Value<'a>>) -> Logger {
        self.with_fields(&[Field::new(key, value)])
    }

    /// A child logger whose records carry `fields` as well (after the parent's).
    pub fn with_fields(&self, fields: &[Field<'_>]) -> Logger {
        let bound: Vec<OwnedField> = self
            .bound
            .iter()
            .cloned()
            .chain(fields.iter().map(|f| OwnedField::from(*f)))
            .collect();
        Logger {
            shared: Arc::clone(&self.shared),
            bound: bound.into(),
            target: Arc::clone(&self.target),
            target_check: self.target_check,
        }
    }

    /// A child logger with another name (`target`).
    pub fn named(&self, name: &str) -> Logger {
        Logger {
            shared: Arc::clone(&self.shared),
            bound: Arc::clone(&self.bound),
            target: name.into(),
            target_check: key::check(name),
        }
    }

    /// The logger's name.
    pub fn name(&self) -> &str {
        &self.target
    }

    /// Logs `message` with `fields` at `level`.
    #[inline]
    pub fn log(&self, level: Level, message: &str, fields: &[Field<'_>]) {
        if self.enabled(level) {
            self.emit(level, &self.target, Message::Str(message), fields, None);
        }
    }

    /// Logs formatted text (what the macros call, after checking the level).
    #[inline]
    pub fn log_args(&self, level: Level, message: fmt::Arguments<'_>, fields: &[Field<'_>]) {
        if self.enabled(level) {
            self.emit(level, &self.target, Message::Args(message), fields, None);
        }
    }

    /// Logs a message known at compile time, checked once (what the macros call for a
    /// message without arguments, after checking the level): the formatters copy a
    /// message that needs no escaping instead of scanning it.
    #[inline]
    pub fn log_static(&self, level: Level, message: StaticStr, fields: &[Field<'_>]) {
        if self.enabled(level) {
            self.emit_checked(
                level,
                &self.target,
                Message::Str(message.as_str()),
                message.check(),
                fields,
                None,
            );
        }
    }

    /// Logs at trace level.
    #[inline]
    pub fn trace(&self, message: &str, fields: &[Field<'_>]) {
        self.log(Level::Trace, message, fields);
    }

    /// Logs at debug level.
    #[inline]
    pub fn debug(&self, message: &str, fields: &[Field<'_>]) {
        self.log(Level::Debug, message, fields);
    }

    /// Logs at info level.
    #[inline]
    pub fn info(&self, message: &str, fields: &[Field<'_>]) {
        self.log(Level::Info, message, fields);
    }

    /// Logs at warn level.
    #[inline]
    pub fn warn(&self, message: &str, fields: &[Field<'_>]) {
        self.log(Level::Warn, message, fields);
    }

    /// Logs at error level.
    #[inline]
    pub fn error(&self, message: &str, fields: &[Field<'_>]) {
        self.log(Level::Error, message, fields);
    }

    /// Logs at fatal level, then [flushes](Logger::flush) (ignoring a flush error, which
    /// the destinations count). It does not exit: the caller decides.
    pub fn fatal(&self, message: &str, fields: &[Field<'_>]) {
        self.log(Level::Fatal, message, fields);
        let _ = self.flush();
    }

    /// Runs a record through the pipeline, with an explicit target, message and extra
    /// fields (for integrations). The caller has checked [`enabled`](Logger::enabled).
    pub fn emit(
        &self,
        level: Level,
        target: &str,
        message: Message<'_>,
        fields: &[Field<'_>],
        extra: Option<ExtraFields<'_>>,
    ) {
        self.emit_checked(level, target, message, 0, fields, extra);
    }

    /// [`Logger::emit`], with what a check made once found about `message` (0: nothing
    /// known).
    #[inline]
    fn emit_checked(
        &self,
        level: Level,
        target: &str,
        message: Message<'_>,
        message_check: u8,
        fields: &[Field<'_>],
        extra: Option<ExtraFields<'_>>,
    ) {
        let s = &*self.shared;
        if s.closed.load(Ordering::Relaxed) || s.forked() {
            s.not_taken();
            return;
        }
        let record = Record {
            level,
            time: (s.clock)(),
            target,
            message,
            bound: &self.bound,
            fields,
            extra,
            enrichers: &s.enrichers,
            redactor: s.redactor.as_ref(),
            target_check: if std::ptr::eq(target, &*self.target) {
                self.target_check
            } else {
                0
            },
            message_check,
        };
        if !s.filters.is_empty() || !s.samplers.is_empty() {
            match catch_unwind(AssertUnwindSafe(|| self.passes(&record))) {
                Ok(true) => {}
                Ok(false) => return,
                Err(_) => return s.counters.panicked.add(1),
            }
        }
        s.counters.per_level[level.index()].add(1);
        for d in s.destinations.load().iter() {
            d.emit(&record);
        }
    }

    fn passes(&self, record: &Record<'_>) -> bool {
        let s = &*self.shared;
        if s.filters.iter().any(|f| !f.allow(record)) {
            s.counters.filtered.add(1);
            return false;
        }
        if s.samplers.iter().any(|x| !x.sample(record)) {
            s.counters.sampled_out.add(1);
            return false;
        }
        true
    }

    /// Adds a destination at runtime; it takes records from the next one logged.
    ///
    /// # Errors
    ///
    /// `AlreadyExists` if a destination has that name; `BrokenPipe` after
    /// [`shutdown`](Logger::shutdown) (the destination would never be written to or
    /// closed); the destination's start-up error.
    pub fn add(&self, destination: Destination) -> io::Result<DestinationHandle> {
        let _changing = lock(&self.shared.changing);
        // Under `changing`: a shutdown that has not swapped the list out yet will close
        // the destination added here; one that has, set `closed` before.
        if self.shared.closed.load(Ordering::SeqCst) {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                format!(
                    "the logger is shut down: destination {:?} not added",
                    destination.name
                ),
            ));
        }
        let current = self.shared.destinations.load_full();
        if current.iter().any(|d| d.name == destination.name) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("a destination named {:?} exists already", destination.name),
            ));
        }
        let active = destination.start(
            Arc::clone(&self.shared.on_error),
            Arc::clone(&self.shared.counters.after_close),
        )?;
        let mut next = Vec::clone(&current);
        next.push(Arc::clone(&active));
        self.shared.destinations.store(Arc::new(next));
        Ok(DestinationHandle(active))
    }

    /// Removes the destination called `name`, waits (up to `timeout`) until it has
    /// written what it had buffered, and returns its final counters; `None` if there is
    /// no such destination. A record logged at the same moment either reaches it before
    /// it closes, or is counted in [`LoggerMetrics::after_close`] (without waiting).
    ///
    /// Every kind of destination honours `timeout`: a file destination's writer, and a
    /// backend's delivery thread, even one stuck in the backend. One that has not
    /// drained by then is closed in the background (a file writer goes on writing what
    /// it holds, as a dropped [`Writer`](crate::Writer) does); the counters returned are
    /// those of that moment. When it did drain in time, a file destination's writer is
    /// also closed (and its file `fsync`ed) before `remove` returns.
    pub fn remove(&self, name: &str, timeout: Duration) -> Option<DestinationMetrics> {
        let removed = {
            let _changing = lock(&self.shared.changing);
            let current = self.shared.destinations.load_full();
            let removed = current.iter().find(|d| d.name == name).cloned()?;
            let next = current.iter().filter(|d| d.name != name).cloned().collect();
            self.shared.destinations.store(Arc::new(next));
            removed
        };
        let closed = removed.close(deadline_after(timeout));
        let metrics = removed.metrics();
        if closed.is_err() {
            // Dropping the last reference to a file writer that is stuck or failing
            // would wait for its consumer: leave that to a thread of its own. (If it
            // cannot be started, the closure, and so the destination, drops here.)
            let _ = std::thread::Builder::new()
                .name("lethe-log-close".into())
                .spawn(move || drop(removed));
        }
        Some(metrics)
    }

    /// The destination called `name`.
    pub fn destination(&self, name: &str) -> Option<DestinationHandle> {
        self.shared
            .destinations
            .load()
            .iter()
            .find(|d| d.name == name)
            .map(|d| DestinationHandle(Arc::clone(d)))
    }

    /// Returns once every record logged before the call has been handed to the file
    /// (page cache) or to the backend (and the backend flushed); gives up after 30 s (in
    /// total; every kind of destination honours it: a file destination's writer, and a
    /// backend's delivery thread, which makes the backend's flush, even one stuck in the
    /// backend).
    ///
    /// # Errors
    ///
    /// The first destination's error (a failing file, a backend that does not drain);
    /// every destination is flushed regardless.
    pub fn flush(&self) -> io::Result<()> {
        if self.shared.forked() {
            return Err(self.shared.owner.refused("logger"));
        }
        let deadline = deadline_after(Duration::from_secs(30));
        let mut first = Ok(());
        for d in self.shared.destinations.load().iter() {
            if let Err(e) = d.flush(deadline)
                && first.is_ok()
            {
                first = Err(io::Error::new(e.kind(), format!("{}: {e}", d.name)));
            }
        }
        first
    }

    /// Stops the logger (records logged afterwards are counted in
    /// [`LoggerMetrics::after_shutdown`] and discarded; records already on their way
    /// when a destination closes, in [`LoggerMetrics::after_close`]), drains every
    /// destination in parallel, and closes them. Waits at most `timeout` in total, for
    /// every kind of destination (each drains on a thread of its own; a file
    /// destination's writer and a backend's delivery thread both honour the deadline,
    /// and one still draining at the deadline goes on in the background).
    ///
    /// # Errors
    ///
    /// [`ShutdownError`] naming the destinations that failed or did not finish in time
    /// (they keep draining in the background).
    pub fn shutdown(&self, timeout: Duration) -> Result<(), ShutdownError> {
        if self.shared.forked() {
            // The destinations' threads are the parent's: nothing here can drain them.
            let why = self.shared.owner.refused("logger").to_string();
            return Err(ShutdownError {
                pending: vec![("logger".into(), why)],
            });
        }
        let deadline = deadline_after(timeout);
        self.shared.closed.store(true, Ordering::SeqCst);
        let all = {
            let _changing = lock(&self.shared.changing);
            self.shared.destinations.swap(Arc::new(Vec::new()))
        };
        // Their counters stay in the metrics (the file writers' as of now, until each
        // has drained).
        let first = {
            let mut retired = lock(&self.shared.retired);
            let first = retired.len();
            retired.extend(all.iter().map(|d| d.retire()));
            first
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let mut pending: Vec<(String, String)> = Vec::new();
        for (i, d) in all.iter().enumerate() {
            let d = Arc::clone(d);
            let tx = tx.clone();
            let name = d.name.clone();
            let retired = Arc::clone(&self.shared.retired);
            // Each destination drains, and is dropped (closing a file writer), on its
            // own thread, so a stuck one cannot hold up the others or the deadline.
            let spawned = std::thread::Builder::new()
                .name("lethe-log-close".into())
                .spawn(move || {
                    let r = d.close(deadline).map_err(|e| e.to_string());
                    if let Some(w) = d.writer_metrics()
                        && let Some(entry) = lock(&retired).get_mut(first + i)
                    {
                        entry.writer = Some(w);
                    }
                    let name = d.name.clone();
                    drop(d);
                    let _ = tx.send((name, r));
                });
            match spawned {
                Ok(_) => pending.push((name, "did not finish in time".into())),
                Err(e) => pending.push((name, format!("could not start closing: {e}"))),
            }
        }
        drop(tx);
        drop(all);
        let mut failed = Vec::new();
        let mut waiting = pending.len();
        while waiting > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok((name, result)) => {
                    waiting -= 1;
                    pending.retain(|(n, _)| *n != name);
                    if let Err(e) = result {
                        failed.push((name, e));
                    }
                }
                Err(_) => break,
            }
        }
        failed.extend(pending);
        if failed.is_empty() {
            Ok(())
        } else {
            Err(ShutdownError { pending: failed })
        }
    }

    /// A snapshot of every counter. After [`shutdown`](Logger::shutdown), the
    /// destinations it closed are still listed, with their final counters.
    pub fn metrics(&self) -> LoggerMetrics {
        let c = &self.shared.counters;
        LoggerMetrics {
            records: std::array::from_fn(|i| c.per_level[i].get()),
            filtered: c.filtered.get(),
            sampled_out: c.sampled_out.get(),
            after_shutdown: c.after_shutdown.get(),
            in_forked_child: c.in_forked_child.get(),
            after_close: c.after_close.get(),
            panicked: c.panicked.get(),
            destinations: self
                .shared
                .destinations
                .load()
                .iter()
                .map(|d| d.metrics())
                .chain(lock(&self.shared.retired).iter().map(Retired::metrics))
                .collect(),
            samplers: self.shared.samplers.iter().map(|s| s.stats()).collect(),
        }
    }
}

/// The instant `timeout` from now; a timeout too large for an `Instant` (such as
/// `Duration::MAX`) is about a century.
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(now)
}

/// Logs at a level with `format!`-style arguments and optional fields after a `;`:
/// `log_at!(logger, Level::Info, "served {}", path; "status" => 200, "ms" => 1.5)`.
/// Nothing after the logger is evaluated unless the level is enabled.
#[macro_export]
macro_rules! log_at {
    // The fields' array: every key checked at compile time (`StaticStr`). First, so that
    // the other arms never try to parse `@fields` as an expression.
    (@fields $($key:literal => $value:expr),*) => {
        [$($crate::logger::Field::with_key(
            const { $crate::logger::StaticStr::new($key) },
            $value,
        )),*]
    };
    // No arguments: a message without `{` or `}` is logged as a `StaticStr`, checked at
    // compile time, instead of being formatted (the output is the same).
    ($logger:expr, $level:expr, $fmt:literal $(,)? $(; $($key:literal => $value:expr),* $(,)?)?) => {{
        let logger: &$crate::logger::Logger = &$logger;
        let level: $crate::logger::Level = $level;
        if logger.enabled(level) {
            let fields = &$crate::log_at!(@fields $($($key => $value),*)?);
            match const { $crate::logger::StaticStr::plain_format($fmt) } {
                ::std::option::Option::Some(message) => logger.log_static(level, message, fields),
                ::std::option::Option::None => {
                    logger.log_args(level, ::std::format_args!($fmt), fields)
                }
            }
        }
    }};
    ($logger:expr, $level:expr, $fmt:literal, $($arg:expr),+ $(,)? $(; $($key:literal => $value:expr),* $(,)?)?) => {{
        let logger: &$crate::logger::Logger = &$logger;
        let level: $crate::logger::Level = $level;
        if logger.enabled(level) {
            logger.log_args(
                level,
                ::std::format_args!($fmt, $($arg),+),
                &$crate::log_at!(@fields $($($key => $value),*)?),
            );
        }
    }};
}

/// [`log_at!`] at trace level.
#[macro_export]
macro_rules! trace {
    ($logger:expr, $($rest:tt)+) => { $crate::log_at!($logger, $crate::logger::Level::Trace, $($rest)+) };
}

/// [`log_at!`] at debug level.
#[macro_export]
macro_rules! debug {
    ($logger:expr, $($rest:tt)+) => { $crate::log_at!($logger, $crate::logger::Level::Debug, $($rest)+) };
}

/// [`log_at!`] at info level.
#[macro_export]
macro_rules! info {
    ($logger:expr, $($rest:tt)+) => { $crate::log_at!($logger, $crate::logger::Level::Info, $($rest)+) };
}

/// [`log_at!`] at warn level.
#[macro_export]
macro_rules! warn {
    ($logger:expr, $($rest:tt)+) => { $crate::log_at!($logger, $crate::logger::Level::Warn, $($rest)+) };
}

/// [`log_at!`] at error level.
#[macro_export]
macro_rules! error {
    ($logger:expr, $($rest:tt)+) => { $crate::log_at!($logger, $crate::logger::Level::Error, $($rest)+) };
}

/// [`log_at!`] at fatal level, then [flushes](crate::logger::Logger::flush) the logger
/// (ignoring a flush error, which the destinations count), as
/// [`Logger::fatal`](crate::logger::Logger::fatal) does. It does not exit.
#[macro_export]
macro_rules! fatal {
    ($logger:expr, $($rest:tt)+) => {{
        let logger: &$crate::logger::Logger = &$logger;
        $crate::log_at!(*logger, $crate::logger::Level::Fatal, $($rest)+);
        let _ = logger.flush();
    }};
}

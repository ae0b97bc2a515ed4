//! The Rust loggers Lethe is compared with, each set up as its documentation recommends
//! for production (README or crate docs), with three changes applied to all alike:
//! lossless (block when the queue is full), UTC where the crate offers it, and retention
//! raised so that no line is deleted before the harness counts it.
//!
//! Most of them install the process-global `log` logger or `tracing` subscriber: the
//! harness runs each in a child process of its own.

use std::io::{self, Write as _};
use std::path::Path;
use std::sync::Arc;

use super::{Handle, Target, other};
use crate::compare::workload::{
    DEFAULT_ROTATE_BYTES, KEEP_FILES, MESSAGE, W4_ROTATE_BYTES, Workload, latency_field,
};
use crate::record;

/// W2–W5 through the `log` facade (ftlog, fast_log, flexi_logger, log4rs).
struct LogFacade;

impl Handle for LogFacade {
    #[inline]
    fn record(&mut self, seq: u64) -> io::Result<()> {
        log::info!("{MESSAGE} user_id={seq} latency_us={}", latency_field(seq));
        Ok(())
    }
}

fn rotate_bytes(workload: Workload) -> u64 {
    if workload == Workload::W4 {
        W4_ROTATE_BYTES
    } else {
        DEFAULT_ROTATE_BYTES
    }
}

// --- tracing-appender ----------------------------------------------------------------

struct Tracing {
    writer: tracing_appender::non_blocking::NonBlocking,
    guard: Option<tracing_appender::non_blocking::WorkerGuard>,
    errors: tracing_appender::non_blocking::ErrorCounter,
    raw: bool,
}

/// A daily `RollingFileAppender` behind `non_blocking` (`lossy(false)`); W2–W3 through
/// `tracing_subscriber::fmt` (ANSI off), W1 through the `NonBlocking` writer itself.
pub(super) fn tracing_appender(workload: Workload, dir: &Path) -> io::Result<Box<dyn Target>> {
    use tracing_appender::rolling::{RollingFileAppender, Rotation};
    let file = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("app")
        .filename_suffix("log")
        .max_log_files(KEEP_FILES)
        .build(dir)
        .map_err(other)?;
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(file);
    let errors = writer.error_counter();
    let raw = workload == Workload::W1;
    if !raw {
        tracing_subscriber::fmt()
            .with_writer(writer.clone())
            .with_ansi(false)
            .try_init()
            .map_err(other)?;
    }
    Ok(Box::new(Tracing {
        writer,
        guard: Some(guard),
        errors,
        raw,
    }))
}

struct TracingHandle {
    writer: tracing_appender::non_blocking::NonBlocking,
    raw: bool,
}

impl Handle for TracingHandle {
    #[inline]
    fn record(&mut self, seq: u64) -> io::Result<()> {
        if self.raw {
            self.writer.write_all(&record(seq))
        } else {
            tracing::info!(user_id = seq, latency_us = latency_field(seq), "{MESSAGE}");
            Ok(())
        }
    }
}

impl Target for Tracing {
    fn handle(&self) -> Box<dyn Handle + '_> {
        Box::new(TracingHandle {
            writer: self.writer.clone(),
            raw: self.raw,
        })
    }

    /// Dropping the guard is tracing-appender's flush: it waits (up to 1 s) for the
    /// worker to write what is queued.
    fn finish(&mut self) -> io::Result<()> {
        drop(self.guard.take());
        Ok(())
    }

    fn close(self: Box<Self>) -> io::Result<Option<u64>> {
        Ok(Some(self.errors.dropped_lines() as u64))
    }
}

// --- spdlog-rs -----------------------------------------------------------------------

struct Spdlog {
    logger: Option<Arc<spdlog::Logger>>,
}

/// An `AsyncPoolSink` on its own thread pool (overflow policy `Block`, the default) over a
/// `RotatingFileSink` rotating by size; records through `spdlog::info!(logger: ..)`.
pub(super) fn spdlog(workload: Workload, dir: &Path) -> io::Result<Box<dyn Target>> {
    use spdlog::sink::{AsyncPoolSink, OverflowPolicy, RotatingFileSink, RotationPolicy};
    let file = RotatingFileSink::builder()
        .base_path(dir.join("app.log"))
        .rotation_policy(RotationPolicy::FileSize(rotate_bytes(workload)))
        .max_files(KEEP_FILES)
        .build()
        .map_err(other)?;
    // An own pool, not the shared default one, so that dropping the logger joins it.
    let pool = Arc::new(spdlog::ThreadPool::new().map_err(other)?);
    let sink = AsyncPoolSink::builder()
        .sink(Arc::new(file))
        .overflow_policy(OverflowPolicy::Block)
        .thread_pool(pool)
        .build()
        .map_err(other)?;
    let logger = spdlog::Logger::builder()
        .sink(Arc::new(sink))
        .build()
        .map_err(other)?;
    Ok(Box::new(Spdlog {
        logger: Some(Arc::new(logger)),
    }))
}

struct SpdlogHandle(Arc<spdlog::Logger>);

impl Handle for SpdlogHandle {
    #[inline]
    fn record(&mut self, seq: u64) -> io::Result<()> {
        spdlog::info!(
            logger: self.0,
            "{MESSAGE} user_id={seq} latency_us={}",
            latency_field(seq)
        );
        Ok(())
    }
}

impl Target for Spdlog {
    fn handle(&self) -> Box<dyn Handle + '_> {
        Box::new(SpdlogHandle(Arc::clone(
            self.logger.as_ref().expect("open"),
        )))
    }

    fn settle(&self) {
        self.logger.as_ref().expect("open").flush();
    }

    /// Flush, then drop the logger: its sink's thread pool is joined after it has run
    /// every queued task, and the file sink flushes its buffer when dropped.
    fn finish(&mut self) -> io::Result<()> {
        let logger = self.logger.take().expect("open");
        logger.flush();
        drop(logger);
        Ok(())
    }

    fn close(self: Box<Self>) -> io::Result<Option<u64>> {
        Ok(None)
    }
}

// --- log-facade loggers --------------------------------------------------------------

/// A `log`-facade logger: `flush` is `log::logger().flush()` unless a guard says otherwise.
struct Facade<G> {
    guard: Option<G>,
    flush: fn(&mut Option<G>),
}

impl<G: Sync> Target for Facade<G> {
    fn handle(&self) -> Box<dyn Handle + '_> {
        Box::new(LogFacade)
    }

    fn settle(&self) {
        log::logger().flush();
    }

    fn finish(&mut self) -> io::Result<()> {
        (self.flush)(&mut self.guard);
        Ok(())
    }

    fn close(self: Box<Self>) -> io::Result<Option<u64>> {
        Ok(None)
    }
}

/// ftlog as its README's "feature rich" example: a `FileAppender` rotating daily with a
/// 7-day expiry, `bounded(100_000, true)` (block, not discard), UTC timestamps (the README
/// recommends a fixed zone for throughput).
pub(super) fn ftlog(dir: &Path) -> io::Result<Box<dyn Target>> {
    use ftlog::appender::{Duration, FileAppender, Period};
    let guard = ftlog::builder()
        .max_log_level(log::LevelFilter::Info)
        .bounded(100_000, true)
        .utc()
        .root(FileAppender::rotate_with_expire(
            dir.join("app.log"),
            Period::Day,
            Duration::days(7),
        ))
        .try_init()
        .map_err(other)?;
    Ok(Box::new(Facade {
        guard: Some(guard),
        // The guard's drop flushes and waits for the log thread.
        flush: |g| drop(g.take()),
    }))
}

/// fast_log with `chan_len(Some(100000))` (its README's "performance optimization") and a
/// `file_split` appender rotating by size (W4: `GZipPacker`).
pub(super) fn fast_log(workload: Workload, dir: &Path) -> io::Result<Box<dyn Target>> {
    use fast_log::consts::LogSize;
    use fast_log::plugin::file_split::{KeepType, Rolling, RollingType};
    use fast_log::plugin::packer::{GZipPacker, LogPacker};
    let path = format!("{}/", dir.display());
    let rolling = Rolling::new(RollingType::BySize(LogSize::B(
        rotate_bytes(workload) as usize
    )));
    let keep = KeepType::KeepNum(KEEP_FILES as i64);
    let config = fast_log::Config::new()
        .chan_len(Some(100_000))
        .level(log::LevelFilter::Info);
    let config = if workload == Workload::W4 {
        config.file_split(&path, rolling, keep, GZipPacker {})
    } else {
        config.file_split(&path, rolling, keep, LogPacker {})
    };
    fast_log::init(config).map_err(other)?;
    Ok(Box::new(Facade::<()> {
        guard: None,
        // fast_log's `flush` waits until its workers have written everything.
        flush: |_| log::logger().flush(),
    }))
}

/// flexi_logger in `WriteMode::Async` with its `opt_format` (it has a timestamp),
/// rotating by size with numbered files (W4: `Cleanup::KeepCompressedFiles`).
pub(super) fn flexi_logger(workload: Workload, dir: &Path) -> io::Result<Box<dyn Target>> {
    use flexi_logger::{Cleanup, Criterion, FileSpec, Logger, Naming, WriteMode};
    let cleanup = if workload == Workload::W4 {
        Cleanup::KeepCompressedFiles(KEEP_FILES)
    } else {
        Cleanup::KeepLogFiles(KEEP_FILES)
    };
    let handle = Logger::try_with_str("info")
        .map_err(other)?
        .log_to_file(
            FileSpec::default()
                .directory(dir)
                .basename("app")
                .suppress_timestamp(),
        )
        .format_for_files(flexi_logger::opt_format)
        .write_mode(WriteMode::Async)
        .rotate(
            Criterion::Size(rotate_bytes(workload)),
            Naming::Numbers,
            cleanup,
        )
        .start()
        .map_err(other)?;
    Ok(Box::new(Facade {
        guard: Some(handle),
        // `shutdown` flushes, stops the async writer thread and waits for the cleanup
        // (compression) thread, as its docs ask programs to do at the end. It is the only
        // call that waits for the data: the async `flush` only queues a request. So W4's
        // compression is timed here (see the W4 section of the `compare` module docs).
        flush: |h| {
            let h = h.take().expect("open");
            h.flush();
            h.shutdown();
        },
    }))
}

/// log4rs: a `RollingFileAppender` (default pattern encoder) with a `CompoundPolicy` of a
/// `SizeTrigger` and a `FixedWindowRoller` (W4: a `.gz` pattern, so it compresses).
pub(super) fn log4rs(workload: Workload, dir: &Path) -> io::Result<Box<dyn Target>> {
    use log4rs::append::rolling_file::RollingFileAppender;
    use log4rs::append::rolling_file::policy::compound::CompoundPolicy;
    use log4rs::append::rolling_file::policy::compound::roll::fixed_window::FixedWindowRoller;
    use log4rs::append::rolling_file::policy::compound::trigger::size::SizeTrigger;
    use log4rs::config::{Appender, Config, Root};
    let pattern = if workload == Workload::W4 {
        dir.join("app.{}.log.gz")
    } else {
        dir.join("app.{}.log")
    };
    let roller = FixedWindowRoller::builder()
        .build(&pattern.to_string_lossy(), KEEP_FILES as u32)
        .map_err(other)?;
    let policy = CompoundPolicy::new(
        Box::new(SizeTrigger::new(rotate_bytes(workload))),
        Box::new(roller),
    );
    let file = RollingFileAppender::builder()
        .build(dir.join("app.log"), Box::new(policy))
        .map_err(other)?;
    let config = Config::builder()
        .appender(Appender::builder().build("file", Box::new(file)))
        .build(
            Root::builder()
                .appender("file")
                .build(log::LevelFilter::Info),
        )
        .map_err(other)?;
    let handle = log4rs::init_config(config).map_err(other)?;
    Ok(Box::new(Facade {
        guard: Some(handle),
        flush: |_| log::logger().flush(),
    }))
}

//! Lethe's contenders: the synchronous [`SyncWriter`], and the asynchronous [`Writer`]
//! on its blocking path and on io_uring.
//!
//! W1 writes raw lines through each writer's `io::Write`. W2–W5 go through Lethe's
//! structured logger ([`Logger`], the [`lethe_std::info!`] macro, the [`Text`]
//! formatter) with one file [`Destination`] on the async writer, configured per
//! workload. The logger has no synchronous file destination, so `lethe-sync` writes its
//! W2–W5 records as one `writeln!` each through the `SyncWriter` (noted in the table).

use std::io::{self, Write as _};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lethe_core::retention::RetentionPolicy;
use lethe_std::logger::{Delivery, Destination, Logger, Text, TimePrecision};
use lethe_std::{Fsync, Options, SyncWriter, Uring, UringOptions, Writer, WriterOptions};

use super::{Handle, Target};
use crate::compare::workload::{
    DEFAULT_ROTATE_BYTES, KEEP_FILES, W4_ROTATE_BYTES, W5_FSYNC_BYTES, Workload, format_record,
    latency_field,
};
use crate::record;

/// The target every Lethe record names, as the other contenders' records do.
const TARGET: &str = "lethe_bench";

/// Lethe's W2 record through the logger's own API: an info record, the message and
/// the two fields of [`format_record`]'s line (`user_id`, `latency_us`), which the
/// [`Text`] formatter lays out as
/// `2026-11-26T11:31:14.123456789Z INFO  lethe_bench: request served user_id=7 latency_us=7`.
#[inline]
pub fn lethe_w2(log: &Logger, seq: u64) {
    lethe_std::info!(log, "request served"; "user_id" => seq, "latency_us" => latency_field(seq));
}

/// How the async writer's consumer does its I/O.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Io {
    /// Plain blocking syscalls: [`Uring::Off`], set explicitly, because with lethe-std's
    /// `uring` feature [`Uring::On`] is every writer's default.
    Blocking,
    /// io_uring or a failed open: [`Uring::Strict`].
    Uring,
}

/// The rotating file's options for `workload`: the defaults, with size rotation at
/// 16 MiB and gzip in W4, `fsync` every 1 MiB in W5, and retention raised so no line is
/// deleted before it is counted.
fn file_options(workload: Workload, io: Io) -> Options {
    let mode = match io {
        Io::Blocking => Uring::Off,
        Io::Uring => Uring::Strict,
    };
    let options = Options::default()
        .max_size(Some(DEFAULT_ROTATE_BYTES))
        .retention(RetentionPolicy::new().max_count(KEEP_FILES))
        .io_uring(UringOptions::default().mode(mode));
    match workload {
        Workload::W4 => options.max_size(Some(W4_ROTATE_BYTES)).compress(Some(6)),
        Workload::W5 => options.fsync(Fsync::EveryBytes(W5_FSYNC_BYTES)),
        _ => options,
    }
}

struct Async {
    /// The writer: W1 writes to it directly; in W2–W5 the logger's file destination
    /// holds a clone, and this one is closed last, after the logger's shutdown.
    writer: Option<Writer>,
    /// W2–W5: the logger over `writer`.
    logger: Option<Logger>,
}

/// `Writer` with its defaults (1 MiB ring, block when full) and `io`; in W2–W5 a
/// `Logger` (text format, nanosecond timestamps) with the writer as its one file
/// destination, blocking while the ring is full (as every contender here is lossless).
pub(super) fn async_writer(workload: Workload, dir: &Path, io: Io) -> io::Result<Box<dyn Target>> {
    let mut options = WriterOptions::default().file(file_options(workload, io));
    // `LETHE_BENCH_BUFFER=4MiB` (any size string) runs Lethe with another ring size.
    if let Some(bytes) = crate::bench_buffer().map_err(io::Error::other)? {
        options = options.buffer(bytes);
    }
    let writer = Writer::open(dir.join("app.log"), options).map_err(io::Error::other)?;
    let logger = if workload == Workload::W1 {
        None
    } else {
        let destination = Destination::file(writer.clone())
            .formatter(Text {
                precision: TimePrecision::Nanos,
            })
            .delivery(Delivery::Block {
                max_wait: Duration::from_secs(3600),
            });
        Some(
            Logger::builder()
                .name(TARGET)
                .destination(destination)
                .build()?,
        )
    };
    Ok(Box::new(Async {
        writer: Some(writer),
        logger,
    }))
}

enum AsyncHandle<'a> {
    Raw(Writer),
    Logger(&'a Logger),
}

impl Handle for AsyncHandle<'_> {
    #[inline]
    fn record(&mut self, seq: u64) -> io::Result<()> {
        match self {
            AsyncHandle::Raw(w) => w.write_all(&record(seq)),
            AsyncHandle::Logger(log) => {
                lethe_w2(log, seq);
                Ok(())
            }
        }
    }
}

impl Async {
    fn flush(&self) -> io::Result<()> {
        match &self.logger {
            Some(log) => log.flush(),
            None => self.writer.as_ref().expect("open").flush(),
        }
    }
}

impl Target for Async {
    fn handle(&self) -> Box<dyn Handle + '_> {
        Box::new(match &self.logger {
            Some(log) => AsyncHandle::Logger(log),
            None => AsyncHandle::Raw(self.writer.as_ref().expect("open").clone()),
        })
    }

    fn settle(&self) {
        let _ = self.flush();
    }

    /// The flush returns once every record is in the file; W4's background compression
    /// is not waited for here but in the untimed [`close`](Target::close).
    fn finish(&mut self) -> io::Result<()> {
        self.flush()
    }

    fn close(mut self: Box<Self>) -> io::Result<Option<u64>> {
        let mut dropped = 0;
        if let Some(log) = self.logger.take() {
            let m = log.metrics();
            dropped += m.dropped() + m.destinations.iter().map(|d| d.lost).sum::<u64>();
            log.shutdown(Duration::from_secs(600))
                .map_err(io::Error::other)?;
        }
        let m = self.writer.take().expect("open").close()?;
        Ok(Some(dropped + m.dropped + m.lost_at_close))
    }
}

struct Sync {
    log: Option<SyncWriter>,
    raw: bool,
    /// W5: the byte count at which a writer calls `sync` next.
    sync_at: Option<AtomicU64>,
}

/// `SyncWriter`; in W5 the caller `sync`s every 1 MiB (it has no fsync policy of its own).
pub(super) fn sync(workload: Workload, dir: &Path) -> io::Result<Box<dyn Target>> {
    let options = match workload {
        Workload::W5 => file_options(Workload::W2, Io::Blocking),
        w => file_options(w, Io::Blocking),
    };
    let log = SyncWriter::open(dir.join("app.log"), options).map_err(io::Error::other)?;
    Ok(Box::new(Sync {
        log: Some(log),
        raw: workload == Workload::W1,
        sync_at: (workload == Workload::W5).then(|| AtomicU64::new(W5_FSYNC_BYTES)),
    }))
}

struct SyncHandle<'a> {
    log: SyncWriter,
    raw: bool,
    sync_at: Option<&'a AtomicU64>,
}

impl Handle for SyncHandle<'_> {
    #[inline]
    fn record(&mut self, seq: u64) -> io::Result<()> {
        if self.raw {
            self.log.write_all(&record(seq))?;
        } else {
            format_record(&mut self.log, seq)?;
        }
        if let Some(at) = self.sync_at {
            let bytes = self.log.counts().1;
            let due = at.load(Ordering::Relaxed);
            if bytes >= due
                && at
                    .compare_exchange(
                        due,
                        bytes + W5_FSYNC_BYTES,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    )
                    .is_ok()
            {
                self.log.sync().map_err(io::Error::other)?;
            }
        }
        Ok(())
    }
}

impl Target for Sync {
    fn handle(&self) -> Box<dyn Handle + '_> {
        Box::new(SyncHandle {
            log: self.log.as_ref().expect("open").clone(),
            raw: self.raw,
            sync_at: self.sync_at.as_ref(),
        })
    }

    /// Every record is in the kernel when its `write` returns: nothing to flush.
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn close(mut self: Box<Self>) -> io::Result<Option<u64>> {
        self.log
            .take()
            .expect("open")
            .close()
            .map_err(io::Error::other)?;
        Ok(Some(0))
    }
}

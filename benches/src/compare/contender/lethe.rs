//! Lethe's contenders: the synchronous [`SyncWriter`] and the asynchronous [`Writer`].
//! (Lethe's io_uring mode joins here as a third once it exists.)

use std::io::{self, Write as _};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use lethe_core::retention::RetentionPolicy;
use lethe_std::{Fsync, Options, SyncWriter, Writer, WriterOptions};

use super::{Handle, Target};
use crate::compare::workload::{
    DEFAULT_ROTATE_BYTES, KEEP_FILES, W4_ROTATE_BYTES, W5_FSYNC_BYTES, Workload, format_record,
};
use crate::record;

/// Lethe's W2 record: until Lethe's structured logger exists (issue 6), a `writeln!`
/// through the writer's `io::Write`, which formats the whole line on the stack and
/// writes it as one record. This is the one place to switch to the logger's API.
#[inline]
pub fn lethe_w2(log: &mut impl io::Write, seq: u64) -> io::Result<()> {
    format_record(log, seq)
}

/// The rotating file's options for `workload`: the defaults, with size rotation at
/// 16 MiB and gzip in W4, `fsync` every 1 MiB in W5, and retention raised so no line is
/// deleted before it is counted.
fn file_options(workload: Workload) -> Options {
    let options = Options::default()
        .max_size(Some(DEFAULT_ROTATE_BYTES))
        .retention(RetentionPolicy::new().max_count(KEEP_FILES));
    match workload {
        Workload::W4 => options.max_size(Some(W4_ROTATE_BYTES)).compress(Some(6)),
        Workload::W5 => options.fsync(Fsync::EveryBytes(W5_FSYNC_BYTES)),
        _ => options,
    }
}

struct Async {
    log: Option<Writer>,
    raw: bool,
}

/// `Writer` with its defaults (1 MiB ring, block when full).
pub(super) fn async_writer(workload: Workload, dir: &Path) -> io::Result<Box<dyn Target>> {
    let options = WriterOptions::default().file(file_options(workload));
    let log = Writer::open(dir.join("app.log"), options).map_err(io::Error::other)?;
    Ok(Box::new(Async {
        log: Some(log),
        raw: workload == Workload::W1,
    }))
}

struct AsyncHandle {
    log: Writer,
    raw: bool,
}

impl Handle for AsyncHandle {
    #[inline]
    fn record(&mut self, seq: u64) -> io::Result<()> {
        if self.raw {
            self.log.write_all(&record(seq))
        } else {
            lethe_w2(&mut self.log, seq)
        }
    }
}

impl Target for Async {
    fn handle(&self) -> Box<dyn Handle + '_> {
        Box::new(AsyncHandle {
            log: self.log.as_ref().expect("open").clone(),
            raw: self.raw,
        })
    }

    fn settle(&self) {
        let _ = self.log.as_ref().expect("open").flush();
    }

    fn finish(&mut self) -> io::Result<()> {
        self.log.as_ref().expect("open").flush()
    }

    fn close(mut self: Box<Self>) -> io::Result<Option<u64>> {
        let m = self.log.take().expect("open").close()?;
        Ok(Some(m.dropped + m.lost_at_close))
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
        Workload::W5 => file_options(Workload::W2),
        w => file_options(w),
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
            lethe_w2(&mut self.log, seq)?;
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

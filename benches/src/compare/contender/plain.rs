//! The writers without a logger of their own: file-rotate, and the baseline
//! `Mutex<BufWriter<File>>`. W2 formats the same line as Lethe's
//! ([`format_record`](crate::compare::workload::format_record)).

use std::fs::File;
use std::io::{self, BufWriter, Write as _};
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use file_rotate::compression::Compression;
use file_rotate::suffix::AppendCount;
use file_rotate::{ContentLimit, FileRotate};

use super::{Handle, Target};
use crate::compare::workload::{
    DEFAULT_ROTATE_BYTES, KEEP_FILES, W4_ROTATE_BYTES, W5_FSYNC_BYTES, Workload, format_record,
};
use crate::record;

// --- file-rotate ---------------------------------------------------------------------

struct Rotate {
    file: Mutex<FileRotate<AppendCount>>,
    raw: bool,
}

/// `FileRotate` with numbered backups, rotating after the write that passes the size
/// (`BytesSurpassed`, so a line is never cut in two); W4 gzips every rotated file
/// (`Compression::OnRotate(0)`). Shared behind a `Mutex`, as it needs `&mut` to write.
pub(super) fn file_rotate(workload: Workload, dir: &Path) -> io::Result<Box<dyn Target>> {
    let (limit, compression) = if workload == Workload::W4 {
        (W4_ROTATE_BYTES, Compression::OnRotate(0))
    } else {
        (DEFAULT_ROTATE_BYTES, Compression::None)
    };
    let file = FileRotate::new(
        dir.join("app.log"),
        AppendCount::new(KEEP_FILES),
        ContentLimit::BytesSurpassed(limit as usize),
        compression,
        None,
    );
    Ok(Box::new(Rotate {
        file: Mutex::new(file),
        raw: workload == Workload::W1,
    }))
}

struct RotateHandle<'a> {
    target: &'a Rotate,
    /// W2: the line is formatted here, then written with one `write_all` under the lock
    /// (`FileRotate` is unbuffered: one `write` per call, and a rotation may follow any).
    line: Vec<u8>,
}

impl Handle for RotateHandle<'_> {
    #[inline]
    fn record(&mut self, seq: u64) -> io::Result<()> {
        let mut file = self
            .target
            .file
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.target.raw {
            file.write_all(&record(seq))
        } else {
            self.line.clear();
            format_record(&mut self.line, seq)?;
            file.write_all(&self.line)
        }
    }
}

impl Target for Rotate {
    fn handle(&self) -> Box<dyn Handle + '_> {
        Box::new(RotateHandle {
            target: self,
            line: Vec::with_capacity(256),
        })
    }

    fn finish(&mut self) -> io::Result<()> {
        self.file
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .flush()
    }

    fn close(self: Box<Self>) -> io::Result<Option<u64>> {
        Ok(None)
    }
}

// --- the baseline ---------------------------------------------------------------------

struct Plain {
    /// The writer and, for W5, the bytes written since the last `fdatasync`.
    file: Mutex<(BufWriter<File>, u64)>,
    raw: bool,
    fsync: bool,
}

/// `Mutex<BufWriter<File>>` with a 64 KiB buffer; W5: the writer that passes 1 MiB since
/// the last sync flushes and `fdatasync`s under the lock.
pub(super) fn buf_writer(workload: Workload, dir: &Path) -> io::Result<Box<dyn Target>> {
    let file = File::options()
        .create(true)
        .append(true)
        .open(dir.join("app.log"))?;
    Ok(Box::new(Plain {
        file: Mutex::new((BufWriter::with_capacity(64 << 10, file), 0)),
        raw: workload == Workload::W1,
        fsync: workload == Workload::W5,
    }))
}

struct PlainHandle<'a>(&'a Plain);

impl Handle for PlainHandle<'_> {
    #[inline]
    fn record(&mut self, seq: u64) -> io::Result<()> {
        let mut guard = self.0.file.lock().unwrap_or_else(PoisonError::into_inner);
        let (file, since_sync) = &mut *guard;
        let mut out = Counted {
            inner: file,
            bytes: 0,
        };
        if self.0.raw {
            out.write_all(&record(seq))?;
        } else {
            format_record(&mut out, seq)?;
        }
        if self.0.fsync {
            *since_sync += out.bytes;
            if *since_sync >= W5_FSYNC_BYTES {
                file.flush()?;
                file.get_ref().sync_data()?;
                *since_sync = 0;
            }
        }
        Ok(())
    }
}

/// Counts the bytes written through it (for the baseline's W5).
struct Counted<'a, W> {
    inner: &'a mut W,
    bytes: u64,
}

impl<W: io::Write> io::Write for Counted<'_, W> {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Target for Plain {
    fn handle(&self) -> Box<dyn Handle + '_> {
        Box::new(PlainHandle(self))
    }

    fn finish(&mut self) -> io::Result<()> {
        self.file
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .flush()
    }

    fn close(self: Box<Self>) -> io::Result<Option<u64>> {
        Ok(None)
    }
}

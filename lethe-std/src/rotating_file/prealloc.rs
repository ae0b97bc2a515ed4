//! Space reserved ahead of the appends ([`Options::preallocate`](crate::Options::preallocate)):
//! `fallocate` with `FALLOC_FL_KEEP_SIZE` past the end of the active file, given back when
//! the file stops being the active one.
//!
//! A buffered append into space that is already allocated skips the file system's
//! per-page allocation work (on ext4 the delayed-allocation reservation, the extent
//! status tree and the quota charge for every page): about a quarter of the kernel's time
//! per append on ext4 (docs/BENCHMARKS.md, "Appends into reserved space"; on XFS, whose
//! appends cost half as much to begin with, the gain was not reproducible, so there is
//! no reservation on XFS: see [`reserves_by_itself`]).
//! `KEEP_SIZE` leaves the file's length alone, so readers, `tail -f`, compression and
//! checksums see exactly the bytes written; only the allocated size (`du`, `st_blocks`)
//! runs ahead. Truncating a file to its own length frees the blocks past its end (checked
//! on ext4, XFS and tmpfs), which is how the reservation is given back.

use std::fs::File;
use std::ops::RangeInclusive;

use rustix::fs::{FallocateFlags, fallocate};

use crate::config::ConfigError;
use crate::lock_file::fs_magic;

/// Only a run at least this long reserves: a log that writes less at a time (the
/// [`Writer`](crate::Writer)'s consumer writes what gathered since it last looked, so a
/// log below some 30 MB/s) gains little and would only hold disk space.
const MIN_RUN: u64 = 64 * 1024;

/// The sizes [`Options::preallocate`](crate::Options::preallocate) accepts.
const AHEAD: RangeInclusive<u64> = 64 * 1024..=1 << 30;

/// Checks a reservation size (`Options::preallocate`, the config key `preallocate`): the
/// one place that holds the rule, for both [`RotatingFile::open`](crate::RotatingFile::open)
/// and [`Config::build`](crate::Config::build).
pub(crate) fn check_preallocate(bytes: u64) -> Result<u64, ConfigError> {
    ConfigError::in_range(
        "preallocate",
        bytes,
        &AHEAD,
        format_args!(
            "the space reserved ahead must be from {} KiB to {} GiB (none turns it off)",
            AHEAD.start() >> 10,
            AHEAD.end() >> 30
        ),
    )
}

/// `XFS_SUPER_MAGIC` (`linux/magic.h`), the `statfs` type of XFS.
const XFS_MAGIC: i64 = 0x5846_5342;

/// Whether `file` is on a file system that reserves past the end of a growing file by
/// itself, where a reservation gains nothing and giving it back costs a flush: XFS. Its
/// speculative preallocation already spares appends the allocation work a reservation
/// saves on ext4; and truncating a file to its own length (the give-back) first writes
/// out, and waits for, every byte of the file not yet on disk, since XFS logs the new
/// on-disk size. That made each rotation wait about 11 ms on the loop-mounted XFS image
/// of docs/BENCHMARKS.md before its `fsync` ("io_uring on XFS: run size and
/// reservations"). A file system that cannot be asked counts as one that does not.
fn reserves_by_itself(file: &File) -> bool {
    fs_magic(file).is_ok_and(|magic| magic & 0xffff_ffff == XFS_MAGIC)
}

/// The reservation of the active file.
#[derive(Debug)]
pub(crate) struct Prealloc {
    /// The most reserved past the end of a run (0: off).
    ahead: u64,
    /// A second descriptor of the active file, held from its first reservation on, so
    /// that the reservation is given back however the file stops being the active one
    /// (rotation, reopening, closing, dropping).
    held: Option<File>,
    /// Offset up to which space is reserved (0: nothing yet).
    end: u64,
    /// A reservation of this file failed (no support, no space): appends go on without,
    /// until the next file.
    failed: bool,
    /// The file system was asked whether it reserves by itself (once: the files of one
    /// `RotatingFile` share a directory).
    fs_checked: bool,
}

impl Prealloc {
    /// Reserving up to `ahead` bytes past each run (`None`: never).
    pub(crate) fn new(ahead: Option<u64>) -> Prealloc {
        Prealloc {
            ahead: ahead.unwrap_or(0),
            held: None,
            end: 0,
            failed: false,
            fs_checked: false,
        }
    }

    /// Before a run of `run` bytes is appended to `file`, now `size` bytes long: if the
    /// run is long (at least 64 KiB) and less than half of [`ahead`](Prealloc::new) is
    /// reserved past it, reserves up to `ahead` past it, but never past `limit` (the size
    /// rotation's). So a busy file makes one reservation per `ahead / 2` bytes or so
    /// (each `fallocate` waits for the file system's journal, which an `fsync` may hold),
    /// and a quiet one none.
    pub(crate) fn before_append(&mut self, file: &File, size: u64, run: u64, limit: Option<u64>) {
        if self.ahead == 0 || self.failed || run < MIN_RUN {
            return;
        }
        let after = size.saturating_add(run);
        if after.saturating_add(self.ahead / 2) <= self.end {
            return;
        }
        let from = self.end.max(size);
        let to = after
            .saturating_add(self.ahead)
            .min(limit.unwrap_or(u64::MAX));
        if to <= from {
            return;
        }
        if !self.fs_checked {
            self.fs_checked = true;
            if reserves_by_itself(file) {
                self.ahead = 0;
                return;
            }
        }
        if self.held.is_none() {
            match file.try_clone() {
                Ok(f) => self.held = Some(f),
                Err(_) => {
                    self.failed = true;
                    return;
                }
            }
        }
        // A failure costs nothing but the speed-up: the write that follows allocates as
        // usual, and reports a full disk itself. A partial reservation (ext4 on a nearly
        // full disk) is given back with the rest.
        match fallocate(file, FallocateFlags::KEEP_SIZE, from, to - from) {
            Ok(()) => self.end = to,
            Err(_) => self.failed = true,
        }
    }

    /// The active file is about to be replaced (or closed): frees what is reserved past
    /// its end, and starts afresh for the next one.
    pub(crate) fn release(&mut self) {
        if let Some(file) = self.held.take() {
            // Truncating to its own length keeps every byte; a file another program
            // truncated meanwhile is measured, not assumed.
            if let Ok(meta) = file.metadata() {
                let _ = file.set_len(meta.len());
            }
        }
        self.end = 0;
        self.failed = false;
    }
}

impl Drop for Prealloc {
    fn drop(&mut self) {
        self.release();
    }
}

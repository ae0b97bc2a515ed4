//! [`LockFile`]: an advisory `flock(2)` lock on a file that is never renamed, safe across
//! `fork`, and the network file system check of shared mode (DESIGN-NOTES §5).
//!
//! A `flock` belongs to the open file description. A child created by `fork` shares the
//! parent's description, so an unlock in the child would drop the parent's lock too. The
//! descriptor is opened with `O_CLOEXEC` (it never leaks into an `exec`ed program) and
//! reopened before any lock operation when the process id has changed since it was
//! opened, so a forked child always locks through a description of its own.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rustix::fs::FlockOperation;

use crate::error::{Error, Op};

/// A lock file: opened read-write, created if needed, never renamed or deleted by Lethe.
#[derive(Debug)]
pub(crate) struct LockFile {
    path: PathBuf,
    file: File,
    mode: u32,
    /// The process that opened `file`; another pid means we are a forked child.
    pid: u32,
}

/// The lock a [`LockFile`] is asked for.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `LOCK_SH`, waiting for it.
    Shared,
    /// `LOCK_EX`, waiting for it.
    Exclusive,
    /// `LOCK_EX | LOCK_NB`: fails with `WouldBlock` while anyone else holds the lock.
    TryExclusive,
}

impl LockFile {
    /// Opens (creating with `mode`) the lock file at `path`, with `O_CLOEXEC`.
    pub(crate) fn open(path: &Path, mode: u32) -> Result<LockFile, Error> {
        let file = open(path, mode)?;
        Ok(LockFile {
            path: path.to_path_buf(),
            file,
            mode,
            pid: std::process::id(),
        })
    }

    /// The lock file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Reopens the file if this is a forked child of the process that opened it: the
    /// inherited description's lock belongs to the parent.
    fn own(&mut self) -> Result<(), Error> {
        let pid = std::process::id();
        if pid != self.pid {
            self.file = open(&self.path, self.mode)?;
            self.pid = pid;
        }
        Ok(())
    }

    /// Takes the lock (`EINTR` is retried). With [`Kind::TryExclusive`], an error of kind
    /// `WouldBlock` means someone else holds it. Asking for another kind while holding one
    /// converts the lock, which Linux does by unlocking first: re-check what the lock
    /// protects after every conversion.
    pub(crate) fn lock(&mut self, kind: Kind) -> Result<(), Error> {
        self.own()?;
        let op = match kind {
            Kind::Shared => FlockOperation::LockShared,
            Kind::Exclusive => FlockOperation::LockExclusive,
            Kind::TryExclusive => FlockOperation::NonBlockingLockExclusive,
        };
        loop {
            match rustix::fs::flock(&self.file, op) {
                Ok(()) => return Ok(()),
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(Error::new(Op::Lock, &self.path, e.into())),
            }
        }
    }

    /// Releases the lock (a no-op if none is held).
    pub(crate) fn unlock(&mut self) -> Result<(), Error> {
        self.own()?;
        rustix::fs::flock(&self.file, FlockOperation::Unlock)
            .map_err(|e| Error::new(Op::Lock, &self.path, e.into()))
    }

    /// Reads up to `buf.len()` bytes at offset 0; returns how many were read.
    pub(crate) fn read_head(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let mut got = 0;
        while got < buf.len() {
            match self.file.read_at(&mut buf[got..], got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::new(Op::Read, &self.path, e)),
            }
        }
        Ok(got)
    }

    /// Writes `data` at offset 0.
    pub(crate) fn write_head(&self, data: &[u8]) -> Result<(), Error> {
        self.file
            .write_all_at(data, 0)
            .map_err(|e| Error::new(Op::Write, &self.path, e))
    }

    /// The kind of network file system the lock file is on, if it is on one whose
    /// `flock` and `O_APPEND` are not reliable across machines.
    pub(crate) fn network_fs(&self) -> Result<Option<&'static str>, Error> {
        let magic = fs_magic(&self.file).map_err(|e| Error::new(Op::Stat, &self.path, e.into()))?;
        Ok(network_fs_name(magic))
    }
}

/// The `statfs` type (magic number) of the file system `file` is on, as `f_type` gives
/// it (sign-extended on targets where it is a signed 32-bit field).
pub(crate) fn fs_magic(file: &File) -> rustix::io::Result<i64> {
    let fs = rustix::fs::fstatfs(file)?;
    #[allow(clippy::useless_conversion)] // `f_type`'s width differs between targets
    Ok(i64::from(fs.f_type))
}

/// The name of the network file system with `statfs` magic number `magic`, if it is one.
/// Values from `linux/magic.h` (`SMB2_MAGIC_NUMBER`, `CIFS_SUPER_MAGIC` are unsigned
/// 32-bit values, so both their sign-extended and zero-extended forms are accepted).
pub(crate) fn network_fs_name(magic: i64) -> Option<&'static str> {
    match magic & 0xffff_ffff {
        0x6969 => Some("NFS"),
        0x517b => Some("SMB"),
        0xff53_4d42 => Some("CIFS"),
        0xfe53_4d42 => Some("SMB2"),
        0x0102_1997 => Some("9P"),
        _ => None,
    }
}

fn open(path: &Path, mode: u32) -> Result<File, Error> {
    // std opens every file with O_CLOEXEC; `custom_flags` says so explicitly.
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .mode(mode)
        .custom_flags(rustix::fs::OFlags::CLOEXEC.bits() as i32)
        .open(path)
        .map_err(|e| Error::new(Op::Open, path, e))
}

/// The per-log maintenance lock: compression, checksums, retention, disk-full cleanup and
/// start-up recovery hold it exclusively, so two processes (or two worker threads) never
/// work on the same backup. Writers never take it on their hot path.
#[derive(Debug)]
pub(crate) struct MaintenanceLock {
    file: Mutex<LockFile>,
}

/// Holds the [`MaintenanceLock`] until dropped.
pub(crate) struct MaintenanceGuard<'a> {
    file: MutexGuard<'a, LockFile>,
}

impl MaintenanceLock {
    pub(crate) fn new(file: LockFile) -> MaintenanceLock {
        MaintenanceLock {
            file: Mutex::new(file),
        }
    }

    /// Waits for the lock: first among this process's threads (the mutex: they share one
    /// open file description, which `flock` does not tell apart), then among processes.
    pub(crate) fn hold(&self) -> Result<MaintenanceGuard<'_>, Error> {
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        file.lock(Kind::Exclusive)?;
        Ok(MaintenanceGuard { file })
    }
}

impl Drop for MaintenanceGuard<'_> {
    fn drop(&mut self) {
        // Unlocking an open description cannot fail on Linux for a valid descriptor; if
        // it did, closing the descriptor (at exit) releases the lock.
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pre-fork server opens the log, then forks workers: a child must not share the
    /// parent's lock. flock belongs to the open file description, which `fork` shares, so
    /// without the reopen the child's exclusive try-lock would succeed on the parent's
    /// own lock; with it, the child has its own description and is refused.
    #[test]
    #[allow(unsafe_code)] // fork(2) and waitpid(2): there is no safe wrapper for fork
    fn a_forked_child_reopens_the_lock_file_and_does_not_share_the_parents_lock() {
        let dir = tempfile::tempdir().unwrap();
        let mut lock = LockFile::open(&dir.path().join("app.log.lock"), 0o640).unwrap();
        lock.lock(Kind::Exclusive).unwrap();
        // SAFETY: the child runs only `LockFile::lock` (getpid, open, flock) and then
        // `_exit`; it never returns into the test harness or runs its destructors.
        let child = unsafe { libc::fork() };
        assert!(child >= 0, "fork: {}", io::Error::last_os_error());
        if child == 0 {
            let code = match lock.lock(Kind::TryExclusive) {
                Err(e) if e.io_error().kind() == io::ErrorKind::WouldBlock => 0,
                Ok(()) => 1,
                Err(_) => 2,
            };
            // SAFETY: ends the child at once, as fork's contract requires here.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: waits for the child forked above; `status` is a valid out-pointer.
        let waited = unsafe { libc::waitpid(child, &mut status, 0) };
        assert_eq!(waited, child);
        assert!(libc::WIFEXITED(status), "child status {status:#x}");
        assert_eq!(
            libc::WEXITSTATUS(status),
            0,
            "1: the child took the parent's lock (shared description); 2: an error"
        );
        // The parent still holds its lock, and can release and retake it.
        lock.unlock().unwrap();
        lock.lock(Kind::TryExclusive).unwrap();
    }

    #[test]
    fn network_file_systems_are_recognised() {
        assert_eq!(network_fs_name(0x6969), Some("NFS"));
        assert_eq!(network_fs_name(0xff53_4d42), Some("CIFS"));
        // CIFS_SUPER_MAGIC as a sign-extended `f_type` on 64-bit targets.
        assert_eq!(network_fs_name(0xff53_4d42_u32 as i32 as i64), Some("CIFS"));
        assert_eq!(network_fs_name(0xef53), None); // ext4
        assert_eq!(network_fs_name(0x0102_1994), None); // tmpfs
    }

    #[test]
    fn exclusive_excludes_other_descriptions_and_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.lock");
        let mut a = LockFile::open(&path, 0o640).unwrap();
        let mut b = LockFile::open(&path, 0o640).unwrap();
        a.lock(Kind::Shared).unwrap();
        b.lock(Kind::Shared).unwrap(); // shared locks coexist
        let e = a.lock(Kind::TryExclusive).unwrap_err();
        assert_eq!(e.io_error().kind(), io::ErrorKind::WouldBlock);
        b.unlock().unwrap();
        a.lock(Kind::TryExclusive).unwrap();
        let e = b.lock(Kind::TryExclusive).unwrap_err();
        assert_eq!(e.io_error().kind(), io::ErrorKind::WouldBlock);
        a.unlock().unwrap();
        b.lock(Kind::TryExclusive).unwrap();
    }
}

//! A fault-injecting file system for tests: a FUSE passthrough over a backing directory
//! (the `fuser` crate, served by a thread of the test process) in which a test arms
//! faults. An armed fault makes `write`, `fsync`/`fdatasync`, a directory's `fsync`,
//! `rename`, `create`, `open` or `unlink` fail with a chosen errno (`EIO`, `ENOSPC`, …),
//! for the next N calls or until disarmed, optionally only for file names matching a
//! pattern (`*.gz.tmp`). Everything else passes through to the backing directory.
//!
//! The mount makes every `write(2)` and `fsync(2)` of the code under test reach this
//! daemon while the call runs: no writeback cache (fuser does not ask for one), and files
//! are opened with `FOPEN_DIRECT_IO`, so no page cache sits between the caller and the
//! backing file (a read through the mount sees exactly the backing file's bytes).
//!
//! Mounting needs `/dev/fuse` and root (fuser mounts with `mount(2)` itself, without
//! libfuse or `fusermount3`). [`FaultFs::mount`] reports a missing prerequisite through
//! [`missing`](super::missing) (a SKIP locally, a failure under `LETHE_CI=1`) and returns
//! `None`. Dropping the [`FaultFs`] unmounts (lazily if a file is still open there) and
//! stops the thread.
#![allow(dead_code)] // each test file uses its own subset

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{FileExt as _, MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fuser::{
    Errno, FileAttr, FileHandle, FileType, FopenFlags, Generation, INodeNo, OpenFlags, RenameFlags,
    ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen,
    ReplyStatfs, ReplyWrite, Request, WriteFlags,
};

/// The operations a fault can be armed for.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum FaultOp {
    /// `fsync`/`fdatasync` of a regular file.
    Fsync,
    /// `fsync` of a directory.
    FsyncDir,
    /// `write` (`pwrite`, `writev`) to a file; the failed call writes nothing.
    Write,
    /// `rename`/`renameat2`; a pattern is matched against the old name.
    Rename,
    /// Creating a file (`open` with `O_CREAT` of a name that does not exist).
    Create,
    /// Opening an existing file.
    Open,
    /// `unlink`.
    Unlink,
}

/// One armed fault.
#[derive(Debug)]
struct Fault {
    op: FaultOp,
    errno: i32,
    /// Calls left to fail; `None`: until disarmed.
    remaining: Option<u64>,
    /// A file name pattern (`*` matches any run of characters), or every name.
    pattern: Option<String>,
}

/// One call of an operation that faults can be armed for, as the file system served it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The operation.
    pub op: FaultOp,
    /// The file name it was on (for a rename: the old name, then the new one).
    pub names: Vec<String>,
    /// The errno it failed with (injected or real), or 0.
    pub errno: i32,
}

/// The armed faults and what they did.
#[derive(Default, Debug)]
struct Faults {
    armed: Vec<Fault>,
    /// Every call, in order.
    events: Vec<Event>,
    /// Calls seen, by operation (failed or not).
    calls: HashMap<FaultOp, u64>,
    /// Calls failed on purpose, by operation.
    injected: HashMap<FaultOp, u64>,
}

impl Faults {
    /// Counts a call of `op` on `names`; the errno to fail it with, if a fault says so.
    fn check(&mut self, op: FaultOp, names: &[&OsStr]) -> Option<Errno> {
        *self.calls.entry(op).or_default() += 1;
        // A rename matches by its old name.
        let names = if op == FaultOp::Rename {
            &names[..1]
        } else {
            names
        };
        let i = self.armed.iter().position(|f| {
            f.op == op
                && f.remaining != Some(0)
                && f.pattern
                    .as_deref()
                    .is_none_or(|p| names.iter().any(|n| glob(p.as_bytes(), n.as_bytes())))
        })?;
        let fault = &mut self.armed[i];
        if let Some(left) = &mut fault.remaining {
            *left -= 1;
        }
        let errno = fault.errno;
        *self.injected.entry(op).or_default() += 1;
        Some(Errno::from_i32(errno))
    }
}

/// Whether `name` matches `pattern`, in which `*` stands for any run of bytes.
fn glob(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|i| glob(rest, &name[i..])),
        Some((c, rest)) => name.first() == Some(c) && glob(rest, &name[1..]),
    }
}

/// A mounted fault-injecting file system; unmounted on drop.
pub struct FaultFs {
    faults: Arc<Mutex<Faults>>,
    // Field order: the session (the mount) goes before the directories it uses.
    session: Option<fuser::BackgroundSession>,
    mount: tempfile::TempDir,
    backing: tempfile::TempDir,
}

impl FaultFs {
    /// Mounts a new, empty fault file system; `None` after [`missing`](super::missing)
    /// names why it could not (`test` says which test needed it).
    pub fn mount(test: &str) -> Option<FaultFs> {
        if !Path::new("/dev/fuse").exists() {
            super::missing(format_args!(
                "{test}: no /dev/fuse for the fault file system"
            ));
            return None;
        }
        let backing = tempfile::tempdir().unwrap();
        let mount = tempfile::tempdir().unwrap();
        let faults = Arc::new(Mutex::new(Faults::default()));
        let fs = Passthrough {
            root: backing.path().to_owned(),
            faults: Arc::clone(&faults),
            state: Mutex::new(State::new()),
        };
        let mut config = fuser::Config::default();
        config.mount_options = vec![fuser::MountOption::FSName("lethe-faultfs".into())];
        match fuser::spawn_mount(fs, mount.path(), &config) {
            Ok(session) => Some(FaultFs {
                faults,
                session: Some(session),
                mount,
                backing,
            }),
            Err(e) => {
                super::missing(format_args!(
                    "{test}: cannot mount the FUSE fault file system: {e}"
                ));
                None
            }
        }
    }

    /// The mount point: the directory the code under test writes in.
    pub fn dir(&self) -> &Path {
        self.mount.path()
    }

    /// The backing directory (the same files, without faults).
    pub fn backing(&self) -> &Path {
        self.backing.path()
    }

    /// Makes the next `times` calls of `op` (every call until [`disarm`](Self::disarm)
    /// with `None`) fail with `errno`; only calls on a file whose name matches `pattern`
    /// (`*` matches any run of characters), if one is given.
    pub fn arm(&self, op: FaultOp, errno: i32, times: Option<u64>, pattern: Option<&str>) {
        self.lock().armed.push(Fault {
            op,
            errno,
            remaining: times,
            pattern: pattern.map(str::to_owned),
        });
    }

    /// Removes every fault armed for `op`.
    pub fn disarm(&self, op: FaultOp) {
        self.lock().armed.retain(|f| f.op != op);
    }

    /// How many calls of `op` failed on purpose so far.
    pub fn injected(&self, op: FaultOp) -> u64 {
        self.lock().injected.get(&op).copied().unwrap_or(0)
    }

    /// Every call of the operations faults can be armed for, in the order served.
    pub fn events(&self) -> Vec<Event> {
        self.lock().events.clone()
    }

    /// How many calls of `op` reached the file system so far (failed or not).
    pub fn calls(&self, op: FaultOp) -> u64 {
        self.lock().calls.get(&op).copied().unwrap_or(0)
    }

    fn lock(&self) -> MutexGuard<'_, Faults> {
        self.faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for FaultFs {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            // A file still open on the mount makes a plain unmount fail; detach it then.
            if session.umount_and_join().is_err() {
                let _ = std::process::Command::new("umount")
                    .arg("-l")
                    .arg(self.mount.path())
                    .status();
            }
        }
    }
}

/// Inode numbers to paths (relative to the backing root) and the open files.
struct State {
    paths: HashMap<u64, PathBuf>,
    inodes: HashMap<PathBuf, u64>,
    next_inode: u64,
    files: HashMap<u64, Arc<File>>,
    next_fh: u64,
}

impl State {
    fn new() -> State {
        let mut state = State {
            paths: HashMap::new(),
            inodes: HashMap::new(),
            next_inode: 2,
            files: HashMap::new(),
            next_fh: 1,
        };
        state.paths.insert(1, PathBuf::new());
        state.inodes.insert(PathBuf::new(), 1);
        state
    }

    /// The inode number of `rel`, allocated on first sight.
    fn inode(&mut self, rel: &Path) -> u64 {
        if let Some(&ino) = self.inodes.get(rel) {
            return ino;
        }
        let ino = self.next_inode;
        self.next_inode += 1;
        self.paths.insert(ino, rel.to_owned());
        self.inodes.insert(rel.to_owned(), ino);
        ino
    }

    fn forget_path(&mut self, rel: &Path) {
        if let Some(ino) = self.inodes.remove(rel) {
            self.paths.remove(&ino);
        }
    }
}

/// The FUSE side: every request goes to the same path under `root`.
struct Passthrough {
    root: PathBuf,
    faults: Arc<Mutex<Faults>>,
    state: Mutex<State>,
}

/// Attributes are not cached: the kernel asks again each time.
const TTL: Duration = Duration::ZERO;

fn attr(ino: u64, m: &fs::Metadata) -> FileAttr {
    let time = |s: i64, ns: i64| {
        if s >= 0 {
            UNIX_EPOCH + Duration::new(s as u64, ns as u32)
        } else {
            UNIX_EPOCH
        }
    };
    FileAttr {
        ino: INodeNo(ino),
        size: m.size(),
        blocks: m.blocks(),
        atime: time(m.atime(), m.atime_nsec()),
        mtime: time(m.mtime(), m.mtime_nsec()),
        ctime: time(m.ctime(), m.ctime_nsec()),
        crtime: SystemTime::UNIX_EPOCH,
        kind: FileType::from_std(m.file_type()).unwrap_or(FileType::RegularFile),
        perm: (m.mode() & 0o7777) as u16,
        nlink: m.nlink() as u32,
        uid: m.uid(),
        gid: m.gid(),
        rdev: m.rdev() as u32,
        blksize: m.blksize() as u32,
        flags: 0,
    }
}

impl Passthrough {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `call` (an `op` on `names`) unless an armed fault fails it, and logs it.
    fn faulty<T>(
        &self,
        op: FaultOp,
        names: &[&OsStr],
        call: impl FnOnce() -> Result<T, Errno>,
    ) -> Result<T, Errno> {
        let lock = || {
            self.faults
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        let injected = lock().check(op, names);
        let result = match injected {
            Some(e) => Err(e),
            None => call(),
        };
        lock().events.push(Event {
            op,
            names: names
                .iter()
                .map(|n| n.to_string_lossy().into_owned())
                .collect(),
            errno: result.as_ref().err().map_or(0, |e| e.code()),
        });
        result
    }

    /// The relative path of `ino`.
    fn rel(&self, ino: INodeNo) -> Result<PathBuf, Errno> {
        self.state().paths.get(&ino.0).cloned().ok_or(Errno::ENOENT)
    }

    fn file(&self, fh: FileHandle) -> Result<Arc<File>, Errno> {
        self.state().files.get(&fh.0).cloned().ok_or(Errno::EBADF)
    }

    /// The name an inode has now (for matching patterns).
    fn name_of(&self, ino: INodeNo) -> OsString {
        self.rel(ino)
            .ok()
            .and_then(|p| p.file_name().map(OsStr::to_owned))
            .unwrap_or_default()
    }

    fn entry(&self, rel: PathBuf) -> Result<FileAttr, Errno> {
        let m = fs::symlink_metadata(self.root.join(&rel))?;
        let ino = self.state().inode(&rel);
        Ok(attr(ino, &m))
    }

    fn add_file(&self, file: File) -> FileHandle {
        let mut state = self.state();
        let fh = state.next_fh;
        state.next_fh += 1;
        state.files.insert(fh, Arc::new(file));
        FileHandle(fh)
    }

    /// Opens the backing file for `flags` (without `O_APPEND`: the kernel gives every
    /// write its offset, and `write_at` writes there).
    fn open_backing(&self, path: &Path, flags: i32, create: Option<u32>) -> std::io::Result<File> {
        let acc = flags & libc::O_ACCMODE;
        let mut o = OpenOptions::new();
        o.read(acc == libc::O_RDONLY || acc == libc::O_RDWR)
            .write(acc == libc::O_WRONLY || acc == libc::O_RDWR)
            .custom_flags(
                flags & !(libc::O_ACCMODE | libc::O_APPEND | libc::O_CREAT | libc::O_EXCL),
            );
        if let Some(mode) = create {
            o.create_new(true).mode(mode);
        }
        o.open(path)
    }
}

/// `Err(errno)` replies and returns from the handler.
macro_rules! tri {
    ($reply:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return $reply.error(Errno::from(e)),
        }
    };
}

impl fuser::Filesystem for Passthrough {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let rel = tri!(reply, self.rel(parent)).join(name);
        let a = tri!(reply, self.entry(rel));
        reply.entry(&TTL, &a, Generation(0));
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, fh: Option<FileHandle>, reply: ReplyAttr) {
        let m = match fh.map(|fh| self.file(fh)) {
            Some(Ok(f)) => tri!(reply, f.metadata()),
            _ => tri!(
                reply,
                fs::symlink_metadata(self.root.join(tri!(reply, self.rel(ino))))
            ),
        };
        reply.attr(&TTL, &attr(ino.0, &m));
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<fuser::TimeOrNow>,
        _mtime: Option<fuser::TimeOrNow>,
        _ctime: Option<SystemTime>,
        fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let path = self.root.join(tri!(reply, self.rel(ino)));
        if let Some(mode) = mode {
            tri!(
                reply,
                fs::set_permissions(&path, fs::Permissions::from_mode(mode & 0o7777))
            );
        }
        if let Some(size) = size {
            match fh.map(|fh| self.file(fh)) {
                Some(Ok(f)) => tri!(reply, f.set_len(size)),
                _ => tri!(
                    reply,
                    OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .and_then(|f| f.set_len(size))
                ),
            }
        }
        let m = tri!(reply, fs::symlink_metadata(&path));
        reply.attr(&TTL, &attr(ino.0, &m));
    }

    fn mkdir(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let rel = tri!(reply, self.rel(parent)).join(name);
        let path = self.root.join(&rel);
        tri!(reply, fs::create_dir(&path));
        tri!(
            reply,
            fs::set_permissions(&path, fs::Permissions::from_mode(mode & !umask & 0o7777))
        );
        let a = tri!(reply, self.entry(rel));
        reply.entry(&TTL, &a, Generation(0));
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let rel = tri!(reply, self.rel(parent)).join(name);
        tri!(
            reply,
            self.faulty(FaultOp::Unlink, &[name], || Ok(fs::remove_file(
                self.root.join(&rel)
            )?))
        );
        self.state().forget_path(&rel);
        reply.ok();
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        let rel = tri!(reply, self.rel(parent)).join(name);
        tri!(reply, fs::remove_dir(self.root.join(&rel)));
        self.state().forget_path(&rel);
        reply.ok();
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let from = tri!(reply, self.rel(parent)).join(name);
        let to = tri!(reply, self.rel(newparent)).join(newname);
        tri!(
            reply,
            self.faulty(FaultOp::Rename, &[name, newname], || {
                rustix::fs::renameat_with(
                    rustix::fs::CWD,
                    self.root.join(&from),
                    rustix::fs::CWD,
                    self.root.join(&to),
                    rustix::fs::RenameFlags::from_bits_retain(flags.bits()),
                )
                .map_err(|e| Errno::from_i32(e.raw_os_error()))
            })
        );
        let mut state = self.state();
        state.forget_path(&to);
        if let Some(ino) = state.inodes.remove(&from) {
            state.paths.insert(ino, to.clone());
            state.inodes.insert(to, ino);
        }
        reply.ok();
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        let path = self.root.join(tri!(reply, self.rel(ino)));
        let file = tri!(
            reply,
            self.faulty(FaultOp::Open, &[&self.name_of(ino)], || {
                Ok(self.open_backing(&path, flags.0, None)?)
            })
        );
        reply.opened(self.add_file(file), FopenFlags::FOPEN_DIRECT_IO);
    }

    fn create(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        let rel = tri!(reply, self.rel(parent)).join(name);
        let path = self.root.join(&rel);
        let file = tri!(
            reply,
            self.faulty(FaultOp::Create, &[name], || {
                Ok(self.open_backing(&path, flags, Some(mode & !umask & 0o7777))?)
            })
        );
        let a = tri!(reply, self.entry(rel));
        reply.created(
            &TTL,
            &a,
            Generation(0),
            self.add_file(file),
            FopenFlags::FOPEN_DIRECT_IO,
        );
    }

    fn read(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<fuser::LockOwner>,
        reply: ReplyData,
    ) {
        let file = tri!(reply, self.file(fh));
        let mut buf = vec![0; size as usize];
        let mut n = 0;
        while n < buf.len() {
            match file.read_at(&mut buf[n..], offset + n as u64) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) => return reply.error(e.into()),
            }
        }
        reply.data(&buf[..n]);
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<fuser::LockOwner>,
        reply: ReplyWrite,
    ) {
        let file = tri!(reply, self.file(fh));
        tri!(
            reply,
            self.faulty(FaultOp::Write, &[&self.name_of(ino)], || {
                Ok(file.write_all_at(data, offset)?)
            })
        );
        reply.written(data.len() as u32);
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: fuser::LockOwner,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<fuser::LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.state().files.remove(&fh.0);
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        datasync: bool,
        reply: ReplyEmpty,
    ) {
        let file = tri!(reply, self.file(fh));
        tri!(
            reply,
            self.faulty(FaultOp::Fsync, &[&self.name_of(ino)], || {
                Ok(if datasync {
                    file.sync_data()
                } else {
                    file.sync_all()
                }?)
            })
        );
        reply.ok();
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        let path = self.root.join(tri!(reply, self.rel(ino)));
        let dir = tri!(reply, File::open(path));
        reply.opened(self.add_file(dir), FopenFlags::empty());
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let rel = tri!(reply, self.rel(ino));
        let mut entries: Vec<(OsString, FileType)> = vec![
            (".".into(), FileType::Directory),
            ("..".into(), FileType::Directory),
        ];
        for e in tri!(reply, fs::read_dir(self.root.join(&rel))) {
            let e = tri!(reply, e);
            let kind = tri!(reply, e.file_type());
            entries.push((
                e.file_name(),
                FileType::from_std(kind).unwrap_or(FileType::RegularFile),
            ));
        }
        for (i, (name, kind)) in entries.iter().enumerate().skip(offset as usize) {
            let child = if name.as_bytes() == b"." || name.as_bytes() == b".." {
                ino.0
            } else {
                self.state().inode(&rel.join(name))
            };
            if reply.add(INodeNo(child), i as u64 + 1, *kind, name) {
                break;
            }
        }
        reply.ok();
    }

    fn releasedir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        reply: ReplyEmpty,
    ) {
        self.state().files.remove(&fh.0);
        reply.ok();
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        let dir = tri!(reply, self.file(fh));
        tri!(
            reply,
            self.faulty(FaultOp::FsyncDir, &[&self.name_of(ino)], || Ok(
                dir.sync_all()?
            ))
        );
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        let s = tri!(
            reply,
            rustix::fs::statvfs(&self.root).map_err(std::io::Error::from)
        );
        reply.statfs(
            s.f_blocks,
            s.f_bfree,
            s.f_bavail,
            s.f_files,
            s.f_ffree,
            s.f_bsize as u32,
            s.f_namemax as u32,
            s.f_frsize as u32,
        );
    }

    fn access(&self, _req: &Request, _ino: INodeNo, _mask: fuser::AccessFlags, reply: ReplyEmpty) {
        reply.ok();
    }

    fn fallocate(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        let file = tri!(reply, self.file(fh));
        tri!(
            reply,
            rustix::fs::fallocate(
                &*file,
                rustix::fs::FallocateFlags::from_bits_retain(mode as u32),
                offset,
                length
            )
            .map_err(std::io::Error::from)
        );
        reply.ok();
    }
}

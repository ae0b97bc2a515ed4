//! Post-processing of finished segments: gzip compression and SHA-256 sidecars, done with
//! the crash-safe sequence of DESIGN-NOTES §4, and the recovery that finishes or undoes
//! interrupted work at start-up.
//!
//! Invariant: at every crash point, every backup has at least one complete copy on disk,
//! the raw segment or a verified `.gz`. Compression of backup `B`:
//!
//! 1. create `B.gz.tmp` with `O_EXCL` and the configured mode;
//! 2. stream `B` through a gzip encoder into it, hashing the compressed bytes;
//! 3. finish the gzip stream, `fsync` the temporary;
//! 4. rename it to `B.gz` (never replacing a file), `fsync` the directory;
//! 5. with checksums on, write `B.gz.sha256` the same way (temporary, `fsync`, rename,
//!    `fsync` the directory);
//! 6. unlink `B`, `fsync` the directory.
//!
//! Sidecars are in `sha256sum` format (`<hex>  <file name>\n`), so `sha256sum -c` passes
//! when run in the log directory.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use lethe_core::naming::{BackupName, Form};
use lethe_core::retention::Entry;
use sha2::{Digest, Sha256};

use crate::backups::Naming;
use crate::config::ConfigError;
use crate::error::{Error, Op};

/// The gzip levels: 0 (stored, fastest) to 9 (smallest).
pub(crate) const LEVELS: std::ops::RangeInclusive<u32> = 0..=9;

/// Checks a gzip level ([`Options::compress`](crate::Options::compress), the config key
/// `compress_level`) against [`LEVELS`]: the one place that holds the rule, for both
/// [`RotatingFile::open`](crate::RotatingFile::open) and
/// [`Config::build`](crate::Config::build).
///
/// # Errors
///
/// A level outside [`LEVELS`]: the error names the field (`compress_level`), the value
/// and the rule.
pub(crate) fn check_compress_level(level: u32) -> Result<u32, ConfigError> {
    ConfigError::in_range(
        "compress_level",
        level,
        &LEVELS,
        format_args!("it must be {} to {}", LEVELS.start(), LEVELS.end()),
    )
}

/// Work on one backup, identified by its raw name (form [`Form::Raw`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Job {
    /// Compress the raw backup (and write the `.gz.sha256` sidecar if checksums are on).
    Compress(BackupName),
    /// Write the `.sha256` sidecar of the raw backup.
    ChecksumRaw(BackupName),
    /// Write the `.gz.sha256` sidecar of an existing `.gz`.
    ChecksumGz(BackupName),
}

impl Job {
    /// The file the job reads: the raw backup, or for [`Job::ChecksumGz`] its `.gz`.
    pub(crate) fn input(&self) -> BackupName {
        match *self {
            Job::Compress(name) | Job::ChecksumRaw(name) => name,
            Job::ChecksumGz(name) => BackupName {
                form: Form::Gzip,
                ..name
            },
        }
    }

    /// The backup's sequence number.
    pub(crate) fn sequence(&self) -> u64 {
        match self {
            Job::Compress(n) | Job::ChecksumRaw(n) | Job::ChecksumGz(n) => n.sequence,
        }
    }
}

/// How to post-process.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) compress: Option<u32>,
    pub(crate) checksum: bool,
    pub(crate) file_mode: u32,
}

/// What running a job produced.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Done {
    pub(crate) compressed: bool,
    pub(crate) checksums: u32,
}

/// Which step of a job failed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Compressing (including renaming the `.gz` into place and removing the raw copy).
    Compress,
    /// Hashing or writing a sidecar.
    Checksum,
}

/// A job that failed: what it had done before, which step failed, and the error.
#[derive(Debug)]
pub(crate) struct Failed {
    pub(crate) done: Done,
    pub(crate) step: Step,
    pub(crate) error: Error,
}

/// Runs `job` in `dir`.
pub(crate) fn run(
    job: Job,
    dir: &Path,
    naming: &Naming,
    settings: &Settings,
) -> Result<Done, Failed> {
    let path_of = |name: BackupName, form: Form| -> Result<PathBuf, Error> {
        naming.path_of(dir, BackupName { form, ..name })
    };
    let mut done = Done::default();
    let fail = |done: Done, step: Step| move |error: Error| Failed { done, step, error };
    match job {
        Job::Compress(name) => {
            let compress = || -> Result<[u8; 32], Error> {
                let raw = path_of(name, Form::Raw)?;
                let gz = path_of(name, Form::Gzip)?;
                let tmp = path_of(name, Form::GzipTmp)?;
                let level = settings.compress.unwrap_or(6);
                let digest = compress_file(&raw, &tmp, level, settings.file_mode)
                    .and_then(|digest| rename_noreplace(&tmp, &gz).map(|()| digest))
                    .inspect_err(|_| {
                        // Best effort: recovery at the next start removes it otherwise. The
                        // raw segment is untouched, so nothing is lost.
                        let _ = remove_if_exists(&tmp);
                    })?;
                sync_dir(dir)?;
                Ok(digest)
            };
            let digest = compress().map_err(fail(done, Step::Compress))?;
            done.compressed = true;
            if settings.checksum {
                write_sidecar(dir, naming, name, Form::Gzip, &digest, settings.file_mode)
                    .map_err(fail(done, Step::Checksum))?;
                done.checksums += 1;
            }
            let cleanup = || -> Result<(), Error> {
                // A raw sidecar from an earlier checksum-only configuration describes a
                // file that is about to disappear.
                remove_if_exists(&path_of(name, Form::Sha256)?)?;
                remove_if_exists(&path_of(name, Form::Raw)?)?;
                sync_dir(dir)
            };
            cleanup().map_err(fail(done, Step::Compress))?;
            Ok(done)
        }
        Job::ChecksumRaw(name) | Job::ChecksumGz(name) => {
            let form = job.input().form;
            let sidecar = || -> Result<(), Error> {
                let digest = hash_file(&path_of(name, form)?)?;
                write_sidecar(dir, naming, name, form, &digest, settings.file_mode)
            };
            sidecar().map_err(fail(done, Step::Checksum))?;
            done.checksums = 1;
            Ok(done)
        }
    }
}

/// Streams `raw` into a new gzip file `tmp` and syncs it. Returns the SHA-256 of the
/// compressed bytes.
fn compress_file(raw: &Path, tmp: &Path, level: u32, mode: u32) -> Result<[u8; 32], Error> {
    let out = create_exclusive(tmp, mode)?;
    let mut enc = GzEncoder::new(
        HashingWriter {
            inner: out,
            hasher: Sha256::new(),
        },
        Compression::new(level),
    );
    read_chunks(raw, |chunk| {
        enc.write_all(chunk)
            .map_err(|e| Error::new(Op::Write, tmp, e))
    })?;
    let hashing = enc.finish().map_err(|e| Error::new(Op::Write, tmp, e))?;
    hashing
        .inner
        .sync_all()
        .map_err(|e| Error::new(Op::Sync, tmp, e))?;
    Ok(hashing.hasher.finalize().into())
}

/// Writes the `sha256sum` line for the backup's `artifact` form (raw or gzip) through a
/// temporary and renames it into place.
fn write_sidecar(
    dir: &Path,
    naming: &Naming,
    name: BackupName,
    artifact: Form,
    digest: &[u8; 32],
    mode: u32,
) -> Result<(), Error> {
    let (tmp_form, form) = if artifact == Form::Gzip {
        (Form::GzipSha256Tmp, Form::GzipSha256)
    } else {
        (Form::Sha256Tmp, Form::Sha256)
    };
    let artifact = naming.path_of(
        dir,
        BackupName {
            form: artifact,
            ..name
        },
    )?;
    let tmp = naming.path_of(
        dir,
        BackupName {
            form: tmp_form,
            ..name
        },
    )?;
    let dest = naming.path_of(dir, BackupName { form, ..name })?;
    let file_name = artifact
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let line = format!("{}  {file_name}\n", hex(digest));
    let mut f = create_exclusive(&tmp, mode)?;
    f.write_all(line.as_bytes())
        .map_err(|e| Error::new(Op::Write, &tmp, e))
        .and_then(|()| f.sync_all().map_err(|e| Error::new(Op::Sync, &tmp, e)))
        .and_then(|()| {
            drop(f);
            rename_noreplace(&tmp, &dest)
        })
        .inspect_err(|_| {
            // Best effort, as for the `.gz` temporary: recovery at the next start removes
            // it otherwise.
            let _ = remove_if_exists(&tmp);
        })?;
    sync_dir(dir)
}

/// Calls `each` with successive chunks of the file at `path`.
fn read_chunks(path: &Path, mut each: impl FnMut(&[u8]) -> Result<(), Error>) -> Result<(), Error> {
    let mut f = File::open(path).map_err(|e| Error::new(Op::Open, path, e))?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match f.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => each(&buf[..n])?,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::new(Op::Read, path, e)),
        }
    }
}

/// The SHA-256 of a file's contents.
fn hash_file(path: &Path) -> Result<[u8; 32], Error> {
    let mut hasher = Sha256::new();
    read_chunks(path, |chunk| {
        hasher.update(chunk);
        Ok(())
    })?;
    Ok(hasher.finalize().into())
}

/// Decompresses `gz` to the end, which checks its CRC and length.
pub(crate) fn verify_gzip(gz: &Path) -> Result<(), Error> {
    let f = File::open(gz).map_err(|e| Error::new(Op::Open, gz, e))?;
    let mut dec = GzDecoder::new(io::BufReader::new(f));
    io::copy(&mut dec, &mut io::sink()).map_err(|e| Error::new(Op::Verify, gz, e))?;
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Creates `path` with `O_EXCL` and exactly `mode` (not reduced by the umask). A leftover
/// with the same name is one of Lethe's own temporaries from an interrupted attempt: it is
/// removed and the creation retried once.
fn create_exclusive(path: &Path, mode: u32) -> Result<File, Error> {
    let open = || {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(rustix::fs::OFlags::CLOEXEC.bits() as i32)
            .open(path)
    };
    let f = match open() {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            remove_if_exists(path)?;
            open()
        }
        other => other,
    }
    .map_err(|e| Error::new(Op::Open, path, e))?;
    f.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(|e| Error::new(Op::Open, path, e))?;
    Ok(f)
}

pub(crate) fn rename_noreplace(from: &Path, to: &Path) -> Result<(), Error> {
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        from,
        rustix::fs::CWD,
        to,
        rustix::fs::RenameFlags::NOREPLACE,
    )
    .map_err(|e| Error::new(Op::Rename, to, e.into()))
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::new(Op::Sync, dir, e))
}

/// Deletes `path`; a file that is already gone is not an error. Returns whether this call
/// deleted it.
pub(crate) fn remove_if_exists(path: &Path) -> Result<bool, Error> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::new(Op::Remove, path, e)),
    }
}

/// A writer that hashes what passes through it.
struct HashingWriter {
    inner: File,
    hasher: Sha256,
}

impl Write for HashingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// What start-up recovery found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Recovery {
    /// Jobs to queue: segments not yet compressed or checksummed.
    pub(crate) jobs: Vec<Job>,
    /// Temporaries of interrupted work that were deleted.
    pub(crate) temporaries_removed: u64,
    /// Raw segments dropped because a verified `.gz` of them exists.
    pub(crate) redundant_raw_removed: u64,
    /// Corrupt `.gz` files removed (their raw segment is compressed again).
    pub(crate) corrupt_gz_removed: u64,
}

/// Finishes or undoes interrupted post-processing in `dir` (DESIGN-NOTES §4). Touches only
/// names Lethe produced. Errors on single files are pushed to `errors` and recovery goes on.
pub(crate) fn recover(
    dir: &Path,
    naming: &Naming,
    settings: &Settings,
    errors: &mut Vec<Error>,
) -> Result<Recovery, Error> {
    let mut entries: Vec<Entry> = naming.scan(dir)?;
    entries.sort_by_key(|e| (e.name.sequence, e.name.form));
    let mut out = Recovery::default();
    let mut touched = false;
    for group in entries.chunk_by(|a, b| a.name.sequence == b.name.sequence) {
        let has = |form: Form| group.iter().any(|e| e.name.form == form);
        let name = BackupName {
            form: Form::Raw,
            ..group[0].name
        };
        for e in group.iter().filter(|e| e.name.form.is_temporary()) {
            let path = naming.path_of(dir, e.name)?;
            match remove_if_exists(&path) {
                Ok(removed) => {
                    out.temporaries_removed += u64::from(removed);
                    touched |= removed;
                }
                Err(err) => errors.push(err),
            }
        }
        let (mut raw, mut gz) = (has(Form::Raw), has(Form::Gzip));
        if raw && gz {
            let gz_path = naming.path_of(
                dir,
                BackupName {
                    form: Form::Gzip,
                    ..name
                },
            )?;
            let doomed = if verify_gzip(&gz_path).is_ok() {
                raw = false;
                out.redundant_raw_removed += 1;
                vec![Form::Raw, Form::Sha256]
            } else {
                gz = false;
                out.corrupt_gz_removed += 1;
                vec![Form::Gzip, Form::GzipSha256]
            };
            for form in doomed {
                let path = naming.path_of(dir, BackupName { form, ..name })?;
                if let Err(err) = remove_if_exists(&path) {
                    errors.push(err);
                }
            }
            touched = true;
        }
        if raw && settings.compress.is_some() {
            out.jobs.push(Job::Compress(name));
        } else if raw && settings.checksum && !has(Form::Sha256) {
            out.jobs.push(Job::ChecksumRaw(name));
        } else if gz && settings.checksum && !has(Form::GzipSha256) {
            out.jobs.push(Job::ChecksumGz(name));
        }
    }
    if touched {
        sync_dir(dir)?;
    }
    Ok(out)
}

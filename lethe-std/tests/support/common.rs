//! Helpers that lethe-std's and the `lethe` command's integration tests both use:
//! directory listings, gzip, shell checks, a small tmpfs, a read-only bind mount, and the
//! crash tests' seeded generator. lethe-std's `support` module re-exports them;
//! lethe-cli's includes this file by `#[path]`, so it uses only std and flate2 (a
//! dev-dependency of both).

use std::fs;
use std::io::Read as _;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// The file names in `dir`, sorted (which sorts backups in rotation order).
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

/// The decompressed contents of the gzip file at `path` (panics if it is not valid gzip).
pub fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Runs a shell command in `dir`, asserting success; returns its standard output.
pub fn sh_in(dir: &Path, script: &str) -> String {
    let out = Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A 64 KiB tmpfs mounted on `dir`: [`tmpfs_of`] with `64k`.
pub fn small_tmpfs(dir: &Path) -> Option<Unmount<'_>> {
    tmpfs_of(dir, "64k")
}

/// A tmpfs of `size` (as mount's `size=` option: `64k`, `512k`) mounted on `dir`,
/// unmounted on drop; or `None` after [`missing`] when this process may not mount (not
/// root, or no CAP_SYS_ADMIN in a container).
pub fn tmpfs_of<'a>(dir: &'a Path, size: &str) -> Option<Unmount<'a>> {
    let out = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .output();
    let reason = match out {
        Ok(o) if o.status.success() => return Some(Unmount(dir)),
        Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
        Err(e) => e.to_string(),
    };
    missing(format_args!("cannot mount a small tmpfs: {reason}"));
    None
}

/// Prints `SKIP: why` where it is seen: straight to the process's stderr, which the test
/// harness does not capture (it captures `println!` and `eprintln!`, and shows them only
/// for a failed test), so a check that could not run shows in `cargo test`'s output and
/// in CI's log even though its test passes.
pub fn skip(why: impl std::fmt::Display) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIP: {why}");
}

/// A prerequisite that `.ci/run` installs or that its machine has (root for mounting a
/// tmpfs, rsyslog, the time zone database, io_uring) is missing: in CI (`LETHE_CI` set,
/// as `.ci/run` sets it) the test fails, so a check CI promises never passes without
/// running; elsewhere it prints a visible [`skip`].
pub fn missing(why: impl std::fmt::Display) {
    assert!(
        std::env::var_os("LETHE_CI").is_none(),
        "LETHE_CI is set, and CI provides what this test needs, but: {why}"
    );
    skip(why);
}

/// Unmounts its directory when dropped. A file still open there (a writer the test drops
/// after this guard, a background thread finishing) makes `umount` fail with EBUSY; the
/// mount is then detached lazily (`umount -l`), so that it goes away with the last open
/// file instead of staying mounted after the test.
pub struct Unmount<'a>(&'a Path);

impl Drop for Unmount<'_> {
    fn drop(&mut self) {
        let done = Command::new("umount")
            .arg(self.0)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !done {
            let _ = Command::new("umount").arg("-l").arg(self.0).status();
        }
    }
}

/// Makes the directory `dir` read-only where it is: bind-mounts it over itself, then
/// remounts that bind read-only, so every path operation in it (create, rename, unlink,
/// mkdir, an open for writing) fails with EROFS, while a file opened for writing before
/// keeps its descriptor on the writable mount underneath (as when a directory is remounted
/// read-only under a running program). Running as root does not get around it, unlike
/// `chmod 0555` (CAP_DAC_OVERRIDE). Dropping the guard unmounts the bind: the directory is
/// writable again. `None` after [`missing`] when this process may not mount.
pub fn read_only(dir: &Path) -> Option<Unmount<'_>> {
    let mount = |options: &str| {
        Command::new("mount")
            .args(["-o", options])
            .arg(dir)
            .arg(dir)
            .output()
    };
    let (bound, reason) = match mount("bind") {
        // Unmounts the bind again if it cannot be made read-only.
        Ok(o) if o.status.success() => match (Unmount(dir), mount("remount,bind,ro")) {
            (guard, Ok(o)) if o.status.success() => return Some(guard),
            (_, Ok(o)) => (true, String::from_utf8_lossy(&o.stderr).trim().to_owned()),
            (_, Err(e)) => (true, e.to_string()),
        },
        Ok(o) => (false, String::from_utf8_lossy(&o.stderr).trim().to_owned()),
        Err(e) => (false, e.to_string()),
    };
    let step = if bound {
        "remount read-only"
    } else {
        "bind-mount"
    };
    missing(format_args!("cannot {step} {}: {reason}", dir.display()));
    None
}

/// A small xorshift generator for the crash tests; seed it with [`crash_seed`], which
/// prints the seed so a failure can be replayed.
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The crash tests' seed: `LETHE_CRASH_SEED`, else one from the clock (odd, so never
/// zero); printed as `crash test seed: LETHE_CRASH_SEED=…` to replay a failure.
pub fn crash_seed() -> u64 {
    let seed = std::env::var("LETHE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("crash test seed: LETHE_CRASH_SEED={seed}");
    seed
}

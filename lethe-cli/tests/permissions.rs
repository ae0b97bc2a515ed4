//! The `lethe` command run by an unprivileged user where it may not write: the usual
//! case of a service user and a root-owned log directory (the read-only *mount* case is
//! `read_only.rs`). The tests run as root, so each starts `lethe` as `nobody` with
//! util-linux's `setpriv`; as another user, or without `setpriv`, they say SKIP (and fail
//! under `LETHE_CI`, which runs as root with util-linux installed).

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod support;
use support::{missing, names};

/// `nobody`'s ids on Debian.
const NOBODY: &str = "65534";

/// A copy of the built `lethe` in a directory every user may enter (the build directory
/// may be under a 0700 home), or `None` after a SKIP when this process cannot switch user.
fn lethe_for_nobody(dir: &Path) -> Option<PathBuf> {
    // Only root may switch to `nobody`.
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        missing("not root: cannot run lethe as another user");
        return None;
    }
    if Command::new("setpriv").arg("--version").output().is_err() {
        missing("setpriv (util-linux) is not installed");
        return None;
    }
    let bin = dir.join("lethe");
    fs::copy(env!("CARGO_BIN_EXE_lethe"), &bin).unwrap();
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    Some(bin)
}

fn as_nobody(bin: &Path, args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write as _;
    let mut child = Command::new("setpriv")
        .args(["--reuid", NOBODY, "--regid", NOBODY, "--clear-groups", "--"])
        .arg(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_directory_the_user_may_not_write_is_one_line_naming_the_path_and_exit_1() {
    let tools = tempfile::tempdir().unwrap();
    let Some(bin) = lethe_for_nobody(tools.path()) else {
        return;
    };
    // Root-owned and 0755: `nobody` may enter it, not create in it.
    let logs = tempfile::tempdir().unwrap();
    fs::set_permissions(logs.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let file = logs.path().join("app.log");
    let nested = logs.path().join("sub/app.log");
    for (path, named) in [(&file, &file), (&nested, &logs.path().join("sub"))] {
        let out = as_nobody(&bin, &[path.to_str().unwrap()], b"one line\n");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(
            stderr.contains(&named.display().to_string()) && stderr.contains("Permission denied"),
            "{stderr}"
        );
    }
    assert!(names(logs.path()).is_empty(), "nothing created");
}

#[test]
fn a_log_file_the_user_may_not_write_is_one_line_naming_it_and_left_alone() {
    let tools = tempfile::tempdir().unwrap();
    let Some(bin) = lethe_for_nobody(tools.path()) else {
        return;
    };
    // A writable directory holding root's 0644 log: `nobody` may not append to it.
    let logs = tempfile::tempdir().unwrap();
    fs::set_permissions(logs.path(), fs::Permissions::from_mode(0o777)).unwrap();
    let file = logs.path().join("app.log");
    fs::write(&file, b"root's line\n").unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    let out = as_nobody(&bin, &[file.to_str().unwrap()], b"one line\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains(&file.display().to_string()) && stderr.contains("Permission denied"),
        "{stderr}"
    );
    assert_eq!(fs::read(&file).unwrap(), b"root's line\n");
    assert_eq!(names(logs.path()), ["app.log"]);
}

//! Helpers shared by the `lethe` command's integration tests, with lethe-std's common
//! test helpers.
#![allow(dead_code)] // each test file uses its own subset

// Directory listings, gzip, shell checks, a small tmpfs, the crash seed: lethe-std's.
#[path = "../../../lethe-std/tests/support/common.rs"]
mod common;

#[allow(unused_imports)] // each test file uses its own subset
pub use common::*;

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Runs the built `lethe` with `args` and the extra environment `envs`, feeds it `stdin`
/// from a thread (so a large input cannot deadlock against its output), and returns its
/// exit status and output.
pub fn lethe_with_env(args: &[&str], envs: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lethe"))
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn lethe");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        // lethe may exit early on bad usage; a broken pipe is fine then.
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait for lethe");
    feeder.join().unwrap();
    out
}

/// Starts the built `lethe` with `args`, then `file`, as a running process: stdin piped
/// for the test to feed, stdout discarded, stderr piped.
pub fn spawn_lethe(args: &[&str], file: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_lethe"))
        .args(args)
        .arg(file)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn lethe")
}

/// [`lethe_with_env`] without extra environment.
pub fn lethe(args: &[&str], stdin: &[u8]) -> Output {
    lethe_with_env(args, &[], stdin)
}

/// The lines `from` to `to`, one number a line.
pub fn numbers(from: u64, to: u64) -> Vec<u8> {
    (from..=to)
        .map(|i| format!("{i}\n"))
        .collect::<String>()
        .into_bytes()
}

/// Collects a running `lethe`'s stderr lines.
pub fn collect_stderr(child: &mut std::process::Child) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&lines);
    let err = BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in err.lines().map_while(Result::ok) {
            seen.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(line);
        }
    });
    lines
}

/// Polls `ready` every few milliseconds until it holds; fails after 30 s.
pub fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

//! Helpers shared by the `lethe` command's integration tests.
#![allow(dead_code)] // each test file uses its own subset

use std::fs;
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Command, Output, Stdio};

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

/// [`lethe_with_env`] without extra environment.
pub fn lethe(args: &[&str], stdin: &[u8]) -> Output {
    lethe_with_env(args, &[], stdin)
}

/// The decompressed contents of the gzip file at `path` (panics if it is not valid gzip).
pub fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

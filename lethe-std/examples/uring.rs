//! Writing through io_uring (Linux, feature `uring`): batches with linked fsyncs, and
//! rotations as one linked chain; where the kernel or a policy forbids io_uring, the
//! writer falls back to blocking syscalls and says why.
//!
//! ```sh
//! cargo run -p lethe-std --features uring --example uring -- /tmp/lethe-uring
//! ```

use std::error::Error;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use lethe_std::{Fsync, IoStatus, Metrics, Options, Uring, UringOptions, Writer, WriterOptions};

/// Writes 20 000 lines into `dir/app.log` (rotating at 256 KB, an fsync every 64 KiB)
/// through io_uring if this process may use it; returns the final counters, whose
/// `file.io` says which path was taken.
pub fn run(dir: &Path) -> Result<Metrics, Box<dyn Error>> {
    let file = Options::default()
        .max_size(Some(256_000))
        .fsync(Fsync::EveryBytes(64 << 10))
        // `Uring::On` is the default with the feature; `Uring::Strict` refuses to open
        // instead of falling back.
        .io_uring(UringOptions::default().mode(Uring::On));
    let log = Writer::open(dir.join("app.log"), WriterOptions::default().file(file))?;
    log.set_error_handler(|e| eprintln!("lethe: {e}")); // a fallback's reason lands here
    let mut w = log.clone();
    for i in 0..20_000 {
        writeln!(w, "event {i}: cache miss, fetched in {} us", 100 + i % 13)?;
    }
    drop(w);
    Ok(log.close()?)
}

#[allow(dead_code)] // the tests include this file and call `run`
fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::args()
        .nth(1)
        .map_or_else(|| std::env::temp_dir().join("lethe-uring"), PathBuf::from);
    std::fs::create_dir_all(&dir)?;
    let m = run(&dir)?;
    let path = match m.file.io {
        IoStatus::Uring => "io_uring".to_owned(),
        IoStatus::Fallback(reason) => format!("blocking syscalls (io_uring fell back: {reason:?})"),
        other => format!("{other:?}"),
    };
    println!(
        "{} lines, {} rotations, {} fsyncs through {path}; see {}",
        m.writes,
        m.file.rotations,
        m.file.syncs,
        dir.display()
    );
    Ok(())
}

//! Quick start: a rotating, compressed, checksummed log written by four threads.
//!
//! ```sh
//! cargo run -p lethe-std --example quick_start -- /tmp/lethe-quick-start
//! ```

use std::error::Error;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use lethe_std::{Config, Metrics, Writer};

/// Four threads write 2 500 lines each into `dir/app.log`, which rotates at 64 KB and
/// keeps its backups gzip'd with SHA-256 sidecars; returns the writer's final counters.
pub fn run(dir: &Path) -> Result<Metrics, Box<dyn Error>> {
    // The `daily` preset (daily rotation and at 100MB, 14 backups, gzip, sha256), with a
    // small size limit so that this example rotates.
    let mut config = Config::preset("daily")?;
    config.max_size = Some("64KB".into());
    let log = Writer::open(dir.join("app.log"), config.build()?)?;

    let threads: Vec<_> = (0..4)
        .map(|t| {
            let mut log = log.clone(); // cheap; every clone writes to the same file
            std::thread::spawn(move || -> std::io::Result<()> {
                for i in 0..2500 {
                    // One `writeln!` is one record: never split, never interleaved.
                    writeln!(log, "thread {t} request {i} served in {} us", 40 + i % 7)?;
                }
                Ok(())
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a writer thread panicked")?;
    }
    // Writes everything out, fsyncs, and waits for compression and checksums.
    Ok(log.close()?)
}

#[allow(dead_code)] // the tests include this file and call `run`
fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::args().nth(1).map_or_else(
        || std::env::temp_dir().join("lethe-quick-start"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir)?;
    let m = run(&dir)?;
    println!(
        "{} lines ({} bytes), {} rotations, {} compressed, {} checksums, {} dropped; see {}",
        m.writes,
        m.bytes,
        m.file.rotations,
        m.file.compressions,
        m.file.checksums,
        m.dropped,
        dir.display()
    );
    Ok(())
}

//! The `log` crate through Lethe's logger: JSON lines, with `log`'s key-values as fields,
//! into a rotating, compressed file.
//!
//! ```sh
//! cargo run -p lethe-std --features log --example log_json -- /tmp/lethe-log-example
//! ```

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lethe_std::logger::{Level, LogBridge, Logger};

/// Logs 2 001 records through `log` into `dir/app.jsonl` (rotating at 64 KB, 3 gzip
/// backups kept), then shuts the logger down.
pub fn run(dir: &Path) -> Result<(), Box<dyn Error>> {
    let uri = format!(
        "file://{}/app.jsonl?max_size=64KB&max_backups=3&compress=true",
        dir.display()
    );
    let logger = Logger::builder()
        .level(Level::Debug)
        .destination_uri(&uri)?
        .build()?;
    LogBridge::new(logger.clone()).install()?;
    for i in 0..2000 {
        log::info!(request = i, path = "/v1/items", ok = true; "request {i} served");
    }
    log::warn!(target: "db", elapsed_ms = 812.5; "slow query");
    log::trace!("below the logger's level: not written");
    logger.shutdown(Duration::from_secs(30))?;
    Ok(())
}

#[allow(dead_code)] // the tests include this file and call `run`
fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::args().nth(1).map_or_else(
        || std::env::temp_dir().join("lethe-log-example"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir)?;
    run(&dir)?;
    println!("JSON lines in {}", dir.join("app.jsonl").display());
    Ok(())
}

//! `tracing` through Lethe's logger: each event one JSON line carrying its spans' fields
//! and its own, into a rotating file.
//!
//! ```sh
//! cargo run -p lethe-std --features tracing --example tracing_json -- /tmp/lethe-tracing-example
//! ```

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lethe_std::logger::{Level, Logger, TracingLayer};
use tracing_subscriber::layer::SubscriberExt as _;

/// Logs 1 000 events in 500 spans into `dir/app.jsonl` (rotating at 64 KB), then shuts
/// the logger down.
pub fn run(dir: &Path) -> Result<(), Box<dyn Error>> {
    let uri = format!(
        "file://{}/app.jsonl?max_size=64KB&max_backups=10",
        dir.display()
    );
    let logger = Logger::builder()
        .level(Level::Debug)
        .destination_uri(&uri)?
        .build()?;
    let subscriber = tracing_subscriber::registry().with(TracingLayer::new(logger.clone()));
    tracing::subscriber::set_global_default(subscriber)?;
    for i in 0..500u64 {
        let span = tracing::info_span!(
            "request",
            id = i,
            user = "ann",
            result = tracing::field::Empty
        );
        let _entered = span.enter();
        tracing::info!(status = 200, elapsed_ms = 1.5, "served");
        span.record("result", "ok");
        tracing::debug!(cache = true, "detail");
        tracing::trace!("below the logger's level: not written");
    }
    logger.shutdown(Duration::from_secs(30))?;
    Ok(())
}

#[allow(dead_code)] // the tests include this file and call `run`
fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::args().nth(1).map_or_else(
        || std::env::temp_dir().join("lethe-tracing-example"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir)?;
    run(&dir)?;
    println!("JSON lines in {}", dir.join("app.jsonl").display());
    Ok(())
}

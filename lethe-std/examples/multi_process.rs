//! Several processes append to one log and rotate it together (shared mode).
//!
//! The example starts four copies of itself; each writes 2 000 numbered lines into
//! `dir/app.log` in shared mode (rotating at 32 KB, all backups kept), and the parent
//! then checks that every line of every process is there exactly once, in each process's
//! order, across all the files.
//!
//! ```sh
//! cargo run -p lethe-std --example multi_process -- /tmp/lethe-multi-process
//! ```

use std::collections::HashMap;
use std::error::Error;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use lethe_std::{Config, Writer};

/// Processes started by [`parent`].
pub const PROCESSES: usize = 4;
/// Lines each process writes.
pub const LINES: usize = 2000;

/// One process's work: `LINES` lines `process <id> line <n>` into `dir/app.log`.
pub fn child(dir: &Path, id: usize) -> Result<(), Box<dyn Error>> {
    let config = Config {
        shared: Some(true), // or LETHE_SHARED=1, or `lethe --shared`
        max_size: Some("32KB".into()),
        max_backups: Some("none".into()),
        ..Config::default()
    };
    let mut log = Writer::open(dir.join("app.log"), config.build()?)?;
    for n in 0..LINES {
        writeln!(log, "process {id} line {n}")?;
    }
    let metrics = log.close()?;
    assert_eq!(metrics.writes, LINES as u64);
    Ok(())
}

/// Starts the `PROCESSES` children (`command(id)` runs [`child`] with `id`), waits for
/// them, and checks the files. Returns the number of files the lines are spread over.
pub fn parent(dir: &Path, command: impl Fn(usize) -> Command) -> Result<usize, Box<dyn Error>> {
    let children = (0..PROCESSES)
        .map(|id| command(id).spawn())
        .collect::<Result<Vec<_>, _>>()?;
    for mut c in children {
        let status = c.wait()?;
        if !status.success() {
            return Err(format!("a child process failed: {status}").into());
        }
    }
    // The active file and the backups (app.<sequence>.<time>.log), oldest first; the
    // lock files (app.log.lock, app.log.maint.lock) are not logs.
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e == "log"));
    files.sort_by_key(|p| (p.file_name() == Some("app.log".as_ref()), p.clone()));
    let mut next: HashMap<usize, usize> = HashMap::new();
    for file in &files {
        for line in std::fs::read_to_string(file)?.lines() {
            let mut words = line.split(' ');
            let (Some("process"), Some(id), Some("line"), Some(n), None) = (
                words.next(),
                words.next(),
                words.next(),
                words.next(),
                words.next(),
            ) else {
                return Err(
                    format!("a torn or foreign line in {}: {line:?}", file.display()).into(),
                );
            };
            let (id, n): (usize, usize) = (id.parse()?, n.parse()?);
            let expected = next.entry(id).or_insert(0);
            if n != *expected {
                return Err(format!("process {id}: line {n} where {expected} was due").into());
            }
            *expected += 1;
        }
    }
    for id in 0..PROCESSES {
        let got = next.get(&id).copied().unwrap_or(0);
        if got != LINES {
            return Err(format!("process {id}: {got} of {LINES} lines").into());
        }
    }
    Ok(files.len())
}

#[allow(dead_code)] // the tests include this file and call `parent` and `child`
fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let [_, role, dir, id] = &args[..]
        && role == "child"
    {
        return child(Path::new(dir), id.parse()?);
    }
    let dir = args.get(1).map_or_else(
        || std::env::temp_dir().join("lethe-multi-process"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir)?;
    let exe = std::env::current_exe()?;
    let files = parent(&dir, |id| {
        let mut c = Command::new(&exe);
        c.arg("child").arg(&dir).arg(id.to_string());
        c
    })?;
    println!(
        "{PROCESSES} processes x {LINES} lines, each once and in order, over {files} files in {}",
        dir.display()
    );
    Ok(())
}

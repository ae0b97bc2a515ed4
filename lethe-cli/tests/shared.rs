//! Shared mode with real processes: several `lethe --shared` processes append to one file
//! and rotate it together (docs/ARCHITECTURE.md, "Many processes, one log").
//!
//! - four processes × 100 000 lines, rotating every 256 KiB with gzip and checksums: every
//!   line exactly once and intact, each process's lines in its own order, one rotation per
//!   threshold crossing, every `.gz` and sidecar valid;
//! - a process killed with SIGKILL while it holds the lock does not block the others;
//! - an independent `sh -c 'echo … >> file'` appender beside them corrupts nothing.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::{gunzip, names, sh_in, spawn_lethe};

const LIMIT: u64 = 256 * 1024;

fn start(log: &Path, max_size: &str) -> Child {
    spawn_lethe(
        &[
            "--shared",
            "--max-size",
            max_size,
            "--compress",
            "--checksum",
            "--max-backups",
            "none",
            "--stats",
        ],
        log,
    )
}

/// Line `i` of writer `who`: `<who> <i> <1 + i % 50 x's>` (the independent appender:
/// `ext <i> e`), so a torn, glued or shifted line cannot parse.
fn line(who: &str, i: u32) -> String {
    if who == "ext" {
        return format!("ext {i:07} e\n");
    }
    format!("{who} {i:07} {}\n", "x".repeat(1 + (i % 50) as usize))
}

const MAX_LINE: u64 = 2 + 1 + 7 + 1 + 50 + 1;

/// Feeds `count` lines to the child's stdin on a thread, then closes it.
fn feed(child: &mut Child, who: &'static str, count: u32) -> std::thread::JoinHandle<()> {
    let stdin = child.stdin.take().unwrap();
    std::thread::spawn(move || {
        let mut w = std::io::BufWriter::with_capacity(64 * 1024, stdin);
        for i in 0..count {
            w.write_all(line(who, i).as_bytes()).unwrap();
        }
        w.flush().unwrap();
    })
}

/// Waits for the child; asserts it succeeded; returns its `--stats` rotation count.
fn finish(child: Child) -> u64 {
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    eprint!("{stderr}"); // shown with the failure of a later assertion
    assert!(out.status.success(), "lethe failed: {stderr}");
    let stats = stderr
        .lines()
        .find(|l| l.contains(" rotations, "))
        .unwrap_or_else(|| panic!("no --stats line in {stderr:?}"));
    let rotations = stats
        .split(", ")
        .find_map(|part| part.strip_suffix(" rotations"))
        .unwrap();
    assert!(stats.contains(" 0 errors, "), "{stats}");
    rotations.parse().unwrap()
}

/// The backups (`.gz`, oldest first: the sequence is zero-padded) then the active file.
fn segments_in_order(dir: &Path) -> Vec<PathBuf> {
    let names = names(dir);
    assert!(
        names.iter().all(|n| !n.ends_with(".tmp")),
        "temporaries left: {names:?}"
    );
    let raw: Vec<_> = names
        .iter()
        .filter(|n| n.starts_with("app.0") && n.ends_with(".log"))
        .collect();
    assert!(raw.is_empty(), "uncompressed backups left: {raw:?}");
    let mut out: Vec<PathBuf> = names
        .iter()
        .filter(|n| n.starts_with("app.0") && n.ends_with(".log.gz"))
        .map(|n| dir.join(n))
        .collect();
    out.push(dir.join("app.log"));
    out
}

fn read_segment(path: &Path) -> Vec<u8> {
    if path.extension().is_some_and(|e| e == "gz") {
        gunzip(path)
    } else {
        fs::read(path).unwrap()
    }
}

/// `gzip -t` on every `.gz` and `sha256sum -c` on every sidecar, in the directory.
fn verify_archives(dir: &Path) -> usize {
    let gz = names(dir).iter().filter(|n| n.ends_with(".gz")).count();
    sh_in(
        dir,
        "set -e; for f in *.gz; do gzip -t \"$f\"; test -f \"$f.sha256\"; done; \
         sha256sum -c --quiet *.sha256",
    );
    gz
}

/// Parses every line of every segment. Lethe's writers' lines must each appear exactly
/// once, intact, in their writer's order; lines of `optional` writers (an independent
/// appender) at most once, intact, in order. Returns how many lines of each writer.
fn check_lines(
    segments: &[Vec<u8>],
    writers: &[(&str, u32)],
    optional: &[&str],
) -> HashMap<String, u32> {
    let mut next: HashMap<String, u32> = HashMap::new();
    let mut seen: HashMap<String, u32> = HashMap::new();
    for (n, seg) in segments.iter().enumerate() {
        let text = std::str::from_utf8(seg).expect("segments are UTF-8");
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "segment {n} ends mid-line"
        );
        for l in text.lines() {
            let mut parts = l.split(' ');
            let (who, i, pad) = (parts.next(), parts.next(), parts.next());
            let (Some(who), Some(i), Some(pad), None) = (who, i, pad, parts.next()) else {
                panic!("malformed line in segment {n}: {l:?}");
            };
            let i: u32 = i.parse().unwrap_or_else(|_| panic!("malformed line {l:?}"));
            assert_eq!(
                format!("{l}\n"),
                line(who, i),
                "torn or altered line in segment {n}"
            );
            let _ = pad;
            let expected = next.entry(who.to_owned()).or_insert(0);
            if optional.contains(&who) {
                assert!(i >= *expected, "{who} line {i} duplicated or out of order");
            } else {
                assert_eq!(i, *expected, "{who}: expected line {expected}, found {i}");
            }
            *expected = i + 1;
            *seen.entry(who.to_owned()).or_insert(0) += 1;
        }
    }
    for (who, count) in writers {
        assert_eq!(seen.get(*who).copied().unwrap_or(0), *count, "{who}: lines");
    }
    seen
}

#[test]
fn four_processes_share_one_rotating_file_and_every_line_arrives_once_in_order() {
    const LINES: u32 = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let who = ["p0", "p1", "p2", "p3"];
    let mut children: Vec<Child> = who.iter().map(|_| start(&log, "256KiB")).collect();
    let feeders: Vec<_> = children
        .iter_mut()
        .zip(who)
        .map(|(c, w)| feed(c, w, LINES))
        .collect();
    for f in feeders {
        f.join().unwrap();
    }
    let rotations: u64 = children.into_iter().map(finish).sum();

    let segments = segments_in_order(dir.path());
    let gz = verify_archives(dir.path());
    assert_eq!(gz, segments.len() - 1);
    let contents: Vec<Vec<u8>> = segments.iter().map(|p| read_segment(p)).collect();
    check_lines(
        &contents,
        &who.iter().map(|w| (*w, LINES)).collect::<Vec<_>>(),
        &[],
    );

    // One rotation per threshold crossing: every process's rotations together made
    // exactly the backups on disk, and no backup was cut early (a second rotation for the
    // same crossing would leave a short one). A backup is cut before a line that would
    // push it past the limit, so it holds more than `LIMIT - MAX_LINE` bytes. It may hold
    // more than `LIMIT`: other processes' batches in flight while the rotation waited.
    let backups = &contents[..contents.len() - 1];
    assert_eq!(rotations, backups.len() as u64, "rotations vs backups");
    let total: u64 = contents.iter().map(|c| c.len() as u64).sum();
    let fed: u64 = who
        .iter()
        .map(|w| (0..LINES).map(|i| line(w, i).len() as u64).sum::<u64>())
        .sum();
    assert_eq!(total, fed);
    let overshoot = backups
        .iter()
        .map(|b| b.len() as u64)
        .max()
        .unwrap_or(0)
        .saturating_sub(LIMIT);
    for (n, b) in backups.iter().enumerate() {
        assert!(
            b.len() as u64 > LIMIT - MAX_LINE,
            "backup {n} holds {} bytes: rotated before the limit",
            b.len()
        );
    }
    assert!(rotations <= total / (LIMIT - MAX_LINE));
    // Nothing was written into a segment after it was compressed: such a line would be
    // in the raw file, which compression deletes, and would be missing above.
    println!(
        "4 processes: {} bytes, {rotations} rotations, largest overshoot {overshoot} bytes",
        total
    );
}

/// The flock entries of `/proc/locks` on the inode of `path`: `(blocked waiter, pid)`.
fn flocks_on(path: &Path) -> Vec<(bool, String)> {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(meta) = fs::metadata(path) else {
        return Vec::new(); // not created yet
    };
    let ino = meta.ino();
    let locks = fs::read_to_string("/proc/locks").unwrap();
    locks
        .lines()
        .filter(|l| l.contains("FLOCK"))
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            let waiter = fields.get(1) == Some(&"->");
            let at = if waiter { 1 } else { 0 };
            let pid = fields.get(at + 4)?.to_string();
            let dev_ino = fields.get(at + 5)?;
            let file_ino: u64 = dev_ino.rsplit(':').next()?.parse().ok()?;
            (file_ino == ino).then_some((waiter, pid))
        })
        .collect()
}

/// Polls `/proc/locks` (without a fixed sleep) until `ready` holds for the flocks on
/// `path`; fails after a minute.
fn wait_for_locks(path: &Path, what: &str, ready: impl Fn(&[(bool, String)]) -> bool) {
    let since = Instant::now();
    loop {
        let locks = flocks_on(path);
        if ready(&locks) {
            return;
        }
        assert!(
            since.elapsed() < Duration::from_secs(60),
            "{what}: {} has {locks:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A process that holds `flock(path)` (`-s` shared or `-x` exclusive) until killed: a shell
/// opens the file on descriptor 9, flock(1) locks that open file description, and the
/// shell becomes `sleep`, keeping the only descriptor.
fn hold(path: &Path, mode: &str) -> Child {
    let mut holder = Command::new("sh")
        .args([
            "-c",
            &format!("exec 9>>\"$0\" && flock {mode} 9 && echo locked && exec sleep 600"),
        ])
        .arg(path)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn sh + flock");
    let mut ready = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready, "locked\n");
    holder
}

#[test]
fn a_process_killed_while_holding_the_lock_does_not_block_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let lock = dir.path().join("app.log.lock");
    let gate = dir.path().join("app.log.gate.lock");
    // 1. A process holds the main lock shared, as a writer does during a batch, and hangs.
    let mut batch = hold(&lock, "-s");
    // 2. A Lethe process joins: it takes the gate exclusively, then waits for the main
    //    lock. It now holds the gate, and every other process must pass through it.
    let mut first = start(&log, "256KiB");
    let first_pid = first.id().to_string();
    wait_for_locks(&gate, "the first lethe holds the gate", |l| {
        l.contains(&(false, first_pid.clone()))
    });
    // 3. A second Lethe process, with lines to write, queues at the gate.
    let mut second = start(&log, "256KiB");
    let second_pid = second.id().to_string();
    let fed = feed(&mut second, "w0", 20_000);
    wait_for_locks(&gate, "the second lethe waits at the gate", |l| {
        l.contains(&(true, second_pid.clone()))
    });
    assert!(second.try_wait().unwrap().is_none());
    // 4. SIGKILL the Lethe process that holds the gate: the kernel releases its lock and
    //    the second one takes it.
    first.kill().unwrap();
    first.wait().unwrap();
    wait_for_locks(&gate, "the second lethe got the gate", |l| {
        l.contains(&(false, second_pid.clone()))
    });
    assert_eq!(fs::metadata(&log).map(|m| m.len()).unwrap_or(0), 0);
    // 5. SIGKILL the process that holds the main lock: the second one writes everything.
    batch.kill().unwrap();
    batch.wait().unwrap();
    fed.join().unwrap();
    finish(second);
    let segments = segments_in_order(dir.path());
    let contents: Vec<Vec<u8>> = segments.iter().map(|p| read_segment(p)).collect();
    check_lines(&contents, &[("w0", 20_000)], &[]);
    for path in [&lock, &gate] {
        assert!(
            flocks_on(path).is_empty(),
            "lock left on {}",
            path.display()
        );
    }
}

#[test]
fn an_independent_o_append_writer_beside_shared_lethe_corrupts_nothing() {
    const LINES: u32 = 50_000;
    const EXTERNAL: u32 = 2_000;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let mut children = [start(&log, "64KiB"), start(&log, "64KiB")];
    // `>>` opens with O_APPEND for every line; each `printf` is one write(2).
    let script = format!(
        "i=0; while [ $i -lt {EXTERNAL} ]; do printf 'ext %07d e\\n' $i >> \"$0\"; \
         i=$((i + 1)); done"
    );
    let external = Command::new("sh")
        .args(["-c", &script])
        .arg(&log)
        .spawn()
        .expect("spawn sh");
    let feeders = [
        feed(&mut children[0], "l0", LINES),
        feed(&mut children[1], "l1", LINES),
    ];
    for f in feeders {
        f.join().unwrap();
    }
    let [a, b] = children;
    finish(a);
    finish(b);
    assert!(external.wait_with_output().unwrap().status.success());

    let segments = segments_in_order(dir.path());
    verify_archives(dir.path());
    let contents: Vec<Vec<u8>> = segments.iter().map(|p| read_segment(p)).collect();
    let seen = check_lines(&contents, &[("l0", LINES), ("l1", LINES)], &["ext"]);
    let ext = seen.get("ext").copied().unwrap_or(0);
    // The appender takes no lock: a line it writes between its open and a rotation lands
    // in the renamed segment, and is lost if compression read that segment first
    // (documented). Everything that did arrive is whole.
    println!("independent appender: {ext} of {EXTERNAL} lines in the log");
    assert!(ext > 0);
}

//! The parent side: one child process per (contender, workload, repetition), the `dd` and
//! `memcpy` baselines, and the markdown table.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::compare::child;
use crate::compare::contender::Kind;
use crate::compare::verify::Contents;
use crate::compare::workload::Workload;
use crate::{RECORD_LEN, record};

/// What a child measured, sent to the parent as one `RESULT key=value ...` line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChildResult {
    /// Records in the timed phase.
    pub records: u64,
    /// Wall time of the timed phase, including the contender's flush or guard drop.
    pub elapsed_ns: u64,
    /// Untimed teardown after that (Lethe's `close` waits for background compression).
    pub close_ns: u64,
    /// Caller-side latency percentiles over every timed call, in ns.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Timed calls in the latency phase.
    pub latency_samples: u64,
    /// Allocations by the writing threads during the timed loop.
    pub caller_allocs: u64,
    /// Allocations by the whole process during the timed phase (workers included).
    pub process_allocs: u64,
    /// Peak RSS of the child, KiB; `None` if it could not be read (the child says why on
    /// stderr, the table shows `n/a`).
    pub peak_rss_kib: Option<u64>,
    /// Lines the run should have left in the files (latency and timed phases).
    pub expected_lines: u64,
    /// Lines in the files right after the clock stopped
    /// ([`count_at_stop`](crate::compare::verify::count_at_stop)).
    pub lines_at_stop: u64,
    /// If [`lines_at_stop`](Self::lines_at_stop) was short but the final count found
    /// every line: the time from the clock stop to that final count, in ns (0 otherwise).
    pub all_present_ns: u64,
    /// What the files hold in the end, after the contender's teardown.
    pub found: Contents,
    /// Records the contender itself reports as dropped, if it counts them.
    pub reported_dropped: Option<u64>,
    /// Why the run failed, if it did.
    pub error: Option<String>,
}

impl ChildResult {
    /// The `RESULT` line (the error, if any, comes last and runs to the end of the line).
    pub fn to_line(&self) -> String {
        let mut s = format!(
            "RESULT records={} elapsed_ns={} close_ns={} p50={} p99={} p999={} samples={} \
             caller_allocs={} process_allocs={} rss_kib={} expected={} at_stop={} present_ns={} \
             lines={} bytes={} partial={} files={} gz_files={} dropped={}",
            self.records,
            self.elapsed_ns,
            self.close_ns,
            self.p50,
            self.p99,
            self.p999,
            self.latency_samples,
            self.caller_allocs,
            self.process_allocs,
            dash_if_none(self.peak_rss_kib),
            self.expected_lines,
            self.lines_at_stop,
            self.all_present_ns,
            self.found.lines,
            self.found.bytes,
            self.found.partial,
            self.found.files,
            self.found.gz_files,
            dash_if_none(self.reported_dropped),
        );
        if let Some(e) = &self.error {
            let _ = write!(s, " error={}", e.replace('\n', " | "));
        }
        s
    }

    /// Parses [`to_line`](ChildResult::to_line)'s output.
    ///
    /// # Errors
    ///
    /// A message naming the malformed or unknown field.
    pub fn parse(line: &str) -> Result<ChildResult, String> {
        let rest = line
            .strip_prefix("RESULT ")
            .ok_or_else(|| format!("not a RESULT line: {line:?}"))?;
        let (fields, error) = match rest.split_once(" error=") {
            Some((f, e)) => (f, Some(e.to_string())),
            None => (rest, None),
        };
        let mut r = ChildResult {
            error,
            ..ChildResult::default()
        };
        for kv in fields.split_whitespace() {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| format!("field without '=': {kv:?}"))?;
            let optional = match k {
                "dropped" => Some(&mut r.reported_dropped),
                "rss_kib" => Some(&mut r.peak_rss_kib),
                _ => None,
            };
            if let Some(slot) = optional {
                *slot = if v == "-" {
                    None
                } else {
                    Some(v.parse().map_err(|e| format!("{k}={v}: {e}"))?)
                };
                continue;
            }
            let n: u64 = v.parse().map_err(|e| format!("{k}={v}: {e}"))?;
            let slot = match k {
                "records" => &mut r.records,
                "elapsed_ns" => &mut r.elapsed_ns,
                "close_ns" => &mut r.close_ns,
                "p50" => &mut r.p50,
                "p99" => &mut r.p99,
                "p999" => &mut r.p999,
                "samples" => &mut r.latency_samples,
                "caller_allocs" => &mut r.caller_allocs,
                "process_allocs" => &mut r.process_allocs,
                "expected" => &mut r.expected_lines,
                "at_stop" => &mut r.lines_at_stop,
                "present_ns" => &mut r.all_present_ns,
                "lines" => &mut r.found.lines,
                "bytes" => &mut r.found.bytes,
                "partial" => &mut r.found.partial,
                "files" => &mut r.found.files,
                "gz_files" => &mut r.found.gz_files,
                _ => return Err(format!("unknown field {k:?}")),
            };
            *slot = n;
        }
        Ok(r)
    }

    /// Records per second in the timed phase.
    pub fn lines_per_sec(&self) -> f64 {
        self.records as f64 / (self.elapsed_ns.max(1) as f64 / 1e9)
    }

    /// MB/s (10^6 bytes) of the timed phase, at the average line length found in the files.
    pub fn mb_per_sec(&self) -> f64 {
        let line = self.found.bytes as f64 / self.found.lines.max(1) as f64;
        self.lines_per_sec() * line / 1e6
    }

    /// `None` if every expected line was in the files when the clock stopped and is
    /// there, whole, in the end, and nothing failed; otherwise what went wrong, for the
    /// table's check column. A run whose lines were all there only later is `LATE`: its
    /// flush returned before its data was written, so its clock stopped too early and its
    /// throughput is not reported.
    pub fn problem(&self) -> Option<String> {
        if let Some(e) = &self.error {
            return Some(format!("FAILED: {e}"));
        }
        let (found, expected) = (self.found.lines, self.expected_lines);
        if found < expected {
            let missing = expected - found;
            return Some(match self.reported_dropped {
                Some(d) if d > 0 => format!("DROPPED {missing} lines (reports {d})"),
                _ => format!("LOST {missing} of {expected} lines"),
            });
        }
        if found > expected {
            return Some(format!("EXTRA {} lines", found - expected));
        }
        if self.found.partial > 0 {
            return Some(format!("CUT LINE ({} stray bytes)", self.found.partial));
        }
        if self.lines_at_stop < expected {
            return Some(format!(
                "LATE: {} lines were not in the files when the clock stopped; all present after {} ms",
                expected - self.lines_at_stop,
                self.all_present_ns.div_ceil(1_000_000),
            ));
        }
        None
    }
}

/// `-` for `None`, the value otherwise (optional `RESULT` fields).
fn dash_if_none(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// The parent's settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Records in each timed phase.
    pub records: u64,
    /// Latency bursts per thread.
    pub bursts: u64,
    /// Repetitions of each run; the median by throughput is reported.
    pub runs: usize,
    /// Where the runs write (one fresh subdirectory each, removed after counting).
    pub dir: PathBuf,
    /// Contenders to run.
    pub kinds: Vec<Kind>,
    /// Workloads to run.
    pub workloads: Vec<Workload>,
    /// A child that takes longer is killed and reported as failed.
    pub timeout: Duration,
}

/// One cell of the table: a contender in a workload.
#[derive(Clone, Debug)]
pub enum Cell {
    /// The contender cannot run the workload as specified.
    NotApplicable(&'static str),
    /// The median run, every run's problem (if any), and a note.
    Ran {
        /// The run with the median throughput (boxed: it is most of the cell's size).
        median: Box<ChildResult>,
        /// Problems of any run (a loss in one run marks the cell).
        problems: Vec<String>,
        /// How the contender runs this workload, if that needs saying.
        note: Option<&'static str>,
    },
}

/// Everything one invocation measured.
#[derive(Clone, Debug)]
pub struct Report {
    /// (contender, workload, cell), in table order.
    pub cells: Vec<(Kind, Workload, Cell)>,
    /// `dd bs=64k` into the same directory: MB/s.
    pub dd_mb_s: f64,
    /// `memcpy` of the same lines into a preallocated buffer: MB/s.
    pub memcpy_mb_s: f64,
    /// Bytes each baseline moved.
    pub baseline_bytes: u64,
    /// Timer overhead (p50, p99, p99.9) in ns.
    pub timer: (u64, u64, u64),
}

/// Runs every (contender, workload) pair in child processes, and the baselines.
///
/// # Errors
///
/// Creating or cleaning the directory, or starting a child process.
pub fn run_all(s: &Settings) -> std::io::Result<Report> {
    std::fs::create_dir_all(&s.dir)?;
    let exe = std::env::current_exe()?;
    let mut cells = Vec::new();
    for &workload in &s.workloads {
        // Run `r` of every contender, then run `r + 1` of every contender: the machine's
        // drift over the minutes of a workload then reaches all contenders alike, instead
        // of one contender's runs meeting a quiet minute and the next one's a busy one.
        let mut runs: Vec<Vec<ChildResult>> = vec![Vec::new(); s.kinds.len()];
        for run in 0..s.runs {
            for (&kind, kind_runs) in s.kinds.iter().zip(&mut runs) {
                if kind.support(workload).is_err() {
                    continue;
                }
                let dir = s.dir.join(format!(
                    "{}-{workload}-{run}",
                    kind.name().replace(' ', "_")
                ));
                let r = run_child(&exe, kind, workload, s, &dir)?;
                eprintln!(
                    "  {workload} {:<20} run {}: {:>12.0} lines/s  p99.9 {:>7} ns  {}",
                    kind.name(),
                    run + 1,
                    r.lines_per_sec(),
                    r.p999,
                    r.problem().unwrap_or_else(|| "ok".into())
                );
                kind_runs.push(r);
            }
        }
        for (&kind, mut kind_runs) in s.kinds.iter().zip(runs) {
            let cell = match kind.support(workload) {
                Err(reason) => Cell::NotApplicable(reason),
                Ok(note) => {
                    let problems = kind_runs.iter().filter_map(ChildResult::problem).collect();
                    kind_runs.sort_by_key(|r| r.elapsed_ns);
                    let median = Box::new(kind_runs[kind_runs.len() / 2].clone());
                    Cell::Ran {
                        median,
                        problems,
                        note,
                    }
                }
            };
            cells.push((kind, workload, cell));
        }
    }
    let baseline_bytes = s.records * RECORD_LEN as u64;
    let dd_mb_s = median_of(s.runs.max(3), || dd(&s.dir, baseline_bytes))?;
    let memcpy_mb_s = median_of(s.runs.max(3), || Ok(memcpy(s.records)))?;
    let timer = child::timer_overhead(s.bursts);
    Ok(Report {
        cells,
        dd_mb_s,
        memcpy_mb_s,
        baseline_bytes,
        timer,
    })
}

fn median_of(n: usize, mut f: impl FnMut() -> std::io::Result<f64>) -> std::io::Result<f64> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(f()?);
    }
    Ok(crate::median(&mut v))
}

/// Runs one child in `dir` (created empty, removed after), killing it after the timeout.
fn run_child(
    exe: &Path,
    kind: Kind,
    workload: Workload,
    s: &Settings,
    dir: &Path,
) -> std::io::Result<ChildResult> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    let mut child = Command::new(exe)
        .arg("--child")
        .arg(kind.name())
        .arg(workload.to_string())
        .arg("--records")
        .arg(s.records.to_string())
        .arg("--bursts")
        .arg(s.bursts.to_string())
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let pid = child.id();
    let mut stdout = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        let _ = tx.send(());
        out
    });
    let started = Instant::now();
    let timed_out = loop {
        if child.try_wait()?.is_some() {
            break false;
        }
        if started.elapsed() > s.timeout {
            // Our own child, by its id.
            let _ = child.kill();
            break true;
        }
        let _ = rx.recv_timeout(Duration::from_millis(50));
    };
    let status = child.wait()?;
    let out = reader.join().unwrap_or_default();
    let _ = std::fs::remove_dir_all(dir);
    let parsed = out
        .lines()
        .rev()
        .find(|l| l.starts_with("RESULT "))
        .map(ChildResult::parse);
    Ok(match parsed {
        Some(Ok(r)) if !timed_out => r,
        other => ChildResult {
            error: Some(if timed_out {
                format!("timed out after {:?} (pid {pid} killed)", s.timeout)
            } else {
                match other {
                    Some(Err(e)) => format!("bad RESULT line: {e}"),
                    _ => format!("child exited with {status} and no RESULT line"),
                }
            }),
            ..ChildResult::default()
        },
    })
}

/// `dd if=/dev/zero bs=64k` writing `bytes` into `dir`, timed from spawn to exit; MB/s.
fn dd(dir: &Path, bytes: u64) -> std::io::Result<f64> {
    let out = dir.join("dd.out");
    let t = Instant::now();
    let status = Command::new("dd")
        .args(["if=/dev/zero", "bs=64k", "status=none"])
        .arg(format!("count={}", bytes.div_ceil(65536)))
        .arg(format!("of={}", out.display()))
        .status()?;
    let elapsed = t.elapsed();
    let _ = std::fs::remove_file(&out);
    if !status.success() {
        return Err(std::io::Error::other(format!("dd exited with {status}")));
    }
    Ok(bytes.div_ceil(65536) as f64 * 65536.0 / elapsed.as_secs_f64() / 1e6)
}

/// `records` 100-byte lines copied one by one into a preallocated, pre-faulted buffer;
/// MB/s. The floor for moving the bytes at all.
fn memcpy(records: u64) -> f64 {
    let line = record(7);
    let mut buf = vec![1u8; records as usize * RECORD_LEN];
    let t = Instant::now();
    for chunk in buf.chunks_exact_mut(RECORD_LEN) {
        chunk.copy_from_slice(std::hint::black_box(&line));
    }
    std::hint::black_box(&buf);
    let elapsed = t.elapsed();
    (records as usize * RECORD_LEN) as f64 / elapsed.as_secs_f64() / 1e6
}

fn fmt_rate(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2} M", x / 1e6)
    } else {
        format!("{:.0} k", x / 1e3)
    }
}

fn fmt_ns(ns: u64) -> String {
    if ns >= 10_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else {
        format!("{ns} ns")
    }
}

impl Report {
    fn cell(&self, kind: Kind, workload: Workload) -> Option<&Cell> {
        self.cells
            .iter()
            .find(|(k, w, _)| *k == kind && *w == workload)
            .map(|(_, _, c)| c)
    }

    /// The median run of `kind` in `workload`, if it ran without any problem.
    pub fn clean(&self, kind: Kind, workload: Workload) -> Option<&ChildResult> {
        match self.cell(kind, workload)? {
            Cell::Ran {
                median, problems, ..
            } if problems.is_empty() => Some(&**median),
            _ => None,
        }
    }

    /// The results table, in markdown.
    pub fn table(&self) -> String {
        let mut t = String::new();
        t.push_str(
            "| workload | contender | lines/s | MB/s | × baseline | p50 | p99 | p99.9 \
             | allocs/rec caller | allocs/rec process | peak RSS | check |\n",
        );
        t.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (kind, workload, cell) in &self.cells {
            let name = kind.name();
            match cell {
                Cell::NotApplicable(reason) => {
                    let _ = writeln!(
                        t,
                        "| {workload} | {name} | N/A | | | | | | | | | {reason} |"
                    );
                }
                Cell::Ran {
                    median: r,
                    problems,
                    note,
                } => {
                    let records = r.records.max(1) as f64;
                    let baseline = self
                        .clean(Kind::BufWriter, *workload)
                        .map(ChildResult::lines_per_sec);
                    let (rate, mb, ratio) = if problems.is_empty() {
                        (
                            fmt_rate(r.lines_per_sec()),
                            format!("{:.0}", r.mb_per_sec()),
                            baseline
                                .map_or("—".into(), |b| format!("{:.2}×", r.lines_per_sec() / b)),
                        )
                    } else {
                        ("not reported".into(), "—".into(), "—".into())
                    };
                    let mut check = if problems.is_empty() {
                        format!("ok: {} lines", r.found.lines)
                    } else {
                        problems.join("; ")
                    };
                    if r.found.gz_files > 0 {
                        let _ = write!(check, ", {} .gz", r.found.gz_files);
                    }
                    if r.close_ns >= 50_000_000 {
                        let _ = write!(check, ", close {:.0} ms untimed", r.close_ns as f64 / 1e6);
                    }
                    if let Some(n) = note {
                        let _ = write!(check, " ({n})");
                    }
                    let rss = r
                        .peak_rss_kib
                        .map_or_else(|| "n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
                    let _ = writeln!(
                        t,
                        "| {workload} | {name} | {rate} | {mb} | {ratio} | {} | {} | {} | {:.2} | {:.2} | {rss} | {check} |",
                        fmt_ns(r.p50),
                        fmt_ns(r.p99),
                        fmt_ns(r.p999),
                        r.caller_allocs as f64 / records,
                        r.process_allocs as f64 / records,
                    );
                }
            }
        }
        t
    }

    /// The machine's limits measured in the same run, in markdown.
    pub fn baselines(&self) -> String {
        let mb = self.baseline_bytes as f64 / 1e6;
        format!(
            "| baseline | MB/s | 100-byte lines/s |\n|---|---:|---:|\n\
             | `dd if=/dev/zero bs=64k` ({mb:.0} MB, same directory) | {:.0} | {} |\n\
             | `memcpy` of the same lines into a preallocated buffer | {:.0} | {} |\n\
             | timer alone ({}, same bursts, nothing timed): p50 / p99 / p99.9 | {} / {} / {} ns | |\n",
            self.dd_mb_s,
            fmt_rate(self.dd_mb_s * 1e6 / RECORD_LEN as f64),
            self.memcpy_mb_s,
            fmt_rate(self.memcpy_mb_s * 1e6 / RECORD_LEN as f64),
            crate::Stopwatch::get().describe(),
            self.timer.0,
            self.timer.1,
            self.timer.2,
        )
    }

    /// Issue 8's goals, each with the state this run measured.
    pub fn goals(&self) -> String {
        let mut g = String::new();
        let lethe = [Kind::LetheAsync, Kind::LetheUring, Kind::LetheSync];
        let peers: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| !lethe.contains(k) && *k != Kind::BufWriter)
            .collect();
        let verdict = |met: bool| if met { "**met**" } else { "**not met**" };

        // W2 ≥ 3× the fastest other contender.
        let best_peer = peers
            .iter()
            .filter_map(|&k| self.clean(k, Workload::W2).map(|r| (k, r.lines_per_sec())))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        for k in lethe {
            match (self.clean(k, Workload::W2), best_peer) {
                (Some(r), Some((pk, p))) => {
                    let ratio = r.lines_per_sec() / p;
                    let _ = writeln!(
                        g,
                        "- W2 throughput ≥ 3× the fastest other contender: {} with {}: {} lines/s, {ratio:.2}× {} ({} lines/s)",
                        verdict(ratio >= 3.0),
                        k.name(),
                        fmt_rate(r.lines_per_sec()),
                        pk.name(),
                        fmt_rate(p),
                    );
                }
                _ => {
                    let _ = writeln!(
                        g,
                        "- W2 ≥ 3× fastest other: not measured cleanly for {}",
                        k.name()
                    );
                }
            }
        }
        // W1 ≥ 1.5× the BufWriter baseline.
        for k in lethe {
            match (
                self.clean(k, Workload::W1),
                self.clean(Kind::BufWriter, Workload::W1),
            ) {
                (Some(r), Some(b)) => {
                    let ratio = r.lines_per_sec() / b.lines_per_sec();
                    let _ = writeln!(
                        g,
                        "- W1 throughput ≥ 1.5× the `Mutex<BufWriter>` baseline: {} with {}: {} lines/s, {ratio:.2}× the baseline's {} lines/s",
                        verdict(ratio >= 1.5),
                        k.name(),
                        fmt_rate(r.lines_per_sec()),
                        fmt_rate(b.lines_per_sec()),
                    );
                }
                _ => {
                    let _ = writeln!(
                        g,
                        "- W1 ≥ 1.5× baseline: not measured cleanly for {}",
                        k.name()
                    );
                }
            }
        }
        // p99.9 ≤ 200 ns in every workload.
        for k in lethe {
            let worst = Workload::ALL
                .into_iter()
                .filter_map(|w| self.clean(k, w).map(|r| (w, r.p999)))
                .max_by_key(|&(_, p)| p);
            let all: Vec<String> = Workload::ALL
                .into_iter()
                .filter_map(|w| self.clean(k, w).map(|r| format!("{w} {}", fmt_ns(r.p999))))
                .collect();
            if let Some((w, p)) = worst {
                let _ = writeln!(
                    g,
                    "- caller p99.9 ≤ 200 ns in every workload: {} with {}: worst {} in {w} ({}; timer alone {} ns)",
                    verdict(p <= 200),
                    k.name(),
                    fmt_ns(p),
                    all.join(", "),
                    self.timer.2,
                );
            }
        }
        // 0 allocations per record in W1 and W2.
        for k in lethe {
            let per = |w| {
                self.clean(k, w).map(|r| {
                    (
                        r.caller_allocs as f64 / r.records.max(1) as f64,
                        r.process_allocs as f64 / r.records.max(1) as f64,
                    )
                })
            };
            if let (Some(w1), Some(w2)) = (per(Workload::W1), per(Workload::W2)) {
                let met = w1.0 == 0.0 && w2.0 == 0.0;
                let _ = writeln!(
                    g,
                    "- 0 allocations per record in W1 and W2: {} with {}: caller {:.4} (W1) and {:.4} (W2); whole process {:.4} and {:.4}",
                    verdict(met),
                    k.name(),
                    w1.0,
                    w2.0,
                    w1.1,
                    w2.1,
                );
            }
        }
        g
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report of one run of `kind` in `workload`, as `run_all` would make it.
    fn one_cell(kind: Kind, workload: Workload, r: ChildResult) -> Report {
        Report {
            cells: vec![(
                kind,
                workload,
                Cell::Ran {
                    problems: r.problem().into_iter().collect(),
                    median: Box::new(r),
                    note: None,
                },
            )],
            dd_mb_s: 1.0,
            memcpy_mb_s: 1.0,
            baseline_bytes: 1,
            timer: (1, 1, 1),
        }
    }

    #[test]
    fn a_result_line_round_trips() {
        let r = ChildResult {
            records: 10,
            elapsed_ns: 1234,
            p999: 77,
            peak_rss_kib: Some(4321),
            expected_lines: 12,
            lines_at_stop: 10,
            all_present_ns: 5_000_000,
            found: Contents {
                lines: 11,
                bytes: 999,
                partial: 0,
                files: 2,
                gz_files: 1,
            },
            reported_dropped: Some(1),
            error: Some("disk full\nsecond line".into()),
            ..ChildResult::default()
        };
        let back = ChildResult::parse(&r.to_line()).unwrap();
        assert_eq!(back.error.as_deref(), Some("disk full | second line"));
        assert_eq!(
            ChildResult {
                error: r.error.clone(),
                ..back.clone()
            }
            .to_line(),
            r.to_line()
        );
        assert_eq!(back.found, r.found);
        assert_eq!(back.peak_rss_kib, Some(4321));
        assert_eq!((back.lines_at_stop, back.all_present_ns), (10, 5_000_000));

        let no_rss = ChildResult {
            peak_rss_kib: None,
            reported_dropped: None,
            ..ChildResult::default()
        };
        let line = no_rss.to_line();
        assert!(line.contains(" rss_kib=- "), "{line}");
        assert_eq!(ChildResult::parse(&line).unwrap(), no_rss);
    }

    #[test]
    fn an_unreadable_peak_rss_shows_as_n_a_in_the_table() {
        let r = ChildResult {
            records: 10,
            expected_lines: 10,
            lines_at_stop: 10,
            found: Contents {
                lines: 10,
                ..Contents::default()
            },
            ..ChildResult::default()
        };
        let row = one_cell(Kind::LetheAsync, Workload::W2, r.clone()).table();
        assert!(row.contains("| n/a | ok: 10 lines |"), "{row}");
        let row = one_cell(
            Kind::LetheAsync,
            Workload::W2,
            ChildResult {
                peak_rss_kib: Some(2048),
                ..r
            },
        )
        .table();
        assert!(row.contains("| 2.0 MiB | ok: 10 lines |"), "{row}");
    }

    #[test]
    fn losses_are_reported_not_hidden() {
        let mut r = ChildResult {
            expected_lines: 100,
            lines_at_stop: 100,
            found: Contents {
                lines: 90,
                ..Contents::default()
            },
            ..ChildResult::default()
        };
        assert_eq!(r.problem().unwrap(), "LOST 10 of 100 lines");
        r.reported_dropped = Some(10);
        assert!(r.problem().unwrap().starts_with("DROPPED 10"));
        r.found.lines = 101;
        assert_eq!(r.problem().unwrap(), "EXTRA 1 lines");
        r.found.lines = 100;
        assert_eq!(r.problem(), None);
        r.found.partial = 3;
        assert!(r.problem().unwrap().starts_with("CUT LINE"));
    }

    #[test]
    fn a_flush_that_returned_before_the_data_was_written_is_late_not_fast() {
        let mut r = ChildResult {
            records: 100,
            elapsed_ns: 1,
            expected_lines: 100,
            lines_at_stop: 100,
            found: Contents {
                lines: 100,
                ..Contents::default()
            },
            ..ChildResult::default()
        };
        assert_eq!(r.problem(), None);
        r.lines_at_stop = 60;
        r.all_present_ns = 1_200_000_001;
        assert_eq!(
            r.problem().unwrap(),
            "LATE: 40 lines were not in the files when the clock stopped; all present after 1201 ms"
        );
        // A late run that still lost lines in the end is reported as the loss.
        r.found.lines = 90;
        assert!(r.problem().unwrap().starts_with("LOST 10"));

        // In the table: no throughput, the mark in the check column, and no verdict.
        r.found.lines = 100;
        let report = one_cell(Kind::TracingAppender, Workload::W2, r);
        let table = report.table();
        let row = table.lines().last().unwrap();
        assert!(
            row.starts_with("| W2 | tracing-appender | not reported | — | — |"),
            "{row}"
        );
        assert!(
            row.contains("| LATE: 40 lines were not in the files"),
            "{row}"
        );
        assert!(report.clean(Kind::TracingAppender, Workload::W2).is_none());
    }
}

//! Lethe against the Rust logging ecosystem (issue 8): every contender in every workload,
//! each run in a child process of its own, verified line by line, printed as a markdown
//! table together with the `dd` and `memcpy` baselines and the goals.
//!
//! ```sh
//! cargo run --release -p lethe-benches --bin compare -- --quick   # a few minutes
//! cargo run --release -p lethe-benches --bin compare              # the full run
//! ```
//!
//! The output starts with the machine (CPU, memory, kernel, the bench directory's file
//! system) and the command line, so that a table pasted from it carries both. See
//! `lethe_benches::compare` for what each part measures, and docs/BENCHMARKS.md for
//! results.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use lethe_benches::compare::alloc::CountingAlloc;
use lethe_benches::compare::child::{self, Params};
use lethe_benches::compare::contender::Kind;
use lethe_benches::compare::machine::Machine;
use lethe_benches::compare::report::{self, Settings};
use lethe_benches::compare::workload::Workload;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Compare Lethe with other Rust loggers; prints a markdown table.
#[derive(Parser, Debug)]
#[command(name = "compare")]
struct Args {
    /// Short runs (200 000 records, 2 500 bursts, 1 repetition): a few minutes in all.
    #[arg(long)]
    quick: bool,
    /// Records in each timed phase [default: 1 000 000, or 200 000 with --quick].
    #[arg(long)]
    records: Option<u64>,
    /// Latency bursts of 20 records per thread [default: 10 000, or 2 500 with --quick].
    #[arg(long)]
    bursts: Option<u64>,
    /// Repetitions of each run; the median by throughput is reported [default: 3, or 1
    /// with --quick]. Runs of the contenders alternate: run 1 of each, then run 2 of each.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1000))]
    runs: Option<u64>,
    /// Where the runs write [default: a temporary directory under $TMPDIR].
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Only these contenders (comma-separated names as in the table).
    #[arg(long, value_delimiter = ',')]
    contenders: Vec<String>,
    /// Only these workloads (comma-separated: W1,W2,...).
    #[arg(long, value_delimiter = ',')]
    workloads: Vec<Workload>,
    /// Internal: run one contender and workload in this process and print a RESULT line.
    #[arg(long, num_args = 2, value_names = ["CONTENDER", "WORKLOAD"])]
    child: Option<Vec<String>>,
}

fn main() {
    let args = Args::parse();
    let quick = args.quick;
    let records = args
        .records
        .unwrap_or(if quick { 200_000 } else { 1_000_000 });
    let bursts = args.bursts.unwrap_or(if quick { 2_500 } else { 10_000 });

    if let Some(child) = &args.child {
        let kind = Kind::from_name(&child[0])
            .unwrap_or_else(|| fail(&format!("unknown contender {:?}", child[0])));
        let workload: Workload = child[1].parse().unwrap_or_else(|e: String| fail(&e));
        let dir = args
            .dir
            .clone()
            .unwrap_or_else(|| fail("--child needs --dir"));
        let result = child::run(&Params {
            kind,
            workload,
            records,
            bursts,
            dir,
        });
        println!("{}", result.to_line());
        return;
    }

    let kinds = if args.contenders.is_empty() {
        Kind::ALL.to_vec()
    } else {
        args.contenders
            .iter()
            .map(|n| {
                Kind::from_name(n).unwrap_or_else(|| {
                    let names: Vec<_> = Kind::ALL.iter().map(|k| k.name()).collect();
                    fail(&format!(
                        "unknown contender {n:?}; known: {}",
                        names.join(", ")
                    ))
                })
            })
            .collect()
    };
    let workloads = if args.workloads.is_empty() {
        Workload::ALL.to_vec()
    } else {
        args.workloads.clone()
    };
    let tmp;
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::tempdir().unwrap_or_else(|e| fail(&format!("temp dir: {e}")));
            tmp.path().to_path_buf()
        }
    };
    let settings = Settings {
        records,
        bursts,
        runs: args.runs.map_or(if quick { 1 } else { 3 }, |r| r as usize),
        dir,
        kinds,
        workloads,
        timeout: Duration::from_secs(if quick { 120 } else { 600 }),
    };
    eprintln!(
        "compare: {} records per timed phase, {} bursts of {} per thread, {} run(s) each, in {}",
        settings.records,
        settings.bursts,
        child::BURST,
        settings.runs,
        settings.dir.display()
    );
    // The head of the output: every table pasted from it carries the machine and the
    // command that produced it. Probed before the runs, which create the directory.
    std::fs::create_dir_all(&settings.dir)
        .unwrap_or_else(|e| fail(&format!("{}: {e}", settings.dir.display())));
    let machine = Machine::probe(&settings.dir);
    let report = report::run_all(&settings).unwrap_or_else(|e| fail(&e.to_string()));
    println!("### Machine and command\n");
    println!("- machine: {machine}");
    println!("- command: `{}`\n", command_line());
    println!("### Goals (issue 8), as measured in this run\n");
    println!("{}", report.goals());
    println!("### Results\n");
    println!("{}", report.table());
    println!("### Baselines, same run\n");
    println!("{}", report.baselines());
    for w in &settings.workloads {
        println!("- {w}: {}", w.describe());
    }
}

/// This invocation as a `cargo run` command line (arguments with spaces or quotes
/// single-quoted), with `--no-default-features` if the binary was built without the
/// `uring` feature (on by default).
fn command_line() -> String {
    let features = if cfg!(feature = "uring") {
        ""
    } else {
        " --no-default-features"
    };
    let mut line = format!("cargo run --release -p lethe-benches{features} --bin compare --");
    for arg in std::env::args().skip(1) {
        line.push(' ');
        if arg.is_empty() || arg.contains(|c: char| c.is_whitespace() || "'\"\\$`".contains(c)) {
            line.push_str(&format!("'{}'", arg.replace('\'', r"'\''")));
        } else {
            line.push_str(&arg);
        }
    }
    line
}

fn fail(msg: &str) -> ! {
    eprintln!("compare: {msg}");
    std::process::exit(2);
}

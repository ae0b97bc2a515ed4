//! The structured logger guide (`docs/guides/logger.md`), sections 1 to 5, end to end:
//! JSON lines into a rotating file with the macros; fields, child loggers and context;
//! a file, stdout and syslog (over UDP, to a socket this example binds itself, so no
//! daemon is needed) at their own levels, changed at runtime; filters, each kind of
//! sampler, and redaction; a burst into a small buffer that drops and counts; metrics,
//! flush and shutdown. Then it reads the files back and prints a summary.
//!
//! ```sh
//! cargo run -p lethe-std --example logger_guide                       # a new temporary directory
//! cargo run -p lethe-std --example logger_guide -- /tmp/lethe-logger-guide   # or an empty one
//! ```

use std::error::Error;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lethe_std::logger::sample::{EveryNth, FirstThen, RateLimit, Ratio, SampleKey, Sampler};
use lethe_std::logger::{
    Delivery, Destination, DestinationMetrics, Field, Level, Logger, LoggerMetrics, Redactor,
    Registry, Text, ThreadName, Value, context, filter,
};
use lethe_std::{Config, debug, error, info, warn};

/// Records sent to each sampled logger (section 4); every 10th is a health check.
pub const SAMPLED_SENT: u64 = 1_000;
/// Records sent in the burst (section 5).
pub const BURST_SENT: u64 = 20_000;
/// The users the sampled records name, in turn.
pub const USERS: [&str; 3] = ["ann", "bob", "eve"];

/// What [`run`] logged and read back.
#[derive(Debug)]
pub struct Summary {
    /// `app.jsonl` (sections 1 to 3), line by line.
    pub app: Vec<String>,
    /// The main logger's counters after its shutdown.
    pub metrics: LoggerMetrics,
    /// The syslog destination's final counters, as `Logger::remove` returned them.
    pub syslog: DestinationMetrics,
    /// The syslog datagrams the example's UDP socket received.
    pub datagrams: Vec<String>,
    /// One run per sampler kind (section 4).
    pub sampled: Vec<Sampled>,
    /// `burst.jsonl` (section 5), line by line.
    pub burst: Vec<String>,
    /// The burst logger's counters after its shutdown.
    pub burst_metrics: LoggerMetrics,
}

/// One sampled logger of section 4.
#[derive(Debug)]
pub struct Sampled {
    /// The sampler's kind (also the file's name: `sampled-KIND.jsonl`).
    pub kind: &'static str,
    /// The file's lines.
    pub lines: Vec<String>,
    /// The logger's counters after its shutdown.
    pub metrics: LoggerMetrics,
}

/// Runs sections 1 to 5 in `dir`, which must be empty, and reads back what they wrote.
///
/// # Errors
///
/// A non-empty `dir`, or any error of the logger, its files or the UDP socket.
pub fn run(dir: &Path) -> Result<Summary, Box<dyn Error>> {
    if std::fs::read_dir(dir)?.next().is_some() {
        return Err(format!("{} is not empty", dir.display()).into());
    }

    // 1. A JSON logger to a rotating file, with the macros.
    let options = Config {
        max_size: Some("10MB".into()), // rotate at 10 MB,
        max_backups: Some("5".into()), // keep 5 backups,
        compress: Some(true),          // gzip'd in the background
        ..Config::default()
    }
    .build()?;
    let log = Logger::builder()
        .name("shop") // written as "target"
        .level(Level::Info) // the default
        .enricher(ThreadName) // section 2: every record gets "thread"
        .destination(Destination::open_file(dir.join("app.jsonl"), options)?)
        .build()?;

    info!(log, "started");
    info!(log, "listening on port {}", 8080; "tls" => true);
    debug!(log, "not written: below the logger's level");

    // 2. Fields, child loggers, context.
    log.info(
        "config loaded",
        &[Field::new("workers", 4), Field::new("ratio", 0.75)],
    );
    let request = log.with_field("request_id", "r-42"); // a child: same pipeline
    let db = request.named("shop::db"); // another target, same fields
    {
        let _user = context::push(&[Field::new("user", "ann")]); // this thread, this scope
        info!(request, "cart has {} items", 3; "total" => 59.9);
        db.warn("slow query", &[Field::new("ms", 812.5)]);
    }
    let missing = std::io::Error::new(std::io::ErrorKind::NotFound, "no such sku");
    let peer: std::net::SocketAddr = "10.0.0.7:443".parse()?;
    error!(request, "lookup failed";
        "error" => Value::error(&missing), "peer" => Value::display(&peer), "sku" => Value::debug(&[7, 7]));

    // 3. Several destinations, each with its own level and format; changed at runtime.
    let stdout = log.add(
        Destination::stdout()
            .level(Level::Warn)
            .formatter(Text::default()),
    )?;
    // A syslog server is a URI away; here, a UDP socket of our own stands in for it.
    let server = UdpSocket::bind("127.0.0.1:0")?;
    server.set_read_timeout(Some(Duration::from_secs(5)))?;
    let uri = format!(
        "syslog+udp://{}?name=syslog&level=error&format=logfmt&app=shop&facility=local0",
        server.local_addr()?
    );
    let syslog = log.add(Registry::new().open(&uri)?)?;

    warn!(log, "disk {} almost full", "/var"; "used_pct" => 91); // file, stdout
    error!(log, "payment failed"; "order" => 7); // file, stdout, syslog
    stdout.disable();
    warn!(log, "written while stdout is disabled"); // file only
    stdout.enable();
    syslog.set_level(Some(Level::Warn));
    warn!(log, "syslog takes warnings now"); // file, stdout, syslog
    let syslog = log
        .remove("syslog", Duration::from_secs(5))
        .ok_or("no destination named syslog")?;
    error!(log, "after syslog was removed"); // file, stdout

    // 4. Filters, samplers (one logger per kind here), redaction.
    let sampled = vec![
        sampled(dir, "every_nth", EveryNth::new(10))?,
        sampled(dir, "ratio", Ratio::seeded(0.25, 7))?,
        sampled(dir, "rate_limit", RateLimit::new(100.0, 20))?,
        sampled(
            dir,
            "first_then",
            FirstThen::new(5, 100)
                .per(Duration::from_secs(60))
                .key(SampleKey::Field("user".into())),
        )?,
    ];

    // 5. Backpressure: a 4 KiB ring that drops what finds no room, and counts it.
    let burst_metrics = burst(dir)?;

    // Metrics, flush and shutdown of the main logger.
    log.flush()?; // everything logged so far is in the file (page cache)
    log.shutdown(Duration::from_secs(5))?; // drains and closes every destination
    let metrics = log.metrics(); // still lists them, with their final counters

    let mut datagrams = Vec::new();
    let mut buf = [0u8; 2048];
    while (datagrams.len() as u64) < syslog.records {
        let n = server.recv(&mut buf)?;
        datagrams.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    Ok(Summary {
        app: read_lines(&dir.join("app.jsonl"))?,
        metrics,
        syslog,
        datagrams,
        sampled,
        burst: read_lines(&dir.join("burst.jsonl"))?,
        burst_metrics,
    })
}

/// Section 4: [`SAMPLED_SENT`] records (one in 10 a health check, filtered out, the
/// rest carrying a password and a card number, redacted) through a logger sampled by
/// `sampler`, into `sampled-KIND.jsonl`.
fn sampled(
    dir: &Path,
    kind: &'static str,
    sampler: impl Sampler + 'static,
) -> Result<Sampled, Box<dyn Error>> {
    let path = dir.join(format!("sampled-{kind}.jsonl"));
    let checkout = Logger::builder()
        .name("shop::checkout")
        .filter(filter::not(filter::field_equals("health_check", true)))
        .sampler(sampler)
        .redact(
            Redactor::new()
                .key("password")
                .pattern(r"\b\d{4}-\d{4}-\d{4}-\d{4}\b")?,
        )
        .destination(Destination::open_file(&path, Config::default().build()?)?)
        .build()?;
    for i in 0..SAMPLED_SENT {
        if i % 10 == 0 {
            info!(checkout, "health check"; "health_check" => true);
        } else {
            let user = USERS[i as usize % USERS.len()];
            info!(checkout, "charged card 4111-1111-1111-1111 for {}", user;
                "user" => user, "password" => "hunter2", "i" => i);
        }
    }
    checkout.shutdown(Duration::from_secs(5))?;
    Ok(Sampled {
        kind,
        lines: read_lines(&path)?,
        metrics: checkout.metrics(),
    })
}

/// Section 5: [`BURST_SENT`] records as fast as one thread can log them, into
/// `burst.jsonl` through a 4 KiB ring under [`Delivery::Drop`].
fn burst(dir: &Path) -> Result<LoggerMetrics, Box<dyn Error>> {
    let small = Config {
        buffer: Some("4KiB".into()), // the ring (default 1 MiB)
        ..Config::default()
    }
    .build()?;
    let log = Logger::builder()
        .destination(
            Destination::open_file(dir.join("burst.jsonl"), small)?
                .name("burst")
                .delivery(Delivery::Drop) // never wait; count what finds no room
                .reservation(256), // records here are about 100 bytes
        )
        .on_error(|name, e| eprintln!("{name}: {e}"))
        .build()?;
    for i in 0..BURST_SENT {
        info!(log, "burst"; "i" => i);
    }
    let m = log.metrics(); // at any time, without a lock
    let burst = m.destination("burst").ok_or("no destination named burst")?;
    println!(
        "burst so far: {} records buffered, {} dropped",
        burst.records, burst.dropped
    );
    log.flush()?;
    log.shutdown(Duration::from_secs(5))?;
    log.info("after shutdown: counted, not written", &[]);
    Ok(log.metrics())
}

fn read_lines(path: &Path) -> std::io::Result<Vec<String>> {
    Ok(std::fs::read_to_string(path)?
        .lines()
        .map(str::to_owned)
        .collect())
}

#[allow(dead_code)] // the tests include this file and call `run`
fn main() -> Result<(), Box<dyn Error>> {
    let dir = match std::env::args().nth(1) {
        Some(dir) => {
            std::fs::create_dir_all(&dir)?;
            PathBuf::from(dir)
        }
        None => tempfile::Builder::new()
            .prefix("lethe-logger-guide-")
            .tempdir()?
            .keep(),
    };
    let s = run(&dir)?;
    let json = s
        .app
        .iter()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
        .count();
    println!(
        "app.jsonl: {} lines, {json} of them JSON; stdout took {}; syslog took {} ({} datagrams received)",
        s.app.len(),
        s.metrics.destination("stdout").map_or(0, |d| d.records),
        s.syslog.records,
        s.datagrams.len(),
    );
    for x in &s.sampled {
        let m = &x.metrics;
        println!(
            "sampled-{}.jsonl: {} sent, {} filtered, {} sampled out, {} lines",
            x.kind,
            SAMPLED_SENT,
            m.filtered,
            m.sampled_out,
            x.lines.len()
        );
    }
    let b = s.burst_metrics.destination("burst").ok_or("no burst")?;
    println!(
        "burst.jsonl: {BURST_SENT} sent, {} written, {} dropped; {} logged after shutdown",
        s.burst.len(),
        b.dropped,
        s.burst_metrics.after_shutdown
    );
    println!("files in {}", dir.display());
    Ok(())
}

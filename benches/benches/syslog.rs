//! The syslog sender's cost per message, against baselines measured in the same run.
//!
//! Every message is RFC 5424, facility local0, severity info, a 60-byte text and three
//! fields (`request`, `status`, `latency_ms`: an integer, an integer and a float).
//!
//! - `syslog_format/lethe_encode`: `Syslog::encode` into its reused buffer (no I/O).
//! - `syslog_format/format_macro`: the same bytes with one `format!` per message (a new
//!   `String` each time), the way syslog crates that format with `format!` do it.
//! - `syslog_udp/lethe_send`: `Syslog::send` to a bound loopback UDP socket (formatting
//!   plus one `send(2)`; the receiver is not drained, so the kernel drops the datagrams).
//! - `syslog_udp/raw_send`: `send(2)` of the same preformatted bytes on a connected
//!   `UdpSocket`: the syscall floor.
//! - `syslog_tcp/lethe_send`: `Syslog::send` over loopback TCP (octet counting; the
//!   zero-timeout `poll` that notices a closed server; one `write(2)`), a thread drains.
//!
//! Run: `cargo bench -p lethe-benches --bench syslog`.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::fmt::Display;
use std::hint::black_box;
use std::io::Read;
use std::net::{TcpListener, UdpSocket};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lethe_core::civil::UnixTime;
use lethe_std::syslog::{Facility, ProcId, Severity, Syslog, SyslogBuilder, Transport};

const TEXT: &str = "GET /api/v1/users/12345/orders?limit=50 served by worker-07 ok";

fn builder(t: Transport) -> SyslogBuilder {
    Syslog::builder(t)
        .facility(Facility::Local0)
        .hostname("bench-host")
        .app_name("bench")
        .procid(ProcId::Fixed("4242".into()))
}

fn fields(i: u64) -> (u64, u16, f64) {
    (i, 200, (i % 977) as f64 / 10.0)
}

fn ts(i: u64) -> UnixTime {
    UnixTime::new(
        1_764_156_661 + (i / 1000) as i64,
        (i % 1000) as u32 * 1_000_000,
    )
    .unwrap()
}

/// The `format!` baseline: same output as `Syslog::encode` for these inputs.
fn format_macro(i: u64) -> String {
    let (request, status, latency) = fields(i);
    let t = ts(i);
    let secs = t.secs();
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = lethe_core::civil::civil_from_days(days);
    format!(
        "<134>1 {y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z bench-host bench 4242 - [lethe@32473 request=\"{request}\" status=\"{status}\" latency_ms=\"{latency}\"] {TEXT}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60,
        t.subsec_nanos() / 1000
    )
}

fn format(c: &mut Criterion) {
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut s = builder(Transport::Udp(receiver.local_addr().unwrap()))
        .build()
        .unwrap();
    // Same bytes from both (checked once, outside the measurement).
    {
        let (request, status, latency) = fields(7);
        let f: [(&str, &dyn Display); 3] = [
            ("request", &request),
            ("status", &status),
            ("latency_ms", &latency),
        ];
        assert_eq!(
            s.encode(Severity::Informational, ts(7), TEXT, &f),
            format_macro(7).as_bytes()
        );
    }
    let mut g = c.benchmark_group("syslog_format");
    g.throughput(Throughput::Elements(1));
    let mut i = 0u64;
    g.bench_function("lethe_encode", |b| {
        b.iter(|| {
            i += 1;
            let (request, status, latency) = fields(i);
            let f: [(&str, &dyn Display); 3] = [
                ("request", &request),
                ("status", &status),
                ("latency_ms", &latency),
            ];
            black_box(s.encode(Severity::Informational, ts(i), TEXT, &f).len())
        })
    });
    g.bench_function("format_macro", |b| {
        b.iter(|| {
            i += 1;
            black_box(format_macro(i).len())
        })
    });
    g.finish();
}

fn udp(c: &mut Criterion) {
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = receiver.local_addr().unwrap();
    let mut s = builder(Transport::Udp(addr)).build().unwrap();
    let raw = UdpSocket::bind("127.0.0.1:0").unwrap();
    raw.connect(addr).unwrap();
    let bytes = format_macro(1);
    let mut g = c.benchmark_group("syslog_udp");
    g.throughput(Throughput::Elements(1));
    let mut i = 0u64;
    g.bench_function("lethe_send", |b| {
        b.iter(|| {
            i += 1;
            let (request, status, latency) = fields(i);
            let f: [(&str, &dyn Display); 3] = [
                ("request", &request),
                ("status", &status),
                ("latency_ms", &latency),
            ];
            s.send(Severity::Informational, ts(i), TEXT, &f).unwrap();
        })
    });
    g.bench_function("raw_send", |b| {
        b.iter(|| black_box(raw.send(bytes.as_bytes()).unwrap()))
    });
    g.finish();
}

fn tcp(c: &mut Criterion) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let drain = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 1 << 16];
        while matches!(conn.read(&mut buf), Ok(n) if n > 0) {}
    });
    let mut s = builder(Transport::Tcp(vec![addr])).build().unwrap();
    let mut g = c.benchmark_group("syslog_tcp");
    g.throughput(Throughput::Elements(1));
    let mut i = 0u64;
    g.bench_function("lethe_send", |b| {
        b.iter(|| {
            i += 1;
            let (request, status, latency) = fields(i);
            let f: [(&str, &dyn Display); 3] = [
                ("request", &request),
                ("status", &status),
                ("latency_ms", &latency),
            ];
            s.send(Severity::Informational, ts(i), TEXT, &f).unwrap();
        })
    });
    g.finish();
    drop(s);
    drain.join().unwrap();
}

criterion_group!(benches, format, udp, tcp);
criterion_main!(benches);

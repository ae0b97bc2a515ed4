//! The syslog sender: exact bytes of both formats, escaping, truncation, octet counting,
//! URI parsing, and the three transports against real sockets (TCP reconnect with an
//! injected monotonic clock, so no test sleeps through a backoff).

use std::io::{self, BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lethe_core::civil::UnixTime;

mod support;
use lethe_std::syslog::{
    ConfigError, Facility, Format, ProcId, Severity, Syslog, SyslogBuilder, Transport,
};

/// 2025-11-26T11:31:01.123456789Z
fn ts() -> UnixTime {
    UnixTime::new(1_764_156_661, 123_456_789).unwrap()
}

fn udp_receiver() -> (UdpSocket, SocketAddr) {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let a = s.local_addr().unwrap();
    (s, a)
}

fn fixed(transport: Transport) -> SyslogBuilder {
    Syslog::builder(transport)
        .facility(Facility::Local0)
        .hostname("host")
        .app_name("app")
        .procid(ProcId::Fixed("42".into()))
}

#[test]
fn syslog_can_move_to_and_be_shared_with_a_logger_thread() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Syslog>();
    send_sync::<ConfigError>();
}

#[test]
fn rfc5424_exact_bytes() {
    let (_rx, addr) = udp_receiver();
    let mut s = fixed(Transport::Udp(addr)).msgid("ID1").build().unwrap();
    let out = s.encode(
        Severity::Informational,
        ts(),
        "hello world",
        &[("k", "a\"b\\c]d"), ("x", "1")],
    );
    assert_eq!(
        std::str::from_utf8(out).unwrap(),
        r#"<134>1 2025-11-26T11:31:01.123456Z host app 42 ID1 [lethe@32473 k="a\"b\\c\]d" x="1"] hello world"#
    );
    // No fields: SD is the NILVALUE; no msgid: NILVALUE; NIL procid.
    let mut s = fixed(Transport::Udp(addr))
        .procid(ProcId::Nil)
        .facility(Facility::Kern)
        .build()
        .unwrap();
    let out = s.encode(
        Severity::Emergency,
        UnixTime::new(0, 5_000).unwrap(),
        "m",
        &(),
    );
    assert_eq!(out, b"<0>1 1970-01-01T00:00:00.000005Z host app - - - m");
    // An empty message ends after SD, without a trailing space.
    let out = s.encode(Severity::Debug, UnixTime::new(0, 0).unwrap(), "", &());
    assert_eq!(out, b"<7>1 1970-01-01T00:00:00.000000Z host app - - -");
    // Highest PRI: local7.debug = 191.
    let mut s = fixed(Transport::Udp(addr))
        .facility(Facility::Local7)
        .bom(true)
        .build()
        .unwrap();
    let out = s.encode(Severity::Debug, ts(), "é", &());
    assert_eq!(
        out,
        "<191>1 2025-11-26T11:31:01.123456Z host app 42 - - \u{feff}é".as_bytes()
    );
}

#[test]
fn sd_param_names_are_sanitized_and_values_take_display() {
    let (_rx, addr) = udp_receiver();
    let mut s = fixed(Transport::Udp(addr))
        .sd_id("meta@12345.1")
        .build()
        .unwrap();
    let status = 200;
    let long_key = "k".repeat(40);
    let fields: [(&str, &dyn std::fmt::Display); 4] = [
        ("a b=c]\"d", &"v"),
        ("", &status),
        (&long_key, &1.5),
        ("ünï", &"x]"),
    ];
    let out = s.encode(Severity::Notice, ts(), "m", &fields);
    let text = std::str::from_utf8(out).unwrap();
    let sd = format!(
        r#"[meta@12345.1 a_b_c__d="v" _="200" {}="1.5" __n__="x\]"]"#,
        "k".repeat(32)
    );
    assert!(text.contains(&format!(" {sd} m")), "{text}");
}

#[test]
fn rfc3164_exact_bytes() {
    let (_rx, addr) = udp_receiver();
    let mut s = fixed(Transport::Udp(addr))
        .format(Format::Rfc3164)
        .build()
        .unwrap();
    let out = s.encode(Severity::Warning, ts(), "disk \"low\"", &[("free", "3%")]);
    assert_eq!(
        out,
        br#"<132>Nov 26 11:31:01 host app[42]: disk "low" free="3%""#
    );
    // Single-digit days are padded with a space; a nil procid drops the brackets.
    let mut s = fixed(Transport::Udp(addr))
        .format(Format::Rfc3164)
        .procid(ProcId::Nil)
        .build()
        .unwrap();
    let t = UnixTime::new(1_772_694_489, 0).unwrap(); // 2026-03-05T07:08:09Z
    let out = s.encode(Severity::Error, t, "x", &[("q", "a\"\\b")]);
    assert_eq!(out, br#"<131>Mar  5 07:08:09 host app: x q="a\"\\b""#);
}

#[test]
fn tcp_frames_are_octet_counted() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut s = fixed(Transport::Tcp(vec![addr])).build().unwrap();
    let msg = "line one\nline two";
    let expected_msg =
        format!("<134>1 2025-11-26T11:31:01.123456Z host app 42 - - {msg}").into_bytes();
    let frame = s.encode(Severity::Informational, ts(), msg, &()).to_vec();
    assert_eq!(
        frame,
        [format!("{} ", expected_msg.len()).as_bytes(), &expected_msg].concat()
    );
    // On the wire: three frames, read back by their counts.
    s.send(Severity::Informational, ts(), msg, &()).unwrap();
    s.send(Severity::Error, ts(), "", &()).unwrap();
    let big = "y".repeat(2000);
    s.send(Severity::Debug, ts(), &big, &()).unwrap();
    let (conn, _) = listener.accept().unwrap();
    let mut r = BufReader::new(conn);
    assert_eq!(read_frame(&mut r), expected_msg);
    assert_eq!(
        read_frame(&mut r),
        b"<131>1 2025-11-26T11:31:01.123456Z host app 42 - -"
    );
    let third = read_frame(&mut r);
    assert!(third.ends_with(big.as_bytes()));
    let st = s.stats();
    assert_eq!((st.sent, st.errors, st.connects), (3, 0, 1));
}

/// Reads one `LEN SP MSG` frame.
fn read_frame(r: &mut impl BufRead) -> Vec<u8> {
    let mut len = Vec::new();
    r.read_until(b' ', &mut len).unwrap();
    assert_eq!(
        len.pop(),
        Some(b' '),
        "frame length not followed by a space"
    );
    let n: usize = std::str::from_utf8(&len).unwrap().parse().unwrap();
    let mut msg = vec![0; n];
    r.read_exact(&mut msg).unwrap();
    msg
}

#[test]
fn long_messages_are_cut_at_a_utf8_boundary_and_counted() {
    let (rx, addr) = udp_receiver();
    let mut s = fixed(Transport::Udp(addr)).max_len(480).build().unwrap();
    let msg = "é".repeat(1000); // 2000 bytes
    s.send(Severity::Informational, ts(), &msg, &()).unwrap();
    let mut buf = [0u8; 4096];
    let n = rx.recv(&mut buf).unwrap();
    assert!((479..=480).contains(&n), "{n}");
    let text = std::str::from_utf8(&buf[..n]).expect("cut inside a UTF-8 sequence");
    assert!(text.starts_with("<134>1 2025-11-26T11:31:01.123456Z host app 42 - - éé"));
    // A message that fits is not counted.
    s.send(Severity::Informational, ts(), "short", &()).unwrap();
    assert_eq!(rx.recv(&mut buf).unwrap(), 56);
    let st = s.stats();
    assert_eq!((st.sent, st.truncated, st.errors), (2, 1, 0));

    // Structured data that alone overflows is dropped (SD becomes "-"), the text kept.
    let huge = "v".repeat(1000);
    let out = s.encode(
        Severity::Informational,
        ts(),
        "text",
        &[("big", huge.as_str())],
    );
    assert_eq!(
        out,
        b"<134>1 2025-11-26T11:31:01.123456Z host app 42 - - text"
    );
    assert_eq!(s.stats().truncated, 2);
}

#[test]
fn bad_settings_name_the_value_and_the_rule() {
    let (_rx, addr) = udp_receiver();
    let cases: Vec<(SyslogBuilder, &str, &str)> = vec![
        (
            fixed(Transport::Udp(addr)).hostname("my host"),
            "my host",
            "HOSTNAME",
        ),
        (fixed(Transport::Udp(addr)).hostname(""), "\"\"", "HOSTNAME"),
        (
            fixed(Transport::Udp(addr)).app_name("a".repeat(49)),
            "aaaa",
            "APP-NAME",
        ),
        (
            fixed(Transport::Udp(addr))
                .format(Format::Rfc3164)
                .app_name("a:b"),
            "a:b",
            "TAG",
        ),
        (
            fixed(Transport::Udp(addr)).msgid("x".repeat(33)),
            "xxx",
            "MSGID",
        ),
        (
            fixed(Transport::Udp(addr)).procid(ProcId::Fixed("é".into())),
            "é",
            "PROCID",
        ),
        (fixed(Transport::Udp(addr)).sd_id("meta"), "meta", "SD-ID"),
        (fixed(Transport::Udp(addr)).sd_id("a@b"), "a@b", "SD-ID"),
        (
            fixed(Transport::Udp(addr)).max_len(100),
            "100",
            "at least 480",
        ),
        (
            fixed(Transport::Udp(addr)).max_len(70_000),
            "70000",
            "65507",
        ),
        (
            fixed(Transport::Udp(addr)).write_timeout(Duration::ZERO),
            "write_timeout",
            "non-zero",
        ),
        (
            fixed(Transport::Udp(addr)).backoff(Duration::from_secs(2), Duration::from_secs(1)),
            "backoff",
            "at most the maximum",
        ),
        (
            fixed(Transport::Unix(format!("/{}", "d".repeat(120)).into())),
            "ddd",
            "107 bytes",
        ),
    ];
    for (b, value, rule) in cases {
        let err = b.build().unwrap_err().to_string();
        assert!(err.contains(value) && err.contains(rule), "{err}");
    }
}

#[test]
fn uris_parse_and_bad_ones_say_why() {
    let (_rx, addr) = udp_receiver();
    let mut s = Syslog::from_uri(&format!(
        "syslog+udp://{addr}?facility=local3&app=my%20app2&format=rfc3164&hostname=h&procid=7"
    ))
    .unwrap_err();
    // "my app2" has a space: the decoded value is reported.
    assert!(s.to_string().contains("my app2"), "{s}");
    let mut ok = Syslog::from_uri(&format!(
        "syslog+udp://{addr}/?facility=local3&app=myapp&format=3164&hostname=h&procid=7"
    ))
    .unwrap();
    assert_eq!(*ok.transport(), Transport::Udp(addr));
    assert_eq!(ok.facility(), Facility::Local3);
    assert_eq!(ok.format_kind(), Format::Rfc3164);
    assert_eq!(
        ok.encode(Severity::Alert, ts(), "m", &()),
        b"<153>Nov 26 11:31:01 h myapp[7]: m"
    );
    let ok = SyslogBuilder::from_uri("syslog+tcp://[::1]:6514?msgid=M&max_len=4KiB&timeout=250ms")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        *ok.transport(),
        Transport::Tcp(vec!["[::1]:6514".parse().unwrap()])
    );
    let ok = Syslog::from_uri("syslog+tcp://127.0.0.1").unwrap();
    assert_eq!(
        *ok.transport(),
        Transport::Tcp(vec!["127.0.0.1:514".parse().unwrap()])
    );
    for (uri, path) in [
        ("syslog+unix:///run/x.sock", "/run/x.sock"),
        ("syslog+unix:", "/dev/log"),
        ("syslog+unix://", "/dev/log"),
    ] {
        let b = SyslogBuilder::from_uri(uri).unwrap().build().unwrap();
        assert_eq!(*b.transport(), Transport::Unix(path.into()), "{uri}");
    }
    s = Syslog::from_uri("syslog+udp://127.0.0.1:514?format=json").unwrap_err();
    assert!(matches!(s, ConfigError::Invalid { .. }));
    for (uri, needle) in [
        ("http://x", "unknown scheme \"http\""),
        ("syslog+udp:127.0.0.1", "expected syslog+udp://HOST[:PORT]"),
        ("syslog+udp://127.0.0.1:99999", "port \"99999\""),
        ("syslog+udp://127.0.0.1:0", "port \"0\""),
        ("syslog+udp://::1:514", "brackets"),
        ("syslog+udp://:514", "no host"),
        ("syslog+udp://127.0.0.1?facility=local9", "local9"),
        ("syslog+udp://127.0.0.1?format=json", "json"),
        (
            "syslog+udp://127.0.0.1?color=red",
            "unknown query key \"color\"",
        ),
        ("syslog+udp://127.0.0.1?app=a&app=b", "given twice"),
        ("syslog+udp://127.0.0.1?app", "not key=value"),
        ("syslog+udp://127.0.0.1?app=%zz", "bad %-escape"),
        // `%` takes two hex digits: `%+a` is not 0x0a.
        ("syslog+udp://127.0.0.1?app=a%+ab", "bad %-escape"),
        ("syslog+unix:///run/a%+a.sock", "bad %-escape"),
        ("syslog+unix:///run/a%-1.sock", "bad %-escape"),
        ("syslog+udp://127.0.0.1?bom=maybe", "true or false"),
        ("syslog+udp://127.0.0.1?max_len=lots", "byte size"),
        ("syslog+udp://127.0.0.1?timeout=soon", "duration"),
        ("syslog+unix://host/dev/log", "no host"),
        ("syslog+unix:dev/log", "absolute"),
        ("syslog+udp://no-such-host.invalid:514", "did not resolve"),
    ] {
        let err = Syslog::from_uri(uri).unwrap_err().to_string();
        assert!(err.contains(needle), "{uri}: {err}");
    }
}

#[test]
fn default_hostname_and_app_name_come_from_the_system() {
    let (rx, addr) = udp_receiver();
    let mut s = Syslog::builder(Transport::Udp(addr)).build().unwrap();
    s.send(Severity::Informational, ts(), "m", &()).unwrap();
    let mut buf = [0u8; 2048];
    let n = rx.recv(&mut buf).unwrap();
    let text = std::str::from_utf8(&buf[..n]).unwrap();
    let parts: Vec<&str> = text.splitn(7, ' ').collect();
    let uname = rustix::system::uname();
    let host = uname.nodename().to_str().unwrap();
    assert_eq!(parts[0], "<14>1"); // user.info
    assert_eq!(parts[2], host);
    let exe = std::env::current_exe().unwrap();
    let exe = exe.file_name().unwrap().to_str().unwrap();
    assert_eq!(parts[3], &exe[..exe.len().min(48)]);
    assert_eq!(parts[4], std::process::id().to_string());
}

#[test]
fn unix_datagram_reconnects_when_the_daemon_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.sock");
    // No daemon yet: building succeeds, sends fail and are counted.
    let mut s = fixed(Transport::Unix(path.clone())).build().unwrap();
    assert!(!s.is_connected());
    let e = s.send(Severity::Error, ts(), "lost", &()).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::NotFound);

    let rx = UnixDatagram::bind(&path).unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.send(Severity::Error, ts(), "first", &[("n", "1")])
        .unwrap();
    let mut buf = [0u8; 8192];
    let n = rx.recv(&mut buf).unwrap();
    assert_eq!(
        &buf[..n],
        br#"<131>1 2025-11-26T11:31:01.123456Z host app 42 - [lethe@32473 n="1"] first"#
    );

    // The daemon restarts: its socket is removed and bound again at the same path.
    drop(rx);
    std::fs::remove_file(&path).unwrap();
    let rx = UnixDatagram::bind(&path).unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.send(Severity::Warning, ts(), "second", &()).unwrap();
    let n = rx.recv(&mut buf).unwrap();
    assert!(buf[..n].ends_with(b" second"));

    // Gone for good: the send fails, nothing panics.
    drop(rx);
    std::fs::remove_file(&path).unwrap();
    assert!(s.send(Severity::Warning, ts(), "third", &()).is_err());
    let st = s.stats();
    assert_eq!((st.sent, st.errors), (2, 2));
    assert_eq!(st.connects, 2);
    assert_eq!(st.disconnects, 2);
}

/// A monotonic clock the test moves by hand.
#[derive(Clone)]
struct Mono {
    base: Instant,
    offset_ms: Arc<AtomicU64>,
}

impl Mono {
    fn new() -> Mono {
        Mono {
            base: Instant::now(),
            offset_ms: Arc::new(AtomicU64::new(0)),
        }
    }
    fn advance_ms(&self, ms: u64) {
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
    fn now(&self) -> Instant {
        self.base + Duration::from_millis(self.offset_ms.load(Ordering::Relaxed))
    }
}

#[test]
fn tcp_reconnects_with_backoff_after_the_server_goes_away_and_comes_back() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mono = Mono::new();
    let clock = mono.clone();
    let mut s = fixed(Transport::Tcp(vec![addr]))
        .backoff(Duration::from_secs(1), Duration::from_secs(8))
        .monotonic_clock(move || clock.now())
        .build()
        .unwrap();
    s.send(Severity::Informational, ts(), "one", &()).unwrap();
    let (conn, _) = listener.accept().unwrap();
    let mut r = BufReader::new(conn);
    assert!(read_frame(&mut r).ends_with(b" one"));

    // The server goes away. The next send notices the closed connection before writing,
    // tries to reconnect at once, is refused, and starts the backoff.
    drop(r);
    drop(listener);
    let e = s
        .send(Severity::Informational, ts(), "two", &())
        .unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    assert!(!s.is_connected());

    // While the backoff runs (at least 0.5 s for the first failure), sends fail at once.
    let e = s
        .send(Severity::Informational, ts(), "three", &())
        .unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::NotConnected);
    mono.advance_ms(400);
    let e = s
        .send(Severity::Informational, ts(), "four", &())
        .unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::NotConnected);

    // Past the first delay (at most 1 s) with the server still down: one more refused
    // attempt, and the second delay is at least 1 s.
    mono.advance_ms(600);
    let e = s
        .send(Severity::Informational, ts(), "five", &())
        .unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
    mono.advance_ms(900);
    let e = s
        .send(Severity::Informational, ts(), "six", &())
        .unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::NotConnected);

    // The server comes back on the same port; after the second delay (at most 2 s) the
    // next send connects and is delivered.
    let listener = TcpListener::bind(addr).unwrap();
    mono.advance_ms(1100);
    s.send(Severity::Informational, ts(), "seven", &()).unwrap();
    let (conn, _) = listener.accept().unwrap();
    let mut r = BufReader::new(conn);
    assert!(read_frame(&mut r).ends_with(b" seven"));
    // The backoff was reset by the successful connect.
    s.send(Severity::Informational, ts(), "eight", &()).unwrap();
    assert!(read_frame(&mut r).ends_with(b" eight"));

    let st = s.stats();
    assert_eq!(st.sent, 3);
    assert_eq!(st.errors, 5);
    assert_eq!(st.not_connected, 3);
    assert_eq!(st.connects, 2);
    assert_eq!(st.disconnects, 1);
}

#[test]
fn tcp_write_to_a_stalled_server_times_out_instead_of_blocking() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mono = Mono::new();
    let clock = mono.clone();
    let mut s = fixed(Transport::Tcp(vec![addr]))
        .write_timeout(Duration::from_millis(100))
        .monotonic_clock(move || clock.now())
        .build()
        .unwrap();
    let msg = "z".repeat(8000);
    s.send(Severity::Debug, ts(), &msg, &()).unwrap();
    // The server accepts but never reads: socket buffers fill, then a write times out.
    let (_stalled, _): (TcpStream, _) = listener.accept().unwrap();
    let mut failed = None;
    for _ in 0..100_000 {
        if let Err(e) = s.send(Severity::Debug, ts(), &msg, &()) {
            failed = Some(e);
            break;
        }
    }
    let e = failed.expect("a server that never reads must make a send fail");
    assert!(
        matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ),
        "{e}"
    );
    // The half-written connection was dropped, and reconnecting waits out a backoff.
    assert!(!s.is_connected());
    let e = s.send(Severity::Debug, ts(), "after", &()).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::NotConnected);
    let st = s.stats();
    assert_eq!((st.errors, st.not_connected, st.disconnects), (2, 1, 1));
}

/// The reconnect backoff counts from when a connect failed, not from when it began: a
/// connect that hangs until its timeout (a server whose accept queue is full drops the
/// SYN, as a blackholed host does), with a backoff shorter than that timeout, must not be
/// followed at once by another hanging connect. (Real clock: the margin is a second.)
#[test]
fn tcp_backoff_counts_from_the_end_of_a_connect_that_timed_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Fill the accept queue (nothing is accepted): further connects hang.
    let mut held = Vec::new();
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            Ok(c) => held.push(c),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => break,
            Err(e) => {
                // tcp_abort_on_overflow makes a full queue refuse instead.
                support::skip(format!("a full accept queue does not hang a connect: {e}"));
                return;
            }
        }
        assert!(held.len() < 100_000, "the accept queue never filled");
    }
    let mut s = fixed(Transport::Tcp(vec![addr]))
        .connect_timeout(Duration::from_secs(3))
        .backoff(Duration::from_secs(2), Duration::from_secs(2))
        .build()
        .unwrap();
    let e = s.send(Severity::Error, ts(), "one", &()).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::TimedOut, "{e}");
    // The first delay is 1 to 2 s from the failure: the next send is refused at once.
    let e = s.send(Severity::Error, ts(), "two", &()).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::NotConnected, "{e}");
    let st = s.stats();
    assert_eq!((st.errors, st.not_connected, st.connects), (2, 1, 0));
    drop(held);
}

#[test]
fn level_mapping_and_facility_names() {
    let table = [
        ("trace", 7),
        ("debug", 7),
        ("info", 6),
        ("warn", 4),
        ("warning", 4),
        ("error", 3),
        ("fatal", 2),
        ("FATAL", 2),
    ];
    for (level, code) in table {
        assert_eq!(
            Severity::from_level_name(level).map(Severity::code),
            Some(code),
            "{level}"
        );
    }
    assert_eq!(Severity::from_level_name("critical"), None);
    for (i, s) in Severity::ALL.iter().enumerate() {
        assert_eq!(usize::from(s.code()), i);
        assert_eq!(Severity::from_code(s.code()), Some(*s));
    }
    assert_eq!(Severity::from_code(8), None);
    for (i, f) in Facility::ALL.iter().enumerate() {
        assert_eq!(usize::from(f.code()), i);
        assert_eq!(Facility::parse(f.keyword()), Some(*f));
        assert_eq!(Facility::parse(&i.to_string()), Some(*f));
    }
    assert_eq!(Facility::parse("LOCAL7"), Some(Facility::Local7));
    assert_eq!(Facility::parse("security"), Some(Facility::Auth));
    assert_eq!(Facility::parse("24"), None);
    assert_eq!(Facility::default(), Facility::User);
    // PRI bounds on the wire: kern.emerg = <0>, local7.debug = <191>.
    let (_rx, addr) = udp_receiver();
    for (f, s, pri) in [
        (Facility::Kern, Severity::Emergency, "<0>"),
        (Facility::Local7, Severity::Debug, "<191>"),
        (Facility::Mail, Severity::Warning, "<20>"),
    ] {
        let mut sys = fixed(Transport::Udp(addr)).facility(f).build().unwrap();
        assert!(sys.encode(s, ts(), "m", &()).starts_with(pri.as_bytes()));
    }
}

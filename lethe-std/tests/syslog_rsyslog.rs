//! Acceptance: a real rsyslogd, started by this test on loopback ports with its own
//! configuration, pid file and work directory, receives Lethe's RFC 5424 messages over UDP,
//! TCP (octet-counted) and a unix datagram socket, and RFC 3164 over UDP, with the right
//! severity, app-name, procid, msgid, structured data and text.
//!
//! Without rsyslogd installed the test prints `SKIP:` and passes; CI (`.ci/run`) installs
//! rsyslog, so it runs there.

use std::fs;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lethe_std::clock::{Clock, SystemClock};
use lethe_std::logger::{Field, Level, Logger};
use lethe_std::syslog::{Facility, Format, ProcId, Severity, Syslog, Transport};

mod support;

fn rsyslogd() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin".into(), "/sbin".into()]);
    dirs.into_iter()
        .map(|d| d.join("rsyslogd"))
        .find(|p| p.is_file())
}

/// Kills rsyslogd when the test ends, also on a failed assertion.
struct Daemon {
    child: Child,
    stderr: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    fn log(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether `/proc/net/{udp,tcp}` shows a socket bound to 127.0.0.1:`port` (for TCP: in
/// LISTEN state, `0A`).
fn bound(proto: &str, port: u16) -> bool {
    let want = format!("0100007F:{port:04X}");
    fs::read_to_string(format!("/proc/net/{proto}"))
        .unwrap_or_default()
        .lines()
        .skip(1)
        .any(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            cols.get(1) == Some(&want.as_str()) && (proto == "udp" || cols.get(3) == Some(&"0A"))
        })
}

fn wait_for(what: &str, daemon: &mut Daemon, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() {
        if let Ok(Some(status)) = daemon.child.try_wait() {
            panic!(
                "rsyslogd exited ({status}) before {what}:\n{}",
                daemon.log()
            );
        }
        assert!(
            Instant::now() < deadline,
            "rsyslogd: {what} not within 30 s:\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn start(dir: &Path, udp: u16, tcp: u16, sock: &Path) -> Daemon {
    let work = dir.join("work");
    fs::create_dir(&work).unwrap();
    let conf = dir.join("rsyslog.conf");
    let out = dir.join("out.log");
    let raw = dir.join("raw.log");
    fs::write(
        &conf,
        format!(
            r#"global(workDirectory="{work}")
module(load="imudp")
module(load="imtcp")
module(load="imuxsock" SysSock.Use="off")
input(type="imudp" address="127.0.0.1" port="{udp}")
input(type="imtcp" address="127.0.0.1" port="{tcp}")
input(type="imuxsock" Socket="{sock}" UseSpecialParser="off" ParseHostname="on" CreatePath="on")
template(name="fields" type="string" string="%syslogseverity% %syslogfacility-text% %app-name% %procid% %msgid% %structured-data% %msg:::drop-last-lf%\n")
template(name="raw" type="string" string="%rawmsg%\n")
*.* action(type="omfile" file="{out}" template="fields")
*.* action(type="omfile" file="{raw}" template="raw")
"#,
            work = work.display(),
            sock = sock.display(),
            out = out.display(),
            raw = raw.display(),
        ),
    )
    .unwrap();
    let stderr = dir.join("rsyslogd.stderr");
    let child = Command::new(rsyslogd().unwrap())
        .arg("-n")
        .arg("-f")
        .arg(&conf)
        .arg("-i")
        .arg(dir.join("rsyslogd.pid"))
        .stdin(Stdio::null())
        .stdout(fs::File::create(dir.join("rsyslogd.stdout")).unwrap())
        .stderr(fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let mut d = Daemon { child, stderr };
    wait_for("UDP input bound", &mut d, || bound("udp", udp));
    wait_for("TCP input listening", &mut d, || bound("tcp", tcp));
    wait_for("unix socket created", &mut d, || sock.exists());
    d
}

#[test]
fn rsyslog_receives_rfc5424_over_udp_tcp_and_unix() {
    if rsyslogd().is_none() {
        support::missing("rsyslogd not found (apt-get install rsyslog)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (udp, tcp) = (free_udp_port(), free_tcp_port());
    let sock = dir.path().join("log.sock");
    let mut daemon = start(dir.path(), udp, tcp, &sock);

    let make = |transport: Transport, app: &str, format: Format| {
        Syslog::builder(transport)
            .format(format)
            .facility(Facility::Local0)
            .app_name(app)
            .hostname("lethe-host")
            .procid(ProcId::Fixed("4242".into()))
            .msgid("M1")
            .build()
            .unwrap()
    };
    let mut senders = [
        (
            "udp",
            make(
                Transport::Udp(format!("127.0.0.1:{udp}").parse().unwrap()),
                "lethe-udp",
                Format::Rfc5424,
            ),
        ),
        (
            "tcp",
            make(
                Transport::Tcp(vec![format!("127.0.0.1:{tcp}").parse().unwrap()]),
                "lethe-tcp",
                Format::Rfc5424,
            ),
        ),
        (
            "unix",
            make(Transport::Unix(sock.clone()), "lethe-unix", Format::Rfc5424),
        ),
        (
            "bsd",
            make(
                Transport::Udp(format!("127.0.0.1:{udp}").parse().unwrap()),
                "lethe-bsd",
                Format::Rfc3164,
            ),
        ),
    ];

    let mut expected = Vec::new();
    for (name, s) in &mut senders {
        for level in ["trace", "debug", "info", "warn", "error", "fatal"] {
            let sev = Severity::from_level_name(level).unwrap();
            let text = format!("{name} {level} message");
            s.send(
                sev,
                SystemClock.now(),
                &text,
                &[("level", level), ("quote", r#"a"b]c\d"#)],
            )
            .unwrap();
            let app = format!("lethe-{name}");
            expected.push(if *name == "bsd" {
                // RFC 3164: no MSGID or SD; the fields follow the text. rsyslog keeps the
                // space after "TAG[PID]:" in %msg%, hence two spaces.
                format!(
                    r#"{} local0 {app} 4242 - -  {text} level="{level}" quote="a\"b]c\\d""#,
                    sev.code()
                )
            } else {
                format!(
                    r#"{} local0 {app} 4242 M1 [lethe@32473 level="{level}" quote="a\"b\]c\\d"] {text}"#,
                    sev.code()
                )
            });
        }
        assert_eq!(s.stats().sent, 6, "{name}");
        assert_eq!(s.stats().errors, 0, "{name}");
    }
    // Octet counting keeps a newline inside one TCP message (rsyslog shows it as #012).
    senders[1]
        .1
        .send(
            Severity::Notice,
            SystemClock.now(),
            "line one\nline two",
            &(),
        )
        .unwrap();
    expected.push("5 local0 lethe-tcp 4242 M1 - line one#012line two".to_owned());

    let lines = wait_for_lines(dir.path(), &mut daemon, &expected);
    // Each message arrived exactly once.
    for e in &expected {
        let n = lines.iter().filter(|l| l.ends_with(e.as_str())).count();
        assert_eq!(n, 1, "{e} logged {n} times:\n{lines:#?}");
    }
    assert_eq!(lines.len(), expected.len(), "{lines:#?}");
    // The raw 5424 form rsyslog received over UDP.
    let raw = fs::read_to_string(dir.path().join("raw.log")).unwrap();
    assert!(
        raw.lines().any(|l| l.starts_with("<131>1 ")
            && l.contains(" lethe-host lethe-udp 4242 M1 [lethe@32473 level=\"error\"")),
        "{raw}"
    );
    drop(daemon);
}

/// Polls rsyslogd's output until every `expected` line has arrived (30 s at most).
fn wait_for_lines(dir: &Path, daemon: &mut Daemon, expected: &[String]) -> Vec<String> {
    let out = dir.join("out.log");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = fs::read_to_string(&out).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        if expected
            .iter()
            .all(|e| lines.iter().any(|l| l.ends_with(e.as_str())))
        {
            return lines;
        }
        if let Ok(Some(status)) = daemon.child.try_wait() {
            panic!("rsyslogd exited ({status}):\n{}", daemon.log());
        }
        if Instant::now() > deadline {
            let missing: Vec<&String> = expected
                .iter()
                .filter(|e| !lines.iter().any(|l| l.ends_with(e.as_str())))
                .collect();
            panic!(
                "rsyslogd did not log within 30 s; missing {missing:#?}\nreceived:\n{text}\nraw:\n{}\nrsyslogd:\n{}",
                fs::read_to_string(dir.join("raw.log")).unwrap_or_default(),
                daemon.log()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The structured logger's `syslog+udp` and `syslog+tcp` destinations (URIs from the
/// default registry) reach a real rsyslogd with the level's severity, the app-name and
/// facility from the URI, and the formatted record as the message.
#[test]
fn logger_destinations_reach_rsyslog_through_syslog_uris() {
    if rsyslogd().is_none() {
        support::missing("rsyslogd not found (apt-get install rsyslog)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (udp, tcp) = (free_udp_port(), free_tcp_port());
    let sock = dir.path().join("log.sock");
    let daemon = start(dir.path(), udp, tcp, &sock);
    let log = Logger::builder()
        .level(Level::Trace)
        .destination_uri(&format!(
            "syslog+udp://127.0.0.1:{udp}?app=logger-udp&facility=local1&procid=-&rfc=5424&format=logfmt&name=udp"
        ))
        .unwrap()
        .destination_uri(&format!(
            "syslog+tcp://127.0.0.1:{tcp}?app=logger-tcp&facility=local1&procid=-&rfc=5424&format=logfmt&name=tcp"
        ))
        .unwrap()
        .build()
        .unwrap();
    let levels = [
        (Level::Trace, 7),
        (Level::Debug, 7),
        (Level::Info, 6),
        (Level::Warn, 4),
        (Level::Error, 3),
        (Level::Fatal, 2),
    ];
    for (level, _) in levels {
        log.log(
            level,
            &format!("logged at {level}"),
            &[Field::new("user", "ada")],
        );
    }
    log.shutdown(Duration::from_secs(10)).unwrap();
    // The metrics keep the destinations that shutdown closed, with their final counters.
    let m = log.metrics();
    let names: Vec<&str> = m.destinations.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["udp", "tcp"], "{m:?}");
    for d in &m.destinations {
        assert_eq!(
            (d.records, d.errors, d.dropped, d.lost),
            (levels.len() as u64, 0, 0, 0),
            "{d:?}"
        );
    }
    // Two destinations, six records each.
    let out = dir.path().join("out.log");
    let deadline = Instant::now() + Duration::from_secs(30);
    let lines = loop {
        let text = fs::read_to_string(&out).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        if lines.len() >= 2 * levels.len() || Instant::now() > deadline {
            break lines;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        lines.len(),
        2 * levels.len(),
        "{lines:#?}\n{}",
        daemon.log()
    );
    // Each (severity, app) pair arrived once, with the logfmt record as MSG.
    for (level, code) in levels {
        for app in ["logger-udp", "logger-tcp"] {
            let prefix = format!("{code} local1 {app} - - - ");
            let n = lines
                .iter()
                .filter(|l| {
                    l.starts_with(&prefix)
                        && l.contains(&format!("level={level}"))
                        && l.contains(&format!("msg=\"logged at {level}\""))
                        && l.contains("user=ada")
                })
                .count();
            assert_eq!(n, 1, "{prefix} level={level}: {lines:#?}");
        }
    }
    drop(daemon);
}

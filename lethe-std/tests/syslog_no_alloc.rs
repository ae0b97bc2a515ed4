//! `Syslog::send` allocates nothing once warm: a counting global allocator counts the
//! allocations of the calling thread while it sends thousands of messages with structured
//! fields over UDP, TCP and a unix datagram socket, in both formats, including messages
//! that are truncated. (Receiver threads may allocate; they are not counted.)

use std::fmt::Display;
use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use lethe_core::civil::UnixTime;
use lethe_std::syslog::{Format, Severity, Syslog, Transport};

mod support;

use support::alloc::{Counting, allocations};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Sends `n` messages of varying length with three fields, the last one oversized.
fn burst(s: &mut Syslog, n: u32, long: &str) {
    let status: u16 = 200;
    for i in 0..n {
        let latency = f64::from(i % 977) / 10.0;
        let fields: [(&str, &dyn Display); 3] = [
            ("request", &i),
            ("status", &status),
            ("latency_ms", &latency),
        ];
        let t = UnixTime::new(1_764_156_661 + i64::from(i), i * 1_000).unwrap();
        let msg = if i % 100 == 99 {
            long
        } else {
            &long[..(i % 200) as usize]
        };
        s.send(Severity::Informational, t, msg, &fields).unwrap();
    }
}

#[test]
fn send_allocates_nothing_after_warm_up() {
    assert_eq!(allocations(|| drop(std::hint::black_box(vec![1u8; 8]))), 1);
    let udp_rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let udp = Transport::Udp(udp_rx.local_addr().unwrap());

    let tcp_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp = Transport::Tcp(vec![tcp_listener.local_addr().unwrap()]);
    let drain = std::thread::spawn(move || {
        let (mut c, _) = tcp_listener.accept().unwrap();
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0usize;
        loop {
            match c.read(&mut buf) {
                Ok(0) | Err(_) => return total,
                Ok(n) => total += n,
            }
        }
    });

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.sock");
    let unix_rx = UnixDatagram::bind(&path).unwrap();
    unix_rx
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let unix_drain = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        let mut count = 0u32;
        while let Ok(n) = unix_rx.recv(&mut buf) {
            if &buf[..n] == b"END" {
                break;
            }
            count += 1;
        }
        count
    });

    let long = "x".repeat(9000);
    let mut tcp_bytes = 0;
    for (transport, format) in [
        (udp.clone(), Format::Rfc5424),
        (udp, Format::Rfc3164),
        (tcp, Format::Rfc5424),
        (Transport::Unix(path), Format::Rfc5424),
    ] {
        let mut s = Syslog::builder(transport.clone())
            .format(format)
            .app_name("bench")
            // The unix receiver is a thread of this busy test: give it time to keep up.
            .write_timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        burst(&mut s, 200, &long); // warm-up: the buffer grows to the largest message
        let n = allocations(|| burst(&mut s, 5_000, &long));
        assert_eq!(
            n, 0,
            "{transport} {format:?}: {n} allocations in 5 000 sends"
        );
        let st = s.stats();
        assert_eq!(st.sent, 5_200);
        assert_eq!(st.errors, 0);
        assert_eq!(st.truncated, 52);
        if matches!(transport, Transport::Tcp(_)) {
            tcp_bytes = st.bytes;
        }
    }
    // Everything the TCP sender counted reached the server.
    assert_eq!(drain.join().unwrap() as u64, tcp_bytes);
    let end = UnixDatagram::unbound().unwrap();
    end.send_to(b"END", dir.path().join("log.sock")).unwrap();
    assert_eq!(unix_drain.join().unwrap(), 5_200);
}

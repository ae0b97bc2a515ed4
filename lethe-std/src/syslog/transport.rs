//! The three transports: unix datagram, UDP and TCP, each with its reconnect rules.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec, poll};

use super::config::Now;
pub(crate) use crate::backoff::Backoff;

/// Connection counters kept by every transport.
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct ConnCounters {
    /// Successful connects (unix, TCP) or socket creations (UDP).
    pub(crate) connects: u64,
    /// Connections found broken and dropped.
    pub(crate) disconnects: u64,
    /// Sends refused at once because TCP is waiting out its backoff.
    pub(crate) not_connected: u64,
}

pub(crate) enum Conn {
    Unix(UnixConn),
    Udp(UdpConn),
    Tcp(TcpConn),
}

impl Conn {
    /// Sends one message (for TCP: one octet-counted frame). `Ok` means the kernel took
    /// all of it.
    pub(crate) fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        match self {
            Conn::Unix(c) => c.send(msg),
            Conn::Udp(c) => c.send(msg),
            Conn::Tcp(c) => c.send(msg),
        }
    }

    pub(crate) fn counters(&self) -> ConnCounters {
        match self {
            Conn::Unix(c) => c.counters,
            Conn::Udp(c) => c.counters,
            Conn::Tcp(c) => c.counters,
        }
    }

    pub(crate) fn is_connected(&self) -> bool {
        match self {
            Conn::Unix(c) => c.sock.is_some(),
            Conn::Udp(c) => c.sock.is_some(),
            Conn::Tcp(c) => c.stream.is_some(),
        }
    }
}

/// Errors after which a unix datagram socket is reconnected: the receiver went away (its
/// socket file was removed, or a new daemon bound a new socket at the same path).
fn peer_gone(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::NotFound
            | io::ErrorKind::NotConnected
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
    )
}

pub(crate) struct UnixConn {
    path: PathBuf,
    sock: Option<UnixDatagram>,
    write_timeout: Duration,
    counters: ConnCounters,
}

impl UnixConn {
    pub(crate) fn new(path: PathBuf, write_timeout: Duration) -> UnixConn {
        let mut c = UnixConn {
            path,
            sock: None,
            write_timeout,
            counters: ConnCounters::default(),
        };
        // Connect now if the socket is there; otherwise the first send tries again.
        let _ = c.connect();
        c
    }

    fn connect(&mut self) -> io::Result<&UnixDatagram> {
        let s = UnixDatagram::unbound()?;
        s.connect(&self.path)?;
        // A full receive queue blocks a unix datagram sender: bound it.
        s.set_write_timeout(Some(self.write_timeout))?;
        self.counters.connects += 1;
        Ok(self.sock.insert(s))
    }

    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        if let Some(s) = &self.sock {
            match s.send(msg) {
                Ok(_) => return Ok(()),
                Err(e) if !peer_gone(&e) => return Err(e),
                Err(_) => {
                    self.sock = None;
                    self.counters.disconnects += 1;
                }
            }
        }
        // Not connected, or the receiver went away: one fresh connect and one retry. A
        // connect is a cheap local syscall, so there is no backoff.
        self.connect()?.send(msg).map(drop)
    }
}

pub(crate) struct UdpConn {
    addr: SocketAddr,
    sock: Option<UdpSocket>,
    write_timeout: Duration,
    counters: ConnCounters,
}

impl UdpConn {
    pub(crate) fn new(addr: SocketAddr, write_timeout: Duration) -> UdpConn {
        let mut c = UdpConn {
            addr,
            sock: None,
            write_timeout,
            counters: ConnCounters::default(),
        };
        let _ = c.open();
        c
    }

    fn open(&mut self) -> io::Result<&UdpSocket> {
        let local: SocketAddr = match self.addr {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let s = UdpSocket::bind(local)?;
        s.connect(self.addr)?;
        s.set_write_timeout(Some(self.write_timeout))?;
        self.counters.connects += 1;
        Ok(self.sock.insert(s))
    }

    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        let s = match &self.sock {
            Some(s) => s,
            None => self.open()?,
        };
        // An ICMP "port unreachable" for an earlier datagram surfaces here as
        // ConnectionRefused; the socket stays usable, so it is kept.
        s.send(msg).map(drop)
    }
}

pub(crate) struct TcpConn {
    addrs: Vec<SocketAddr>,
    stream: Option<TcpStream>,
    connect_timeout: Duration,
    write_timeout: Duration,
    backoff: Backoff,
    /// While disconnected: no connect attempt before this instant.
    retry_at: Option<Instant>,
    now: Now,
    counters: ConnCounters,
}

impl TcpConn {
    pub(crate) fn new(
        addrs: Vec<SocketAddr>,
        connect_timeout: Duration,
        write_timeout: Duration,
        backoff: Backoff,
        now: Now,
    ) -> TcpConn {
        TcpConn {
            addrs,
            stream: None,
            connect_timeout,
            write_timeout,
            backoff,
            retry_at: None,
            now,
            counters: ConnCounters::default(),
        }
    }

    fn connect(&mut self) -> io::Result<()> {
        let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to");
        for addr in &self.addrs {
            match TcpStream::connect_timeout(addr, self.connect_timeout) {
                Ok(s) => {
                    s.set_write_timeout(Some(self.write_timeout))?;
                    self.stream = Some(s);
                    self.counters.connects += 1;
                    self.backoff.reset();
                    self.retry_at = None;
                    return Ok(());
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn drop_stream(&mut self) {
        if self.stream.take().is_some() {
            self.counters.disconnects += 1;
        }
    }

    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        if self.stream.as_ref().is_some_and(peer_closed) {
            // The server closed or reset the connection since the last message (a restart,
            // an idle timeout). Writing would "succeed" into a dead socket and lose the
            // message, so reconnect first, at once.
            self.drop_stream();
            self.retry_at = None;
        }
        if self.stream.is_none() {
            let now = (self.now)();
            if self.retry_at.is_some_and(|at| now < at) {
                // Fail fast: no blocking, no hidden buffer. The caller counts the loss.
                self.counters.not_connected += 1;
                return Err(io::ErrorKind::NotConnected.into());
            }
            if let Err(e) = self.connect() {
                // From the failure, not from `now`: a connect can take its whole timeout
                // (per address), which may be longer than the delay.
                self.retry_at = Some((self.now)() + self.backoff.next_delay());
                return Err(e);
            }
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        match write_all_within(stream, frame, self.write_timeout) {
            Ok(()) => Ok(()),
            Err(e) => {
                // Part of the frame may be on the wire: the stream's framing is lost, so
                // the connection goes. A reset peer is retried at once; a stalled one
                // (timeout) waits out a backoff so that each message does not pay the
                // whole timeout again.
                self.drop_stream();
                self.retry_at = match e.kind() {
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                        Some((self.now)() + self.backoff.next_delay())
                    }
                    _ => None,
                };
                Err(e)
            }
        }
    }
}

/// Whether the server closed the connection. A syslog server never sends data, so a
/// readable socket means end of stream or an error (data, if any, is read and dropped).
fn peer_closed(s: &TcpStream) -> bool {
    let zero = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let mut fds = [PollFd::new(s, PollFlags::IN)];
    match poll(&mut fds, Some(&zero)) {
        Ok(0) => false,
        Ok(_) => {
            let ev = fds[0].revents();
            if ev.intersects(PollFlags::ERR | PollFlags::HUP | PollFlags::NVAL) {
                return true;
            }
            // Readable: EOF, or bytes the server sent. `read` does not block here.
            let mut sink = [0u8; 256];
            let mut r: &TcpStream = s;
            !matches!(r.read(&mut sink), Ok(n) if n > 0)
        }
        Err(_) => true,
    }
}

/// `write_all`, bounded in total by `timeout` (the socket's own `SO_SNDTIMEO` bounds each
/// `write`; the deadline bounds a peer that accepts a trickle).
fn write_all_within(s: &mut TcpStream, mut buf: &[u8], timeout: Duration) -> io::Result<()> {
    let mut deadline: Option<Instant> = None;
    while !buf.is_empty() {
        match s.write(buf) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        if buf.is_empty() {
            break;
        }
        // A partial write: from now on, count against the deadline.
        let d = *deadline.get_or_insert_with(|| Instant::now() + timeout);
        let left = d.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        s.set_write_timeout(Some(left))?;
    }
    if deadline.is_some() {
        s.set_write_timeout(Some(timeout))?;
    }
    Ok(())
}

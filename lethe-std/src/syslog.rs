//! A syslog sender: RFC 5424 or RFC 3164 messages over a unix datagram socket, UDP, or
//! TCP with octet-counting framing.
//!
//! [`Syslog`] formats each message straight into a buffer it reuses, so a send allocates
//! nothing once the buffer has grown to the largest message, and hands it to the
//! transport with one syscall (plus, for TCP, a zero-timeout `poll` that notices a server
//! that closed the connection).
//!
//! ```no_run
//! use lethe_std::clock::{Clock, SystemClock};
//! use lethe_std::syslog::{Severity, Syslog};
//!
//! let mut syslog = Syslog::from_uri("syslog+udp://127.0.0.1:514?facility=local0&app=myapp")?;
//! syslog.send(
//!     Severity::Informational,
//!     SystemClock.now(),
//!     "user logged in",
//!     &[("user", "alice"), ("from", "10.0.0.7")],
//! )?;
//! // <134>1 2026-11-26T11:31:01.123456Z myhost myapp 4242 - [lethe@32473 user="alice" from="10.0.0.7"] user logged in
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Delivery guarantees
//!
//! - `Ok` means the kernel accepted the whole message; it says nothing about the receiver.
//! - **UDP** may lose messages without any error (a full receive buffer, a lost packet, no
//!   server at all). An ICMP "port unreachable" for an earlier datagram can surface as a
//!   `ConnectionRefused` error on a later send.
//! - **Unix datagram**: a send blocks at most the write timeout when the daemon's queue
//!   is full, then fails. If the daemon went away (its socket was removed or recreated),
//!   the sender reconnects and retries once within the same send.
//! - **TCP**: each message is one `LEN SP MSG` frame (RFC 6587 §3.4.1), so messages may
//!   contain newlines. Before each write the sender checks, without blocking, whether the
//!   server closed the connection, and if so reconnects at once. A failed connect starts
//!   an exponential backoff with jitter ([`SyslogBuilder::backoff`]), counted from the
//!   failure (a connect may take its whole timeout); **while waiting it
//!   out, sends fail at once with `ErrorKind::NotConnected`** and are counted in
//!   [`SyslogStats::not_connected`]: nothing is buffered behind the caller's back. A
//!   send blocks at most one connect timeout per address of the destination, plus, on a
//!   server that stops reading, twice the write timeout (one for the first `write`, one
//!   for the rest of a partly written frame). A write that fails or times out closes the
//!   connection (part of a frame may have been sent).
//!   As with any TCP syslog without application-level acknowledgement, messages that the
//!   kernel accepted just before a connection broke can still be lost.
//! - Messages longer than [`SyslogBuilder::max_len`] are cut at a UTF-8 boundary of the
//!   text and counted in [`SyslogStats::truncated`]. If the structured data alone does
//!   not fit, it is dropped from that message (and the message is counted as truncated).
//! - Nothing here panics on bad input or I/O errors; errors are returned and counted.

mod config;
mod encode;
mod severity;
mod transport;

use std::fmt;
use std::io;

use lethe_core::civil::UnixTime;

pub use config::{
    ConfigError, DEFAULT_PORT, DEFAULT_UNIX_PATH, Format, MAX_UDP_PAYLOAD, MIN_MAX_LEN, ProcId,
    SyslogBuilder, Transport,
};
pub use encode::SdParams;
pub use severity::{Facility, Severity};

use encode::Encoder;
use transport::Conn;

/// The byte that two hex digits (a percent-escape's `XX`) stand for; `None` unless both
/// are ASCII hex digits (`u8::from_str_radix` would also take `+a`).
pub(crate) fn hex_byte(h: &[u8]) -> Option<u8> {
    let digit = |c: u8| char::from(c).to_digit(16);
    match h {
        [hi, lo] => Some((digit(*hi)? * 16 + digit(*lo)?) as u8),
        _ => None,
    }
}

/// Bytes reserved at the front of the buffer for TCP's decimal length and its space.
const PREFIX: usize = 21;

/// Counters of one [`Syslog`]. Every send that returns `Err` is in `errors`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyslogStats {
    /// Messages the kernel accepted.
    pub sent: u64,
    /// Bytes of those messages, including TCP's length prefixes.
    pub bytes: u64,
    /// Messages cut to `max_len` (they were sent, shortened).
    pub truncated: u64,
    /// Sends that returned an error (the message was not sent).
    pub errors: u64,
    /// Of `errors`: TCP sends refused at once because the sender was disconnected and
    /// waiting out its reconnect backoff.
    pub not_connected: u64,
    /// Connections established (unix, TCP) or sockets opened (UDP), the first included.
    pub connects: u64,
    /// Connections found broken and dropped.
    pub disconnects: u64,
}

/// A syslog sender for one destination. See the [module docs](self) for its guarantees.
///
/// Single-owner (`&mut self`): a logger calls it from the thread that drains its queue.
pub struct Syslog {
    transport: Transport,
    encoder: Encoder,
    conn: Conn,
    buf: Vec<u8>,
    sent: u64,
    bytes: u64,
    truncated: u64,
    errors: u64,
}

impl fmt::Debug for Syslog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Syslog")
            .field("transport", &self.transport)
            .field("format", &self.encoder.format)
            .field("facility", &self.encoder.facility)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Syslog {
    /// A builder for `transport`; see [`SyslogBuilder`] for the defaults.
    pub fn builder(transport: Transport) -> SyslogBuilder {
        SyslogBuilder::new(transport)
    }

    /// Builds a sender from a URI such as
    /// `syslog+udp://127.0.0.1:514?facility=local0&app=myapp&format=5424`; see
    /// [`SyslogBuilder::from_uri`] for the grammar.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the bad part of the URI and the rule it breaks.
    pub fn from_uri(uri: &str) -> Result<Syslog, ConfigError> {
        SyslogBuilder::from_uri(uri)?.build()
    }

    pub(crate) fn from_parts(transport: Transport, encoder: Encoder, conn: Conn) -> Syslog {
        // Sized for typical messages; it grows (once) to the largest one actually sent.
        let cap = PREFIX + encoder.max_len.min(1 << 16) + 64;
        Syslog {
            transport,
            encoder,
            conn,
            buf: Vec::with_capacity(cap),
            sent: 0,
            bytes: 0,
            truncated: 0,
            errors: 0,
        }
    }

    /// Formats one message and sends it.
    ///
    /// `timestamp` is the time of the event (UTC). `fields` become the structured data
    /// (RFC 5424) or trailing `key="value"` pairs (RFC 3164); pass `&()` for none.
    ///
    /// # Errors
    ///
    /// The transport's I/O error; for TCP while waiting out a reconnect backoff,
    /// `ErrorKind::NotConnected` at once. Either way the message was not sent and
    /// [`SyslogStats::errors`] counts it.
    pub fn send<P: SdParams + ?Sized>(
        &mut self,
        severity: Severity,
        timestamp: UnixTime,
        message: &str,
        fields: &P,
    ) -> io::Result<()> {
        let start = self.format(severity, timestamp, message, fields);
        let frame = &self.buf[start..];
        match self.conn.send(frame) {
            Ok(()) => {
                self.sent += 1;
                self.bytes += frame.len() as u64;
                Ok(())
            }
            Err(e) => {
                self.errors += 1;
                Err(e)
            }
        }
    }

    /// Formats one message as [`send`](Self::send) would and returns the bytes it would
    /// write: for TCP the whole frame (`LEN SP MSG`), for the datagram transports the
    /// message. Nothing is sent and no counter moves except
    /// [`truncated`](SyslogStats::truncated).
    pub fn encode<P: SdParams + ?Sized>(
        &mut self,
        severity: Severity,
        timestamp: UnixTime,
        message: &str,
        fields: &P,
    ) -> &[u8] {
        let start = self.format(severity, timestamp, message, fields);
        &self.buf[start..]
    }

    /// Formats into `self.buf`; returns where the bytes to send start.
    fn format<P: SdParams + ?Sized>(
        &mut self,
        severity: Severity,
        timestamp: UnixTime,
        message: &str,
        fields: &P,
    ) -> usize {
        self.buf.clear();
        self.buf.resize(PREFIX, b' ');
        let e = self
            .encoder
            .encode(&mut self.buf, severity, timestamp, message, fields);
        if e.truncated {
            self.truncated += 1;
        }
        if !matches!(self.conn, Conn::Tcp(_)) {
            return PREFIX;
        }
        // Octet counting: the decimal length of the message, then a space, written right
        // before the message in the space reserved for it.
        let len = self.buf.len() - PREFIX;
        let mut digits = [0u8; 20];
        let i = crate::decimal::u64_digits(len as u64, &mut digits);
        let digits = &digits[i..];
        let start = PREFIX - 1 - digits.len();
        self.buf[start..PREFIX - 1].copy_from_slice(digits);
        self.buf[PREFIX - 1] = b' ';
        start
    }

    /// The counters.
    pub fn stats(&self) -> SyslogStats {
        let c = self.conn.counters();
        SyslogStats {
            sent: self.sent,
            bytes: self.bytes,
            truncated: self.truncated,
            errors: self.errors,
            not_connected: c.not_connected,
            connects: c.connects,
            disconnects: c.disconnects,
        }
    }

    /// Whether a socket is currently open (for TCP: connected; it may still turn out to be
    /// closed by the server at the next send).
    pub fn is_connected(&self) -> bool {
        self.conn.is_connected()
    }

    /// The destination.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The message format.
    pub fn format_kind(&self) -> Format {
        self.encoder.format
    }

    /// The facility.
    pub fn facility(&self) -> Facility {
        self.encoder.facility
    }
}

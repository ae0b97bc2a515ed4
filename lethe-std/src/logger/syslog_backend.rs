//! [`SyslogBackend`]: the logger's destinations on the [`syslog`](crate::syslog) transport,
//! and the `syslog+unix`, `syslog+udp` and `syslog+tcp` URI schemes.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;

use super::backend::Backend;
use super::destination::Destination;
use super::level::Level;
use super::uri::{Uri, UriError};
use crate::clock::{Clock, SystemClock};
use crate::syslog::{Format, Severity, Syslog, SyslogBuilder};

/// A [`Backend`] that sends each record as one syslog message.
///
/// The record's level becomes the severity (trace and debug → debug, info →
/// informational, warn → warning, error → error, fatal → critical); the formatted record,
/// without its line terminator, is the MSG; the header's TIMESTAMP is the time of delivery
/// (the record's own time is in the MSG when the formatter writes one). Facility,
/// APP-NAME/TAG, hostname, format (RFC 5424 or 3164) and transport come from the
/// [`Syslog`] sender, whose guarantees (UDP may lose, TCP reconnects with backoff and
/// fails fast while disconnected) are described in [`crate::syslog`]. A failed send is
/// returned, so the logger counts it against the destination and, if configured, hands
/// the record to its fallback.
#[derive(Debug)]
pub struct SyslogBackend {
    syslog: Syslog,
}

impl SyslogBackend {
    /// Sends records through `syslog`.
    pub fn new(syslog: Syslog) -> SyslogBackend {
        SyslogBackend { syslog }
    }

    /// The sender, for its [`stats`](Syslog::stats).
    pub fn syslog(&self) -> &Syslog {
        &self.syslog
    }
}

/// The syslog severity of a logger level.
pub fn severity(level: Level) -> Severity {
    match level {
        Level::Trace | Level::Debug => Severity::Debug,
        Level::Info => Severity::Informational,
        Level::Warn => Severity::Warning,
        Level::Error => Severity::Error,
        Level::Fatal => Severity::Critical,
    }
}

impl Backend for SyslogBackend {
    fn write(&mut self, level: Level, record: &[u8]) -> io::Result<()> {
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        let record = record.strip_suffix(b"\r").unwrap_or(record);
        // Formatters write UTF-8; anything else is replaced, not dropped (borrowed, so no
        // allocation, in the valid case).
        let message: Cow<'_, str> = String::from_utf8_lossy(record);
        self.syslog
            .send(severity(level), SystemClock.now(), &message, &())
    }

    /// The sender's [`SyslogStats::truncated`](crate::syslog::SyslogStats::truncated):
    /// records longer than its `max_len`, sent cut short.
    fn truncated(&self) -> u64 {
        self.syslog.stats().truncated
    }
}

/// The factory behind the `syslog+unix`, `syslog+udp` and `syslog+tcp` schemes of
/// [`Registry::new`](super::Registry::new).
///
/// The URI is the sender's ([`SyslogBuilder::from_uri`](crate::syslog::SyslogBuilder::from_uri):
/// `syslog+udp://127.0.0.1:514?facility=local0&app=myapp`), except that the logger's
/// common `format` key (`json`, `text`, `logfmt`) chooses the record's formatter, so the
/// syslog wire format is chosen with `rfc=5424` or `rfc=3164`.
pub(crate) fn syslog_destination(uri: &mut Uri) -> Result<Destination, UriError> {
    let mut text = format!("{}://", uri.scheme);
    if let Some(authority) = &uri.authority {
        text.push_str(authority);
    }
    for segment in uri.path.split_inclusive('/') {
        let (name, slash) = match segment.strip_suffix('/') {
            Some(name) => (name, "/"),
            None => (segment, ""),
        };
        encode_into(&mut text, name);
        text.push_str(slash);
    }
    // The wire format is `rfc` here (the sender's URI calls it `format`, which the
    // registry took as the formatter): read it here, so that errors name `rfc`.
    let rfc = match uri.take("rfc") {
        None => None,
        Some(v) => Some(match v.to_ascii_lowercase().as_str() {
            "5424" | "rfc5424" => Format::Rfc5424,
            "3164" | "rfc3164" => Format::Rfc3164,
            _ => {
                return Err(uri.error(format!(
                    "rfc {v:?} is invalid: expected 5424, rfc5424, 3164 or rfc3164"
                )));
            }
        }),
    };
    if let Some((key, _)) = uri
        .query
        .iter()
        .find(|(k, _)| !SYSLOG_KEYS.contains(&k.as_str()))
    {
        return Err(uri.error(format!(
            "unknown query key {key:?} for scheme {:?}; known: name, level, format, delivery, max_wait, rfc, {}",
            uri.scheme,
            SYSLOG_KEYS.join(", ")
        )));
    }
    for (i, (key, value)) in uri.query.drain(..).enumerate() {
        text.push(if i == 0 { '?' } else { '&' });
        encode_into(&mut text, &key);
        text.push('=');
        encode_into(&mut text, &value);
    }
    let mut builder = SyslogBuilder::from_uri(&text).map_err(|e| uri.error(e))?;
    if let Some(rfc) = rfc {
        builder = builder.format(rfc);
    }
    let syslog = builder.build().map_err(|e| uri.error(e))?;
    Ok(Destination::backend(
        &uri.scheme,
        SyslogBackend::new(syslog),
    ))
}

/// The sender's URI keys a syslog destination's URI passes on (`format` is `rfc` here).
const SYSLOG_KEYS: [&str; 11] = [
    "facility", "app", "app_name", "tag", "hostname", "procid", "msgid", "sd_id", "bom", "max_len",
    "timeout",
];

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode_into(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_to_the_documented_severities() {
        for level in [
            Level::Trace,
            Level::Debug,
            Level::Info,
            Level::Warn,
            Level::Error,
            Level::Fatal,
        ] {
            assert_eq!(
                Some(severity(level)),
                Severity::from_level_name(level.as_str()),
                "{level}"
            );
        }
    }

    /// Errors about the wire format name `rfc`, the key the user wrote (the sender's
    /// own URI calls it `format`, which here is the formatter), and an unknown key is
    /// reported with the keys a syslog destination takes.
    #[test]
    fn errors_name_the_keys_of_the_destination_uri() {
        let r = super::super::Registry::new();
        let e = r
            .open("syslog+udp://127.0.0.1:514?rfc=9999")
            .unwrap_err()
            .to_string();
        assert!(e.contains("rfc \"9999\" is invalid"), "{e}");
        assert!(!e.contains("format"), "{e}");
        let e = r
            .open("syslog+udp://127.0.0.1:514?colour=red")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown query key \"colour\""), "{e}");
        assert!(e.contains("rfc, facility"), "{e}");
        // rfc=3164 is honoured, with the sender's other keys.
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let uri = format!(
            "syslog+udp://{}?rfc=RFC3164&app=shop&hostname=h&procid=-&format=text",
            rx.local_addr().unwrap()
        );
        let log = super::super::Logger::builder()
            .destination(r.open(&uri).unwrap())
            .build()
            .unwrap();
        log.error("payment failed", &[]);
        log.shutdown(std::time::Duration::from_secs(10)).unwrap();
        let mut buf = [0u8; 2048];
        let n = rx.recv(&mut buf).unwrap();
        let msg = String::from_utf8_lossy(&buf[..n]);
        // <PRI>Mmm dd hh:mm:ss HOST TAG: MSG, the MSG being the text formatter's line.
        assert!(msg.starts_with("<11>"), "{msg}");
        assert!(msg.contains(" h shop: "), "{msg}");
        assert!(msg.ends_with("ERROR payment failed"), "{msg}");
    }

    #[test]
    fn query_values_are_encoded_back() {
        let mut s = String::new();
        encode_into(&mut s, "my app&x=1%");
        assert_eq!(s, "my%20app%26x%3D1%25");
    }
}

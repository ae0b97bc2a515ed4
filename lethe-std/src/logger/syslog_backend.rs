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
use crate::syslog::{Severity, Syslog};

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
    for (i, (key, value)) in uri.query.drain(..).enumerate() {
        let key = if key == "rfc" {
            "format".to_owned()
        } else {
            key
        };
        text.push(if i == 0 { '?' } else { '&' });
        encode_into(&mut text, &key);
        text.push('=');
        encode_into(&mut text, &value);
    }
    let syslog = Syslog::from_uri(&text).map_err(|e| uri.error(e))?;
    Ok(Destination::backend(
        &uri.scheme,
        SyslogBackend::new(syslog),
    ))
}

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

    #[test]
    fn query_values_are_encoded_back() {
        let mut s = String::new();
        encode_into(&mut s, "my app&x=1%");
        assert_eq!(s, "my%20app%26x%3D1%25");
    }
}

//! Formatting of one syslog message into a reusable buffer (RFC 5424 and RFC 3164).
//!
//! Nothing here allocates once the buffer has grown to the largest message: digits are
//! written by hand, structured-data values go through an escaping `fmt::Write` adapter, and
//! the constant part of the header is built once (again only if the pid changes).

use std::fmt::{self, Write as _};

use lethe_core::civil::{DateTime, UnixTime, UtcOffset};

use super::config::{ConfigError, Format, ProcId};
use super::severity::{Facility, Severity, pri};

/// Structured fields sent with a message: RFC 5424 SD-PARAMs, or `key="value"` pairs
/// appended to the message text in RFC 3164.
///
/// Implemented for `()` (no fields), for slices and arrays of `(key, value)` pairs whose
/// key is `AsRef<str>` and value is [`Display`](fmt::Display) (so `&[("user", "bob")]`,
/// `&[("status", &200 as &dyn Display)]`, `Vec<(String, String)>`), and for references to
/// any implementor. A logger implements it for its own field set so that values are
/// formatted straight into the message buffer with no intermediate `String`.
///
/// Keys are made into valid RFC 5424 PARAM-NAMEs: every byte that is not printable
/// US-ASCII, or is `=`, space, `]` or `"`, becomes `_`; keys are cut to 32 bytes; an empty
/// key becomes `_`. Values are escaped (`"`, `\` and `]` get a backslash).
pub trait SdParams {
    /// Calls `f` once per field, in order.
    fn for_each_param(&self, f: &mut dyn FnMut(&str, &dyn fmt::Display));
}

impl SdParams for () {
    fn for_each_param(&self, _: &mut dyn FnMut(&str, &dyn fmt::Display)) {}
}

impl<K: AsRef<str>, V: fmt::Display> SdParams for [(K, V)] {
    fn for_each_param(&self, f: &mut dyn FnMut(&str, &dyn fmt::Display)) {
        for (k, v) in self {
            f(k.as_ref(), v);
        }
    }
}

impl<K: AsRef<str>, V: fmt::Display, const N: usize> SdParams for [(K, V); N] {
    fn for_each_param(&self, f: &mut dyn FnMut(&str, &dyn fmt::Display)) {
        self.as_slice().for_each_param(f);
    }
}

impl<K: AsRef<str>, V: fmt::Display> SdParams for Vec<(K, V)> {
    fn for_each_param(&self, f: &mut dyn FnMut(&str, &dyn fmt::Display)) {
        self.as_slice().for_each_param(f);
    }
}

impl<T: SdParams + ?Sized> SdParams for &T {
    fn for_each_param(&self, f: &mut dyn FnMut(&str, &dyn fmt::Display)) {
        (**self).for_each_param(f);
    }
}

/// Maximum lengths of the RFC 5424 header fields (§6).
pub(crate) const MAX_HOSTNAME: usize = 255;
pub(crate) const MAX_APP_NAME: usize = 48;
pub(crate) const MAX_PROCID: usize = 128;
pub(crate) const MAX_MSGID: usize = 32;
pub(crate) const MAX_SD_NAME: usize = 32;
/// RFC 3164 §4.1.3: the TAG is at most 32 characters.
pub(crate) const MAX_TAG: usize = 32;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// PRINTUSASCII (RFC 5424 §6): `%d33-126`.
pub(crate) const fn is_print_us_ascii(b: u8) -> bool {
    matches!(b, 33..=126)
}

/// Checks a header field given by the user: 1..=`max` PRINTUSASCII bytes.
pub(crate) fn check_field(
    setting: &'static str,
    value: &str,
    max: usize,
    rule: &'static str,
) -> Result<(), ConfigError> {
    if value.is_empty() || value.len() > max || !value.bytes().all(is_print_us_ascii) {
        return Err(ConfigError::invalid(setting, value, rule));
    }
    Ok(())
}

/// Makes a value we did not get from the user (the system's hostname, the executable's
/// name) into a valid header field: bad bytes become `_`, the result is cut to `max` bytes,
/// and an empty result becomes `None` (the NILVALUE).
pub(crate) fn sanitize(value: &[u8], max: usize) -> Option<String> {
    let s: String = value
        .iter()
        .take(max)
        .map(|&b| if is_print_us_ascii(b) { b as char } else { '_' })
        .collect();
    (!s.is_empty()).then_some(s)
}

/// The part of the encoder fixed at build time.
#[derive(Debug)]
pub(crate) struct Encoder {
    pub(crate) format: Format,
    pub(crate) facility: Facility,
    /// `None` is the NILVALUE.
    pub(crate) hostname: Option<String>,
    pub(crate) app_name: Option<String>,
    pub(crate) procid: ProcId,
    pub(crate) msgid: Option<String>,
    pub(crate) sd_id: String,
    pub(crate) bom: bool,
    /// Maximum length of a whole syslog message (without TCP's octet count).
    pub(crate) max_len: usize,
    /// The header after the timestamp, up to and including the space before SD (5424) or
    /// before the message (3164). Rebuilt when the pid changes.
    fixed: Vec<u8>,
    /// The pid `fixed` was built with (0 when the procid is not the pid).
    fixed_pid: u32,
}

/// What one encoding did.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Encoded {
    /// Whether the message was cut to `max_len`.
    pub(crate) truncated: bool,
}

impl Encoder {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        format: Format,
        facility: Facility,
        hostname: Option<String>,
        app_name: Option<String>,
        procid: ProcId,
        msgid: Option<String>,
        sd_id: String,
        bom: bool,
        max_len: usize,
    ) -> Encoder {
        let mut e = Encoder {
            format,
            facility,
            hostname,
            app_name,
            procid,
            msgid,
            sd_id,
            bom,
            max_len,
            fixed: Vec::with_capacity(512),
            fixed_pid: 0,
        };
        e.rebuild_fixed(current_pid(&e.procid));
        e
    }

    /// Length of the longest header (without SD and message) this encoder can produce.
    pub(crate) fn header_len(&self) -> usize {
        // "<191>1 " + 27-byte timestamp (5424) or "<191>" + 15-byte timestamp (3164), then
        // `fixed`; a pid has at most 10 digits.
        let ts = match self.format {
            Format::Rfc5424 => 7 + 27,
            Format::Rfc3164 => 5 + 15,
        };
        ts + self.fixed.len() + 10
    }

    fn rebuild_fixed(&mut self, pid: u32) {
        let nil = |f: &Option<String>| f.as_deref().unwrap_or("-").to_owned();
        self.fixed.clear();
        self.fixed_pid = pid;
        let host = nil(&self.hostname);
        let app = nil(&self.app_name);
        let procid: Option<String> = match &self.procid {
            ProcId::Pid => Some(pid.to_string()),
            ProcId::Fixed(s) => Some(s.clone()),
            ProcId::Nil => None,
        };
        let f = &mut self.fixed;
        match self.format {
            Format::Rfc5424 => {
                f.push(b' ');
                f.extend_from_slice(host.as_bytes());
                f.push(b' ');
                f.extend_from_slice(app.as_bytes());
                f.push(b' ');
                f.extend_from_slice(procid.as_deref().unwrap_or("-").as_bytes());
                f.push(b' ');
                f.extend_from_slice(nil(&self.msgid).as_bytes());
                f.push(b' ');
            }
            Format::Rfc3164 => {
                f.push(b' ');
                f.extend_from_slice(host.as_bytes());
                f.push(b' ');
                f.extend_from_slice(app.as_bytes());
                if let Some(p) = procid {
                    f.push(b'[');
                    f.extend_from_slice(p.as_bytes());
                    f.push(b']');
                }
                f.extend_from_slice(b": ");
            }
        }
    }

    /// Appends one message to `buf` (from its current length) and cuts it to `max_len`.
    pub(crate) fn encode<P: SdParams + ?Sized>(
        &mut self,
        buf: &mut Vec<u8>,
        severity: Severity,
        timestamp: UnixTime,
        message: &str,
        params: &P,
    ) -> Encoded {
        if matches!(self.procid, ProcId::Pid) {
            let pid = std::process::id();
            if pid != self.fixed_pid {
                // After a fork: the child reports its own pid.
                self.rebuild_fixed(pid);
            }
        }
        let start = buf.len();
        let msg_start = self.encode_once(buf, severity, timestamp, message, Some(params));
        if buf.len() - start <= self.max_len {
            return Encoded { truncated: false };
        }
        let mut msg_start = msg_start;
        if msg_start - start > self.max_len {
            // The structured data alone overflows: send the message without it rather
            // than a cut, unparsable SD element. (The builder guarantees that the header
            // without SD fits.)
            buf.truncate(start);
            msg_start = self.encode_once::<()>(buf, severity, timestamp, message, None);
        }
        let mut cut = start + self.max_len;
        if cut < buf.len() {
            // Never cut a UTF-8 sequence of the message in half.
            while cut > msg_start && (buf[cut] & 0xC0) == 0x80 {
                cut -= 1;
            }
            buf.truncate(cut);
        }
        Encoded { truncated: true }
    }

    /// Encodes without limit; returns the offset where the message text starts.
    fn encode_once<P: SdParams + ?Sized>(
        &self,
        buf: &mut Vec<u8>,
        severity: Severity,
        timestamp: UnixTime,
        message: &str,
        params: Option<&P>,
    ) -> usize {
        buf.push(b'<');
        push_decimal(buf, u64::from(pri(self.facility, severity)));
        buf.push(b'>');
        match self.format {
            Format::Rfc5424 => {
                buf.extend_from_slice(b"1 ");
                push_timestamp_5424(buf, timestamp);
                buf.extend_from_slice(&self.fixed);
                match params {
                    Some(p) => push_sd(buf, &self.sd_id, p),
                    None => buf.push(b'-'),
                }
                if message.is_empty() && !self.bom {
                    return buf.len();
                }
                buf.push(b' ');
                let msg_start = buf.len();
                if self.bom {
                    buf.extend_from_slice(BOM);
                }
                buf.extend_from_slice(message.as_bytes());
                msg_start
            }
            Format::Rfc3164 => {
                push_timestamp_3164(buf, timestamp);
                buf.extend_from_slice(&self.fixed);
                let msg_start = buf.len();
                buf.extend_from_slice(message.as_bytes());
                if let Some(p) = params {
                    push_pairs_3164(buf, p);
                }
                msg_start
            }
        }
    }
}

fn current_pid(procid: &ProcId) -> u32 {
    match procid {
        ProcId::Pid => std::process::id(),
        _ => 0,
    }
}

/// Appends `n` in decimal.
pub(crate) fn push_decimal(buf: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let i = crate::decimal::u64_digits(n, &mut digits);
    buf.extend_from_slice(&digits[i..]);
}

fn push_2(buf: &mut Vec<u8>, n: u8) {
    buf.push(b'0' + n / 10);
    buf.push(b'0' + n % 10);
}

/// RFC 3339 in UTC with microseconds (RFC 5424 allows at most 6 fraction digits):
/// `2026-11-26T11:31:01.123456Z`. A time outside years 1..=9999 is the NILVALUE.
fn push_timestamp_5424(buf: &mut Vec<u8>, t: UnixTime) {
    let Some(dt) = DateTime::from_unix(t, UtcOffset::UTC) else {
        buf.push(b'-');
        return;
    };
    let y = dt.year;
    push_2(buf, (y / 100) as u8);
    push_2(buf, (y % 100) as u8);
    buf.push(b'-');
    push_2(buf, dt.month);
    buf.push(b'-');
    push_2(buf, dt.day);
    buf.push(b'T');
    push_2(buf, dt.hour);
    buf.push(b':');
    push_2(buf, dt.minute);
    buf.push(b':');
    push_2(buf, dt.second);
    buf.push(b'.');
    let micros = t.subsec_nanos() / 1_000;
    let mut div = 100_000;
    while div > 0 {
        buf.push(b'0' + (micros / div % 10) as u8);
        div /= 10;
    }
    buf.push(b'Z');
}

/// RFC 3164 §4.1.2 `Mmm dd hh:mm:ss` (day padded with a space), in UTC.
fn push_timestamp_3164(buf: &mut Vec<u8>, t: UnixTime) {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let dt = DateTime::from_unix(t, UtcOffset::UTC).unwrap_or(DateTime {
        year: 1970,
        month: 1,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
    });
    buf.extend_from_slice(MONTHS[usize::from(dt.month.clamp(1, 12) - 1)]);
    buf.push(b' ');
    buf.push(if dt.day < 10 {
        b' '
    } else {
        b'0' + dt.day / 10
    });
    buf.push(b'0' + dt.day % 10);
    buf.push(b' ');
    push_2(buf, dt.hour);
    buf.push(b':');
    push_2(buf, dt.minute);
    buf.push(b':');
    push_2(buf, dt.second);
}

/// Appends a key as a valid PARAM-NAME (see [`SdParams`]).
fn push_param_name(buf: &mut Vec<u8>, key: &str) {
    if key.is_empty() {
        buf.push(b'_');
        return;
    }
    for &b in key.as_bytes().iter().take(MAX_SD_NAME) {
        let ok = is_print_us_ascii(b) && !matches!(b, b'=' | b']' | b'"');
        buf.push(if ok { b } else { b'_' });
    }
}

/// Writes a `Display` value into the buffer, escaping the given bytes with a backslash.
struct Escaping<'a> {
    buf: &'a mut Vec<u8>,
    special: &'static [u8],
}

impl fmt::Write for Escaping<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Copy runs without special bytes in one piece.
        let mut rest = s.as_bytes();
        while let Some(i) = rest.iter().position(|b| self.special.contains(b)) {
            self.buf.extend_from_slice(&rest[..i]);
            self.buf.push(b'\\');
            self.buf.push(rest[i]);
            rest = &rest[i + 1..];
        }
        self.buf.extend_from_slice(rest);
        Ok(())
    }
}

fn push_escaped(buf: &mut Vec<u8>, value: &dyn fmt::Display, special: &'static [u8]) {
    let mut w = Escaping { buf, special };
    // A `Display` impl that reports an error leaves what it wrote so far; the message
    // stays well formed because the caller closes the quotes either way.
    let _ = write!(w, "{value}");
}

/// RFC 5424 §6.3 STRUCTURED-DATA: `-` without fields, else one SD-ELEMENT
/// `[sd_id name="value" ...]` with `"`, `\` and `]` escaped in values (§6.3.3).
fn push_sd<P: SdParams + ?Sized>(buf: &mut Vec<u8>, sd_id: &str, params: &P) {
    let mut any = false;
    params.for_each_param(&mut |key, value| {
        if !any {
            any = true;
            buf.push(b'[');
            buf.extend_from_slice(sd_id.as_bytes());
        }
        buf.push(b' ');
        push_param_name(buf, key);
        buf.extend_from_slice(b"=\"");
        push_escaped(buf, value, b"\"\\]");
        buf.push(b'"');
    });
    if any {
        buf.push(b']');
    } else {
        buf.push(b'-');
    }
}

/// RFC 3164 has no structured data: fields follow the text as ` key="value"`, with `"`
/// and `\` escaped.
fn push_pairs_3164<P: SdParams + ?Sized>(buf: &mut Vec<u8>, params: &P) {
    params.for_each_param(&mut |key, value| {
        buf.push(b' ');
        push_param_name(buf, key);
        buf.extend_from_slice(b"=\"");
        push_escaped(buf, value, b"\"\\");
        buf.push(b'"');
    });
}

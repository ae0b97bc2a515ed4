//! Syslog configuration: the builder, the URI parser and their error type.

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Syslog;
use super::encode::{
    Encoder, MAX_APP_NAME, MAX_HOSTNAME, MAX_MSGID, MAX_PROCID, MAX_SD_NAME, MAX_TAG, check_field,
    is_print_us_ascii, sanitize,
};
use super::severity::Facility;
use super::transport::{Backoff, Conn, TcpConn, UdpConn, UnixConn};

/// Where messages go.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// A local unix datagram socket, normally [`DEFAULT_UNIX_PATH`] (`/dev/log`): one
    /// datagram per message.
    Unix(PathBuf),
    /// UDP (RFC 5426): one datagram per message. UDP may lose messages silently.
    Udp(SocketAddr),
    /// TCP with octet-counting framing (RFC 6587 §3.4.1: `LEN SP MSG`). Several addresses
    /// (from a name that resolves to several) are tried in order at each connect.
    Tcp(Vec<SocketAddr>),
}

/// The local syslog socket on Linux.
pub const DEFAULT_UNIX_PATH: &str = "/dev/log";
/// The syslog port for UDP and TCP when a URI names none.
pub const DEFAULT_PORT: u16 = 514;
/// Largest UDP payload over IPv4 (65 535 − 8 UDP − 20 IP header bytes).
pub const MAX_UDP_PAYLOAD: usize = 65_507;
/// Smallest accepted `max_len`: every receiver must accept 480 bytes (RFC 5426 §3.2).
pub const MIN_MAX_LEN: usize = 480;

impl Transport {
    /// The default largest message for this transport: 2 048 bytes for UDP (what RFC 5426
    /// §3.2 says receivers should accept), 8 192 for unix sockets and TCP (rsyslog's
    /// default `maxMessageSize`).
    pub fn default_max_len(&self) -> usize {
        match self {
            Transport::Udp(_) => 2048,
            Transport::Unix(_) | Transport::Tcp(_) => 8192,
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transport::Unix(p) => write!(f, "syslog+unix://{}", p.display()),
            Transport::Udp(a) => write!(f, "syslog+udp://{a}"),
            Transport::Tcp(a) => match a.first() {
                Some(first) => write!(f, "syslog+tcp://{first}"),
                None => f.write_str("syslog+tcp://"),
            },
        }
    }
}

/// The message format.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG` (the default).
    #[default]
    Rfc5424,
    /// RFC 3164 ("BSD syslog"): `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG`, timestamp
    /// in UTC, structured fields appended to the text as `key="value"`.
    Rfc3164,
}

/// The PROCID header field (the `[pid]` after the tag in RFC 3164).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProcId {
    /// The current process id, re-read on every message, so a forked child reports its
    /// own (the default).
    #[default]
    Pid,
    /// A fixed value: 1 to 128 printable US-ASCII characters.
    Fixed(String),
    /// The NILVALUE `-` (RFC 3164: no `[...]` after the tag).
    Nil,
}

/// A bad syslog setting or URI, naming the value and the rule it breaks.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// A URI that cannot be parsed.
    Uri {
        /// The URI as given.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A setting whose value breaks a rule.
    Invalid {
        /// The setting (a builder method or URI query key).
        setting: String,
        /// The value given.
        value: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// A host name that did not resolve.
    Resolve {
        /// The `host:port` given.
        addr: String,
        /// The resolver's error.
        source: io::Error,
    },
}

impl ConfigError {
    pub(crate) fn invalid(setting: &str, value: &str, rule: &'static str) -> ConfigError {
        ConfigError::Invalid {
            setting: setting.to_owned(),
            value: value.to_owned(),
            rule,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Uri { uri, reason } => write!(f, "syslog URI {uri:?}: {reason}"),
            ConfigError::Invalid {
                setting,
                value,
                rule,
            } => write!(f, "syslog setting {setting} = {value:?}: {rule}"),
            ConfigError::Resolve { addr, source } => {
                write!(f, "syslog address {addr:?} did not resolve: {source}")
            }
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Resolve { source, .. } => Some(source),
            _ => None,
        }
    }
}

const RULE_HOSTNAME: &str =
    "must be 1 to 255 printable US-ASCII characters without spaces (RFC 5424 HOSTNAME)";
const RULE_APP: &str =
    "must be 1 to 48 printable US-ASCII characters without spaces (RFC 5424 APP-NAME)";
const RULE_TAG: &str =
    "must be at most 32 printable US-ASCII characters without spaces, '[' or ':' (RFC 3164 TAG)";
const RULE_PROCID: &str =
    "must be 1 to 128 printable US-ASCII characters without spaces (RFC 5424 PROCID)";
const RULE_MSGID: &str =
    "must be 1 to 32 printable US-ASCII characters without spaces (RFC 5424 MSGID)";
const RULE_SD_ID: &str = "must be NAME@NUMBER (a private enterprise number), at most 32 printable US-ASCII characters without '=', ' ', ']' or '\"' (RFC 5424 SD-ID)";

/// A monotonic time source for the TCP reconnect schedule.
pub(crate) type Now = Arc<dyn Fn() -> Instant + Send + Sync>;

/// Builds a [`Syslog`]. Defaults:
///
/// | setting | default |
/// |---|---|
/// | [`format`](Self::format) | [`Format::Rfc5424`] |
/// | [`facility`](Self::facility) | [`Facility::User`] |
/// | [`app_name`](Self::app_name) | the executable's file name (invalid bytes as `_`, cut to 48), else `-` |
/// | [`hostname`](Self::hostname) | the machine's hostname (`uname(2)` nodename, invalid bytes as `_`), else `-` |
/// | [`procid`](Self::procid) | [`ProcId::Pid`] |
/// | [`msgid`](Self::msgid) | none (`-`) |
/// | [`sd_id`](Self::sd_id) | `lethe@32473` (32473 is the documentation enterprise number of RFC 5612) |
/// | [`bom`](Self::bom) | `false` |
/// | [`max_len`](Self::max_len) | [`Transport::default_max_len`]: 2 048 (UDP), 8 192 (unix, TCP) |
/// | [`write_timeout`](Self::write_timeout) | 1 s |
/// | [`connect_timeout`](Self::connect_timeout) | 1 s (TCP) |
/// | [`backoff`](Self::backoff) | 100 ms, doubling up to 30 s (TCP) |
#[derive(Clone)]
#[must_use]
pub struct SyslogBuilder {
    transport: Transport,
    format: Format,
    facility: Facility,
    app_name: Option<String>,
    hostname: Option<String>,
    procid: ProcId,
    msgid: Option<String>,
    sd_id: String,
    bom: bool,
    max_len: Option<usize>,
    write_timeout: Duration,
    connect_timeout: Duration,
    backoff_initial: Duration,
    backoff_max: Duration,
    now: Option<Now>,
}

impl fmt::Debug for SyslogBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyslogBuilder")
            .field("transport", &self.transport)
            .field("format", &self.format)
            .field("facility", &self.facility)
            .field("app_name", &self.app_name)
            .field("hostname", &self.hostname)
            .field("procid", &self.procid)
            .field("msgid", &self.msgid)
            .field("sd_id", &self.sd_id)
            .field("bom", &self.bom)
            .field("max_len", &self.max_len)
            .field("write_timeout", &self.write_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("backoff_initial", &self.backoff_initial)
            .field("backoff_max", &self.backoff_max)
            .finish_non_exhaustive()
    }
}

impl SyslogBuilder {
    /// A builder for `transport` with the defaults above.
    pub fn new(transport: Transport) -> SyslogBuilder {
        SyslogBuilder {
            transport,
            format: Format::Rfc5424,
            facility: Facility::User,
            app_name: None,
            hostname: None,
            procid: ProcId::Pid,
            msgid: None,
            sd_id: "lethe@32473".to_owned(),
            bom: false,
            max_len: None,
            write_timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(1),
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_secs(30),
            now: None,
        }
    }

    /// The message format.
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// The facility.
    pub fn facility(mut self, facility: Facility) -> Self {
        self.facility = facility;
        self
    }

    /// APP-NAME (RFC 5424) or TAG (RFC 3164). Checked by [`build`](Self::build).
    pub fn app_name(mut self, app_name: impl Into<String>) -> Self {
        self.app_name = Some(app_name.into());
        self
    }

    /// HOSTNAME. Checked by [`build`](Self::build).
    pub fn hostname(mut self, hostname: impl Into<String>) -> Self {
        self.hostname = Some(hostname.into());
        self
    }

    /// PROCID.
    pub fn procid(mut self, procid: ProcId) -> Self {
        self.procid = procid;
        self
    }

    /// MSGID (RFC 5424 only; RFC 3164 has no such field and ignores it).
    pub fn msgid(mut self, msgid: impl Into<String>) -> Self {
        self.msgid = Some(msgid.into());
        self
    }

    /// The SD-ID of the element that carries the fields, `name@enterprise-number`.
    pub fn sd_id(mut self, sd_id: impl Into<String>) -> Self {
        self.sd_id = sd_id.into();
        self
    }

    /// Whether RFC 5424 messages start with a UTF-8 byte order mark (RFC 5424 §6.4 marks
    /// UTF-8 text that way; without it the text is "any octets", which every receiver
    /// accepts, and rsyslog keeps the BOM in `%msg%`).
    pub fn bom(mut self, bom: bool) -> Self {
        self.bom = bom;
        self
    }

    /// Largest syslog message in bytes (not counting TCP's length prefix). Longer messages
    /// are cut, at a UTF-8 boundary of the text, and counted in
    /// [`SyslogStats::truncated`](super::SyslogStats::truncated). At least
    /// [`MIN_MAX_LEN`] and the header's length plus 64; at most [`MAX_UDP_PAYLOAD`] for UDP.
    pub fn max_len(mut self, max_len: usize) -> Self {
        self.max_len = Some(max_len);
        self
    }

    /// Longest a send may block on a full socket (all transports), after which it fails
    /// with `TimedOut`/`WouldBlock`. A TCP connection whose write timed out part-way is
    /// closed, since its framing can no longer be trusted. Must be non-zero.
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// Longest one TCP connect attempt may take (per address). Must be non-zero.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// TCP reconnect backoff: after the n-th consecutive failure the next attempt waits
    /// `min(max, initial * 2^(n-1))`, of which a random half is jitter (so the wait is
    /// between half and all of it). `initial` must be non-zero and at most `max`.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff_initial = initial;
        self.backoff_max = max;
        self
    }

    /// The monotonic clock of the TCP reconnect schedule (default [`Instant::now`]).
    /// Tests use it to step past a backoff without sleeping.
    pub fn monotonic_clock(mut self, now: impl Fn() -> Instant + Send + Sync + 'static) -> Self {
        self.now = Some(Arc::new(now));
        self
    }

    /// Checks the settings and builds the sender. No connection is required to succeed:
    /// a unix socket or TCP server that is not there yet is connected to by later sends.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] for a header field, SD-ID, `max_len`, timeout or backoff
    /// that breaks its rule; or a unix socket path longer than 107 bytes; or an empty TCP
    /// address list.
    pub fn build(self) -> Result<Syslog, ConfigError> {
        let hostname = match &self.hostname {
            Some(h) => {
                check_field("hostname", h, MAX_HOSTNAME, RULE_HOSTNAME)?;
                Some(h.clone())
            }
            None => system_hostname(),
        };
        let app_name = match &self.app_name {
            Some(a) => {
                check_field("app_name", a, MAX_APP_NAME, RULE_APP)?;
                if self.format == Format::Rfc3164 && (a.len() > MAX_TAG || a.contains(['[', ':'])) {
                    return Err(ConfigError::invalid("app_name", a, RULE_TAG));
                }
                Some(a.clone())
            }
            None => default_app_name(self.format),
        };
        if let ProcId::Fixed(p) = &self.procid {
            check_field("procid", p, MAX_PROCID, RULE_PROCID)?;
        }
        if let Some(m) = &self.msgid {
            check_field("msgid", m, MAX_MSGID, RULE_MSGID)?;
        }
        check_sd_id(&self.sd_id)?;
        for (name, t) in [
            ("write_timeout", self.write_timeout),
            ("connect_timeout", self.connect_timeout),
        ] {
            if t.is_zero() {
                return Err(ConfigError::invalid(name, "0", "must be non-zero"));
            }
        }
        if self.backoff_initial.is_zero() || self.backoff_initial > self.backoff_max {
            return Err(ConfigError::invalid(
                "backoff",
                &format!("{:?}..{:?}", self.backoff_initial, self.backoff_max),
                "the initial delay must be non-zero and at most the maximum",
            ));
        }
        let max_len = self
            .max_len
            .unwrap_or_else(|| self.transport.default_max_len());
        let encoder = Encoder::new(
            self.format,
            self.facility,
            hostname,
            app_name,
            self.procid,
            self.msgid,
            self.sd_id,
            self.bom,
            max_len,
        );
        let min = MIN_MAX_LEN.max(encoder.header_len() + 64);
        if max_len < min {
            return Err(ConfigError::Invalid {
                setting: "max_len".to_owned(),
                value: max_len.to_string(),
                rule: "must be at least 480 (RFC 5426) and at least the header length plus 64",
            });
        }
        if matches!(self.transport, Transport::Udp(_)) && max_len > MAX_UDP_PAYLOAD {
            return Err(ConfigError::Invalid {
                setting: "max_len".to_owned(),
                value: max_len.to_string(),
                rule: "must be at most 65507, the largest UDP payload",
            });
        }
        let conn = match &self.transport {
            Transport::Unix(path) => {
                if path.as_os_str().len() > 107 {
                    return Err(ConfigError::invalid(
                        "unix path",
                        &path.display().to_string(),
                        "must be at most 107 bytes (sockaddr_un)",
                    ));
                }
                Conn::Unix(UnixConn::new(path.clone(), self.write_timeout))
            }
            Transport::Udp(addr) => Conn::Udp(UdpConn::new(*addr, self.write_timeout)),
            Transport::Tcp(addrs) => {
                if addrs.is_empty() {
                    return Err(ConfigError::invalid(
                        "tcp addresses",
                        "",
                        "must name at least one address",
                    ));
                }
                let now = self.now.unwrap_or_else(|| Arc::new(Instant::now));
                Conn::Tcp(TcpConn::new(
                    addrs.clone(),
                    self.connect_timeout,
                    self.write_timeout,
                    Backoff::new(self.backoff_initial, self.backoff_max),
                    now,
                ))
            }
        };
        Ok(Syslog::from_parts(self.transport, encoder, conn))
    }

    /// A builder configured from a URI:
    ///
    /// - `syslog+unix:///dev/log` (also `syslog+unix:` for [`DEFAULT_UNIX_PATH`]),
    /// - `syslog+udp://HOST[:PORT]`, `syslog+tcp://HOST[:PORT]` (port 514 by default;
    ///   IPv6 in brackets, `[::1]:514`; a name is resolved now, once; UDP sends to the
    ///   first address it resolves to, TCP tries them in order at each connect),
    ///
    /// followed by an optional query `?key=value&...` (values may be %-encoded):
    ///
    /// | key | value |
    /// |---|---|
    /// | `format` | `5424`, `rfc5424`, `3164`, `rfc3164` |
    /// | `facility` | a keyword (`local0`, `daemon`, ...) or code 0..=23 |
    /// | `app` (or `app_name`, `tag`) | APP-NAME / TAG |
    /// | `hostname` | HOSTNAME |
    /// | `procid` | `pid`, `-` (nil), or a fixed value |
    /// | `msgid` | MSGID |
    /// | `sd_id` | SD-ID of the fields element |
    /// | `bom` | `true` / `false` |
    /// | `max_len` | bytes, with an optional unit (`8KiB`) |
    /// | `timeout` | write and connect timeout (`500ms`, `2s`) |
    ///
    /// # Errors
    ///
    /// [`ConfigError::Uri`] for an unknown scheme, key, or malformed part;
    /// [`ConfigError::Invalid`] for a bad value; [`ConfigError::Resolve`] for a host that
    /// does not resolve. Each names the offending text.
    ///
    /// ```
    /// use lethe_std::syslog::SyslogBuilder;
    ///
    /// let err = SyslogBuilder::from_uri("syslog+udp://127.0.0.1:514?facility=local9").unwrap_err();
    /// assert!(err.to_string().contains("local9"), "{err}");
    /// ```
    pub fn from_uri(uri: &str) -> Result<SyslogBuilder, ConfigError> {
        let bad = |reason: String| ConfigError::Uri {
            uri: uri.to_owned(),
            reason,
        };
        let (scheme, rest) = uri
            .split_once(':')
            .ok_or_else(|| bad("expected SCHEME:..., e.g. syslog+udp://127.0.0.1:514".into()))?;
        let (target, query) = match rest.split_once('?') {
            Some((t, q)) => (t, Some(q)),
            None => (rest, None),
        };
        let transport = match scheme.to_ascii_lowercase().as_str() {
            "syslog+unix" => {
                let path = match target.strip_prefix("//") {
                    Some(p) if p.starts_with('/') => percent_decode(p).map_err(&bad)?,
                    Some("") => DEFAULT_UNIX_PATH.to_owned(),
                    Some(other) => {
                        return Err(bad(format!(
                            "a unix socket URI has no host ({other:?}); write syslog+unix:///path/to/socket"
                        )));
                    }
                    None if target.is_empty() => DEFAULT_UNIX_PATH.to_owned(),
                    None if target.starts_with('/') => percent_decode(target).map_err(&bad)?,
                    None => {
                        return Err(bad(format!(
                            "{target:?} is not an absolute socket path; write syslog+unix:///path/to/socket"
                        )));
                    }
                };
                Transport::Unix(PathBuf::from(path))
            }
            s @ ("syslog+udp" | "syslog+tcp") => {
                let authority = target.strip_prefix("//").ok_or_else(|| {
                    bad(format!(
                        "expected {s}://HOST[:PORT], found {target:?} after the scheme"
                    ))
                })?;
                let authority = authority.strip_suffix('/').unwrap_or(authority);
                let addrs = resolve(authority).map_err(|e| match e {
                    Err(reason) => bad(reason),
                    Ok(resolve_err) => resolve_err,
                })?;
                if s == "syslog+udp" {
                    Transport::Udp(addrs[0])
                } else {
                    Transport::Tcp(addrs)
                }
            }
            other => {
                return Err(bad(format!(
                    "unknown scheme {other:?}: expected syslog+unix, syslog+udp or syslog+tcp"
                )));
            }
        };
        let mut b = SyslogBuilder::new(transport);
        let mut seen: Vec<&str> = Vec::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, raw) = pair
                .split_once('=')
                .ok_or_else(|| bad(format!("query item {pair:?} is not key=value")))?;
            if seen.contains(&key) {
                return Err(bad(format!("query key {key:?} is given twice")));
            }
            seen.push(key);
            let value = percent_decode(raw).map_err(&bad)?;
            b = b.apply(key, &value).map_err(|e| match e {
                Err(reason) => bad(reason),
                Ok(invalid) => invalid,
            })?;
        }
        Ok(b)
    }

    /// Applies one URI query key. `Err(Err(reason))` is a URI error, `Err(Ok(e))` a bad
    /// value.
    fn apply(self, key: &str, value: &str) -> Result<SyslogBuilder, Result<ConfigError, String>> {
        let invalid = |rule: &'static str| Err(Ok(ConfigError::invalid(key, value, rule)));
        Ok(match key {
            "format" => match value.to_ascii_lowercase().as_str() {
                "5424" | "rfc5424" => self.format(Format::Rfc5424),
                "3164" | "rfc3164" => self.format(Format::Rfc3164),
                _ => return invalid("must be 5424, rfc5424, 3164 or rfc3164"),
            },
            "facility" => match Facility::parse(value) {
                Some(f) => self.facility(f),
                None => {
                    return invalid(
                        "must be a facility keyword (kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, ntp, audit, alert, clock, local0..local7) or a code 0..=23",
                    );
                }
            },
            "app" | "app_name" | "tag" => self.app_name(value),
            "hostname" => self.hostname(value),
            "procid" => match value {
                "pid" => self.procid(ProcId::Pid),
                "-" => self.procid(ProcId::Nil),
                v => self.procid(ProcId::Fixed(v.to_owned())),
            },
            "msgid" => self.msgid(value),
            "sd_id" => self.sd_id(value),
            "bom" => match value {
                "true" | "1" | "yes" => self.bom(true),
                "false" | "0" | "no" => self.bom(false),
                _ => return invalid("must be true or false"),
            },
            "max_len" => match lethe_core::size::parse_size(value) {
                Ok(n) => match usize::try_from(n) {
                    Ok(n) => self.max_len(n),
                    Err(_) => return invalid("is too large for this platform"),
                },
                Err(_) => return invalid("must be a byte size such as 2048 or 8KiB"),
            },
            "timeout" => match lethe_core::duration::parse_duration(value) {
                Ok(d) => self.write_timeout(d).connect_timeout(d),
                Err(_) => return invalid("must be a duration such as 500ms or 2s"),
            },
            _ => {
                return Err(Err(format!(
                    "unknown query key {key:?}; known: format, facility, app, app_name, tag, hostname, procid, msgid, sd_id, bom, max_len, timeout"
                )));
            }
        })
    }
}

/// Resolves `HOST[:PORT]`. `Err(Err(reason))` is a malformed authority.
fn resolve(authority: &str) -> Result<Vec<SocketAddr>, Result<ConfigError, String>> {
    if authority.is_empty() {
        return Err(Err("no host: expected HOST[:PORT]".to_owned()));
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| Err(format!("unclosed '[' in {authority:?}")))?;
        match after {
            "" => (h, None),
            p => match p.strip_prefix(':') {
                Some(p) => (h, Some(p)),
                None => return Err(Err(format!("unexpected {p:?} after ']'"))),
            },
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, _)) if h.contains(':') => {
                return Err(Err(format!(
                    "{authority:?}: write IPv6 addresses in brackets, e.g. [::1]:514"
                )));
            }
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n != 0 => n,
            _ => return Err(Err(format!("port {p:?} is not a number from 1 to 65535"))),
        },
    };
    if host.is_empty() {
        return Err(Err("no host: expected HOST[:PORT]".to_owned()));
    }
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|source| {
            Ok(ConfigError::Resolve {
                addr: format!("{host}:{port}"),
                source,
            })
        })?
        .collect();
    if addrs.is_empty() {
        return Err(Ok(ConfigError::Resolve {
            addr: format!("{host}:{port}"),
            source: io::Error::new(io::ErrorKind::NotFound, "no addresses"),
        }));
    }
    Ok(addrs)
}

fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            match b.get(i + 1..i + 3).and_then(super::hex_byte) {
                Some(v) => out.push(v),
                None => return Err(format!("bad %-escape in {s:?} (expected %XX)")),
            }
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} decodes to invalid UTF-8"))
}

fn check_sd_id(sd_id: &str) -> Result<(), ConfigError> {
    let ok = !sd_id.is_empty()
        && sd_id.len() <= MAX_SD_NAME
        && sd_id
            .bytes()
            .all(|b| is_print_us_ascii(b) && !matches!(b, b'=' | b']' | b'"'))
        && matches!(sd_id.split_once('@'), Some((name, pen))
            if !name.is_empty() && !pen.is_empty()
                && pen.split('.').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit())));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::invalid("sd_id", sd_id, RULE_SD_ID))
    }
}

/// The machine's hostname from `uname(2)`, sanitized (`None` if empty).
fn system_hostname() -> Option<String> {
    let uts = rustix::system::uname();
    sanitize(uts.nodename().to_bytes(), MAX_HOSTNAME)
}

/// The executable's file name, sanitized for APP-NAME (or TAG).
fn default_app_name(format: Format) -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let name = exe.file_name()?;
    let max = match format {
        Format::Rfc5424 => MAX_APP_NAME,
        Format::Rfc3164 => MAX_TAG,
    };
    let bytes: Vec<u8> = name
        .as_encoded_bytes()
        .iter()
        .map(|&b| if matches!(b, b'[' | b':') { b'_' } else { b })
        .collect();
    sanitize(&bytes, max)
}

//! [`Registry`]: destinations from URIs, such as
//! `file:///var/log/app.log?max_size=100MB&compress=true`, `stdout:`, `stderr:`, the
//! built-in syslog schemes (`syslog+udp://127.0.0.1:514`, `syslog+tcp://...`,
//! `syslog+unix:///dev/log`), and schemes you register.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::destination::{Delivery, Destination};
use super::format::{Json, Logfmt, Text};
use super::level::Level;
use crate::Config;

/// A destination URI, parsed: `scheme:[//authority]path[?key=value&...]`, with
/// percent-decoding in the path and the query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uri {
    /// The scheme, lowercase (`file`, `stdout`, `syslog+udp`, ...).
    pub scheme: String,
    /// What follows `//` up to the path (`host:port`), if the URI has `//`.
    pub authority: Option<String>,
    /// The path, decoded.
    pub path: String,
    /// The query's pairs, decoded, in order. The registry takes out the keys it handles
    /// for every scheme (`name`, `level`, `format`, `delivery`, `max_wait`) before the
    /// scheme's factory sees them.
    pub query: Vec<(String, String)>,
    /// The original text.
    pub text: String,
}

/// A URI that cannot be turned into a destination, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UriError {
    /// The URI as given.
    pub uri: String,
    /// What is wrong.
    pub reason: String,
}

impl UriError {
    /// An error about `uri`.
    pub fn new(uri: &str, reason: impl fmt::Display) -> UriError {
        UriError {
            uri: uri.to_owned(),
            reason: reason.to_string(),
        }
    }
}

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "destination {:?}: {}", self.uri, self.reason)
    }
}

impl std::error::Error for UriError {}

fn decode(uri: &str, s: &str, plus_is_space: bool) -> Result<String, UriError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(crate::syslog::hex_byte)
                    .ok_or_else(|| {
                        UriError::new(
                            uri,
                            format!(
                                "bad percent-escape at byte {i} of {s:?} (expected % and two hex digits)"
                            ),
                        )
                    })?;
                out.push(hex);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
        .map_err(|_| UriError::new(uri, format!("{s:?} does not decode to UTF-8")))
}

impl Uri {
    /// Parses `text`.
    ///
    /// # Errors
    ///
    /// [`UriError`] for a missing or invalid scheme, a bad percent-escape, or a query
    /// pair without `=`.
    pub fn parse(text: &str) -> Result<Uri, UriError> {
        let (scheme, rest) = text
            .split_once(':')
            .ok_or_else(|| UriError::new(text, "no scheme (expected scheme:...)"))?;
        let valid = scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !valid {
            return Err(UriError::new(text, format!("invalid scheme {scheme:?}")));
        }
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match rest.strip_prefix("//") {
            Some(r) => match r.find('/') {
                Some(i) => (Some(r[..i].to_owned()), &r[i..]),
                None => (Some(r.to_owned()), ""),
            },
            None => (None, rest),
        };
        let mut pairs = Vec::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').ok_or_else(|| {
                UriError::new(
                    text,
                    format!("query item {pair:?} has no '=' (expected key=value)"),
                )
            })?;
            pairs.push((decode(text, k, true)?, decode(text, v, true)?));
        }
        Ok(Uri {
            scheme: scheme.to_ascii_lowercase(),
            authority: authority.map(|a| decode(text, &a, false)).transpose()?,
            path: decode(text, path, false)?,
            query: pairs,
            text: text.to_owned(),
        })
    }

    /// Removes and returns the value of `key` (the last one, if it repeats).
    pub fn take(&mut self, key: &str) -> Option<String> {
        let mut found = None;
        self.query.retain(|(k, v)| {
            if k == key {
                found = Some(v.clone());
                false
            } else {
                true
            }
        });
        found
    }

    /// An error about this URI.
    pub fn error(&self, reason: impl fmt::Display) -> UriError {
        UriError::new(&self.text, reason)
    }

    /// Fails if the URI names a host or a path (for schemes such as `stdout:` that take
    /// neither): they would be ignored.
    ///
    /// # Errors
    ///
    /// [`UriError`] naming what was given.
    pub fn no_target(&self) -> Result<(), UriError> {
        match (self.authority.as_deref(), self.path.as_str()) {
            (None | Some(""), "") => Ok(()),
            (Some(host), _) if !host.is_empty() => Err(self.error(format!(
                "scheme {:?} takes no host (found {host:?}); write {}:",
                self.scheme, self.scheme
            ))),
            (_, path) => Err(self.error(format!(
                "scheme {:?} takes no path (found {path:?}); write {}:",
                self.scheme, self.scheme
            ))),
        }
    }

    /// Fails if any query key is left (one the scheme does not know).
    ///
    /// # Errors
    ///
    /// [`UriError`] naming the first unknown key.
    pub fn no_more_keys(&self) -> Result<(), UriError> {
        match self.query.first() {
            None => Ok(()),
            Some((k, _)) => Err(self.error(format!(
                "unknown query key {k:?} for scheme {:?}",
                self.scheme
            ))),
        }
    }
}

/// Makes a destination from a parsed URI.
pub type Factory = Arc<dyn Fn(&mut Uri) -> Result<Destination, UriError> + Send + Sync>;

/// Maps URI schemes to destination factories.
///
/// Built in:
///
/// | URI | destination |
/// |---|---|
/// | `file:///abs/path.log?KEY=VALUE&...`, `file:relative.log` | a rotating file; the keys are [`Config`]'s fields (`max_size`, `rotate_every`, `max_backups`, `compress`, `buffer`, `on_full`, ...), validated by [`Config::build`] |
/// | `stdout:` | standard output |
/// | `stderr:` | standard error |
///
/// Every scheme also takes `name=` (default: the scheme's), `level=` (`trace` ...
/// `fatal`), `format=` (`json`, the default, `text` or `logfmt`), `delivery=` (`block` or
/// `drop`) and `max_wait=` (a duration, with `block`). An unknown key, or a key given
/// twice, is an error, never ignored.
///
/// ```
/// use lethe_std::logger::{Destination, Registry};
///
/// let mut registry = Registry::new();
/// registry.register("null", |uri| {
///     uri.no_more_keys()?;
///     Ok(Destination::backend("null", lethe_std::logger::WriteBackend(std::io::sink())))
/// });
/// let d = registry.open("null:?level=warn")?;
/// let err = registry.open("file:///tmp/x.log?max_size=10XB").unwrap_err();
/// assert!(err.to_string().contains("10XB"));
/// # let _ = d;
/// # Ok::<(), lethe_std::logger::UriError>(())
/// ```
#[derive(Clone)]
pub struct Registry {
    schemes: HashMap<String, Factory>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<_> = self.schemes.keys().collect();
        names.sort();
        f.debug_struct("Registry").field("schemes", &names).finish()
    }
}

impl Default for Registry {
    fn default() -> Registry {
        Registry::new()
    }
}

impl Registry {
    /// A registry with `file`, `stdout`, `stderr`, and `syslog+unix`, `syslog+udp` and
    /// `syslog+tcp` (see [`SyslogBackend`](super::SyslogBackend); the syslog wire format is
    /// chosen with `rfc=5424` or `rfc=3164`).
    pub fn new() -> Registry {
        let mut r = Registry {
            schemes: HashMap::new(),
        };
        r.register("file", file_destination);
        r.register("stdout", |uri| {
            uri.no_target()?;
            uri.no_more_keys()?;
            Ok(Destination::stdout())
        });
        r.register("stderr", |uri| {
            uri.no_target()?;
            uri.no_more_keys()?;
            Ok(Destination::stderr())
        });
        for scheme in ["syslog+unix", "syslog+udp", "syslog+tcp"] {
            r.register(scheme, super::syslog_backend::syslog_destination);
        }
        r
    }

    /// Registers (or replaces) the factory for `scheme` (case-insensitive). The factory
    /// sees the URI without the common keys, and should reject keys it does not know
    /// ([`Uri::no_more_keys`]).
    pub fn register(
        &mut self,
        scheme: &str,
        factory: impl Fn(&mut Uri) -> Result<Destination, UriError> + Send + Sync + 'static,
    ) {
        self.schemes
            .insert(scheme.to_ascii_lowercase(), Arc::new(factory));
    }

    /// Whether `scheme` is registered.
    pub fn has_scheme(&self, scheme: &str) -> bool {
        self.schemes.contains_key(&scheme.to_ascii_lowercase())
    }

    /// Makes the destination `uri` describes.
    ///
    /// # Errors
    ///
    /// [`UriError`] naming the URI and the problem: an unknown scheme, an invalid common
    /// key, or the factory's error.
    pub fn open(&self, uri: &str) -> Result<Destination, UriError> {
        let mut u = Uri::parse(uri)?;
        let factory = self.schemes.get(&u.scheme).ok_or_else(|| {
            let mut known: Vec<_> = self.schemes.keys().map(String::as_str).collect();
            known.sort_unstable();
            u.error(format!(
                "unknown scheme {:?} (known: {})",
                u.scheme,
                known.join(", ")
            ))
        })?;
        let repeated = u
            .query
            .iter()
            .enumerate()
            .find(|(i, (k, _))| u.query[..*i].iter().any(|(p, _)| p == k));
        if let Some((_, (k, _))) = repeated {
            return Err(u.error(format!(
                "query key {k:?} is given twice (one of its values would be ignored)"
            )));
        }
        let name = u.take("name");
        if name.as_deref() == Some("") {
            return Err(u.error("name is empty: a destination needs a name"));
        }
        let level = u
            .take("level")
            .map(|l| l.parse::<Level>().map_err(|e| u.error(e)))
            .transpose()?;
        // Every common key is checked before the factory runs, so that a bad one never
        // leaves a side effect behind (a file created, a socket opened).
        let format = match u.take("format").as_deref() {
            None => None,
            Some("json") => Some(Format::Json),
            Some("text") => Some(Format::Text),
            Some("logfmt") => Some(Format::Logfmt),
            Some(other) => {
                return Err(u.error(format!(
                    "format {other:?} is invalid: expected json, text or logfmt"
                )));
            }
        };
        let delivery = u.take("delivery");
        let max_wait = u
            .take("max_wait")
            .map(|w| {
                lethe_core::duration::parse_duration(&w)
                    .map_err(|e| u.error(format!("max_wait: {e}")))
            })
            .transpose()?;
        let delivery = match (delivery.as_deref(), max_wait) {
            (None | Some("block"), Some(max_wait)) => Some(Delivery::Block { max_wait }),
            (None | Some("block"), None) => None,
            (Some("drop"), None) => Some(Delivery::Drop),
            (Some("drop"), Some(_)) => {
                return Err(u.error("max_wait applies only to delivery=block"));
            }
            (Some(other), _) => {
                return Err(u.error(format!(
                    "delivery {other:?} is invalid: expected block or drop"
                )));
            }
        };
        let mut d = factory(&mut u)?;
        if let Some(name) = name {
            d = d.name(&name);
        }
        if let Some(level) = level {
            d = d.level(level);
        }
        d = match format {
            None => d,
            Some(Format::Json) => d.formatter(Json::default()),
            Some(Format::Text) => d.formatter(Text::default()),
            Some(Format::Logfmt) => d.formatter(Logfmt::default()),
        };
        if let Some(delivery) = delivery {
            d = d.delivery(delivery);
        }
        Ok(d)
    }
}

/// The `format` key's formatters.
enum Format {
    Json,
    Text,
    Logfmt,
}

fn file_destination(uri: &mut Uri) -> Result<Destination, UriError> {
    match uri.authority.as_deref() {
        None | Some("" | "localhost") => {}
        Some(host) => {
            return Err(uri.error(format!(
                "file URIs name a local path; host {host:?} is not supported"
            )));
        }
    }
    if uri.path.is_empty() {
        return Err(uri.error("no file path"));
    }
    // Config reads the keys it knows; any key it did not ask for is unknown.
    let asked = std::cell::RefCell::new(Vec::<String>::new());
    let query = uri.query.clone();
    let config = Config::from_vars(|var| {
        let key = var.strip_prefix("LETHE_")?.to_ascii_lowercase();
        let value = query
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.into());
        asked.borrow_mut().push(key);
        value
    })
    .map_err(|e| uri.error(e))?;
    let asked = asked.into_inner();
    if let Some((k, _)) = uri.query.iter().find(|(k, _)| !asked.contains(k)) {
        return Err(uri.error(format!(
            "unknown query key {k:?} (file URIs take lethe_std::Config fields: {})",
            asked.join(", ")
        )));
    }
    let options = config.build().map_err(|e| uri.error(e))?;
    let d = Destination::open_file(&uri.path, options).map_err(|e| uri.error(e))?;
    uri.query.clear();
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        let u = Uri::parse("file:///var/log/a%20b.log?max_size=100MB&compress=true").unwrap();
        assert_eq!(u.scheme, "file");
        assert_eq!(u.authority.as_deref(), Some(""));
        assert_eq!(u.path, "/var/log/a b.log");
        assert_eq!(u.query.len(), 2);
        let u = Uri::parse("syslog+udp://127.0.0.1:514").unwrap();
        assert_eq!(u.authority.as_deref(), Some("127.0.0.1:514"));
        assert_eq!(Uri::parse("stdout:").unwrap().path, "");
        assert!(Uri::parse("no-scheme").is_err());
        assert!(Uri::parse("1x:").is_err());
        assert!(Uri::parse("file:///a?x").is_err());
        assert!(Uri::parse("file:///a%zz").is_err());
    }

    /// A percent-escape is `%` and exactly two hex digits: `%+a` (which `u8::from_str_radix`
    /// reads as 10, a newline) and `%-1` are errors, in the path, the authority and the
    /// query alike.
    #[test]
    fn percent_escapes_take_two_hex_digits() {
        for text in [
            "file:///a%+a.log",
            "file:///a%-1.log",
            "file:///a%+.log",
            "file:///a%a",
            "file:///a%",
            "syslog+udp://h%+1st:514",
            "stdout:?name=a%+ab",
            "stdout:?na%+fme=x",
        ] {
            let e = Uri::parse(text).unwrap_err();
            assert!(e.reason.contains("bad percent-escape"), "{text}: {e}");
        }
        let u = Uri::parse("file:///a%0Ab%7e%7E?k%3d=v%2Bw+x").unwrap();
        assert_eq!(u.path, "/a\nb~~");
        assert_eq!(u.query, [("k=".to_owned(), "v+w x".to_owned())]);
    }

    #[test]
    fn errors_name_the_problem() {
        let r = Registry::new();
        let e = r.open("ftp://x").unwrap_err();
        assert!(e.reason.contains("unknown scheme \"ftp\""), "{e}");
        let e = r.open("stdout:?colour=red").unwrap_err();
        assert!(e.reason.contains("colour"), "{e}");
        let e = r.open("stdout:?level=loud").unwrap_err();
        assert!(e.reason.contains("loud"), "{e}");
        let e = r.open("stdout:?format=xml").unwrap_err();
        assert!(e.reason.contains("xml"), "{e}");
        // stdout and stderr take no host or path: one given is not silently ignored.
        for (uri, what) in [
            (
                "stdout:/var/log/app.log",
                "no path (found \"/var/log/app.log\")",
            ),
            ("stderr:app.log", "no path (found \"app.log\")"),
            ("stdout://host", "no host (found \"host\")"),
            ("stderr:///x", "no path (found \"/x\")"),
        ] {
            let e = r.open(uri).unwrap_err();
            assert!(e.reason.contains(what), "{uri}: {e}");
        }
        for uri in ["stdout:", "stdout://", "STDERR:?level=warn"] {
            assert!(r.open(uri).is_ok(), "{uri}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        let e = r
            .open(&format!("file://{}?max_sise=1MB", path.display()))
            .unwrap_err();
        assert!(e.reason.contains("max_sise"), "{e}");
        let e = r
            .open(&format!("file://{}?max_size=ten", path.display()))
            .unwrap_err();
        assert!(
            e.reason.contains("max_size") && e.reason.contains("ten"),
            "{e}"
        );
        assert!(!path.exists());
        // A bad common key is refused before the scheme's factory runs: no file is made.
        for (key, value) in [
            ("format", "xml"),
            ("delivery", "later"),
            ("max_wait", "soon"),
            ("level", "loud"),
        ] {
            let e = r
                .open(&format!("file://{}?{key}={value}", path.display()))
                .unwrap_err();
            assert!(e.reason.contains(value), "{e}");
            assert!(!path.exists(), "{key}={value} created the file");
        }
        let e = r
            .open(&format!(
                "file://{}?delivery=drop&max_wait=1s",
                path.display()
            ))
            .unwrap_err();
        assert!(e.reason.contains("max_wait"), "{e}");
        assert!(!path.exists());
    }

    /// A key given twice would leave one of its values ignored: it is an error for the
    /// common keys, a file's `Config` keys and a scheme's own keys alike, and so is an
    /// empty destination name.
    #[test]
    fn repeated_keys_and_an_empty_name_are_errors() {
        let mut r = Registry::new();
        r.register("null", |uri| {
            let _ = uri.take("tag");
            uri.no_more_keys()?;
            Ok(Destination::backend(
                "null",
                super::super::WriteBackend(std::io::sink()),
            ))
        });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        for (uri, key) in [
            ("stdout:?level=info&level=debug".to_owned(), "level"),
            ("stdout:?name=a&format=json&name=b".to_owned(), "name"),
            ("null:?tag=a&tag=b".to_owned(), "tag"),
            (
                format!("file://{}?max_size=1MB&max_size=2MB", path.display()),
                "max_size",
            ),
        ] {
            let e = r.open(&uri).unwrap_err();
            assert!(
                e.reason
                    .contains(&format!("query key {key:?} is given twice")),
                "{uri}: {e}"
            );
        }
        assert!(!path.exists());
        let e = r.open("stdout:?name=").unwrap_err();
        assert!(e.reason.contains("name is empty"), "{e}");
        assert!(r.open("null:?tag=a&name=n").is_ok());
    }
}

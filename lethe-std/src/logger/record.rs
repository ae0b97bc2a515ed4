//! [`Record`]: one log event as the pipeline sees it, borrowing everything from the
//! caller, the logger and the thread's context.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::context;
use super::field::{Field, OwnedField, Value};
use super::level::Level;
use super::redact::Redactor;

/// A point in time, UTC: seconds and nanoseconds since the Unix epoch.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z (negative before).
    pub secs: i64,
    /// Nanoseconds within the second, `0..1_000_000_000`.
    pub nanos: u32,
}

impl Timestamp {
    /// The system's real time.
    pub fn now() -> Timestamp {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp {
                secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                nanos: d.subsec_nanos(),
            },
            Err(_) => Timestamp::default(),
        }
    }

    /// The system's real time, read from the CPU's time-stamp counter where that is a
    /// reliable clock: several times cheaper than [`Timestamp::now`] (no vDSO call), with
    /// nanosecond resolution. The logger's default clock.
    ///
    /// The counter is used on x86-64 Linux when the CPU reports a constant, non-stop
    /// counter (`constant_tsc` and `nonstop_tsc`) and the kernel uses it as its own
    /// clocksource. The time is extrapolated from an anchor on the system clock, taken
    /// again every second along with the counter's rate, so it follows the system
    /// clock's slewing and shows a step of it within a second; between anchors it stays
    /// within a few microseconds of `CLOCK_REALTIME` (a re-anchoring can therefore move it
    /// back by that much). During the first 20 ms (the first measurement of the rate),
    /// and on every other machine, it is [`Timestamp::now`]. Whether the counter is
    /// usable is decided once, by building a logger or by the first call (which reads
    /// `/proc/cpuinfo` and the clocksource from sysfs).
    #[inline]
    pub fn now_fast() -> Timestamp {
        super::tsc_clock::now()
    }

    /// Whether this machine's time-stamp counter is a clock [`Timestamp::now_fast`] can
    /// use (x86-64 Linux, `constant_tsc` and `nonstop_tsc`, and the kernel's clocksource
    /// is `tsc`). Reads `/proc/cpuinfo` and sysfs on every call.
    pub fn tsc_is_clock() -> bool {
        super::tsc_clock::reliable()
    }

    /// The kernel's coarse real time (`CLOCK_REALTIME_COARSE`): several times cheaper
    /// than [`Timestamp::now`], but it only advances once per scheduler tick (1 to 4 ms
    /// on Linux), so records within a tick share a timestamp. For
    /// [`LoggerBuilder::clock`](crate::logger::LoggerBuilder::clock) when speed matters
    /// more than sub-millisecond times. Elsewhere than Linux and FreeBSD it is
    /// [`Timestamp::now`].
    pub fn now_coarse() -> Timestamp {
        #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
        {
            let t = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
            Timestamp {
                secs: t.tv_sec,
                nanos: u32::try_from(t.tv_nsec).unwrap_or(0).min(999_999_999),
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
        {
            Timestamp::now()
        }
    }
}

/// The message of a record.
#[derive(Copy, Clone, Debug)]
pub enum Message<'a> {
    /// Plain text.
    Str(&'a str),
    /// `format_args!` output, rendered when (and only if) a destination takes the record.
    Args(fmt::Arguments<'a>),
    /// Bytes that should be text; invalid UTF-8 is replaced with U+FFFD.
    Bytes(&'a [u8]),
}

/// Adds fields to every record (hostname, process id, thread name, a deployment id...).
/// Called while a destination formats the record, on the caller's thread, so it sees the
/// caller's thread; it must not log through the same logger.
pub trait Enricher: Send + Sync {
    /// Calls `add` once per field to add.
    fn enrich(&self, record: &Record<'_>, add: &mut dyn FnMut(&str, Value<'_>));
}

impl<F> Enricher for F
where
    F: Fn(&Record<'_>, &mut dyn FnMut(&str, Value<'_>)) + Send + Sync,
{
    fn enrich(&self, record: &Record<'_>, add: &mut dyn FnMut(&str, Value<'_>)) {
        self(record, add);
    }
}

/// The enricher that adds the calling thread's name (`thread`), when it has one.
#[derive(Copy, Clone, Debug, Default)]
pub struct ThreadName;

impl Enricher for ThreadName {
    fn enrich(&self, _: &Record<'_>, add: &mut dyn FnMut(&str, Value<'_>)) {
        let t = std::thread::current();
        if let Some(name) = t.name() {
            add("thread", Value::Str(name));
        }
    }
}

/// Extra fields supplied by an integration (for example the fields of the current
/// `tracing` spans): called with a visitor, in order, after the record's own fields.
pub type ExtraFields<'a> = &'a dyn Fn(&mut dyn FnMut(&str, Value<'_>));

/// One log event. Everything is borrowed; nothing is copied until a destination
/// formats it.
#[derive(Copy, Clone)]
pub struct Record<'a> {
    pub(crate) level: Level,
    pub(crate) time: Timestamp,
    pub(crate) target: &'a str,
    pub(crate) message: Message<'a>,
    pub(crate) bound: &'a [OwnedField],
    pub(crate) fields: &'a [Field<'a>],
    pub(crate) extra: Option<ExtraFields<'a>>,
    pub(crate) enrichers: &'a [Arc<dyn Enricher>],
    pub(crate) redactor: Option<&'a Redactor>,
    /// What a check made once found about `target` (`key::check`); 0: not checked.
    pub(crate) target_check: u8,
    /// The same for the message, when it is a `Message::Str` (from the macros' message
    /// without arguments); 0: not checked.
    pub(crate) message_check: u8,
}

impl fmt::Debug for Record<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("level", &self.level)
            .field("time", &self.time)
            .field("target", &self.target)
            .field("message", &self.message)
            .field("fields", &self.fields)
            .finish_non_exhaustive()
    }
}

impl<'a> Record<'a> {
    /// A record with only a level, a time, a target and a message (for formatter tests
    /// and integrations); add fields with [`Record::with_fields`].
    pub fn new(level: Level, time: Timestamp, target: &'a str, message: Message<'a>) -> Self {
        Record {
            level,
            time,
            target,
            message,
            bound: &[],
            fields: &[],
            extra: None,
            enrichers: &[],
            redactor: None,
            target_check: 0,
            message_check: 0,
        }
    }

    /// The same record with these call-site fields.
    #[must_use]
    pub fn with_fields(mut self, fields: &'a [Field<'a>]) -> Self {
        self.fields = fields;
        self
    }

    /// The same record, redacted by `redactor` when formatted.
    #[must_use]
    pub fn with_redactor(mut self, redactor: &'a Redactor) -> Self {
        self.redactor = Some(redactor);
        self
    }

    /// The level.
    pub fn level(&self) -> Level {
        self.level
    }

    /// When the record was made.
    pub fn time(&self) -> Timestamp {
        self.time
    }

    /// Where it comes from (a module path, a logger name); may be empty.
    pub fn target(&self) -> &'a str {
        self.target
    }

    /// The message, unrendered and unredacted.
    pub fn message(&self) -> Message<'a> {
        self.message
    }

    /// The message's text when it is a plain string (no rendering needed).
    pub fn message_str(&self) -> Option<&'a str> {
        match self.message {
            Message::Str(s) => Some(s),
            Message::Args(a) => a.as_str(),
            Message::Bytes(_) => None,
        }
    }

    /// Visits every field, in order: the logger's bound fields, this thread's context
    /// fields, the call's fields, the integration's extra fields, then the enrichers'.
    /// Values of redacted keys arrive already replaced by the mask.
    pub fn for_each_field(&self, f: &mut dyn FnMut(&str, Value<'_>)) {
        let redactor = self.redactor;
        let mut visit = |key: &str, value: Value<'_>| match redactor {
            Some(r) if r.redacts_key(key) => f(key, Value::Str(r.mask())),
            _ => f(key, value),
        };
        for b in self.bound {
            visit(&b.key, b.value.as_value());
        }
        context::with_fields(&mut |ctx| {
            for c in ctx {
                visit(&c.key, c.value.as_value());
            }
        });
        for field in self.fields {
            visit(field.key, field.value);
        }
        if let Some(extra) = self.extra {
            extra(&mut visit);
        }
        for e in self.enrichers {
            e.enrich(self, &mut visit);
        }
    }

    /// The message as one `&str` when it is one (a `&str`, or `format_args!` without
    /// arguments) and no redactor applies, so a formatter can write it directly; `None`
    /// otherwise (then use [`message_text`](Record::message_text)).
    #[inline]
    pub(crate) fn plain_message(&self) -> Option<&'a str> {
        if self.redactor.is_some() {
            return None;
        }
        match self.message {
            Message::Str(s) => Some(s),
            Message::Args(a) => a.as_str(),
            Message::Bytes(_) => None,
        }
    }

    /// The record's fields as one slice when they are exactly the caller's: no bound,
    /// context, extra or enricher fields and no redactor. Formatters then visit them
    /// directly (the same fields, in the same order, as
    /// [`for_each_field`](Record::for_each_field) gives); `None` otherwise.
    #[inline]
    pub(crate) fn plain_fields(&self) -> Option<&'a [Field<'a>]> {
        if self.bound.is_empty()
            && self.extra.is_none()
            && self.enrichers.is_empty()
            && self.redactor.is_none()
            && context::is_empty()
        {
            Some(self.fields)
        } else {
            None
        }
    }

    /// The same record without its redactor: what filters and samplers decide on (the
    /// caller's data; redaction is for the output).
    pub(crate) fn unredacted(&self) -> Record<'a> {
        Record {
            redactor: None,
            ..*self
        }
    }

    /// Whether some field named `key` satisfies `pred` (unredacted values; for filters).
    pub fn any_field(&self, key: &str, pred: &dyn Fn(Value<'_>) -> bool) -> bool {
        let mut found = false;
        self.unredacted().for_each_field(&mut |k, v| {
            if !found && k == key && pred(v) {
                found = true;
            }
        });
        found
    }

    /// Emits the message's text in pieces, with invalid UTF-8 replaced and redaction
    /// patterns applied.
    pub fn message_text(&self, emit: &mut dyn FnMut(&str)) {
        let src = match self.message {
            Message::Str(s) => Text::Str(s),
            Message::Args(a) => Text::Args(a),
            Message::Bytes(b) => Text::Bytes(b),
        };
        render(src, self.redactor, emit);
    }

    /// Emits a value that is text-like (`Str`, `Bytes`, `Error`, `Display`, `Debug`) in
    /// pieces, with redaction patterns applied. Numbers, booleans and null are emitted
    /// as their plain text.
    pub fn value_text(&self, value: Value<'_>, emit: &mut dyn FnMut(&str)) {
        let src = match value {
            Value::Str(s) => Text::Str(s),
            Value::Bytes(b) => Text::Bytes(b),
            Value::Error(e) => Text::Error(e),
            Value::Display(d) => Text::Display(d),
            Value::Debug(d) => Text::Debug(d),
            Value::I64(v) => return emit(itoa_i64(v, &mut [0; 20])),
            Value::U64(v) => return emit(itoa_u64(v, &mut [0; 20])),
            Value::F64(v) => return emit_f64(v, &mut *emit),
            Value::Bool(v) => return emit(if v { "true" } else { "false" }),
            Value::Null => return emit("null"),
        };
        render(src, self.redactor, emit);
    }
}

enum Text<'a> {
    Str(&'a str),
    Args(fmt::Arguments<'a>),
    Bytes(&'a [u8]),
    Error(&'a (dyn std::error::Error + 'static)),
    Display(&'a dyn fmt::Display),
    Debug(&'a dyn fmt::Debug),
}

thread_local! {
    /// Rendering buffer for text that must be scanned whole (redaction patterns on a
    /// formatted message). Reused, so it allocates only while growing.
    static SCRATCH: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The largest [`SCRATCH`] buffer kept for the next text (1 MiB).
const SCRATCH_KEEP: usize = 1 << 20;

/// Passes `fmt::Write` pieces to a closure.
struct Emit<'e>(&'e mut dyn FnMut(&str));

impl fmt::Write for Emit<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        (self.0)(s);
        Ok(())
    }
}

fn render(src: Text<'_>, redactor: Option<&Redactor>, emit: &mut dyn FnMut(&str)) {
    match redactor {
        Some(r) if r.has_patterns() => {
            if let Text::Str(s) = src {
                return r.redact(s, emit);
            }
            // Render whole, then scan.
            let scanned = SCRATCH.try_with(|cell| match cell.try_borrow_mut() {
                Ok(mut buf) => {
                    buf.clear();
                    render_plain(src_clone(&src), &mut |piece| buf.push_str(piece));
                    r.redact(&buf, emit);
                    if buf.capacity() > SCRATCH_KEEP {
                        // One huge text must not hold its memory on this thread forever
                        // (as the formatters' buffer does not).
                        *buf = String::new();
                    }
                    true
                }
                Err(_) => false,
            });
            if scanned != Ok(true) {
                // Re-entered (a Display impl that logs): use a one-off buffer.
                let mut buf = String::new();
                render_plain(src, &mut |piece| buf.push_str(piece));
                r.redact(&buf, emit);
            }
        }
        _ => render_plain(src, emit),
    }
}

fn src_clone<'a>(src: &Text<'a>) -> Text<'a> {
    match src {
        Text::Str(s) => Text::Str(s),
        Text::Args(a) => Text::Args(*a),
        Text::Bytes(b) => Text::Bytes(b),
        Text::Error(e) => Text::Error(*e),
        Text::Display(d) => Text::Display(*d),
        Text::Debug(d) => Text::Debug(*d),
    }
}

fn render_plain(src: Text<'_>, emit: &mut dyn FnMut(&str)) {
    match src {
        Text::Str(s) => emit(s),
        Text::Args(a) => match a.as_str() {
            Some(s) => emit(s),
            None => {
                let _ = fmt::write(&mut Emit(emit), a);
            }
        },
        Text::Bytes(b) => {
            for chunk in b.utf8_chunks() {
                emit(chunk.valid());
                if !chunk.invalid().is_empty() {
                    emit("\u{FFFD}");
                }
            }
        }
        Text::Display(d) => {
            let _ = fmt::write(&mut Emit(emit), format_args!("{d}"));
        }
        Text::Debug(d) => {
            let _ = fmt::write(&mut Emit(emit), format_args!("{d:?}"));
        }
        Text::Error(e) => {
            let _ = fmt::write(&mut Emit(emit), format_args!("{e}"));
            let mut source = e.source();
            while let Some(inner) = source {
                emit(": ");
                let _ = fmt::write(&mut Emit(emit), format_args!("{inner}"));
                source = inner.source();
            }
        }
    }
}

/// Decimal digits of `v` in `buf`.
pub(crate) fn itoa_u64(v: u64, buf: &mut [u8; 20]) -> &str {
    let i = crate::decimal::u64_digits(v, buf);
    // Only ASCII digits were written.
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}

/// Decimal digits of `v` (with a leading `-`) in `buf`.
pub(crate) fn itoa_i64(v: i64, buf: &mut [u8; 20]) -> &str {
    if v >= 0 {
        return itoa_u64(v as u64, buf);
    }
    let mut tmp = [0u8; 20];
    let digits = itoa_u64(v.unsigned_abs(), &mut tmp);
    let n = digits.len();
    buf[0] = b'-';
    buf[1..=n].copy_from_slice(digits.as_bytes());
    std::str::from_utf8(&buf[..=n]).unwrap_or("0")
}

/// Emits a float: the shortest round-trip form for finite values (`1.5`, `1e300`); `NaN`, `inf`,
/// `-inf` otherwise.
pub(crate) fn emit_f64(v: f64, mut emit: impl FnMut(&str)) {
    if v.is_nan() {
        emit("NaN");
    } else if v.is_infinite() {
        emit(if v > 0.0 { "inf" } else { "-inf" });
    } else {
        // zmij (serde_json's float printer): the shortest text that reads back as `v`.
        emit(zmij::Buffer::new().format_finite(v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coarse_clock_is_the_same_clock() {
        let precise = Timestamp::now();
        let coarse = Timestamp::now_coarse();
        // The coarse clock lags by at most a tick; both count from the Unix epoch.
        assert!(
            (coarse.secs - precise.secs).abs() <= 1,
            "{coarse:?} vs {precise:?}"
        );
    }

    #[test]
    fn integers() {
        let mut b = [0; 20];
        assert_eq!(itoa_u64(0, &mut b), "0");
        assert_eq!(itoa_u64(u64::MAX, &mut b), u64::MAX.to_string());
        assert_eq!(itoa_i64(i64::MIN, &mut b), i64::MIN.to_string());
        assert_eq!(itoa_i64(-7, &mut b), "-7");
    }

    /// The buffer a redacted text is rendered into keeps at most 1 MiB for the next
    /// record: one huge value does not pin its size on the thread for good.
    #[test]
    fn the_redaction_buffer_gives_back_a_huge_text() {
        let redactor = Redactor::new().pattern("secret").unwrap();
        let r = Record::new(Level::Info, Timestamp::default(), "", Message::Str(""))
            .with_redactor(&redactor);
        let huge = format!("{} secret", "x".repeat(3 << 20));
        let mut out = 0usize;
        r.value_text(Value::display(&huge), &mut |s| out += s.len());
        assert_eq!(out, (3 << 20) + 1 + "[REDACTED]".len());
        let kept = SCRATCH.with(|c| c.borrow().capacity());
        assert!(kept <= SCRATCH_KEEP, "{kept} bytes kept");
        // A small text still reuses the buffer.
        r.value_text(Value::display(&"a secret"), &mut |_| {});
        let kept = SCRATCH.with(|c| c.borrow().capacity());
        assert!(kept > 0 && kept <= SCRATCH_KEEP, "{kept}");
    }

    #[test]
    fn text_rendering() {
        let r = Record::new(
            Level::Info,
            Timestamp::default(),
            "",
            Message::Bytes(b"a\xffb"),
        );
        let mut out = String::new();
        r.message_text(&mut |s| out.push_str(s));
        assert_eq!(out, "a\u{FFFD}b");
        let e = std::io::Error::other("disk on fire");
        out.clear();
        r.value_text(Value::error(&e), &mut |s| out.push_str(s));
        assert_eq!(out, "disk on fire");
        out.clear();
        r.value_text(Value::F64(1.5), &mut |s| out.push_str(s));
        assert_eq!(out, "1.5");
    }
}

//! Formatters: [`Json`], [`Text`], [`Logfmt`], and the [`Formatter`] trait for your own.
//! A formatter writes one record into an [`Out`], which is either a reservation in a
//! destination's ring (no copy, no allocation) or a reusable buffer.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

use lethe_core::civil::civil_from_days;
use lethe_core::ring::{GrantCursor, Slot, WriteGrant};

use super::digits::{digits8, write_f64, write_finite_f64, write_i64, write_u64};
use super::field::Value;
use super::level::Level;
use super::record::{Record, Timestamp};

pub(crate) mod sink;

pub(crate) use sink::Sink;
use sink::{GrantSink, VecSink, json_escaped, unicode_escape};
#[cfg(test)]
use sink::{JSON_ESCAPE, first_json_escape};

use super::key;

/// Where a formatter writes one record. Pushing past the end of a fixed reservation sets
/// [`is_full`](Out::is_full) and drops the rest; the logger then formats the record again
/// into a larger buffer, so a formatter never needs to check.
///
/// Writing into a reservation goes through a [`GrantCursor`]: one bounds check and a copy
/// per piece. The grant counts the bytes when the `Out` is dropped.
pub struct Out<'o, 'g> {
    inner: Inner<'o>,
    full: bool,
    _grant: PhantomData<&'o mut WriteGrant<'g, Box<[Slot]>>>,
}

enum Inner<'o> {
    /// The cursor, and what the grant held before it.
    Grant(GrantCursor<'o>, usize),
    Vec(&'o mut Vec<u8>),
}

impl<'o, 'g> Out<'o, 'g> {
    /// Writes into a growable buffer (appending).
    pub fn vec(buf: &'o mut Vec<u8>) -> Out<'o, 'g> {
        Out {
            inner: Inner::Vec(buf),
            full: false,
            _grant: PhantomData,
        }
    }

    /// Writes into a ring reservation (appending after what it holds). The grant's
    /// [`written`](WriteGrant::written) count includes what was written once the `Out` is
    /// dropped.
    pub fn grant(grant: &'o mut WriteGrant<'g, Box<[Slot]>>) -> Out<'o, 'g> {
        let before = grant.written();
        Out {
            inner: Inner::Grant(grant.cursor(), before),
            full: false,
            _grant: PhantomData,
        }
    }

    /// Appends bytes. Formatters must keep the output valid for their format; the
    /// built-in ones write valid UTF-8.
    #[inline(always)]
    pub fn push(&mut self, bytes: &[u8]) {
        match &mut self.inner {
            Inner::Vec(v) => v.extend_from_slice(bytes),
            Inner::Grant(c, _) => {
                if c.push(bytes).is_err() {
                    self.full = true;
                }
            }
        }
    }

    /// Appends one byte.
    #[inline]
    pub fn push_byte(&mut self, byte: u8) {
        self.push(&[byte]);
    }

    /// Appends text.
    #[inline]
    pub fn push_str(&mut self, s: &str) {
        self.push(s.as_bytes());
    }

    /// Whether something did not fit (only a fixed reservation fills up). What was
    /// written is then incomplete.
    pub fn is_full(&self) -> bool {
        self.full
    }

    /// Bytes in the buffer or reservation so far.
    pub fn len(&self) -> usize {
        match &self.inner {
            Inner::Vec(v) => v.len(),
            Inner::Grant(c, before) => before + c.appended(),
        }
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Has `body` write straight into the reservation's cursor or the buffer: one
    /// dispatch per record instead of one per piece (the built-in formatters' path).
    #[inline]
    pub(crate) fn write_with<B: Body>(&mut self, body: &B) {
        match &mut self.inner {
            Inner::Grant(cursor, _) => {
                self.full |= cursor.append_with(|appender| {
                    let mut sink = GrantSink {
                        appender,
                        full: false,
                    };
                    body.write(&mut sink);
                    sink.full
                });
            }
            Inner::Vec(v) => {
                let mut sink = VecSink::new(v);
                body.write(&mut sink);
                sink.finish();
            }
        }
    }
}

impl Sink for Out<'_, '_> {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        self.push(bytes);
    }
}

/// What a built-in formatter writes for one record, compiled for each kind of [`Sink`].
pub(crate) trait Body {
    /// Writes the record.
    fn write<S: Sink>(&self, out: &mut S);
}

impl fmt::Write for Out<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

/// Turns a record into bytes. Implementations must be cheap and must not log through the
/// logger that calls them. Closures `Fn(&Record, &mut Out)` are formatters.
pub trait Formatter: Send + Sync {
    /// Writes `record`, including its line terminator if the format has one.
    fn format(&self, record: &Record<'_>, out: &mut Out<'_, '_>);
}

impl<F> Formatter for F
where
    F: Fn(&Record<'_>, &mut Out<'_, '_>) + Send + Sync,
{
    fn format(&self, record: &Record<'_>, out: &mut Out<'_, '_>) {
        self(record, out);
    }
}

/// How many fractional digits timestamps carry.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimePrecision {
    /// Whole seconds.
    Seconds,
    /// Milliseconds (3 digits).
    Millis,
    /// Microseconds (6 digits).
    #[default]
    Micros,
    /// Nanoseconds (9 digits).
    Nanos,
}

thread_local! {
    /// The last second formatted on this thread, and its `YYYY-MM-DDTHH:MM:SS` text
    /// (see [`DateText`]).
    static SECOND: Cell<(i64, DateText)> = const { Cell::new((i64::MIN, [0; 3])) };
}

/// `YYYY-MM-DDTHH:MM:SS` in three little-endian words (the last holds 3 bytes): moved
/// and written as three word stores, where a `[u8; 19]` is moved a byte at a time.
type DateText = [u64; 3];

fn date_words(text: &[u8; 19]) -> DateText {
    let mut b = [0u8; 24];
    b[..19].copy_from_slice(text);
    std::array::from_fn(|i| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i * 8..i * 8 + 8]);
        u64::from_le_bytes(w)
    })
}

fn civil_second(secs: i64) -> [u8; 19] {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let year = year.clamp(0, 9999) as u32;
    let mut b = *b"0000-00-00T00:00:00";
    let put2 = |b: &mut [u8; 19], at: usize, v: u32| {
        b[at] = b'0' + (v / 10) as u8;
        b[at + 1] = b'0' + (v % 10) as u8;
    };
    put2(&mut b, 0, year / 100);
    put2(&mut b, 2, year % 100);
    put2(&mut b, 5, u32::from(month));
    put2(&mut b, 8, u32::from(day));
    put2(&mut b, 11, (sod / 3600) as u32);
    put2(&mut b, 14, (sod / 60 % 60) as u32);
    put2(&mut b, 17, (sod % 60) as u32);
    b
}

/// `t`'s date and time of day, `YYYY-MM-DDTHH:MM:SS`, from a per-thread cache of the
/// last second formatted: a record in the same second as the previous one on its thread
/// costs a compare.
#[inline(always)]
fn date_time(secs: i64) -> DateText {
    SECOND
        .try_with(|c| {
            let (s, text) = c.get();
            if s == secs { text } else { new_second(c, secs) }
        })
        .unwrap_or_else(|_| date_words(&civil_second(secs)))
}

/// [`date_time`] for a second other than the cached one: out of line, so the common
/// case (a compare and three words) inlines into the formatter.
#[cold]
#[inline(never)]
fn new_second(c: &Cell<(i64, DateText)>, secs: i64) -> DateText {
    let text = date_words(&civil_second(secs));
    c.set((secs, text));
    text
}

/// Writes `t` as RFC 3339 in UTC (`2026-11-26T11:31:02.123456Z`). The date part is
/// computed once per second per thread.
pub fn write_rfc3339(out: &mut Out<'_, '_>, t: Timestamp, precision: TimePrecision) {
    rfc3339(out, t, precision);
}

/// [`write_rfc3339`] into any sink: the cached date and time of day, the fraction and the
/// `Z`, as one fixed-size piece.
#[inline(always)]
fn rfc3339<S: Sink + ?Sized>(out: &mut S, t: Timestamp, precision: TimePrecision) {
    let date = date_time(t.secs);
    let nanos = t.nanos.min(999_999_999);
    // The fraction's digits come as one word (see `digits8`), framed by `.` and `Z`; the
    // whole timestamp is one fixed-size piece written in place (one bounds check).
    match precision {
        TimePrecision::Seconds => out.put_array::<20>(|d| {
            put_date(d, date);
            d[19] = b'Z';
        }),
        TimePrecision::Millis => out.put_array::<24>(|d| {
            put_date(d, date);
            // "00000mmm": bytes 5..8 to 1..4.
            let w = (digits8(nanos / 1_000_000) >> 32) & 0xffff_ff00;
            let w = w | u64::from(b'.') | u64::from(b'Z') << 32;
            d[19..].copy_from_slice(&w.to_le_bytes()[..5]);
        }),
        TimePrecision::Micros => out.put_array::<27>(|d| {
            put_date(d, date);
            // "00uuuuuu": bytes 2..8 to 1..7.
            let w = (digits8(nanos / 1_000) >> 8) & 0x00ff_ffff_ffff_ff00;
            let w = w | u64::from(b'.') | u64::from(b'Z') << 56;
            d[19..].copy_from_slice(&w.to_le_bytes());
        }),
        TimePrecision::Nanos => out.put_array::<30>(|d| {
            put_date(d, date);
            d[19] = b'.';
            d[20] = b'0' + (nanos / 100_000_000) as u8;
            d[21..29].copy_from_slice(&digits8(nanos % 100_000_000).to_le_bytes());
            d[29] = b'Z';
        }),
    }
}

/// The cached `YYYY-MM-DDTHH:MM:SS` words (see [`date_time`]) at the start of `d`.
#[inline(always)]
fn put_date(d: &mut [u8], [a, b, c]: [u64; 3]) {
    d[..8].copy_from_slice(&a.to_le_bytes());
    d[8..16].copy_from_slice(&b.to_le_bytes());
    d[16..19].copy_from_slice(&c.to_le_bytes()[..3]);
}

/// JSON string contents: `"`, `\` and every control character escaped. Runs of bytes
/// that need no escape are found a word at a time and copied at once.
pub fn write_json_escaped(out: &mut Out<'_, '_>, s: &str) {
    json_escaped(out, s);
}

/// Byte classes for the text formats, one bit each (a table lookup per byte instead of a
/// chain of compares).
pub(crate) const LOGFMT_SPECIAL: u8 = 1; // quoted in a logfmt value, `_` in a key: <= ' ', `=`, `"`, DEL
pub(crate) const LINE_ESCAPE: u8 = 2; // escaped on a one-line format: control characters and DEL
const QUOTED_ESCAPE: u8 = 4; // also escaped inside quotes: `"` and `\`
pub(crate) const TEXT_CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i <= 0x20 {
        t[i] = LOGFMT_SPECIAL;
        if i < 0x20 {
            t[i] |= LINE_ESCAPE;
        }
        i += 1;
    }
    t[0x7f] = LOGFMT_SPECIAL | LINE_ESCAPE;
    t[b'=' as usize] = LOGFMT_SPECIAL;
    t[b'"' as usize] = LOGFMT_SPECIAL | QUOTED_ESCAPE;
    t[b'\\' as usize] = QUOTED_ESCAPE;
    t
};
/// [`TEXT_CLASSES`] as one table in memory, for the scans.
static TEXT_CLASS: [u8; 256] = TEXT_CLASSES;

/// Whether any byte of `s` is in `class`.
#[inline]
fn any_in(s: &[u8], class: u8) -> bool {
    first_in(s, class) < s.len()
}

/// The index of the first byte of `s` in `class`, or `s.len()`: eight bytes at a time
/// (see [`sink::first_flagged_by`]).
#[inline(always)]
fn first_in(s: &[u8], class: u8) -> usize {
    let by_table = |c: u8| TEXT_CLASS[usize::from(c)] & class != 0;
    match class {
        LOGFMT_SPECIAL => sink::first_flagged_by(s, sink::logfmt_special_mask, by_table),
        LINE_ESCAPE => sink::first_flagged_by(s, sink::line_escape_mask, by_table),
        _ => sink::first_flagged_by(s, sink::quoted_escape_mask, by_table),
    }
}

/// Text for a one-line human format: control characters escaped (`\n`, `\t`, `\r`,
/// `\u00XX`), everything else as is.
fn write_line_escaped<S: Sink + ?Sized>(out: &mut S, s: &str, quote: bool) {
    let b = s.as_bytes();
    let class = if quote {
        LINE_ESCAPE | QUOTED_ESCAPE
    } else {
        LINE_ESCAPE
    };
    // The common case: nothing to escape, one copy.
    let first = first_in(b, class);
    if first == b.len() {
        out.put(b);
        return;
    }
    let mut start = 0;
    for (i, &c) in b.iter().enumerate().skip(first) {
        let short: &[u8] = match c {
            b'"' if quote => b"\\\"",
            b'\\' if quote => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f | 0x7f => &[],
            _ => continue,
        };
        out.put(&b[start..i]);
        if short.is_empty() {
            out.put(&unicode_escape(c));
        } else {
            out.put(short);
        }
        start = i + 1;
    }
    out.put(&b[start..]);
}

/// `,"key":value`. `key_clean` says the key is known to need no escape
/// (`Field::key_json_clean`), so it is copied rather than scanned; `plain` says the record
/// has no redactor, so text values are written as they are.
#[inline(always)]
fn json_field<S: Sink + ?Sized>(
    out: &mut S,
    record: &Record<'_>,
    key: &str,
    key_clean: bool,
    value: Value<'_>,
    plain: bool,
) {
    out.put(b",\"");
    if key_clean {
        out.put(key.as_bytes());
    } else {
        json_escaped(out, key);
    }
    json_value(out, record, value, plain);
}

/// What follows a JSON field's key: `":value`.
#[inline(always)]
fn json_value<S: Sink + ?Sized>(out: &mut S, record: &Record<'_>, value: Value<'_>, plain: bool) {
    match value {
        Value::I64(v) => {
            out.put(b"\":");
            write_i64(out, v);
        }
        Value::U64(v) => {
            out.put(b"\":");
            write_u64(out, v);
        }
        Value::F64(v) if v.is_finite() => {
            out.put(b"\":");
            write_finite_f64(out, v);
        }
        Value::F64(v) => {
            out.put(b"\":\"");
            write_f64(out, v);
            out.put(b"\"");
        }
        Value::Bool(v) => out.put(if v { b"\":true" } else { b"\":false" }),
        Value::Null => out.put(b"\":null"),
        Value::Str(s) if plain => {
            out.put(b"\":\"");
            json_escaped(out, s);
            out.put(b"\"");
        }
        _ => {
            out.put(b"\":\"");
            record.value_text(value, &mut |s| json_escaped(out, s));
            out.put(b"\"");
        }
    }
}

/// `","level":"info","msg":"` (what follows the time when there is no target).
#[inline]
fn json_level_msg(level: Level) -> &'static [u8] {
    match level {
        Level::Trace => b"\",\"level\":\"trace\",\"msg\":\"",
        Level::Debug => b"\",\"level\":\"debug\",\"msg\":\"",
        Level::Info => b"\",\"level\":\"info\",\"msg\":\"",
        Level::Warn => b"\",\"level\":\"warn\",\"msg\":\"",
        Level::Error => b"\",\"level\":\"error\",\"msg\":\"",
        Level::Fatal => b"\",\"level\":\"fatal\",\"msg\":\"",
    }
}

/// `","level":"info","target":"` (what follows the time when there is a target).
#[inline]
fn json_level_target(level: Level) -> &'static [u8] {
    match level {
        Level::Trace => b"\",\"level\":\"trace\",\"target\":\"",
        Level::Debug => b"\",\"level\":\"debug\",\"target\":\"",
        Level::Info => b"\",\"level\":\"info\",\"target\":\"",
        Level::Warn => b"\",\"level\":\"warn\",\"target\":\"",
        Level::Error => b"\",\"level\":\"error\",\"target\":\"",
        Level::Fatal => b"\",\"level\":\"fatal\",\"target\":\"",
    }
}

/// One JSON object per line:
/// `{"time":"2026-11-26T11:31:02.123456Z","level":"info","target":"app","msg":"...","key":value,...}`.
///
/// Timestamps are RFC 3339 in UTC. Strings are escaped as RFC 8259 requires (quotes,
/// backslashes, every control character); invalid UTF-8 in byte values becomes U+FFFD;
/// integers, finite floats and booleans are JSON numbers and booleans; non-finite floats
/// are the strings `"NaN"`, `"inf"`, `"-inf"`. `target` is left out when empty. Fields
/// follow in the order [`Record::for_each_field`] gives; a key that repeats is written
/// each time.
#[derive(Copy, Clone, Debug, Default)]
pub struct Json {
    /// Fractional digits of the timestamp (default microseconds).
    pub precision: TimePrecision,
}

impl Formatter for Json {
    fn format(&self, record: &Record<'_>, out: &mut Out<'_, '_>) {
        out.write_with(&JsonRecord {
            precision: self.precision,
            record,
        });
    }
}

struct JsonRecord<'r, 'a> {
    precision: TimePrecision,
    record: &'r Record<'a>,
}

impl Body for JsonRecord<'_, '_> {
    #[inline]
    fn write<S: Sink>(&self, out: &mut S) {
        let record = self.record;
        out.put(b"{\"time\":\"");
        rfc3339(out, record.time(), self.precision);
        let target = record.target();
        if target.is_empty() {
            out.put(json_level_msg(record.level()));
        } else {
            out.put(json_level_target(record.level()));
            if record.target_check & key::JSON_CLEAN != 0 {
                out.put(target.as_bytes());
            } else {
                json_escaped(out, target);
            }
            out.put(b"\",\"msg\":\"");
        }
        match record.plain_message() {
            Some(m) if record.message_check & key::JSON_CLEAN != 0 => out.put(m.as_bytes()),
            Some(m) => json_escaped(out, m),
            None => record.message_text(&mut |s| json_escaped(out, s)),
        }
        out.put(b"\"");
        match record.plain_fields() {
            Some(fields) => {
                for f in fields {
                    json_field(out, record, f.key, f.key_json_clean(), f.value, true);
                }
            }
            None => record.for_each_field(&mut |key, value| {
                json_field(out, record, key, false, value, false);
            }),
        }
        out.put(b"}\n");
    }
}

fn logfmt_key<S: Sink + ?Sized>(out: &mut S, key: &str) {
    if key.is_empty() {
        out.put(b"_");
        return;
    }
    let ok = |c: u8| TEXT_CLASS[usize::from(c)] & LOGFMT_SPECIAL == 0;
    if !any_in(key.as_bytes(), LOGFMT_SPECIAL) {
        out.put(key.as_bytes());
    } else {
        for c in key.bytes() {
            out.put(if ok(c) {
                std::slice::from_ref(&c)
            } else {
                b"_"
            });
        }
    }
}

/// Produces a text in pieces, through the closure it is given.
type TextSource<'a> = &'a dyn Fn(&mut dyn FnMut(&str));

/// A text value, quoted when it is empty or holds a space, `=`, `"` or a control
/// character. `emit_all` gives the text in pieces; it is called at most twice.
fn logfmt_text<S: Sink + ?Sized>(out: &mut S, emit_all: TextSource<'_>) {
    let mut needs_quotes = false;
    let mut empty = true;
    emit_all(&mut |s| {
        empty &= s.is_empty();
        needs_quotes |= any_in(s.as_bytes(), LOGFMT_SPECIAL);
    });
    if needs_quotes || empty {
        out.put(b"\"");
        emit_all(&mut |s| write_line_escaped(out, s, true));
        out.put(b"\"");
    } else {
        emit_all(&mut |s| out.put(s.as_bytes()));
    }
}

/// Whether a logfmt value must be quoted: empty, or holding a space, `=`, `"` or a
/// control character.
#[inline]
fn logfmt_needs_quotes(s: &str) -> bool {
    s.is_empty() || any_in(s.as_bytes(), LOGFMT_SPECIAL)
}

/// A `&str` value (no redactor): quoted and escaped when it must be, else as is.
#[inline]
fn logfmt_str<S: Sink + ?Sized>(out: &mut S, s: &str) {
    if logfmt_needs_quotes(s) {
        out.put(b"\"");
        write_line_escaped(out, s, true);
        out.put(b"\"");
    } else {
        out.put(s.as_bytes());
    }
}

/// A value; `plain` says the record has no redactor, so text is written as it is.
#[inline]
fn logfmt_value<S: Sink + ?Sized>(out: &mut S, record: &Record<'_>, value: Value<'_>, plain: bool) {
    match value {
        Value::I64(v) => write_i64(out, v),
        Value::U64(v) => write_u64(out, v),
        Value::F64(v) => write_f64(out, v),
        Value::Bool(v) => out.put(if v { b"true" } else { b"false" }),
        Value::Null => out.put(b"null"),
        Value::Str(s) if plain => logfmt_str(out, s),
        _ => logfmt_text(out, &|emit| record.value_text(value, emit)),
    }
}

/// ` key=value` for each field: straight over the caller's fields when the record has
/// nothing else (see [`Record::plain_fields`]), else through the general walk. Inlined
/// into the record body, with integers, booleans and strings written in place (a call
/// per field cost about as much as writing an integer).
#[inline(always)]
fn logfmt_fields<S: Sink + ?Sized>(out: &mut S, record: &Record<'_>) {
    match record.plain_fields() {
        Some(fields) => {
            for f in fields {
                out.put(b" ");
                if f.key_logfmt_clean() {
                    out.put(f.key.as_bytes());
                } else {
                    logfmt_key(out, f.key);
                }
                out.put(b"=");
                match f.value {
                    Value::U64(v) => write_u64(out, v),
                    Value::I64(v) => write_i64(out, v),
                    Value::Bool(v) => out.put(if v { b"true" } else { b"false" }),
                    Value::Str(s) => logfmt_str(out, s),
                    v => logfmt_value(out, record, v, true),
                }
            }
        }
        None => record.for_each_field(&mut |key, value| {
            out.put(b" ");
            logfmt_key(out, key);
            out.put(b"=");
            logfmt_value(out, record, value, false);
        }),
    }
}

/// [logfmt](https://brandur.org/logfmt): `time=2026-11-26T11:31:02.123456Z level=info
/// target=app msg="request served" key=value ...`, one line per record. Values with
/// spaces, `=`, quotes or control characters are quoted and escaped; characters not
/// allowed in a key become `_`.
#[derive(Copy, Clone, Debug, Default)]
pub struct Logfmt {
    /// Fractional digits of the timestamp (default microseconds).
    pub precision: TimePrecision,
}

impl Formatter for Logfmt {
    fn format(&self, record: &Record<'_>, out: &mut Out<'_, '_>) {
        out.write_with(&LogfmtRecord {
            precision: self.precision,
            record,
        });
    }
}

struct LogfmtRecord<'r, 'a> {
    precision: TimePrecision,
    record: &'r Record<'a>,
}

impl Body for LogfmtRecord<'_, '_> {
    #[inline]
    fn write<S: Sink>(&self, out: &mut S) {
        let record = self.record;
        out.put(b"time=");
        rfc3339(out, record.time(), self.precision);
        out.put(match record.level() {
            Level::Trace => b" level=trace",
            Level::Debug => b" level=debug",
            Level::Info => b" level=info",
            Level::Warn => b" level=warn",
            Level::Error => b" level=error",
            Level::Fatal => b" level=fatal",
        });
        if !record.target().is_empty() {
            out.put(b" target=");
            if record.target_check & key::LOGFMT_CLEAN != 0 {
                out.put(record.target().as_bytes());
            } else {
                logfmt_text(out, &|emit| emit(record.target()));
            }
        }
        out.put(b" msg=");
        match record.plain_message() {
            Some(m) if record.message_check & key::LOGFMT_CLEAN != 0 => out.put(m.as_bytes()),
            Some(m) => logfmt_str(out, m),
            None => logfmt_text(out, &|emit| record.message_text(emit)),
        }
        logfmt_fields(out, record);
        out.put(b"\n");
    }
}

/// For people: `2026-11-26T11:31:02.123456Z INFO  app: request served key=value ...`,
/// one line per record (newlines and other control characters in the message are
/// escaped); field values as in [`Logfmt`].
#[derive(Copy, Clone, Debug, Default)]
pub struct Text {
    /// Fractional digits of the timestamp (default microseconds).
    pub precision: TimePrecision,
}

impl Formatter for Text {
    fn format(&self, record: &Record<'_>, out: &mut Out<'_, '_>) {
        out.write_with(&TextRecord {
            precision: self.precision,
            record,
        });
    }
}

struct TextRecord<'r, 'a> {
    precision: TimePrecision,
    record: &'r Record<'a>,
}

impl Body for TextRecord<'_, '_> {
    #[inline]
    fn write<S: Sink>(&self, out: &mut S) {
        let record = self.record;
        rfc3339(out, record.time(), self.precision);
        out.put(match record.level() {
            Level::Trace => b" TRACE ",
            Level::Debug => b" DEBUG ",
            Level::Info => b" INFO  ",
            Level::Warn => b" WARN  ",
            Level::Error => b" ERROR ",
            Level::Fatal => b" FATAL ",
        });
        if !record.target().is_empty() {
            if record.target_check & key::LINE_CLEAN != 0 {
                out.put(record.target().as_bytes());
            } else {
                write_line_escaped(out, record.target(), false);
            }
            out.put(b": ");
        }
        match record.plain_message() {
            Some(m) if record.message_check & key::LINE_CLEAN != 0 => out.put(m.as_bytes()),
            Some(m) => write_line_escaped(out, m, false),
            None => record.message_text(&mut |s| write_line_escaped(out, s, false)),
        }
        logfmt_fields(out, record);
        out.put(b"\n");
    }
}

#[cfg(test)]
mod tests {
    use super::super::field::Field;
    use super::super::level::Level;
    use super::super::record::Message;
    use super::*;

    fn render(f: &dyn Formatter, r: &Record<'_>) -> String {
        let mut v = Vec::new();
        f.format(r, &mut Out::vec(&mut v));
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn formats() {
        let t = Timestamp {
            secs: 1_795_000_000,
            nanos: 123_456_789,
        };
        let fields = [
            Field::new("n", 3),
            Field::new("s", "a b"),
            Field::new("ok", true),
            Field::new("f", f64::NAN),
        ];
        let r = Record::new(Level::Warn, t, "app", Message::Str("hi \"x\"\n")).with_fields(&fields);
        assert_eq!(
            render(&Json::default(), &r),
            "{\"time\":\"2026-11-18T11:06:40.123456Z\",\"level\":\"warn\",\"target\":\"app\",\
             \"msg\":\"hi \\\"x\\\"\\n\",\"n\":3,\"s\":\"a b\",\"ok\":true,\"f\":\"NaN\"}\n"
        );
        assert_eq!(
            render(
                &Logfmt {
                    precision: TimePrecision::Millis
                },
                &r
            ),
            "time=2026-11-18T11:06:40.123Z level=warn target=app msg=\"hi \\\"x\\\"\\n\" n=3 \
             s=\"a b\" ok=true f=NaN\n"
        );
        assert_eq!(
            render(
                &Text {
                    precision: TimePrecision::Seconds
                },
                &r
            ),
            "2026-11-18T11:06:40Z WARN  app: hi \"x\"\\n n=3 s=\"a b\" ok=true f=NaN\n"
        );
    }

    /// The per-thread cache of the date and time of day, against jiff, across second,
    /// minute, day, leap-day and year boundaries, going forward and back.
    #[test]
    fn rfc3339_cache_matches_jiff() {
        let starts = [
            1_795_000_000, // 2026-11-18T11:06:40
            1_798_761_599, // 2026-12-31T23:59:59
            951_868_799,   // 2000-02-29T23:59:59
            1_709_164_799, // 2024-02-28T23:59:59
            0,
            -1,
        ];
        let precisions = [
            (TimePrecision::Seconds, 0),
            (TimePrecision::Millis, 3),
            (TimePrecision::Micros, 6),
            (TimePrecision::Nanos, 9),
        ];
        for start in starts {
            for secs in [
                start,
                start,
                start + 1,
                start + 1,
                start + 60,
                start,
                start + 86_400,
            ] {
                for nanos in [0, 5, 123_456_789, 999_999_999] {
                    let j = jiff::Timestamp::new(secs, nanos as i32).unwrap();
                    let date = j
                        .to_zoned(jiff::tz::TimeZone::UTC)
                        .strftime("%Y-%m-%dT%H:%M:%S")
                        .to_string();
                    for (p, digits) in precisions {
                        let mut got = Vec::new();
                        write_rfc3339(&mut Out::vec(&mut got), Timestamp { secs, nanos }, p);
                        let frac = format!("{nanos:09}");
                        let want = if digits == 0 {
                            format!("{date}Z")
                        } else {
                            format!("{date}.{}Z", &frac[..digits])
                        };
                        assert_eq!(String::from_utf8(got).unwrap(), want, "{secs}.{nanos:09}");
                    }
                }
            }
        }
    }

    /// The word-at-a-time scan finds exactly the first byte the table escapes, wherever it
    /// sits, for every byte value.
    #[test]
    fn escape_scan_matches_table() {
        for c in 0..=255u8 {
            for len in 0..20 {
                for at in 0..len {
                    let mut b = vec![b'a'; len];
                    b[at] = c;
                    let want = b
                        .iter()
                        .position(|&x| JSON_ESCAPE[usize::from(x)] != 0)
                        .unwrap_or(len);
                    assert_eq!(first_json_escape(&b), want, "byte {c:#x} at {at} of {len}");
                }
            }
        }
    }

    /// Escaped output against serde_json's reading of it, for strings with escapes at
    /// word boundaries and in runs.
    #[test]
    fn json_escaping_round_trips() {
        let mut cases: Vec<String> = vec![
            String::new(),
            "plain text, longer than one word".into(),
            "\"\\\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}".into(),
            "caf\u{e9} \u{1f600} \"quoted\"".into(),
        ];
        for c in 0..0x80u8 {
            for at in [0, 7, 8, 9, 15, 16] {
                let mut s = "0123456789abcdefg".to_string().into_bytes();
                s[at] = c;
                cases.push(String::from_utf8(s).unwrap());
            }
        }
        for s in cases {
            let mut v = b"\"".to_vec();
            write_json_escaped(&mut Out::vec(&mut v), &s);
            v.push(b'"');
            let back: String = serde_json::from_slice(&v).unwrap();
            assert_eq!(back, s);
        }
    }

    /// The direct field walk writes what the general one does.
    #[test]
    fn plain_fields_match_general_walk() {
        let t = Timestamp {
            secs: 1_795_000_000,
            nanos: 1,
        };
        let fields = [
            Field::new("path", "/v1/\"items\""),
            Field::new("status", 200),
            Field::new("ms", 1.25),
            Field::new("we\"ird\nkey", -3),
            Field::new("nan", f64::NEG_INFINITY),
        ];
        let r = Record::new(Level::Info, t, "", Message::Str("m")).with_fields(&fields);
        assert!(r.plain_fields().is_some());
        let mut general = String::new();
        r.for_each_field(&mut |k, v| {
            let mut b = Vec::new();
            json_field(&mut Out::vec(&mut b), &r, k, false, v, false);
            general.push_str(std::str::from_utf8(&b).unwrap());
        });
        let line = render(&Json::default(), &r);
        assert_eq!(
            line,
            format!(
                "{{\"time\":\"2026-11-18T11:06:40.000000Z\",\"level\":\"info\",\"msg\":\"m\"{general}}}\n"
            )
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["we\"ird\nkey"], -3);
        assert_eq!(v["path"], "/v1/\"items\"");
        let _ctx = super::super::context::push(&[Field::new("c", 1)]);
        assert!(r.plain_fields().is_none());
        assert!(render(&Json::default(), &r).ends_with(",\"c\":1,\"path\":\"/v1/\\\"items\\\"\",\"status\":200,\"ms\":1.25,\"we\\\"ird\\nkey\":-3,\"nan\":\"-inf\"}\n"));
    }

    /// Every formatter writes the same line whether it takes the direct paths (a `&str`
    /// message, the caller's fields only) or the general ones (here forced by an
    /// enricher that adds nothing), for ordinary and hostile text.
    #[test]
    fn direct_and_general_paths_agree() {
        use std::sync::Arc;
        let nothing: Arc<dyn super::super::record::Enricher> =
            Arc::new(|_: &Record<'_>, _: &mut dyn FnMut(&str, Value<'_>)| {});
        let enrichers = [nothing];
        let t = Timestamp {
            secs: 1_795_000_000,
            nanos: 987_654_321,
        };
        let texts = [
            "",
            "plain",
            "a b",
            "x=y",
            "q\"uote",
            "back\\slash",
            "nl\nand\ttab\u{7f}\u{1}",
            "caf\u{e9}",
        ];
        for msg in texts {
            for val in texts {
                let fields = [
                    Field::new(val, val),
                    Field::new("i", -42),
                    Field::new("u", 7u64),
                    Field::new("f", 1.25),
                    Field::new("g", 0.1),
                    Field::new("big", 1e300),
                    Field::new("nan", f64::NAN),
                    Field::new("b", false),
                    Field::new("n", Value::Null),
                ];
                let direct =
                    Record::new(Level::Error, t, "app", Message::Str(msg)).with_fields(&fields);
                assert!(direct.plain_fields().is_some() && direct.plain_message().is_some());
                let mut general = direct;
                general.enrichers = &enrichers;
                general.message = Message::Bytes(msg.as_bytes());
                assert!(general.plain_fields().is_none() && general.plain_message().is_none());
                let formatters: [&dyn Formatter; 3] =
                    [&Json::default(), &Logfmt::default(), &Text::default()];
                for f in formatters {
                    assert_eq!(render(f, &direct), render(f, &general), "{msg:?} {val:?}");
                }
            }
        }
    }

    /// The byte-class table holds exactly the classes' definitions.
    #[test]
    fn text_classes() {
        for c in 0..=255u8 {
            let t = TEXT_CLASS[usize::from(c)];
            let special = c <= b' ' || c == b'=' || c == b'"' || c == 0x7f;
            assert_eq!(t & LOGFMT_SPECIAL != 0, special, "{c:#x}");
            assert_eq!(t & LINE_ESCAPE != 0, c < 0x20 || c == 0x7f, "{c:#x}");
            assert_eq!(t & QUOTED_ESCAPE != 0, c == b'"' || c == b'\\', "{c:#x}");
        }
    }

    /// The word-at-a-time class scans find exactly the first byte the table puts in the
    /// class, for every byte value at every offset of strings up to three words long,
    /// amid ordinary and high bytes.
    #[test]
    fn class_scans_match_table() {
        for class in [LOGFMT_SPECIAL, LINE_ESCAPE, LINE_ESCAPE | QUOTED_ESCAPE] {
            for c in 0..=255u8 {
                for len in 0..26 {
                    for at in 0..len {
                        for fill in [b'a', b'~', 0xc3, 0xff] {
                            let mut b = vec![fill; len];
                            b[at] = c;
                            let want = b
                                .iter()
                                .position(|&x| TEXT_CLASS[usize::from(x)] & class != 0)
                                .unwrap_or(len);
                            assert_eq!(first_in(&b, class), want, "{class} {c:#x}@{at}/{len}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn dates() {
        assert_eq!(&civil_second(0), b"1970-01-01T00:00:00");
        assert_eq!(&civil_second(951_782_400), b"2000-02-29T00:00:00");
        assert_eq!(&civil_second(-1), b"1969-12-31T23:59:59");
    }
}

//! Backup file names: formatting, strict parsing, and the next sequence number.
//!
//! For an active file `app.log` (stem `app`, extension `.log`), a backup is named
//!
//! ```text
//! <stem>.<sequence>.<YYYYMMDD>T<HHMMSS><offset><ext>[<form suffix>]
//! app.0000000042.20261123T004107Z.log              UTC
//! app.0000000043.20261123T014107+0100.log          local time, with its offset
//! app.0000000042.20261123T004107Z.log.gz           compressed
//! app.0000000042.20261123T004107Z.log.gz.sha256    checksum sidecar of the .gz
//! ```
//!
//! - The **sequence** (exactly 10 digits, from 1) comes first, so sorting names as bytes
//!   sorts backups in rotation order, whatever the clock or the UTC offset did (DST
//!   changes, steps backwards). Every rotation takes a new sequence
//!   ([`next_sequence`]), so two rotations in the same second get two names and a backup
//!   is never overwritten.
//! - The **time** is the instant the backup was closed (its rotation), to the second, in
//!   the offset given when formatting: `Z` for UTC, otherwise `+HHMM`/`-HHMM`. The offset
//!   makes a local name unambiguous across DST changes. `+0000` is never written (UTC is
//!   `Z`) and never parsed, so every recognized name formats back to the same bytes.
//! - The **extension** of the active file is kept at the end, so tools that go by
//!   extension still work on backups.
//!
//! The extension is everything from the last `.` of the active file name (`app.tar.gz` has
//! stem `app.tar` and extension `.gz`); a name without a dot, or whose only dot is its
//! first character (`.hidden`), has an empty extension.
//!
//! [`Pattern::parse`] recognizes only names that [`Pattern::format`] produces: the exact
//! stem, exactly 10 digits, a valid calendar date and time, a valid offset, the exact
//! extension and one of the known [`Form`] suffixes. `app.log`, `app.log.bak`, `app.log.1`,
//! `app.1.log`, `app.0000000001.20261123T004107Z.log.bak` or `app.0000000001.20260230T000000Z.log`
//! (February 30th) are never matched, so nothing else in the directory is ever treated as
//! a backup.
//!
//! # Examples
//!
//! ```
//! use lethe_core::civil::{UnixTime, UtcOffset};
//! use lethe_core::naming::{BackupName, Form, Pattern};
//!
//! let pattern = Pattern::new("app.log")?;
//! let name = BackupName {
//!     sequence: 42,
//!     time: UnixTime::new(1_795_394_467, 0).unwrap(),
//!     offset: UtcOffset::UTC,
//!     form: Form::Raw,
//! };
//! let text = pattern.format(&name)?;
//! assert_eq!(text.as_str(), "app.0000000042.20261123T004107Z.log");
//! assert_eq!(pattern.parse(text.as_str()), Some(name));
//! assert_eq!(pattern.parse("app.log.bak"), None);
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```

use core::fmt;

use crate::civil::{DateTime, UnixTime, UtcOffset};

/// The longest active file name accepted, in bytes. With the longest backup suffix a name
/// stays under the usual 255-byte file-name limit.
pub const MAX_ACTIVE_NAME_LEN: usize = 200;
/// Digits of the sequence number.
pub const SEQUENCE_DIGITS: usize = 10;
/// The largest sequence number (10 nines).
pub const MAX_SEQUENCE: u64 = 9_999_999_999;
/// Capacity of a [`NameBuf`]: enough for any backup name of a valid [`Pattern`].
pub const NAME_BUF_LEN: usize = 256;

/// Which file of a backup a name refers to.
///
/// A *backup* is [`Form::Raw`] or [`Form::Gzip`]; the other forms are a backup's
/// companions: checksum *sidecars* and *temporaries* of work in progress. Only backups
/// count towards retention limits; companions are deleted with their backup.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Form {
    /// The rotated file itself: `B`.
    Raw,
    /// The compressed backup: `B.gz`.
    Gzip,
    /// SHA-256 sidecar of the raw backup: `B.sha256`.
    Sha256,
    /// SHA-256 sidecar of the compressed backup: `B.gz.sha256`.
    GzipSha256,
    /// A compression in progress: `B.gz.tmp`.
    GzipTmp,
    /// A raw-backup sidecar being written: `B.sha256.tmp`.
    Sha256Tmp,
    /// A compressed-backup sidecar being written: `B.gz.sha256.tmp`.
    GzipSha256Tmp,
}

impl Form {
    /// Every form, in the order suffixes are tried when parsing (longest first).
    pub const ALL: [Form; 7] = [
        Form::GzipSha256Tmp,
        Form::GzipSha256,
        Form::GzipTmp,
        Form::Sha256Tmp,
        Form::Sha256,
        Form::Gzip,
        Form::Raw,
    ];

    /// The suffix after the backup's base name.
    pub const fn suffix(self) -> &'static str {
        match self {
            Form::Raw => "",
            Form::Gzip => ".gz",
            Form::Sha256 => ".sha256",
            Form::GzipSha256 => ".gz.sha256",
            Form::GzipTmp => ".gz.tmp",
            Form::Sha256Tmp => ".sha256.tmp",
            Form::GzipSha256Tmp => ".gz.sha256.tmp",
        }
    }

    /// Is this a backup (raw or compressed), as opposed to a sidecar or a temporary?
    pub const fn is_backup(self) -> bool {
        matches!(self, Form::Raw | Form::Gzip)
    }

    /// Is this a checksum sidecar?
    pub const fn is_sidecar(self) -> bool {
        matches!(self, Form::Sha256 | Form::GzipSha256)
    }

    /// Is this a temporary file of interrupted or ongoing work?
    pub const fn is_temporary(self) -> bool {
        matches!(self, Form::GzipTmp | Form::Sha256Tmp | Form::GzipSha256Tmp)
    }
}

/// A parsed backup name (or the parts of one to format).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct BackupName {
    /// Rotation sequence number, 1..=[`MAX_SEQUENCE`] when formatted.
    pub sequence: u64,
    /// When the backup was closed. Names keep whole seconds; formatting drops the
    /// nanoseconds, parsing gives 0 nanoseconds.
    pub time: UnixTime,
    /// The UTC offset the time is written in.
    pub offset: UtcOffset,
    /// Which file of the backup.
    pub form: Form,
}

/// Why an active file name cannot be used as a [`Pattern`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PatternError {
    /// The name is empty.
    Empty,
    /// The name is longer than [`MAX_ACTIVE_NAME_LEN`] bytes.
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The name contains `/` (it must be a file name, not a path).
    Slash,
    /// The name contains a NUL byte.
    Nul,
    /// The name is `.` or `..`.
    Dots,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid log file name: ")?;
        match self {
            PatternError::Empty => f.write_str("it is empty"),
            PatternError::TooLong { len } => write!(
                f,
                "it is {len} bytes long, the limit is {MAX_ACTIVE_NAME_LEN} bytes"
            ),
            PatternError::Slash => f.write_str("a file name must not contain '/'"),
            PatternError::Nul => f.write_str("a file name must not contain a NUL byte"),
            PatternError::Dots => f.write_str("'.' and '..' are directories, not file names"),
        }
    }
}

impl core::error::Error for PatternError {}

/// Why a backup name cannot be formatted.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NameError {
    /// The sequence is 0 or above [`MAX_SEQUENCE`].
    Sequence {
        /// The rejected sequence number.
        sequence: u64,
    },
    /// The time, seen at the offset, is outside the years 1..=9999.
    TimeOutOfRange {
        /// Seconds since the epoch.
        secs: i64,
    },
    /// The offset is not a whole number of minutes, so `±HHMM` cannot express it.
    OffsetNotWholeMinutes {
        /// The offset in seconds east of UTC.
        seconds: i32,
    },
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Sequence { sequence } => write!(
                f,
                "backup sequence {sequence} is out of range (must be 1 to {MAX_SEQUENCE})"
            ),
            NameError::TimeOutOfRange { secs } => write!(
                f,
                "backup time {secs} s since the epoch is outside the years 1 to 9999"
            ),
            NameError::OffsetNotWholeMinutes { seconds } => write!(
                f,
                "UTC offset of {seconds} seconds cannot be written in a backup name \
                 (must be whole minutes)"
            ),
        }
    }
}

impl core::error::Error for NameError {}

/// All [`MAX_SEQUENCE`] sequence numbers are used.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct SequenceExhausted;

impl fmt::Display for SequenceExhausted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "backup sequence numbers are exhausted: a backup with sequence {MAX_SEQUENCE} exists"
        )
    }
}

impl core::error::Error for SequenceExhausted {}

/// The sequence number for the next backup: one more than the largest in `existing`, or 1.
///
/// # Errors
///
/// [`SequenceExhausted`] if [`MAX_SEQUENCE`] is taken; the sequence never wraps, so a
/// backup is never overwritten.
pub fn next_sequence<I>(existing: I) -> Result<u64, SequenceExhausted>
where
    I: IntoIterator<Item = BackupName>,
{
    let max = existing.into_iter().map(|n| n.sequence).max().unwrap_or(0);
    if max >= MAX_SEQUENCE {
        Err(SequenceExhausted)
    } else {
        Ok(max + 1)
    }
}

/// A formatted backup name held on the stack.
#[derive(Copy, Clone)]
pub struct NameBuf {
    buf: [u8; NAME_BUF_LEN],
    len: usize,
}

impl NameBuf {
    const fn new() -> NameBuf {
        NameBuf {
            buf: [0; NAME_BUF_LEN],
            len: 0,
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        // Only `&str` pieces and ASCII digits are ever appended, so the bytes are UTF-8.
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }

    /// Appends `s`; a valid [`Pattern`] never needs more than the capacity, and anything
    /// beyond it is dropped rather than written out of bounds.
    fn push(&mut self, s: &str) {
        let end = (self.len + s.len()).min(NAME_BUF_LEN);
        let n = end - self.len;
        self.buf[self.len..end].copy_from_slice(&s.as_bytes()[..n]);
        self.len = end;
    }

    fn push_digits(&mut self, mut value: u64, width: usize) {
        let mut digits = [b'0'; 20];
        let width = width.min(digits.len());
        for slot in digits[..width].iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
        // ASCII digits are UTF-8.
        self.push(core::str::from_utf8(&digits[..width]).unwrap_or_default());
    }
}

impl core::ops::Deref for NameBuf {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for NameBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for NameBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Backup naming for one active file: splits its name into stem and extension, formats
/// backup names and recognizes them. Borrows the name; allocates nothing.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pattern<'a> {
    stem: &'a str,
    ext: &'a str,
}

impl<'a> Pattern<'a> {
    /// The pattern for the active file named `active` (a file name, not a path).
    ///
    /// # Errors
    ///
    /// [`PatternError`] for an empty name, a name over [`MAX_ACTIVE_NAME_LEN`] bytes, one
    /// containing `/` or NUL, or `.`/`..`.
    pub fn new(active: &'a str) -> Result<Pattern<'a>, PatternError> {
        if active.is_empty() {
            return Err(PatternError::Empty);
        }
        if active.len() > MAX_ACTIVE_NAME_LEN {
            return Err(PatternError::TooLong { len: active.len() });
        }
        if active.contains('/') {
            return Err(PatternError::Slash);
        }
        if active.contains('\0') {
            return Err(PatternError::Nul);
        }
        if active == "." || active == ".." {
            return Err(PatternError::Dots);
        }
        let (stem, ext) = match active.rfind('.') {
            Some(i) if i > 0 => active.split_at(i),
            _ => (active, ""),
        };
        Ok(Pattern { stem, ext })
    }

    /// The active name without its extension.
    pub fn stem(&self) -> &'a str {
        self.stem
    }

    /// The extension, with its dot, or `""`.
    pub fn extension(&self) -> &'a str {
        self.ext
    }

    /// The file name for `name`.
    ///
    /// # Errors
    ///
    /// [`NameError`] for a sequence outside 1..=[`MAX_SEQUENCE`], a time outside the years
    /// 1..=9999 at the offset, or an offset that is not whole minutes.
    pub fn format(&self, name: &BackupName) -> Result<NameBuf, NameError> {
        if name.sequence == 0 || name.sequence > MAX_SEQUENCE {
            return Err(NameError::Sequence {
                sequence: name.sequence,
            });
        }
        let offset = name.offset.seconds();
        if offset % 60 != 0 {
            return Err(NameError::OffsetNotWholeMinutes { seconds: offset });
        }
        let dt = DateTime::from_unix(name.time, name.offset).ok_or(NameError::TimeOutOfRange {
            secs: name.time.secs(),
        })?;
        let mut out = NameBuf::new();
        out.push(self.stem);
        out.push(".");
        out.push_digits(name.sequence, SEQUENCE_DIGITS);
        out.push(".");
        out.push_digits(u64::from(dt.year), 4);
        out.push_digits(u64::from(dt.month), 2);
        out.push_digits(u64::from(dt.day), 2);
        out.push("T");
        out.push_digits(u64::from(dt.hour), 2);
        out.push_digits(u64::from(dt.minute), 2);
        out.push_digits(u64::from(dt.second), 2);
        if offset == 0 {
            out.push("Z");
        } else {
            out.push(if offset < 0 { "-" } else { "+" });
            let minutes = u64::from(offset.unsigned_abs() / 60);
            out.push_digits(minutes / 60, 2);
            out.push_digits(minutes % 60, 2);
        }
        out.push(self.ext);
        out.push(name.form.suffix());
        Ok(out)
    }

    /// Recognizes a file name that [`Pattern::format`] produces for this pattern; `None`
    /// for anything else, including the active file itself.
    pub fn parse(&self, file_name: &str) -> Option<BackupName> {
        let rest = file_name.strip_prefix(self.stem)?.strip_prefix('.')?;
        let (sequence, rest) = take_digits(rest, SEQUENCE_DIGITS)?;
        if sequence == 0 {
            return None;
        }
        let rest = rest.strip_prefix('.')?;
        let (year, rest) = take_digits(rest, 4)?;
        let (month, rest) = take_digits(rest, 2)?;
        let (day, rest) = take_digits(rest, 2)?;
        let rest = rest.strip_prefix('T')?;
        let (hour, rest) = take_digits(rest, 2)?;
        let (minute, rest) = take_digits(rest, 2)?;
        let (second, rest) = take_digits(rest, 2)?;
        let (offset, rest) = if let Some(rest) = rest.strip_prefix('Z') {
            (0i32, rest)
        } else {
            let (sign, rest) = match rest.as_bytes().first()? {
                b'+' => (1i32, &rest[1..]),
                b'-' => (-1i32, &rest[1..]),
                _ => return None,
            };
            let (oh, rest) = take_digits(rest, 2)?;
            let (om, rest) = take_digits(rest, 2)?;
            if oh > 23 || om > 59 || (oh == 0 && om == 0) {
                return None; // out of range, or a non-canonical UTC
            }
            (sign * (oh as i32 * 3600 + om as i32 * 60), rest)
        };
        let rest = rest.strip_prefix(self.ext)?;
        let form = Form::ALL.into_iter().find(|f| f.suffix() == rest)?;
        let offset = UtcOffset::from_seconds(offset).ok()?;
        let dt = DateTime {
            year: year as u16,
            month: month as u8,
            day: day as u8,
            hour: hour as u8,
            minute: minute as u8,
            second: second as u8,
        };
        let time = UnixTime::new(dt.to_unix_secs(offset)?, 0)?;
        Some(BackupName {
            sequence,
            time,
            offset,
            form,
        })
    }
}

/// Splits exactly `n` leading ASCII digits off `s` and returns their value.
fn take_digits(s: &str, n: usize) -> Option<(u64, &str)> {
    let digits = s.as_bytes().get(..n)?;
    let mut value = 0u64;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u64::from(d - b'0');
    }
    // `n` ASCII bytes end on a char boundary.
    Some((value, s.get(n..)?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::std_instead_of_alloc)]
    use super::*;
    use std::string::ToString;

    fn t(secs: i64) -> UnixTime {
        UnixTime::new(secs, 0).unwrap()
    }

    fn name(sequence: u64, secs: i64, offset: i32, form: Form) -> BackupName {
        BackupName {
            sequence,
            time: t(secs),
            offset: UtcOffset::from_seconds(offset).unwrap(),
            form,
        }
    }

    #[test]
    fn formats_utc_and_local_names() {
        let p = Pattern::new("app.log").unwrap();
        let n = name(42, 1_795_394_467, 0, Form::Raw);
        assert_eq!(
            p.format(&n).unwrap().as_str(),
            "app.0000000042.20261123T004107Z.log"
        );
        let n = name(43, 1_795_394_467, 3600, Form::Gzip);
        assert_eq!(
            p.format(&n).unwrap().as_str(),
            "app.0000000043.20261123T014107+0100.log.gz"
        );
        let n = name(1, 1_795_394_467, -(5 * 3600 + 30 * 60), Form::GzipSha256);
        assert_eq!(
            p.format(&n).unwrap().as_str(),
            "app.0000000001.20261122T191107-0530.log.gz.sha256"
        );
    }

    #[test]
    fn splits_stem_and_extension() {
        let cases = [
            ("app.log", "app", ".log"),
            ("app", "app", ""),
            (".hidden", ".hidden", ""),
            ("app.tar.gz", "app.tar", ".gz"),
            ("trailing.", "trailing", "."),
        ];
        for (active, stem, ext) in cases {
            let p = Pattern::new(active).unwrap();
            assert_eq!((p.stem(), p.extension()), (stem, ext), "{active}");
        }
    }

    #[test]
    fn every_form_round_trips() {
        let p = Pattern::new("svc.json").unwrap();
        for form in Form::ALL {
            for offset in [0, 3600, -3600, 20_700, -43_200, 50_400] {
                let n = name(MAX_SEQUENCE, 1_700_000_000, offset, form);
                let text = p.format(&n).unwrap();
                assert_eq!(p.parse(&text), Some(n), "{text}");
            }
        }
    }

    #[test]
    fn foreign_names_are_never_matched() {
        let p = Pattern::new("app.log").unwrap();
        for foreign in [
            "app.log",
            "app.log.bak",
            "app.log.1",
            "app.1.log",
            "app.log.gz",
            "app.0000000001.20261123T004107Z.log.bak",
            "app.0000000001.20261123T004107Z.log.zst",
            "app.0000000001.20261123T004107Z.txt",
            "other.0000000001.20261123T004107Z.log",
            "app.000000001.20261123T004107Z.log",
            "app.00000000001.20261123T004107Z.log",
            "app.0000000000.20261123T004107Z.log",
            "app.0000000001.20260230T000000Z.log",
            "app.0000000001.20261123T240000Z.log",
            "app.0000000001.20261123T004160Z.log",
            "app.0000000001.20261123T004107+2400.log",
            "app.0000000001.20261123T004107+0060.log",
            "app.0000000001.20261123T004107+0000.log",
            "app.0000000001.20261123T004107-0000.log",
            "app.0000000001.20261123T004107.log",
            "app.0000000001.20261123T004107z.log",
            "app.0000000001.00001123T004107Z.log",
            "app.00000000a1.20261123T004107Z.log",
            "app.0000000001.20261123t004107Z.log",
            "app.0000000001.20261123T004107Z.log.gz.tmp.tmp",
            "app.0000000001.2026-11-23T004107Z.log",
            "app.0000000001.20261123T004107Z.log\0",
            "app.０000000001.20261123T004107Z.log",
        ] {
            assert_eq!(p.parse(foreign), None, "{foreign:?}");
        }
    }

    #[test]
    fn same_second_rotations_get_distinct_names_that_sort_in_rotation_order() {
        let p = Pattern::new("app.log").unwrap();
        // Same second; then a DST fall-back makes the local wall clock go backwards.
        let a = p.format(&name(9, 1_000_000, 0, Form::Raw)).unwrap();
        let b = p.format(&name(10, 1_000_000, 0, Form::Raw)).unwrap();
        let c = p.format(&name(11, 1_000_100, 7200, Form::Raw)).unwrap();
        let d = p.format(&name(12, 1_000_200, 3600, Form::Raw)).unwrap();
        assert_ne!(a.as_str(), b.as_str());
        assert!(a.as_str() < b.as_str() && b.as_str() < c.as_str() && c.as_str() < d.as_str());
    }

    #[test]
    fn format_errors_name_the_value_and_the_rule() {
        let p = Pattern::new("app.log").unwrap();
        let e = p.format(&name(0, 0, 0, Form::Raw)).unwrap_err();
        assert_eq!(e, NameError::Sequence { sequence: 0 });
        assert!(e.to_string().contains("must be 1 to 9999999999"), "{e}");
        let e = p.format(&name(1, 0, 30, Form::Raw)).unwrap_err();
        assert!(e.to_string().contains("30 seconds"), "{e}");
        let n = BackupName {
            time: UnixTime::MIN,
            ..name(1, 0, -3600, Form::Raw)
        };
        assert!(matches!(
            p.format(&n),
            Err(NameError::TimeOutOfRange { .. })
        ));
    }

    #[test]
    fn invalid_active_names_are_rejected() {
        assert_eq!(Pattern::new(""), Err(PatternError::Empty));
        assert_eq!(Pattern::new("a/b"), Err(PatternError::Slash));
        assert_eq!(Pattern::new("a\0b"), Err(PatternError::Nul));
        assert_eq!(Pattern::new(".."), Err(PatternError::Dots));
        let long = "x".repeat(MAX_ACTIVE_NAME_LEN + 1);
        let e = Pattern::new(&long).unwrap_err();
        assert!(e.to_string().contains("201 bytes"), "{e}");
        let longest = "x".repeat(MAX_ACTIVE_NAME_LEN - 4) + ".log";
        let p = Pattern::new(&longest).unwrap();
        let n = name(MAX_SEQUENCE, 0, -3600, Form::GzipSha256Tmp);
        let text = p.format(&n).unwrap();
        assert!(text.len() < 255, "{}", text.len());
        assert_eq!(p.parse(&text), Some(n));
    }

    #[test]
    fn next_sequence_never_wraps() {
        assert_eq!(next_sequence([]), Ok(1));
        let names = [name(3, 0, 0, Form::Raw), name(7, 0, 0, Form::Sha256)];
        assert_eq!(next_sequence(names), Ok(8));
        assert_eq!(
            next_sequence([name(MAX_SEQUENCE, 0, 0, Form::Raw)]),
            Err(SequenceExhausted)
        );
    }
}

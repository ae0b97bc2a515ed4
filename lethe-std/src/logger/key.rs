//! Keys, messages and targets checked once, at compile time or when a logger is built,
//! instead of on every record.
//!
//! The formatters scan every string they write: JSON escapes `"`, `\` and control
//! characters; logfmt and [`Text`](super::Text) replace spaces, `=`, `"` and control
//! characters in keys with `_`, quote such values, and escape control characters in
//! text. The logging macros build their fields' keys, and a message without arguments,
//! as [`StaticStr`], whose constructor is a `const fn` evaluated in a `const` block, so a
//! string that needs none of that is marked clean in the binary and copied as it is; any
//! other string is still scanned. A logger checks its name (the records' target) when it
//! is made.
//! [`Field::new`](super::Field::new) makes the same check for keys of up to 24 bytes
//! (the compiler folds it for a literal key). The output is the same either way.

/// The key needs no JSON escape: no control character, `"` or `\`.
pub(crate) const JSON_CLEAN: u8 = 1;
/// The key is written unchanged by logfmt and `Text`, and as a logfmt value it needs no
/// quotes: not empty, and no byte at or below a space, no `=`, `"` or DEL.
pub(crate) const LOGFMT_CLEAN: u8 = 2;
/// No control character and no DEL: one-line text (`Text`'s message and target) as is.
pub(crate) const LINE_CLEAN: u8 = 4;

/// The longest key [`Field::new`](super::Field::new) checks itself.
pub(crate) const CHECK_AT_NEW: usize = 24;

/// What [`JSON_CLEAN`], [`LOGFMT_CLEAN`] and [`LINE_CLEAN`] say of `key`, as a `const
/// fn` (a byte loop over the formatters' own byte tables: keys are short, and the macros
/// run it at compile time).
pub(crate) const fn check(key: &str) -> u8 {
    use super::format::sink::JSON_ESCAPES;
    use super::format::{LINE_ESCAPE, LOGFMT_SPECIAL, TEXT_CLASSES};
    let b = key.as_bytes();
    let mut json = true;
    let mut logfmt = !b.is_empty();
    let mut line = true;
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as usize;
        json &= JSON_ESCAPES[c] == 0;
        logfmt &= TEXT_CLASSES[c] & LOGFMT_SPECIAL == 0;
        line &= TEXT_CLASSES[c] & LINE_ESCAPE == 0;
        i += 1;
    }
    (if json { JSON_CLEAN } else { 0 })
        | (if logfmt { LOGFMT_CLEAN } else { 0 })
        | (if line { LINE_CLEAN } else { 0 })
}

/// A `&'static str` with its check made once (see the module's documentation): the keys
/// the logging macros pass to [`Field::with_key`](super::Field::with_key), and their
/// messages without arguments. Build it in a `const` context
/// (`const { StaticStr::new("user_id") }`) for the check to cost nothing at run time.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct StaticStr {
    key: &'static str,
    check: u8,
}

impl StaticStr {
    /// `key`, checked.
    pub const fn new(key: &'static str) -> StaticStr {
        StaticStr {
            key,
            check: check(key),
        }
    }

    /// `text` checked, if it is a format string without arguments that formats as
    /// itself (no `{` or `}`): what the logging macros log as the message of
    /// `info!(log, "text")`, in place of formatting it.
    pub const fn plain_format(text: &'static str) -> Option<StaticStr> {
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'{' || b[i] == b'}' {
                return None;
            }
            i += 1;
        }
        Some(StaticStr::new(text))
    }

    /// The string.
    pub const fn as_str(&self) -> &'static str {
        self.key
    }

    pub(crate) const fn check(&self) -> u8 {
        self.check
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compile-time check agrees with the formatters' own byte classes for every
    /// byte value, alone and inside a word.
    #[test]
    fn check_matches_the_formatters_classes() {
        for c in 0..=255u8 {
            let json_escapes = c < 0x20 || c == b'"' || c == b'\\';
            let logfmt_special = c <= b' ' || c == b'=' || c == b'"' || c == 0x7f;
            let mut buf = [b'a', c, b'z'];
            if c >= 0x80 {
                // Not UTF-8 alone: pair it into a valid two-byte sequence where possible.
                buf = [b'a', b'a', b'z'];
            }
            let s = std::str::from_utf8(&buf).unwrap();
            let k = check(s);
            if c < 0x80 {
                assert_eq!(k & JSON_CLEAN == 0, json_escapes, "byte {c:#x}");
                assert_eq!(k & LOGFMT_CLEAN == 0, logfmt_special, "byte {c:#x}");
            }
        }
        for c in 0..0x80u8 {
            let line_escapes = c < 0x20 || c == 0x7f;
            let s = [b'a', c];
            let k = check(std::str::from_utf8(&s).unwrap());
            assert_eq!(k & LINE_CLEAN == 0, line_escapes, "byte {c:#x}");
        }
        assert_eq!(check(""), JSON_CLEAN | LINE_CLEAN);
        assert_eq!(check("é"), JSON_CLEAN | LOGFMT_CLEAN | LINE_CLEAN);
        assert!(StaticStr::plain_format("a {} b").is_none());
        assert!(StaticStr::plain_format("{{").is_none());
        assert_eq!(
            StaticStr::plain_format("served").map(|s| s.as_str()),
            Some("served")
        );
        const K: StaticStr = StaticStr::new("user_id");
        assert_eq!(K.check(), JSON_CLEAN | LOGFMT_CLEAN | LINE_CLEAN);
        assert_eq!(K.as_str(), "user_id");
        assert_eq!(StaticStr::new("a b").check(), JSON_CLEAN | LINE_CLEAN);
        assert_eq!(StaticStr::new("a\"b").check(), LINE_CLEAN);
        assert_eq!(StaticStr::new("a\nb").check(), 0);
    }
}

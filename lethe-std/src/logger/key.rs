//! Field keys checked once, at compile time, instead of on every record.
//!
//! Every record's keys are scanned by the formatters: JSON escapes `"`, `\` and control
//! characters; logfmt and [`Text`](super::Text) replace spaces, `=`, `"` and control
//! characters with `_`. The logging macros build their fields with [`StaticKey`], whose
//! constructor is a `const fn` evaluated in a `const` block, so a key that needs neither
//! is marked clean in the binary and copied as it is; any other key is still scanned.
//! [`Field::new`](super::Field::new) makes the same check for keys of up to 24 bytes
//! (the compiler folds it for a literal key). The output is the same either way.

/// The key needs no JSON escape: no control character, `"` or `\`.
pub(crate) const JSON_CLEAN: u8 = 1;
/// The key is written unchanged by logfmt and `Text`: not empty, and no byte at or
/// below a space, no `=`, `"` or DEL.
pub(crate) const LOGFMT_CLEAN: u8 = 2;

/// The longest key [`Field::new`](super::Field::new) checks itself.
pub(crate) const CHECK_AT_NEW: usize = 24;

/// What [`JSON_CLEAN`] and [`LOGFMT_CLEAN`] say of `key`, as a `const fn` (a byte loop:
/// keys are short, and the macros run it at compile time).
pub(crate) const fn check(key: &str) -> u8 {
    let b = key.as_bytes();
    let mut json = true;
    let mut logfmt = !b.is_empty();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x20 || c == b'"' || c == b'\\' {
            json = false;
        }
        if c <= b' ' || c == b'=' || c == b'"' || c == 0x7f {
            logfmt = false;
        }
        i += 1;
    }
    (if json { JSON_CLEAN } else { 0 }) | (if logfmt { LOGFMT_CLEAN } else { 0 })
}

/// A `&'static str` key with its check made once (see the module's documentation); what
/// the logging macros pass to [`Field::with_key`](super::Field::with_key). Build it in
/// a `const` context (`const { StaticKey::new("user_id") }`) for the check to cost
/// nothing at run time.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct StaticKey {
    key: &'static str,
    check: u8,
}

impl StaticKey {
    /// `key`, checked.
    pub const fn new(key: &'static str) -> StaticKey {
        StaticKey {
            key,
            check: check(key),
        }
    }

    /// The key.
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
        assert_eq!(check(""), JSON_CLEAN);
        assert_eq!(check("é"), JSON_CLEAN | LOGFMT_CLEAN);
        const K: StaticKey = StaticKey::new("user_id");
        assert_eq!(K.check(), JSON_CLEAN | LOGFMT_CLEAN);
        assert_eq!(K.as_str(), "user_id");
        assert_eq!(StaticKey::new("a b").check(), JSON_CLEAN);
        assert_eq!(StaticKey::new("a\"b").check(), 0);
    }
}

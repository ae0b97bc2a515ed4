//! [`Redactor`]: hides the values of configured keys, and the parts of messages and text
//! values that match configured patterns, in the formatted output only. The caller's
//! data is never touched: redaction happens while the record is written out.

use std::fmt;

/// What to redact, and what to write instead (`"[REDACTED]"` by default).
///
/// - **Keys**: a field whose key equals one of them (ASCII case-insensitive) is written
///   with the mask as its value, whatever its type.
/// - **Patterns**: regular expressions (the `regex` crate's syntax); every match inside
///   the message or a text field value is replaced by the mask.
///
/// ```
/// use lethe_std::logger::Redactor;
///
/// let r = Redactor::new()
///     .key("password")
///     .pattern(r"\b\d{4}-\d{4}-\d{4}-\d{4}\b")?;
/// assert!(r.redacts_key("Password"));
/// let mut out = String::new();
/// r.redact("card 1234-5678-9012-3456 ok", &mut |s| out.push_str(s));
/// assert_eq!(out, "card [REDACTED] ok");
/// # Ok::<(), regex::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Redactor {
    keys: Vec<String>,
    sources: Vec<String>,
    patterns: Option<regex::Regex>,
    mask: Option<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("keys", &self.keys)
            .field("patterns", &self.sources)
            .field("mask", &self.mask())
            .finish()
    }
}

impl Redactor {
    /// Redacts nothing yet.
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// Redacts the values of fields named `key` (ASCII case-insensitive).
    #[must_use]
    pub fn key(mut self, key: &str) -> Redactor {
        self.keys.push(key.to_owned());
        self
    }

    /// Redacts every match of `pattern` in messages and text values.
    ///
    /// # Errors
    ///
    /// The `regex` crate's error for an invalid pattern (it names the pattern and the
    /// position).
    pub fn pattern(mut self, pattern: &str) -> Result<Redactor, regex::Error> {
        regex::Regex::new(pattern)?;
        self.sources.push(pattern.to_owned());
        let joined = self
            .sources
            .iter()
            .map(|p| format!("(?:{p})"))
            .collect::<Vec<_>>()
            .join("|");
        self.patterns = Some(regex::Regex::new(&joined)?);
        Ok(self)
    }

    /// The text written in place of redacted data.
    #[must_use]
    pub fn mask_with(mut self, mask: &str) -> Redactor {
        self.mask = Some(mask.to_owned());
        self
    }

    /// The mask.
    pub fn mask(&self) -> &str {
        self.mask.as_deref().unwrap_or("[REDACTED]")
    }

    /// Whether the values of `key` are redacted.
    pub fn redacts_key(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k.eq_ignore_ascii_case(key))
    }

    /// Whether any pattern is configured (text then has to be scanned whole).
    pub fn has_patterns(&self) -> bool {
        self.patterns.is_some()
    }

    /// Emits `text` in pieces, with every pattern match replaced by the mask.
    pub fn redact(&self, text: &str, emit: &mut dyn FnMut(&str)) {
        let Some(re) = &self.patterns else {
            emit(text);
            return;
        };
        let mut last = 0;
        for m in re.find_iter(text) {
            if m.start() > last {
                emit(&text[last..m.start()]);
            }
            if m.end() > m.start() {
                emit(self.mask());
            }
            last = m.end();
        }
        if last < text.len() {
            emit(&text[last..]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_and_keys() {
        let r = Redactor::new()
            .key("token")
            .pattern("secret")
            .unwrap()
            .pattern(r"\d{3}")
            .unwrap()
            .mask_with("***");
        let mut out = String::new();
        r.redact("a secret 12345 b", &mut |s| out.push_str(s));
        assert_eq!(out, "a *** ***45 b");
        assert!(r.redacts_key("TOKEN") && !r.redacts_key("tok"));
        assert!(Redactor::new().pattern("(").is_err());
    }
}

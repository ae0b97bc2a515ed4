//! Fixed-capacity copies of rejected input, so parse errors can quote what they rejected
//! without allocating (shared by [`crate::size`] and [`crate::duration`]).

use core::fmt;

/// Up to `N` bytes (`N <= 255`) of a string, cut at a character boundary.
///
/// Invariant: `buf[..len]` is valid UTF-8 (it is a prefix of a `&str` ending on a char
/// boundary); `truncated` says whether the original was longer.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Snippet<const N: usize> {
    buf: [u8; N],
    len: u8,
    truncated: bool,
}

impl<const N: usize> Snippet<N> {
    /// Copies the longest prefix of `s` that fits in `N` bytes and ends on a char boundary.
    pub(crate) fn new(s: &str) -> Self {
        const { assert!(N <= u8::MAX as usize) };
        let max = s.len().min(N);
        // `get` returns `None` off a char boundary; 0 is always a boundary.
        let head = (0..=max).rev().find_map(|end| s.get(..end)).unwrap_or("");
        let mut buf = [0u8; N];
        for (dst, src) in buf.iter_mut().zip(head.bytes()) {
            *dst = src;
        }
        Snippet {
            buf,
            len: u8::try_from(head.len()).unwrap_or(u8::MAX),
            truncated: head.len() < s.len(),
        }
    }

    /// The stored text.
    pub(crate) fn as_str(&self) -> &str {
        let bytes = self.buf.get(..usize::from(self.len)).unwrap_or(&[]);
        // Always valid by the invariant; the fallback only keeps this path panic-free.
        core::str::from_utf8(bytes).unwrap_or("")
    }

    /// Whether the original string was longer than what is stored.
    pub(crate) fn is_truncated(&self) -> bool {
        self.truncated
    }
}

/// Quoted and escaped (control characters, NUL and quotes are shown as Rust escapes, so a
/// hostile input cannot forge log lines), with `…` after the quote when truncated.
impl<const N: usize> fmt::Display for Snippet<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())?;
        if self.truncated {
            f.write_str("…")?;
        }
        Ok(())
    }
}

impl<const N: usize> fmt::Debug for Snippet<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::Snippet;
    use std::format;

    #[test]
    fn short_input_is_kept_whole() {
        let s = Snippet::<8>::new("10MB");
        assert_eq!(s.as_str(), "10MB");
        assert!(!s.is_truncated());
        assert_eq!(format!("{s}"), "\"10MB\"");
    }

    #[test]
    fn long_input_is_cut_on_a_char_boundary() {
        // 'é' is two bytes: 7 ASCII + 'é' would need 9 bytes, so it is dropped whole.
        let s = Snippet::<8>::new("abcdefgé");
        assert_eq!(s.as_str(), "abcdefg");
        assert!(s.is_truncated());
        assert_eq!(format!("{s}"), "\"abcdefg\"…");
    }

    #[test]
    fn control_characters_are_escaped() {
        let s = Snippet::<8>::new("1\n\0\"");
        assert_eq!(format!("{s}"), "\"1\\n\\0\\\"\"");
    }
}

//! The built-in formatters' write path: [`Sink`], one trait over the two places a record
//! is written (a ring reservation's cursor, a growable buffer), so that a formatter is
//! compiled once per place and every piece it writes is a direct bounds check and copy,
//! with no dispatch per piece; and JSON string escaping eight bytes at a time.

use lethe_core::ring::{Appender, copy_short};

/// Where the built-in formatters write. `put` appends; a sink that fills up remembers it
/// and drops the rest (the logger then formats the record again into a larger buffer).
pub(crate) trait Sink {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]);

    /// Appends exactly `N` bytes that `fill` writes (all of them) at fixed offsets: one
    /// bounds check for a piece built from several words.
    #[inline(always)]
    fn put_array<const N: usize>(&mut self, fill: impl FnOnce(&mut [u8; N])) {
        let mut a = [0u8; N];
        fill(&mut a);
        self.put(&a);
    }
}

impl Sink for Vec<u8> {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// Appends to a `Vec` through a small staging buffer on the stack: a piece is one
/// bounds check and a short copy (as into a reservation) instead of a capacity check and
/// a `memcpy` call; the buffer goes to the `Vec` when it fills and at the end
/// ([`VecSink::finish`]).
pub(crate) struct VecSink<'v> {
    vec: &'v mut Vec<u8>,
    buf: [u8; 256],
    pos: usize,
}

impl<'v> VecSink<'v> {
    pub(crate) fn new(vec: &'v mut Vec<u8>) -> VecSink<'v> {
        VecSink {
            vec,
            buf: [0; 256],
            pos: 0,
        }
    }

    /// Appends what is staged to the `Vec`.
    #[inline]
    pub(crate) fn finish(self) {
        self.vec.extend_from_slice(&self.buf[..self.pos]);
    }

    /// A piece that does not fit in what is left of the buffer: the buffer goes to the
    /// `Vec`, then the piece (straight to the `Vec` if it is long).
    #[inline(never)]
    fn spill(&mut self, bytes: &[u8]) {
        self.vec.extend_from_slice(&self.buf[..self.pos]);
        self.pos = 0;
        if bytes.len() > self.buf.len() / 2 {
            self.vec.extend_from_slice(bytes);
        } else {
            copy_short(&mut self.buf[..bytes.len()], bytes);
            self.pos = bytes.len();
        }
    }
}

impl Sink for VecSink<'_> {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        match self.buf.get_mut(self.pos..self.pos + bytes.len()) {
            Some(dst) => {
                copy_short(dst, bytes);
                self.pos += bytes.len();
            }
            None => self.spill(bytes),
        }
    }

    #[inline(always)]
    fn put_array<const N: usize>(&mut self, fill: impl FnOnce(&mut [u8; N])) {
        match self.buf[self.pos..].first_chunk_mut::<N>() {
            Some(dst) => {
                fill(dst);
                self.pos += N;
            }
            None => {
                let mut a = [0u8; N];
                fill(&mut a);
                self.spill(&a);
            }
        }
    }
}

/// Appends to a reservation, and remembers whether a piece did not fit.
pub(crate) struct GrantSink<'s, 'a> {
    pub(crate) appender: &'s mut Appender<'a>,
    pub(crate) full: bool,
}

impl Sink for GrantSink<'_, '_> {
    #[inline(always)]
    fn put_array<const N: usize>(&mut self, fill: impl FnOnce(&mut [u8; N])) {
        if self.appender.push_array(fill).is_err() {
            self.full = true;
        }
    }

    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        if self.appender.push(bytes).is_err() {
            self.full = true;
        }
    }
}

/// For each byte: 0 if JSON takes it as is, else the letter after the backslash (`u` for
/// a `\u00XX` escape).
pub(crate) const JSON_ESCAPES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t[0x08] = b'b';
    t[0x0c] = b'f';
    t
};
/// [`JSON_ESCAPES`] as one table in memory, for the scans.
pub(crate) static JSON_ESCAPE: [u8; 256] = JSON_ESCAPES;

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// For the 8 bytes of `w` (little-endian), the high bit of each byte that needs a JSON
/// escape: a control character (below 0x20), `"` or `\`. The classic "has a zero byte"
/// tricks can also flag a byte just above a flagged one (a borrow), never one below, so
/// the lowest set bit is exactly the first byte that needs an escape, and the mask is
/// zero exactly when none does.
#[inline(always)]
fn escape_mask(w: u64) -> u64 {
    let has_zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    // Bytes below 0x20, among bytes below 0x80 (bytes >= 0x80 are masked out by `!w`).
    let control = w.wrapping_sub(LO * 0x20) & !w & HI;
    control | has_zero(w ^ (LO * u64::from(b'"'))) | has_zero(w ^ (LO * u64::from(b'\\')))
}

/// The index of the byte a nonzero [`escape_mask`] flags first.
#[inline(always)]
fn first_flagged(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

#[inline(always)]
fn word(b: &[u8], at: usize) -> u64 {
    let mut w = [0; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

#[inline(always)]
fn half(b: &[u8], at: usize) -> u64 {
    let mut w = [0; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u64::from(u32::from_le_bytes(w))
}

/// The index of the first byte of `b` that JSON must escape, or `b.len()`.
#[inline(always)]
pub(crate) fn first_json_escape(b: &[u8]) -> usize {
    first_flagged_by(b, escape_mask, |c| JSON_ESCAPE[usize::from(c)] != 0)
}

/// Bytes a logfmt value is quoted for (and a key replaces): up to `' '`, `=`, `"`, DEL;
/// flagged as [`escape_mask`] flags (the lowest set bit is exact).
#[inline(always)]
pub(crate) fn logfmt_special_mask(w: u64) -> u64 {
    let has_zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    let low = w.wrapping_sub(LO * 0x21) & !w & HI;
    low | has_zero(w ^ (LO * u64::from(b'=')))
        | has_zero(w ^ (LO * u64::from(b'"')))
        | has_zero(w ^ (LO * 0x7f))
}

/// Bytes a one-line format escapes: control characters and DEL.
#[inline(always)]
pub(crate) fn line_escape_mask(w: u64) -> u64 {
    let has_zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    (w.wrapping_sub(LO * 0x20) & !w & HI) | has_zero(w ^ (LO * 0x7f))
}

/// Bytes escaped inside quotes on a one-line format: those of [`line_escape_mask`],
/// `"` and `\`.
#[inline(always)]
pub(crate) fn quoted_escape_mask(w: u64) -> u64 {
    let has_zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    line_escape_mask(w)
        | has_zero(w ^ (LO * u64::from(b'"')))
        | has_zero(w ^ (LO * u64::from(b'\\')))
}

/// The index of the first byte of `b` that `mask` flags (a mask built like
/// [`escape_mask`]: zero for a clean word, its lowest set bit on the first flagged byte),
/// or `b.len()`; `flagged` says the same of one byte. Eight bytes at a time; the last
/// partial word is read as an overlapping word (or two overlapping halves, for fewer
/// than 8 bytes), so no byte-by-byte loop runs on strings of 4 bytes or more.
#[inline(always)]
pub(crate) fn first_flagged_by(
    b: &[u8],
    mask: impl Fn(u64) -> u64,
    flagged: impl Fn(u8) -> bool,
) -> usize {
    let n = b.len();
    let mut i = 0;
    while i + 8 <= n {
        let m = mask(word(b, i));
        if m != 0 {
            return i + first_flagged(m);
        }
        i += 8;
    }
    if i == n {
        return n;
    }
    if n >= 8 {
        // The bytes before `i` in this word were found clean, so the first flagged byte
        // is at or after `i`.
        let m = mask(word(b, n - 8));
        if m != 0 {
            return n - 8 + first_flagged(m);
        }
    } else if n >= 4 {
        // `b[..4]` in the low half, `b[n - 4..]` in the high half (they overlap when
        // n < 8; a byte flagged in the overlap is flagged in the low half first).
        let m = mask(half(b, 0) | half(b, n - 4) << 32);
        if m != 0 {
            let k = first_flagged(m);
            return if k < 4 { k } else { n + k - 8 };
        }
    } else {
        for (k, &c) in b.iter().enumerate() {
            if flagged(c) {
                return k;
            }
        }
    }
    n
}

/// `\u00XX` for a control character.
#[inline]
pub(crate) fn unicode_escape(c: u8) -> [u8; 6] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    [
        b'\\',
        b'u',
        b'0',
        b'0',
        HEX[usize::from(c >> 4)],
        HEX[usize::from(c & 15)],
    ]
}

/// JSON string contents: `"`, `\` and every control character escaped. Runs of bytes
/// that need no escape are found a word at a time and copied at once. The common case
/// (nothing to escape: one scan, one copy) is inlined where it is used.
#[inline(always)]
pub(crate) fn json_escaped<S: Sink + ?Sized>(out: &mut S, s: &str) {
    let b = s.as_bytes();
    let i = first_json_escape(b);
    if i == b.len() {
        out.put(b);
    } else {
        json_escaped_from(out, b, i);
    }
}

/// The rest of [`json_escaped`], from the first byte `i` that needs an escape.
#[inline(never)]
fn json_escaped_from<S: Sink + ?Sized>(out: &mut S, b: &[u8], mut i: usize) {
    let mut start = 0;
    loop {
        out.put(&b[start..i]);
        let Some(&c) = b.get(i) else {
            return;
        };
        let e = JSON_ESCAPE[usize::from(c)];
        if e == b'u' {
            out.put(&unicode_escape(c));
        } else {
            out.put(&[b'\\', e]);
        }
        start = i + 1;
        i = start + first_json_escape(&b[start..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_table(b: &[u8]) -> usize {
        b.iter()
            .position(|&x| JSON_ESCAPE[usize::from(x)] != 0)
            .unwrap_or(b.len())
    }

    /// The scan finds exactly the first byte the table escapes, for every byte value at
    /// every offset of strings of every length up to three words (so in the word loop,
    /// the overlapping last word, and the two halves of short strings), alone and after
    /// an earlier escape, and with bytes >= 0x80 around it.
    #[test]
    fn scan_matches_table() {
        for c in 0..=255u8 {
            for len in 0..26 {
                for at in 0..len {
                    for fill in [b'a', 0xc3, 0x7f, 0xff] {
                        let mut b = vec![fill; len];
                        b[at] = c;
                        assert_eq!(
                            first_json_escape(&b),
                            by_table(&b),
                            "byte {c:#x} at {at} of {len} in {fill:#x}"
                        );
                        if at + 1 < len {
                            b[len - 1] = b'"';
                            assert_eq!(first_json_escape(&b), by_table(&b));
                        }
                    }
                }
            }
        }
    }

    /// The staging sink hands the `Vec` every piece in order: pieces of every length up
    /// to 300 (short copies, spills at every fill level, long pieces straight through),
    /// each followed by a fixed-size `put_array` piece.
    #[test]
    fn vec_sink_keeps_every_byte() {
        let src: Vec<u8> = (0..300u32).map(|i| (i % 251) as u8).collect();
        let mut want = b"kept".to_vec();
        let mut got = b"kept".to_vec();
        let mut sink = VecSink::new(&mut got);
        for round in 0..3 {
            for n in 0..=300 {
                let piece = &src[(n * 7 + round) % 300..];
                let piece = &piece[..n.min(piece.len())];
                sink.put(piece);
                want.extend_from_slice(piece);
                // A fixed-size piece after it, at every fill level of the staging buffer.
                let word = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                sink.put_array::<27>(|d| {
                    d[..8].copy_from_slice(&word.to_le_bytes());
                    d[8..16].copy_from_slice(&(!word).to_le_bytes());
                    d[16..24].copy_from_slice(&word.rotate_left(7).to_le_bytes());
                    d[24..].copy_from_slice(b"end");
                });
                want.extend_from_slice(&word.to_le_bytes());
                want.extend_from_slice(&(!word).to_le_bytes());
                want.extend_from_slice(&word.rotate_left(7).to_le_bytes());
                want.extend_from_slice(b"end");
            }
        }
        sink.finish();
        assert_eq!(got, want);
    }

    /// Two flagged bytes in one word: the lower one is found, whatever the upper one is
    /// (the borrow of the bit tricks only ever flags bytes above a flagged one).
    #[test]
    fn scan_pairs_in_a_word() {
        let special = [0u8, 0x01, 0x1f, b'"', b'\\', b'\n'];
        let near = [0x20u8, 0x21, b'#', b'[', b']', 0x80, 0xff];
        for &a in special.iter().chain(&near) {
            for &b in special.iter().chain(&near) {
                for i in 0..8 {
                    for j in 0..8 {
                        let mut w = *b"abcdefgh";
                        w[i] = a;
                        w[j] = b;
                        assert_eq!(first_json_escape(&w), by_table(&w), "{a:#x}@{i} {b:#x}@{j}");
                        let long = [&w[..], b"ijklmnop", &w[..]].concat();
                        assert_eq!(first_json_escape(&long), by_table(&long));
                    }
                }
            }
        }
    }
}

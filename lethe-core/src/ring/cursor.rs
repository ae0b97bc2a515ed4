//! [`GrantCursor`]: appends to a [`WriteGrant`] through a plain slice, for formatters that
//! write a record in many small pieces.

use super::{GrantFull, HEADER_LEN, Storage, WriteGrant};

/// Appends to a [`WriteGrant`]'s payload, after what it already holds, with one bounds
/// check per piece and no other bookkeeping: a push is a compare and a copy (which the
/// compiler turns into plain moves for short constant pieces). Obtained with
/// [`WriteGrant::cursor`]; the grant counts the bytes appended when the cursor is dropped.
///
/// Only the front of the unwritten payload is ever written, in order, so the grant knows
/// exactly which bytes to zero again if it gives unused space back. A cursor that is
/// leaked instead of dropped appends nothing, and leaves the grant assuming its whole
/// payload was written to (it then zeroes all of it when giving space back).
pub struct GrantCursor<'c> {
    /// The grant's unwritten payload (all zero bytes when the cursor was made).
    buf: &'c mut [u8],
    /// Bytes appended through this cursor.
    pos: usize,
    /// The grant's `written` and `dirty` counters.
    written: &'c mut usize,
    dirty: &'c mut usize,
    /// `dirty` before the cursor was made.
    dirty_before: usize,
}

impl core::fmt::Debug for GrantCursor<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GrantCursor")
            .field("appended", &self.pos)
            .field("remaining", &self.remaining())
            .finish()
    }
}

impl<S: Storage> WriteGrant<'_, S> {
    /// A cursor that appends to the payload after what it already holds (see
    /// [`GrantCursor`]).
    pub fn cursor(&mut self) -> GrantCursor<'_> {
        let start = self.idx + HEADER_LEN + self.written;
        let rest = self.len - self.written;
        #[cfg(lethe_loom)]
        self.ring.model.touch_mut(start, rest);
        // SAFETY: the grant owns its claimed frame exclusively until commit or drop; the
        // payload's unwritten rest is `rest` initialized bytes at `start`, inside the
        // frame. The slice borrows `self` mutably, so nothing else touches the grant or
        // those bytes while it lives.
        let buf = unsafe { core::slice::from_raw_parts_mut(self.ring.byte_ptr(start), rest) };
        let dirty_before = self.dirty;
        // Until the cursor reports what it wrote, any payload byte may be non-zero.
        self.dirty = self.len;
        GrantCursor {
            buf,
            pos: 0,
            written: &mut self.written,
            dirty: &mut self.dirty,
            dirty_before,
        }
    }
}

impl GrantCursor<'_> {
    /// Appends `bytes`.
    ///
    /// # Errors
    ///
    /// [`GrantFull`] if they do not fit; nothing is appended then.
    #[inline(always)]
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), GrantFull> {
        self.append_with(|a| a.push(bytes))
    }

    /// Runs `f` with an [`Appender`] over the room left: what it appends is appended
    /// through this cursor. An `Appender` is two words owned by the caller's frame, so a
    /// formatter that writes many pieces through it can keep them in registers instead
    /// of reaching the cursor through a reference for every piece.
    #[inline(always)]
    pub fn append_with<R>(&mut self, f: impl FnOnce(&mut Appender<'_>) -> R) -> R {
        let mut appender = Appender {
            buf: &mut self.buf[self.pos..],
            pos: 0,
        };
        let r = f(&mut appender);
        self.pos += appender.pos;
        r
    }

    /// Bytes appended through this cursor.
    #[inline]
    pub fn appended(&self) -> usize {
        self.pos
    }

    /// Bytes that still fit.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }
}

/// Appends to the room left in a [`GrantCursor`], for the duration of
/// [`GrantCursor::append_with`]: like the cursor, it only ever writes the front of that
/// room, in order.
pub struct Appender<'a> {
    /// The room left when the appender was made.
    buf: &'a mut [u8],
    /// Bytes appended.
    pos: usize,
}

impl core::fmt::Debug for Appender<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Appender")
            .field("appended", &self.pos)
            .field("remaining", &(self.buf.len() - self.pos))
            .finish()
    }
}

impl Appender<'_> {
    /// Appends `bytes`.
    ///
    /// # Errors
    ///
    /// [`GrantFull`] if they do not fit; nothing is appended then.
    #[inline(always)]
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), GrantFull> {
        let Some(dst) = self.buf.get_mut(self.pos..self.pos + bytes.len()) else {
            return Err(GrantFull {
                needed: bytes.len(),
                remaining: self.buf.len() - self.pos,
            });
        };
        copy_short(dst, bytes);
        self.pos += bytes.len();
        Ok(())
    }

    /// Appends exactly `N` bytes that `fill` writes in place, at fixed offsets: one
    /// bounds check for a piece made of several words (a timestamp) instead of one per
    /// word, and no staging copy. `fill` must write all `N` bytes (the rest would keep
    /// whatever the room held).
    ///
    /// # Errors
    ///
    /// [`GrantFull`] if `N` bytes do not fit; nothing is appended then.
    #[inline(always)]
    pub fn push_array<const N: usize>(
        &mut self,
        fill: impl FnOnce(&mut [u8; N]),
    ) -> Result<(), GrantFull> {
        let remaining = self.buf.len() - self.pos;
        let Some(dst) = self.buf[self.pos..].first_chunk_mut::<N>() else {
            return Err(GrantFull {
                needed: N,
                remaining,
            });
        };
        fill(dst);
        self.pos += N;
        Ok(())
    }

    /// Bytes appended through this appender.
    #[inline]
    pub fn appended(&self) -> usize {
        self.pos
    }
}

/// `dst.copy_from_slice(src)` (equal lengths), without a `memcpy` call for the short
/// pieces a formatter writes most: up to 32 bytes are two overlapping fixed-size copies
/// (a byte loop would be turned back into a `memcpy` call by the compiler). What
/// [`GrantCursor`] and [`Appender`] copy with; public for formatters' own buffers.
///
/// # Panics
///
/// If the lengths differ, as `copy_from_slice` does.
#[inline(always)]
pub fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if n > 32 {
        dst.copy_from_slice(src);
    } else if n >= 16 {
        dst[..16].copy_from_slice(&src[..16]);
        dst[n - 16..].copy_from_slice(&src[n - 16..]);
    } else if n >= 8 {
        dst[..8].copy_from_slice(&src[..8]);
        dst[n - 8..].copy_from_slice(&src[n - 8..]);
    } else if n >= 4 {
        dst[..4].copy_from_slice(&src[..4]);
        dst[n - 4..].copy_from_slice(&src[n - 4..]);
    } else if n >= 2 {
        dst[..2].copy_from_slice(&src[..2]);
        dst[n - 2..].copy_from_slice(&src[n - 2..]);
    } else if n == 1 {
        dst[0] = src[0];
    }
}

impl Drop for GrantCursor<'_> {
    #[inline]
    fn drop(&mut self) {
        *self.written += self.pos;
        *self.dirty = self.dirty_before.max(*self.written);
    }
}

impl core::fmt::Write for GrantCursor<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.push(s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}

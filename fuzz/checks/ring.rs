//! `ring_ops`: single-threaded sequences of ring operations against a `VecDeque` model.
//!
//! The input bytes are decoded into a capacity and a sequence of operations: `try_write`,
//! `write_or_drop`, `reserve` (up to `MAX_GRANTS` reservations open at once, which later
//! operations claim behind), writes into one of them (`push`, `as_mut_slice`, pieces
//! appended through its `GrantCursor` or an `Appender`, `fmt::Write` on the cursor or on
//! the grant), committing (`commit(len)` / `commit_written`) or abandoning it, in any
//! order, and `read_up_to` with or without `release`. The model is a queue of the records
//! and the pending reservations in claim order: a committed reservation becomes a record in
//! its claim-order place, an abandoned one disappears.
//!
//! Each op is two bytes, `op` and `arg`. By `op % 8`: 0 and 1 `try_write`, 2
//! `write_or_drop`, 3 `reserve` when none is open or bit 0x80 is set (another one), else a
//! push like 4; 4 an append (bits 0x60: 0 `WriteGrant::push`, 0x20 pieces through the
//! cursor and an `Appender`, 0x40 `fmt::Write` on the cursor, 0x60 `fmt::Write` on the
//! grant); 5 `as_mut_slice`; 6 commit or abandon; 7 a read; 0xff `seal`. Ops 3 to 6 act
//! on open reservation `(op >> 3) & 3` (modulo how many are open, in claim order). With
//! one reservation open and those bits clear this is the original one-reservation
//! encoding, so the saved corpus keeps its meaning. After every step the check asserts:
//!
//! - every record comes out exactly once, whole, in claim order, with the bytes written;
//!   unwritten reservation bytes read as zero;
//! - `read_up_to` returns a non-empty prefix of the committed records before the first
//!   pending reservation, within its record and byte limits, and `None` only when there is
//!   no such record; `release_records(k)` frees exactly the first `k`;
//! - `read_wrapping_up_to` (a read op with bit 0x20 set), which goes on past the physical
//!   end of the buffer, returns exactly the longest such prefix: it stops only at a limit
//!   or at the first pending reservation, wherever the wrap point lies;
//! - an append through a grant, its cursor or an `Appender` takes a piece whole or not at
//!   all (exactly when it fits the room left); `fmt::Write` appends a prefix of the
//!   formatted text, all of it when it returns `Ok`; `written` counts what was appended;
//! - `TooLarge` is returned exactly for records longer than `max_record_len`;
//! - `Full` is returned only when the frame (plus the padding a wrap needs) really exceeds
//!   the free space, and then the claimed position moves by nothing or by exactly that
//!   padding; an `Ok` write moves it by the frame (plus padding);
//! - `used() == claimed - consumed <= capacity` and `dropped()` counts every refused
//!   `write_or_drop`;
//! - `seal` (op byte 0xff): afterwards every claim fails with `Sealed` (or `TooLarge`) and
//!   claims nothing, open reservations still commit, every record claimed before comes
//!   out, and the consumer is `is_finished` exactly when everything was read.

use std::collections::VecDeque;

use core::fmt::Write as _;

use lethe_core::ring::{HEADER_LEN, Ring, WriteError, WriteGrant};

/// The most reservations open at once.
const MAX_GRANTS: usize = 4;

type Owned = Ring<Box<[lethe_core::ring::Slot]>>;

#[derive(Debug)]
enum Entry {
    Data(Vec<u8>),
    /// An open reservation's place in claim order (its id).
    Pending(u32),
}

struct Input<'a> {
    data: &'a [u8],
}

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }
}

fn frame_len(len: usize) -> usize {
    HEADER_LEN + len.div_ceil(8) * 8
}

/// The claim a `len`-byte record needs at claimed position `tail`: (frame, padding).
fn needed(ring: &Owned, len: usize) -> (usize, usize) {
    let cap = ring.capacity();
    let frame = frame_len(len);
    let to_end = cap - ring.claimed_position() % cap;
    if frame <= to_end {
        (frame, 0)
    } else {
        (frame, to_end)
    }
}

/// Checks the outcome of a claim of `len` bytes that returned `result`, given the state
/// before it.
fn check_claim<T>(
    ring: &Owned,
    len: usize,
    before_tail: usize,
    before_used: usize,
    result: &Result<T, WriteError>,
    expected: (usize, usize),
) {
    let cap = ring.capacity();
    let (frame, pad) = expected;
    let free = cap - before_used;
    let moved = ring.claimed_position().wrapping_sub(before_tail);
    match result {
        Err(WriteError::Sealed) => {
            assert!(ring.is_sealed(), "Sealed from an open ring");
            assert!(len <= ring.max_record_len(), "TooLarge comes first");
            assert_eq!(moved, 0, "a sealed ring claims nothing");
        }
        _ if ring.is_sealed() && len <= ring.max_record_len() => {
            panic!(
                "a sealed ring accepted or refused otherwise: {:?}",
                result.as_ref().err()
            )
        }
        Err(WriteError::TooLarge { len: l, max }) => {
            assert_eq!((*l, *max), (len, ring.max_record_len()));
            assert!(len > ring.max_record_len());
            assert_eq!(moved, 0, "a refused record claims nothing");
        }
        Err(WriteError::Full { .. }) => {
            assert!(len <= ring.max_record_len(), "{len} fits the size limit");
            assert!(
                frame + pad > free,
                "Full with {free} free for {frame}+{pad}"
            );
            assert!(
                moved == 0 || (moved == pad && pad <= free),
                "Full moved the tail by {moved} (padding {pad}, free {free})"
            );
        }
        Err(e) => panic!("unexpected error {e:?}"),
        Ok(_) => {
            assert!(len <= ring.max_record_len());
            assert_eq!(
                moved,
                frame + pad,
                "an accepted record claims frame + padding"
            );
        }
    }
}

pub fn check(data: &[u8]) {
    let mut input = Input { data };
    let Some(first) = input.byte() else { return };
    let ring: Owned = Ring::with_capacity(32 << (first % 4)).expect("valid capacity");
    let cap = ring.capacity();
    let mut consumer = ring.consumer().expect("the only consumer");
    let mut model: VecDeque<Entry> = VecDeque::new();
    // Open reservations in claim order: (grant, the bytes it should hold, id).
    let mut grants: Vec<(WriteGrant<'_, _>, Vec<u8>, u32)> = Vec::new();
    let mut next_id = 0u32;
    let mut dropped = 0usize;
    let mut counter = 0u8;

    while let Some(op) = input.byte() {
        let arg = input.byte().unwrap_or(0) as usize;
        counter = counter.wrapping_add(1);
        let record: Vec<u8> = (0..arg % (cap / 2 + 4))
            .map(|i| counter ^ i as u8)
            .collect();
        let before_tail = ring.claimed_position();
        let before_used = ring.used();
        let expected = needed(&ring, record.len());
        if op == 0xff {
            let end = ring.seal();
            assert_eq!(end, ring.claimed_position());
            assert!(ring.is_sealed());
            continue;
        }
        match op % 8 {
            0 | 1 => {
                let r = ring.try_write(&record);
                check_claim(&ring, record.len(), before_tail, before_used, &r, expected);
                if r.is_ok() {
                    model.push_back(Entry::Data(record));
                }
            }
            2 => {
                let ok = ring.write_or_drop(&record);
                let r: Result<(), WriteError> = if ok {
                    Ok(())
                } else if record.len() <= ring.max_record_len() && ring.is_sealed() {
                    Err(WriteError::Sealed)
                } else if record.len() > ring.max_record_len() {
                    Err(WriteError::TooLarge {
                        len: record.len(),
                        max: ring.max_record_len(),
                    })
                } else {
                    Err(WriteError::Full { needed: 0, free: 0 })
                };
                check_claim(&ring, record.len(), before_tail, before_used, &r, expected);
                if ok {
                    model.push_back(Entry::Data(record));
                } else {
                    dropped += 1;
                }
            }
            3 if grants.len() < MAX_GRANTS && (grants.is_empty() || op & 0x80 != 0) => {
                let r = ring.reserve(record.len());
                check_claim(&ring, record.len(), before_tail, before_used, &r, expected);
                if let Ok(g) = r {
                    assert_eq!(g.capacity(), record.len());
                    assert_eq!(g.written(), 0);
                    model.push_back(Entry::Pending(next_id));
                    grants.push((g, vec![0; record.len()], next_id));
                    next_id += 1;
                }
            }
            3 | 4 if !grants.is_empty() => {
                let k = ((usize::from(op) >> 3) & 3) % grants.len();
                let (g, shadow, _) = &mut grants[k];
                append(g, shadow, op, arg, counter);
            }
            5 if !grants.is_empty() => {
                let k = ((usize::from(op) >> 3) & 3) % grants.len();
                let (g, shadow, _) = &mut grants[k];
                let slice = g.as_mut_slice();
                assert_eq!(slice, &shadow[..], "reserved bytes read as written or zero");
                if let Some(i) = arg.checked_rem(slice.len()) {
                    slice[i] = counter;
                    shadow[i] = counter;
                }
            }
            6 if !grants.is_empty() => {
                let k = ((usize::from(op) >> 3) & 3) % grants.len();
                let (g, mut shadow, id) = grants.remove(k);
                let pos = model
                    .iter()
                    .position(|e| matches!(e, Entry::Pending(p) if *p == id))
                    .expect("pending entry");
                if arg.is_multiple_of(4) {
                    drop(g);
                    model.remove(pos);
                } else {
                    let len = if arg % 4 == 1 { g.written() } else { arg };
                    let len = len.min(shadow.len());
                    shadow.truncate(len);
                    if arg % 4 == 1 {
                        g.commit_written();
                    } else {
                        g.commit(arg);
                    }
                    model[pos] = Entry::Data(shadow);
                }
            }
            3..=6 => {}
            _ => {
                let max_records = arg % 5;
                let max_bytes = (arg * 7) % (cap + 1);
                let available: Vec<&Vec<u8>> = model
                    .iter()
                    .map_while(|e| match e {
                        Entry::Data(d) => Some(d),
                        Entry::Pending(_) => None,
                    })
                    .collect();
                let wrapping = op & 0x20 != 0;
                let batch = if wrapping {
                    consumer.read_wrapping_up_to(max_records, max_bytes)
                } else {
                    consumer.read_up_to(max_records, max_bytes)
                };
                if wrapping {
                    // The longest prefix within the limits (the first record always fits).
                    let mut longest = 0usize;
                    let mut total = 0usize;
                    for d in &available {
                        if longest == max_records || (longest > 0 && total + d.len() > max_bytes) {
                            break;
                        }
                        longest += 1;
                        total += d.len();
                    }
                    assert_eq!(
                        batch.as_ref().map_or(0, |b| b.record_count()),
                        longest,
                        "a wrapping read stops only at a limit or a pending reservation"
                    );
                }
                match batch {
                    None => assert!(
                        max_records == 0 || available.is_empty(),
                        "None with {} records committed",
                        available.len()
                    ),
                    Some(batch) => {
                        let got: Vec<&[u8]> = batch.records().collect();
                        let n = got.len();
                        assert!(n >= 1 && n <= max_records && n <= available.len());
                        assert_eq!(batch.record_count(), n);
                        for (g, want) in got.iter().zip(&available) {
                            assert_eq!(*g, want.as_slice(), "record bytes");
                        }
                        let bytes: usize = got.iter().map(|r| r.len()).sum();
                        assert_eq!(batch.payload_bytes(), bytes);
                        assert!(n == 1 || bytes <= max_bytes, "batch over the byte limit");
                        if op & 0x80 == 0 {
                            batch.release();
                            model.drain(..n);
                        } else if op & 0x40 != 0 {
                            let k = arg % (n + 1);
                            batch.release_records(k);
                            model.drain(..k);
                        }
                    }
                }
            }
        }
        assert!(ring.used() <= cap);
        assert_eq!(
            ring.used(),
            ring.claimed_position()
                .wrapping_sub(ring.consumed_position())
        );
        assert_eq!(ring.dropped(), dropped);
        if consumer.is_finished() {
            assert!(ring.is_sealed() && model.is_empty() && ring.is_empty());
        }
    }

    // Abandon the open reservations (last claimed first), then everything committed comes
    // out, once, in order.
    while let Some((g, _, _)) = grants.pop() {
        drop(g);
    }
    model.retain(|e| !matches!(e, Entry::Pending(_)));
    let mut rest = Vec::new();
    while let Some(batch) = consumer.read() {
        rest.extend(batch.records().map(<[u8]>::to_vec));
        batch.release();
    }
    let want: Vec<Vec<u8>> = model
        .into_iter()
        .map(|e| match e {
            Entry::Data(d) => d,
            Entry::Pending(_) => unreachable!("the reservation was abandoned"),
        })
        .collect();
    assert_eq!(rest, want, "drained records");
    assert!(ring.is_empty());
    assert_eq!(ring.used(), 0);
    assert_eq!(consumer.is_finished(), ring.is_sealed());
}

/// Appends to grant `g` (whose expected payload is `shadow`) as op `op` selects: a
/// `WriteGrant::push`, pieces through its cursor (and an `Appender`), or `fmt::Write` on
/// the cursor or on the grant. Checks that exactly what fits is appended.
fn append(
    g: &mut WriteGrant<'_, Box<[lethe_core::ring::Slot]>>,
    shadow: &mut [u8],
    op: u8,
    arg: usize,
    counter: u8,
) {
    let at = g.written();
    let room = g.capacity() - at;
    let n = arg % (room + 2);
    match op & 0x60 {
        0 => {
            let bytes = vec![counter; n];
            match g.push(&bytes) {
                Ok(()) => shadow[at..at + n].copy_from_slice(&bytes),
                Err(e) => {
                    assert!(n > room, "push refused {n} bytes: {e}");
                    assert_eq!(g.written(), at, "a refused push appends nothing");
                }
            }
        }
        0x20 => {
            // Pieces of 1 to 4 bytes (pushed through the cursor and, every other one, an
            // `Appender` or `push_array`), until `n` bytes were offered.
            let mut c = g.cursor();
            let mut offered = 0;
            let mut done = 0;
            let mut i = 0u8;
            while offered < n {
                let len = (usize::from(i) + arg) % 4 + 1;
                let piece: Vec<u8> = (0..len)
                    .map(|j| counter.wrapping_add(i) ^ j as u8)
                    .collect();
                let left = c.remaining();
                assert_eq!(left, room - done);
                let ok = match i % 3 {
                    0 => c.push(&piece).is_ok(),
                    1 => c.append_with(|a| {
                        let r = a.push(&piece).is_ok();
                        assert_eq!(a.appended(), if r { len } else { 0 });
                        r
                    }),
                    _ => {
                        let pair = [piece[0], piece[len - 1]];
                        c.append_with(|a| a.push_array::<2>(|b| *b = pair).is_ok())
                    }
                };
                let want: Vec<u8> = if i % 3 == 2 {
                    vec![piece[0], piece[len - 1]]
                } else {
                    piece
                };
                assert_eq!(
                    ok,
                    want.len() <= left,
                    "a piece goes in exactly when it fits"
                );
                if ok {
                    shadow[at + done..at + done + want.len()].copy_from_slice(&want);
                    done += want.len();
                }
                assert_eq!(c.appended(), done);
                offered += len;
                i = i.wrapping_add(1);
            }
            drop(c);
            assert_eq!(g.written(), at + done, "the cursor's appends are counted");
        }
        _ => {
            // Formatted text: a string argument and a right-aligned number (padding is
            // written a character at a time).
            let text: String = (0..n % 7)
                .map(|j| char::from(b'a' + (counter.wrapping_add(j as u8) % 26)))
                .collect();
            let width = n / 7;
            let full = format!("{text}|{:>width$}", arg);
            let r = if op & 0x60 == 0x40 {
                let mut c = g.cursor();
                let r = write!(c, "{text}|{:>width$}", arg);
                assert!(c.appended() <= room);
                r
            } else {
                write!(g, "{text}|{:>width$}", arg)
            };
            let done = g.written() - at;
            assert!(done <= room);
            assert_eq!(
                r.is_ok(),
                done == full.len(),
                "Ok exactly when all of it went in"
            );
            assert!(
                r.is_ok() || full.len() > room,
                "fmt failed with room to spare"
            );
            shadow[at..at + done].copy_from_slice(&full.as_bytes()[..done]);
        }
    }
}

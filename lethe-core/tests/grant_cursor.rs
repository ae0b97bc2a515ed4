//! `WriteGrant::cursor`: pieces appended through a cursor come out as one record, a piece
//! that does not fit is refused whole, and space given back after a cursor (dropped or
//! leaked) is clean for the next records.

use lethe_core::ring::Ring;

mod support;
use support::drain;

#[test]
fn pieces_make_one_record_after_earlier_pushes() {
    let ring = Ring::with_capacity(256).unwrap();
    let mut g = ring.reserve(40).unwrap();
    g.push(b"head ").unwrap();
    {
        let mut c = g.cursor();
        c.push(b"one ").unwrap();
        c.push(b"two").unwrap();
        assert_eq!(c.appended(), 7);
        assert_eq!(c.remaining(), 40 - 12);
        let err = c.push(&[b'x'; 29]).unwrap_err();
        assert_eq!((err.needed, err.remaining), (29, 28));
        assert_eq!(c.appended(), 7, "a piece that does not fit appends nothing");
    }
    assert_eq!(g.written(), 12);
    g.push(b"!").unwrap();
    g.commit_written();
    ring.try_write(b"next").unwrap();
    assert_eq!(
        drain(&ring),
        vec![b"head one two!".to_vec(), b"next".to_vec()]
    );
}

#[test]
fn fmt_write_through_a_cursor() {
    use std::fmt::Write;
    let ring = Ring::with_capacity(256).unwrap();
    let mut g = ring.reserve(16).unwrap();
    {
        let mut c = g.cursor();
        write!(c, "n={}", 42).unwrap();
        assert!(write!(c, "{}", "y".repeat(20)).is_err());
    }
    g.commit_written();
    assert_eq!(drain(&ring), vec![b"n=42".to_vec()]);
}

/// The unused end of a large reservation goes back to the ring; whatever the cursor
/// wrote there is zeroed, so the following records (claimed over that space) read back
/// intact, with or without the cursor having been dropped.
#[test]
fn given_back_space_is_clean() {
    for leak in [false, true] {
        let ring = Ring::with_capacity(1024).unwrap();
        for round in 0..50u8 {
            let mut g = ring.reserve(200).unwrap();
            let mut c = g.cursor();
            c.push(&[round | 0x80; 60]).unwrap();
            if leak {
                // Leaked: the bytes are not counted as written, and the whole payload is
                // treated as dirty.
                std::mem::forget(c);
                g.commit(60);
            } else {
                drop(c);
                g.commit_written();
            }
            ring.try_write(&[round; 10]).unwrap();
            assert_eq!(
                drain(&ring),
                vec![vec![round | 0x80; 60], vec![round; 10]],
                "round {round}, leak {leak}"
            );
        }
    }
}

/// Pieces of every length from 0 to 40 (each branch of the cursor's short-copy path and
/// the `memcpy` one), at every alignment, arrive byte for byte.
#[test]
fn pieces_of_every_length() {
    let ring = Ring::with_capacity(1 << 16).unwrap();
    let src: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
    let mut want = Vec::new();
    for lead in 0..4 {
        let mut g = ring.reserve(1000).unwrap();
        let mut line = Vec::new();
        {
            let mut c = g.cursor();
            c.push(&src[..lead]).unwrap();
            line.extend_from_slice(&src[..lead]);
            for n in 0..=40 {
                c.push(&src[40 - n..]).unwrap();
                line.extend_from_slice(&src[40 - n..]);
            }
        }
        g.commit_written();
        want.push(line);
    }
    assert_eq!(drain(&ring), want);
}

/// An appender appends through its cursor: its pieces, then the cursor's, make one
/// record; a piece that does not fit is refused whole; the space given back afterwards
/// is clean for the next record.
#[test]
fn appender_appends_through_its_cursor() {
    let ring = Ring::with_capacity(256).unwrap();
    let mut g = ring.reserve(64).unwrap();
    {
        let mut c = g.cursor();
        c.push(b"a ").unwrap();
        let appended = c.append_with(|a| {
            a.push(b"bb ").unwrap();
            let err = a.push(&[b'x'; 60]).unwrap_err();
            assert_eq!((err.needed, err.remaining), (60, 64 - 5));
            a.push(b"ccc").unwrap();
            a.appended()
        });
        assert_eq!(appended, 6);
        assert_eq!(c.appended(), 8);
        c.push(b"!").unwrap();
    }
    assert_eq!(g.written(), 9);
    g.commit_written();
    ring.try_write(b"next").unwrap();
    assert_eq!(drain(&ring), vec![b"a bb ccc!".to_vec(), b"next".to_vec()]);
}

/// `Appender::push_array` appends exactly its `N` bytes, in place, in order with the
/// other pieces; one that does not fit is refused whole (nothing written, the space
/// given back afterwards is clean).
#[test]
fn appender_push_array() {
    let ring = Ring::with_capacity(256).unwrap();
    let mut g = ring.reserve(24).unwrap();
    {
        let mut c = g.cursor();
        c.append_with(|a| {
            a.push(b"<").unwrap();
            a.push_array::<5>(|d| d.copy_from_slice(b"12345")).unwrap();
            let err = a.push_array::<19>(|d| d.fill(b'x')).unwrap_err();
            assert_eq!((err.needed, err.remaining), (19, 24 - 6));
            a.push_array::<3>(|d| {
                d[0] = b'a';
                d[1..].copy_from_slice(b"bc");
            })
            .unwrap();
            a.push(b">").unwrap();
            assert_eq!(a.appended(), 10);
        });
    }
    assert_eq!(g.written(), 10);
    g.commit_written();
    ring.try_write(b"next").unwrap();
    assert_eq!(drain(&ring), vec![b"<12345abc>".to_vec(), b"next".to_vec()]);
}

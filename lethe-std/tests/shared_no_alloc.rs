//! Shared mode's per-batch protocol allocates nothing: the gate and main `flock`s, the
//! `stat` of the path, the `O_APPEND` write, the unlock, and following another writer's
//! rotation (reopen, `fstat`, reading the lock file's record). A counting global allocator
//! counts the allocations of the calling thread only. With the `uring` feature, also a
//! file's first batch through io_uring.

use lethe_std::{Options, RotatingFile};

mod support;

use support::alloc::{Counting, allocations};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn a_shared_batch_allocates_nothing_on_the_writing_thread() {
    assert_eq!(allocations(|| drop(std::hint::black_box(vec![1u8; 8]))), 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let options = Options::default().shared(true).max_size(None);
    let mut log = RotatingFile::open(&path, options.clone()).unwrap();
    let mut other = RotatingFile::open(&path, options).unwrap();
    let mut line = [b'x'; 100];
    line[99] = b'\n';
    let batch = [&line[..]; 64];
    log.write_batch(&batch, 0).unwrap(); // warm up: the staging buffer reaches its size
    other.rotate().unwrap(); // `log` must follow it at its next batch
    let n = allocations(|| {
        for _ in 0..2_000 {
            log.write_batch(&batch, 0).unwrap();
        }
    });
    assert_eq!(n, 0, "shared batches allocated {n} times");
    drop(other);
    let stats = log.close().unwrap();
    assert_eq!(stats.records, 64 * 2_001);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 64 * 2_000);
}

/// Through io_uring with appends on the ring, even a file's first batch allocates nothing:
/// the driver's iovec array is sized when the ring is set up, not on its first write.
/// (Appends went on the ring by default when this was found: under `UringAppends::Auto`
/// as it was then, after a write the kernel happened to complete inline, the shared-mode
/// test above met this first write in its measured loop, 1 run in 10.)
#[cfg(feature = "uring")]
#[test]
fn a_first_batch_through_the_ring_allocates_nothing() {
    use lethe_std::{IoStatus, UringAppends, UringOptions};
    if support::uring_unavailable("ring_first_batch_no_alloc") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let uring = UringOptions::default().appends(UringAppends::Ring);
    let options = Options::default().max_size(None).io_uring(uring);
    let mut log = RotatingFile::open(&path, options).unwrap();
    let mut line = [b'x'; 100];
    line[99] = b'\n';
    let batch = [&line[..]; 64];
    let n = allocations(|| log.write_batch(&batch, 0).unwrap());
    assert_eq!(n, 0, "the first batch through the ring allocated {n} times");
    let n = allocations(|| {
        for _ in 0..100 {
            log.write_batch(&batch, 0).unwrap();
        }
    });
    assert_eq!(n, 0, "batches through the ring allocated {n} times");
    let stats = log.close().unwrap();
    assert_eq!(stats.io, IoStatus::Uring);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 64 * 101);
}

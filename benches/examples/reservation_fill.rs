//! How many 150-byte records fit an empty 1 MiB ring when each is committed from a
//! reservation of 160, 256 or 1 024 bytes, by one thread or by two at once (five fills
//! each, no consumer):
//!
//! ```sh
//! cargo run --release -p lethe-benches --example reservation_fill
//! ```
//!
//! A grant gives its unused end back at commit only while it is the ring's last claim; when
//! another thread claimed after it, the whole reservation stays in the ring (skipped by the
//! consumer). One thread always gives back, so every reservation fits the same number;
//! two contending threads fit fewer the larger the reservation. The figures are quoted in
//! the docs of `Destination::reservation` and `Writer::reserve`.

#![allow(missing_docs)]

use std::sync::Barrier;

use lethe_core::ring::{Ring, Slot};

/// Fills an empty 1 MiB ring from `threads` threads with 150-byte records, each committed
/// from a `reservation`-byte grant, until it is full; returns how many fit.
fn fill(threads: usize, reservation: usize) -> usize {
    let ring: Ring<Box<[Slot]>> = Ring::with_capacity(1 << 20).expect("1 MiB is a valid ring");
    let start = Barrier::new(threads);
    let payload = [b'x'; 25];
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    let mut n = 0;
                    while let Ok(mut grant) = ring.reserve(reservation) {
                        // Six pieces, as a formatter writes a record.
                        for _ in 0..6 {
                            grant.push(&payload).expect("150 bytes fit the reservation");
                        }
                        grant.commit_written();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a filling thread panicked"))
            .sum()
    })
}

fn main() {
    for reservation in [160usize, 256, 1024] {
        for threads in [1usize, 2] {
            let fits: Vec<usize> = (0..5).map(|_| fill(threads, reservation)).collect();
            println!(
                "reservation {reservation:5} B, {threads} thread(s): 150-byte records in a 1 MiB ring: {fits:?}"
            );
        }
    }
}

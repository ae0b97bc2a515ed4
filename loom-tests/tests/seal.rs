//! Loom model checks of `Ring::seal`, and of the protocol `Backpressure::Grow` builds on it
//! (lethe-std's `rings.rs`): publish a larger ring, seal the old one, producers refused by
//! the seal move to the new ring, and the consumer finishes the old ring before it reads
//! the new one. Nothing may be lost, duplicated or reordered per producer.
#![cfg(lethe_loom)]

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

use lethe_core::ring::{Ring, WriteError};

type OwnedRing = Ring<Box<[lethe_core::ring::Slot]>>;

/// Runs `f` under loom and prints how many executions it explored.
fn model<F: Fn() + Sync + Send + 'static>(f: F) {
    let executions = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&executions);
    let mut builder = loom::model::Builder::new();
    builder.max_branches = 100_000;
    builder.check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f();
    });
    println!(
        "loom explored {} executions",
        executions.load(std::sync::atomic::Ordering::Relaxed)
    );
}

fn record(producer: u8, i: u8) -> Vec<u8> {
    vec![producer, i, producer, producer]
}

/// Two rings and the index of the one producers write to, as the growing writer has them.
struct Chain {
    rings: [OwnedRing; 2],
    current: AtomicUsize,
}

impl Chain {
    /// A producer's write: the current ring, or the next one if the seal refuses it.
    fn write(&self, data: &[u8]) {
        loop {
            let ring = &self.rings[self.current.load(Ordering::Acquire)];
            match ring.try_write(data) {
                Ok(()) => return,
                Err(WriteError::Sealed) => {
                    // The refusal synchronizes with the seal, which came after the new
                    // ring was published: one reload always finds it.
                    assert_eq!(self.current.load(Ordering::Relaxed), 1, "new ring unseen");
                }
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
    }

    /// The grower: publish the next ring, then seal the old one.
    fn grow(&self) {
        self.current.store(1, Ordering::Release);
        self.rings[0].seal();
    }
}

/// A producer writes two records while the main thread grows the chain and a consumer
/// polls: it reads ring 0, and moves to ring 1 only once ring 0 is finished.
/// After everything joined, the rest is drained the same way. Each producer's records
/// come out once, in its order.
#[test]
fn growing_keeps_each_producers_order() {
    model(|| {
        let chain = Arc::new(Chain {
            rings: [
                Ring::with_capacity(64).unwrap(),
                Ring::with_capacity(64).unwrap(),
            ],
            current: AtomicUsize::new(0),
        });
        // Producer 1 writes two records: one may land in each ring, in either order of
        // claims, seal and reads. (A second producer makes the model take half a minute;
        // the ring's own models cover concurrent producers.)
        let producers: Vec<_> = [(1u8, 2u8)]
            .into_iter()
            .map(|(p, n)| {
                let chain = Arc::clone(&chain);
                thread::spawn(move || {
                    for i in 0..n {
                        chain.write(&record(p, i));
                    }
                })
            })
            .collect();
        let consumer = {
            let chain = Arc::clone(&chain);
            thread::spawn(move || {
                let mut seen = Vec::new();
                let mut on_second = false;
                let mut c = chain.rings[0].consumer().unwrap();
                if let Some(batch) = c.read() {
                    seen.extend(batch.records().map(<[u8]>::to_vec));
                    batch.release();
                }
                if c.is_finished() {
                    on_second = true;
                }
                drop(c);
                if on_second {
                    let mut c = chain.rings[1].consumer().unwrap();
                    if let Some(batch) = c.read() {
                        seen.extend(batch.records().map(<[u8]>::to_vec));
                        batch.release();
                    }
                }
                (seen, on_second)
            })
        };
        chain.grow();
        for p in producers {
            p.join().unwrap();
        }
        let (mut seen, on_second) = consumer.join().unwrap();
        if !on_second {
            let mut c = chain.rings[0].consumer().unwrap();
            while let Some(batch) = c.read() {
                seen.extend(batch.records().map(<[u8]>::to_vec));
                batch.release();
            }
            assert!(c.is_finished(), "a sealed, drained ring is finished");
        }
        let mut c = chain.rings[1].consumer().unwrap();
        while let Some(batch) = c.read() {
            seen.extend(batch.records().map(<[u8]>::to_vec));
            batch.release();
        }
        assert_eq!(seen.len(), 2, "{seen:?}");
        let mine: Vec<u8> = seen.iter().filter(|r| r[0] == 1).map(|r| r[1]).collect();
        assert_eq!(mine, [0, 1], "producer 1: {seen:?}");
    });
}

/// A reservation races the seal while the consumer polls. If the reservation was
/// granted, the ring is not finished until it is committed and read; if it was refused,
/// it claimed nothing. Either way the drained ring is finished and holds exactly what was
/// committed.
#[test]
fn a_reservation_racing_the_seal_is_never_skipped() {
    model(|| {
        let ring: Arc<OwnedRing> = Arc::new(Ring::with_capacity(64).unwrap());
        let producer = {
            let ring = Arc::clone(&ring);
            thread::spawn(move || match ring.reserve(8) {
                Ok(mut grant) => {
                    grant.push(b"reserved").unwrap();
                    grant.commit_written();
                    true
                }
                Err(WriteError::Sealed) => false,
                Err(e) => panic!("unexpected {e:?}"),
            })
        };
        let consumer = {
            let ring = Arc::clone(&ring);
            thread::spawn(move || {
                let mut c = ring.consumer().unwrap();
                let mut seen = 0;
                for _ in 0..2 {
                    if let Some(batch) = c.read() {
                        seen += batch.record_count();
                        batch.release();
                    }
                    if c.is_finished() {
                        return (seen, true);
                    }
                }
                (seen, false)
            })
        };
        ring.seal();
        let granted = producer.join().unwrap();
        let (mut seen, finished_early) = consumer.join().unwrap();
        if finished_early {
            assert_eq!(
                seen,
                usize::from(granted),
                "finished before a granted record"
            );
        }
        let mut c = ring.consumer().unwrap();
        while let Some(batch) = c.read() {
            seen += batch.record_count();
            batch.release();
        }
        assert!(c.is_finished());
        assert_eq!(seen, usize::from(granted));
        assert_eq!(ring.try_write(b"late"), Err(WriteError::Sealed));
    });
}

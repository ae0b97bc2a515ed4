//! Helpers shared by lethe-core's integration tests.

use lethe_core::ring::{Ring, Storage};

/// Every record the ring holds, consumed in order (the space released).
pub fn drain<S: Storage>(ring: &Ring<S>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut c = ring.consumer().unwrap();
    while let Some(batch) = c.read() {
        out.extend(batch.records().map(<[u8]>::to_vec));
        batch.release();
    }
    out
}

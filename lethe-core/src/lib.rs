//! # lethe-core
//!
//! The `no_std`, I/O-free heart of Lethe:
//!
//! - [`ring`]: a lock-free many-producer, single-consumer ring of variable-length byte
//!   records, working on a caller-provided (even `static`) buffer or an owned one.
//! - [`size`] and [`duration`]: strict parsers for `"100MB"`, `"512KiB"`, `"7d"`, `"1h30m"`.
//! - [`rotation`]: a pure rotation state machine (size, calendar-aligned time, manual).
//! - [`naming`]: backup names that format, parse back, are unique and sort in rotation order.
//! - [`retention`]: which backups to delete under a count, age and total-size policy.
//!
//! Nothing here performs I/O, and the rotation, naming and retention logic reads no clock:
//! callers supply time as [`civil::UnixTime`]. The exceptions are opt-in and named: [`tsc`]
//! reads the CPU's time-stamp counter (an instruction, for callers that want a cheap
//! timestamp), and the `huge-pages` feature's `madvise` advice on owned rings.
//!
//! # Features
//!
//! | feature | effect |
//! |---|---|
//! | `alloc` | owned rings ([`ring::Ring::with_capacity`]) and `Vec`-returning helpers |
//! | `std` | links std (`extern crate std`) and implies `alloc`; nothing else depends on it |
//! | `huge-pages` | `Ring::with_capacity_huge` advises owned rings for transparent huge pages on Linux (`madvise` through rustix); implies `alloc` |
//! | `portable-atomic` | atomics from the `portable-atomic` crate (targets without CAS) |
//!
//! # Example
//!
//! ```
//! use lethe_core::ring::{StaticRing, Slot};
//!
//! // 64 slots of 8 bytes: a 512-byte ring that needs no allocator.
//! static RING: StaticRing<64> = StaticRing::new();
//!
//! RING.try_write(b"hello").unwrap();
//! RING.try_write(b"world").unwrap();
//!
//! let mut consumer = RING.consumer().expect("only one consumer at a time");
//! let batch = consumer.read().expect("two committed records");
//! let records: Vec<&[u8]> = batch.records().collect();
//! assert_eq!(records, [&b"hello"[..], &b"world"[..]]);
//! batch.release();
//! assert!(RING.is_empty());
//! # let _ = Slot::new();
//! ```
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    missing_docs,
    clippy::undocumented_unsafe_blocks,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::alloc_instead_of_core
)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", lethe_loom, test))]
extern crate std;

pub mod civil;
pub mod duration;
pub mod naming;
pub mod retention;
pub mod ring;
pub mod rotation;
pub mod size;
mod snippet;
pub mod tsc;

mod sync;

//! A `#![no_std]` `#![no_main]` program that uses lethe-core's ring, size and duration
//! parsers. It links the C runtime only (for `_start` and `main`), never std.
//!
//! Exit status 0 means every check passed; any other value names the failed step.
#![no_std]
#![no_main]

use core::ffi::{c_char, c_int};
use core::panic::PanicInfo;

use lethe_core::ring::StaticRing;

static RING: StaticRing<32> = StaticRing::new();

// The C library provides `_start`, `memcpy` and `memset`; it is not Rust's std.
// SAFETY: the block declares no items, so there is nothing whose signature could be
// wrong; it only links libc.
#[link(name = "c")]
unsafe extern "C" {}

#[panic_handler]
fn panic(_info: &PanicInfo<'_>) -> ! {
    loop {}
}

/// The C entry point.
// SAFETY: `main` is the one symbol of that name in the program (no std, so no Rust
// runtime defines it), with the C signature the C runtime's `_start` calls.
#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    let Some(mut consumer) = RING.consumer() else {
        return 1;
    };
    for i in 0..1000u32 {
        if RING.try_write(&i.to_le_bytes()).is_err() {
            return 2;
        }
        let Some(batch) = consumer.read() else {
            return 3;
        };
        if batch.records().next() != Some(&i.to_le_bytes()[..]) {
            return 4;
        }
        batch.release();
    }
    if lethe_core::size::parse_size("100MB") != Ok(100_000_000) {
        return 5;
    }
    match lethe_core::duration::parse_duration("1h30m") {
        Ok(d) if d.as_secs() == 5400 => 0,
        _ => 6,
    }
}

//! Loom model checks for lethe-core live in `tests/`. They only run when built with
//! `RUSTFLAGS="--cfg lethe_loom"`, which switches lethe-core's `sync` shim to loom:
//!
//! ```text
//! RUSTFLAGS="--cfg lethe_loom" LOOM_MAX_PREEMPTIONS=2 \
//!     cargo test -p loom-tests --release
//! ```
//!
//! Without the cfg the test files compile to nothing, so `cargo test --workspace` stays fast.

//! Model-comparison checks shared by the fuzz targets and the regression replay test.
//!
//! Each `check` function takes arbitrary bytes, drives lethe-core with them and panics if
//! the result disagrees with a simple reference model. The fuzz targets in
//! `fuzz_targets/` are one-line wrappers; `lethe-core/tests/fuzz_regressions.rs` replays
//! every file under `fuzz/regressions/<target>/` through the same functions.
#![allow(dead_code)]

pub mod duration;
pub mod naming;
pub mod ring;
pub mod rotation;
pub mod size;

/// The check for fuzz target `name`, if there is one.
pub fn by_name(name: &str) -> Option<fn(&[u8])> {
    match name {
        "duration_parse" => Some(duration::check),
        "size_parse" => Some(size::check),
        "naming_roundtrip" => Some(naming::check),
        "ring_ops" => Some(ring::check),
        "rotation_machine" => Some(rotation::check),
        _ => None,
    }
}

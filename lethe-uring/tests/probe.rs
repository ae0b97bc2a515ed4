//! Runs the probe against the real kernel. Where io_uring is forbidden, the test prints a
//! visible SKIP with the reason and checks that the error explains itself.

use std::io::Write as _;

#[test]
fn probe_reports_availability_with_a_reason() {
    match lethe_uring::probe() {
        Ok(()) => println!("io_uring available: probe submitted and reaped a NOP"),
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with("io_uring unavailable: "), "{msg}");
            assert!(!e.step().is_empty());
            // Straight to stderr, which the test harness does not capture: visible in
            // `cargo test`'s output although the test passes.
            let _ = writeln!(
                std::io::stderr(),
                "SKIP: io_uring is not usable here: {msg}"
            );
        }
    }
}

//! The embedded example logs through a static ring without allocating and drains every
//! line, in order, into its file.

#[path = "../examples/embedded.rs"]
mod example;

#[test]
fn embedded_example_logs_without_allocating_and_drains_every_line_in_order() {
    let path = std::env::temp_dir().join(format!("lethe-embedded-test-{}.log", std::process::id()));
    let (logged, drained, dropped, allocations) = example::run(&path, 200).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(allocations, 0, "the logging path allocated");
    assert_eq!((logged, drained, dropped), (600, 600, 0));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 600);
    for (i, line) in lines.iter().enumerate() {
        let (tick, sensor) = (i / 3, i % 3);
        assert!(
            line.starts_with(&format!("t={tick} sensor={sensor} mv=")),
            "line {i}: {line:?}"
        );
    }
}

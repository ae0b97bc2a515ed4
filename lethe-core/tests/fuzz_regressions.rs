//! Replays every input saved under `fuzz/regressions/<target>/` through the same
//! model-comparison check the fuzz target runs, so fixed crashes stay fixed in plain
//! `cargo test` (no nightly, no sanitizer needed).

#[path = "../../fuzz/checks/mod.rs"]
mod checks;

use std::path::Path;

#[test]
fn replay_fuzz_regressions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    let mut replayed = 0usize;
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("fuzz/regressions exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let check = checks::by_name(&name)
            .unwrap_or_else(|| panic!("fuzz/regressions/{name} has no check in fuzz/checks"));
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for file in files {
            let data = std::fs::read(&file).unwrap();
            check(&data);
            replayed += 1;
        }
    }
    println!("replayed {replayed} fuzz regression inputs");
}

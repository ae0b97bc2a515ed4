//! Runs the built `lethe` binary as a real process and checks the files it leaves.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod support;
use support::{gunzip, lethe, numbers, sh_in, small_tmpfs};

/// Every file in `dir` whose name starts with `stem.` and is not the active file, sorted by
/// name (which is rotation order), then the active file.
fn files_in_order(dir: &Path, active: &str) -> Vec<PathBuf> {
    let stem = active.split('.').next().unwrap();
    let mut backups: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_str().unwrap();
            n != active && n.starts_with(&format!("{stem}."))
        })
        .collect();
    backups.sort();
    backups.push(dir.join(active));
    backups
}

#[test]
fn pipes_stdin_into_size_rotated_files_without_losing_or_splitting_lines() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let input = numbers(1, 200_000);
    let out = lethe(
        &[
            "--max-size",
            "100KB",
            "--max-backups",
            "1000",
            "--stats",
            log.to_str().unwrap(),
        ],
        &input,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("200000 lines"), "{stderr}");

    let files = files_in_order(dir.path(), "app.log");
    assert!(
        files.len() > 10,
        "expected many rotations, got {}",
        files.len()
    );
    let mut joined = Vec::new();
    for f in &files {
        let bytes = fs::read(f).unwrap();
        assert!(
            bytes.len() <= 100_000,
            "{} has {} bytes",
            f.display(),
            bytes.len()
        );
        assert!(
            bytes.is_empty() || bytes.ends_with(b"\n"),
            "{} splits a line",
            f.display()
        );
        joined.extend_from_slice(&bytes);
    }
    assert_eq!(
        joined, input,
        "backups in name order, then the active file, give the input back"
    );
}

#[test]
fn max_backups_keeps_exactly_that_many_and_the_newest_lines() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let input = numbers(1, 50_000);
    let out = lethe(
        &[
            "--max-size",
            "10KB",
            "--max-backups",
            "3",
            log.to_str().unwrap(),
        ],
        &input,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files = files_in_order(dir.path(), "app.log");
    assert_eq!(files.len(), 4, "3 backups and the active file: {files:?}");
    let joined: Vec<u8> = files.iter().flat_map(|f| fs::read(f).unwrap()).collect();
    assert!(
        input.ends_with(&joined),
        "the kept files hold the newest lines, contiguously"
    );
    assert!(
        joined.len() > 25_000,
        "3 full backups were kept ({} bytes)",
        joined.len()
    );
}

#[test]
fn foreign_files_are_never_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    for foreign in ["app.log.bak", "app.log.1", "app.1.log", "other.log"] {
        fs::write(dir.path().join(foreign), b"keep me\n").unwrap();
    }
    let out = lethe(
        &[
            "--max-size",
            "1KB",
            "--max-backups",
            "0",
            log.to_str().unwrap(),
        ],
        &numbers(1, 5_000),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for foreign in ["app.log.bak", "app.log.1", "app.1.log", "other.log"] {
        assert_eq!(
            fs::read(dir.path().join(foreign)).unwrap(),
            b"keep me\n",
            "{foreign}"
        );
    }
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "app.1.log",
            "app.log",
            "app.log.1",
            "app.log.bak",
            "other.log"
        ]
    );
}

#[test]
fn a_line_longer_than_the_limit_goes_alone_into_its_own_file_and_a_last_partial_line_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let long = format!("{}\n", "x".repeat(5_000));
    let input = format!("a\nb\n{long}c\nno newline at the end");
    let out = lethe(
        &[
            "--max-size",
            "1KB",
            "--max-backups",
            "10",
            log.to_str().unwrap(),
        ],
        input.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let contents: Vec<String> = files_in_order(dir.path(), "app.log")
        .iter()
        .map(|f| fs::read_to_string(f).unwrap())
        .collect();
    assert_eq!(
        contents,
        ["a\nb\n", long.as_str(), "c\nno newline at the end"]
    );
}

#[test]
fn every_fsync_policy_keeps_all_lines_and_fsyncs_when_it_says() {
    let dir = tempfile::tempdir().unwrap();
    // 108 894 bytes at 50KB a file: 2 rotations. Every policy fsyncs once at exit; all but
    // never also at each rotation; a size also at every 16KB (after the line that
    // reaches it); a duration also when that long passed since the last.
    let fsyncs = |n: u64, policy: &str| match policy {
        "never" => n == 1,
        "rotate" => n == 3,
        "16KB" => n >= 3 + 4,
        _ => n >= 3,
    };
    for (i, policy) in ["never", "rotate", "16KB", "1s"].into_iter().enumerate() {
        let log = dir.path().join(format!("p{i}.log"));
        let input = numbers(1, 20_000);
        let out = lethe(
            &[
                "--fsync",
                policy,
                "--max-size",
                "50KB",
                "--stats",
                log.to_str().unwrap(),
            ],
            &input,
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        let n: u64 = stderr
            .split(" fsyncs")
            .next()
            .and_then(|s| s.rsplit(' ').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{policy}: no fsync count in {stderr}"));
        assert!(fsyncs(n, policy), "{policy}: {n} fsyncs: {stderr}");
        assert!(
            out.status.success(),
            "{policy}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut names: Vec<PathBuf> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with(&format!("p{i}."))
            })
            .collect();
        names.sort();
        // Backups sort before the active file ("p0.0000000001..." < "p0.log").
        let joined: Vec<u8> = names.iter().flat_map(|p| fs::read(p).unwrap()).collect();
        assert_eq!(joined.len(), input.len(), "{policy}");
    }
}

#[test]
fn a_restart_appends_to_the_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let path = log.to_str().unwrap();
    assert!(lethe(&[path], b"first\n").status.success());
    assert!(lethe(&[path], b"second\n").status.success());
    assert_eq!(fs::read_to_string(&log).unwrap(), "first\nsecond\n");
}

#[test]
fn bad_configuration_exits_2_naming_the_value_and_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let path = log.to_str().unwrap();
    for (args, needle) in [
        (vec!["--max-size", "10XB", path], "10XB"),
        (vec!["--max-size", "10MB; rm -rf /", path], "10MB; rm -rf /"),
        (vec!["--max-size", "0", path], "at least 1 byte"),
        (vec!["--max-age", "7", path], "\"7\""),
        (vec!["--rotate-every", "fortnightly", path], "fortnightly"),
        (vec!["--mode", "999", path], "999"),
        (vec!["--buffer", "1000", path], "power of two"),
        (vec!["--on-full", "explode", path], "explode"),
        (vec!["--fsync", "sometimes", path], "sometimes"),
        (vec!["--compress-level", "12", path], "12 is not in 0..=9"),
        (vec!["--compress-level", "-1", path], "-1 is not in 0..=9"),
        (
            vec!["--compress-level", "3", path],
            "3 has no effect: compression is off",
        ),
        (
            vec!["--compress", "--no-compress", "--compress-level", "3", path],
            "compression is off",
        ),
        (vec!["--max-backups", "-1", path], "-1"),
        (vec!["--max-backups", "many", path], "whole number"),
        (vec!["--rotate-every", "0s", path], "at least 1s"),
        (vec!["--fsync", "0B", path], "at least 1 byte"),
        // A bare number or an m: bytes or seconds, megabytes or minutes? Not guessed.
        (vec!["--fsync", "5", path], "write the unit, e.g. \"5s\""),
        (vec!["--fsync", "0", path], "\"0B\" or \"0KB\""),
        (
            vec!["--fsync", "5m", path],
            "\"5min\" for minutes or \"5MB\"",
        ),
        (
            vec!["--fsync", "5M", path],
            "\"5min\" for minutes or \"5MB\"",
        ),
        (vec!["--preallocate", "4KiB", path], "from 64 KiB to 1 GiB"),
        (vec!["--preallocate", "off", path], "or none"),
        (vec!["--preset", "yearly", path], "yearly"),
        (vec!["--no-such-flag", path], "--no-such-flag"),
    ] {
        let out = lethe(&args, b"");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!log.exists(), "nothing is created on bad configuration");
    }
    let out = lethe(&[], b"");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "missing FILE is bad usage");
    assert!(stderr.contains("<FILE>"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
}

#[test]
fn a_directory_as_file_exits_2_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = lethe(&[dir.path().to_str().unwrap()], b"x\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is a directory"), "{stderr}");
    assert!(stderr.contains(dir.path().to_str().unwrap()), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    // A trailing slash names a directory too, even one that does not exist yet.
    let slashed = format!("{}/sub/app.log/", dir.path().display());
    let out = lethe(&[&slashed], b"x\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ends in '/'"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(!dir.path().join("sub").exists(), "nothing is created");
}

#[test]
fn closed_stdout_and_stderr_are_no_reason_to_fail() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    // `2>&-` closes stderr, so the --stats summary has nowhere to go; `>&-` closes stdout.
    for redirect in ["2>&-", ">&- 2>&-"] {
        let status = Command::new("sh")
            .args([
                "-c",
                &format!("seq 1 1000 | \"$0\" --stats --max-size 1KB \"$1\" {redirect}"),
            ])
            .arg(env!("CARGO_BIN_EXE_lethe"))
            .arg(&log)
            .status()
            .unwrap();
        assert!(status.success(), "{redirect}: {status}");
    }
    let out = Command::new("sh")
        .args(["-c", "\"$0\" --help >&-; echo $?"])
        .arg(env!("CARGO_BIN_EXE_lethe"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Both runs wrote everything: the active file ends with the second run's last line.
    let active = fs::read_to_string(&log).unwrap();
    assert!(active.ends_with("\n1000\n"), "{active:?}");
}

/// Time rotation is aligned to calendar boundaries: a FILE last written in an earlier
/// hour is rotated before the first line of this hour; one written this hour is not.
/// (The file's modification time stands in for the clock; no test waits for an hour.)
#[test]
fn rotate_every_hourly_rotates_at_the_hour_boundary() {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if now % 3600 < 5 || now % 3600 > 3595 {
        support::skip("too close to the hour boundary to tell the hours apart");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, age, rotates) in [("old.log", 3600, true), ("new.log", now % 3600 - 2, false)] {
        let log = dir.path().join(name);
        let f = fs::File::create(&log).unwrap();
        (&f).write_all(b"earlier\n").unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(age))
            .unwrap();
        drop(f);
        let out = lethe(
            &["--rotate-every", "hourly", log.to_str().unwrap()],
            b"now\n",
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let files = files_in_order(dir.path(), name);
        let contents: Vec<String> = files
            .iter()
            .map(|f| fs::read_to_string(f).unwrap())
            .collect();
        if rotates {
            assert_eq!(contents, ["earlier\n", "now\n"], "{name}");
        } else {
            assert_eq!(contents, ["earlier\nnow\n"], "{name}");
        }
    }
}

#[test]
fn an_unusable_path_exits_1_with_the_path_and_the_os_error() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    fs::write(&blocker, b"").unwrap();
    let log = blocker.join("app.log");
    let out = lethe(&[log.to_str().unwrap()], b"x\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(blocker.to_str().unwrap()), "{stderr}");
    assert!(
        stderr.contains("Not a directory") || stderr.contains("not a directory"),
        "{stderr}"
    );
}

/// The acceptance run: `seq 1 2000000 | lethe --max-size 1MB --compress
/// --checksum app.log` (with every backup kept, so all of the input can be checked).
#[test]
fn compress_and_checksum_give_back_the_input_with_valid_gzip_and_sidecars() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let input = numbers(1, 2_000_000);
    let out = lethe(
        &[
            "--max-size",
            "1MB",
            "--max-backups",
            "1000",
            "--compress",
            "--checksum",
            log.to_str().unwrap(),
        ],
        &input,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let gz: Vec<&String> = names.iter().filter(|n| n.ends_with(".log.gz")).collect();
    assert!(gz.len() > 10, "{names:?}");
    assert_eq!(
        names.len(),
        2 * gz.len() + 1,
        "only .gz, sidecars and the active file: {names:?}"
    );
    sh_in(
        dir.path(),
        "gzip -t *.log.gz && sha256sum -c --quiet *.sha256",
    );
    let mut joined = Vec::new();
    for g in &gz {
        let bytes = gunzip(&dir.path().join(g));
        assert!(bytes.len() <= 1_000_000, "{g}: {} bytes", bytes.len());
        assert!(bytes.ends_with(b"\n"), "{g} splits a line");
        joined.extend(bytes);
    }
    joined.extend(fs::read(&log).unwrap());
    assert_eq!(joined, input);
}

#[test]
fn a_toml_config_file_sets_defaults_that_flags_and_env_override() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("lethe.toml");
    fs::write(
        &conf,
        "max_size = \"1KB\"\nmax_backups = \"2\"\ncompress = true\n",
    )
    .unwrap();
    let log = dir.path().join("app.log");
    let input = numbers(1, 5_000);
    let out = lethe(
        &["--config", conf.to_str().unwrap(), log.to_str().unwrap()],
        &input,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let gz = fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_str()
                .unwrap()
                .ends_with(".log.gz")
        })
        .count();
    assert_eq!(gz, 2, "the file's max_backups and compress apply");

    // A flag overrides the file.
    let log2 = dir.path().join("b.log");
    let out = lethe(
        &[
            "--config",
            conf.to_str().unwrap(),
            "--max-backups",
            "none",
            log2.to_str().unwrap(),
        ],
        &input,
    );
    assert!(out.status.success());
    let kept = fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_str()
                .unwrap()
                .starts_with("b.")
        })
        .count();
    assert!(kept > 10, "--max-backups none keeps every backup ({kept})");

    // Bad keys and values in the file are named.
    fs::write(&conf, "max_sise = \"1KB\"\n").unwrap();
    let out = lethe(
        &["--config", conf.to_str().unwrap(), log.to_str().unwrap()],
        b"",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("max_sise"), "{stderr}");
    fs::write(&conf, "buffer = \"1000\"\n").unwrap();
    let out = lethe(
        &["--config", conf.to_str().unwrap(), log.to_str().unwrap()],
        b"",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("buffer: \"1000\" is invalid"), "{stderr}");
    // The rules flags get hold in the file too: an fsync without a unit, a level
    // without compression.
    for (text, needle) in [
        (
            "fsync = \"5\"\n",
            "fsync: \"5\" is invalid: a bare number is ambiguous",
        ),
        (
            "compress_level = 9\n",
            "compress_level: \"9\" is invalid: it has no effect: compression is off",
        ),
    ] {
        fs::write(&conf, text).unwrap();
        let out = lethe(
            &["--config", conf.to_str().unwrap(), log.to_str().unwrap()],
            b"",
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {stderr}");
        assert!(
            stderr.starts_with(&format!("lethe: --config {}: ", conf.display())),
            "{stderr}"
        );
        assert!(stderr.contains(needle), "{stderr}");
    }
    // A path that is no configuration file (an endless device, a large file) is refused
    // at once, not read until memory runs out.
    let big = dir.path().join("big.toml");
    fs::write(&big, vec![b'#'; (1 << 20) + 1]).unwrap();
    for path in [big.as_path(), Path::new("/dev/zero")] {
        let out = lethe(
            &["--config", path.to_str().unwrap(), log.to_str().unwrap()],
            b"",
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", path.display());
        assert!(
            stderr.contains("larger than 1048576 bytes"),
            "{}: {stderr}",
            path.display()
        );
    }
    // With compression on in the file, its level is taken.
    fs::write(&conf, "compress = true\ncompress_level = 9\n").unwrap();
    let out = lethe(
        &["--config", conf.to_str().unwrap(), log.to_str().unwrap()],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn environment_variables_configure_and_are_named_when_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let run = |vars: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lethe"));
        cmd.arg(&log).stdin(Stdio::null()).stderr(Stdio::piped());
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let out = run(&[("LETHE_ON_FULL", "explode")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("LETHE_ON_FULL") && stderr.contains("explode"),
        "{stderr}"
    );
    // A number beyond the field's type is quoted as typed, not clamped to u32::MAX.
    for (var, typed, rule) in [
        (
            "LETHE_COMPRESS_LEVEL",
            "99999999999",
            "expected a whole number from 0 to 9",
        ),
        (
            "LETHE_WORKERS",
            "1000000",
            "a file has from 1 to 64 worker threads",
        ),
    ] {
        let out = run(&[(var, typed)]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("{var}: {typed:?} is invalid: {rule}")),
            "{stderr}"
        );
    }
    let out = run(&[("LETHE_MAX_SIZE", "1KB")]);
    assert!(out.status.success());
    // A misspelled setting would never take effect: it is refused, naming the variable
    // and the setting it most likely meant.
    for (var, meant) in [
        ("LETHE_MAXSIZE", "LETHE_MAX_SIZE"),
        ("LETHE_MAX_SZIE", "LETHE_MAX_SIZE"),
        ("lethe_compress", "LETHE_COMPRESS"),
    ] {
        let out = run(&[(var, "1KB")]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{var}: {stderr}");
        assert!(
            stderr.starts_with(&format!("lethe: {var}: no Lethe setting has this name")),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!("did you mean {meant}?")),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    }
    // A level without compression would do nothing: refused, naming the variable.
    let out = run(&[("LETHE_COMPRESS_LEVEL", "3")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("lethe: LETHE_COMPRESS_LEVEL: \"3\" is invalid: it has no effect"),
        "{stderr}"
    );
    // The names Lethe's own CI, tests and benchmarks use are not settings, and are
    // ignored.
    let out = run(&[
        ("LETHE_CI", "1"),
        ("LETHE_BENCH_ONLY", "x"),
        ("LETHE_CRASH_SEED", "3"),
        ("LETHE_TEST_X", "1"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn layers_are_checked_together_and_an_error_names_the_layer_that_set_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let run = |vars: &[(&str, &str)], flags: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lethe"));
        cmd.args(flags)
            .arg(&log)
            .stdin(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    // A grow limit of 512 KiB is fine with the flag's 256 KiB buffer, though not with the
    // default 1 MiB one: the combination is what counts.
    let out = run(&[("LETHE_ON_FULL", "grow:512KiB")], &["--buffer", "256KiB"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // mode auto (from the environment) with --shared: the message names LETHE_MODE, not
    // a flag (`--mode` is the file mode).
    let out = run(&[("LETHE_MODE", "auto")], &["--shared"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("lethe: LETHE_MODE: \"auto\" is invalid: "),
        "{stderr}"
    );
    // A limit below the buffer, both from flags: the flag is named.
    let out = run(&[], &["--buffer", "4MiB", "--on-full", "grow:2MiB"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("lethe: --on-full: "), "{stderr}");
}

#[test]
fn local_time_names_carry_the_numeric_offset() {
    if !Path::new("/usr/share/zoneinfo/Asia/Kolkata").exists() {
        support::missing("no time zone database (/usr/share/zoneinfo/Asia/Kolkata)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lethe"))
        .args(["--local-time", "--max-size", "1KB"])
        .arg(&log)
        .env("TZ", "Asia/Kolkata")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&numbers(1, 1_000))
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "app.log")
        .collect();
    assert!(!names.is_empty());
    for n in &names {
        assert!(n.ends_with("+0530.log"), "{n}");
    }
}

#[test]
fn mode_and_max_total_apply_to_the_files_lethe_creates() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let out = lethe(
        &[
            "--mode",
            "600",
            "--max-size",
            "10KB",
            "--max-backups",
            "none",
            "--max-total",
            "30KB",
            log.to_str().unwrap(),
        ],
        &numbers(1, 20_000),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files = files_in_order(dir.path(), "app.log");
    let backups = &files[..files.len() - 1];
    assert!(backups.len() >= 2, "{files:?}");
    let total: u64 = backups.iter().map(|f| fs::metadata(f).unwrap().len()).sum();
    assert!(
        total <= 30_000,
        "backups hold {total} bytes, over --max-total"
    );
    for f in &files {
        let mode = fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
}

#[test]
fn max_age_deletes_backups_older_than_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    // A backup from 2020, named the way lethe names them.
    let old = dir.path().join("app.0000000001.20200101T000000Z.log");
    fs::write(&old, b"from 2020\n").unwrap();
    let out = lethe(
        &[
            "--max-size",
            "10KB",
            "--max-age",
            "7d",
            log.to_str().unwrap(),
        ],
        &numbers(1, 5_000),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!old.exists(), "the 2020 backup is older than 7d");
    let files = files_in_order(dir.path(), "app.log");
    assert!(files.len() >= 3, "this run's backups are kept: {files:?}");
    assert!(
        files[0].to_str().unwrap().contains(".0000000002."),
        "numbering continues after the old backup: {files:?}"
    );
}

#[test]
fn a_line_without_end_is_written_in_pieces_instead_of_exhausting_memory() {
    // 150 MB without a newline (binary input, /dev/zero): written as records of 64 MiB as
    // it arrives, with one warning, instead of a buffer that grows until memory runs out.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let mut input = vec![b'x'; 150_000_000];
    input.extend_from_slice(b"\nshort\n");
    let out = lethe(
        &["--max-size", "none", "--stats", log.to_str().unwrap()],
        &input,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("line 1: longer than 64 MiB, written in pieces"),
        "{stderr}"
    );
    assert!(stderr.contains("1 long lines split"), "{stderr}");
    assert!(
        stderr.contains("lethe: 2 lines, 150000007 bytes"),
        "{stderr}"
    );
    assert!(fs::read(&log).unwrap() == input, "every byte, in order");
}

#[test]
fn lines_close_gives_up_on_are_in_the_summary_and_the_exit_status() {
    // A full tmpfs: every write fails with ENOSPC; close gives up after its timeout (5 s).
    let dir = tempfile::tempdir().unwrap();
    let Some(_mount) = small_tmpfs(dir.path()) else {
        return;
    };
    let mut filler = fs::File::create(dir.path().join("filler")).unwrap();
    while filler.write_all(&[b'x'; 4096]).is_ok() {}
    drop(filler);
    let log = dir.path().join("app.log");
    let out = lethe(&["--stats", log.to_str().unwrap()], b"1\n2\n3\n4\n5\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let stats = stderr
        .lines()
        .find(|l| l.contains(" lines lost"))
        .unwrap_or_else(|| panic!("no --stats line in {stderr:?}"));
    // Exactly the five lines, nothing more (an empty file gets no newline first).
    assert!(stats.contains(", 5 lines lost,"), "{stats}");
    assert!(
        stderr.contains("5 records could not be written before close gave up"),
        "{stderr}"
    );
    assert!(stderr.contains("5 lines could not be written"), "{stderr}");
    assert_eq!(fs::read(&log).unwrap(), b"");
}

/// A device at FILE is refused as bad usage before anything happens to it: rotation would
/// rename `/dev/null` itself away (we run as root) and put a regular file in its place.
#[test]
fn a_device_is_not_a_log_file() {
    use std::os::unix::fs::FileTypeExt as _;
    for dev in ["/dev/null", "/dev/full"] {
        let out = lethe(&["--max-size", "1KB", dev], &numbers(1, 1000));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(dev) && stderr.contains("a character device, not a regular file"),
            "{stderr}"
        );
        assert!(fs::metadata(dev).unwrap().file_type().is_char_device());
    }
}

#[test]
fn no_compress_overrides_a_preset_that_compresses() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let path = log.to_str().unwrap();
    let gz = || {
        fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".gz")
            })
            .count()
    };
    let out = lethe(
        &[
            "--preset",
            "daily",
            "--max-size",
            "1KB",
            "--no-compress",
            path,
        ],
        &numbers(1, 2000),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(fs::read_dir(dir.path()).unwrap().count() > 5, "it rotated");
    assert_eq!(gz(), 0, "--no-compress wins over the preset");
    // The preset alone compresses.
    let out = lethe(
        &["--preset", "daily", "--max-size", "1KB", path],
        &numbers(2001, 4000),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(gz() > 0, "the daily preset compresses");
}

#[test]
fn help_and_configuration_md_list_the_same_flags() {
    let out = lethe(&["--help"], b"");
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let flags = |text: &str| -> std::collections::BTreeSet<String> {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|w| w.starts_with("--") && w.len() > 2)
            .map(str::to_owned)
            .collect()
    };
    // The flags `lethe --help` documents in its options list.
    let mut in_help = flags(
        &help
            .lines()
            .map(str::trim_start)
            .filter(|l| l.starts_with('-'))
            .map(|l| l.split(" <").next().unwrap())
            .collect::<Vec<_>>()
            .join(" "),
    );
    for builtin in ["--help", "--version"] {
        assert!(in_help.remove(builtin), "{builtin} in --help");
    }
    // The flags of CONFIGURATION.md's table in section 6.
    let doc = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/CONFIGURATION.md"
    ))
    .unwrap();
    let section = doc.split("## 6. The `lethe` command").nth(1).unwrap();
    let table: String = section
        .lines()
        .filter(|l| l.starts_with("| `--"))
        .map(|l| l.split(" | ").next().unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(in_help, flags(&table));
    // Every value the flags' help names as a default is the code's: checked for the
    // settings in lethe-std's config_docs test; here, the presets it lists.
    assert!(
        help.contains("Start from a preset: default, daily, weekly or development"),
        "{help}"
    );
}

//! The configuration's documentation against the code: the settings, their environment
//! variables and defaults in docs/CONFIGURATION.md and in `Config`'s rustdoc, the presets,
//! and every `LETHE_*` name the repository uses (each must be a setting or a name
//! `Config::from_env` reserves, so that no test, benchmark or CI variable ever trips its
//! refusal of unknown names).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use lethe_std::Config;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative)).unwrap()
}

/// `Config`'s fields, in order, as `Config::from_vars` asks for them.
fn fields() -> Vec<String> {
    let asked = std::cell::RefCell::new(Vec::new());
    Config::from_vars(|name| {
        asked
            .borrow_mut()
            .push(name.strip_prefix("LETHE_").unwrap().to_ascii_lowercase());
        None
    })
    .unwrap();
    asked.into_inner()
}

/// The cells of the table rows in `text` whose first cell is a backticked name, with
/// the leading `///` of rustdoc removed.
fn table_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.trim_start().trim_start_matches("///").trim())
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect()
}

/// The backticked spans of a cell, in order.
fn ticked(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// A configuration with one setting, given as its environment variable would give it.
fn with(field: &str, value: &str) -> Config {
    let var = format!("LETHE_{}", field.to_ascii_uppercase());
    Config::from_vars(|name| (name == var).then(|| OsString::from(value)))
        .unwrap_or_else(|e| panic!("{field} = {value:?}: {e}"))
}

/// Checks the settings table of `source` (docs/CONFIGURATION.md's section 1, or the
/// rustdoc of `Config`): one row per field, in the order of `Config`, with its
/// environment variable, and a default that builds the same options as leaving the
/// field unset.
fn check_settings_table(source: &str, text: &str) {
    let fields = fields();
    let rows: Vec<Vec<String>> = table_rows(text)
        .into_iter()
        .filter(|r| {
            r.len() >= 4
                && ticked(&r[1])
                    .first()
                    .is_some_and(|v| v.starts_with("LETHE_"))
        })
        .collect();
    let documented: Vec<&str> = rows.iter().map(|r| ticked(&r[0])[0]).collect();
    assert_eq!(documented, fields, "{source}: the settings table's rows");
    let unset = format!("{:?}", Config::default().build().unwrap());
    for row in &rows {
        let field = ticked(&row[0])[0];
        let var = format!("LETHE_{}", field.to_ascii_uppercase());
        assert_eq!(
            ticked(&row[1]),
            [var.as_str()],
            "{source}: {field}'s variable"
        );
        let defaults = ticked(&row[3]);
        let default = match field {
            // Chosen when the file is opened (1 MiB, or 8 MiB through io_uring with an
            // fsync policy): setting it is not the same as leaving it to the writer.
            "buffer" => {
                assert_eq!(defaults.first(), Some(&"1MiB"), "{source}: buffer");
                continue;
            }
            // `on` with the uring feature, else `off`.
            "uring" => {
                let modes: Vec<&str> = defaults
                    .iter()
                    .copied()
                    .filter(|d| ["on", "off"].contains(d))
                    .collect();
                assert_eq!(&modes[..2], ["on", "off"], "{source}: uring: {}", row[3]);
                modes[usize::from(!cfg!(feature = "uring"))]
            }
            _ => match defaults.first() {
                Some(d) => *d,
                // No default value: unset (confine_to).
                None => {
                    assert!(row[3].starts_with("none"), "{source}: {field}: {}", row[3]);
                    continue;
                }
            },
        };
        let mut config = with(field, default);
        if field == "compress_level" {
            // A level applies only with compression on.
            config.compress = Some(true);
            let unset = format!(
                "{:?}",
                Config {
                    compress: Some(true),
                    ..Config::default()
                }
                .build()
                .unwrap()
            );
            let set = format!("{:?}", config.build().unwrap());
            assert_eq!(set, unset, "{source}: {field} = {default}");
            continue;
        }
        let set = format!(
            "{:?}",
            config
                .build()
                .unwrap_or_else(|e| panic!("{source}: {field} = {default}: {e}"))
        );
        assert_eq!(
            set, unset,
            "{source}: {field}'s documented default {default:?}"
        );
    }
}

#[test]
fn configuration_md_settings_and_defaults_are_the_codes() {
    let doc = read("docs/CONFIGURATION.md");
    let section = doc
        .split("## 1. `Config` fields")
        .nth(1)
        .and_then(|s| s.split("### Presets").next())
        .unwrap();
    check_settings_table("docs/CONFIGURATION.md", section);
}

#[test]
fn config_rustdoc_settings_and_defaults_are_the_codes() {
    let src = read("lethe-std/src/config.rs");
    let docs = src.split("pub struct Config").next().unwrap();
    let table = docs.split("Presets ([`Config::preset`]").next().unwrap();
    check_settings_table("Config's rustdoc", table);
}

/// The presets table of `text`: name and the `Config` its settings give.
fn presets(text: &str) -> Vec<(String, Config)> {
    table_rows(text)
        .into_iter()
        .filter(|r| r.len() == 2)
        .map(|r| {
            let name = ticked(&r[0])[0].to_owned();
            let mut config = Config::default();
            for setting in ticked(&r[1]) {
                let (field, value) = match setting.split_once(" = ") {
                    Some((f, v)) => (f, v.trim_matches('"')),
                    // A bare boolean key: on.
                    None => (setting, "true"),
                };
                config = config.overlay(with(field, value));
            }
            (name, config)
        })
        .collect()
}

#[test]
fn documented_presets_are_the_codes() {
    let doc = read("docs/CONFIGURATION.md");
    let section = doc
        .split("### Presets")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap();
    let documented = presets(section);
    let names: Vec<&str> = documented.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["default", "daily", "weekly", "development"]);
    for (name, config) in &documented {
        assert_eq!(&Config::preset(name).unwrap(), config, "preset {name}");
    }
    // The code has no other preset: its error lists the same names.
    let e = Config::preset("hourly").unwrap_err();
    assert_eq!(
        e.rule(),
        "expected default, daily, weekly or development",
        "{e}"
    );
    // The rustdoc's table names the same presets (its settings are in prose).
    let src = read("lethe-std/src/config.rs");
    let rustdoc = src
        .split("Presets ([`Config::preset`]")
        .nth(1)
        .and_then(|s| s.split("pub struct Config").next())
        .unwrap();
    let rustdoc_names: Vec<String> = table_rows(rustdoc)
        .into_iter()
        .map(|r| ticked(&r[0])[0].to_owned())
        .collect();
    assert_eq!(rustdoc_names, names);
}

/// `LETHE_*` names that appear in the repository as examples of unknown names (tests of
/// the refusal, and the docs that describe it).
const EXAMPLES_OF_UNKNOWN: [&str; 11] = [
    "LETHE_MAXSIZE",
    "LETHE_MAX_SZIE",
    "LETHE_COMPRESSION",
    "LETHE_COMPRES",
    "LETHE_BACKUPS",
    "LETHE_ROTATE",
    "LETHE_TIMEZONE",
    "LETHE_FSNYC",
    "LETHE_WORKER",
    "LETHE_KEEP",
    "LETHE_CIX",
];

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !matches!(name.as_str(), "target" | ".git" | "corpus" | "artifacts") {
                source_files(&path, out);
            }
        } else if name == "run"
            || [".rs", ".md", ".toml", ".sh", ".yml"]
                .iter()
                .any(|ext| name.ends_with(ext))
        {
            out.push(path);
        }
    }
}

#[test]
fn every_lethe_variable_the_repository_uses_is_a_setting_or_reserved() {
    let mut files = Vec::new();
    source_files(&root(), &mut files);
    let mut names = std::collections::BTreeSet::new();
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for (at, _) in text.match_indices("LETHE_") {
            if text[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let name: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            names.insert((name, file.strip_prefix(root()).unwrap().to_path_buf()));
        }
    }
    assert!(
        names.iter().any(|(n, _)| n == "LETHE_CI"),
        "the scan found .ci/run's LETHE_CI"
    );
    for (name, file) in names {
        // `LETHE_` alone (a format string's prefix) or a documented prefix
        // (`LETHE_BENCH_`): try a name under it.
        let probe = if name.ends_with('_') {
            format!("{name}X")
        } else {
            name.clone()
        };
        if EXAMPLES_OF_UNKNOWN.contains(&probe.as_str()) || name == "LETHE_" {
            continue;
        }
        if let Err(e) = Config::from_env_vars([(probe.clone().into(), "1".into())]) {
            assert_ne!(
                e.field(),
                "environment",
                "{} uses {name}, which Config::from_env would refuse: reserve it in \
                 lethe-std/src/config.rs (RESERVED) and docs/CONFIGURATION.md, or name it \
                 LETHE_TEST_…: {e}",
                file.display()
            );
        }
    }
}

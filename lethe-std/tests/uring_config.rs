//! The `uring` configuration key and `LETHE_URING`.

use std::ffi::OsString;

use lethe_std::Config;

#[test]
fn uring_values_parse_and_bad_ones_name_the_rule() {
    for v in ["off", "on", "strict", "true", "false"] {
        let config = Config {
            uring: Some(v.into()),
            ..Config::default()
        };
        assert!(config.build().is_ok(), "{v}");
    }
    let err = Config {
        uring: Some("sometimes".into()),
        ..Config::default()
    }
    .build()
    .unwrap_err();
    assert_eq!(err.field(), "uring");
    assert_eq!(err.value(), "sometimes");
    assert!(
        err.to_string().contains("expected off, on or strict"),
        "{err}"
    );
}

#[test]
fn lethe_uring_sets_the_key() {
    let config =
        Config::from_vars(|name| (name == "LETHE_URING").then(|| OsString::from("strict")))
            .unwrap();
    assert_eq!(config.uring.as_deref(), Some("strict"));
}

//! `Config` from JSON through serde (feature `serde`): known keys work, unknown keys and
//! bad values are errors that name them.
#![cfg(feature = "serde")]

use lethe_std::Config;

#[test]
fn json_configuration_round_trips_and_rejects_unknown_keys() {
    let config: Config = serde_json::from_str(
        r#"{ "max_size": "64MiB", "rotate_every": "daily", "compress": true }"#,
    )
    .unwrap();
    assert_eq!(config.max_size.as_deref(), Some("64MiB"));
    config.build().unwrap();
    let again: Config = serde_json::from_str(&serde_json::to_string(&config).unwrap()).unwrap();
    assert_eq!(again, config);

    let err = serde_json::from_str::<Config>(r#"{ "max_sise": "1MB" }"#).unwrap_err();
    assert!(err.to_string().contains("max_sise"), "{err}");

    let bad: Config = serde_json::from_str(r#"{ "max_age": "7" }"#).unwrap();
    let err = bad.build().unwrap_err();
    assert_eq!((err.field(), err.value()), ("max_age", "7"));
}

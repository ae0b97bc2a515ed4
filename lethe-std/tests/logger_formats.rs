//! The built-in formatters write the same bytes whichever way a record travels: straight
//! into a ring reservation (the fast path), or, when it does not fit the reservation,
//! formatted again into a buffer and copied (the slow path), or into a `Vec` through
//! `Formatter::format`. Exercised with hostile text (escapes at every offset of the
//! eight-byte words the scans read, keys that need escaping, long strings), every kind of
//! number (negative, large, non-finite, short decimals and others), and a target; the JSON
//! lines are read back with serde_json.

use std::time::Duration;

mod support;
use support::MakeFormatter;

use lethe_std::logger::{
    Field, Formatter, Json, Level, Logfmt, Logger, Message, Out, Record, Text, TimePrecision,
    Timestamp,
};

const T: Timestamp = Timestamp {
    secs: 1_795_000_000,
    nanos: 123_456_789,
};

fn fixed() -> Timestamp {
    T
}

/// Messages with one special byte at each offset of strings of 1 to 40 bytes, plus
/// runs of specials and a long string.
fn messages() -> Vec<String> {
    let mut out = Vec::new();
    for special in ["\"", "\\", "\n", "\u{1}", "\u{7f}", "=", " ", "\u{e9}"] {
        for len in 1..=40 {
            for at in (0..len).step_by(3) {
                let mut s: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
                s.replace_range(at..=at, special);
                out.push(s);
            }
        }
    }
    out.push("\"\\\n\r\t\u{8}\u{c}\u{0}\u{1f}".repeat(20));
    out.push("x".repeat(5000));
    out.push(format!("{}\"{}", "long ".repeat(300), "tail\n".repeat(50)));
    out.push(String::new());
    out
}

fn floats() -> [f64; 10] {
    [
        1.25,
        -0.5,
        0.0,
        -0.0,
        200.0,
        0.1 + 0.2,
        1e300,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ]
}

fn fields<'a>(msg: &'a str, i: usize) -> [Field<'a>; 6] {
    let f = floats();
    [
        Field::new(msg, msg),
        Field::new("status", 200),
        Field::new("neg", -(i as i64) * 1_000_000_007),
        Field::new("big", u64::MAX - i as u64),
        Field::new("ms", f[i % f.len()]),
        Field::new("ok", i.is_multiple_of(2)),
    ]
}

fn render(f: &dyn Formatter, msg: &str, i: usize) -> String {
    let fields = fields(msg, i);
    let r = Record::new(Level::Warn, T, "app::db", Message::Str(msg)).with_fields(&fields);
    let mut v = Vec::new();
    f.format(&r, &mut Out::vec(&mut v));
    String::from_utf8(v).unwrap()
}

#[test]
fn fast_slow_and_vec_paths_write_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let formats: [(&str, MakeFormatter); 4] = [
        ("json", || Box::new(Json::default())),
        ("json_nanos", || {
            Box::new(Json {
                precision: TimePrecision::Nanos,
            })
        }),
        ("text", || Box::new(Text::default())),
        ("logfmt", || {
            Box::new(Logfmt {
                precision: TimePrecision::Millis,
            })
        }),
    ];
    let builder = support::fast_and_oversized_files(
        Logger::builder().clock(fixed).name("app::db"),
        dir.path(),
        &formats,
        96,
    );
    let log = builder.build().unwrap();
    let msgs = messages();
    for (i, m) in msgs.iter().enumerate() {
        log.warn(m, &fields(m, i));
    }
    let m = log.metrics();
    let small = m
        .destinations
        .iter()
        .find(|d| d.name == "json.small")
        .unwrap();
    assert!(
        small.oversized > 0,
        "the small reservation took the slow path"
    );
    assert_eq!(small.records, msgs.len() as u64);

    log.shutdown(Duration::from_secs(30)).unwrap();

    for (name, make) in &formats {
        let f = make();
        let want: String = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| render(&*f, m, i))
            .collect();
        for suffix in ["big", "small"] {
            let got = std::fs::read_to_string(dir.path().join(format!("{name}.{suffix}"))).unwrap();
            assert_eq!(got.lines().count(), msgs.len(), "{name}.{suffix}");
            for (g, w) in got.lines().zip(want.lines()) {
                assert_eq!(g, w, "{name}.{suffix}");
            }
            assert_eq!(got, want, "{name}.{suffix}");
        }
    }
    // The JSON lines read back as what was logged.
    let json = std::fs::read_to_string(dir.path().join("json.small")).unwrap();
    for ((i, line), m) in json.lines().enumerate().zip(&msgs) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["time"], "2026-11-18T11:06:40.123456Z");
        assert_eq!(v["level"], "warn");
        assert_eq!(v["target"], "app::db");
        assert_eq!(v["msg"], m.as_str());
        assert_eq!(v[m.as_str()], m.as_str());
        assert_eq!(v["status"], 200);
        assert_eq!(v["neg"], -(i as i64) * 1_000_000_007);
        assert_eq!(v["big"], u64::MAX - i as u64);
        let f = floats()[i % floats().len()];
        if f.is_finite() {
            assert_eq!(v["ms"].as_f64().unwrap().to_bits(), f.to_bits(), "{line}");
        } else {
            let text = if f.is_nan() {
                "NaN"
            } else if f > 0.0 {
                "inf"
            } else {
                "-inf"
            };
            assert_eq!(v["ms"], text, "{line}");
        }
    }
}

/// An `f32` field is written as the shortest decimal that reads back as that `f32`
/// (`0.1`), as serde_json writes it, not as the exact value of its `f64` widening
/// (`0.10000000149011612`); the widened value still reads back as the same `f32`.
#[test]
fn f32_fields_are_written_as_their_shortest_decimal() {
    let cases: [(f32, &str); 9] = [
        (0.1, "0.1"),
        (-2.7, "-2.7"),
        (1.0 / 3.0, "0.33333334"),
        (16_777_216.0, "16777216.0"),
        (f32::MAX, "3.4028235e+38"),
        (f32::MIN_POSITIVE, "1.1754944e-38"),
        (1e-45, "1e-45"),
        (-0.0, "-0.0"),
        (f32::NAN, "\"NaN\""),
    ];
    for (v, want) in cases {
        let fields = [Field::new("v", v)];
        let r = Record::new(Level::Info, T, "", Message::Str("m")).with_fields(&fields);
        let mut line = Vec::new();
        Json::default().format(&r, &mut Out::vec(&mut line));
        let line = String::from_utf8(line).unwrap();
        assert!(line.ends_with(&format!(",\"v\":{want}}}\n")), "{v}: {line}");
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        if v.is_finite() {
            assert_eq!(back["v"].as_f64().unwrap() as f32, v, "{line}");
        }
        let mut text = Vec::new();
        Logfmt::default().format(&r, &mut Out::vec(&mut text));
        let want = want.trim_matches('"');
        assert!(
            String::from_utf8(text)
                .unwrap()
                .ends_with(&format!(" v={want}\n")),
            "{v}"
        );
    }
}

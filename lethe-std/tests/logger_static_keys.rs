//! Keys checked once (at compile time by the macros, `StaticStr`, or by `Field::new`
//! for short keys) are written exactly as unchecked keys are: a clean key copied, any
//! other escaped (JSON) or with its special bytes replaced by `_` (logfmt, text). The
//! expectations here are spelled out independently of the library's check.

use std::time::Duration;

mod support;
use support::MakeFormatter;

use lethe_std::WriterOptions;
use lethe_std::logger::{
    Destination, Field, Formatter, Json, Level, Logfmt, Logger, Message, Out, Record, StaticStr,
    Text, Timestamp,
};

/// The three built-in formatters, each file destination getting its own.
const FORMATS: [(&str, MakeFormatter); 3] = [
    ("json", || Box::new(Json::default())),
    ("text", || Box::new(Text::default())),
    ("logfmt", || Box::new(Logfmt::default())),
];

const T: Timestamp = Timestamp {
    secs: 1_795_000_000,
    nanos: 123_456_789,
};

/// What logfmt and text write for `key`.
fn logfmt_key(key: &str) -> String {
    if key.is_empty() {
        return "_".to_owned();
    }
    let bytes: Vec<u8> = key
        .bytes()
        .map(|c| {
            if c <= b' ' || c == b'=' || c == b'"' || c == 0x7f {
                b'_'
            } else {
                c
            }
        })
        .collect();
    String::from_utf8(bytes).unwrap()
}

fn render(f: &dyn Formatter, fields: &[Field<'_>]) -> String {
    let r = Record::new(Level::Info, T, "", Message::Str("m")).with_fields(fields);
    let mut v = Vec::new();
    f.format(&r, &mut Out::vec(&mut v));
    String::from_utf8(v).unwrap()
}

/// Keys of every length up to 40 (on both sides of the length `Field::new` checks
/// itself), with each special byte at every offset.
fn keys() -> Vec<String> {
    let mut out = vec![String::new()];
    for special in ["\"", "\\", "\n", "\u{1}", "\u{7f}", "=", " ", "\u{e9}", "_"] {
        for len in 1..=40 {
            for at in 0..len {
                let mut s: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
                s.replace_range(at..=at, special);
                out.push(s);
            }
        }
    }
    out
}

#[test]
fn checked_keys_are_written_as_unchecked_ones() {
    for key in keys() {
        let fields = [Field::new(&key, 7u64)];
        let want = format!(" {}=7\n", logfmt_key(&key));
        let text = render(&Text::default(), &fields);
        assert!(text.ends_with(&want), "{key:?}: {text:?}");
        let logfmt = render(&Logfmt::default(), &fields);
        assert!(logfmt.ends_with(&want), "{key:?}: {logfmt:?}");
        let json = render(&Json::default(), &fields);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v[key.as_str()], 7, "{key:?}: {json}");
    }
    // `StaticStr` (leaked: it takes `&'static str`) agrees with `Field::new`.
    for key in keys() {
        let k = StaticStr::new(Box::leak(key.clone().into_boxed_str()));
        for f in [
            &Json::default() as &dyn Formatter,
            &Text::default(),
            &Logfmt::default(),
        ] {
            assert_eq!(
                render(f, &[Field::with_key(k, 7u64)]),
                render(f, &[Field::new(&key, 7u64)]),
                "{key:?}"
            );
        }
    }
}

/// Through the macros (keys checked at compile time) into files, fast path and
/// oversized path, for keys that need escaping and keys that do not.
#[test]
fn macro_keys_that_need_escaping() {
    let dir = tempfile::tempdir().unwrap();
    let builder =
        support::fast_and_oversized_files(Logger::builder().clock(|| T), dir.path(), &FORMATS, 64);
    let log = builder.build().unwrap();
    lethe_std::info!(log, "m"; "a b" => 1u64, "x=y" => 2u64, "q\"k" => 3u64, "t\tk" => 4u64,
        "b\\s" => 5u64, "" => 6u64, "fine_key" => 7u64, "caf\u{e9}" => 8u64, "d\u{7f}" => 9u64);
    let m = log.metrics();
    assert!(m.destination("json.small").unwrap().oversized > 0);
    log.shutdown(Duration::from_secs(30)).unwrap();
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
    let pairs = " a_b=1 x_y=2 q_k=3 t_k=4 b\\s=5 _=6 fine_key=7 caf\u{e9}=8 d_=9\n";
    for suffix in ["big", "small"] {
        assert_eq!(
            read(&format!("text.{suffix}")),
            format!("2026-11-18T11:06:40.123456Z INFO  m{pairs}")
        );
        assert_eq!(
            read(&format!("logfmt.{suffix}")),
            format!("time=2026-11-18T11:06:40.123456Z level=info msg=m{pairs}")
        );
        assert_eq!(
            read(&format!("json.{suffix}")),
            "{\"time\":\"2026-11-18T11:06:40.123456Z\",\"level\":\"info\",\"msg\":\"m\",\
             \"a b\":1,\"x=y\":2,\"q\\\"k\":3,\"t\\tk\":4,\"b\\\\s\":5,\"\":6,\"fine_key\":7,\
             \"caf\u{e9}\":8,\"d\u{7f}\":9}\n"
        );
    }
}

/// Messages without arguments (logged as checked `StaticStr`s by the macros) and logger
/// names (checked when the logger is made) that need escaping or quoting, and some that
/// do not, through every formatter, fast and oversized path, against the same records
/// logged unchecked (`Logger::log` with a runtime string).
#[test]
fn macro_messages_and_targets_are_written_as_unchecked_ones() {
    let dir = tempfile::tempdir().unwrap();
    let builder =
        support::fast_and_oversized_files(Logger::builder().clock(|| T), dir.path(), &FORMATS, 48);
    let root = builder.build().unwrap();
    let messages: [&'static str; 8] = [
        "served",
        "two words",
        "quote \" and backslash \\",
        "new\nline\ttab",
        "del \u{7f} ctl \u{1}",
        "eq=sign",
        "caf\u{e9}",
        "",
    ];
    let mut lines = 0;
    for target in ["", "app", "app::db", "my app", "a=b", "t\nx", "q\"t"] {
        let log = root.named(target);
        // Each message twice: through the macro (checked), then at run time (not).
        macro_rules! both {
            ($m:literal) => {{
                lethe_std::info!(log, $m; "k" => 1u64);
                let runtime = std::hint::black_box(String::from($m));
                log.info(&runtime, &[Field::new(&String::from("k"), 1u64)]);
                lines += 2;
            }};
        }
        both!("served");
        both!("two words");
        both!("quote \" and backslash \\");
        both!("new\nline\ttab");
        both!("del \u{7f} ctl \u{1}");
        both!("eq=sign");
        both!("caf\u{e9}");
        both!("");
    }
    assert_eq!(lines, 7 * 2 * messages.len());
    let m = root.metrics();
    assert!(m.destination("text.small").unwrap().oversized > 0);
    root.shutdown(Duration::from_secs(30)).unwrap();
    for (name, _) in FORMATS {
        for suffix in ["big", "small"] {
            let got = std::fs::read_to_string(dir.path().join(format!("{name}.{suffix}"))).unwrap();
            let got: Vec<&str> = got.lines().collect();
            assert_eq!(got.len(), lines, "{name}.{suffix}");
            for pair in got.chunks(2) {
                assert_eq!(pair[0], pair[1], "{name}.{suffix}");
            }
        }
    }
    // Spot checks of what is written.
    let text = std::fs::read_to_string(dir.path().join("text.big")).unwrap();
    assert!(
        text.contains(" INFO  t\\nx: new\\nline\\ttab k=1\n"),
        "{text}"
    );
    assert!(text.contains(" INFO  served k=1\n"), "{text}");
    let logfmt = std::fs::read_to_string(dir.path().join("logfmt.small")).unwrap();
    assert!(
        logfmt.contains(" target=\"my app\" msg=\"two words\" k=1\n"),
        "{logfmt}"
    );
    assert!(
        logfmt.contains(" target=app msg=\"eq=sign\" k=1\n"),
        "{logfmt}"
    );
    assert!(
        logfmt.contains(" target=\"a=b\" msg=served k=1\n"),
        "{logfmt}"
    );
    let json = std::fs::read_to_string(dir.path().join("json.small")).unwrap();
    for line in json.lines() {
        let _: serde_json::Value = serde_json::from_str(line).unwrap();
    }
    assert!(
        json.contains(r#""target":"q\"t","msg":"new\nline\ttab","k":1}"#),
        "{json}"
    );
}

/// A format string without arguments that is not its own text (escaped braces, an
/// inline captured variable) is formatted, not logged as a `StaticStr`.
#[test]
fn macro_messages_with_braces_are_formatted() {
    let dir = tempfile::tempdir().unwrap();
    let log = Logger::builder()
        .clock(|| T)
        .destination(
            Destination::open_file(dir.path().join("t.log"), WriterOptions::default())
                .unwrap()
                .formatter(Text::default()),
        )
        .build()
        .unwrap();
    let x = 5;
    lethe_std::info!(log, "{{braces}}");
    lethe_std::info!(log, "x is {x}"; "k" => 1u64);
    lethe_std::info!(log, "plain");
    log.shutdown(Duration::from_secs(30)).unwrap();
    let text = std::fs::read_to_string(dir.path().join("t.log")).unwrap();
    assert_eq!(
        text,
        "2026-11-18T11:06:40.123456Z INFO  {braces}\n\
         2026-11-18T11:06:40.123456Z INFO  x is 5 k=1\n\
         2026-11-18T11:06:40.123456Z INFO  plain\n"
    );
}

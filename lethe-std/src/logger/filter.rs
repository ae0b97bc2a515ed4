//! [`Filter`]: predicates that decide whether a record goes on, on the logger as a whole
//! or on one destination. Closures `Fn(&Record) -> bool` are filters; the functions here
//! build the common ones.

use super::field::{OwnedValue, Value};
use super::level::Level;
use super::record::Record;

/// Decides whether a record goes on. Runs on the caller's thread before formatting; it
/// must be cheap and must not log through the same logger.
pub trait Filter: Send + Sync {
    /// `true` to keep the record.
    fn allow(&self, record: &Record<'_>) -> bool;
}

impl<F> Filter for F
where
    F: Fn(&Record<'_>) -> bool + Send + Sync,
{
    fn allow(&self, record: &Record<'_>) -> bool {
        self(record)
    }
}

/// Keeps records at `min` and above.
pub fn min_level(min: Level) -> impl Filter {
    move |r: &Record<'_>| r.level() >= min
}

/// Keeps records from targets that start with `prefix` (a module path, a logger name).
pub fn target_starts_with(prefix: impl Into<String>) -> impl Filter {
    let prefix = prefix.into();
    move |r: &Record<'_>| r.target().starts_with(prefix.as_str())
}

/// Keeps records whose message contains `needle`. A message that is not a plain string
/// (`format_args!` with arguments) is rendered, without redaction, to test it.
pub fn message_contains(needle: impl Into<String>) -> impl Filter {
    let needle = needle.into();
    move |r: &Record<'_>| match r.message_str() {
        Some(s) => s.contains(needle.as_str()),
        None => {
            let mut text = String::new();
            r.unredacted().message_text(&mut |s| text.push_str(s));
            text.contains(needle.as_str())
        }
    }
}

/// Keeps records that have a field `key` equal to `value` (integers compare across
/// signedness; text compares exactly).
pub fn field_equals(key: impl Into<String>, value: impl Into<OwnedValue>) -> impl Filter {
    let key = key.into();
    let value = value.into();
    move |r: &Record<'_>| r.any_field(&key, &|v| value_eq(&value, v))
}

/// Keeps records that have a field named `key`.
pub fn has_field(key: impl Into<String>) -> impl Filter {
    let key = key.into();
    move |r: &Record<'_>| r.any_field(&key, &|_| true)
}

/// Keeps the records `filter` rejects.
pub fn not(filter: impl Filter) -> impl Filter {
    move |r: &Record<'_>| !filter.allow(r)
}

fn value_eq(want: &OwnedValue, got: Value<'_>) -> bool {
    match (want, got) {
        (OwnedValue::Str(a), Value::Str(b)) => **a == *b,
        (OwnedValue::Str(a), Value::Bytes(b)) => a.as_bytes() == b,
        (OwnedValue::I64(a), _) => got.as_i64() == Some(*a),
        (OwnedValue::U64(a), Value::U64(b)) => *a == b,
        (OwnedValue::U64(a), Value::I64(b)) => u64::try_from(b).ok() == Some(*a),
        (OwnedValue::F64(a), Value::F64(b)) => *a == b,
        (OwnedValue::Bool(a), Value::Bool(b)) => *a == b,
        (OwnedValue::Null, Value::Null) => true,
        _ => false,
    }
}

impl From<&str> for OwnedValue {
    fn from(v: &str) -> OwnedValue {
        OwnedValue::Str(v.into())
    }
}

impl From<i64> for OwnedValue {
    fn from(v: i64) -> OwnedValue {
        OwnedValue::I64(v)
    }
}

impl From<u64> for OwnedValue {
    fn from(v: u64) -> OwnedValue {
        OwnedValue::U64(v)
    }
}

impl From<bool> for OwnedValue {
    fn from(v: bool) -> OwnedValue {
        OwnedValue::Bool(v)
    }
}

#[cfg(test)]
mod tests {
    use super::super::field::Field;
    use super::super::record::{Message, Timestamp};
    use super::*;

    #[test]
    fn predicates() {
        let fields = [Field::new("user", "ann"), Field::new("code", 404u16)];
        let r = Record::new(
            Level::Info,
            Timestamp::default(),
            "app::db",
            Message::Str("no row"),
        )
        .with_fields(&fields);
        assert!(min_level(Level::Info).allow(&r) && !min_level(Level::Warn).allow(&r));
        assert!(target_starts_with("app::").allow(&r));
        assert!(message_contains("row").allow(&r) && !message_contains("col").allow(&r));
        assert!(field_equals("user", "ann").allow(&r));
        assert!(field_equals("code", 404i64).allow(&r));
        assert!(!field_equals("code", 500i64).allow(&r));
        assert!(has_field("code").allow(&r) && not(has_field("x")).allow(&r));
        let n = 7;
        assert!(message_contains("id 7").allow(&Record::new(
            Level::Info,
            Timestamp::default(),
            "",
            Message::Args(format_args!("id {n}")),
        )));
    }
}

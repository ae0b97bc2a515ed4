//! [`Field`] and [`Value`]: the key-value pairs of a record, borrowed from the caller, and
//! [`OwnedField`], the owned form that child loggers and context scopes keep.

use std::fmt;
use std::sync::Arc;

use super::key::{self, StaticStr};

/// The value of a field, borrowed from the caller. Copying it is cheap; formatting it
/// happens on the caller's thread, straight into the destination's buffer.
#[derive(Copy, Clone)]
#[non_exhaustive]
pub enum Value<'a> {
    /// Text.
    Str(&'a str),
    /// Bytes that should be text; invalid UTF-8 is replaced with U+FFFD when formatted.
    Bytes(&'a [u8]),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A float (non-finite values are written as strings: `"NaN"`, `"inf"`, `"-inf"`).
    F64(f64),
    /// A boolean.
    Bool(bool),
    /// An error: its `Display`, then each `source()` after `": "`.
    Error(&'a (dyn std::error::Error + 'static)),
    /// Anything `Display`, rendered as text.
    Display(&'a dyn fmt::Display),
    /// Anything `Debug`, rendered as text.
    Debug(&'a dyn fmt::Debug),
    /// No value (JSON `null`).
    Null,
}

impl<'a> Value<'a> {
    /// An error value (see [`Value::Error`]).
    pub fn error<E: std::error::Error + 'static>(e: &'a E) -> Value<'a> {
        Value::Error(e)
    }

    /// A value rendered with `Display`.
    pub fn display<T: fmt::Display>(v: &'a T) -> Value<'a> {
        Value::Display(v)
    }

    /// A value rendered with `Debug`.
    pub fn debug<T: fmt::Debug>(v: &'a T) -> Value<'a> {
        Value::Debug(v)
    }

    /// The text of a `Str` value, if it is one.
    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an `i64`, if it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::I64(v) => Some(v),
            Value::U64(v) => i64::try_from(v).ok(),
            _ => None,
        }
    }
}

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => write!(f, "Str({s:?})"),
            Value::Bytes(b) => write!(f, "Bytes({:?})", String::from_utf8_lossy(b)),
            Value::I64(v) => write!(f, "I64({v})"),
            Value::U64(v) => write!(f, "U64({v})"),
            Value::F64(v) => write!(f, "F64({v})"),
            Value::Bool(v) => write!(f, "Bool({v})"),
            Value::Error(e) => write!(f, "Error({e})"),
            Value::Display(d) => write!(f, "Display({d})"),
            Value::Debug(d) => write!(f, "Debug({d:?})"),
            Value::Null => f.write_str("Null"),
        }
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Str(v)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(v: &'a String) -> Self {
        Value::Str(v)
    }
}

impl<'a> From<&'a [u8]> for Value<'a> {
    fn from(v: &'a [u8]) -> Self {
        Value::Bytes(v)
    }
}

macro_rules! from_int {
    ($variant:ident, $wide:ty: $($t:ty),*) => {$(
        impl From<$t> for Value<'_> {
            fn from(v: $t) -> Self {
                Value::$variant(v as $wide)
            }
        }
    )*};
}
from_int!(I64, i64: i8, i16, i32, i64, isize);
from_int!(U64, u64: u8, u16, u32, u64, usize);

impl From<f64> for Value<'_> {
    fn from(v: f64) -> Self {
        Value::F64(v)
    }
}

impl From<f32> for Value<'_> {
    /// The `f64` nearest to the shortest decimal that reads back as `v`, so that `0.1f32`
    /// is written `0.1` (as serde_json writes an `f32`), not `0.10000000149011612`, the
    /// exact value of `f64::from(0.1f32)`. That `f64` still converts back to `v`.
    fn from(v: f32) -> Self {
        Value::F64(f32_decimal(v))
    }
}

/// See `From<f32> for Value`: zmij's shortest text of `v`, read as an `f64` (on the
/// stack: no allocation). Non-finite values are widened as they are.
fn f32_decimal(v: f32) -> f64 {
    if !v.is_finite() {
        return f64::from(v);
    }
    zmij::Buffer::new()
        .format_finite(v)
        .parse()
        .unwrap_or(f64::from(v))
}

impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl<'a, T> From<Option<T>> for Value<'a>
where
    T: Into<Value<'a>>,
{
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// One key-value pair of a record, borrowed from the caller.
#[derive(Copy, Clone)]
pub struct Field<'a> {
    /// The key.
    pub key: &'a str,
    /// The value.
    pub value: Value<'a>,
    /// What a compile-time check of `key` found ([`StaticStr`]); 0 (not checked: the
    /// formatters scan the key) for [`Field::new`].
    key_check: u8,
}

impl fmt::Debug for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Field")
            .field("key", &self.key)
            .field("value", &self.value)
            .finish()
    }
}

impl<'a> Field<'a> {
    /// A field.
    #[inline]
    pub fn new(key: &'a str, value: impl Into<Value<'a>>) -> Field<'a> {
        Field {
            key,
            value: value.into(),
            // A short key is checked here, a byte at a time: for a literal key (the
            // usual case) the compiler folds the check away. Longer keys are left to
            // the formatters' word-at-a-time scans.
            key_check: if key.len() <= key::CHECK_AT_NEW {
                key::check(key)
            } else {
                0
            },
        }
    }

    /// A field whose key was checked once, at compile time when `key` is built in a
    /// `const` block (what the logging macros do): the formatters then copy a key that
    /// needs no escaping instead of scanning it on every record. The output is the same
    /// as [`Field::new`]'s.
    #[inline]
    pub fn with_key(key: StaticStr, value: impl Into<Value<'a>>) -> Field<'a> {
        Field {
            key: key.as_str(),
            value: value.into(),
            key_check: key.check(),
        }
    }

    /// Whether the key is known to need no JSON escape.
    #[inline]
    pub(crate) fn key_json_clean(&self) -> bool {
        self.key_check & key::JSON_CLEAN != 0
    }

    /// Whether the key is known to be written unchanged by logfmt and `Text`.
    #[inline]
    pub(crate) fn key_logfmt_clean(&self) -> bool {
        self.key_check & key::LOGFMT_CLEAN != 0
    }
}

/// An owned field value, kept by child loggers ([`Logger::with_field`]) and context
/// scopes. `Display`, `Debug` and error values are rendered to text when bound.
///
/// [`Logger::with_field`]: crate::logger::Logger::with_field
#[derive(Clone, Debug, PartialEq)]
pub enum OwnedValue {
    /// Text.
    Str(Arc<str>),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A float.
    F64(f64),
    /// A boolean.
    Bool(bool),
    /// No value.
    Null,
}

impl OwnedValue {
    /// The borrowed form.
    pub fn as_value(&self) -> Value<'_> {
        match self {
            OwnedValue::Str(s) => Value::Str(s),
            OwnedValue::I64(v) => Value::I64(*v),
            OwnedValue::U64(v) => Value::U64(*v),
            OwnedValue::F64(v) => Value::F64(*v),
            OwnedValue::Bool(v) => Value::Bool(*v),
            OwnedValue::Null => Value::Null,
        }
    }
}

impl From<Value<'_>> for OwnedValue {
    fn from(v: Value<'_>) -> OwnedValue {
        match v {
            Value::Str(s) => OwnedValue::Str(s.into()),
            Value::Bytes(b) => OwnedValue::Str(String::from_utf8_lossy(b).into()),
            Value::I64(v) => OwnedValue::I64(v),
            Value::U64(v) => OwnedValue::U64(v),
            Value::F64(v) => OwnedValue::F64(v),
            Value::Bool(v) => OwnedValue::Bool(v),
            Value::Error(e) => OwnedValue::Str(error_chain(e).into()),
            Value::Display(d) => OwnedValue::Str(d.to_string().into()),
            Value::Debug(d) => OwnedValue::Str(format!("{d:?}").into()),
            Value::Null => OwnedValue::Null,
        }
    }
}

/// An owned key-value pair.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnedField {
    /// The key.
    pub key: Arc<str>,
    /// The value.
    pub value: OwnedValue,
}

impl OwnedField {
    /// An owned field from any value (rendering `Display`/`Debug`/error values now).
    pub fn new<'a>(key: &str, value: impl Into<Value<'a>>) -> OwnedField {
        OwnedField {
            key: key.into(),
            value: OwnedValue::from(value.into()),
        }
    }

    /// The borrowed form.
    pub fn as_field(&self) -> Field<'_> {
        Field::new(&self.key, self.value.as_value())
    }
}

impl From<Field<'_>> for OwnedField {
    fn from(f: Field<'_>) -> OwnedField {
        OwnedField::new(f.key, f.value)
    }
}

/// An error's `Display` followed by each of its sources, separated by `": "`.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

//! [`TracingLayer`]: the logger as a `tracing_subscriber::Layer` (feature `tracing`):
//! events become records, with the fields of their spans and their own.

use std::fmt;

use tracing_core::field::{Field as TField, Visit};
use tracing_core::span::{Attributes, Id, Record as SpanRecord};
use tracing_core::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::Logger;
use super::field::{Field, OwnedField, OwnedValue, Value};
use super::level::Level;
use super::record::Message;

/// A `tracing_subscriber::Layer` that sends every event through a [`Logger`].
///
/// - Level: `TRACE`...`ERROR` map one to one.
/// - Target: the event's target.
/// - Message: the event's `message` field (what `info!("...")` writes).
/// - Fields: the fields of every span the event is in, from the root span inwards (as
///   recorded at creation and by `Span::record`), then a `span` field with the innermost
///   span's name, then the event's own fields. With the [`Json`](super::Json) formatter
///   each is a key of the JSON object; numbers and booleans stay typed.
///
/// Span fields are stored once per span (in the span's extensions); an event collects
/// its fields into a small vector, so, unlike [`Logger::info`], a `tracing` event
/// allocates.
///
/// ```
/// use lethe_std::logger::{Destination, Level, Logger, TracingLayer};
/// use tracing_subscriber::layer::SubscriberExt as _;
///
/// let logger = Logger::builder().level(Level::Debug).destination(Destination::stderr()).build()?;
/// let subscriber = tracing_subscriber::registry().with(TracingLayer::new(logger));
/// tracing::subscriber::with_default(subscriber, || {
///     let span = tracing::info_span!("request", id = 7);
///     let _e = span.enter();
///     tracing::info!(status = 200, "served");
/// });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct TracingLayer {
    logger: Logger,
}

impl TracingLayer {
    /// A layer that logs to `logger`.
    pub fn new(logger: Logger) -> TracingLayer {
        TracingLayer { logger }
    }
}

fn level(l: tracing_core::Level) -> Level {
    match l {
        tracing_core::Level::ERROR => Level::Error,
        tracing_core::Level::WARN => Level::Warn,
        tracing_core::Level::INFO => Level::Info,
        tracing_core::Level::DEBUG => Level::Debug,
        _ => Level::Trace,
    }
}

/// The recorded fields of one span.
struct SpanFields(Vec<OwnedField>);

/// Collects fields; `message` goes aside.
#[derive(Default)]
struct Collect {
    fields: Vec<OwnedField>,
    message: Option<String>,
}

impl Collect {
    fn put(&mut self, field: &TField, value: OwnedValue) {
        self.put_key(field.name(), value);
    }

    /// A span's fields: its `message` is a field like the others (an event's is the
    /// record's message).
    fn into_span_fields(mut self) -> Vec<OwnedField> {
        if let Some(m) = self.message.take() {
            self.put_key("message", OwnedValue::Str(m.into()));
        }
        self.fields
    }

    fn put_key(&mut self, key: &str, value: OwnedValue) {
        if let Some(f) = self.fields.iter_mut().find(|f| &*f.key == key) {
            f.value = value;
        } else {
            self.fields.push(OwnedField {
                key: key.into(),
                value,
            });
        }
    }
}

impl Visit for Collect {
    fn record_f64(&mut self, field: &TField, value: f64) {
        self.put(field, OwnedValue::F64(value));
    }
    fn record_i64(&mut self, field: &TField, value: i64) {
        self.put(field, OwnedValue::I64(value));
    }
    fn record_u64(&mut self, field: &TField, value: u64) {
        self.put(field, OwnedValue::U64(value));
    }
    fn record_bool(&mut self, field: &TField, value: bool) {
        self.put(field, OwnedValue::Bool(value));
    }
    fn record_str(&mut self, field: &TField, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_owned());
        } else {
            self.put(field, OwnedValue::Str(value.into()));
        }
    }
    fn record_error(&mut self, field: &TField, value: &(dyn std::error::Error + 'static)) {
        self.put(field, OwnedValue::from(Value::Error(value)));
    }
    fn record_debug(&mut self, field: &TField, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message = Some(format!("{value:?}"));
        } else {
            self.put(field, OwnedValue::Str(format!("{value:?}").into()));
        }
    }
}

impl<S> Layer<S> for TracingLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut c = Collect::default();
        attrs.record(&mut c);
        span.extensions_mut()
            .insert(SpanFields(c.into_span_fields()));
    }

    fn on_record(&self, id: &Id, values: &SpanRecord<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        let mut c = Collect {
            fields: ext.remove::<SpanFields>().map(|f| f.0).unwrap_or_default(),
            message: None,
        };
        values.record(&mut c);
        ext.insert(SpanFields(c.into_span_fields()));
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let level = level(*meta.level());
        if !self.logger.enabled(level) {
            return;
        }
        let mut spans: Vec<OwnedField> = Vec::new();
        let mut innermost = None;
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(f) = span.extensions().get::<SpanFields>() {
                    spans.extend(f.0.iter().cloned());
                }
                innermost = Some(span.name());
            }
        }
        let mut c = Collect::default();
        event.record(&mut c);
        let mut fields: Vec<Field<'_>> = spans.iter().map(OwnedField::as_field).collect();
        if let Some(name) = innermost {
            fields.push(Field::new("span", name));
        }
        fields.extend(c.fields.iter().map(OwnedField::as_field));
        let message = c.message.as_deref().unwrap_or("");
        self.logger
            .emit(level, meta.target(), Message::Str(message), &fields, None);
    }
}

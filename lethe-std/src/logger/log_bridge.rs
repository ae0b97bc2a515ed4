//! [`LogBridge`]: the logger as the `log` crate's global logger (feature `log`), with
//! the records' key-values as fields.

use super::Logger;
use super::field::Value;
use super::level::Level;
use super::record::Message;

/// A `log::Log` that sends `log` records through a [`Logger`]: the level maps one to one
/// (`log` has no fatal), the target is the record's target (its module path by
/// default), the message is rendered only if a destination takes the record, and the
/// record's key-values (`log::info!(user = "ann"; "...")`) become fields after the
/// logger's own.
///
/// ```
/// use lethe_std::logger::{Destination, Level, LogBridge, Logger};
///
/// let logger = Logger::builder().level(Level::Debug).destination(Destination::stderr()).build()?;
/// # if false {
/// LogBridge::new(logger).install()?;
/// log::info!(user = "ann", attempts = 3; "logged in");
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct LogBridge {
    logger: Logger,
}

fn level(l: log::Level) -> Level {
    match l {
        log::Level::Error => Level::Error,
        log::Level::Warn => Level::Warn,
        log::Level::Info => Level::Info,
        log::Level::Debug => Level::Debug,
        log::Level::Trace => Level::Trace,
    }
}

fn filter(l: Option<Level>) -> log::LevelFilter {
    match l {
        None => log::LevelFilter::Off,
        Some(Level::Trace) => log::LevelFilter::Trace,
        Some(Level::Debug) => log::LevelFilter::Debug,
        Some(Level::Info) => log::LevelFilter::Info,
        Some(Level::Warn) => log::LevelFilter::Warn,
        Some(Level::Error | Level::Fatal) => log::LevelFilter::Error,
    }
}

impl LogBridge {
    /// A bridge to `logger`.
    pub fn new(logger: Logger) -> LogBridge {
        LogBridge { logger }
    }

    /// The logger records go to.
    pub fn logger(&self) -> &Logger {
        &self.logger
    }

    /// Installs the bridge as the global `log` logger and sets `log`'s maximum level to
    /// the logger's current level (so disabled `log` macros cost what `log` makes them
    /// cost). After lowering the logger's level, call `log::set_max_level` too.
    ///
    /// # Errors
    ///
    /// `log::SetLoggerError` if a global logger is installed already.
    pub fn install(self) -> Result<(), log::SetLoggerError> {
        let max = filter(self.logger.level());
        log::set_boxed_logger(Box::new(self))?;
        log::set_max_level(max);
        Ok(())
    }
}

struct Visitor<'f>(&'f mut dyn FnMut(&str, Value<'_>));

impl<'kvs> log::kv::VisitSource<'kvs> for Visitor<'_> {
    fn visit_pair(
        &mut self,
        key: log::kv::Key<'kvs>,
        value: log::kv::Value<'kvs>,
    ) -> Result<(), log::kv::Error> {
        let key = key.as_str();
        if let Some(s) = value.to_borrowed_str() {
            (self.0)(key, Value::Str(s));
        } else if let Some(b) = value.to_bool() {
            (self.0)(key, Value::Bool(b));
        } else if let Some(i) = value.to_i64() {
            (self.0)(key, Value::I64(i));
        } else if let Some(u) = value.to_u64() {
            (self.0)(key, Value::U64(u));
        } else if let Some(f) = value.to_f64() {
            (self.0)(key, Value::F64(f));
        } else {
            (self.0)(key, Value::Display(&value));
        }
        Ok(())
    }
}

impl log::Log for LogBridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.logger.enabled(level(metadata.level()))
    }

    fn log(&self, record: &log::Record<'_>) {
        let level = level(record.level());
        if !self.logger.enabled(level) {
            return;
        }
        let kv = record.key_values();
        let extra = |f: &mut dyn FnMut(&str, Value<'_>)| {
            let _ = kv.visit(&mut Visitor(f));
        };
        let message = match record.args().as_str() {
            Some(s) => Message::Str(s),
            None => Message::Args(*record.args()),
        };
        self.logger
            .emit(level, record.target(), message, &[], Some(&extra));
    }

    fn flush(&self) {
        let _ = self.logger.flush();
    }
}

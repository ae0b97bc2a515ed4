//! [`LoggerBuilder`]: the configuration of a [`Logger`].

use std::fmt;
use std::io;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use super::metrics::LoggerCounters;
use super::queue::{ErrorHook, lock};
use super::{
    AtomicLevel, Destination, Enricher, Filter, Level, Logger, Redactor, Registry, Sampler, Shared,
    Timestamp, UriError,
};

/// Builds a [`Logger`].
///
/// | setting | default |
/// |---|---|
/// | [`level`](LoggerBuilder::level) | [`Level::Info`] |
/// | [`name`](LoggerBuilder::name) | empty (no `target` in the output) |
/// | filters, samplers, enrichers | none |
/// | [`redact`](LoggerBuilder::redact) | nothing redacted |
/// | destinations | none (records are counted, then discarded) |
/// | [`clock`](LoggerBuilder::clock) | [`Timestamp::now_fast`] |
/// | [`on_error`](LoggerBuilder::on_error) | one line a second at most on stderr |
#[must_use]
pub struct LoggerBuilder {
    level: Option<Level>,
    name: String,
    filters: Vec<Box<dyn Filter>>,
    samplers: Vec<Arc<dyn Sampler>>,
    enrichers: Vec<Arc<dyn Enricher>>,
    redactor: Option<Redactor>,
    destinations: Vec<Destination>,
    clock: fn() -> Timestamp,
    on_error: Option<ErrorHook>,
}

impl fmt::Debug for LoggerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoggerBuilder")
            .field("level", &self.level)
            .field("name", &self.name)
            .field("destinations", &self.destinations)
            .finish_non_exhaustive()
    }
}

impl LoggerBuilder {
    pub(crate) fn new() -> LoggerBuilder {
        LoggerBuilder {
            level: Some(Level::Info),
            name: String::new(),
            filters: Vec::new(),
            samplers: Vec::new(),
            enrichers: Vec::new(),
            redactor: None,
            destinations: Vec::new(),
            clock: Timestamp::now_fast,
            on_error: None,
        }
    }

    /// The minimum level (changeable later with [`Logger::set_level`]).
    pub fn level(mut self, min: Level) -> LoggerBuilder {
        self.level = Some(min);
        self
    }

    /// Lets nothing through until [`Logger::set_level`].
    pub fn off(mut self) -> LoggerBuilder {
        self.level = None;
        self
    }

    /// The logger's name, written as `target`.
    pub fn name(mut self, name: &str) -> LoggerBuilder {
        name.clone_into(&mut self.name);
        self
    }

    /// Adds a filter for every record (before sampling and every destination).
    pub fn filter(mut self, filter: impl Filter + 'static) -> LoggerBuilder {
        self.filters.push(Box::new(filter));
        self
    }

    /// Adds a sampler (applied in order, after the filters).
    pub fn sampler(mut self, sampler: impl Sampler + 'static) -> LoggerBuilder {
        self.samplers.push(Arc::new(sampler));
        self
    }

    /// Adds an enricher.
    pub fn enricher(mut self, enricher: impl Enricher + 'static) -> LoggerBuilder {
        self.enrichers.push(Arc::new(enricher));
        self
    }

    /// Redacts keys and patterns in every destination's output.
    pub fn redact(mut self, redactor: Redactor) -> LoggerBuilder {
        self.redactor = Some(redactor);
        self
    }

    /// Adds a destination.
    pub fn destination(mut self, destination: Destination) -> LoggerBuilder {
        self.destinations.push(destination);
        self
    }

    /// Adds a destination described by a URI, through the default [`Registry`].
    ///
    /// # Errors
    ///
    /// [`UriError`] naming the URI and what is wrong with it.
    pub fn destination_uri(self, uri: &str) -> Result<LoggerBuilder, UriError> {
        let d = Registry::new().open(uri)?;
        Ok(self.destination(d))
    }

    /// The time source for timestamps (tests pin it). The default,
    /// [`Timestamp::now_fast`], is the system's real time read from the CPU's counter
    /// where that is reliable; [`Timestamp::now`] reads the system clock every time, and
    /// [`Timestamp::now_coarse`] is cheaper still with tick resolution.
    pub fn clock(mut self, now: fn() -> Timestamp) -> LoggerBuilder {
        self.clock = now;
        self
    }

    /// Receives every error a destination reports (with the destination's name), on the
    /// thread that saw it (usually a delivery or consumer thread). It must not log
    /// through the same logger.
    pub fn on_error(
        mut self,
        hook: impl Fn(&str, &dyn std::error::Error) + Send + Sync + 'static,
    ) -> LoggerBuilder {
        self.on_error = Some(Arc::new(hook));
        self
    }

    /// Starts the logger and its destinations.
    ///
    /// # Errors
    ///
    /// `AlreadyExists` if two destinations have the same name; a destination's start-up
    /// error (an invalid queue capacity, a thread that could not be spawned).
    pub fn build(self) -> io::Result<Logger> {
        // Decide now whether the counter clock can be used (it reads /proc and /sys),
        // so that no logging call does.
        super::tsc_clock::init();
        let on_error = self.on_error.unwrap_or_else(default_error_hook);
        let level = AtomicLevel::off();
        level.set(self.level);
        let shared = Arc::new(Shared {
            level,
            closed: AtomicBool::new(false),
            owner: crate::fork::Owner::here(),
            filters: self.filters,
            samplers: self.samplers,
            enrichers: self.enrichers,
            redactor: self.redactor,
            destinations: ArcSwap::from_pointee(Vec::new()),
            changing: Mutex::new(()),
            retired: Arc::new(Mutex::new(Vec::new())),
            counters: LoggerCounters::default(),
            clock: self.clock,
            on_error,
        });
        let logger = Logger {
            shared,
            bound: Arc::from(Vec::new()),
            target_check: super::key::check(&self.name),
            target: self.name.into(),
        };
        for d in self.destinations {
            logger.add(d)?;
        }
        Ok(logger)
    }
}

fn default_error_hook() -> ErrorHook {
    let state: Mutex<(Option<Instant>, u64)> = Mutex::new((None, 0));
    Arc::new(move |name: &str, e: &dyn std::error::Error| {
        use std::io::Write as _;
        let mut s = lock(&state);
        if s.0.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            let held = std::mem::take(&mut s.1);
            s.0 = Some(Instant::now());
            let more = if held > 0 {
                format!(" ({held} more held back)")
            } else {
                String::new()
            };
            // Ignore a failure: stderr may be the thing that is full.
            let _ = writeln!(io::stderr(), "lethe logger: {name}: {e}{more}");
        } else {
            s.1 += 1;
        }
    })
}

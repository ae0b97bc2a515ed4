//! [`Level`]: how severe a record is, and [`AtomicLevel`], a level that can change at
//! runtime and costs one relaxed load to check.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};

/// The severity of a record, from least to most severe.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Level {
    /// Very detailed tracing.
    Trace = 0,
    /// Debugging detail.
    Debug = 1,
    /// Normal operation.
    Info = 2,
    /// Something unexpected that the program handled.
    Warn = 3,
    /// An operation failed.
    Error = 4,
    /// The program cannot continue. Logging at this level does not exit: the caller
    /// decides (after [`Logger::flush`](crate::logger::Logger::flush)).
    Fatal = 5,
}

impl Level {
    /// Every level, least severe first.
    pub const ALL: [Level; 6] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Fatal,
    ];

    /// Lowercase name: `trace`, `debug`, `info`, `warn`, `error`, `fatal`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }

    /// Uppercase name, padded to 5 characters (for aligned text output).
    pub const fn as_padded_upper(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO ",
            Level::Warn => "WARN ",
            Level::Error => "ERROR",
            Level::Fatal => "FATAL",
        }
    }

    /// The index of this level in [`Level::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    const fn from_u8(v: u8) -> Option<Level> {
        match v {
            0 => Some(Level::Trace),
            1 => Some(Level::Debug),
            2 => Some(Level::Info),
            3 => Some(Level::Warn),
            4 => Some(Level::Error),
            5 => Some(Level::Fatal),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A level name that is not one of `trace`, `debug`, `info`, `warn` (or `warning`),
/// `error`, `fatal` (or `critical`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseLevelError(pub String);

impl fmt::Display for ParseLevelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "level {:?} is invalid: expected trace, debug, info, warn (or warning), error or fatal (or critical)",
            self.0
        )
    }
}

impl std::error::Error for ParseLevelError {}

impl FromStr for Level {
    type Err = ParseLevelError;

    /// Case-insensitive; accepts `warning` and `critical` as aliases.
    fn from_str(s: &str) -> Result<Level, ParseLevelError> {
        match s.to_ascii_lowercase().as_str() {
            "trace" => Ok(Level::Trace),
            "debug" => Ok(Level::Debug),
            "info" => Ok(Level::Info),
            "warn" | "warning" => Ok(Level::Warn),
            "error" => Ok(Level::Error),
            "fatal" | "critical" => Ok(Level::Fatal),
            _ => Err(ParseLevelError(s.to_owned())),
        }
    }
}

/// The value of an [`AtomicLevel`] that lets nothing through.
const OFF: u8 = 6;

/// A minimum level that can be changed at runtime from any thread. Checking it is one
/// relaxed load and a compare, so a disabled record costs almost nothing.
#[derive(Debug)]
pub struct AtomicLevel(AtomicU8);

impl AtomicLevel {
    /// Lets records at `min` and above through.
    pub const fn new(min: Level) -> AtomicLevel {
        AtomicLevel(AtomicU8::new(min as u8))
    }

    /// Lets nothing through.
    pub const fn off() -> AtomicLevel {
        AtomicLevel(AtomicU8::new(OFF))
    }

    /// Whether a record at `level` passes. Relaxed: a change of level needs no ordering
    /// with the records around it; each thread sees it on its next check.
    #[inline(always)]
    pub fn enabled(&self, level: Level) -> bool {
        level as u8 >= self.0.load(Ordering::Relaxed)
    }

    /// The current minimum, or `None` when off.
    pub fn get(&self) -> Option<Level> {
        Level::from_u8(self.0.load(Ordering::Relaxed))
    }

    /// Sets the minimum level; `None` turns everything off.
    pub fn set(&self, min: Option<Level>) {
        self.0
            .store(min.map_or(OFF, |l| l as u8), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_names_and_parse() {
        assert!(Level::Trace < Level::Fatal);
        for l in Level::ALL {
            assert_eq!(l.as_str().parse::<Level>().unwrap(), l);
            assert_eq!(l.as_padded_upper().len(), 5);
        }
        assert_eq!("WARNING".parse::<Level>().unwrap(), Level::Warn);
        let e = "loud".parse::<Level>().unwrap_err();
        assert!(e.to_string().contains("\"loud\""));
        // The error lists what parses, and nothing that does not: `off` is not a level
        // (a `level=off` URI key used to be refused by a message that offered `off`).
        let e = "off".parse::<Level>().unwrap_err().to_string();
        for name in [
            "trace", "debug", "info", "warn", "warning", "error", "fatal", "critical",
        ] {
            assert!(e.contains(name), "{e}");
            assert!(name.parse::<Level>().is_ok());
        }
        assert!(!e.replacen("\"off\"", "", 1).contains("off"), "{e}");
    }

    #[test]
    fn atomic_level() {
        let l = AtomicLevel::new(Level::Info);
        assert!(!l.enabled(Level::Debug));
        assert!(l.enabled(Level::Info) && l.enabled(Level::Fatal));
        l.set(None);
        assert!(!l.enabled(Level::Fatal));
        assert_eq!(l.get(), None);
        l.set(Some(Level::Trace));
        assert!(l.enabled(Level::Trace));
    }
}

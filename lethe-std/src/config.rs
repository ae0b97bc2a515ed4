//! [`Config`]: configuration from strings, presets, environment variables and serde.

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use lethe_core::civil::Weekday;
use lethe_core::duration::parse_duration;
use lethe_core::retention::RetentionPolicy;
use lethe_core::ring::{MAX_CAPACITY, MIN_CAPACITY};
use lethe_core::rotation::Schedule;
use lethe_core::size::parse_size;

use crate::archive::{LEVELS, check_compress_level};
use crate::io_backend::{Uring, UringOptions};
use crate::rotating_file::{Fsync, Options, check_preallocate};
use crate::workers::{NICE, WORKERS, check_worker_nice, check_workers};
use crate::writer::{Backpressure, DEFAULT_BUFFER, Mode, WriterOptions};

/// Configuration from strings: presets, environment variables (`LETHE_*`), and, with the
/// `serde` feature, any serde format (JSON, TOML, ...).
///
/// Every field is optional; unset fields keep the value of the preset (or of
/// [`WriterOptions::default`]). Sizes and durations use lethe-core's strict parsers
/// (`"100MB"`, `"512KiB"`, `"7d"`, `"1h30m"`). [`Config::build`] validates everything and
/// fails with a [`ConfigError`] naming the field, the value and the rule.
///
/// | field | `LETHE_*` variable | values | default |
/// |---|---|---|---|
/// | `max_size` | `LETHE_MAX_SIZE` | a size, or `none` | `100MB` |
/// | `rotate_every` | `LETHE_ROTATE_EVERY` | `hourly`, `daily`, `weekly`, a duration, or `none` | `none` |
/// | `max_backups` | `LETHE_MAX_BACKUPS` | a count, or `none` | `7` |
/// | `max_age` | `LETHE_MAX_AGE` | a duration, or `none` | `none` |
/// | `max_total` | `LETHE_MAX_TOTAL` | a size, or `none` | `none` |
/// | `compress` | `LETHE_COMPRESS` | `true`/`false` | `false` |
/// | `compress_level` | `LETHE_COMPRESS_LEVEL` | 0–9, only with `compress` on | `6` |
/// | `checksum` | `LETHE_CHECKSUM` | `true`/`false` | `false` |
/// | `fsync` | `LETHE_FSYNC` | `never`, `rotate`, a size with its unit (`1MB`, `4096B`), or a duration (`5s`, `5min`); a bare number (`5`) and the unit `m` (`5m`, `5M`: minutes or megabytes?) are refused as ambiguous | `rotate` |
/// | `buffer` | `LETHE_BUFFER` | a power-of-two size, 32B to 2GiB | `1MiB`, or `8MiB` through io_uring with a size or duration `fsync` |
/// | `on_full` | `LETHE_ON_FULL` | `block`, `drop`, `sync`, `grow` (up to 16 × `buffer`, 16MiB when `buffer` is unset, at most 2GiB) or `grow:SIZE` (up to SIZE) | `block` |
/// | `mode` | `LETHE_MODE` | `async`, `auto` ([`Config::build`]); `sync` ([`Config::build_sync`], for a [`SyncWriter`](crate::SyncWriter)) | `async` |
/// | `file_mode` | `LETHE_FILE_MODE` | octal, up to `777` | `640` |
/// | `workers` | `LETHE_WORKERS` | 1 to 64 (more than the CPUs only compete) | `1` |
/// | `worker_nice` | `LETHE_WORKER_NICE` | −20 to 19: the workers' niceness on Linux (never above the opening thread's priority; `0` for a process at nice 0 leaves them at normal priority) | `10` |
/// | `time_zone` | `LETHE_TIME_ZONE` | `utc`, `local`, or an IANA name such as `Europe/Paris` | `utc` |
/// | `confine_to` | `LETHE_CONFINE_TO` | a directory the log path must resolve inside | none |
/// | `free_space_on_full` | `LETHE_FREE_SPACE_ON_FULL` | `true`/`false`: on a full disk, delete the oldest backups | `false` |
/// | `shared` | `LETHE_SHARED` | `true`/`false`: several processes write this file (`flock`; needs `mode` `async`) | `false` |
/// | `uring` | `LETHE_URING` | `off`, `on` (io_uring, falling back to blocking syscalls with a reported reason), `strict` (io_uring or fail) | `on` with the `uring` feature, else `off` |
/// | `preallocate` | `LETHE_PREALLOCATE` | a size from `64KiB` to `1GiB`: disk space reserved ahead of the appends ([`Options::preallocate`](crate::Options::preallocate)), or `none` | `8MiB` |
///
/// Presets ([`Config::preset`]):
///
/// | preset | settings |
/// |---|---|
/// | `default` | the defaults above |
/// | `daily` | rotate daily at 00:00 and at 100MB, keep 14 backups, compress, checksum |
/// | `weekly` | rotate Mondays at 00:00 and at 1GB, keep 8 backups, compress, checksum |
/// | `development` | rotate at 10MB, keep 3 backups, no fsync at all, drop when full |
///
/// ```
/// use lethe_std::Config;
///
/// let mut config = Config::preset("daily")?;
/// config.max_backups = Some("30".into());
/// let options = config.build()?;
/// # let _ = options;
/// let err = Config { max_size: Some("10XB".into()), ..Config::default() }.build().unwrap_err();
/// assert_eq!(err.field(), "max_size");
/// assert!(err.to_string().contains("10XB"));
/// # Ok::<(), lethe_std::ConfigError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize, serde::Serialize),
    serde(default, deny_unknown_fields)
)]
pub struct Config {
    /// Size limit of the active file.
    pub max_size: Option<String>,
    /// Calendar-aligned time rotation.
    pub rotate_every: Option<String>,
    /// Backups to keep.
    pub max_backups: Option<String>,
    /// Delete backups older than this.
    pub max_age: Option<String>,
    /// Keep the backups together under this size.
    pub max_total: Option<String>,
    /// gzip finished segments.
    pub compress: Option<bool>,
    /// gzip level, 0 to 9.
    pub compress_level: Option<u32>,
    /// Write `sha256sum` sidecars.
    pub checksum: Option<bool>,
    /// Durability policy.
    pub fsync: Option<String>,
    /// Ring capacity.
    pub buffer: Option<String>,
    /// Backpressure policy.
    pub on_full: Option<String>,
    /// Writer mode.
    pub mode: Option<String>,
    /// Mode of created files, octal.
    pub file_mode: Option<String>,
    /// Background worker threads.
    pub workers: Option<usize>,
    /// Niceness of the background worker threads ([`Options::worker_nice`](crate::Options::worker_nice)).
    pub worker_nice: Option<i32>,
    /// Time zone of schedule boundaries and backup names.
    pub time_zone: Option<String>,
    /// A directory the log file's path must resolve inside.
    pub confine_to: Option<String>,
    /// On a full disk, delete the oldest backups Lethe produced to make room.
    pub free_space_on_full: Option<bool>,
    /// Several processes write this file ([`Options::shared`](crate::Options::shared)).
    pub shared: Option<bool>,
    /// Write through io_uring: `off`, `on` or `strict`.
    pub uring: Option<String>,
    /// Disk space reserved ahead of the appends ([`Options::preallocate`](crate::Options::preallocate)): a size, or `none`.
    pub preallocate: Option<String>,
}

/// An invalid configuration value: which field, the value, and the rule it broke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    field: &'static str,
    value: String,
    rule: String,
}

impl ConfigError {
    pub(crate) fn new(
        field: &'static str,
        value: impl Into<String>,
        rule: impl fmt::Display,
    ) -> ConfigError {
        ConfigError {
            field,
            value: value.into(),
            rule: rule.to_string(),
        }
    }

    /// `value` if `range` holds it, else the error naming `field`, `value` and `rule`: the
    /// body of each key's check ([`check_workers`], [`check_worker_nice`], ...).
    pub(crate) fn in_range<T: PartialOrd + fmt::Display>(
        field: &'static str,
        value: T,
        range: &RangeInclusive<T>,
        rule: fmt::Arguments<'_>,
    ) -> Result<T, ConfigError> {
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(ConfigError::new(field, value.to_string(), rule))
        }
    }

    /// The field (as in [`Config`]; the environment variable is `LETHE_` + its uppercase),
    /// or `"environment"` for a `LETHE_*` variable that names no field
    /// ([`Config::from_env`]), whose name is then the [`value`](ConfigError::value).
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The rejected value.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The rule it broke.
    pub fn rule(&self) -> &str {
        &self.rule
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {:?} is invalid: {}",
            self.field, self.value, self.rule
        )
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// A named preset (see the [`Config`] docs).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for an unknown name.
    pub fn preset(name: &str) -> Result<Config, ConfigError> {
        let s = |v: &str| Some(v.to_owned());
        match name {
            "default" => Ok(Config::default()),
            "daily" => Ok(Config {
                rotate_every: s("daily"),
                max_size: s("100MB"),
                max_backups: s("14"),
                compress: Some(true),
                checksum: Some(true),
                ..Config::default()
            }),
            "weekly" => Ok(Config {
                rotate_every: s("weekly"),
                max_size: s("1GB"),
                max_backups: s("8"),
                compress: Some(true),
                checksum: Some(true),
                ..Config::default()
            }),
            "development" => Ok(Config {
                max_size: s("10MB"),
                max_backups: s("3"),
                fsync: s("never"),
                on_full: s("drop"),
                ..Config::default()
            }),
            other => Err(ConfigError::new(
                "preset",
                other,
                "expected default, daily, weekly or development",
            )),
        }
    }

    /// This configuration with every field that `over` sets taken from `over`.
    #[must_use]
    pub fn overlay(self, over: Config) -> Config {
        Config {
            max_size: over.max_size.or(self.max_size),
            rotate_every: over.rotate_every.or(self.rotate_every),
            max_backups: over.max_backups.or(self.max_backups),
            max_age: over.max_age.or(self.max_age),
            max_total: over.max_total.or(self.max_total),
            compress: over.compress.or(self.compress),
            compress_level: over.compress_level.or(self.compress_level),
            checksum: over.checksum.or(self.checksum),
            fsync: over.fsync.or(self.fsync),
            buffer: over.buffer.or(self.buffer),
            on_full: over.on_full.or(self.on_full),
            mode: over.mode.or(self.mode),
            file_mode: over.file_mode.or(self.file_mode),
            workers: over.workers.or(self.workers),
            worker_nice: over.worker_nice.or(self.worker_nice),
            time_zone: over.time_zone.or(self.time_zone),
            confine_to: over.confine_to.or(self.confine_to),
            free_space_on_full: over.free_space_on_full.or(self.free_space_on_full),
            shared: over.shared.or(self.shared),
            uring: over.uring.or(self.uring),
            preallocate: over.preallocate.or(self.preallocate),
        }
    }

    /// The fields set by `LETHE_*` environment variables (see the [`Config`] docs).
    ///
    /// Every variable whose name starts with `LETHE_` (in any case) must be one of these
    /// settings, so that a misspelled one (`LETHE_MAXSIZE`, `LETHE_MAX_SZIE`,
    /// `lethe_max_size`) is an error rather than a setting that silently never takes
    /// effect. The names Lethe's own tests, benchmarks and CI use are reserved and
    /// ignored: `LETHE_CI`, `LETHE_TIME`, and those starting with `LETHE_BENCH_`,
    /// `LETHE_CRASH_`, `LETHE_EXAMPLE_`, `LETHE_SHARED_BENCH_` or `LETHE_TEST_`. An
    /// application whose own variables share the prefix can read the settings it wants
    /// with [`Config::from_vars`], which looks up only the names it knows.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for a `LETHE_*` variable that names no setting (field
    /// `"environment"`, the variable's name as the value, and the closest setting's
    /// variable when one is close), a variable that is not valid Unicode, a boolean that
    /// does not parse, or a number (`compress_level`, `workers`, `worker_nice`) that does
    /// not parse or breaks its key's rule; the error names the variable's text exactly as
    /// given.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_env_vars(std::env::vars_os())
    }

    /// [`Config::from_env`] on the given environment (name, value pairs): the same
    /// settings, and the same refusal of an unknown `LETHE_*` name.
    ///
    /// ```
    /// use lethe_std::Config;
    ///
    /// let env = [("LETHE_MAXSIZE".into(), "10MB".into()), ("HOME".into(), "/root".into())];
    /// let err = Config::from_env_vars(env).unwrap_err();
    /// assert_eq!((err.field(), err.value()), ("environment", "LETHE_MAXSIZE"));
    /// assert!(err.rule().contains("did you mean LETHE_MAX_SIZE?"));
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Config::from_env`].
    pub fn from_env_vars(
        vars: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
    ) -> Result<Config, ConfigError> {
        let mut ours = Vec::new();
        for (name, value) in vars {
            let bytes = name.as_encoded_bytes();
            let prefixed = bytes
                .get(..ENV_PREFIX.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(ENV_PREFIX.as_bytes()));
            if !prefixed {
                continue;
            }
            let known = name
                .to_str()
                .and_then(|n| n.strip_prefix(ENV_PREFIX))
                .is_some_and(|key| FIELDS.iter().any(|f| f.to_ascii_uppercase() == key));
            if known {
                ours.push((name, value));
            } else if !is_reserved(&name) {
                return Err(unknown_variable(&name.to_string_lossy()));
            }
        }
        Config::from_vars(|var| {
            ours.iter()
                .find(|(name, _)| name.to_str() == Some(var))
                .map(|(_, value)| value.clone())
        })
    }

    /// Like [`Config::from_env`], reading variables through `get`, which is asked only
    /// for the settings' names (`LETHE_MAX_SIZE`, ...): an unknown `LETHE_*` name is not
    /// refused, as `get` is never asked for it.
    ///
    /// # Errors
    ///
    /// As [`Config::from_env`], except for unknown names.
    pub fn from_vars(
        get: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<Config, ConfigError> {
        let text = |field: &'static str| -> Result<Option<String>, ConfigError> {
            let var = format!("LETHE_{}", field.to_ascii_uppercase());
            match get(&var) {
                None => Ok(None),
                Some(v) => v.into_string().map(Some).map_err(|v| {
                    ConfigError::new(field, v.to_string_lossy(), "it is not valid UTF-8")
                }),
            }
        };
        let boolean = |field: &'static str| -> Result<Option<bool>, ConfigError> {
            text(field)?
                .map(|v| match v.as_str() {
                    "true" | "1" | "yes" | "on" => Ok(true),
                    "false" | "0" | "no" | "off" => Ok(false),
                    _ => Err(ConfigError::new(field, v, "expected true or false")),
                })
                .transpose()
        };
        Ok(Config {
            max_size: text("max_size")?,
            rotate_every: text("rotate_every")?,
            max_backups: text("max_backups")?,
            max_age: text("max_age")?,
            max_total: text("max_total")?,
            compress: boolean("compress")?,
            compress_level: text("compress_level")?
                .map(|v| whole("compress_level", v, &LEVELS, check_compress_level))
                .transpose()?,
            checksum: boolean("checksum")?,
            fsync: text("fsync")?,
            buffer: text("buffer")?,
            on_full: text("on_full")?,
            mode: text("mode")?,
            file_mode: text("file_mode")?,
            workers: text("workers")?
                .map(|v| whole("workers", v, &WORKERS, check_workers))
                .transpose()?,
            worker_nice: text("worker_nice")?
                .map(|v| whole("worker_nice", v, &NICE, check_worker_nice))
                .transpose()?,
            time_zone: text("time_zone")?,
            confine_to: text("confine_to")?,
            free_space_on_full: boolean("free_space_on_full")?,
            shared: boolean("shared")?,
            uring: text("uring")?,
            preallocate: text("preallocate")?,
        })
    }

    /// Validates the configuration and turns it into writer options.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the first invalid field, its value and the rule.
    pub fn build(&self) -> Result<WriterOptions, ConfigError> {
        let none = |v: &Option<String>| v.as_deref() == Some("none");
        let max_size = match &self.max_size {
            None => Some(100_000_000),
            Some(_) if none(&self.max_size) => None,
            Some(v) => match parse_size(v) {
                Ok(0) => {
                    return Err(ConfigError::new(
                        "max_size",
                        v,
                        "it must be at least 1 byte",
                    ));
                }
                Ok(n) => Some(n),
                Err(e) => return Err(ConfigError::new("max_size", v, e)),
            },
        };
        let schedule = match self.rotate_every.as_deref() {
            None | Some("none") => None,
            Some(v) => Some(parse_schedule(v).map_err(|e| ConfigError::new("rotate_every", v, e))?),
        };
        let mut retention = RetentionPolicy::new();
        match self.max_backups.as_deref() {
            None => retention = retention.max_count(7),
            Some("none") => {}
            Some(v) => {
                let n = v.parse::<usize>().map_err(|_| {
                    ConfigError::new(
                        "max_backups",
                        v,
                        "expected a whole number of backups, or none",
                    )
                })?;
                retention = retention.max_count(n);
            }
        }
        if let Some(v) = self.max_age.as_deref().filter(|v| *v != "none") {
            let age = parse_duration(v).map_err(|e| ConfigError::new("max_age", v, e))?;
            retention = retention.max_age(age);
        }
        if let Some(v) = self.max_total.as_deref().filter(|v| *v != "none") {
            let bytes = parse_size(v).map_err(|e| ConfigError::new("max_total", v, e))?;
            retention = retention.max_total_bytes(bytes);
        }
        let level = check_compress_level(self.compress_level.unwrap_or(6))?;
        if let (Some(level), false) = (self.compress_level, self.compress == Some(true)) {
            return Err(ConfigError::new(
                "compress_level",
                level.to_string(),
                "it has no effect: compression is off (set compress to true, or remove \
                 compress_level)",
            ));
        }
        let (sync_on_rotate, fsync) = match self.fsync.as_deref() {
            None | Some("rotate") => (true, Fsync::Never),
            Some("never") => (false, Fsync::Never),
            Some(v) => (
                true,
                parse_fsync(v).map_err(|rule| ConfigError::new("fsync", v, rule))?,
            ),
        };
        // Unset, the writer picks the buffer (1 MiB, or 8 MiB through io_uring with an
        // fsync policy); a grow policy without a size then grows up to 16 × 1 MiB.
        let explicit_buffer = self
            .buffer
            .as_deref()
            .map(|v| {
                parse_size(v)
                    .ok()
                    .and_then(|b| usize::try_from(b).ok())
                    .filter(|b| b.is_power_of_two() && (MIN_CAPACITY..=MAX_CAPACITY).contains(b))
                    .ok_or_else(|| {
                        ConfigError::new(
                            "buffer",
                            v,
                            format!(
                                "it must be a power of two from {}B to {}B",
                                MIN_CAPACITY, MAX_CAPACITY
                            ),
                        )
                    })
            })
            .transpose()?;
        let buffer = explicit_buffer.unwrap_or(DEFAULT_BUFFER);
        let backpressure = match self.on_full.as_deref() {
            None | Some("block") => Backpressure::Block,
            Some("drop") => Backpressure::Drop,
            Some("sync") => Backpressure::Sync,
            Some("grow") => Backpressure::Grow {
                max: buffer.saturating_mul(16).min(MAX_CAPACITY),
            },
            Some(v) if v.starts_with("grow:") => {
                let max = parse_size(&v["grow:".len()..])
                    .ok()
                    .and_then(|m| usize::try_from(m).ok())
                    .filter(|m| (buffer..=MAX_CAPACITY).contains(m))
                    .ok_or_else(|| {
                        ConfigError::new(
                            "on_full",
                            v,
                            format!(
                                "grow:SIZE needs a size from the buffer ({buffer}B) to {MAX_CAPACITY}B"
                            ),
                        )
                    })?;
                Backpressure::Grow { max }
            }
            Some(v) => {
                return Err(ConfigError::new(
                    "on_full",
                    v,
                    "expected block, drop, sync, grow or grow:SIZE",
                ));
            }
        };
        let writer_mode = match self.mode.as_deref() {
            None | Some("async") => Mode::Async,
            Some("auto") if self.shared == Some(true) => {
                return Err(ConfigError::new(
                    "mode",
                    "auto",
                    "shared mode locks the file once per batch; mode auto writes lines \
                     directly, one lock each: use async",
                ));
            }
            Some("auto") => Mode::Auto,
            Some("sync") => {
                return Err(ConfigError::new(
                    "mode",
                    "sync",
                    "mode sync is a SyncWriter, not a Writer: build its options with \
                     Config::build_sync",
                ));
            }
            Some(v) => return Err(ConfigError::new("mode", v, "expected async, auto or sync")),
        };
        let mode = match self.file_mode.as_deref() {
            None => 0o640,
            Some(v) => u32::from_str_radix(v, 8)
                .ok()
                .filter(|m| *m <= 0o777)
                .ok_or_else(|| {
                    ConfigError::new("file_mode", v, "expected an octal file mode from 0 to 777")
                })?,
        };
        let workers = check_workers(self.workers.unwrap_or(1))?;
        let worker_nice = check_worker_nice(self.worker_nice.unwrap_or(10))?;
        let mut file = Options::default();
        match self.time_zone.as_deref() {
            None | Some("utc" | "UTC") => {}
            Some("local") => file = file.local_time(),
            Some(name) => {
                let tz = jiff::tz::TimeZone::get(name).map_err(|e| {
                    ConfigError::new(
                        "time_zone",
                        name,
                        format!("expected utc, local or a time zone name ({e})"),
                    )
                })?;
                file = file.time_zone(tz);
            }
        }
        if let Some(dir) = &self.confine_to {
            // Whether it exists and what the log path resolves to are checked at open.
            if dir.is_empty() || dir.contains('\0') {
                return Err(ConfigError::new(
                    "confine_to",
                    dir,
                    "expected the path of a directory (not empty, no NUL byte)",
                ));
            }
            file = file.confine_to(dir);
        }
        match self.preallocate.as_deref() {
            None => {}
            Some("none") => file = file.preallocate(None),
            Some(v) => {
                let bytes = parse_size(v)
                    .map_err(|e| ConfigError::new("preallocate", v, format!("{e}, or none")))?;
                check_preallocate(bytes)
                    .map_err(|e| ConfigError::new("preallocate", v, e.rule()))?;
                file = file.preallocate(Some(bytes));
            }
        }
        if let Some(v) = &self.uring {
            let mode = match v.as_str() {
                "off" | "false" => Uring::Off,
                "on" | "true" => Uring::On,
                "strict" => Uring::Strict,
                _ => return Err(ConfigError::new("uring", v, "expected off, on or strict")),
            };
            file = file.io_uring(UringOptions::default().mode(mode));
        }
        let file = file
            .max_size(max_size)
            .schedule(schedule)
            .retention(retention)
            .compress(self.compress.unwrap_or(false).then_some(level))
            .checksum(self.checksum.unwrap_or(false))
            .sync_on_rotate(sync_on_rotate)
            .fsync(fsync)
            .file_mode(mode)
            .workers(workers)
            .worker_nice(Some(worker_nice))
            .free_space_on_full(self.free_space_on_full.unwrap_or(false))
            .shared(self.shared.unwrap_or(false));
        let writer = WriterOptions::default().file(file);
        let writer = match explicit_buffer {
            Some(b) => writer.buffer(b),
            None => writer,
        };
        Ok(writer.backpressure(backpressure).mode(writer_mode))
    }
}

impl Config {
    /// Validates the configuration for the synchronous mode and turns it into the file
    /// options of a [`SyncWriter`](crate::SyncWriter) (`mode = "sync"`, or no mode). The
    /// keys that only a [`Writer`](crate::Writer) has (`buffer`, `on_full`) and `shared`
    /// (which SyncWriter does not support) are refused, naming the key.
    ///
    /// ```
    /// use lethe_std::{Config, SyncWriter};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let config = Config::from_vars(|name| match name {
    ///     "LETHE_MODE" => Some("sync".into()),
    ///     "LETHE_FSYNC" => Some("1MB".into()),
    ///     _ => None,
    /// })?;
    /// let log = SyncWriter::open(dir.path().join("app.log"), config.build_sync()?)?;
    /// log.write_record(b"hello\n")?;
    /// log.close()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming the first invalid field, its value and the rule.
    pub fn build_sync(&self) -> Result<crate::Options, ConfigError> {
        match self.mode.as_deref() {
            None | Some("sync") => {}
            Some(v) => {
                return Err(ConfigError::new(
                    "mode",
                    v,
                    "build_sync builds a SyncWriter's options: expected sync (or no mode)",
                ));
            }
        }
        let writer_only = [
            ("buffer", &self.buffer, "SyncWriter buffers nothing"),
            (
                "on_full",
                &self.on_full,
                "SyncWriter has no buffer to be full",
            ),
        ];
        for (field, value, why) in writer_only {
            if let Some(v) = value {
                return Err(ConfigError::new(field, v, why));
            }
        }
        if self.shared == Some(true) {
            return Err(ConfigError::new(
                "shared",
                "true",
                "SyncWriter writes without a per-batch lock, so it cannot share a file \
                 with other processes: use a Writer (mode async)",
            ));
        }
        if self.uring.as_deref() == Some("strict") {
            return Err(ConfigError::new(
                "uring",
                "strict",
                "strict means io_uring or fail, and SyncWriter writes with plain syscalls: \
                 use off, or a Writer (mode async)",
            ));
        }
        let checked = Config {
            mode: None,
            ..self.clone()
        };
        Ok(checked.build()?.file_options().clone())
    }
}

/// The prefix of the environment variables [`Config::from_env`] reads.
const ENV_PREFIX: &str = "LETHE_";

/// [`Config`]'s fields, as [`Config::from_vars`] asks for them.
const FIELDS: [&str; 21] = [
    "max_size",
    "rotate_every",
    "max_backups",
    "max_age",
    "max_total",
    "compress",
    "compress_level",
    "checksum",
    "fsync",
    "buffer",
    "on_full",
    "mode",
    "file_mode",
    "workers",
    "worker_nice",
    "time_zone",
    "confine_to",
    "free_space_on_full",
    "shared",
    "uring",
    "preallocate",
];

/// `LETHE_*` names that are not settings but belong to Lethe's own tests, benchmarks and
/// CI (documented in [`Config::from_env`] and docs/CONFIGURATION.md): exact names, and
/// prefixes (ending in `_`).
const RESERVED: [&str; 7] = [
    "LETHE_CI",
    "LETHE_TIME",
    "LETHE_BENCH_",
    "LETHE_CRASH_",
    "LETHE_EXAMPLE_",
    "LETHE_SHARED_BENCH_",
    "LETHE_TEST_",
];

fn is_reserved(name: &std::ffi::OsStr) -> bool {
    let name = name.as_encoded_bytes();
    RESERVED.iter().any(|r| {
        if r.ends_with('_') {
            name.starts_with(r.as_bytes())
        } else {
            name == r.as_bytes()
        }
    })
}

/// The error for a `LETHE_*` variable that names no setting, with the closest setting's
/// variable when one is within a few edits.
fn unknown_variable(name: &str) -> ConfigError {
    let key = name
        .get(ENV_PREFIX.len()..)
        .unwrap_or("")
        .to_ascii_lowercase();
    // A setting that holds the name (LETHE_BACKUPS: max_backups), else the closest one
    // within a few edits (LETHE_MAXSIZE, LETHE_MAX_SZIE: max_size).
    let holding = FIELDS
        .iter()
        .filter(|f| key.len() >= 3 && f.contains(key.as_str()))
        .min_by_key(|f| f.len());
    let closest = FIELDS
        .iter()
        .map(|f| (strsim::osa_distance(&key, f), f))
        .filter(|&(d, _)| d <= 2.max(key.len() / 3))
        .min_by_key(|&(d, _)| d)
        .map(|(_, f)| f);
    let hint = match holding.or(closest) {
        Some(field) => format!("did you mean {ENV_PREFIX}{}?", field.to_ascii_uppercase()),
        None => format!(
            "the settings are {}",
            FIELDS
                .iter()
                .map(|f| format!("{ENV_PREFIX}{}", f.to_ascii_uppercase()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    ConfigError::new(
        "environment",
        name,
        format!(
            "no Lethe setting has this name, so it would be ignored: {hint} \
             (every {ENV_PREFIX}* variable must name a setting of docs/CONFIGURATION.md)"
        ),
    )
}

/// A whole number from a `LETHE_*` variable: `text` parsed as a `T`, then checked by
/// `check`, the function that owns the key's rule. An error names `text` exactly as
/// given: a number beyond `T` (`99999999999` for a `u32`) is refused, never clamped to
/// `T`'s maximum, and `007` stays `007`.
fn whole<T: FromStr + fmt::Display>(
    field: &'static str,
    text: String,
    range: &RangeInclusive<T>,
    check: fn(T) -> Result<T, ConfigError>,
) -> Result<T, ConfigError> {
    match text.parse::<T>() {
        Ok(n) => check(n).map_err(|e| ConfigError::new(field, text, e.rule())),
        Err(_) => Err(ConfigError::new(
            field,
            text,
            format_args!(
                "expected a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        )),
    }
}

/// An `fsync` value other than `never` and `rotate`: a size with a unit (`1MB`, `4096B`)
/// or a duration (`5s`, `5min`). A value that could be read both ways is refused rather
/// than guessed: a bare number (`5`: five bytes or five seconds?), and the unit `m` in
/// either case (`5m`, `5M`, `1.5m`: minutes or megabytes?).
fn parse_fsync(v: &str) -> Result<Fsync, String> {
    let duration = parse_duration(v);
    let size = parse_size(v);
    let t = v.trim_ascii();
    if size.is_ok() && t.ends_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "a bare number is ambiguous (bytes? seconds?): write the unit, e.g. \"{t}s\" \
             for a duration or \"{t}B\" or \"{t}KB\" for a size"
        ));
    }
    let number = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = t.get(number.len()..).unwrap_or("");
    if size.is_ok() && unit.eq_ignore_ascii_case("m") {
        let number = number.trim_end_matches(' ');
        return Err(format!(
            "it is ambiguous (m is minutes in a duration, mega in a size): write \
             \"{number}min\" for minutes or \"{number}MB\" for megabytes"
        ));
    }
    match (duration, size) {
        (Ok(d), _) => Ok(Fsync::Every(d)),
        (_, Ok(0)) => Err("a size must be at least 1 byte".to_owned()),
        (_, Ok(n)) => Ok(Fsync::EveryBytes(n)),
        (Err(_), Err(_)) => {
            Err("expected never, rotate, a size with its unit (1MB) or a duration (5s)".to_owned())
        }
    }
}

/// `hourly`, `daily` (00:00), `weekly` (Monday 00:00), or a duration on the grid of the
/// (local) epoch, which puts a duration that divides a day (`30m`, `6h`) on midnight;
/// `7d` is `weekly`, so a week starts on Monday rather than on the epoch's Thursday.
fn parse_schedule(when: &str) -> Result<Schedule, String> {
    const WEEK: std::time::Duration = std::time::Duration::from_secs(7 * 86_400);
    match when {
        "hourly" => Ok(Schedule::HOURLY),
        "daily" => Schedule::daily(0).map_err(|e| e.to_string()),
        "weekly" => Schedule::weekly(Weekday::Monday, 0).map_err(|e| e.to_string()),
        other => {
            let d = parse_duration(other)
                .map_err(|e| format!("expected hourly, daily, weekly or a duration ({e})"))?;
            if d == WEEK {
                return Schedule::weekly(Weekday::Monday, 0).map_err(|e| e.to_string());
            }
            Schedule::every(d).map_err(|e| e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(c: Config) -> ConfigError {
        c.build().unwrap_err()
    }

    #[test]
    fn every_preset_builds() {
        for name in ["default", "daily", "weekly", "development"] {
            Config::preset(name).unwrap().build().unwrap();
        }
        let e = Config::preset("hourly-ish").unwrap_err();
        assert_eq!(e.field(), "preset");
    }

    #[test]
    fn bad_values_name_field_value_and_rule() {
        let s = |v: &str| Some(v.to_owned());
        let cases: Vec<(Config, &str, &str, &str)> = vec![
            (
                Config {
                    max_size: s("10XB"),
                    ..Config::default()
                },
                "max_size",
                "10XB",
                "unit",
            ),
            (
                Config {
                    max_size: s("0"),
                    ..Config::default()
                },
                "max_size",
                "0",
                "at least 1 byte",
            ),
            (
                Config {
                    max_size: s("10MB; rm -rf /"),
                    ..Config::default()
                },
                "max_size",
                "10MB; rm -rf /",
                "",
            ),
            (
                Config {
                    rotate_every: s("fortnightly"),
                    ..Config::default()
                },
                "rotate_every",
                "fortnightly",
                "expected hourly",
            ),
            (
                Config {
                    max_backups: s("-1"),
                    ..Config::default()
                },
                "max_backups",
                "-1",
                "whole number",
            ),
            (
                Config {
                    max_age: s("7"),
                    ..Config::default()
                },
                "max_age",
                "7",
                "unit",
            ),
            (
                Config {
                    max_total: s("-5GB"),
                    ..Config::default()
                },
                "max_total",
                "-5GB",
                "negative",
            ),
            (
                Config {
                    compress_level: Some(12),
                    ..Config::default()
                },
                "compress_level",
                "12",
                "0 to 9",
            ),
            (
                Config {
                    fsync: s("sometimes"),
                    ..Config::default()
                },
                "fsync",
                "sometimes",
                "expected never",
            ),
            (
                Config {
                    buffer: s("1000"),
                    ..Config::default()
                },
                "buffer",
                "1000",
                "power of two",
            ),
            (
                Config {
                    on_full: s("explode"),
                    ..Config::default()
                },
                "on_full",
                "explode",
                "block, drop, sync, grow or grow:SIZE",
            ),
            (
                Config {
                    buffer: s("64KiB"),
                    on_full: s("grow:32KiB"),
                    ..Config::default()
                },
                "on_full",
                "grow:32KiB",
                "from the buffer (65536B)",
            ),
            (
                Config {
                    on_full: s("grow:lots"),
                    ..Config::default()
                },
                "on_full",
                "grow:lots",
                "grow:SIZE needs a size",
            ),
            (
                Config {
                    file_mode: s("999"),
                    ..Config::default()
                },
                "file_mode",
                "999",
                "octal",
            ),
            (
                Config {
                    workers: Some(0),
                    ..Config::default()
                },
                "workers",
                "0",
                "from 1 to 64 worker threads",
            ),
            (
                Config {
                    workers: Some(65),
                    ..Config::default()
                },
                "workers",
                "65",
                "from 1 to 64 worker threads",
            ),
            (
                Config {
                    workers: Some(1_000_000),
                    ..Config::default()
                },
                "workers",
                "1000000",
                "from 1 to 64 worker threads",
            ),
            (
                Config {
                    worker_nice: Some(20),
                    ..Config::default()
                },
                "worker_nice",
                "20",
                "from -20 to 19",
            ),
            (
                Config {
                    confine_to: s(""),
                    ..Config::default()
                },
                "confine_to",
                "",
                "expected the path of a directory",
            ),
            (
                Config {
                    confine_to: s("/var/log\0/x"),
                    ..Config::default()
                },
                "confine_to",
                "/var/log\0/x",
                "no NUL byte",
            ),
            (
                Config {
                    preallocate: s("4KiB"),
                    ..Config::default()
                },
                "preallocate",
                "4KiB",
                "64 KiB to 1 GiB (none turns it off)",
            ),
            (
                Config {
                    preallocate: s("2GiB"),
                    ..Config::default()
                },
                "preallocate",
                "2GiB",
                "64 KiB to 1 GiB",
            ),
            (
                Config {
                    preallocate: s("off"),
                    ..Config::default()
                },
                "preallocate",
                "off",
                "a size starts with a number, e.g. \"100MB\"), or none",
            ),
        ];
        for (config, field, value, rule) in cases {
            let e = err(config);
            assert_eq!((e.field(), e.value()), (field, value), "{e}");
            assert!(e.rule().contains(rule), "{e}");
            assert!(
                e.to_string()
                    .starts_with(&format!("{field}: {value:?} is invalid: ")),
                "{e}"
            );
        }
    }

    #[test]
    fn environment_variables_overlay_a_preset() {
        let env = |name: &str| match name {
            "LETHE_MAX_BACKUPS" => Some("30".into()),
            "LETHE_COMPRESS" => Some("off".into()),
            "LETHE_WORKER_NICE" => Some("-3".into()),
            _ => None,
        };
        let config = Config::preset("daily")
            .unwrap()
            .overlay(Config::from_vars(env).unwrap());
        assert_eq!(config.max_backups.as_deref(), Some("30"));
        assert_eq!(config.compress, Some(false));
        assert_eq!(config.worker_nice, Some(-3));
        assert_eq!(config.rotate_every.as_deref(), Some("daily"));
        config.build().unwrap();
        let env = |name: &str| (name == "LETHE_PREALLOCATE").then(|| "none".into());
        let config = Config::from_vars(env).unwrap();
        assert_eq!(config.preallocate.as_deref(), Some("none"));
        config.build().unwrap();
        let bad = |name: &str| (name == "LETHE_CHECKSUM").then(|| "maybe".into());
        let e = Config::from_vars(bad).unwrap_err();
        assert_eq!((e.field(), e.value()), ("checksum", "maybe"));
        let bad = |name: &str| (name == "LETHE_WORKER_NICE").then(|| "low".into());
        let e = Config::from_vars(bad).unwrap_err();
        assert_eq!((e.field(), e.value()), ("worker_nice", "low"));
    }

    #[test]
    fn mode_sync_builds_a_sync_writers_options_and_refuses_writer_keys() {
        let sync = |pairs: &'static [(&'static str, &'static str)]| {
            Config::from_vars(move |name| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).into())
            })
            .unwrap()
        };
        let config = sync(&[("LETHE_MODE", "sync"), ("LETHE_FSYNC", "1MB")]);
        let options = config.build_sync().unwrap();
        assert_eq!(options.fsync_policy(), Fsync::EveryBytes(1_000_000));
        let e = config.build().unwrap_err();
        assert_eq!((e.field(), e.value()), ("mode", "sync"));
        assert!(e.rule().contains("build_sync"), "{e}");
        // No mode: either builder.
        sync(&[]).build_sync().unwrap();
        for (pairs, field, value) in [
            (&[("LETHE_MODE", "auto")][..], "mode", "auto"),
            (
                &[("LETHE_MODE", "sync"), ("LETHE_BUFFER", "4MiB")][..],
                "buffer",
                "4MiB",
            ),
            (&[("LETHE_ON_FULL", "drop")][..], "on_full", "drop"),
            (&[("LETHE_SHARED", "true")][..], "shared", "true"),
            (
                &[("LETHE_MODE", "sync"), ("LETHE_URING", "strict")][..],
                "uring",
                "strict",
            ),
            (
                &[("LETHE_MODE", "sync"), ("LETHE_FSYNC", "soon")][..],
                "fsync",
                "soon",
            ),
        ] {
            let e = sync(pairs).build_sync().unwrap_err();
            assert_eq!((e.field(), e.value()), (field, value), "{e}");
        }
    }

    #[test]
    fn workers_from_the_environment_are_bounded() {
        let workers = |v: &'static str| {
            Config::from_vars(move |name| (name == "LETHE_WORKERS").then(|| v.into()))
                .and_then(|c| c.build())
        };
        for v in ["1", "64"] {
            workers(v).unwrap();
        }
        for v in ["0", "65", "1000000"] {
            let e = workers(v).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("workers: {v:?} is invalid: a file has from 1 to 64 worker threads")
            );
        }
    }

    #[test]
    fn numbers_from_the_environment_are_reported_as_typed() {
        let cases = [
            (
                "LETHE_COMPRESS_LEVEL",
                "99999999999",
                "expected a whole number from 0 to 9",
            ),
            ("LETHE_COMPRESS_LEVEL", "12", "it must be 0 to 9"),
            ("LETHE_COMPRESS_LEVEL", "010", "it must be 0 to 9"),
            (
                "LETHE_COMPRESS_LEVEL",
                "-1",
                "expected a whole number from 0 to 9",
            ),
            (
                "LETHE_WORKERS",
                "99999999999999999999999",
                "expected a whole number from 1 to 64",
            ),
            (
                "LETHE_WORKERS",
                "0100",
                "a file has from 1 to 64 worker threads",
            ),
            (
                "LETHE_WORKERS",
                "many",
                "expected a whole number from 1 to 64",
            ),
            (
                "LETHE_WORKER_NICE",
                "99999999999",
                "expected a whole number from -20 to 19",
            ),
            ("LETHE_WORKER_NICE", "+20", "a niceness is from -20 to 19"),
            ("LETHE_WORKER_NICE", "-021", "a niceness is from -20 to 19"),
            (
                "LETHE_MAX_BACKUPS",
                "99999999999999999999999",
                "expected a whole number of backups, or none",
            ),
            (
                "LETHE_BUFFER",
                "99999999999GiB",
                "it must be a power of two from 32B to 2147483648B",
            ),
            (
                "LETHE_FILE_MODE",
                "0000001000",
                "expected an octal file mode from 0 to 777",
            ),
        ];
        for (var, typed, rule) in cases {
            let field = var["LETHE_".len()..].to_ascii_lowercase();
            let e = Config::from_vars(|name| (name == var).then(|| typed.into()))
                .and_then(|c| c.build())
                .unwrap_err();
            assert_eq!(
                (e.field(), e.value(), e.rule()),
                (field.as_str(), typed, rule)
            );
            assert_eq!(
                e.to_string(),
                format!("{field}: {typed:?} is invalid: {rule}")
            );
        }
    }

    #[test]
    fn fsync_refuses_a_value_that_is_both_a_size_and_a_duration() {
        let fsync = |v: &str| {
            Config {
                fsync: Some(v.to_owned()),
                ..Config::default()
            }
            .build()
            .map(|o| o.file_options().fsync_policy())
        };
        let s = std::time::Duration::from_secs;
        for (v, want) in [
            ("5s", Fsync::Every(s(5))),
            ("5min", Fsync::Every(s(300))),
            ("5 minutes", Fsync::Every(s(300))),
            ("1h30m", Fsync::Every(s(5400))),
            ("250ms", Fsync::Every(std::time::Duration::from_millis(250))),
            ("0s", Fsync::Every(s(0))),
            ("5B", Fsync::EveryBytes(5)),
            ("5KB", Fsync::EveryBytes(5000)),
            ("16k", Fsync::EveryBytes(16_000)),
            ("1MB", Fsync::EveryBytes(1_000_000)),
            ("1MiB", Fsync::EveryBytes(1 << 20)),
            ("1.5MB", Fsync::EveryBytes(1_500_000)),
        ] {
            assert_eq!(fsync(v), Ok(want), "{v}");
        }
        // A bare number: bytes or seconds? Neither is guessed.
        for v in ["5", "0", " 5 ", "4096", "5.0", "18446744073709551615"] {
            let e = fsync(v).unwrap_err();
            assert_eq!((e.field(), e.value()), ("fsync", v), "{e}");
            let t = v.trim();
            assert!(e.rule().contains("bare number"), "{e}");
            assert!(e.rule().contains(&format!("\"{t}s\"")), "{e}");
            assert!(e.rule().contains(&format!("\"{t}B\"")), "{e}");
        }
        // m: minutes in a duration, mega in a size, in any case.
        for (v, number) in [("5m", "5"), ("5M", "5"), ("5 m", "5"), ("1.5m", "1.5")] {
            let e = fsync(v).unwrap_err();
            assert_eq!((e.field(), e.value()), ("fsync", v), "{e}");
            assert!(e.rule().contains(&format!("\"{number}min\"")), "{e}");
            assert!(e.rule().contains(&format!("\"{number}MB\"")), "{e}");
        }
        for (v, rule) in [
            ("0B", "at least 1 byte"),
            ("5XB", "expected never, rotate"),
            ("sometimes", "expected never, rotate"),
        ] {
            let e = fsync(v).unwrap_err();
            assert_eq!((e.field(), e.value()), ("fsync", v), "{e}");
            assert!(e.rule().contains(rule), "{e}");
        }
        // Every unit of both grammars, in each case the size grammar allows: a size unit
        // gives the size, a duration unit the duration, and only m (or a bare number) is
        // refused, as the one spelling both grammars accept.
        let size_units = [
            "b", "k", "kb", "ki", "kib", "m", "mb", "mi", "mib", "g", "gb", "gi", "gib", "t", "tb",
            "ti", "tib", "p", "pb", "pi", "pib", "e", "eb", "ei", "eib",
        ];
        let duration_units = [
            "w",
            "week",
            "weeks",
            "d",
            "day",
            "days",
            "h",
            "hr",
            "hrs",
            "hour",
            "hours",
            "m",
            "min",
            "mins",
            "minute",
            "minutes",
            "s",
            "sec",
            "secs",
            "second",
            "seconds",
            "ms",
            "msec",
            "msecs",
            "millisecond",
            "milliseconds",
            "us",
            "usec",
            "usecs",
            "microsecond",
            "microseconds",
            "ns",
            "nsec",
            "nsecs",
            "nanosecond",
            "nanoseconds",
        ];
        for unit in size_units
            .iter()
            .flat_map(|u| [u.to_string(), u.to_ascii_uppercase()])
            .chain(duration_units.iter().map(|u| u.to_string()))
        {
            for space in ["", " "] {
                let v = format!("2{space}{unit}");
                let got = fsync(&v);
                let both = parse_duration(&v).is_ok() && parse_size(&v).is_ok();
                assert_eq!(
                    both,
                    unit == "m",
                    "{v}: only m is both a size and a duration"
                );
                if unit.eq_ignore_ascii_case("m") {
                    assert!(got.is_err(), "{v}: {got:?}");
                } else if let Ok(d) = parse_duration(&v) {
                    assert_eq!(got, Ok(Fsync::Every(d)), "{v}");
                } else {
                    let n = parse_size(&v).unwrap();
                    assert_eq!(got, Ok(Fsync::EveryBytes(n)), "{v}");
                }
            }
        }
        // The same rule from the environment, and for a SyncWriter.
        let e = Config::from_vars(|name| (name == "LETHE_FSYNC").then(|| "5".into()))
            .unwrap()
            .build_sync()
            .unwrap_err();
        assert_eq!((e.field(), e.value()), ("fsync", "5"), "{e}");
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn fields_are_the_names_from_vars_asks_for() {
        let asked = std::cell::RefCell::new(Vec::new());
        Config::from_vars(|name| {
            asked.borrow_mut().push(name.to_owned());
            None
        })
        .unwrap();
        let want: Vec<String> = FIELDS
            .iter()
            .map(|f| format!("LETHE_{}", f.to_ascii_uppercase()))
            .collect();
        assert_eq!(asked.into_inner(), want);
    }

    #[test]
    fn an_unknown_lethe_variable_is_refused_naming_the_closest_setting() {
        for (name, hint) in [
            ("LETHE_MAXSIZE", Some("LETHE_MAX_SIZE")),
            ("LETHE_MAX_SZIE", Some("LETHE_MAX_SIZE")),
            ("lethe_max_size", Some("LETHE_MAX_SIZE")),
            ("Lethe_Max_Size", Some("LETHE_MAX_SIZE")),
            ("LETHE_max_size", Some("LETHE_MAX_SIZE")),
            ("LETHE_COMPRESSION", Some("LETHE_COMPRESS")),
            ("LETHE_COMPRES", Some("LETHE_COMPRESS")),
            ("LETHE_BACKUPS", Some("LETHE_MAX_BACKUPS")),
            ("LETHE_ROTATE", Some("LETHE_ROTATE_EVERY")),
            ("LETHE_TIMEZONE", Some("LETHE_TIME_ZONE")),
            ("LETHE_FSNYC", Some("LETHE_FSYNC")),
            ("LETHE_WORKER", Some("LETHE_WORKERS")),
            ("LETHE_KEEP", None),
            ("LETHE_", None),
            ("LETHE_CIX", None),
        ] {
            let e = Config::from_env_vars(env(&[("PATH", "/bin"), (name, "1")])).unwrap_err();
            assert_eq!((e.field(), e.value()), ("environment", name), "{e}");
            match hint {
                Some(h) => assert!(e.rule().contains(&format!("did you mean {h}?")), "{e}"),
                None => assert!(
                    e.rule()
                        .contains("the settings are LETHE_MAX_SIZE, LETHE_ROTATE_EVERY"),
                    "{e}"
                ),
            }
            assert!(e.rule().contains("docs/CONFIGURATION.md"), "{e}");
        }
        // A name that is not UTF-8 is refused too, shown lossily.
        use std::os::unix::ffi::OsStringExt as _;
        let name = std::ffi::OsString::from_vec(b"LETHE_MAX_SIZE\xff".to_vec());
        let e = Config::from_env_vars([(name, "1MB".into())]).unwrap_err();
        assert_eq!(
            (e.field(), e.value()),
            ("environment", "LETHE_MAX_SIZE\u{fffd}")
        );
    }

    #[test]
    fn reserved_and_foreign_variables_are_ignored_and_settings_are_read() {
        let config = Config::from_env_vars(env(&[
            ("LETHE_CI", "1"),
            ("LETHE_TIME", "1"),
            ("LETHE_BENCH_BUFFER", "1MiB"),
            ("LETHE_BENCH_ONLY", "x"),
            ("LETHE_CRASH_CHILD", "/tmp/x"),
            ("LETHE_CRASH_SEED", "7"),
            ("LETHE_EXAMPLE_CHILD", "1"),
            ("LETHE_SHARED_BENCH_CHILD", "1"),
            ("LETHE_TEST_ANYTHING", "1"),
            ("XLETHE_MAXSIZE", "1"),
            ("LETH_MAX_SIZE", "1"),
            ("HOME", "/root"),
            ("LETHE_MAX_SIZE", "10MB"),
            ("LETHE_COMPRESS", "yes"),
        ]))
        .unwrap();
        assert_eq!(
            config,
            Config {
                max_size: Some("10MB".into()),
                compress: Some(true),
                ..Config::default()
            }
        );
        // Values are still checked as before.
        let e = Config::from_env_vars(env(&[("LETHE_CHECKSUM", "maybe")])).unwrap_err();
        assert_eq!((e.field(), e.value()), ("checksum", "maybe"));
    }

    #[test]
    fn a_compress_level_without_compression_is_refused_from_any_source() {
        let level = |compress: Option<bool>| Config {
            compress,
            compress_level: Some(3),
            ..Config::default()
        };
        for compress in [None, Some(false)] {
            let e = level(compress).build().unwrap_err();
            assert_eq!((e.field(), e.value()), ("compress_level", "3"), "{e}");
            assert!(e.rule().contains("compression is off"), "{e}");
            let e = level(compress).build_sync().unwrap_err();
            assert_eq!(e.field(), "compress_level", "{e}");
        }
        let options = level(Some(true)).build().unwrap();
        let debug = format!("{:?}", options.file_options());
        assert!(debug.contains("compress: Some(3)"), "{debug}");
        // From the environment, and across layers: a preset that compresses takes a level.
        let env = Config::from_env_vars(env(&[("LETHE_COMPRESS_LEVEL", "9")])).unwrap();
        assert_eq!(env.build().unwrap_err().field(), "compress_level");
        Config::preset("daily")
            .unwrap()
            .overlay(env)
            .build()
            .unwrap();
        // The range is checked first.
        let e = Config {
            compress_level: Some(12),
            ..Config::default()
        }
        .build()
        .unwrap_err();
        assert_eq!(e.rule(), "it must be 0 to 9");
    }

    #[test]
    fn hostile_strings_in_any_field_are_refused_naming_that_field_and_value_never_a_panic() {
        let long_digits = "9".repeat(1000);
        let long_junk = "x".repeat(5000);
        let hostile = [
            "",
            " ",
            "\0",
            "1\0",
            "-1",
            "+1",
            "0",
            "1.5",
            "1e3",
            "0x10",
            "0o640",
            "18446744073709551616",
            "18446744073709551616B",
            "99999999999999999999d",
            "١٠",
            "１０MB",
            "é",
            "💥",
            "None",
            "none ",
            "grow:",
            "grow:\0",
            "grow:-1",
            "grow:💥",
            "grow:99999999999999999999EiB",
            "5m",
            "\u{202e}5s",
            long_digits.as_str(),
            long_junk.as_str(),
        ];
        type Slot = fn(&mut Config) -> &mut Option<String>;
        let fields: [(&str, Slot); 14] = [
            ("max_size", |c| &mut c.max_size),
            ("rotate_every", |c| &mut c.rotate_every),
            ("max_backups", |c| &mut c.max_backups),
            ("max_age", |c| &mut c.max_age),
            ("max_total", |c| &mut c.max_total),
            ("fsync", |c| &mut c.fsync),
            ("buffer", |c| &mut c.buffer),
            ("on_full", |c| &mut c.on_full),
            ("mode", |c| &mut c.mode),
            ("file_mode", |c| &mut c.file_mode),
            ("time_zone", |c| &mut c.time_zone),
            ("uring", |c| &mut c.uring),
            ("preallocate", |c| &mut c.preallocate),
            ("confine_to", |c| &mut c.confine_to),
        ];
        for (field, slot) in fields {
            for value in hostile {
                let mut config = Config::default();
                *slot(&mut config) = Some(value.to_owned());
                for result in [config.build().map(drop), config.build_sync().map(drop)] {
                    if let Err(e) = result {
                        assert_eq!((e.field(), e.value()), (field, value), "{e}");
                        assert!(!e.rule().is_empty(), "{e}");
                    }
                }
            }
        }
    }

    #[test]
    fn seven_days_is_weekly_on_monday() {
        assert_eq!(parse_schedule("7d"), parse_schedule("weekly"));
        assert_eq!(
            parse_schedule("6h"),
            Schedule::every(std::time::Duration::from_secs(6 * 3600)).map_err(|e| e.to_string())
        );
    }
}

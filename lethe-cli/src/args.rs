//! Command-line arguments, turned into a [`lethe_std::Config`].
//!
//! Precedence, lowest first: the preset (`--preset`, default `default`), the TOML file
//! (`--config`), `LETHE_*` environment variables, then the flags.

use std::path::PathBuf;

use lethe_std::{Config, ConfigError, WriterOptions};

/// Pipe standard input into FILE, rotated by size and/or time, with old backups removed.
///
/// Backups are named `<stem>.<sequence>.<UTC time>Z<ext>` beside FILE, for example
/// `app.0000000001.20261123T004107Z.log` (with --local-time, local time and its offset:
/// `app.0000000001.20261123T014107+0100.log`); only files with such names are ever
/// deleted.
/// Settings come from --preset, then --config, then LETHE_* environment variables (for
/// example LETHE_MAX_SIZE=10MB; a LETHE_* variable that names no setting, such as
/// LETHE_MAXSIZE, is an error), then these flags.
#[derive(clap::Parser, Debug)]
#[command(
    name = "lethe",
    version,
    after_help = "Signals:\n  \
        SIGHUP          reopen FILE (after `mv FILE FILE.old`: earlier lines stay there)\n  \
        SIGUSR1         rotate now\n  \
        SIGTERM/SIGINT  read what the pipe already holds, write everything out, finish\n                  \
        compression, checksums and retention, exit 0 (a second one: exit 1 at once)\n\n\
        Exit status: 0 all input read reached the files; 1 an I/O error prevented \
        logging, or lines were lost; 2 bad usage or configuration."
)]
pub(crate) struct Args {
    /// The active log file. Its directory is created if needed.
    pub(crate) file: PathBuf,

    /// Start from a preset: default, daily, weekly or development.
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub(crate) preset: String,

    /// A TOML file of lethe_std::Config keys: mostly the flags' names in snake_case
    /// (max_size = "100MB", compress = true, uring = "on"), but file_mode = "640" for
    /// --mode and time_zone = "local" for --local-time; also mode, workers, worker_nice,
    /// confine_to and free_space_on_full. See docs/CONFIGURATION.md.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    /// Rotate before a line would push FILE past SIZE (e.g. 100MB, 512KiB, 1GiB), or
    /// none. Default 100MB.
    #[arg(long, value_name = "SIZE")]
    pub(crate) max_size: Option<String>,

    /// Also rotate on calendar boundaries: hourly, daily (00:00), weekly (Monday 00:00),
    /// or a duration such as 30m, 6h or 7d (= weekly). A duration that divides a day
    /// falls on midnight; others are counted from the epoch. UTC, or local time with
    /// --local-time.
    #[arg(long, value_name = "WHEN")]
    pub(crate) rotate_every: Option<String>,

    /// Keep at most N backups (0 keeps none; none keeps all). Default 7.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub(crate) max_backups: Option<String>,

    /// Delete backups older than DURATION (e.g. 7d, 12h).
    #[arg(long, value_name = "DURATION")]
    pub(crate) max_age: Option<String>,

    /// Keep the backups together under SIZE.
    #[arg(long, value_name = "SIZE")]
    pub(crate) max_total: Option<String>,

    /// Gzip each backup in the background (crash-safe; the raw segment is removed once its
    /// .gz is complete and synced).
    #[arg(long, overrides_with = "no_compress")]
    pub(crate) compress: bool,

    /// Do not compress backups, whatever the preset, config file or LETHE_COMPRESS say.
    #[arg(long, overrides_with = "compress")]
    pub(crate) no_compress: bool,

    /// gzip level for --compress, 0 (fastest) to 9 (smallest); refused when compression
    /// is off. Default 6.
    #[arg(long, value_name = "LEVEL", allow_negative_numbers = true,
          value_parser = clap::value_parser!(u32).range(0..=9))]
    pub(crate) compress_level: Option<u32>,

    /// Write a sha256sum-compatible .sha256 sidecar for each backup (of the .gz with
    /// --compress); `sha256sum -c` verifies them in the log directory.
    #[arg(long, overrides_with = "no_checksum")]
    pub(crate) checksum: bool,

    /// Write no checksum sidecars, whatever the preset, config file or LETHE_CHECKSUM say.
    #[arg(long, overrides_with = "checksum")]
    pub(crate) no_checksum: bool,

    /// Durability: never (leave it to the kernel), rotate (fsync each finished file and the
    /// directory; the default), a size such as 1MB or 4096B (fsync after that many bytes),
    /// or a duration such as 5s or 5min (fsync at most that long after a write). The unit
    /// is required and must say which is meant: a bare number (5) and m (5m, 5M: minutes
    /// or megabytes?) are refused.
    #[arg(long, value_name = "POLICY")]
    pub(crate) fsync: Option<String>,

    /// Ring buffer capacity between reading and writing: a power of two (e.g. 1MiB,
    /// 64KiB). Lines longer than half of it are written directly, in order. Default 1MiB,
    /// or 8MiB when the file is written through io_uring (--uring) with a size or
    /// duration --fsync policy.
    #[arg(long, value_name = "SIZE")]
    pub(crate) buffer: Option<String>,

    /// What to do when the buffer is full: block (wait, lose nothing; the default), drop
    /// (count the dropped lines; --stats reports them), sync (write directly), grow
    /// (enlarge the buffer, up to 16 times --buffer, 16MiB without it, at most 2GiB) or
    /// grow:SIZE (up to SIZE).
    #[arg(long, value_name = "POLICY")]
    pub(crate) on_full: Option<String>,

    /// Name backups in local time, with the numeric offset (DST-safe), and align time
    /// rotation to local boundaries. Default UTC.
    #[arg(long)]
    pub(crate) local_time: bool,

    /// Exact mode of the log files Lethe creates (not reduced by the umask), in octal. Default 640.
    #[arg(long, value_name = "OCTAL")]
    pub(crate) mode: Option<String>,

    /// Several processes append to FILE at once (workers of one server, cron jobs beside
    /// a daemon): each batch is written under a shared flock on FILE.lock and exactly one
    /// of them rotates at each threshold. See docs/ARCHITECTURE.md, "Many processes, one
    /// log".
    #[arg(long, overrides_with = "no_shared")]
    pub(crate) shared: bool,

    /// This process owns the file alone, whatever the config file or LETHE_SHARED say.
    #[arg(long, overrides_with = "shared")]
    pub(crate) no_shared: bool,

    /// Print a summary on stderr at exit: lines, bytes, rotations, compressions,
    /// checksums, backups removed, lines dropped (--on-full drop) and lost, errors.
    #[arg(long)]
    pub(crate) stats: bool,

    /// Write through io_uring (Linux): batches with their fsyncs, and each rotation's
    /// fsync/rename/fsync-directory as one linked submission. Where io_uring cannot be
    /// used, a warning says why and lethe writes with ordinary syscalls.
    #[arg(long)]
    pub(crate) uring: bool,

    /// Reserve disk space ahead of the appends, up to SIZE (64KiB to 1GiB) past the end
    /// of FILE while lines arrive fast, or none: appends into reserved space cost the
    /// kernel less. FILE's length is unchanged; the space is given back at rotation and
    /// exit. Default 8MiB. Not on XFS, which reserves by itself, nor with --shared or a
    /// size or duration --fsync.
    #[arg(long, value_name = "SIZE")]
    pub(crate) preallocate: Option<String>,
}

impl Args {
    /// The writer options, or a one-line message naming the bad value and the rule.
    pub(crate) fn options(&self) -> Result<WriterOptions, String> {
        let preset = Config::preset(&self.preset).map_err(flag_message)?;
        let file = match &self.config {
            None => Config::default(),
            Some(path) => {
                let text = read_config(path)
                    .map_err(|e| format!("--config: cannot read {}: {e}", path.display()))?;
                toml::from_str::<Config>(&text).map_err(|e| {
                    format!("--config {}: {}", path.display(), one_line(&e.to_string()))
                })?
            }
        };
        let env = Config::from_env().map_err(|e| match e.field() {
            // A LETHE_* variable that names no setting: the value is its name.
            "environment" => format!("{}: {}", e.value(), e.rule()),
            _ => format!("LETHE_{}", env_message(&e)),
        })?;
        let flags = Config {
            max_size: self.max_size.clone(),
            rotate_every: self.rotate_every.clone(),
            max_backups: self.max_backups.clone(),
            max_age: self.max_age.clone(),
            max_total: self.max_total.clone(),
            compress: switch(self.compress, self.no_compress),
            compress_level: self.compress_level,
            checksum: switch(self.checksum, self.no_checksum),
            fsync: self.fsync.clone(),
            buffer: self.buffer.clone(),
            on_full: self.on_full.clone(),
            mode: None,
            file_mode: self.mode.clone(),
            workers: None,
            worker_nice: None,
            time_zone: self.local_time.then(|| "local".to_owned()),
            confine_to: None,
            free_space_on_full: None,
            shared: switch(self.shared, self.no_shared),
            uring: self.uring.then(|| "on".to_owned()),
            preallocate: self.preallocate.clone(),
        };
        let mut config = preset
            .clone()
            .overlay(file.clone())
            .overlay(env.clone())
            .overlay(flags.clone());
        // io_uring is opt-in for the command (--uring, `uring` in the file, LETHE_URING).
        config.uring.get_or_insert_with(|| "off".to_owned());
        if let (Some(level), false) = (self.compress_level, config.compress == Some(true)) {
            return Err(format!(
                "--compress-level: {level} has no effect: compression is off (add --compress)"
            ));
        }
        // The layers are checked together (a rule between two fields, such as a grow
        // limit against the buffer, may be met only by their combination); an error names
        // the layer whose value won, the top one that set the field.
        let options = config.build().map_err(|e| {
            if sets(&flags, e.field()) {
                flag_message(e)
            } else if sets(&env, e.field()) {
                format!("LETHE_{}", env_message(&e))
            } else if let (Some(path), true) = (&self.config, sets(&file, e.field())) {
                format!("--config {}: {e}", path.display())
            } else {
                format!("--preset {}: {e}", self.preset)
            }
        })?;
        // The whole line is in memory already; never refuse one for its length.
        Ok(options.max_record_len(usize::MAX))
    }
}

/// The largest `--config` file read: far beyond any configuration (every key set takes
/// about 1 KiB), and small enough that a wrong path (`/dev/zero`, a log file) is refused
/// at once instead of filling memory.
const CONFIG_LIMIT: u64 = 1 << 20;

/// The text of a `--config` file (any file that can be read: a pipe from `<(...)` too),
/// refusing more than [`CONFIG_LIMIT`] bytes and text that is not UTF-8.
fn read_config(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(CONFIG_LIMIT + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > CONFIG_LIMIT {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("it is larger than {CONFIG_LIMIT} bytes, far more than a configuration"),
        ));
    }
    String::from_utf8(bytes).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// A `--x`/`--no-x` pair as a layer's value: set only if one of them was given (clap
/// keeps the last of the two).
fn switch(on: bool, off: bool) -> Option<bool> {
    match (on, off) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

/// Whether `layer` sets `field` (a `Config` key).
fn sets(layer: &Config, field: &str) -> bool {
    toml::Value::try_from(layer)
        .ok()
        .and_then(|v| v.get(field).cloned())
        .is_some()
}

/// `--max-size: "10XB" is invalid: ...`: the message with the flag's name.
fn flag_message(e: ConfigError) -> String {
    let flag = match e.field() {
        "file_mode" => "mode".to_owned(),
        f => f.replace('_', "-"),
    };
    format!("--{flag}: {:?} is invalid: {}", e.value(), e.rule())
}

/// `MAX_SIZE: ...` for an environment variable.
fn env_message(e: &ConfigError) -> String {
    format!(
        "{}: {:?} is invalid: {}",
        e.field().to_ascii_uppercase(),
        e.value(),
        e.rule()
    )
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// clap's error as one line: `invalid value 'x' for '--compress-level <LEVEL>': ...`,
/// without the usage block.
pub(crate) fn clap_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let text = text.split("\nUsage:").next().unwrap_or(&text);
    let text = text.split("\nFor more information").next().unwrap_or(text);
    let text = one_line(text);
    text.strip_prefix("error: ").unwrap_or(&text).to_owned()
}

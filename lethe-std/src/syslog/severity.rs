//! Syslog severities and facilities (RFC 5424 §6.2.1).

use std::fmt;

/// A syslog severity (RFC 5424 §6.2.1, table 2): 0 is the most severe.
///
/// The derived ordering follows the numeric code, so `Severity::Error < Severity::Debug`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Severity {
    /// 0: system is unusable.
    Emergency = 0,
    /// 1: action must be taken immediately.
    Alert = 1,
    /// 2: critical conditions.
    Critical = 2,
    /// 3: error conditions.
    Error = 3,
    /// 4: warning conditions.
    Warning = 4,
    /// 5: normal but significant condition.
    Notice = 5,
    /// 6: informational messages.
    Informational = 6,
    /// 7: debug-level messages.
    Debug = 7,
}

impl Severity {
    /// All severities, from `Emergency` (0) to `Debug` (7).
    pub const ALL: [Severity; 8] = [
        Severity::Emergency,
        Severity::Alert,
        Severity::Critical,
        Severity::Error,
        Severity::Warning,
        Severity::Notice,
        Severity::Informational,
        Severity::Debug,
    ];

    /// The numeric code, 0..=7.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The severity with numeric code `code`, or `None` if `code > 7`.
    pub const fn from_code(code: u8) -> Option<Severity> {
        if code < 8 {
            Some(Severity::ALL[code as usize])
        } else {
            None
        }
    }

    /// The keyword rsyslog and `logger(1)` use: `emerg`, `alert`, `crit`, `err`,
    /// `warning`, `notice`, `info`, `debug`.
    pub const fn keyword(self) -> &'static str {
        match self {
            Severity::Emergency => "emerg",
            Severity::Alert => "alert",
            Severity::Critical => "crit",
            Severity::Error => "err",
            Severity::Warning => "warning",
            Severity::Notice => "notice",
            Severity::Informational => "info",
            Severity::Debug => "debug",
        }
    }

    /// Maps a logger level name to the severity Lethe sends for it.
    ///
    /// | level | severity |
    /// |---|---|
    /// | `trace`, `debug` | [`Debug`](Severity::Debug) (7) |
    /// | `info` | [`Informational`](Severity::Informational) (6) |
    /// | `warn`, `warning` | [`Warning`](Severity::Warning) (4) |
    /// | `error` | [`Error`](Severity::Error) (3) |
    /// | `fatal` | [`Critical`](Severity::Critical) (2) |
    ///
    /// Syslog has no level below debug, so `trace` shares severity 7 with `debug`.
    /// `fatal` maps to `Critical`, not `Alert` or `Emergency`: those announce that the
    /// whole *system* is unusable, and many syslog setups broadcast them to every
    /// terminal. The match ignores ASCII case. Any other name gives `None`.
    ///
    /// ```
    /// use lethe_std::syslog::Severity;
    /// assert_eq!(Severity::from_level_name("WARN"), Some(Severity::Warning));
    /// assert_eq!(Severity::from_level_name("trace"), Some(Severity::Debug));
    /// assert_eq!(Severity::from_level_name("loud"), None);
    /// ```
    pub fn from_level_name(level: &str) -> Option<Severity> {
        const TABLE: [(&str, Severity); 7] = [
            ("trace", Severity::Debug),
            ("debug", Severity::Debug),
            ("info", Severity::Informational),
            ("warn", Severity::Warning),
            ("warning", Severity::Warning),
            ("error", Severity::Error),
            ("fatal", Severity::Critical),
        ];
        TABLE
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(level))
            .map(|&(_, s)| s)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// A syslog facility (RFC 5424 §6.2.1, table 1). The default is [`User`](Facility::User).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Facility {
    /// 0: kernel messages.
    Kern = 0,
    /// 1: user-level messages (the default).
    #[default]
    User = 1,
    /// 2: mail system.
    Mail = 2,
    /// 3: system daemons.
    Daemon = 3,
    /// 4: security/authorization messages.
    Auth = 4,
    /// 5: messages generated internally by syslogd.
    Syslog = 5,
    /// 6: line printer subsystem.
    Lpr = 6,
    /// 7: network news subsystem.
    News = 7,
    /// 8: UUCP subsystem.
    Uucp = 8,
    /// 9: clock (cron) daemon.
    Cron = 9,
    /// 10: security/authorization messages (private).
    Authpriv = 10,
    /// 11: FTP daemon.
    Ftp = 11,
    /// 12: NTP subsystem.
    Ntp = 12,
    /// 13: log audit.
    Audit = 13,
    /// 14: log alert.
    Alert = 14,
    /// 15: clock daemon.
    Clock = 15,
    /// 16: local use 0.
    Local0 = 16,
    /// 17: local use 1.
    Local1 = 17,
    /// 18: local use 2.
    Local2 = 18,
    /// 19: local use 3.
    Local3 = 19,
    /// 20: local use 4.
    Local4 = 20,
    /// 21: local use 5.
    Local5 = 21,
    /// 22: local use 6.
    Local6 = 22,
    /// 23: local use 7.
    Local7 = 23,
}

impl Facility {
    /// All facilities, by code.
    pub const ALL: [Facility; 24] = [
        Facility::Kern,
        Facility::User,
        Facility::Mail,
        Facility::Daemon,
        Facility::Auth,
        Facility::Syslog,
        Facility::Lpr,
        Facility::News,
        Facility::Uucp,
        Facility::Cron,
        Facility::Authpriv,
        Facility::Ftp,
        Facility::Ntp,
        Facility::Audit,
        Facility::Alert,
        Facility::Clock,
        Facility::Local0,
        Facility::Local1,
        Facility::Local2,
        Facility::Local3,
        Facility::Local4,
        Facility::Local5,
        Facility::Local6,
        Facility::Local7,
    ];

    /// The numeric code, 0..=23.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The facility with numeric code `code`, or `None` if `code > 23`.
    pub const fn from_code(code: u8) -> Option<Facility> {
        if code < 24 {
            Some(Facility::ALL[code as usize])
        } else {
            None
        }
    }

    /// The keyword rsyslog uses (`kern`, `user`, ..., `local7`).
    pub const fn keyword(self) -> &'static str {
        const NAMES: [&str; 24] = [
            "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
            "authpriv", "ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2",
            "local3", "local4", "local5", "local6", "local7",
        ];
        NAMES[self as usize]
    }

    /// Parses a keyword (ASCII case ignored; `security` is accepted for `auth`) or a
    /// numeric code `0`..=`23`.
    ///
    /// ```
    /// use lethe_std::syslog::Facility;
    /// assert_eq!(Facility::parse("local0"), Some(Facility::Local0));
    /// assert_eq!(Facility::parse("3"), Some(Facility::Daemon));
    /// assert_eq!(Facility::parse("local8"), None);
    /// ```
    pub fn parse(s: &str) -> Option<Facility> {
        if let Ok(code) = s.parse::<u8>() {
            return Facility::from_code(code);
        }
        if s.eq_ignore_ascii_case("security") {
            return Some(Facility::Auth);
        }
        Facility::ALL
            .iter()
            .copied()
            .find(|f| f.keyword().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Facility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// The PRI value: `facility * 8 + severity` (RFC 5424 §6.2.1), 0..=191.
pub(crate) const fn pri(facility: Facility, severity: Severity) -> u8 {
    facility.code() * 8 + severity.code()
}

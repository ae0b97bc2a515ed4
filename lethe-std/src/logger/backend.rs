//! [`Backend`]: where a destination that is not a rotating file sends its formatted
//! records (stdout, stderr, a socket, syslog, your own), from the destination's own
//! delivery thread.

use std::io::{self, Write as _};

use super::level::Level;

/// Receives formatted records, one at a time, on the destination's delivery thread
/// (never on the logging thread). A slow or blocking backend therefore never blocks the
/// application, only fills its own queue, whose backpressure policy then applies.
///
/// The exception is a backend given as a destination's
/// [`fallback`](crate::logger::Destination::fallback): it also takes, on the logging
/// thread, the records that find no room, so it must not block.
///
/// An error is counted in the destination's
/// [`errors`](crate::logger::DestinationMetrics::errors); after a configured number of
/// errors in a row the destination's fallback (if any) takes the records. A panic in a
/// backend is caught and counted as an error.
///
/// `level` is the record's level, for transports that carry a severity (syslog maps it to
/// a syslog severity).
pub trait Backend: Send + 'static {
    /// Writes one formatted record (as the destination's formatter produced it,
    /// including its line terminator).
    ///
    /// # Errors
    ///
    /// Any failure to deliver it.
    fn write(&mut self, level: Level, record: &[u8]) -> io::Result<()>;

    /// Pushes out anything buffered. Called on the delivery thread too, when the logger
    /// is flushed and when the destination closes, so a flush that blocks holds up no
    /// caller beyond its deadline. A panic is caught and returned as an error. The
    /// default does nothing.
    ///
    /// # Errors
    ///
    /// Any failure to do so.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// How many records this backend has delivered cut short so far, a running total: a
    /// transport with a size limit that sends a long record's beginning rather than
    /// nothing (syslog's `max_len`). The delivery thread copies it into the
    /// destination's [`truncated`](crate::logger::DestinationMetrics::truncated) after each
    /// batch, so no truncation goes unseen. The default, for a backend that never cuts a
    /// record, is 0.
    fn truncated(&self) -> u64 {
        0
    }
}

impl Backend for Box<dyn Backend> {
    fn write(&mut self, level: Level, record: &[u8]) -> io::Result<()> {
        (**self).write(level, record)
    }

    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }

    fn truncated(&self) -> u64 {
        (**self).truncated()
    }
}

/// The process's standard output. Each record is written whole under stdout's lock.
#[derive(Copy, Clone, Debug, Default)]
pub struct Stdout;

impl Backend for Stdout {
    fn write(&mut self, _: Level, record: &[u8]) -> io::Result<()> {
        io::stdout().lock().write_all(record)
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stdout().flush()
    }
}

/// The process's standard error. Each record is written whole under stderr's lock.
#[derive(Copy, Clone, Debug, Default)]
pub struct Stderr;

impl Backend for Stderr {
    fn write(&mut self, _: Level, record: &[u8]) -> io::Result<()> {
        io::stderr().lock().write_all(record)
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// Any `io::Write` (a socket, a pipe, a file opened elsewhere) as a backend.
#[derive(Debug)]
pub struct WriteBackend<W>(pub W);

impl<W: io::Write + Send + 'static> Backend for WriteBackend<W> {
    fn write(&mut self, _: Level, record: &[u8]) -> io::Result<()> {
        self.0.write_all(record)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

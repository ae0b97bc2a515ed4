//! The input loop: standard input into the writer, one line per record, with the signals
//! acted on between reads.
//!
//! One thread does it all: it `poll`s standard input and a self-pipe that the signal
//! handlers write to, so a signal is seen even while standard input is quiet (no reader
//! thread is left blocked in `read` when it is time to exit). Input is read in chunks of
//! up to 256 KiB; every complete line in a chunk is written before the next `poll`, so
//! when a signal is handled, every complete line read so far is in the writer.

use std::fmt::Display;
use std::io::{self, Write as _};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rustix::event::{PollFd, PollFlags};
use rustix::fs::FileType;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};

use lethe_std::Writer;

/// Bytes read from standard input at a time (the buffer grows for longer lines).
const CHUNK: usize = 256 * 1024;

/// The longest line kept whole: a longer one (binary input, `/dev/zero`) is written in
/// records of this size as it arrives, with a warning, instead of growing the buffer
/// until memory runs out.
pub(crate) const MAX_LINE: usize = 64 << 20;

/// The signals `lethe` acts on, as flags set by their handlers plus a self-pipe that
/// wakes the input loop.
pub(crate) struct Signals {
    reopen: Arc<AtomicBool>,
    rotate: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    wake: UnixStream,
}

impl Signals {
    /// Installs the handlers: SIGHUP (reopen), SIGUSR1 (rotate), SIGTERM and SIGINT
    /// (stop; a second one exits at once with status 1).
    pub(crate) fn install() -> io::Result<Signals> {
        let (wake, write) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        let signals = Signals {
            reopen: Arc::new(AtomicBool::new(false)),
            rotate: Arc::new(AtomicBool::new(false)),
            stop: Arc::new(AtomicBool::new(false)),
            wake,
        };
        for (signal, flag, stops) in [
            (SIGHUP, &signals.reopen, false),
            (SIGUSR1, &signals.rotate, false),
            (SIGTERM, &signals.stop, true),
            (SIGINT, &signals.stop, true),
        ] {
            if stops {
                // Registered before the flag, so it sees the flag as the previous signal
                // left it: the first signal stops cleanly, the second exits now.
                signal_hook::flag::register_conditional_shutdown(signal, 1, Arc::clone(flag))?;
            }
            // The flag first, then the wake-up byte (signal-hook runs them in this order),
            // so the loop always finds the flag set once it is woken.
            signal_hook::flag::register(signal, Arc::clone(flag))?;
            signal_hook::low_level::pipe::register(signal, write.try_clone()?)?;
        }
        Ok(signals)
    }

    /// Empties the self-pipe (before the flags are read, so no signal is missed).
    fn drain(&self) {
        let mut sink = [0u8; 64];
        while matches!(io::Read::read(&mut &self.wake, &mut sink), Ok(n) if n > 0) {}
    }
}

/// What [`pump`] did.
#[derive(Default)]
pub(crate) struct Report {
    /// Lines read (a final line without a newline counts as one).
    pub(crate) lines: u64,
    /// Bytes read.
    pub(crate) bytes: u64,
    /// Lines the writer refused (each reported).
    pub(crate) lost: u64,
    /// Lines longer than [`MAX_LINE`], written in pieces (each reported).
    pub(crate) split: u64,
    /// SIGHUP reopens done.
    pub(crate) reopens: u64,
    /// SIGUSR1 rotations done.
    pub(crate) rotations: u64,
    /// Stopped by SIGTERM or SIGINT rather than by the end of input.
    pub(crate) stopped: bool,
    /// The error that ended reading, if any.
    pub(crate) read_error: Option<io::Error>,
}

/// Prints at most one message per second on stderr and says how many it held back, so a
/// full disk does not flood the terminal (or a full stderr). Printing never fails. The
/// last message held back is printed when it is dropped (at exit), so the final word
/// (such as how many records close gave up on) is never swallowed.
pub(crate) struct RateLimited {
    last: Option<Instant>,
    held: u64,
    /// The latest message held back, if any.
    last_held: Option<String>,
}

impl Drop for RateLimited {
    fn drop(&mut self) {
        if let Some(message) = self.last_held.take() {
            self.last = None;
            self.held -= 1;
            self.say(message);
        }
    }
}

impl RateLimited {
    pub(crate) fn new() -> RateLimited {
        RateLimited {
            last: None,
            held: 0,
            last_held: None,
        }
    }

    pub(crate) fn say(&mut self, message: impl Display) {
        if self.last.is_some_and(|t| t.elapsed().as_secs() < 1) {
            self.held += 1;
            self.last_held = Some(message.to_string());
            return;
        }
        self.last_held = None;
        let mut err = io::stderr().lock();
        let _ = if self.held > 0 {
            writeln!(
                err,
                "lethe: {message} ({} similar messages not shown)",
                self.held
            )
        } else {
            writeln!(err, "lethe: {message}")
        };
        self.held = 0;
        self.last = Some(Instant::now());
    }
}

/// The read buffer: `buf[start..end]` is read but not yet written (at most one
/// incomplete line, between chunks); `buf[start..scanned]` has no newline.
struct Lines {
    buf: Vec<u8>,
    start: usize,
    scanned: usize,
    end: usize,
    /// Whether pieces of the current line were written already (it is longer than
    /// [`MAX_LINE`]).
    piece: bool,
}

impl Lines {
    /// Room to read at least `CHUNK` bytes (or half the buffer for a long line).
    fn room(&mut self) -> &mut [u8] {
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.scanned -= self.start;
                self.start = 0;
            } else {
                // One line fills the buffer: the whole line is kept, never split.
                self.buf.resize(self.buf.len() * 2, 0);
            }
        } else if self.start == self.end {
            (self.start, self.scanned, self.end) = (0, 0, 0);
        }
        &mut self.buf[self.end..]
    }

    /// Writes every complete line read so far, each as one record.
    fn write_complete(&mut self, log: &Writer, report: &mut Report, errors: &mut RateLimited) {
        while let Some(i) = memchr::memchr(b'\n', &self.buf[self.scanned..self.end]) {
            let stop = self.scanned + i + 1;
            emit(log, &self.buf[self.start..stop], report, errors);
            self.start = stop;
            self.scanned = stop;
            self.piece = false;
        }
        self.scanned = self.end;
        if self.end - self.start >= MAX_LINE {
            // No newline in MAX_LINE bytes: write them as one record and go on.
            if !self.piece {
                self.piece = true;
                report.split += 1;
                errors.say(format_args!(
                    "line {}: longer than {} MiB, written in pieces of that size",
                    report.lines + 1,
                    MAX_LINE >> 20
                ));
            }
            report.bytes += (self.end - self.start) as u64;
            if let Err(e) = log.write_record(&self.buf[self.start..self.end]) {
                report.lost += 1;
                errors.say(format_args!("line {}: {e}", report.lines + 1));
            }
            (self.start, self.scanned, self.end) = (0, 0, 0);
        }
    }

    /// Writes what is left (a final line without a newline) as it is.
    fn write_rest(&mut self, log: &Writer, report: &mut Report, errors: &mut RateLimited) {
        if self.start < self.end {
            emit(log, &self.buf[self.start..self.end], report, errors);
        }
        (self.start, self.scanned, self.end) = (0, 0, 0);
        self.piece = false;
    }
}

fn emit(log: &Writer, line: &[u8], report: &mut Report, errors: &mut RateLimited) {
    report.lines += 1;
    report.bytes += line.len() as u64;
    if let Err(e) = log.write_record(line) {
        report.lost += 1;
        errors.say(format_args!("line {}: {e}", report.lines));
    }
}

/// Copies standard input into `log` until its end, or until SIGTERM/SIGINT, acting on
/// SIGHUP and SIGUSR1 on the way. On SIGTERM/SIGINT it first reads what a pipe or socket
/// on standard input already holds (what the producer wrote before the signal), then
/// stops. In every case a last line without a newline is written as it is.
pub(crate) fn pump(log: &Writer, signals: &Signals, errors: &mut RateLimited) -> Report {
    let stdin = io::stdin();
    let input = stdin.as_fd();
    let mut lines = Lines {
        buf: vec![0; CHUNK],
        start: 0,
        scanned: 0,
        end: 0,
        piece: false,
    };
    let mut report = Report::default();
    loop {
        signals.drain();
        if signals.reopen.swap(false, Ordering::SeqCst) {
            match log.reopen() {
                Ok(()) => report.reopens += 1,
                Err(e) => errors.say(format_args!("SIGHUP: reopening failed: {e}")),
            }
        }
        if signals.rotate.swap(false, Ordering::SeqCst) {
            match log.rotate() {
                Ok(()) => report.rotations += 1,
                Err(e) => errors.say(format_args!("SIGUSR1: rotation failed: {e}")),
            }
        }
        if signals.stop.load(Ordering::SeqCst) {
            report.stopped = true;
            read_pending(input, &mut lines, log, &mut report, errors);
            break;
        }
        let mut fds = [
            PollFd::new(&input, PollFlags::IN),
            PollFd::new(&signals.wake, PollFlags::IN),
        ];
        match rustix::event::poll(&mut fds, None) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => {
                report.read_error = Some(e.into());
                break;
            }
        }
        if fds[0].revents().is_empty() {
            continue; // a signal
        }
        match rustix::io::read(input, lines.room()) {
            Ok(0) => break,
            Ok(n) => {
                lines.end += n;
                lines.write_complete(log, &mut report, errors);
            }
            Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => {}
            Err(e) => {
                report.read_error = Some(e.into());
                break;
            }
        }
    }
    lines.write_rest(log, &mut report, errors);
    report
}

/// After SIGTERM/SIGINT: reads the bytes a pipe or socket on standard input holds right
/// now, and no more (a producer that keeps writing cannot hold `lethe` up). Other kinds
/// of input (a file, a terminal) stop at once.
fn read_pending(
    input: BorrowedFd<'_>,
    lines: &mut Lines,
    log: &Writer,
    report: &mut Report,
    errors: &mut RateLimited,
) {
    let Ok(stat) = rustix::fs::fstat(input) else {
        return;
    };
    let kind = FileType::from_raw_mode(stat.st_mode);
    if kind != FileType::Fifo && kind != FileType::Socket {
        return;
    }
    let mut left = rustix::io::ioctl_fionread(input).unwrap_or(0);
    while left > 0 {
        let room = lines.room();
        let want = room.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        match rustix::io::read(input, &mut room[..want]) {
            Ok(0) => break,
            Ok(n) => {
                left -= n as u64;
                lines.end += n;
                lines.write_complete(log, report, errors);
            }
            Err(rustix::io::Errno::INTR) => {}
            Err(_) => break,
        }
    }
}

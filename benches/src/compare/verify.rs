//! Counting what reached the files, in two ways.
//!
//! - [`count_dir`], the final count: every regular file in a run's directory, `.gz` files
//!   decompressed (all members), everything else read raw. A raw file and its compressed
//!   copy both count, so a contender that leaves both behind shows as `EXTRA` lines.
//! - [`count_at_stop`], the count when the clock stopped: the same files, taken as a
//!   snapshot, with the copies that background compression is making set aside (the
//!   rule is in its docs), so that it counts every line once while a contender's gzip
//!   is still running.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// What the files of one run hold.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Contents {
    /// Newline-terminated lines.
    pub lines: u64,
    /// Bytes, uncompressed.
    pub bytes: u64,
    /// Bytes after the last newline of some file (a cut line), summed.
    pub partial: u64,
    /// Files read.
    pub files: u64,
    /// `.gz` files among them.
    pub gz_files: u64,
}

/// Counts the lines and bytes of every file in `dir` (not recursive).
///
/// # Errors
///
/// A read error, or an invalid gzip stream, naming the file.
pub fn count_dir(dir: &Path) -> io::Result<Contents> {
    let mut total = Contents::default();
    let mut buf = vec![0u8; 1 << 20];
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        let path = entry.path();
        let file = File::open(&path)?;
        let gz = path.extension().is_some_and(|e| e == "gz");
        let mut reader: Box<dyn Read> = if gz {
            Box::new(flate2::read::MultiGzDecoder::new(file))
        } else {
            Box::new(file)
        };
        let c = count(&mut reader, &mut buf).map_err(|e| named(&path, e))?;
        total.add(c, gz);
    }
    Ok(total)
}

/// Counts the lines every file in `dir` holds at this moment, each line once, while
/// background compression may still be turning raw files into `.gz` files. The harness
/// calls it right after the timed flush returned, to check that every line was in the
/// files when the clock stopped.
///
/// The rule: a *compressed copy* is a file named `S.gz` whose raw original is `S` (Lethe,
/// flexi_logger, file-rotate) or `S.log` (fast_log's packer replaces `.log` by `.gz`),
/// and Lethe's `S.gz.tmp` while it is being written. Every contender that compresses in
/// the background writes the whole copy before it removes the raw file (Lethe renames a
/// finished, synced `.gz.tmp` to `.gz` and only then unlinks the raw segment), so:
///
/// 1. the directory is listed once, before any file is read (a run's directory holds a
///    few dozen entries, which one `getdents64` call returns while holding the
///    directory's lock, so a rename or unlink is either wholly before or wholly after
///    the listing);
/// 2. every raw file is opened and its length taken before any of them is read, and
///    only that many bytes are counted: lines written after this snapshot do not count;
/// 3. a compressed copy whose raw original is listed is skipped, and `.gz.tmp` files
///    always are: their lines are counted from the raw file;
/// 4. a raw file that was removed between the listing and its opening is replaced by
///    its `.gz` copy, which is complete by then; one that has no copy is an error;
/// 5. a `.gz` whose raw original is not listed is decompressed whole.
///
/// # Errors
///
/// A read error, an invalid gzip stream, or a raw file that vanished without a
/// compressed copy, naming the file.
pub fn count_at_stop(dir: &Path) -> io::Result<Contents> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            names.push(entry.file_name());
        }
    }
    snapshot(dir, &names)
}

/// [`count_at_stop`] after its listing: counts the files `names` of `dir` (steps 2 to 5).
fn snapshot(dir: &Path, names: &[OsString]) -> io::Result<Contents> {
    let listed: HashSet<&OsStr> = names.iter().map(OsString::as_os_str).collect();
    let mut raw: Vec<(PathBuf, File, u64)> = Vec::new();
    let mut compressed: Vec<PathBuf> = Vec::new();
    for name in names {
        let path = dir.join(name);
        match Form::of(name) {
            Form::InProgress => {}
            Form::Compressed(originals) => {
                if !originals.iter().any(|o| listed.contains(o.as_os_str())) {
                    compressed.push(path);
                }
            }
            Form::Raw => match File::open(&path) {
                Ok(file) => {
                    let len = file.metadata().map_err(|e| named(&path, e))?.len();
                    raw.push((path, file, len));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    let copy = copies_of(name)
                        .into_iter()
                        .map(|c| dir.join(c))
                        .find(|c| c.is_file())
                        .ok_or_else(|| {
                            named(
                                &path,
                                io::Error::new(
                                    io::ErrorKind::NotFound,
                                    "removed after the listing, and no compressed copy exists",
                                ),
                            )
                        })?;
                    compressed.push(copy);
                }
                Err(e) => return Err(named(&path, e)),
            },
        }
    }
    let mut total = Contents::default();
    let mut buf = vec![0u8; 1 << 20];
    for (path, file, len) in raw {
        let c = count(&mut file.take(len), &mut buf).map_err(|e| named(&path, e))?;
        total.add(c, false);
    }
    for path in compressed {
        let file = File::open(&path).map_err(|e| named(&path, e))?;
        let c = count(&mut flate2::read::MultiGzDecoder::new(file), &mut buf)
            .map_err(|e| named(&path, e))?;
        total.add(c, true);
    }
    Ok(total)
}

/// What [`count_at_stop`] makes of a file, by its name.
enum Form {
    /// A log file, counted from its bytes.
    Raw,
    /// A compressed copy (`.gz`) and the names its raw original may have.
    Compressed([OsString; 2]),
    /// A compressed copy being written under a temporary name (Lethe's `.gz.tmp`).
    InProgress,
}

impl Form {
    fn of(name: &OsStr) -> Form {
        let Some(name) = name.to_str() else {
            return Form::Raw;
        };
        if name.ends_with(".gz.tmp") {
            Form::InProgress
        } else if let Some(stem) = name.strip_suffix(".gz") {
            Form::Compressed([stem.into(), format!("{stem}.log").into()])
        } else {
            Form::Raw
        }
    }
}

/// The names a compressed copy of the raw file `name` may have (see [`Form::of`]).
fn copies_of(name: &OsStr) -> Vec<OsString> {
    let Some(name) = name.to_str() else {
        return Vec::new();
    };
    let mut copies = vec![OsString::from(format!("{name}.gz"))];
    if let Some(stem) = name.strip_suffix(".log") {
        copies.push(format!("{stem}.gz").into());
    }
    copies
}

fn named(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

impl Contents {
    fn add(&mut self, c: Contents, gz: bool) {
        self.lines += c.lines;
        self.bytes += c.bytes;
        self.partial += c.partial;
        self.files += 1;
        self.gz_files += u64::from(gz);
    }
}

fn count(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<Contents> {
    let mut c = Contents::default();
    let mut since_newline = 0u64;
    loop {
        let n = match r.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        c.bytes += n as u64;
        let newlines = chunk.iter().filter(|&&b| b == b'\n').count() as u64;
        c.lines += newlines;
        since_newline = match chunk.iter().rposition(|&b| b == b'\n') {
            Some(i) => (n - i - 1) as u64,
            None => since_newline + n as u64,
        };
    }
    c.partial = since_newline;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[test]
    fn counts_plain_and_gzip_files_and_cut_lines() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.log"), b"one\ntwo\nthr").unwrap();
        let mut gz = flate2::write::GzEncoder::new(
            File::create(dir.path().join("b.log.gz")).unwrap(),
            flate2::Compression::default(),
        );
        for i in 0..1000 {
            writeln!(gz, "line {i}").unwrap();
        }
        gz.finish().unwrap();
        let c = count_dir(dir.path()).unwrap();
        assert_eq!(c.lines, 1002);
        assert_eq!(c.partial, 3);
        assert_eq!(c.files, 2);
        assert_eq!(c.gz_files, 1);
        let text: u64 = (0..1000).map(|i| format!("line {i}\n").len() as u64).sum();
        assert_eq!(c.bytes, 11 + text);
    }

    fn gzip(path: &Path, lines: std::ops::Range<u32>) {
        let mut gz = flate2::write::GzEncoder::new(
            File::create(path).unwrap(),
            flate2::Compression::default(),
        );
        for i in lines {
            writeln!(gz, "line {i}").unwrap();
        }
        gz.finish().unwrap();
    }

    fn text(lines: std::ops::Range<u32>) -> String {
        lines.map(|i| format!("line {i}\n")).collect()
    }

    #[test]
    fn at_stop_counts_each_segment_once_while_compression_runs() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // Lethe: segment 1 being compressed (`.gz.tmp` half written), segment 2 compressed
        // and renamed but its raw file not yet removed, segment 3 done, the active file.
        std::fs::write(d.join("app.1.log"), text(0..10)).unwrap();
        std::fs::write(d.join("app.1.log.gz.tmp"), b"\x1f\x8b half a gzip\n\n").unwrap();
        std::fs::write(d.join("app.2.log"), text(10..20)).unwrap();
        gzip(&d.join("app.2.log.gz"), 10..20);
        gzip(&d.join("app.3.log.gz"), 20..30);
        std::fs::write(d.join("app.log"), text(30..35)).unwrap();
        // fast_log: `temp1.log` packed in place into `temp1.gz`, cut short here.
        std::fs::write(d.join("temp1.log"), text(35..40)).unwrap();
        std::fs::write(d.join("temp1.gz"), b"\x1f\x8b\x08").unwrap();

        let c = count_at_stop(d).unwrap();
        assert_eq!(c.lines, 40);
        assert_eq!(c.partial, 0);
        assert_eq!((c.files, c.gz_files), (5, 1));
        assert_eq!(c.bytes, text(0..40).len() as u64);
        // The final count takes every file as it is: here the half-written copies fail it.
        assert!(count_dir(d).is_err());
        std::fs::remove_file(d.join("app.1.log.gz.tmp")).unwrap();
        std::fs::remove_file(d.join("temp1.gz")).unwrap();
        // And a raw file left beside its finished copy counts twice there (EXTRA lines).
        assert_eq!(count_dir(d).unwrap().lines, 50);
    }

    #[test]
    fn at_stop_reads_the_copy_of_a_raw_file_removed_after_the_listing() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        gzip(&d.join("app.1.log.gz"), 0..10);
        gzip(&d.join("temp2.gz"), 10..15);
        std::fs::write(d.join("app.log"), text(15..17)).unwrap();
        // Listed while `app.1.log` and `temp2.log` still existed, and before `temp2.gz`
        // appeared; both raw files were removed before they could be opened.
        let names: Vec<OsString> = ["app.1.log", "app.1.log.gz", "temp2.log", "app.log"]
            .into_iter()
            .map(OsString::from)
            .collect();
        let c = snapshot(d, &names).unwrap();
        assert_eq!(c.lines, 17);
        assert_eq!((c.files, c.gz_files), (3, 2));

        // A raw file gone without any copy is an error naming it, not a short count.
        let names = vec![OsString::from("app.2.log"), OsString::from("app.log")];
        let e = snapshot(d, &names).unwrap_err();
        assert!(e.to_string().contains("app.2.log"), "{e}");
    }

    #[test]
    fn at_stop_counts_only_the_bytes_present_when_the_file_was_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        std::fs::write(&path, text(0..3)).unwrap();
        let file = File::open(&path).unwrap();
        let len = file.metadata().unwrap().len();
        // A late writer appends after the snapshot took the file's length.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(text(3..9).as_bytes())
            .unwrap();
        let c = count(&mut file.take(len), &mut [0u8; 4]).unwrap();
        assert_eq!((c.lines, c.partial), (3, 0));
        assert_eq!(count_at_stop(dir.path()).unwrap().lines, 9);
    }

    #[test]
    fn a_corrupt_gzip_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.gz"), b"not gzip").unwrap();
        let e = count_dir(dir.path()).unwrap_err();
        assert!(e.to_string().contains("bad.gz"), "{e}");
    }
}

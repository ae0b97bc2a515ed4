//! Counting what reached the files: every regular file in a run's directory, `.gz` files
//! decompressed (all members), everything else read raw.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

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
        let c = count(&mut reader, &mut buf)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        total.lines += c.lines;
        total.bytes += c.bytes;
        total.partial += c.partial;
        total.files += 1;
        total.gz_files += u64::from(gz);
    }
    Ok(total)
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

    #[test]
    fn a_corrupt_gzip_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.gz"), b"not gzip").unwrap();
        let e = count_dir(dir.path()).unwrap_err();
        assert!(e.to_string().contains("bad.gz"), "{e}");
    }
}

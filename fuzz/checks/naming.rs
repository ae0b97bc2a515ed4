//! `naming_roundtrip`: backup naming against a reference model.
//!
//! Input: a selector byte picks the active file name, then the rest is either
//! - (selector bit 7 clear) a candidate file name: if `parse` accepts it, the name must
//!   format back to exactly the same bytes, and the model (a regex-free hand check of the
//!   shape) must agree that it has the backup shape; or
//! - (bit 7 set) the fields of a name: formatting must succeed for every valid field set,
//!   parse back to the same name, and sort by sequence against a second name.

use lethe_core::civil::{UnixTime, UtcOffset};
use lethe_core::naming::{BackupName, Form, MAX_SEQUENCE, NameError, Pattern};

const ACTIVES: [&str; 6] = [
    "app.log",
    "app",
    ".hidden",
    "a.tar.gz",
    "x.y.z.log",
    "trailing.",
];

pub fn check(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let active = ACTIVES[(sel as usize & 0x7f) % ACTIVES.len()];
    let p = Pattern::new(active).expect("valid active name");
    if sel & 0x80 == 0 {
        let candidate = String::from_utf8_lossy(rest);
        let candidate = format!("{}.{}", p.stem(), candidate);
        if let Some(name) = p.parse(&candidate) {
            let again = p.format(&name).expect("a parsed name formats");
            assert_eq!(again.as_str(), candidate, "parse/format round trip");
            assert!(
                model_shape(&candidate, p.stem(), p.extension()),
                "{candidate:?}"
            );
        }
        assert_eq!(p.parse(active), None, "the active file is not a backup");
    } else {
        let a = name_from(rest);
        let b = name_from(rest.get(16..).unwrap_or(&[]));
        let (Some(a), Some(b)) = (a, b) else { return };
        let (Some(fa), Some(fb)) = (format_checked(&p, &a), format_checked(&p, &b)) else {
            return;
        };
        assert_eq!(p.parse(&fa), Some(a));
        assert_eq!(p.parse(&fb), Some(b));
        if a.sequence != b.sequence {
            assert_eq!(
                fa.as_str() < fb.as_str(),
                a.sequence < b.sequence,
                "{fa} vs {fb}"
            );
        }
    }
}

/// Formats `name`; the only acceptable failure is a local time outside years 1..=9999,
/// which can happen only within a day of the range ends.
fn format_checked(p: &Pattern<'_>, name: &BackupName) -> Option<lethe_core::naming::NameBuf> {
    match p.format(name) {
        Ok(text) => Some(text),
        Err(NameError::TimeOutOfRange { secs }) => {
            let near_min = secs - UnixTime::MIN.secs() < 86_400;
            let near_max = UnixTime::MAX.secs() - secs < 86_400;
            assert!(near_min || near_max, "{secs} is in range at any offset");
            None
        }
        Err(e) => panic!("valid fields failed to format: {e}"),
    }
}

/// Valid fields from 16 bytes: sequence, seconds, offset minutes, form.
fn name_from(bytes: &[u8]) -> Option<BackupName> {
    let bytes: [u8; 16] = bytes.get(..16)?.try_into().ok()?;
    let seq = u64::from_le_bytes(bytes[0..8].try_into().ok()?) % MAX_SEQUENCE + 1;
    let raw = i64::from(i32::from_le_bytes(bytes[8..12].try_into().ok()?));
    let secs = raw * 61; // spans about ±4000 years around 1970, past both range ends
    let minutes = i32::from(i16::from_le_bytes(bytes[12..14].try_into().ok()?)) % (24 * 60);
    let form = Form::ALL[bytes[14] as usize % Form::ALL.len()];
    Some(BackupName {
        sequence: seq,
        time: UnixTime::new(secs, 0)?,
        offset: UtcOffset::from_seconds(minutes * 60).ok()?,
        form,
    })
}

/// The model: stem "." 10 digits "." 8 digits "T" 6 digits (Z | [+-]4 digits) ext suffix.
fn model_shape(name: &str, stem: &str, ext: &str) -> bool {
    let Some(rest) = name.strip_prefix(stem).and_then(|r| r.strip_prefix('.')) else {
        return false;
    };
    let b = rest.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    if !(digits(0..10)
        && b.get(10) == Some(&b'.')
        && digits(11..19)
        && b.get(19) == Some(&b'T')
        && digits(20..26))
    {
        return false;
    }
    let after = match b.get(26) {
        Some(b'Z') => 27,
        Some(b'+' | b'-') if digits(27..31) => 31,
        _ => return false,
    };
    let Some(tail) = rest.get(after..).and_then(|t| t.strip_prefix(ext)) else {
        return false;
    };
    [
        "",
        ".gz",
        ".sha256",
        ".gz.sha256",
        ".gz.tmp",
        ".sha256.tmp",
        ".gz.sha256.tmp",
    ]
    .contains(&tail)
}

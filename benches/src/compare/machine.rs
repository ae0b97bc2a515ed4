//! The machine a run measured, as one line for the head of the harness's output, so that
//! every table pasted into docs/BENCHMARKS.md carries it: CPU model, CPUs, memory,
//! kernel, and the file system of the directory the runs write to. Read from `/proc`;
//! a part that cannot be read is shown as `unknown` with the reason.

use std::fmt;
use std::path::{Path, PathBuf};

/// What [`Machine::probe`] found; each part is the value or why it is unknown.
#[derive(Clone, Debug)]
pub struct Machine {
    /// The CPU model (`model name` in `/proc/cpuinfo`).
    pub cpu: Result<String, String>,
    /// Online CPUs (`processor` entries in `/proc/cpuinfo`).
    pub cpus: Result<usize, String>,
    /// CPUs this process may use (`std::thread::available_parallelism`: affinity and
    /// cgroup quota).
    pub available: Result<usize, String>,
    /// Total memory in KiB (`MemTotal` in `/proc/meminfo`).
    pub memory_kib: Result<u64, String>,
    /// The kernel release (`/proc/sys/kernel/osrelease`).
    pub kernel: Result<String, String>,
    /// The directory the runs write to, and the mount it is on.
    pub dir: PathBuf,
    /// The file system of [`dir`](Self::dir) (from `/proc/self/mountinfo`).
    pub mount: Result<Mount, String>,
}

/// One line of `/proc/self/mountinfo`, the parts the description uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// Where it is mounted.
    pub point: PathBuf,
    /// The file system type (`ext4`, `xfs`, `tmpfs`, ...).
    pub fstype: String,
    /// The mount source (a device such as `/dev/vda1`, or a name such as `tmpfs`).
    pub source: String,
}

impl Machine {
    /// Reads the description of this machine, with `dir` as the directory the runs write to.
    pub fn probe(dir: &Path) -> Machine {
        let read = |path: &str| std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"));
        let cpuinfo = read("/proc/cpuinfo");
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        Machine {
            cpu: cpuinfo.clone().and_then(|s| {
                cpu_model(&s).ok_or_else(|| "no `model name` in /proc/cpuinfo".into())
            }),
            cpus: cpuinfo.and_then(|s| match cpu_count(&s) {
                0 => Err("no `processor` entry in /proc/cpuinfo".into()),
                n => Ok(n),
            }),
            available: std::thread::available_parallelism()
                .map(usize::from)
                .map_err(|e| e.to_string()),
            memory_kib: read("/proc/meminfo").and_then(|s| {
                mem_total_kib(&s).ok_or_else(|| "no `MemTotal` in /proc/meminfo".into())
            }),
            kernel: read("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()),
            mount: read("/proc/self/mountinfo")
                .and_then(|s| mount_of(&s, &dir).ok_or_else(|| "no mount holds it".into())),
            dir,
        }
    }
}

impl fmt::Display for Machine {
    /// `AMD EPYC, 2 CPUs (2 available), 23.5 GiB memory, Linux 6.1.0, bench dir /tmp/x
    /// on ext4 (/dev/vda, mounted at /)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn unknown(f: &mut fmt::Formatter<'_>, what: &str, why: &str) -> fmt::Result {
            write!(f, "{what} unknown ({why})")
        }
        match &self.cpu {
            Ok(model) => f.write_str(model)?,
            Err(e) => unknown(f, "CPU model", e)?,
        }
        f.write_str(", ")?;
        match &self.cpus {
            Ok(n) => write!(f, "{n} CPUs")?,
            Err(e) => unknown(f, "CPU count", e)?,
        }
        match &self.available {
            Ok(n) => write!(f, " ({n} available)")?,
            Err(e) => write!(f, " (available CPUs unknown: {e})")?,
        }
        f.write_str(", ")?;
        match self.memory_kib {
            Ok(kib) => write!(f, "{:.1} GiB memory", kib as f64 / (1 << 20) as f64)?,
            Err(ref e) => unknown(f, "memory", e)?,
        }
        f.write_str(", ")?;
        match &self.kernel {
            Ok(release) => write!(f, "Linux {release}")?,
            Err(e) => unknown(f, "kernel", e)?,
        }
        write!(f, ", bench dir {} ", self.dir.display())?;
        match &self.mount {
            Ok(m) => write!(
                f,
                "on {} ({}, mounted at {})",
                m.fstype,
                m.source,
                m.point.display()
            ),
            Err(e) => unknown(f, "on a file system", e),
        }
    }
}

/// The first `model name` of a `/proc/cpuinfo`.
fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim() == "model name")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The `processor` entries of a `/proc/cpuinfo`.
fn cpu_count(cpuinfo: &str) -> usize {
    cpuinfo
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.trim() == "processor")
        .count()
}

/// `MemTotal` of a `/proc/meminfo`, in KiB.
fn mem_total_kib(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The mount of `/proc/self/mountinfo` that holds `path` (absolute, symbolic links
/// resolved): the one with the longest mount point above it, the last listed among
/// equals (a later mount hides an earlier one at the same point).
fn mount_of(mountinfo: &str, path: &Path) -> Option<Mount> {
    let mut best: Option<Mount> = None;
    for mount in mountinfo.lines().filter_map(parse_mount) {
        let deeper = best
            .as_ref()
            .is_none_or(|b| mount.point.components().count() >= b.point.components().count());
        if path.starts_with(&mount.point) && deeper {
            best = Some(mount);
        }
    }
    best
}

/// One line of `/proc/self/mountinfo`:
/// `id parent major:minor root point options [optional...] - fstype source super`.
fn parse_mount(line: &str) -> Option<Mount> {
    let (left, right) = line.split_once(" - ")?;
    let point = PathBuf::from(unescape(left.split(' ').nth(4)?));
    let mut right = right.split(' ');
    let (fstype, source) = (right.next()?, right.next()?);
    Some(Mount {
        point,
        fstype: unescape(fstype),
        source: unescape(source),
    })
}

/// Undoes mountinfo's octal escapes (`\040` for a space, `\011`, `\012`, `\134`).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            d.iter()
                .all(|b| (b'0'..=b'7').contains(b))
                .then(|| d.iter().fold(0u32, |n, b| n * 8 + u32::from(b - b'0')))
        });
        match octal {
            Some(n) if bytes[i] == b'\\' && n <= 0xff => {
                out.push(n as u8);
                i += 4;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
30 27 0:27 / /tmp rw,relatime shared:5 - tmpfs tmpfs rw,size=1024k
31 30 7:0 / /tmp/on\\040xfs rw,relatime - xfs /dev/loop0 rw
32 27 0:28 / /tmp2 rw - tmpfs tmpfs rw
a line without the separator is skipped
33 30 0:29 / /tmp rw,relatime - tmpfs other rw
";

    #[test]
    fn the_deepest_mount_above_the_directory_holds_it() {
        let at = |p: &str| mount_of(MOUNTINFO, Path::new(p)).unwrap();
        assert_eq!(at("/home/user").fstype, "ext4");
        assert_eq!(at("/home/user").source, "/dev/vda");
        // `/tmp2` is not under `/tmp`; the later of two mounts at `/tmp` hides the first.
        assert_eq!(at("/tmp2/x").point, Path::new("/tmp2"));
        assert_eq!(at("/tmp/x").source, "other");
        let xfs = at("/tmp/on xfs/runs");
        assert_eq!(
            (xfs.fstype.as_str(), xfs.point.as_path()),
            ("xfs", Path::new("/tmp/on xfs"))
        );
    }

    #[test]
    fn cpu_and_memory_come_from_proc() {
        let cpuinfo = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(cpu_model(cpuinfo).as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(cpu_count(cpuinfo), 2);
        assert_eq!(cpu_model("processor\t: 0\n"), None);
        assert_eq!(
            mem_total_kib("MemTotal:       24683656 kB\nMemFree: 1 kB\n"),
            Some(24_683_656)
        );
        assert_eq!(unescape("a\\040b\\134c\\09"), "a b\\c\\09");
    }

    #[test]
    fn this_machine_is_described_and_an_unknown_part_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let m = Machine::probe(dir.path());
        assert!(m.cpus.as_ref().is_ok_and(|&n| n >= 1), "{m:?}");
        assert!(m.memory_kib.as_ref().is_ok_and(|&k| k > 0), "{m:?}");
        assert!(m.kernel.as_ref().is_ok_and(|k| !k.is_empty()), "{m:?}");
        assert!(
            m.mount.as_ref().is_ok_and(|k| !k.fstype.is_empty()),
            "{m:?}"
        );
        let line = m.to_string();
        assert!(line.contains(" CPUs ("), "{line}");
        assert!(line.contains(" GiB memory, Linux "), "{line}");
        assert!(
            line.contains(&format!("bench dir {} on ", m.dir.display())),
            "{line}"
        );

        let broken = Machine {
            memory_kib: Err("/proc/meminfo: permission denied".into()),
            ..m
        };
        assert!(
            broken
                .to_string()
                .contains("memory unknown (/proc/meminfo: permission denied)"),
            "{broken}"
        );
    }
}

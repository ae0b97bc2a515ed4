//! The directory side of backup naming: listing Lethe's backups beside the active file,
//! naming the next one, and deleting what the retention planner selects.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use lethe_core::civil::UnixTime;
use lethe_core::naming::{BackupName, Pattern, next_sequence};
use lethe_core::retention::{Entry, RetentionPolicy};

use crate::error::{Error, Op};

/// Naming for one active file. Owns the file name that [`Pattern`] borrows.
#[derive(Clone, Debug)]
pub(crate) struct Naming {
    active: String,
}

impl Naming {
    /// Validates the active file name.
    pub(crate) fn new(active: &str) -> Result<Naming, String> {
        Pattern::new(active).map_err(|e| e.to_string())?;
        Ok(Naming {
            active: active.to_owned(),
        })
    }

    fn pattern(&self) -> Pattern<'_> {
        // Invariant: `active` was validated by `Pattern::new` in `Naming::new` and is
        // immutable, so this cannot fail.
        Pattern::new(&self.active).expect("active name validated in Naming::new")
    }

    /// Every file in `dir` whose name Lethe produced for this active file, with its size.
    pub(crate) fn scan(&self, dir: &Path) -> Result<Vec<Entry>, Error> {
        let pattern = self.pattern();
        let mut out = Vec::new();
        let entries = fs::read_dir(dir).map_err(|e| Error::new(Op::ScanDir, dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::new(Op::ScanDir, dir, e))?;
            let file_name = entry.file_name();
            let Some(name) = file_name.to_str().and_then(|n| pattern.parse(n)) else {
                continue;
            };
            // A file that vanished between listing and stat (another process's retention)
            // is simply not there any more.
            let size = match entry.metadata() {
                Ok(m) if m.is_file() => m.len(),
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::new(Op::ScanDir, &entry.path(), e)),
            };
            out.push(Entry { name, size });
        }
        Ok(out)
    }

    /// The sequence for the next backup in `dir`.
    pub(crate) fn next_sequence(&self, dir: &Path) -> Result<u64, Error> {
        let entries = self.scan(dir)?;
        next_sequence(entries.iter().map(|e| e.name))
            .map_err(|e| Error::new(Op::ScanDir, dir, io::Error::other(e.to_string())))
    }

    /// The path of the file `name` names in `dir`.
    pub(crate) fn path_of(&self, dir: &Path, name: BackupName) -> Result<PathBuf, Error> {
        let text = self
            .pattern()
            .format(&name)
            .map_err(|e| Error::new(Op::CheckPath, dir, io::Error::other(e.to_string())))?;
        Ok(dir.join(text.as_str()))
    }

    /// Deletes the file `name` names in `dir`; one already gone is not an error. Returns
    /// whether this call deleted it.
    pub(crate) fn remove(&self, dir: &Path, name: BackupName) -> Result<bool, Error> {
        crate::archive::remove_if_exists(&self.path_of(dir, name)?)
    }

    /// Applies `policy` to the backups in `dir`, leaving alone the backups for which
    /// `busy(sequence)` is true. Returns the number of files deleted; failures are pushed
    /// to `errors` (a file already gone is not a failure).
    pub(crate) fn apply_retention(
        &self,
        dir: &Path,
        policy: &RetentionPolicy,
        now: UnixTime,
        busy: &dyn Fn(u64) -> bool,
        errors: &mut Vec<Error>,
    ) -> u64 {
        if policy.is_keep_all() {
            return 0;
        }
        let mut entries = match self.scan(dir) {
            Ok(e) => e,
            Err(e) => {
                errors.push(e);
                return 0;
            }
        };
        let mut removed = 0;
        policy.plan(&mut entries, now, |entry| {
            if busy(entry.name.sequence) {
                return; // being compressed or hashed: the sweep after that job deletes it
            }
            match self.remove(dir, entry.name) {
                Ok(deleted) => removed += u64::from(deleted),
                Err(e) => errors.push(e),
            }
        });
        removed
    }
}

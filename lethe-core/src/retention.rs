//! Retention planning: which backups to delete, given their names, sizes and a policy.
//!
//! The planner works on the files that [`Pattern::parse`](crate::naming::Pattern::parse)
//! recognized, so it can only ever select files Lethe named, and never the active file
//! (which does not parse). It does no I/O: the caller lists the directory, passes one
//! [`Entry`] per recognized file, and deletes what the planner reports.
//!
//! # Rules
//!
//! - Files are grouped by sequence number. A group with a [`Form::Raw`] or [`Form::Gzip`]
//!   file is a **backup**; its sidecars (`.sha256`) and temporaries (`.tmp`) belong to it.
//!   Only backups count towards [`max_count`](RetentionPolicy::max_count); a sidecar is
//!   never counted as a backup.
//! - Backups are considered newest first (highest sequence first, which is rotation order
//!   whatever the clock did). Walking from the newest, the first backup that breaks a
//!   limit is deleted together with **every older backup**, so what survives is always the
//!   newest contiguous run of backups:
//!   - **count**: the `max_count + 1`-th newest backup breaks it (`max_count(0)` keeps
//!     none);
//!   - **age**: a backup whose name time is more than `max_age` before `now` breaks it. A
//!     time after `now` (the clock stepped back) has age 0 and is kept;
//!   - **total bytes**: a backup breaks it when the bytes of all the files of the newer
//!     kept backups plus its own exceed `max_total_bytes`. Sidecars and temporaries count
//!     here because they occupy the disk. The limit is strict: a single backup larger than
//!     the limit is deleted.
//! - Deleting a backup deletes all of its files: raw, compressed, sidecars, temporaries.
//! - A group with no backup (a sidecar or temporary whose backup is gone) is left alone:
//!   it is not counted and not deleted here. Crash recovery in `lethe-std` decides about
//!   those (DESIGN-NOTES §4).
//! - The time used for age is the backup name's time (when it was rotated), not the
//!   file's modification time, so copying or touching a backup does not change its fate.
//!
//! # Examples
//!
//! ```
//! use core::time::Duration;
//! use lethe_core::civil::{UnixTime, UtcOffset};
//! use lethe_core::naming::{BackupName, Form};
//! use lethe_core::retention::{Entry, RetentionPolicy};
//!
//! let at = |sequence, secs, form| Entry {
//!     name: BackupName {
//!         sequence,
//!         time: UnixTime::new(secs, 0).unwrap(),
//!         offset: UtcOffset::UTC,
//!         form,
//!     },
//!     size: 100,
//! };
//! let mut files = [
//!     at(1, 1_000, Form::Gzip),
//!     at(1, 1_000, Form::GzipSha256),
//!     at(2, 2_000, Form::Raw),
//!     at(3, 3_000, Form::Raw),
//! ];
//! let policy = RetentionPolicy::new().max_count(2);
//! let mut deleted = Vec::new();
//! let plan = policy.plan(&mut files, UnixTime::new(4_000, 0).unwrap(), |e| {
//!     deleted.push((e.name.sequence, e.name.form))
//! });
//! assert_eq!(deleted, [(1, Form::Gzip), (1, Form::GzipSha256)]);
//! assert_eq!((plan.kept_backups, plan.deleted_backups), (2, 1));
//! ```

use core::cmp::Ordering;
use core::time::Duration;

use crate::civil::UnixTime;
use crate::naming::BackupName;
#[cfg(doc)]
use crate::naming::Form;

/// Which backups to keep. Every limit is optional; [`RetentionPolicy::new`] keeps all.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RetentionPolicy {
    max_count: Option<usize>,
    max_age: Option<Duration>,
    max_total_bytes: Option<u64>,
}

impl RetentionPolicy {
    /// A policy that keeps every backup.
    pub const fn new() -> RetentionPolicy {
        RetentionPolicy {
            max_count: None,
            max_age: None,
            max_total_bytes: None,
        }
    }

    /// Keep at most `n` backups (0 keeps none).
    #[must_use]
    pub const fn max_count(mut self, n: usize) -> RetentionPolicy {
        self.max_count = Some(n);
        self
    }

    /// Delete backups rotated more than `age` ago.
    #[must_use]
    pub const fn max_age(mut self, age: Duration) -> RetentionPolicy {
        self.max_age = Some(age);
        self
    }

    /// Keep the backups' files together at or under `bytes`.
    #[must_use]
    pub const fn max_total_bytes(mut self, bytes: u64) -> RetentionPolicy {
        self.max_total_bytes = Some(bytes);
        self
    }

    /// The count limit, if any.
    pub const fn count_limit(&self) -> Option<usize> {
        self.max_count
    }

    /// The age limit, if any.
    pub const fn age_limit(&self) -> Option<Duration> {
        self.max_age
    }

    /// The total-bytes limit, if any.
    pub const fn total_bytes_limit(&self) -> Option<u64> {
        self.max_total_bytes
    }

    /// Does this policy ever delete anything?
    pub const fn is_keep_all(&self) -> bool {
        self.max_count.is_none() && self.max_age.is_none() && self.max_total_bytes.is_none()
    }

    /// Plans deletions among `files` (see the [module docs](self) for the rules), calling
    /// `delete` once for every file to delete. `files` is reordered (newest sequence
    /// first); nothing is allocated.
    pub fn plan<F>(&self, files: &mut [Entry], now: UnixTime, mut delete: F) -> Plan
    where
        F: FnMut(&Entry),
    {
        files.sort_unstable_by(|a, b| newest_first(&a.name, &b.name));
        let mut plan = Plan::default();
        let mut breaking = false;
        let mut start = 0;
        while start < files.len() {
            let sequence = files[start].name.sequence;
            let end = files[start..]
                .iter()
                .position(|e| e.name.sequence != sequence)
                .map_or(files.len(), |n| start + n);
            let group = &files[start..end];
            start = end;
            let Some(backup) = group.iter().find(|e| e.name.form.is_backup()) else {
                continue; // orphan sidecars/temporaries: not ours to decide here
            };
            let bytes = group.iter().fold(0u64, |sum, e| sum.saturating_add(e.size));
            if !breaking {
                let over_count = self.max_count.is_some_and(|n| plan.kept_backups >= n);
                let over_age = self
                    .max_age
                    .is_some_and(|max| age(backup.name.time, now) > max);
                let over_bytes = self
                    .max_total_bytes
                    .is_some_and(|max| plan.kept_bytes.saturating_add(bytes) > max);
                breaking = over_count || over_age || over_bytes;
            }
            if breaking {
                plan.deleted_backups += 1;
                for e in group {
                    plan.deleted_files += 1;
                    delete(e);
                }
            } else {
                plan.kept_backups += 1;
                plan.kept_bytes = plan.kept_bytes.saturating_add(bytes);
            }
        }
        plan
    }
}

/// Orders names by sequence, highest first, then by form.
fn newest_first(a: &BackupName, b: &BackupName) -> Ordering {
    b.sequence.cmp(&a.sequence).then(a.form.cmp(&b.form))
}

/// How long before `now` the instant `t` is; zero if it is not before.
fn age(t: UnixTime, now: UnixTime) -> Duration {
    let secs = now.secs().saturating_sub(t.secs());
    if secs <= 0 {
        return Duration::ZERO;
    }
    // `secs` is positive; nanoseconds are borrowed as needed.
    let (secs, nanos) = if now.subsec_nanos() >= t.subsec_nanos() {
        (secs as u64, now.subsec_nanos() - t.subsec_nanos())
    } else {
        (
            secs as u64 - 1,
            1_000_000_000 + now.subsec_nanos() - t.subsec_nanos(),
        )
    };
    Duration::new(secs, nanos)
}

/// One recognized file in the log directory.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    /// Its parsed name (format it again with the same `Pattern` to get the file name).
    pub name: BackupName,
    /// Its size in bytes.
    pub size: u64,
}

/// What a [`RetentionPolicy::plan`] decided.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Plan {
    /// Backups kept.
    pub kept_backups: usize,
    /// Bytes of the kept backups' files.
    pub kept_bytes: u64,
    /// Backups deleted.
    pub deleted_backups: usize,
    /// Files deleted (backups with their sidecars and temporaries).
    pub deleted_files: usize,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::std_instead_of_alloc)]
    use super::*;
    use crate::civil::UtcOffset;
    use crate::naming::Form;
    use std::vec::Vec;

    fn entry(sequence: u64, secs: i64, form: Form, size: u64) -> Entry {
        Entry {
            name: BackupName {
                sequence,
                time: UnixTime::new(secs, 0).unwrap(),
                offset: UtcOffset::UTC,
                form,
            },
            size,
        }
    }

    fn run(policy: RetentionPolicy, files: &mut [Entry], now: i64) -> (Vec<(u64, Form)>, Plan) {
        let mut deleted = Vec::new();
        let plan = policy.plan(files, UnixTime::new(now, 0).unwrap(), |e| {
            deleted.push((e.name.sequence, e.name.form))
        });
        deleted.sort();
        (deleted, plan)
    }

    #[test]
    fn count_keeps_exactly_n_newest_and_sidecars_do_not_count() {
        let mut files = [
            entry(5, 500, Form::Raw, 10),
            entry(4, 400, Form::Gzip, 10),
            entry(4, 400, Form::GzipSha256, 1),
            entry(3, 300, Form::Raw, 10),
            entry(3, 300, Form::Sha256, 1),
            entry(2, 200, Form::Gzip, 10),
            entry(1, 100, Form::Raw, 10),
        ];
        let (deleted, plan) = run(RetentionPolicy::new().max_count(3), &mut files, 600);
        assert_eq!(deleted, [(1, Form::Raw), (2, Form::Gzip)]);
        assert_eq!(plan.kept_backups, 3);
        assert_eq!(plan.kept_bytes, 32);
        let (deleted, _) = run(RetentionPolicy::new().max_count(0), &mut files, 600);
        assert_eq!(deleted.len(), files.len());
        let (deleted, _) = run(RetentionPolicy::new(), &mut files, 600);
        assert!(deleted.is_empty());
    }

    #[test]
    fn age_deletes_older_and_never_future_backups() {
        let mut files = [
            entry(3, 1_000, Form::Raw, 1),
            entry(2, 900, Form::Raw, 1),
            entry(1, 100, Form::Raw, 1),
        ];
        let policy = RetentionPolicy::new().max_age(Duration::from_secs(100));
        let (deleted, _) = run(policy, &mut files, 1_000);
        assert_eq!(deleted, [(1, Form::Raw)]);
        // Exactly max_age old is kept.
        let (deleted, _) = run(policy, &mut files, 1_000);
        assert!(!deleted.contains(&(2, Form::Raw)));
        // Clock stepped back far before every backup: nothing is deleted by age.
        let (deleted, _) = run(policy, &mut files, 0);
        assert!(deleted.is_empty());
    }

    #[test]
    fn total_bytes_counts_every_file_and_deletes_oldest_first() {
        let mut files = [
            entry(3, 3, Form::Gzip, 40),
            entry(3, 3, Form::GzipSha256, 10),
            entry(2, 2, Form::Raw, 40),
            entry(1, 1, Form::Raw, 5),
        ];
        let (deleted, plan) = run(RetentionPolicy::new().max_total_bytes(90), &mut files, 9);
        // 50 + 40 = 90 fits; the oldest backup is deleted even though it is small, since
        // survivors are always the newest contiguous run.
        assert_eq!(deleted, [(1, Form::Raw)]);
        assert_eq!(plan.kept_bytes, 90);
        let (deleted, _) = run(RetentionPolicy::new().max_total_bytes(49), &mut files, 9);
        assert_eq!(
            deleted.len(),
            4,
            "a single backup over the limit is deleted"
        );
    }

    #[test]
    fn orphan_companions_are_left_alone() {
        let mut files = [
            entry(3, 3, Form::Raw, 1),
            entry(2, 2, Form::GzipTmp, 1),
            entry(1, 1, Form::Sha256, 1),
        ];
        let (deleted, plan) = run(RetentionPolicy::new().max_count(0), &mut files, 9);
        assert_eq!(deleted, [(3, Form::Raw)]);
        assert_eq!(plan.deleted_backups, 1);
    }
}

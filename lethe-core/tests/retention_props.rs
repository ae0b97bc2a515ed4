//! Property tests of the retention planner.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use lethe_core::civil::{UnixTime, UtcOffset};
use lethe_core::naming::{BackupName, Form};
use lethe_core::retention::{Entry, RetentionPolicy};
use proptest::prelude::*;

/// A directory's recognized files: per sequence, a set of forms, a time and sizes.
fn files() -> impl Strategy<Value = Vec<Entry>> {
    proptest::collection::vec(
        (
            1u64..40,
            0i64..10_000,
            proptest::sample::subsequence(Form::ALL.to_vec(), 1..4),
            0u64..1_000,
        ),
        0..25,
    )
    .prop_map(|groups| {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (sequence, secs, forms, size) in groups {
            if !seen.insert(sequence) {
                continue;
            }
            for (i, form) in forms.into_iter().enumerate() {
                out.push(Entry {
                    name: BackupName {
                        sequence,
                        time: UnixTime::new(secs, 0).unwrap(),
                        offset: UtcOffset::UTC,
                        form,
                    },
                    size: size + i as u64,
                });
            }
        }
        out
    })
}

fn policy() -> impl Strategy<Value = RetentionPolicy> {
    (
        proptest::option::of(0usize..10),
        proptest::option::of(0u64..10_000),
        proptest::option::of(0u64..20_000),
    )
        .prop_map(|(count, age, bytes)| {
            let mut p = RetentionPolicy::new();
            if let Some(n) = count {
                p = p.max_count(n);
            }
            if let Some(a) = age {
                p = p.max_age(Duration::from_secs(a));
            }
            if let Some(b) = bytes {
                p = p.max_total_bytes(b);
            }
            p
        })
}

proptest! {
    #[test]
    fn planner_invariants(mut files in files(), policy in policy(), now in 0i64..12_000) {
        let input: BTreeSet<(u64, Form)> = files.iter().map(|e| (e.name.sequence, e.name.form)).collect();
        let mut deleted = BTreeSet::new();
        let plan = policy.plan(&mut files, UnixTime::new(now, 0).unwrap(), |e| {
            assert!(deleted.insert((e.name.sequence, e.name.form)), "reported twice: {e:?}");
        });
        // Only input files, each at most once.
        prop_assert!(deleted.is_subset(&input));

        let mut groups: BTreeMap<u64, Vec<&Entry>> = BTreeMap::new();
        for e in &files {
            groups.entry(e.name.sequence).or_default().push(e);
        }
        let mut kept = Vec::new(); // newest first
        let mut first_deleted = None;
        for (&seq, group) in groups.iter().rev() {
            let n_deleted = group.iter().filter(|e| deleted.contains(&(seq, e.name.form))).count();
            let is_backup = group.iter().any(|e| e.name.form.is_backup());
            if !is_backup {
                prop_assert_eq!(n_deleted, 0, "orphan companions are never deleted");
                continue;
            }
            // A group is deleted whole or not at all.
            prop_assert!(n_deleted == 0 || n_deleted == group.len(), "group {} split", seq);
            if n_deleted == 0 {
                prop_assert!(first_deleted.is_none(), "kept backup {} is older than a deleted one", seq);
                kept.push(group.clone());
            } else if first_deleted.is_none() {
                first_deleted = Some(group.clone());
            }
        }
        let bytes = |g: &Vec<&Entry>| g.iter().map(|e| e.size).sum::<u64>();
        let kept_bytes: u64 = kept.iter().map(bytes).sum();
        prop_assert_eq!(plan.kept_backups, kept.len());
        prop_assert_eq!(plan.kept_bytes, kept_bytes);
        prop_assert_eq!(plan.deleted_files, deleted.len());
        // Every limit holds for what is kept.
        if let Some(n) = policy.count_limit() {
            prop_assert!(kept.len() <= n);
        }
        if let Some(max) = policy.total_bytes_limit() {
            prop_assert!(kept_bytes <= max);
        }
        if let Some(max) = policy.age_limit() {
            for g in &kept {
                let age = (now - g[0].name.time.secs()).max(0) as u64;
                prop_assert!(age <= max.as_secs());
            }
        }
        // Nothing is deleted needlessly: the newest deleted backup broke a limit.
        if let Some(g) = first_deleted {
            let over_count = policy.count_limit().is_some_and(|n| kept.len() >= n);
            let over_bytes = policy.total_bytes_limit().is_some_and(|m| kept_bytes + bytes(&g) > m);
            let backup = g.iter().find(|e| e.name.form.is_backup()).unwrap();
            let over_age = policy.age_limit().is_some_and(|m| now - backup.name.time.secs() > m.as_secs() as i64);
            prop_assert!(over_count || over_bytes || over_age, "deleted {:?} without cause", g);
        }
        // Without limits nothing goes; with only a count, exactly min(n, backups) stay.
        let backups = groups.values().filter(|g| g.iter().any(|e| e.name.form.is_backup())).count();
        if policy.is_keep_all() {
            prop_assert!(deleted.is_empty());
        }
        if let (Some(n), None, None) = (policy.count_limit(), policy.age_limit(), policy.total_bytes_limit()) {
            prop_assert_eq!(kept.len(), n.min(backups), "count is honoured exactly");
        }
    }
}

//! Property tests of backup naming: round trips, strict recognition, and sort order.

use lethe_core::civil::{UnixTime, UtcOffset};
use lethe_core::naming::{BackupName, Form, MAX_SEQUENCE, Pattern, next_sequence};
use proptest::prelude::*;

fn active_name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_-]{1,20}(\\.[a-z0-9]{1,5}){0,2}"
        .prop_filter("not . or ..", |s| s != "." && s != "..")
}

fn form() -> impl Strategy<Value = Form> {
    proptest::sample::select(Form::ALL.to_vec())
}

fn backup_name() -> impl Strategy<Value = BackupName> {
    (
        1..=MAX_SEQUENCE,
        // Whole seconds well inside the years 1..=9999 at any offset.
        -62_135_596_800i64 + 86_400..=253_402_300_799 - 86_400,
        -(23 * 60 + 59)..=(23 * 60 + 59i32),
        form(),
    )
        .prop_map(|(sequence, secs, offset_minutes, form)| BackupName {
            sequence,
            time: UnixTime::new(secs, 0).unwrap(),
            offset: UtcOffset::from_seconds(offset_minutes * 60).unwrap(),
            form,
        })
}

proptest! {
    #[test]
    fn format_then_parse_gives_the_name_back(active in active_name(), name in backup_name()) {
        let p = Pattern::new(&active).unwrap();
        let text = p.format(&name).unwrap();
        prop_assert_eq!(p.parse(&text), Some(name));
        prop_assert!(text.len() < 255);
    }

    #[test]
    fn whatever_parses_formats_back_to_the_same_bytes(active in active_name(), tail in "[0-9TZ+.a-z-]{0,45}") {
        let p = Pattern::new(&active).unwrap();
        let candidate = format!("{}.{}", p.stem(), tail);
        if let Some(name) = p.parse(&candidate) {
            let again = p.format(&name).unwrap();
            prop_assert_eq!(again.as_str(), candidate.as_str());
        }
    }

    #[test]
    fn the_active_file_and_its_foreign_variants_never_parse(active in active_name(), junk in "[a-z0-9]{1,4}") {
        let p = Pattern::new(&active).unwrap();
        prop_assert_eq!(p.parse(&active), None);
        let bak = format!("{active}.bak");
        let numbered = format!("{active}.1");
        let junk_suffixed = format!("{active}.{junk}");
        prop_assert_eq!(p.parse(&bak), None);
        prop_assert_eq!(p.parse(&numbered), None);
        prop_assert_eq!(p.parse(&junk_suffixed), None);
    }

    #[test]
    fn names_sort_in_sequence_order_whatever_the_times(
        active in active_name(),
        a in backup_name(),
        b in backup_name(),
    ) {
        prop_assume!(a.sequence != b.sequence);
        let p = Pattern::new(&active).unwrap();
        let (fa, fb) = (p.format(&a).unwrap(), p.format(&b).unwrap());
        prop_assert_eq!(fa.as_str() < fb.as_str(), a.sequence < b.sequence);
        prop_assert_ne!(fa.as_str(), fb.as_str());
    }

    #[test]
    fn next_sequence_is_above_every_existing_one(names in proptest::collection::vec(backup_name(), 0..20)) {
        match next_sequence(names.iter().copied()) {
            Ok(next) => prop_assert!(names.iter().all(|n| n.sequence < next) && next >= 1),
            Err(_) => prop_assert!(names.iter().any(|n| n.sequence == MAX_SEQUENCE)),
        }
    }
}

//! Choosing the calendar in force on a date, and checking a set of versions.
//!
//! Doses are always evaluated against one calendar at a time; which one is a
//! question of dates, so validity periods must not overlap.

use super::Calendar;
use bala_core::ValidationErrors;
use std::collections::HashSet;
use time::Date;

/// The calendar in force on `on`. Should a (not validated) set overlap, the one
/// that started last wins, so the answer never depends on list order.
pub fn select(calendars: &[Calendar], on: Date) -> Option<&Calendar> {
    calendars
        .iter()
        .filter(|c| c.is_valid_on(on))
        .max_by(|a, b| {
            a.valid_from
                .cmp(&b.valid_from)
                .then_with(|| b.id.cmp(&a.id))
        })
}

/// Validates each calendar (fields prefixed `calendars[<id>].`) and the set:
/// unique ids, non-overlapping validity periods.
pub fn validate_set(calendars: &[Calendar]) -> ValidationErrors {
    let mut errors = ValidationErrors::new();
    let mut seen = HashSet::new();
    for c in calendars {
        let prefix = format!("calendars[{}]", c.id);
        if !seen.insert(c.id.as_str()) {
            errors.push(
                format!("{prefix}.id"),
                "err-cal-duplicate",
                format!("calendar id '{}' is used twice", c.id),
            );
        }
        for e in c.validate().0 {
            errors.push(format!("{prefix}.{}", e.field), e.code, e.detail);
        }
    }
    check_overlaps(calendars, &mut errors);
    errors
}

fn check_overlaps(calendars: &[Calendar], errors: &mut ValidationErrors) {
    let mut sorted: Vec<&Calendar> = calendars.iter().collect();
    sorted.sort_by(|a, b| {
        a.valid_from
            .cmp(&b.valid_from)
            .then_with(|| a.id.cmp(&b.id))
    });
    for pair in sorted.windows(2) {
        let (earlier, later) = (pair[0], pair[1]);
        let overlaps = earlier.valid_to.is_none_or(|to| to > later.valid_from);
        if overlaps {
            let until = earlier
                .valid_to
                .map_or("with no end date".to_owned(), |d| format!("until {d}"));
            errors.push(
                format!("calendars[{}].valid_from", later.id),
                "err-cal-overlap",
                format!(
                    "'{}' starts on {} while '{}' is still in force ({until}); end the earlier one first",
                    later.id, later.valid_from, earlier.id
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::bundled;
    use time::macros::date;

    #[test]
    fn picks_the_version_in_force() {
        let all = bundled();
        assert_eq!(select(&all, date!(2015 - 06 - 01)).unwrap().id, "kz-2009");
        assert_eq!(select(&all, date!(2020 - 09 - 23)).unwrap().id, "kz-2009");
        assert_eq!(select(&all, date!(2020 - 09 - 24)).unwrap().id, "kz-2020");
        assert_eq!(select(&all, date!(2030 - 01 - 01)).unwrap().id, "kz-2020");
        assert!(select(&all, date!(2000 - 01 - 01)).is_none());
    }

    #[test]
    fn bundled_set_is_consistent() {
        let errors = validate_set(&bundled());
        assert!(errors.is_empty(), "{errors}");
    }

    #[test]
    fn overlap_and_duplicate_ids_are_reported() {
        let mut all = bundled();
        all[0].valid_to = Some(date!(2021 - 01 - 01));
        let errors = validate_set(&all);
        let e = errors
            .for_field("calendars[kz-2020].valid_from")
            .expect("overlap reported");
        assert_eq!(e.code, "err-cal-overlap");
        assert!(e.detail.contains("kz-2009"), "{}", e.detail);

        let mut twice = bundled();
        twice[0].id = "kz-2020".into();
        let errors = validate_set(&twice);
        assert!(errors
            .0
            .iter()
            .any(|e| e.code == "err-cal-duplicate" && e.field == "calendars[kz-2020].id"));
    }

    #[test]
    fn open_ended_earlier_version_overlaps() {
        let mut all = bundled();
        all[0].valid_to = None;
        assert!(!validate_set(&all).is_empty());
        // Selection is still deterministic: the later start wins.
        assert_eq!(select(&all, date!(2022 - 01 - 01)).unwrap().id, "kz-2020");
    }
}

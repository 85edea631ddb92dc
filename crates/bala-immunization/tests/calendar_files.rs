//! The shipped calendar files: they load, validate, say how sure each row is,
//! cite their sources, and survive a TOML round trip.

use bala_immunization::calendar::{bundled, select, KZ_2009_TOML, KZ_2020_TOML};
use bala_immunization::{Calendar, CalendarError, Certainty, Span};
use time::macros::date;

#[test]
fn shipped_calendars_load_and_validate() {
    for text in [KZ_2009_TOML, KZ_2020_TOML] {
        let cal = Calendar::from_toml_str(text).unwrap_or_else(|e| panic!("{e}"));
        assert!(cal.validate().is_empty());
    }
}

#[test]
fn shipped_calendars_round_trip_through_toml() {
    for cal in bundled() {
        let text = cal.to_toml_string().unwrap();
        assert_eq!(Calendar::from_toml_str(&text).unwrap(), cal, "{}", cal.id);
    }
}

#[test]
fn every_row_says_how_sure_it_is_and_where_its_rules_come_from() {
    for cal in bundled() {
        assert!(cal.source.contains("Decree No."), "{}", cal.id);
        assert_ne!(
            cal.status,
            Certainty::Decree,
            "no row was checked against the decree text yet"
        );
        for s in &cal.series {
            for d in &s.doses {
                assert!(
                    !d.rule_source.is_empty() && !d.note.is_empty(),
                    "{}",
                    d.label
                );
                assert_ne!(d.status, Certainty::Decree, "{}", d.label);
            }
        }
    }
}

#[test]
fn the_2020_calendar_matches_the_reference_table() {
    let cal = Calendar::from_toml_str(KZ_2020_TOML).unwrap();
    let rec = |label: &str| {
        cal.series
            .iter()
            .flat_map(|s| &s.doses)
            .find(|d| d.label == label)
            .unwrap_or_else(|| panic!("{label}"))
    };
    assert_eq!(rec("HepB1").recommended_age, Span::ZERO);
    assert_eq!(rec("DTP1").recommended_age, Span::months(2));
    assert_eq!(rec("DTP1").min_age, Span::weeks(6));
    assert_eq!(rec("DTP2").min_interval, Some(Span::weeks(4)));
    assert_eq!(rec("MCV1").recommended_age, Span::months(12));
    assert_eq!(rec("MCV1").min_age, Span::months(9));
    assert_eq!(rec("MCV2").recommended_age, Span::years(6));
    assert_eq!(rec("HPV1").max_age, Some(Span::years(14)));
    assert_eq!(rec("PCV1").status, Certainty::Press);
    assert_eq!(rec("DTP1").status, Certainty::PeerReviewed);
    assert_eq!(rec("HepA1").status, Certainty::Unverified);
    let hexa = cal.product("HEXA").unwrap();
    assert_eq!(hexa.antigens, ["DTP", "Hib", "HepB", "Polio"]);
    assert_eq!(
        cal.product("PENTA").unwrap().antigens,
        ["DTP", "Hib", "Polio"]
    );
    assert_eq!((cal.grace_days, cal.overdue_after), (4, Span::days(28)));
}

#[test]
fn the_2009_calendar_differs_as_documented() {
    let all = bundled();
    let old = select(&all, date!(2015 - 01 - 01)).unwrap();
    assert_eq!(old.status, Certainty::Unverified);
    assert_eq!(
        old.series_for("BCG").unwrap().doses.len(),
        2,
        "BCG revaccination at 6 years"
    );
    assert!(old.product("HEXA").is_none() && old.series_for("PCV").is_none());
    let new = select(&all, date!(2021 - 01 - 01)).unwrap();
    assert_eq!(new.series_for("BCG").unwrap().doses.len(), 1);
}

#[test]
fn bad_files_are_refused_with_reasons() {
    let not_toml = Calendar::from_toml_str("id = ");
    assert!(matches!(not_toml, Err(CalendarError::Parse(_))));
    let bad_span = KZ_2020_TOML.replacen("min_age = \"6w\"", "min_age = \"six weeks\"", 1);
    match Calendar::from_toml_str(&bad_span) {
        Err(CalendarError::Parse(msg)) => assert!(msg.contains("six weeks"), "{msg}"),
        other => panic!("{other:?}"),
    }
    let bad_date = KZ_2020_TOML.replacen(
        "valid_from = \"2020-09-24\"",
        "valid_from = \"24.09.2020\"",
        1,
    );
    assert!(matches!(
        Calendar::from_toml_str(&bad_date),
        Err(CalendarError::Parse(_))
    ));
    let inconsistent = KZ_2020_TOML.replacen(
        "recommended_age = \"2m\"\nmin_age = \"6w\"",
        "recommended_age = \"4w\"\nmin_age = \"6w\"",
        1,
    );
    match Calendar::from_toml_str(&inconsistent) {
        Err(CalendarError::Invalid(errors)) => {
            assert!(
                errors
                    .for_field("series[DTP].doses[1].recommended_age")
                    .is_some(),
                "{errors}"
            )
        }
        other => panic!("{other:?}"),
    }
    // The unchecked reader accepts it, so an editor can show every problem.
    assert!(Calendar::from_toml_str_unchecked(&inconsistent).is_ok());
}

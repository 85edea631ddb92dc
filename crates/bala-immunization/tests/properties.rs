//! Properties of the engine over random children, records and dates, against
//! the shipped 2020 calendar, and of the calendar format itself.

use bala_core::Sex;
use bala_immunization::calendar::KZ_2020_TOML;
use bala_immunization::forecast::{
    evaluate, first_due, forecast, forecast_with, valid_dose_count, AdminFlag, Administration,
    ChildRecord, Contraindication, Detail, Refusal, SeriesStatus,
};
use bala_immunization::{Calendar, Span};
use proptest::prelude::*;
use std::sync::OnceLock;
use time::{Date, Duration};

fn kz() -> &'static Calendar {
    static CAL: OnceLock<Calendar> = OnceLock::new();
    CAL.get_or_init(|| Calendar::from_toml_str(KZ_2020_TOML).unwrap())
}

fn day(offset: i64) -> Date {
    Date::from_calendar_date(2000, time::Month::January, 1).unwrap() + Duration::days(offset)
}

fn product_code() -> impl Strategy<Value = String> {
    let mut codes: Vec<String> = kz().products.iter().map(|p| p.code.clone()).collect();
    codes.push("XYZ".into());
    proptest::sample::select(codes)
}

fn antigen_code() -> impl Strategy<Value = String> {
    proptest::sample::select(
        kz().antigens
            .iter()
            .map(|a| a.code.clone())
            .collect::<Vec<_>>(),
    )
}

fn flag() -> impl Strategy<Value = AdminFlag> {
    prop_oneof![
        8 => Just(AdminFlag::Reported),
        1 => Just(AdminFlag::PartialDose),
        1 => Just(AdminFlag::ColdChainBreach),
        1 => Just(AdminFlag::RecalledLot),
    ]
}

/// A dose at `offset` days after birth (a few before, to exercise that check).
fn administration(birth: Date) -> impl Strategy<Value = Administration> {
    (
        -10i64..6000,
        product_code(),
        proptest::option::weighted(0.2, -40i64..400),
        proptest::collection::vec(flag(), 0..2),
    )
        .prop_map(move |(offset, product, expiry, flags)| {
            let date = birth + Duration::days(offset);
            Administration {
                id: None,
                date,
                product,
                lot_expiry: expiry.map(|e| date + Duration::days(e)),
                flags,
            }
        })
}

fn contraindication(birth: Date) -> impl Strategy<Value = Contraindication> {
    (
        antigen_code(),
        proptest::option::of(0i64..4000),
        proptest::option::of(0i64..4000),
    )
        .prop_map(move |(antigen, since, until)| Contraindication {
            antigen,
            since: since.map(|d| birth + Duration::days(d)),
            until: until.map(|d| birth + Duration::days(d)),
            reason: "test".into(),
        })
}

fn refusal(birth: Date) -> impl Strategy<Value = Refusal> {
    (antigen_code(), 0i64..4000).prop_map(move |(antigen, d)| Refusal {
        antigen,
        date: birth + Duration::days(d),
        reason: String::new(),
    })
}

fn child() -> impl Strategy<Value = ChildRecord> {
    (
        0i64..9000,
        proptest::option::of(prop_oneof![Just(Sex::Female), Just(Sex::Male)]),
    )
        .prop_flat_map(|(b, sex)| {
            let birth = day(b);
            (
                proptest::collection::vec(administration(birth), 0..25),
                proptest::collection::vec(contraindication(birth), 0..2),
                proptest::collection::vec(refusal(birth), 0..2),
            )
                .prop_map(move |(administrations, contraindications, refusals)| {
                    ChildRecord {
                        birth,
                        sex,
                        administrations,
                        contraindications,
                        refusals,
                    }
                })
        })
}

/// A child and an evaluation date within the calendar's childhood range.
fn child_on() -> impl Strategy<Value = (ChildRecord, Date)> {
    child().prop_flat_map(|c| {
        let birth = c.birth;
        (
            Just(c),
            (0i64..7000).prop_map(move |d| birth + Duration::days(d)),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn a_lean_forecast_differs_only_by_its_missing_explanations((c, on) in child_on()) {
        let mut full = forecast(kz(), &c, on);
        let lean = forecast_with(kz(), &c, on, Detail::Lean);
        prop_assert!(full.evaluations.iter().all(|e| !e.explanation.is_empty()));
        prop_assert!(full.series.iter().all(|s| !s.explanation.is_empty()));
        full.evaluations.iter_mut().for_each(|e| e.explanation.clear());
        full.series.iter_mut().for_each(|s| s.explanation.clear());
        prop_assert_eq!(full, lean);
    }

    #[test]
    fn no_dose_is_proposed_before_its_minimum_age((c, on) in child_on()) {
        let f = forecast(kz(), &c, on);
        for s in &f.series {
            let Some(next) = &s.next else { continue };
            let rule = &kz().series_for(&s.antigen).unwrap().doses[next.number as usize - 1];
            prop_assert!(next.earliest >= rule.min_age.add_to(c.birth), "{} {:?}", s.antigen, next);
            prop_assert!(next.earliest <= next.recommended, "{:?}", next);
            prop_assert!(next.recommended < next.overdue_from);
            if matches!(s.status, SeriesStatus::Due | SeriesStatus::Overdue) {
                prop_assert!(on >= next.recommended && on >= next.earliest);
            }
            prop_assert_eq!(next.days_overdue.is_some(), on >= next.overdue_from);
        }
    }

    #[test]
    fn valid_doses_respect_minimum_age_and_interval_within_grace((c, on) in child_on()) {
        let evals = evaluate(kz(), c.birth, &c.administrations, on);
        let grace = Duration::days(i64::from(kz().grace_days));
        for series in &kz().series {
            let valid: Vec<_> = evals.iter().filter(|e| e.is_for(&series.antigen) && e.is_valid()).collect();
            prop_assert!(valid.len() <= series.doses.len());
            for (i, e) in valid.iter().enumerate() {
                let rule = &series.doses[i];
                prop_assert_eq!(e.dose_number, Some(rule.number));
                prop_assert!(e.administration.date >= rule.min_age.add_to(c.birth) - grace);
                prop_assert!(e.administration.date <= on);
                if let (Some(interval), Some(prev)) = (rule.min_interval, i.checked_sub(1).map(|p| valid[p])) {
                    prop_assert!(e.administration.date >= interval.add_to(prev.administration.date) - grace);
                }
            }
        }
    }

    #[test]
    fn a_complete_series_stays_complete((c, on) in child_on(), later in 0i64..4000) {
        let before = forecast(kz(), &c, on);
        let after = forecast(kz(), &c, on + Duration::days(later));
        for (b, a) in before.series.iter().zip(&after.series) {
            if b.status == SeriesStatus::Complete {
                prop_assert_eq!(a.status, SeriesStatus::Complete, "{}", a.antigen);
            }
        }
    }

    #[test]
    fn adding_a_dose_never_decreases_valid_doses((c, on) in child_on(), extra in (0i64..6000, product_code())) {
        let mut more = c.administrations.clone();
        more.push(Administration::new(c.birth + Duration::days(extra.0), extra.1));
        let old = evaluate(kz(), c.birth, &c.administrations, on);
        let new = evaluate(kz(), c.birth, &more, on);
        for a in &kz().antigens {
            prop_assert!(valid_dose_count(&new, &a.code) >= valid_dose_count(&old, &a.code), "{}", a.code);
        }
    }

    #[test]
    fn order_of_records_does_not_matter(
        (c, on) in child_on().prop_flat_map(|(c, on)| {
            let shuffled = Just(c.administrations.clone()).prop_shuffle();
            (Just((c, on)), shuffled)
        }).prop_map(|((c, on), shuffled)| {
            let mut other = c.clone();
            other.administrations = shuffled;
            other.contraindications.reverse();
            other.refusals.reverse();
            ((c, other), on)
        })
    ) {
        let (original, shuffled) = c;
        let a = forecast(kz(), &original, on);
        prop_assert_eq!(&a, &forecast(kz(), &original, on), "deterministic");
        prop_assert_eq!(a, forecast(kz(), &shuffled, on));
    }

    #[test]
    fn nothing_is_listed_before_the_first_due_date((c, on) in child_on(), until in 0i64..400) {
        // From the last recorded dose on, the bound holds for every date and
        // horizon, whatever the contraindications and refusals.
        let last = c.administrations.iter().map(|a| a.date).max().unwrap_or(c.birth).max(c.birth);
        let on = on.max(last);
        let bound = first_due(kz(), &c, &evaluate(kz(), c.birth, &c.administrations, last));
        let horizon = on + Duration::days(until);
        for s in &forecast(kz(), &c, on).series {
            let Some(next) = &s.next else { continue };
            let listed = match s.status {
                SeriesStatus::Due | SeriesStatus::Overdue => true,
                SeriesStatus::NotYetDue => next.recommended <= horizon,
                _ => false,
            };
            if listed {
                let bound = bound.expect("a series is listed, so one is not complete");
                prop_assert!(bound <= next.recommended, "{} {:?} bound {}", s.antigen, next, bound);
                prop_assert!(bound <= horizon);
            }
        }
    }

    #[test]
    fn span_text_round_trips(years in 0u16..120, months in 0u16..24, weeks in 0u16..60, days in 0u16..400) {
        let s = Span { years, months, weeks, days };
        prop_assert_eq!(s.to_string().parse::<Span>().unwrap(), s);
    }

    #[test]
    fn adding_a_span_is_monotone(a in 0i64..20000, gap in 0i64..400, years in 0u16..20, months in 0u16..30, days in 0u16..60) {
        let s = Span { years, months, weeks: 0, days };
        let (d1, d2) = (day(a), day(a + gap));
        prop_assert!(s.add_to(d1) <= s.add_to(d2));
        prop_assert!(s.add_to(d1) >= d1);
    }

    #[test]
    fn edited_calendars_round_trip_through_toml(
        text in "\\PC{0,40}",
        note in "[a-z\"'\\\\\n ]{0,30}",
        age in (0u16..20, 0u16..24, 0u16..10, 0u16..40),
        pick in 0usize..10,
    ) {
        let mut cal = kz().clone();
        cal.name.kk = text.clone();
        cal.status_note = note.clone();
        let n = cal.products.len();
        cal.products[pick % n].note = note;
        let series = &mut cal.series[pick % 10];
        series.doses[0].recommended_age = Span { years: age.0, months: age.1, weeks: age.2, days: age.3 };
        series.doses[0].label = text;
        let toml = cal.to_toml_string().unwrap();
        prop_assert_eq!(Calendar::from_toml_str_unchecked(&toml).unwrap(), cal);
    }
}

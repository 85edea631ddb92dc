//! Hand-checked cases against the shipped Kazakhstan 2020 calendar. Every date
//! asserted here was worked out on paper from the calendar file: minimum ages and
//! intervals, the 4-day grace period and the 28-day overdue threshold.

use bala_core::Sex;
use bala_immunization::calendar::KZ_2020_TOML;
use bala_immunization::forecast::{
    evaluate, forecast, valid_dose_count, AdminFlag, Administration, ChildRecord, Contraindication,
    DateRule, Forecast, InvalidReason, Outcome, Refusal, SeriesForecast, SeriesStatus,
};
use bala_immunization::{Calendar, Span};
use time::macros::date;
use time::Date;

fn kz() -> Calendar {
    Calendar::from_toml_str(KZ_2020_TOML).unwrap()
}

fn child(birth: Date, doses: &[(Date, &str)]) -> ChildRecord {
    let mut c = ChildRecord::new(birth, None);
    c.administrations = doses
        .iter()
        .map(|(d, p)| Administration::new(*d, *p))
        .collect();
    c
}

fn series<'a>(f: &'a Forecast, antigen: &str) -> &'a SeriesForecast {
    f.series(antigen)
        .unwrap_or_else(|| panic!("no {antigen} series"))
}

fn outcome(f: &Forecast, antigen: &str, given: Date) -> Outcome {
    f.evaluations
        .iter()
        .find(|e| e.is_for(antigen) && e.administration.date == given)
        .unwrap_or_else(|| panic!("no {antigen} evaluation on {given}"))
        .outcome
}

#[test]
fn child_on_schedule() {
    let birth = date!(2024 - 01 - 15);
    let c = child(
        birth,
        &[
            (date!(2024 - 01 - 15), "HepB"),
            (date!(2024 - 01 - 16), "BCG"),
            (date!(2024 - 03 - 15), "HEXA"),
            (date!(2024 - 03 - 15), "PCV13"),
            (date!(2024 - 04 - 15), "PENTA"),
            (date!(2024 - 05 - 15), "HEXA"),
            (date!(2024 - 05 - 15), "PCV13"),
        ],
    );
    let f = forecast(&kz(), &c, date!(2024 - 06 - 01));
    assert!(
        f.evaluations.iter().all(|e| e.is_valid()),
        "{:#?}",
        f.evaluations
    );

    assert_eq!(series(&f, "BCG").status, SeriesStatus::Complete);
    assert_eq!(
        series(&f, "HepB").status,
        SeriesStatus::Complete,
        "birth dose + two hexavalent doses"
    );

    let dtp = series(&f, "DTP");
    assert_eq!(
        (dtp.status, dtp.valid_doses, dtp.total_doses),
        (SeriesStatus::NotYetDue, 3, 5)
    );
    let next = dtp.next.as_ref().unwrap();
    assert_eq!(next.label, "DTP4");
    // 12 months (2025-01-15) is later than DTP3 + 6 months (2024-11-15).
    assert_eq!(next.earliest, date!(2025 - 01 - 15));
    assert_eq!(
        next.earliest_rule,
        DateRule::MinimumAge {
            age: Span::months(12)
        }
    );
    assert_eq!(next.recommended, date!(2025 - 07 - 15));
    assert_eq!(next.overdue_from, date!(2025 - 08 - 12));
    assert_eq!(next.latest, Some(date!(2031 - 01 - 14)));

    let polio = series(&f, "Polio").next.as_ref().unwrap();
    // Pol3 on 2024-05-15 + 4 weeks = 2024-06-12, later than 18 weeks of age (2024-05-20).
    assert_eq!(polio.earliest, date!(2024 - 06 - 12));
    assert_eq!(polio.recommended, date!(2025 - 01 - 15));

    let pcv = series(&f, "PCV").next.as_ref().unwrap();
    // 9 months (2024-10-15) is later than PCV2 + 8 weeks (2024-07-10).
    assert_eq!(
        (pcv.label.as_str(), pcv.earliest),
        ("PCV3", date!(2024 - 10 - 15))
    );
    assert_eq!(
        series(&f, "HPV").status,
        SeriesStatus::NotApplicable,
        "HPV only from 2024-09-01"
    );
}

#[test]
fn late_starter_gets_catch_up_dates() {
    let birth = date!(2023 - 01 - 10);
    let f = forecast(&kz(), &child(birth, &[]), date!(2023 - 09 - 01));
    let dtp = series(&f, "DTP");
    assert_eq!(dtp.status, SeriesStatus::Overdue);
    let next = dtp.next.as_ref().unwrap();
    assert_eq!(next.earliest, date!(2023 - 02 - 21)); // 6 weeks
    assert_eq!(next.recommended, date!(2023 - 03 - 10)); // 2 months
    assert_eq!(next.overdue_from, date!(2023 - 04 - 07)); // + 28 days
    assert_eq!(next.days_overdue, Some(148));
    assert!(
        dtp.explanation.contains("is overdue by 148 days"),
        "{}",
        dtp.explanation
    );

    // First hexavalent at 7.7 months: DTP2 is scheduled at 3 months (2023-04-10),
    // long past, so it is recommended at the earliest allowed date instead.
    let c = child(birth, &[(date!(2023 - 09 - 01), "HEXA")]);
    let f = forecast(&kz(), &c, date!(2023 - 09 - 02));
    let dtp = series(&f, "DTP");
    let next = dtp.next.as_ref().unwrap();
    assert_eq!(next.earliest, date!(2023 - 09 - 29));
    assert_eq!(
        next.earliest_rule,
        DateRule::MinimumInterval {
            interval: Span::weeks(4),
            after: "DTP1".into(),
            previous: date!(2023 - 09 - 01)
        }
    );
    assert_eq!(next.recommended, date!(2023 - 09 - 29));
    assert_eq!(
        next.recommended_rule,
        DateRule::CatchUp {
            age: Span::months(3),
            scheduled: date!(2023 - 04 - 10)
        }
    );
    assert_eq!(dtp.status, SeriesStatus::NotYetDue);
    assert!(
        dtp.explanation
            .contains("earliest 2023-09-29 (minimum interval of 4 weeks after DTP1 on 2023-09-01)"),
        "{}",
        dtp.explanation
    );

    let due = forecast(&kz(), &c, date!(2023 - 09 - 29));
    assert_eq!(series(&due, "DTP").status, SeriesStatus::Due);
    let last_due_day = forecast(&kz(), &c, date!(2023 - 10 - 26));
    assert_eq!(series(&last_due_day, "DTP").status, SeriesStatus::Due);
    let overdue = forecast(&kz(), &c, date!(2023 - 10 - 27));
    assert_eq!(series(&overdue, "DTP").status, SeriesStatus::Overdue);
    assert_eq!(
        series(&overdue, "DTP").next.as_ref().unwrap().days_overdue,
        Some(1)
    );
}

#[test]
fn grace_period_five_days_early_is_invalid_three_days_is_valid() {
    let birth = date!(2024 - 01 - 01); // 6 weeks = 2024-02-12
    let on = date!(2024 - 06 - 01);
    let early = forecast(&kz(), &child(birth, &[(date!(2024 - 02 - 07), "DTaP")]), on);
    assert_eq!(
        outcome(&early, "DTP", date!(2024 - 02 - 07)),
        Outcome::Invalid(InvalidReason::TooEarlyAge)
    );
    let e = &early.evaluations[0];
    assert!(
        e.explanation
            .contains("5 days before 2024-02-12 (minimum age of 6 weeks)"),
        "{}",
        e.explanation
    );
    assert!(
        e.explanation.contains("accepts doses from 2024-02-08"),
        "{}",
        e.explanation
    );
    assert_eq!(series(&early, "DTP").valid_doses, 0);

    let ok = forecast(&kz(), &child(birth, &[(date!(2024 - 02 - 09), "DTaP")]), on);
    let e = &ok.evaluations[0];
    assert!(e.is_valid() && e.grace_applied);
    assert_eq!(e.label.as_deref(), Some("DTP1"));
    assert!(
        e.explanation.contains("grace period") && e.explanation.contains("3 days before"),
        "{}",
        e.explanation
    );
    // DTP2: 10 weeks of age (2024-03-11) is later than DTP1 + 4 weeks (2024-03-08).
    let next = series(&ok, "DTP").next.clone().unwrap();
    assert_eq!(next.earliest, date!(2024 - 03 - 11));
    assert_eq!(
        next.earliest_rule,
        DateRule::MinimumAge {
            age: Span::weeks(10)
        }
    );

    // Exactly at the edge: 4 days early counts.
    let edge = forecast(&kz(), &child(birth, &[(date!(2024 - 02 - 08), "DTaP")]), on);
    assert!(edge.evaluations[0].is_valid());
}

#[test]
fn too_short_interval_does_not_count_and_is_not_the_reference() {
    let birth = date!(2024 - 01 - 01);
    let c = child(
        birth,
        &[
            (date!(2024 - 03 - 01), "DTaP"), // DTP1
            (date!(2024 - 03 - 20), "DTaP"), // 19 days: invalid
            (date!(2024 - 03 - 26), "DTaP"), // 25 days after DTP1: valid by grace
        ],
    );
    let f = forecast(&kz(), &c, date!(2024 - 04 - 01));
    assert_eq!(
        outcome(&f, "DTP", date!(2024 - 03 - 20)),
        Outcome::Invalid(InvalidReason::TooShortInterval)
    );
    let short = f
        .evaluations
        .iter()
        .find(|e| e.administration.date == date!(2024 - 03 - 20))
        .unwrap();
    assert!(
        short
            .explanation
            .contains("minimum interval of 4 weeks after DTP1 on 2024-03-01"),
        "{}",
        short.explanation
    );
    // Measured from DTP1 (the invalid dose is ignored): 2024-03-29 - 4 = 2024-03-25.
    let third = f
        .evaluations
        .iter()
        .find(|e| e.administration.date == date!(2024 - 03 - 26))
        .unwrap();
    assert!(third.is_valid() && third.grace_applied);
    assert_eq!(third.label.as_deref(), Some("DTP2"));
    assert_eq!(valid_dose_count(&f.evaluations, "DTP"), 2);
}

#[test]
fn expired_lot_is_invalid_for_every_antigen_of_the_product() {
    let birth = date!(2024 - 01 - 01);
    let mut expired = Administration::new(date!(2024 - 03 - 15), "HEXA");
    expired.lot_expiry = Some(date!(2024 - 03 - 14));
    let evals = evaluate(&kz(), birth, &[expired], date!(2024 - 04 - 01));
    assert_eq!(evals.len(), 4);
    assert!(evals
        .iter()
        .all(|e| e.outcome == Outcome::Invalid(InvalidReason::ExpiredLot)));
    assert!(
        evals[0].explanation.contains("expired on 2024-03-14"),
        "{}",
        evals[0].explanation
    );

    let mut last_day = Administration::new(date!(2024 - 03 - 15), "HEXA");
    last_day.lot_expiry = Some(date!(2024 - 03 - 15));
    let evals = evaluate(&kz(), birth, &[last_day], date!(2024 - 04 - 01));
    assert!(
        evals.iter().all(|e| e.is_valid()),
        "a lot is usable on its expiry date"
    );
}

#[test]
fn hexavalent_counts_for_dtp_hib_hepb_and_polio_at_once() {
    let birth = date!(2024 - 01 - 01);
    let c = child(birth, &[(birth, "HepB"), (date!(2024 - 03 - 01), "HEXA")]);
    let f = forecast(&kz(), &c, date!(2024 - 03 - 02));
    let hexa: Vec<_> = f
        .evaluations
        .iter()
        .filter(|e| e.administration.product == "HEXA")
        .collect();
    let labels: Vec<_> = hexa.iter().map(|e| e.label.as_deref().unwrap()).collect();
    assert_eq!(labels, ["DTP1", "Hib1", "HepB2", "Pol1"]);
    assert!(hexa.iter().all(|e| e.is_valid()));
    for antigen in ["DTP", "Hib", "Polio"] {
        assert_eq!(valid_dose_count(&f.evaluations, antigen), 1, "{antigen}");
    }
    assert_eq!(valid_dose_count(&f.evaluations, "HepB"), 2);
    assert_eq!(valid_dose_count(&f.evaluations, "PCV"), 0);
}

#[test]
fn permanent_and_temporary_contraindications() {
    let birth = date!(2024 - 01 - 01);
    let mut c = child(birth, &[]);
    c.contraindications.push(Contraindication {
        antigen: "DTP".into(),
        since: None,
        until: None,
        reason: "encephalopathy after a previous dose".into(),
    });
    c.contraindications.push(Contraindication {
        antigen: "MMR".into(),
        since: Some(date!(2024 - 12 - 20)),
        until: Some(date!(2025 - 02 - 28)),
        reason: "immunosuppressive treatment".into(),
    });
    let f = forecast(&kz(), &c, date!(2025 - 01 - 10));
    let dtp = series(&f, "DTP");
    assert_eq!(dtp.status, SeriesStatus::Contraindicated);
    assert!(
        dtp.explanation
            .contains("permanent contraindication (encephalopathy"),
        "{}",
        dtp.explanation
    );

    let mmr = series(&f, "MMR");
    assert_eq!(mmr.status, SeriesStatus::Contraindicated);
    let next = mmr.next.as_ref().unwrap();
    assert_eq!(next.earliest, date!(2025 - 03 - 01));
    assert_eq!(
        next.earliest_rule,
        DateRule::ContraindicationEnds {
            until: date!(2025 - 02 - 28)
        }
    );
    assert!(next.recommended >= next.earliest);

    // Once it has ended the series is scheduled normally again.
    let after = forecast(&kz(), &c, date!(2025 - 03 - 01));
    assert_eq!(series(&after, "MMR").status, SeriesStatus::Overdue);
    assert_eq!(
        series(&after, "MMR").next.as_ref().unwrap().earliest,
        date!(2024 - 10 - 01)
    );
    // Before it was recorded it did not apply.
    let before = forecast(&kz(), &c, date!(2024 - 12 - 19));
    assert_eq!(series(&before, "MMR").status, SeriesStatus::NotYetDue);
}

#[test]
fn refusal_holds_until_a_later_dose() {
    let birth = date!(2023 - 01 - 01);
    let mut c = child(birth, &[]);
    c.refusals.push(Refusal {
        antigen: "MMR".into(),
        date: date!(2024 - 01 - 15),
        reason: String::new(),
    });
    let f = forecast(&kz(), &c, date!(2024 - 02 - 01));
    assert_eq!(series(&f, "MMR").status, SeriesStatus::Refused);
    assert!(series(&f, "MMR")
        .explanation
        .contains("refused on 2024-01-15"));
    // Not yet refused on an earlier date.
    let f = forecast(&kz(), &c, date!(2024 - 01 - 14));
    assert_eq!(series(&f, "MMR").status, SeriesStatus::Due);

    c.administrations
        .push(Administration::new(date!(2024 - 03 - 01), "MMR"));
    let f = forecast(&kz(), &c, date!(2024 - 03 - 02));
    assert_eq!(
        series(&f, "MMR").status,
        SeriesStatus::NotYetDue,
        "MCV1 given: the family changed its mind"
    );
}

#[test]
fn aged_out_series_and_doses_after_the_maximum_age() {
    let birth = date!(2018 - 01 - 01);
    let c = child(birth, &[(date!(2023 - 06 - 01), "PCV13")]);
    let f = forecast(&kz(), &c, date!(2024 - 01 - 01));
    assert_eq!(
        outcome(&f, "PCV", date!(2023 - 06 - 01)),
        Outcome::Invalid(InvalidReason::AfterMaxAge)
    );
    let pcv = series(&f, "PCV");
    assert_eq!(pcv.status, SeriesStatus::AgedOut);
    assert!(pcv.next.is_none());
    assert!(
        pcv.explanation.contains("last possible day 2022-12-31"),
        "{}",
        pcv.explanation
    );
    assert_eq!(series(&f, "Hib").status, SeriesStatus::AgedOut);
    assert_eq!(
        series(&f, "DTP").status,
        SeriesStatus::Overdue,
        "DTaP until 7 years"
    );
    let at_seven = forecast(&kz(), &c, date!(2025 - 01 - 01));
    assert_eq!(series(&at_seven, "DTP").status, SeriesStatus::AgedOut);
}

#[test]
fn aged_out_when_the_earliest_date_is_past_the_maximum_age() {
    // DTP1 at 6y11m: DTP2 could only come 4 weeks later, after the 7th birthday.
    let birth = date!(2017 - 01 - 01);
    let c = child(birth, &[(date!(2023 - 12 - 15), "DTaP")]);
    let f = forecast(&kz(), &c, date!(2023 - 12 - 20));
    let dtp = series(&f, "DTP");
    assert_eq!(dtp.status, SeriesStatus::AgedOut);
    assert!(
        dtp.explanation
            .contains("cannot be given before the age of 7 years"),
        "{}",
        dtp.explanation
    );
}

#[test]
fn hpv_is_for_girls_from_its_introduction() {
    let girl = |birth| ChildRecord::new(birth, Some(Sex::Female));
    let f = forecast(
        &kz(),
        &ChildRecord::new(date!(2012 - 03 - 01), Some(Sex::Male)),
        date!(2024 - 10 - 01),
    );
    assert_eq!(series(&f, "HPV").status, SeriesStatus::NotApplicable);

    // Turned 11 in 2023, before HPV was introduced: expected from the introduction, not overdue since 2023.
    let f = forecast(&kz(), &girl(date!(2012 - 03 - 01)), date!(2024 - 10 - 01));
    let hpv = series(&f, "HPV");
    let next = hpv.next.as_ref().unwrap();
    assert_eq!(next.recommended, date!(2024 - 09 - 01));
    assert_eq!(
        next.recommended_rule,
        DateRule::Introduced {
            on: date!(2024 - 09 - 01)
        }
    );
    assert_eq!(
        (hpv.status, next.days_overdue),
        (SeriesStatus::Overdue, Some(3))
    );

    // Already 14 in 2024: past the catch-up age.
    let f = forecast(&kz(), &girl(date!(2010 - 01 - 01)), date!(2024 - 10 - 01));
    assert_eq!(series(&f, "HPV").status, SeriesStatus::AgedOut);
}

#[test]
fn record_problems() {
    let birth = date!(2024 - 01 - 01);
    let mut partial = Administration::new(date!(2024 - 03 - 01), "PCV13");
    partial.flags = vec![AdminFlag::PartialDose];
    let mut reported = Administration::new(date!(2024 - 01 - 02), "BCG");
    reported.flags = vec![AdminFlag::Reported];
    let admins = [
        Administration::new(date!(2023 - 12 - 30), "HepB"),
        Administration::new(date!(2024 - 09 - 01), "MMR"),
        Administration::new(date!(2024 - 03 - 01), "XYZ"),
        Administration::new(date!(2024 - 03 - 05), "BCG"),
        partial,
        reported,
    ];
    let evals = evaluate(&kz(), birth, &admins, date!(2024 - 06 - 01));
    let reason = |product: &str| {
        evals
            .iter()
            .find(|e| e.administration.product == product)
            .map(|e| e.outcome)
    };
    let by_date = |d: Date| evals.iter().find(|e| e.administration.date == d).unwrap();
    assert_eq!(
        by_date(date!(2023 - 12 - 30)).outcome,
        Outcome::Invalid(InvalidReason::BeforeBirth)
    );
    assert_eq!(
        by_date(date!(2024 - 09 - 01)).outcome,
        Outcome::Invalid(InvalidReason::AfterEvaluationDate)
    );
    assert_eq!(
        reason("XYZ"),
        Some(Outcome::Invalid(InvalidReason::UnknownProduct))
    );
    assert_eq!(
        evals
            .iter()
            .find(|e| e.administration.product == "XYZ")
            .unwrap()
            .antigen,
        None
    );
    assert_eq!(
        reason("PCV13"),
        Some(Outcome::Invalid(InvalidReason::Flagged(
            AdminFlag::PartialDose
        )))
    );
    assert!(
        by_date(date!(2024 - 01 - 02)).is_valid(),
        "a reported dose counts"
    );
    let extra = by_date(date!(2024 - 03 - 05));
    assert_eq!(extra.outcome, Outcome::Invalid(InvalidReason::ExtraDose));
    assert!(extra.explanation.contains("already complete"));
}

#[test]
fn results_serialise_for_the_api() {
    let birth = date!(2024 - 01 - 01);
    let f = forecast(
        &kz(),
        &child(birth, &[(date!(2024 - 02 - 07), "DTaP")]),
        date!(2024 - 03 - 01),
    );
    let json = serde_json::to_value(&f).unwrap();
    assert_eq!(json["on"], "2024-03-01");
    assert_eq!(json["evaluations"][0]["outcome"]["outcome"], "invalid");
    assert_eq!(
        json["evaluations"][0]["outcome"]["detail"]["reason"],
        "too-early-age"
    );
    let back: Forecast = serde_json::from_value(json).unwrap();
    assert_eq!(back, f);
    assert_eq!(
        InvalidReason::Flagged(AdminFlag::ColdChainBreach).code(),
        "cold-chain-breach"
    );
}

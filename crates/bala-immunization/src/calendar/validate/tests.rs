use crate::calendar::{Calendar, Series, KZ_2020_TOML};
use crate::span::Span;
use time::macros::date;

fn kz() -> Calendar {
    Calendar::from_toml_str(KZ_2020_TOML).expect("bundled calendar is valid")
}

fn series_mut<'a>(c: &'a mut Calendar, antigen: &str) -> &'a mut Series {
    c.series
        .iter_mut()
        .find(|s| s.antigen == antigen)
        .expect("series exists")
}

/// Asserts that `field` is reported with `code` and returns its message.
fn error_for(c: &Calendar, field: &str, code: &str) -> String {
    let errors = c.validate();
    let e = errors
        .for_field(field)
        .unwrap_or_else(|| panic!("no error for {field}; got: {errors}"));
    assert_eq!(e.code, code, "{e}");
    e.detail.clone()
}

#[test]
fn bundled_calendar_is_clean() {
    assert!(kz().validate().is_empty());
}

#[test]
fn recommended_age_below_minimum_age() {
    let mut c = kz();
    series_mut(&mut c, "DTP").doses[0].recommended_age = Span::weeks(4);
    let detail = error_for(
        &c,
        "series[DTP].doses[1].recommended_age",
        "err-cal-min-above-recommended",
    );
    assert!(
        detail.contains("DTP1") && detail.contains("6 weeks"),
        "{detail}"
    );
}

#[test]
fn doses_out_of_order() {
    let mut c = kz();
    series_mut(&mut c, "DTP").doses.swap(1, 2);
    error_for(&c, "series[DTP].doses[2].number", "err-cal-dose-number");
    error_for(&c, "series[DTP].doses[3].recommended_age", "err-cal-order");
}

#[test]
fn minimum_age_must_not_decrease() {
    let mut c = kz();
    series_mut(&mut c, "Hib").doses[3].min_age = Span::weeks(8);
    error_for(&c, "series[Hib].doses[4].min_age", "err-cal-order");
}

#[test]
fn schedule_breaking_its_own_interval() {
    let mut c = kz();
    series_mut(&mut c, "DTP").doses[1].min_interval = Some(Span::weeks(6));
    let detail = error_for(&c, "series[DTP].doses[2].min_interval", "err-cal-interval");
    assert!(
        detail.contains("DTP1") && detail.contains("DTP2"),
        "{detail}"
    );
}

#[test]
fn thirty_days_after_two_months_is_not_always_before_three_months() {
    // 30 days is longer than February: caught only because every birth date is tried.
    let mut c = kz();
    series_mut(&mut c, "DTP").doses[1].min_interval = Some(Span::days(30));
    error_for(&c, "series[DTP].doses[2].min_interval", "err-cal-interval");
}

#[test]
fn interval_presence() {
    let mut c = kz();
    series_mut(&mut c, "DTP").doses[0].min_interval = Some(Span::weeks(4));
    series_mut(&mut c, "DTP").doses[1].min_interval = None;
    series_mut(&mut c, "Hib").doses[1].min_interval = Some(Span::ZERO);
    error_for(
        &c,
        "series[DTP].doses[1].min_interval",
        "err-cal-first-interval",
    );
    error_for(&c, "series[DTP].doses[2].min_interval", "err-cal-required");
    error_for(&c, "series[Hib].doses[2].min_interval", "err-cal-interval");
}

#[test]
fn max_age_must_leave_room_for_the_dose() {
    let mut c = kz();
    series_mut(&mut c, "PCV").doses[2].max_age = Some(Span::months(12));
    error_for(&c, "series[PCV].doses[3].max_age", "err-cal-max-age");
}

#[test]
fn unknown_antigen_in_a_product() {
    let mut c = kz();
    let hexa = c.products.iter_mut().find(|p| p.code == "HEXA").unwrap();
    hexa.antigens.push("Rota".into());
    hexa.antigens.push("DTP".into());
    let detail = error_for(&c, "products[HEXA].antigens[5]", "err-cal-unknown-antigen");
    assert!(detail.contains("Rota"), "{detail}");
    error_for(&c, "products[HEXA].antigens[6]", "err-cal-duplicate");
}

#[test]
fn duplicate_codes_and_labels() {
    let mut c = kz();
    let copy = c.products[0].clone();
    c.products.push(copy);
    let first_antigen = c.antigens[0].clone();
    c.antigens.push(first_antigen);
    series_mut(&mut c, "Hib").doses[0].label = "DTP1".into();
    let detail = error_for(&c, "products[HEXA].code", "err-cal-duplicate");
    assert!(detail.contains("entries 1 and"), "{detail}");
    error_for(&c, "antigens[BCG].code", "err-cal-duplicate");
    let detail = error_for(&c, "series[Hib].doses[1].label", "err-cal-duplicate");
    assert!(detail.contains("series[DTP].doses[1].label"), "{detail}");
}

#[test]
fn series_problems() {
    let mut c = kz();
    let mut extra = c.series[0].clone();
    c.series.push(extra.clone());
    extra.antigen = "Rota".into();
    c.series.push(extra);
    let dtp = series_mut(&mut c, "DTP");
    dtp.doses.clear();
    error_for(&c, "series[DTP].doses", "err-cal-empty");
    error_for(&c, "series[Rota].antigen", "err-cal-unknown-antigen");
    assert!(c
        .validate()
        .0
        .iter()
        .any(|e| e.field == "series[BCG].antigen" && e.code == "err-cal-duplicate"));
}

#[test]
fn antigen_without_series() {
    let mut c = kz();
    c.series.retain(|s| s.antigen != "HepA");
    let detail = error_for(&c, "antigens[HepA]", "err-cal-no-series");
    assert!(detail.contains("HepA"), "{detail}");
}

#[test]
fn header_problems() {
    let mut c = kz();
    c.id = "KZ 2020".into();
    c.name.kk = " ".into();
    c.source.clear();
    c.valid_to = Some(date!(2020 - 01 - 01));
    c.grace_days = 10;
    c.overdue_after = Span::ZERO;
    error_for(&c, "id", "err-cal-code-format");
    error_for(&c, "name.kk", "err-cal-required");
    error_for(&c, "source", "err-cal-required");
    error_for(&c, "valid_to", "err-cal-validity");
    error_for(&c, "grace_days", "err-cal-grace");
    error_for(&c, "overdue_after", "err-cal-required");
}

#[test]
fn empty_codes_are_pointed_at_by_position() {
    let mut c = kz();
    c.products[2].code.clear();
    c.antigens.clear();
    error_for(&c, "products[#3].code", "err-cal-required");
    error_for(&c, "antigens", "err-cal-empty");
}

#[test]
fn introduced_after_the_calendar_ends() {
    let mut c = kz();
    c.valid_to = Some(date!(2024 - 01 - 01));
    error_for(&c, "series[HPV].introduced", "err-cal-introduced");
}

#[test]
fn absurd_spans_and_missing_sources() {
    let mut c = kz();
    series_mut(&mut c, "Td").doses[0].recommended_age = Span::years(200);
    series_mut(&mut c, "Td").doses[0].rule_source.clear();
    error_for(&c, "series[Td].doses[1].recommended_age", "err-cal-span");
    error_for(&c, "series[Td].doses[1].rule_source", "err-cal-required");
}

#[test]
fn all_problems_are_reported_at_once() {
    let mut c = kz();
    c.source.clear();
    series_mut(&mut c, "DTP").doses[0].recommended_age = Span::weeks(4);
    c.products[0].antigens.push("Rota".into());
    assert!(c.validate().0.len() >= 3);
}

//! The bodies of the fuzz targets: each feeds bytes to one parser and checks what
//! must hold whatever the input — no panic, every accepted observation valid, every
//! rejected row with a reason, and accepted observations written back out read in
//! again as the same observations (the round trip).
//!
//! The FHIR importer (`fhir_import`) and the immunization register tables
//! (`imm_table`, CSV and Excel) are held to the same rules: no panic, every
//! problem located and explained, what is accepted well-formed, and accepted
//! doses exported and read again as the same doses.
//!
//! `cargo +nightly fuzz run <target>` runs them under libFuzzer; `cargo test` (on
//! stable) runs them on random, format-shaped and mutated real inputs with proptest.

use bala_indicators::exchange::{adx, dhis2, sdmx_csv, sdmx_json, tidy_csv, xlsx, CodeKind, CodeMap, FormatError, Import};
use bala_indicators::meta::{parse_indicator_config, parse_indicator_meta, parse_translations};
use bala_indicators::model::{parse_dims, Period};

/// The code map the DHIS2 and ADX targets read with.
pub fn map() -> CodeMap {
    CodeMap::new("fuzz")
        .with(CodeKind::Indicator, "x", "X")
        .and_then(|m| m.with(CodeKind::Area, "1", "KZAKM"))
        .and_then(|m| m.with(CodeKind::Disaggregation, "c", "SEX=F"))
        .and_then(|m| m.with(CodeKind::Disaggregation, "Sex=F", "SEX=F"))
        .expect("a valid map")
}

fn check(result: Result<Import, FormatError>) -> Option<Import> {
    let i = result.ok()?;
    for o in &i.observations {
        assert!(o.validate().is_ok(), "accepted an invalid observation: {o:?}");
    }
    for r in &i.rejected {
        assert!(!r.errors.is_empty(), "a rejection without a reason at row {}", r.row);
    }
    assert_eq!(i.positions.len(), i.observations.len());
    Some(i)
}

pub fn tidy_csv(data: &[u8]) {
    if let Some(i) = check(tidy_csv::parse("X", None, data)) {
        if let Ok(text) = tidy_csv::write(&i.observations) {
            let back = tidy_csv::parse("X", None, text.as_bytes()).expect("what Bala writes reads back");
            assert_eq!(back.observations, i.observations, "tidy CSV round trip");
        }
    }
}

pub fn sdmx_csv(data: &[u8]) {
    if let Some(i) = check(sdmx_csv::parse(data, Some("X"))) {
        if let Ok(text) = sdmx_csv::write(&i.observations, "FUZZ") {
            let back = sdmx_csv::parse(text.as_bytes(), None).expect("what Bala writes reads back");
            assert_eq!(back.observations, i.observations, "SDMX-CSV round trip");
        }
    }
}

pub fn sdmx_json(data: &[u8]) {
    if let Some(i) = check(sdmx_json::parse(data, Some("X"))) {
        if let Ok(text) = sdmx_json::write(&i.observations, "FUZZ") {
            let back = sdmx_json::parse(text.as_bytes(), None).expect("what Bala writes reads back");
            assert_eq!(back.observations.len(), i.observations.len(), "SDMX-JSON round trip");
        }
    }
}

pub fn dhis2_json(data: &[u8]) {
    check(dhis2::parse(data, &map()));
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = dhis2::parse_period(text);
    }
}

pub fn adx(data: &[u8]) {
    check(adx::parse(data, &map()));
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = adx::parse_period(text);
    }
}

pub fn xlsx(data: &[u8]) {
    if let Some(i) = check(xlsx::parse(data, Some("X"))) {
        if let Ok(bytes) = xlsx::write(&i.observations, None) {
            let back = xlsx::parse(&bytes, None).expect("what Bala writes reads back");
            assert_eq!(back.observations, i.observations, "Excel round trip");
        }
    }
}

pub fn metadata(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = parse_translations(&text);
    let _ = parse_indicator_config(&text);
    let _ = parse_indicator_meta(&text);
    if let Ok(p) = Period::parse(&text) {
        assert_eq!(Period::parse(&p.to_string()), Ok(p));
    }
    if let Ok(d) = parse_dims(&text) {
        assert_eq!(parse_dims(&bala_indicators::model::format_dims(&d)), Ok(d));
    }
}

pub fn fhir_import(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let table = bala_fhir::CodeTable::defaults();
    let parsed = bala_fhir::parse(&text, &table);
    for p in parsed.problems.iter().chain(&parsed.ignored) {
        assert!(!p.location.is_empty() && !p.message.is_empty(), "an unexplained problem: {p:?}");
    }
    for (loc, d) in &parsed.doses {
        assert!(!loc.is_empty());
        assert!(!d.id.is_empty(), "a dose without an id at {loc}");
        assert!(
            table.rows.iter().any(|m| m.product == d.product),
            "a dose of an unmapped product at {loc}: {}",
            d.product
        );
        let back = bala_fhir::parse(&bala_fhir::immunization(d, &table).to_string(), &table);
        assert_eq!(back.doses.len(), 1, "an accepted dose written out does not read back: {back:?}");
        assert_eq!(&back.doses[0].1, d, "Immunization round trip");
    }
    for (loc, r) in &parsed.refusals {
        assert!(!r.id.is_empty() && !r.patient_id.is_empty(), "a refusal without ids at {loc}");
        assert!(r.antigen.is_some() || r.product.is_some(), "a refusal of nothing at {loc}");
        let Some(antigen) = &r.antigen else { continue };
        let out = bala_fhir::refusal(&bala_fhir::RefusalRecord {
            patient_id: r.patient_id.clone(),
            antigen: antigen.clone(),
            date: r.date,
            reason: r.reason.clone(),
        });
        let back = bala_fhir::parse(&out.to_string(), &table);
        assert_eq!(back.refusals.len(), 1, "an accepted refusal written out does not read back: {back:?}");
        let q = &back.refusals[0].1;
        assert_eq!(
            (&q.patient_id, &q.antigen, q.date, &q.reason),
            (&r.patient_id, &r.antigen, r.date, &r.reason),
            "refusal round trip"
        );
    }
    for (loc, p) in &parsed.patients {
        assert!(!p.id.is_empty(), "a patient without an id at {loc}");
        let back = bala_fhir::parse(&bala_fhir::patient(p).to_string(), &table);
        assert_eq!(back.patients.len(), 1, "an accepted Patient written out does not read back: {back:?}");
        let q = &back.patients[0].1;
        assert_eq!(
            (&q.id, &q.iin, q.birth_date, q.sex, &q.family_name, &q.area_code),
            (&p.id, &p.iin, p.birth_date, p.sex, &p.family_name, &p.area_code),
            "Patient round trip"
        );
    }
}

fn table_ok(t: &bala_immunization::table::Table) {
    assert!(t.headers.iter().all(|h| h.trim() == h && h.to_lowercase() == *h), "headers trimmed and lower-cased: {:?}", t.headers);
    for r in t.rows() {
        // Not asserted: that no row is blank. A row whose only values lie beyond
        // the header's width is kept, cut to the header, as a blank row (found by
        // this target; the importer then rejects it as missing its fields).
        assert_eq!(r.cells().count(), t.headers.len(), "every row as wide as the header");
    }
}

pub fn imm_table(data: &[u8]) {
    use bala_immunization::table;
    if let Ok(t) = table::from_csv(&String::from_utf8_lossy(data)) {
        table_ok(&t);
    }
    match table::from_xlsx(data) {
        Ok(t) => table_ok(&t),
        Err(e) => assert!(e.0.iter().all(|f| !f.detail.is_empty()), "an unexplained rejection"),
    }
}

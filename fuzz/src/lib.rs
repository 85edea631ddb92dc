//! The bodies of the fuzz targets: each feeds bytes to one parser and checks what
//! must hold whatever the input — no panic, every accepted observation valid, every
//! rejected row with a reason, and accepted observations written back out read in
//! again as the same observations (the round trip).
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

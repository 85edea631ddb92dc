//! Readers never panic, whatever they are given, and whatever they accept is valid.
//!
//! Random bytes rarely get past the first check of a format, so each reader is also
//! fed input built from its own vocabulary (header names, JSON keys, XML elements,
//! YAML punctuation), which reaches the row-level code.

use bala_indicators::exchange::{
    adx, dhis2, sdmx_csv, sdmx_json, tidy_csv, CodeKind, CodeMap, FormatError, Import,
};
use bala_indicators::meta::{parse_indicator_config, parse_indicator_meta, parse_translations};
use bala_indicators::model::{parse_dims, Period};
use proptest::prelude::*;
use serde_json::Value;

fn map() -> CodeMap {
    CodeMap::new("fuzz")
        .with(CodeKind::Indicator, "x", "X")
        .unwrap()
        .with(CodeKind::Area, "1", "KZAKM")
        .unwrap()
        .with(CodeKind::Disaggregation, "c", "SEX=F")
        .unwrap()
        .with(CodeKind::Disaggregation, "Sex=F", "SEX=F")
        .unwrap()
}

fn check(result: Result<Import, FormatError>) -> Result<(), TestCaseError> {
    if let Ok(i) = result {
        for o in &i.observations {
            prop_assert!(
                o.validate().is_ok(),
                "accepted an invalid observation: {o:?}"
            );
        }
        for r in &i.rejected {
            prop_assert!(
                !r.errors.is_empty(),
                "a rejection without a reason at row {}",
                r.row
            );
        }
    }
    Ok(())
}

fn all_readers(bytes: &[u8]) -> Result<(), TestCaseError> {
    check(tidy_csv::parse("X", None, bytes))?;
    check(sdmx_csv::parse(bytes, None))?;
    check(sdmx_csv::parse(bytes, Some("X")))?;
    check(sdmx_json::parse(bytes, None))?;
    check(sdmx_json::parse(bytes, Some("X")))?;
    check(dhis2::parse(bytes, &map()))?;
    check(adx::parse(bytes, &map()))?;
    let text = String::from_utf8_lossy(bytes);
    let _ = parse_translations(&text);
    let _ = parse_indicator_config(&text);
    let _ = parse_indicator_meta(&text);
    let _ = Period::parse(&text);
    let _ = dhis2::parse_period(&text);
    let _ = adx::parse_period(&text);
    let _ = parse_dims(&text);
    Ok(())
}

fn csv_like() -> impl Strategy<Value = String> {
    let token = prop::sample::select(
        &[
            "Year",
            "Value",
            "REF_AREA",
            "SEX",
            "TIME_PERIOD",
            "OBS_VALUE",
            "INDICATOR",
            "LOWER_BOUND",
            "UPPER_BOUND",
            "OBS_STATUS",
            "ACTION",
            "COUNTRY_NOTES",
            "Geographic area",
            "REF_AREA: Area",
            ",",
            ",",
            ",",
            "\n",
            "\n",
            "\r\n",
            "\"",
            "2020",
            "2020-Q1",
            "2020-13",
            "_T",
            "F",
            "1.5",
            "-",
            "NaN",
            "inf",
            "1e400",
            "19,55",
            "KZAKM",
            "D",
            ": ",
            "\u{feff}",
            "\u{0}",
            "é",
        ][..],
    );
    prop::collection::vec(token, 0..80).prop_map(|t| t.concat())
}

fn json_value() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(
        &[
            "dataSets",
            "series",
            "observations",
            "structure",
            "structures",
            "data",
            "dimensions",
            "attributes",
            "measures",
            "observation",
            "dataSet",
            "values",
            "id",
            "name",
            "value",
            "dataValues",
            "dataElement",
            "period",
            "orgUnit",
            "categoryOptionCombo",
            "attributeOptionCombo",
            "comment",
            "deleted",
            "0",
            "0:0",
            "0:0:0",
            "1",
            "en",
            "TIME_PERIOD",
            "INDICATOR",
            "REF_AREA",
            "OBS_VALUE",
        ][..],
    );
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(
            &[
                "x",
                "1",
                "c",
                "2020",
                "201201",
                "2012Q1",
                "INDICATOR",
                "TIME_PERIOD",
                "Sex=F",
                "",
                "HllvX50cXC0"
            ][..]
        )
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6).prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

fn xml_like() -> impl Strategy<Value = String> {
    let token = prop::sample::select(
        &[
            "<adx xmlns=\"urn:ihe:qrph:adx:2015\">",
            "</adx>",
            "<group period=\"2020-01-01/P1M\" orgUnit=\"1\">",
            "<group period=\"x\">",
            "</group>",
            "<dataValue dataElement=\"x\" value=\"1\"/>",
            "<dataValue dataElement=\"x\" Sex=\"F\" value=\"2\">",
            "</dataValue>",
            "<dataValue value=\"NaN\" categoryOptionCombo=\"c\"/>",
            "<annotation>",
            "</annotation>",
            "&amp;",
            "&bogus;",
            "<![CDATA[n]]>",
            "text",
            "<",
            ">",
            "\"",
            "=",
            " ",
            "<?xml version=\"1.0\"?>",
            "<!-- c -->",
            "<x:y a:b=\"1\"/>",
            "\u{0}",
        ][..],
    );
    prop::collection::vec(token, 0..60).prop_map(|t| t.concat())
}

fn yaml_like() -> impl Strategy<Value = String> {
    let token = prop::sample::select(
        &[
            "key",
            "indicator_number",
            "3.2.1",
            ": ",
            ":",
            "\n",
            "  ",
            "- ",
            "&a ",
            "*a",
            "[",
            "]",
            "{",
            "}",
            "'",
            "\"",
            "null",
            "~",
            "!!str ",
            "? ",
            "|",
            ">",
            "#",
        ][..],
    );
    prop::collection::vec(token, 0..60).prop_map(|t| t.concat())
}

/// Small real files of every format, to mutate.
fn seeds() -> Vec<Vec<u8>> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/reference/");
    let files = [
        "kazstat-sdg/data/indicator_3-b-1.csv",
        "kazstat-sdg/data/indicator_5-3-1.csv",
        "unicef-sdmx/CME_MRY0T4_BRA_sex_2020.csv",
        "unicef-sdmx/IM_MCV1_USA_BRA_2015_2023.csv",
        "dhis2/dataValueSetJ.json",
        "dhis2/importA.adx.xml",
        "kazstat-sdg/translations/en/SEX.yml",
        "kazstat-sdg/indicator-config/3-2-1.yml",
    ];
    let mut out: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(format!("{root}{f}")).expect("reference file"))
        .collect();
    let json = bala_indicators::exchange::sdmx_json::write(
        &bala_indicators::exchange::sdmx_csv::parse(&out[2], None)
            .expect("seed")
            .observations,
        "seed",
    )
    .expect("seed");
    out.push(json.into_bytes());
    out
}

/// Applies (position, byte, kind) edits: overwrite, insert or delete.
fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(pos, byte, kind) in edits {
        if bytes.is_empty() {
            bytes.push(byte);
            continue;
        }
        let at = pos % bytes.len();
        match kind % 3 {
            0 => bytes[at] = byte,
            1 => bytes.insert(at, byte),
            _ => {
                bytes.remove(at);
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn mutated_reference_files(
        seed in 0usize..9,
        edits in prop::collection::vec((any::<usize>(), prop::sample::select(&b",:\"<>/{}[]\n 0123456789._TQ-=&;aZ\x00\xff"[..]), any::<u8>()), 1..8),
    ) {
        let bytes = mutate(seeds()[seed].clone(), &edits);
        all_readers(&bytes)?;
    }

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        all_readers(&bytes)?;
    }

    #[test]
    fn arbitrary_text(s in "\\PC{0,200}") {
        all_readers(s.as_bytes())?;
    }

    #[test]
    fn csv_shaped(s in csv_like()) {
        all_readers(s.as_bytes())?;
    }

    #[test]
    fn json_shaped(v in json_value()) {
        all_readers(v.to_string().as_bytes())?;
    }

    #[test]
    fn xml_shaped(s in xml_like()) {
        all_readers(s.as_bytes())?;
    }

    #[test]
    fn yaml_shaped(s in yaml_like()) {
        all_readers(s.as_bytes())?;
    }
}

/// Inputs that broke naive parsers elsewhere: huge and deep documents stay errors.
#[test]
fn pathological_inputs() {
    let deep_json = "[".repeat(100_000);
    assert!(matches!(
        sdmx_json::parse(deep_json.as_bytes(), None),
        Err(FormatError::Json(_))
    ));
    assert!(matches!(
        dhis2::parse(deep_json.as_bytes(), &map()),
        Err(FormatError::Json(_))
    ));
    let deep_xml = format!("<adx>{}", "<a>".repeat(100_000));
    let _ = adx::parse(deep_xml.as_bytes(), &map());
    let laughs = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n";
    assert!(parse_translations(laughs).is_err());
    let deep_yaml = "[".repeat(100_000);
    assert!(parse_translations(&deep_yaml).is_err());
    let long_cell = format!("Year,Value\n2020,{}\n", "9".repeat(1_000_000));
    let i = tidy_csv::parse("X", None, long_cell.as_bytes()).unwrap();
    assert_eq!(i.rejected.len(), 1, "1e1000000 is not a finite number");
}

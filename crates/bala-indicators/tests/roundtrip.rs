//! Write, then read: the same observations come back, for every format.
//!
//! DHIS2 JSON and ADX carry only the indicator, area, period, disaggregation, value
//! and note (DHIS2 has no bounds, status or attributes), and the reader records the
//! code map's system as the source; those formats are compared on what they carry.

use bala_indicators::exchange::{
    adx, dhis2, sdmx_csv, sdmx_json, tidy_csv, CodeKind, CodeMap, Import,
};
use bala_indicators::model::{format_dims, AreaRef, Dims, ObsStatus, Observation, Period};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashSet};

fn period() -> impl Strategy<Value = Period> {
    prop_oneof![
        (1990..2035i32).prop_map(|y| Period::annual(y).unwrap()),
        (1990..2035i32, 1..=4u8).prop_map(|(y, q)| Period::quarterly(y, q).unwrap()),
        (1990..2035i32, 1..=12u8).prop_map(|(y, m)| Period::monthly(y, m).unwrap()),
    ]
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        (-1000.0f64..1000.0),
        prop::num::f64::NORMAL,
        prop::num::f64::SUBNORMAL,
        Just(0.0),
        (0u32..100_000).prop_map(|n| f64::from(n) / 100.0),
    ]
}

/// Text without leading/trailing whitespace (readers trim), with characters that
/// need quoting or escaping in CSV, JSON and XML, Cyrillic and Kazakh letters.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9а-яәіңғүұқөһ ,.;:'\"<>&!?()=/-]{1,24}"
        .prop_map(|s| s.trim().to_string())
        .prop_filter("non-empty", |s| !s.is_empty())
}

fn dims() -> impl Strategy<Value = Dims> {
    let choice = |id: &'static str, codes: &'static [&'static str]| {
        prop::option::of(prop::sample::select(codes))
            .prop_map(move |c| c.map(|c| (id.to_string(), c.to_string())))
    };
    (
        choice("SEX", &["F", "M"]),
        choice("AGE", &["Y0T4", "Y5T9", "Y_GE15"]),
        choice("URBANISATION", &["U", "R"]),
        choice("UNIT_MEASURE", &["PT", "PER_1000_LIVE_BIRTHS"]),
        choice("SERIES", &["_L_KZ_030b01_1A", "SH_DYN_MORT"]),
    )
        .prop_map(|(a, b, c, d, e)| [a, b, c, d, e].into_iter().flatten().collect())
}

fn attributes() -> impl Strategy<Value = Dims> {
    (
        prop::option::of(text()),
        prop::option::of(prop::sample::select(&["0", "3", "6"][..])),
    )
        .prop_map(|(notes, mult)| {
            let mut a = Dims::new();
            if let Some(n) = notes {
                a.insert("COUNTRY_NOTES".into(), n);
            }
            if let Some(m) = mult {
                a.insert("UNIT_MULTIPLIER".into(), m.into());
            }
            a
        })
}

fn status() -> impl Strategy<Value = Option<ObsStatus>> {
    prop::option::of(
        prop::sample::select(&["A", "P", "E", "F", "I", "B", "M"][..])
            .prop_map(ObsStatus::from_code),
    )
}

prop_compose! {
    fn observation()(
        indicator in prop::sample::select(&["3.2.1", "CME_MRY0T4", "IMM_DTP3"][..]),
        area in prop::sample::select(&["", "KZAKM", "751110000", "KAZ", "WHO_EURO"][..]),
        period in period(),
        dims in dims(),
        value in value(),
        bounds in prop::option::of((0.0f64..50.0, 0.0f64..50.0)),
        status in status(),
        source in prop::option::of(text()),
        footnote in prop::option::of(text()),
        attributes in attributes(),
    ) -> Observation {
        let (lower, upper) = match bounds {
            Some((d, u)) => (Some(value - d), Some(value + u)),
            None => (None, None),
        };
        Observation { indicator: indicator.to_string(), area: AreaRef::parse(area), period, dims, value, lower, upper, status, source, footnote, attributes }
    }
}

/// Observations with distinct keys and finite bounds.
fn observations() -> impl Strategy<Value = Vec<Observation>> {
    prop::collection::vec(observation(), 0..25).prop_map(|v| {
        let mut seen = HashSet::new();
        v.into_iter()
            .filter(|o| o.validate().is_ok())
            .filter(|o| seen.insert(o.key()))
            .collect()
    })
}

fn sorted(mut v: Vec<Observation>) -> Vec<Observation> {
    v.sort_by_key(|o| o.key());
    v
}

fn clean(i: Import) -> Vec<Observation> {
    assert!(i.rejected.is_empty(), "rejected: {}", i.rejected[0]);
    sorted(i.observations)
}

/// A map covering every code in `obs`: data elements `DE_n`, org units `OU_n`, a
/// combo `COC_n` per disaggregation and, for ADX, category options for sex and age.
fn code_map(obs: &[Observation]) -> CodeMap {
    let mut m = CodeMap::new("dhis2-test");
    let mut seen: BTreeMap<(CodeKind, String), usize> = BTreeMap::new();
    for o in obs {
        let mut add = |kind: CodeKind, bala: String, prefix: &str| {
            let n = seen.len();
            if let std::collections::btree_map::Entry::Vacant(e) = seen.entry((kind, bala.clone()))
            {
                e.insert(n);
                m.insert(kind, &format!("{prefix}_{n}"), &bala).unwrap();
            }
        };
        add(CodeKind::Indicator, o.indicator.clone(), "DE");
        add(CodeKind::Area, o.area.as_str().to_string(), "OU");
        if !o.dims.is_empty() {
            add(CodeKind::Disaggregation, format_dims(&o.dims), "COC");
        }
    }
    for (opt, bala) in [
        ("Sex=F", "SEX=F"),
        ("Sex=M", "SEX=M"),
        ("Age=u5", "AGE=Y0T4"),
        ("Age=5t9", "AGE=Y5T9"),
        ("Age=15p", "AGE=Y_GE15"),
    ] {
        m.insert(CodeKind::Disaggregation, opt, bala).unwrap();
    }
    m
}

/// What DHIS2 formats carry.
fn as_dhis2(o: &Observation, system: &str) -> Observation {
    Observation {
        lower: None,
        upper: None,
        status: None,
        source: Some(system.to_string()),
        attributes: Dims::new(),
        ..o.clone()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn tidy_csv_round_trip(obs in observations()) {
        let one: Vec<Observation> = obs.into_iter().map(|o| Observation { indicator: "3.2.1".into(), ..o }).collect();
        let mut seen = HashSet::new();
        let one: Vec<Observation> = one.into_iter().filter(|o| seen.insert(o.key())).collect();
        let text = tidy_csv::write(&one).unwrap();
        let back = clean(tidy_csv::parse("3.2.1", None, text.as_bytes()).unwrap());
        prop_assert_eq!(back, sorted(one));
    }

    #[test]
    fn sdmx_csv_round_trip(obs in observations()) {
        let text = sdmx_csv::write(&obs, "BALA:TEST(1.0)").unwrap();
        prop_assert_eq!(clean(sdmx_csv::parse(text.as_bytes(), None).unwrap()), sorted(obs));
    }

    #[test]
    fn sdmx_json_round_trip(obs in observations()) {
        let text = sdmx_json::write(&obs, "test").unwrap();
        prop_assert_eq!(clean(sdmx_json::parse(text.as_bytes(), None).unwrap()), sorted(obs));
    }

    #[test]
    fn dhis2_json_round_trip(obs in observations()) {
        let map = code_map(&obs);
        let text = dhis2::write(&obs, &map, Some("DS_1")).unwrap();
        let expected: Vec<Observation> = obs.iter().map(|o| as_dhis2(o, map.system())).collect();
        prop_assert_eq!(clean(dhis2::parse(text.as_bytes(), &map).unwrap()), sorted(expected));
    }

    #[test]
    fn adx_round_trip(obs in observations()) {
        let map = code_map(&obs);
        let text = adx::write(&obs, &map, "DS_1").unwrap();
        let expected: Vec<Observation> = obs.iter().map(|o| as_dhis2(o, map.system())).collect();
        prop_assert_eq!(clean(adx::parse(text.as_bytes(), &map).unwrap()), sorted(expected));
    }
}

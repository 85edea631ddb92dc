//! Every reference file parses, with counts and values checked by eye in the files.

mod common;

use bala_indicators::exchange::{adx, dhis2, sdmx_csv, tidy_csv, CodeKind, CodeMap};
use bala_indicators::meta::{
    describe, parse_indicator_config, parse_indicator_meta, parse_translations, Label, Lang,
    Terminology,
};
use bala_indicators::model::{AreaRef, ObsStatus, Observation, Period};
use common::{files, read, read_text};

fn year(y: i32) -> Period {
    Period::annual(y).unwrap()
}

fn find<'a>(
    obs: &'a [Observation],
    area: &str,
    period: Period,
    dims: &[(&str, &str)],
) -> &'a Observation {
    obs.iter()
        .find(|o| {
            o.area.as_str() == area
                && o.period == period
                && o.dims.len() == dims.len()
                && dims
                    .iter()
                    .all(|(k, v)| o.dims.get(*k).map(String::as_str) == Some(*v))
        })
        .unwrap_or_else(|| panic!("no observation {area} {period} {dims:?}"))
}

/// (file, data rows, imported). Counted with a script over the CSV: rows that are
/// not blank, and duplicates after treating `_T` and empty as total.
const KAZSTAT: &[(&str, usize, usize)] = &[
    ("indicator_1-2-1.csv", 311, 311),
    ("indicator_1-2-2.csv", 0, 0),
    ("indicator_1-3-1.csv", 65, 65),
    ("indicator_16-2-1.csv", 49, 49),
    ("indicator_16-9-1.csv", 52, 52),
    ("indicator_2-2-1.csv", 110, 110),
    ("indicator_2-2-2.csv", 165, 165),
    ("indicator_3-1-1.csv", 237, 237),
    ("indicator_3-2-1.csv", 1482, 1482),
    ("indicator_3-2-2.csv", 1482, 1482),
    ("indicator_3-3-1.csv", 14, 14),
    ("indicator_3-7-2.csv", 1396, 1396),
    ("indicator_3-b-1.csv", 54, 54),
    // 14 keys appear twice with different values (a breakdown column is missing
    // upstream): all 28 rows are rejected.
    ("indicator_4-1-1.csv", 187, 159),
    ("indicator_4-2-2.csv", 261, 261),
    ("indicator_4-5-1.csv", 97, 97),
    ("indicator_5-3-1.csv", 4, 4),
    ("indicator_6-1-1.csv", 26, 26),
    // 2023, KZKAR, urban appears as 0.02 (line 1100) and 0.15 (line 1118).
    ("indicator_8-7-1.csv", 1124, 1122),
];

fn kazstat(file: &str) -> bala_indicators::exchange::Import {
    let code = file
        .trim_start_matches("indicator_")
        .trim_end_matches(".csv")
        .replace('-', ".");
    tidy_csv::parse(
        &code,
        Some("kazstat"),
        &read(&format!("kazstat-sdg/data/{file}")),
    )
    .unwrap()
}

#[test]
fn every_kazstat_file_parses_with_the_expected_counts() {
    let on_disk = files("kazstat-sdg/data", ".csv");
    assert_eq!(on_disk.len(), KAZSTAT.len(), "{on_disk:?}");
    for (file, rows, imported) in KAZSTAT {
        assert!(on_disk.contains(&file.to_string()), "{file}");
        let i = kazstat(file);
        assert_eq!(
            i.observations.len(),
            *imported,
            "{file}: {:?}",
            i.rejected.first()
        );
        assert_eq!(i.observations.len() + i.rejected.len(), *rows, "{file}");
        assert!(i
            .observations
            .iter()
            .all(|o| o.validate().is_ok() && o.source.as_deref() == Some("kazstat")));
    }
}

#[test]
fn kazstat_values_checked_by_eye() {
    let u5 = kazstat("indicator_3-2-1.csv").observations;
    let unit = ("UNIT_MEASURE", "PER_1000_LIVE_BIRTHS");
    // line 2: 2010,PER_1000_LIVE_BIRTHS,_T,,,19.55 — SEX=_T is the total
    let national = find(&u5, "", year(2010), &[unit]);
    assert_eq!(national.value, 19.55);
    assert_eq!(national.area, AreaRef::National);
    assert_eq!(national.indicator, "3.2.1");
    // line 3: 2010,PER_1000_LIVE_BIRTHS,_T,,KZAKM,16.99
    assert_eq!(find(&u5, "KZAKM", year(2010), &[unit]).value, 16.99);
    assert_eq!(find(&u5, "", year(2019), &[unit]).value, 10.69);

    // 3.7.2 has six header-less empty columns: 2010,Y10T14,,KZAKM,0.12,,,,,,
    let births = kazstat("indicator_3-7-2.csv").observations;
    assert_eq!(
        find(&births, "KZAKM", year(2010), &[("AGE", "Y10T14")]).value,
        0.12
    );

    // 1.2.1: 2010,PT,U,,,3.7
    let poverty = kazstat("indicator_1-2-1.csv").observations;
    assert_eq!(
        find(
            &poverty,
            "",
            year(2010),
            &[("UNIT_MEASURE", "PT"), ("URBANISATION", "U")]
        )
        .value,
        3.7
    );

    // 3.b.1: 2016,PT,_L_KZ_030b01_1A,82.5 (DTP3 coverage)
    let vacc = kazstat("indicator_3-b-1.csv").observations;
    assert_eq!(
        find(
            &vacc,
            "",
            year(2016),
            &[("UNIT_MEASURE", "PT"), ("SERIES", "_L_KZ_030b01_1A")]
        )
        .value,
        82.5
    );
}

#[test]
fn kazstat_conflicting_duplicates_are_reported_with_both_lines() {
    let i = kazstat("indicator_8-7-1.csv");
    let rows: Vec<usize> = i.rejected.iter().map(|r| r.row).collect();
    assert_eq!(rows, [1100, 1118]);
    let msg = i.rejected[0].to_string();
    assert!(
        msg.contains("row 1100 = 0.02") && msg.contains("row 1118 = 0.15"),
        "{msg}"
    );

    let i = kazstat("indicator_4-1-1.csv");
    // lines 44 (2015,PT,SE_TOT_PRFL,M,,96.5) and 47 (…,M,,68.5)
    assert!(i.rejected.iter().any(|r| r.row == 44));
    assert!(i.rejected.iter().any(|r| r.row == 47));
    assert!(i
        .rejected
        .iter()
        .all(|r| r.errors.0[0].code == "indicators-conflict"));
}

#[test]
fn every_unicef_file_parses() {
    let expected = [
        ("CME_MRY0T4_BRA_1990_2023.csv", 102),
        ("CME_MRY0T4_BRA_sex_2020.csv", 8),
        ("CME_MRY0T4_all_2020.csv", 747),
        ("CME_MRY0T4_multi_2018_2023.csv", 90),
        ("IM_MCV1_USA_BRA_2015_2023.csv", 18),
    ];
    assert_eq!(files("unicef-sdmx", ".csv").len(), expected.len());
    for (file, n) in expected {
        let i = sdmx_csv::parse(&read(&format!("unicef-sdmx/{file}")), None).unwrap();
        assert!(i.rejected.is_empty(), "{file}: {}", i.rejected[0]);
        assert_eq!(i.observations.len(), n, "{file}");
    }
}

#[test]
fn unicef_values_checked_by_eye() {
    let all = sdmx_csv::parse(&read("unicef-sdmx/CME_MRY0T4_all_2020.csv"), None)
        .unwrap()
        .observations;
    let unit = ("UNIT_MEASURE", "D_PER_1000_B");
    // KAZ,…,_T,Total,_T,Total,UN_IGME,,D_PER_1000_B,…,2020,10.1191857746263,,9.89674893077512,10.3521242265188,A,Normal value
    let kaz = find(&all, "KAZ", year(2020), &[unit]);
    assert_eq!(kaz.value, 10.1191857746263);
    assert_eq!(kaz.lower, Some(9.89674893077512));
    assert_eq!(kaz.upper, Some(10.3521242265188));
    assert_eq!(kaz.status, Some(ObsStatus::Final));
    assert_eq!(kaz.source.as_deref(), Some("UN_IGME"));
    assert_eq!(kaz.indicator, "CME_MRY0T4");
    assert_eq!(
        find(&all, "KAZ", year(2020), &[unit, ("SEX", "M")]).value,
        11.3396713478039
    );
    // WHO regional aggregates have no OBS_STATUS
    assert_eq!(find(&all, "WHO_EURO", year(2020), &[unit]).status, None);
    // Cyprus carries a country note, kept as an attribute
    let cyp = find(&all, "CYP", year(2020), &[unit]);
    assert!(cyp.attributes["COUNTRY_NOTES"].starts_with("Some UN IGME indicators"));

    let mcv = sdmx_csv::parse(&read("unicef-sdmx/IM_MCV1_USA_BRA_2015_2023.csv"), None)
        .unwrap()
        .observations;
    // BRA,…,MCV1,…,M12T23,…,0,Units,PCNT,%,,,2021,73,,,E,Estimated value,,,"WHO/UNICEF estimates…"
    let bra = find(
        &mcv,
        "BRA",
        year(2021),
        &[
            ("VACCINE", "MCV1"),
            ("AGE", "M12T23"),
            ("UNIT_MEASURE", "PCNT"),
        ],
    );
    assert_eq!(bra.value, 73.0);
    assert_eq!(bra.status, Some(ObsStatus::Estimated));
    assert_eq!(bra.attributes["UNIT_MULTIPLIER"], "0");
    assert_eq!(
        bra.source.as_deref(),
        Some("WHO/UNICEF estimates of national immunization coverage, 2024 revision")
    );

    let quint = sdmx_csv::parse(&read("unicef-sdmx/CME_MRY0T4_BRA_sex_2020.csv"), None)
        .unwrap()
        .observations;
    // BRA,…,_T,Total,Q1,Lowest,…,2020,22.0975693502455
    assert_eq!(
        find(
            &quint,
            "BRA",
            year(2020),
            &[unit, ("WEALTH_QUINTILE", "Q1")]
        )
        .value,
        22.0975693502455
    );
}

#[test]
fn dhis2_json_without_a_map_reports_every_unmapped_code() {
    let input = read("dhis2/dataValueSetJ.json");
    let i = dhis2::parse(&input, &CodeMap::new("dhis2-demo")).unwrap();
    assert!(i.observations.is_empty());
    assert_eq!(i.rejected.len(), 1);
    let r = &i.rejected[0];
    assert_eq!(r.row, 1);
    let text = r.to_string();
    assert!(text.contains("unmapped data element 'f7n9E0hX8qk' (no indicator mapping in code map 'dhis2-demo') in row 1"), "{text}");
    assert!(
        text.contains("unmapped organisation unit 'DiszpKrYNg8'"),
        "{text}"
    );
}

#[test]
fn dhis2_json_imports_with_a_map() {
    let map = CodeMap::new("dhis2-demo")
        .with(CodeKind::Indicator, "f7n9E0hX8qk", "IMM_MCV1_DOSES")
        .unwrap()
        .with(CodeKind::Area, "DiszpKrYNg8", "751110000")
        .unwrap();
    let i = dhis2::parse(&read("dhis2/dataValueSetJ.json"), &map).unwrap();
    assert!(i.rejected.is_empty());
    let o = &i.observations[0];
    // {"period": "201201", "orgUnit": "DiszpKrYNg8", "dataElement": "f7n9E0hX8qk", "value": "10"}
    assert_eq!(
        (o.indicator.as_str(), o.area.as_str(), o.period, o.value),
        (
            "IMM_MCV1_DOSES",
            "751110000",
            Period::monthly(2012, 1).unwrap(),
            10.0
        )
    );
    assert!(o.dims.is_empty());
}

fn adx_map() -> CodeMap {
    let rows = [
        (CodeKind::Indicator, "Malaria numeric", "MAL_CASES"),
        (CodeKind::Indicator, "Malaria text", "MAL_TEXT"),
        (CodeKind::Area, "123", "751110000"),
        (CodeKind::Area, "456", "711110000"),
        (
            CodeKind::Disaggregation,
            "Sex_category=FFFFFFFFFFF",
            "SEX=F",
        ),
        (
            CodeKind::Disaggregation,
            "Sex_category=MMMMMMMMMMM",
            "SEX=M",
        ),
        (
            CodeKind::Disaggregation,
            "Age_category=under555555",
            "AGE=Y0T4",
        ),
        (
            CodeKind::Disaggregation,
            "Age_category=over5555555",
            "AGE=Y_GE5",
        ),
        (CodeKind::Disaggregation, "FOver555555", "SEX=F;AGE=Y_GE5"),
        (CodeKind::Disaggregation, "MOver555555", "SEX=M;AGE=Y_GE5"),
        (
            CodeKind::Disaggregation,
            "Mechanism_category=PEPFARRRRRR",
            "FUNDER=PEPFAR",
        ),
        (
            CodeKind::Disaggregation,
            "Mechanism_category=McDonaldsss",
            "FUNDER=MCD",
        ),
        (CodeKind::Disaggregation, "cocMcDonald", "FUNDER=MCD"),
    ];
    let mut m = CodeMap::new("dhis2-demo");
    for (k, e, b) in rows {
        m.insert(k, e, b).unwrap();
    }
    m
}

#[test]
fn adx_without_a_map_rejects_all_nine_values() {
    let i = adx::parse(&read("dhis2/importA.adx.xml"), &CodeMap::new("dhis2-demo")).unwrap();
    assert!(i.observations.is_empty());
    let rows: Vec<usize> = i.rejected.iter().map(|r| r.row).collect();
    assert_eq!(rows, (1..=9).collect::<Vec<_>>());
    let first = i.rejected[0].to_string();
    assert!(
        first.contains("unmapped data element 'Malaria numeric'") && first.contains("in row 1"),
        "{first}"
    );
    assert!(
        first.contains("unmapped category option 'FFFFFFFFFFF' of category 'Sex_category'"),
        "{first}"
    );
    assert!(i.rejected[2]
        .to_string()
        .contains("unmapped category option combo 'FOver555555'"));
    assert!(i.rejected[8]
        .to_string()
        .contains("unmapped attribute option combo 'cocMcDonald'"));
}

#[test]
fn adx_imports_with_a_map() {
    let i = adx::parse(&read("dhis2/importA.adx.xml"), &adx_map()).unwrap();
    assert!(i.rejected.is_empty(), "{}", i.rejected[0]);
    assert_eq!(i.observations.len(), 9);
    let o = &i.observations;
    // <group … period="2020-01-01/P1M" orgUnit="123"> <dataValue … Sex_category="FFFFFFFFFFF" Age_category="under555555" value="1"/>
    assert_eq!(o[0].period, Period::monthly(2020, 1).unwrap());
    assert_eq!(o[0].area.as_str(), "751110000");
    assert_eq!(
        bala_indicators::model::format_dims(&o[0].dims),
        "AGE=Y0T4;SEX=F"
    );
    assert_eq!(o[0].value, 1.0);
    // categoryOptionCombo="MOver555555" value="4"
    assert_eq!(
        bala_indicators::model::format_dims(&o[3].dims),
        "AGE=Y_GE5;SEX=M"
    );
    // <dataValue dataElement="Malaria text" value="0"><annotation>Text data value</annotation>
    assert_eq!(
        (
            o[4].indicator.as_str(),
            o[4].value,
            o[4].footnote.as_deref()
        ),
        ("MAL_TEXT", 0.0, Some("Text data value"))
    );
    // Mechanism_category="PEPFARRRRRR" period="2021-01-01/P3M": a quarter, funder from the group
    assert_eq!(o[6].period, Period::quarterly(2021, 1).unwrap());
    assert_eq!(
        bala_indicators::model::format_dims(&o[6].dims),
        "AGE=Y0T4;FUNDER=PEPFAR;SEX=F"
    );
    assert_eq!(o[6].value, 10.0);
    // attributeOptionCombo="cocMcDonald" … Sex M, under 5, value 30
    assert_eq!(
        bala_indicators::model::format_dims(&o[8].dims),
        "AGE=Y0T4;FUNDER=MCD;SEX=M"
    );
    assert_eq!(o[8].value, 30.0);
}

fn terminology() -> Terminology {
    let mut t = Terminology::new();
    for lang in Lang::ALL {
        let dir = format!("kazstat-sdg/translations/{}", lang.code());
        for file in files(&dir, ".yml") {
            let entries = parse_translations(&read_text(&format!("{dir}/{file}")))
                .unwrap_or_else(|e| panic!("{dir}/{file}: {e}"));
            t.add(lang, file.trim_end_matches(".yml"), entries);
        }
    }
    t
}

#[test]
fn translations_parse_in_three_languages() {
    let t = terminology();
    assert_eq!(t.group_names().count(), 25);
    assert_eq!(t.name(Lang::En, "SEX", "F"), Some("Female"));
    assert_eq!(t.name(Lang::Ru, "SEX", "F"), Some("женщины"));
    assert_eq!(t.name(Lang::Kk, "SEX", "F"), Some("әйелдер"));
    assert_eq!(t.name(Lang::En, "REF_AREA", "KZAKM"), Some("Akmola"));
    assert_eq!(t.name(Lang::Ru, "REF_AREA", "KZAKM"), Some("Акмолинская"));
    assert_eq!(t.name(Lang::Kk, "REF_AREA", "KZAKM"), Some("Ақмола"));
    assert_eq!(
        t.name(Lang::En, "AGE", "Y10T14"),
        Some("age: 10-14 years old")
    );
    assert_eq!(t.group("REF_AREA").unwrap().len(), 66);
    // a folded two-line title
    assert_eq!(
        t.name(Lang::En, "global_indicators", "3-3-1-title"),
        Some("Number of new HIV infections per 1,000 uninfected population, by sex, age and key populations")
    );
}

#[test]
fn every_indicator_config_and_meta_file_parses() {
    let t = terminology();
    let configs = files("kazstat-sdg/indicator-config", ".yml");
    assert_eq!(configs.len(), 19);
    for file in &configs {
        let c = parse_indicator_config(&read_text(&format!("kazstat-sdg/indicator-config/{file}")))
            .unwrap();
        let m = parse_indicator_meta(&read_text(&format!("kazstat-sdg/meta/{file}"))).unwrap();
        let info = describe(&c, Some(&m), &t);
        assert_eq!(format!("{}.yml", info.slug), *file);
        assert!(
            info.names.en.is_some() && info.names.ru.is_some() && info.names.kk.is_some(),
            "{file}: {:?}",
            info.names
        );
    }
}

#[test]
fn under_five_mortality_metadata() {
    let t = terminology();
    let c = parse_indicator_config(&read_text("kazstat-sdg/indicator-config/3-2-1.yml")).unwrap();
    let m = parse_indicator_meta(&read_text("kazstat-sdg/meta/3-2-1.yml")).unwrap();
    let info = describe(&c, Some(&m), &t);
    assert_eq!(info.code, "3.2.1");
    assert_eq!(
        info.names.en.as_deref(),
        Some("Under\u{2010}five mortality rate")
    );
    assert_eq!(
        info.names.ru.as_deref(),
        Some("Коэффициент смертности детей в возрасте до пяти лет")
    );
    assert_eq!(
        info.names.kk.as_deref(),
        Some("Бес жасқа дейінгі балалар өлім-жетімінің коэффициенті")
    );
    assert_eq!(info.unit, Some(Label::Literal("на 1000 родившихся".into())));
    assert!(
        matches!(&info.definition, Some(Label::Literal(d)) if d.starts_with("The probability of a child born in a specific year"))
    );
    assert_eq!(
        info.custodian.as_deref(),
        Some("United Nations Children's Fund (UNICEFF)")
    );
    let compiled = info.compiled_by.unwrap();
    assert_eq!(
        compiled.text(Lang::Ru),
        Some("Комитет по статистике Министерства национальной экономики Республики Казахстан")
    );

    let c = parse_indicator_config(&read_text("kazstat-sdg/indicator-config/1-2-1.yml")).unwrap();
    let info = describe(&c, None, &t);
    match info.unit {
        Some(Label::Translated { group, key, names }) => {
            assert_eq!((group.as_str(), key.as_str()), ("UNIT_MEASURE", "PT"));
            assert_eq!(
                (
                    names.en.as_deref(),
                    names.ru.as_deref(),
                    names.kk.as_deref()
                ),
                (Some("Percent"), Some("процент"), Some("пайыз"))
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_kazstat_area_resolves_to_a_region() {
    use bala_indicators::meta::{parse_regions, resolve_area};
    let regions = parse_regions(&read("kazakhstan-regions.csv")).unwrap();
    assert_eq!(regions.len(), 21);
    let (mut resolved, mut recalculated) = (0, std::collections::BTreeSet::new());
    for (file, _, _) in KAZSTAT {
        for o in kazstat(file).observations {
            let kato = resolve_area(&regions, &o.area, o.period)
                .unwrap_or_else(|| panic!("{file}: {} in {}", o.area, o.period));
            resolved += usize::from(kato.as_str() != "000000000");
            let region = regions.iter().find(|r| r.kato == kato);
            if region.is_some_and(|r| !r.existed_during(o.period)) {
                recalculated.insert((file.to_string(), o.area.as_str().to_string()));
            }
        }
    }
    assert!(resolved > 4000, "{resolved}");
    // Series recalculated for Turkistan and Shymkent before the 2018 split.
    let expected: std::collections::BTreeSet<(String, String)> = [
        ("indicator_1-2-1.csv", "KZSHY"),
        ("indicator_1-2-1.csv", "KZYUZ"),
        ("indicator_8-7-1.csv", "KZYUZ"),
    ]
    .iter()
    .map(|(f, a)| (f.to_string(), a.to_string()))
    .collect();
    assert_eq!(recalculated, expected);
    // South Kazakhstan's data stop with the 2018 split; Turkistan's start.
    let u5 = kazstat("indicator_3-2-1.csv").observations;
    let years = |code: &str| {
        let mut y: Vec<i32> = u5
            .iter()
            .filter(|o| o.area.as_str() == code)
            .map(|o| o.period.year())
            .collect();
        y.sort();
        y.dedup();
        y
    };
    assert_eq!(years("KZONT"), (2010..=2017).collect::<Vec<_>>());
    assert_eq!(years("KZYUZ"), [2018, 2019]);
}

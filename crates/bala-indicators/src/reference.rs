//! The reference data Bala ships (see `data/README.md` for sources and licences):
//! kazstat's Open SDG metadata, translations and series for Kazakhstan, UNICEF's
//! under-five mortality estimates, the MDG correspondence, targets, units and code
//! lists. Everything is compiled into the binary, so Bala never reads
//! `shared/reference` at run time.
//!
//! [`seed`] turns the files into the registry Bala starts with; a unit test checks
//! every file parses and every cited target quote is in the text it cites.

use crate::exchange::{CodeKind, CodeMapping};
use crate::meta::{
    describe, parse_indicator_config, parse_indicator_meta, parse_translations, Label, Lang, Names,
    Terminology,
};
use crate::model::{parse_dims, Period};
use crate::registry::{
    Framework, FrameworkLink, IndicatorDef, Kind, Polarity, Relation, TargetDef, TargetRule, Unit,
};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// kazstat/sdg-data-kazstat commit the files were taken from.
pub const KAZSTAT_COMMIT: &str = include_str!("../data/kazstat-sdg/SOURCE_COMMIT");

macro_rules! kazstat_indicators {
    ($($slug:literal),* $(,)?) => {
        /// (slug, indicator-config, meta) of every kazstat indicator Bala carries.
        pub const KAZSTAT_META: &[(&str, &str, &str)] = &[
            $(($slug,
               include_str!(concat!("../data/kazstat-sdg/indicator-config/", $slug, ".yml")),
               include_str!(concat!("../data/kazstat-sdg/meta/", $slug, ".yml")))),*
        ];
        /// (file name, contents) of kazstat's series, one file per indicator.
        pub const KAZSTAT_DATA: &[(&str, &[u8])] = &[
            $((concat!("indicator_", $slug, ".csv"),
               include_bytes!(concat!("../data/kazstat-sdg/data/indicator_", $slug, ".csv")))),*
        ];
    };
}

kazstat_indicators!(
    "1-2-1", "1-2-2", "1-3-1", "2-2-1", "2-2-2", "3-1-1", "3-2-1", "3-2-2", "3-3-1", "3-7-2",
    "3-b-1", "4-1-1", "4-2-2", "4-5-1", "5-3-1", "6-1-1", "8-7-1", "16-2-1", "16-9-1",
);

macro_rules! translations {
    ($($group:literal),* $(,)?) => {
        /// (language, group, file) of the translation groups Bala uses.
        const TRANSLATIONS: &[(Lang, &str, &str)] = &[
            $((Lang::Kk, $group, include_str!(concat!("../data/kazstat-sdg/translations/kk/", $group, ".yml"))),
              (Lang::Ru, $group, include_str!(concat!("../data/kazstat-sdg/translations/ru/", $group, ".yml"))),
              (Lang::En, $group, include_str!(concat!("../data/kazstat-sdg/translations/en/", $group, ".yml")))),*
        ];
    };
}

translations!(
    "global_goals",
    "global_targets",
    "global_indicators",
    "computation_definitions",
    "sources",
    "SEX",
    "URBANISATION",
    "AGE",
    "UNIT_MEASURE",
    "SERIES",
    "INCOME_WEALTH_QUANTILE",
    "EDUCATION_LEV",
    "ACTIVITY",
    "COMPOSITE_BREAKDOWN",
    "REF_AREA",
);

/// UNICEF data warehouse, under-five mortality (UN IGME), 2020, all countries.
pub const UNICEF_U5MR_2020: &[u8] = include_bytes!("../data/unicef-sdmx/CME_MRY0T4_all_2020.csv");
/// unicef-drp/unicefData commit the UNICEF file was taken from.
pub const UNICEF_COMMIT: &str = include_str!("../data/unicef-sdmx/SOURCE_COMMIT");
/// Region boundaries (17 units before the 2022 reform), `kzCode` = map code.
pub const REGIONS_GEOJSON: &[u8] = include_bytes!("../data/kazstat-sdg/regions.geojson");

const INDICATORS_CSV: &str = include_str!("../data/indicators.csv");
const BALA_INDICATORS_CSV: &str = include_str!("../data/bala-indicators.csv");
const MDG_CSV: &str = include_str!("../data/mdg.csv");
const TARGETS_CSV: &str = include_str!("../data/targets.csv");
const UNITS_CSV: &str = include_str!("../data/units.csv");
const CODELISTS_CSV: &str = include_str!("../data/codelists.csv");

/// kazstat's term base (names of codes in kk/ru/en), parsed once.
pub fn terminology() -> &'static Terminology {
    static T: OnceLock<Terminology> = OnceLock::new();
    T.get_or_init(|| {
        let mut t = Terminology::new();
        for (lang, group, text) in TRANSLATIONS {
            // Shipped files are checked by a test; a broken one leaves the group empty.
            if let Ok(entries) = parse_translations(text) {
                t.add(*lang, group, entries);
            }
        }
        t
    })
}

/// The name of a breakdown code (`SEX` `F` → "Female"), from kazstat's term base.
pub fn code_name(lang: Lang, dimension: &str, code: &str) -> Option<&'static str> {
    terminology().name(lang, dimension, code)
}

/// The name of a dimension (`SEX` → "Sex").
pub fn dimension_name(lang: Lang, dimension: &str) -> Option<&'static str> {
    terminology().name(lang, dimension, dimension)
}

/// What Bala starts with.
#[derive(Debug, Clone)]
pub struct Seed {
    pub indicators: Vec<IndicatorDef>,
    pub units: Vec<Unit>,
    pub code_mappings: Vec<CodeMapping>,
}

/// The shipped registry, built once. Panics only if a shipped file is broken,
/// which the tests of this module rule out.
pub fn seed() -> &'static Seed {
    static S: OnceLock<Seed> = OnceLock::new();
    S.get_or_init(|| build_seed().unwrap_or_else(|e| panic!("shipped indicator data: {e}")))
}

fn records(text: &str) -> Result<Vec<BTreeMap<String, String>>, String> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(str::to_string)
        .collect();
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| format!("line {}: {e}", i + 2))?;
        out.push(
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(|s| s.trim().to_string()))
                .collect(),
        );
    }
    Ok(out)
}

fn names3(r: &BTreeMap<String, String>, prefix: &str) -> Names {
    let mut n = Names::default();
    for lang in Lang::ALL {
        if let Some(t) = r
            .get(&format!("{prefix}_{}", lang.code()))
            .filter(|t| !t.is_empty())
        {
            n.set(lang, t.clone());
        }
    }
    n
}

fn translated(label: Option<Label>) -> Names {
    match label {
        Some(Label::Translated { names, .. }) => names,
        Some(Label::Literal(t)) => Names {
            kk: None,
            ru: None,
            en: Some(t),
        },
        None => Names::default(),
    }
}

fn build_seed() -> Result<Seed, String> {
    let terms = terminology();
    let units = records(UNITS_CSV)?
        .into_iter()
        .map(|r| Unit {
            code: r["code"].clone(),
            multiplier: r["multiplier"].parse().ok(),
            names: names3(&r, "name"),
        })
        .collect::<Vec<_>>();
    let mut indicators = Vec::new();
    let shape = records(INDICATORS_CSV)?;
    for (slug, config, meta) in KAZSTAT_META {
        let config = parse_indicator_config(config).map_err(|e| format!("{slug}: {e}"))?;
        let meta = parse_indicator_meta(meta).map_err(|e| format!("{slug}: {e}"))?;
        let info = describe(&config, Some(&meta), terms);
        let row = shape
            .iter()
            .find(|r| r["code"] == info.code)
            .ok_or_else(|| format!("indicators.csv has no row for {}", info.code))?;
        let mut def = indicator_from_row(row, &units)?;
        def.names = info.names.clone();
        def.definitions = translated(info.definition.clone());
        def.source = translated(info.compiled_by.clone());
        def.custodian = info.custodian.clone();
        def.frameworks.push(sdg_link(&info.code, terms));
        indicators.push(def);
    }
    for row in records(BALA_INDICATORS_CSV)? {
        let mut def = indicator_from_row(&row, &units)?;
        def.names = names3(&row, "name");
        def.definitions = names3(&row, "definition");
        def.computed = Some(row["computed"].clone()).filter(|c| !c.is_empty());
        indicators.push(def);
    }
    for row in records(MDG_CSV)? {
        let def = indicators
            .iter_mut()
            .find(|d| d.code == row["indicator"])
            .ok_or_else(|| format!("mdg.csv: no indicator {}", row["indicator"]))?;
        def.frameworks.push(FrameworkLink {
            framework: Framework::parse(&row["framework"])
                .ok_or_else(|| format!("mdg.csv: framework {}", row["framework"]))?,
            goal: row["goal"].clone(),
            target: row["target"].clone(),
            number: row["number"].clone(),
            relation: Relation::parse(&row["relation"])
                .ok_or_else(|| format!("mdg.csv: relation {}", row["relation"]))?,
            baseline: Period::parse(&row["baseline"]).ok(),
            title: names3(&row, "title"),
            target_text: names3(&row, "target_text"),
            citation: row["citation"].clone(),
        });
    }
    for row in records(TARGETS_CSV)? {
        let target = target_from_row(&row, &indicators, terms)?;
        let def = indicators
            .iter_mut()
            .find(|d| d.code == row["indicator"])
            .ok_or_else(|| format!("targets.csv: no indicator {}", row["indicator"]))?;
        def.targets.push(target);
    }
    let code_mappings = records(CODELISTS_CSV)?
        .into_iter()
        .map(|r| {
            let kind = match r["kind"].as_str() {
                "indicator" => CodeKind::Indicator,
                "area" => CodeKind::Area,
                "disaggregation" => CodeKind::Disaggregation,
                other => return Err(format!("codelists.csv: kind {other}")),
            };
            Ok(CodeMapping {
                system: r["system"].clone(),
                kind,
                external: r["external"].clone(),
                bala: r["bala"].clone(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Seed {
        indicators,
        units,
        code_mappings,
    })
}

fn indicator_from_row(
    r: &BTreeMap<String, String>,
    units: &[Unit],
) -> Result<IndicatorDef, String> {
    let code = r["code"].clone();
    let unit = r["unit"].clone();
    if !units.iter().any(|u| u.code == unit) {
        return Err(format!("{code}: unit {unit} is not in units.csv"));
    }
    Ok(IndicatorDef {
        kind: Kind::parse(&r["kind"]).ok_or_else(|| format!("{code}: kind {}", r["kind"]))?,
        polarity: Polarity::parse(&r["direction"])
            .ok_or_else(|| format!("{code}: direction {}", r["direction"]))?,
        headline: parse_dims(&r["headline"]).map_err(|e| format!("{code}: headline: {e}"))?,
        numerator: names3(r, "numerator"),
        denominator: names3(r, "denominator"),
        code,
        unit,
        names: Names::default(),
        definitions: Names::default(),
        source: Names::default(),
        custodian: None,
        computed: None,
        frameworks: vec![],
        targets: vec![],
    })
}

/// `3.2.1` → SDG goal 3, target 3.2, with kazstat's names and target wording.
fn sdg_link(code: &str, terms: &Terminology) -> FrameworkLink {
    let parts: Vec<&str> = code.split('.').collect();
    let goal = parts.first().copied().unwrap_or_default().to_string();
    let target = parts.iter().take(2).copied().collect::<Vec<_>>().join(".");
    let slug = code.replace('.', "-");
    let target_slug = target.replace('.', "-");
    FrameworkLink {
        framework: Framework::Sdg,
        goal,
        target,
        number: code.to_string(),
        relation: Relation::Same,
        baseline: Period::annual(2015).ok(),
        title: terms
            .names("global_indicators", &format!("{slug}-title"))
            .cloned()
            .unwrap_or_default(),
        target_text: terms
            .names("global_targets", &format!("{target_slug}-title"))
            .cloned()
            .unwrap_or_default(),
        citation: format!(
            "kazstat/sdg-data-kazstat (MIT), translations global_indicators.{slug}-title, commit {}",
            KAZSTAT_COMMIT.trim()
        ),
    }
}

fn target_from_row(
    r: &BTreeMap<String, String>,
    indicators: &[IndicatorDef],
    terms: &Terminology,
) -> Result<TargetDef, String> {
    let code = &r["indicator"];
    let framework = Framework::parse(&r["framework"])
        .ok_or_else(|| format!("targets.csv {code}: framework {}", r["framework"]))?;
    let value: f64 = r["value"]
        .parse()
        .map_err(|_| format!("targets.csv {code}: value {}", r["value"]))?;
    let rule = match r["kind"].as_str() {
        "absolute" => TargetRule::Absolute { value },
        "reduction" => TargetRule::Reduction {
            fraction: value,
            baseline: Period::parse(&r["baseline"])
                .map_err(|e| format!("targets.csv {code}: baseline: {e}"))?,
        },
        other => return Err(format!("targets.csv {code}: kind {other}")),
    };
    let citation = r["citation"].clone();
    // The wording: kazstat's translated target, or the framework's own text.
    let text = match citation.split_once('.') {
        Some(("global_targets", key)) => terms
            .names("global_targets", key)
            .cloned()
            .ok_or_else(|| format!("targets.csv {code}: no text {citation}"))?,
        _ => indicators
            .iter()
            .find(|d| d.code == *code)
            .and_then(|d| d.link(framework))
            .map(|l| l.target_text.clone())
            .ok_or_else(|| format!("targets.csv {code}: no {framework} link for {citation}"))?,
    };
    Ok(TargetDef {
        id: None,
        framework,
        dims: parse_dims(&r["dims"]).map_err(|e| format!("targets.csv {code}: {e}"))?,
        rule,
        by: Period::parse(&r["year"]).map_err(|e| format!("targets.csv {code}: {e}"))?,
        citation: if framework == Framework::Sdg {
            format!(
                "{citation} (kazstat/sdg-data-kazstat, commit {})",
                KAZSTAT_COMMIT.trim()
            )
        } else {
            citation
        },
        quote: Some(r["quote"].clone()).filter(|q| !q.is_empty()),
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_file_parses() {
        for (lang, group, text) in TRANSLATIONS {
            assert!(parse_translations(text).is_ok(), "{}/{group}", lang.code());
        }
        let s = build_seed().unwrap();
        // kazstat's indicators plus Bala's own (one per row of bala-indicators.csv).
        assert_eq!(
            s.indicators.len(),
            KAZSTAT_META.len() + records(BALA_INDICATORS_CSV).unwrap().len()
        );
        for d in &s.indicators {
            for lang in Lang::ALL {
                assert!(
                    d.names.get(lang).is_some(),
                    "{} has no {} name",
                    d.code,
                    lang.code()
                );
            }
        }
        // Each of Bala's own indicators names the pillar that computes it.
        for row in records(BALA_INDICATORS_CSV).unwrap() {
            let d = s.indicators.iter().find(|d| d.code == row["code"]).unwrap();
            assert!(
                d.computed
                    .as_deref()
                    .is_some_and(|c| c.starts_with("bala:")),
                "{} has no bala: source",
                d.code
            );
        }
        for code in [
            "IMM_DTP3_COVERAGE",
            "IMM_MCV1_COVERAGE",
            "IMM_ZERO_DOSE",
            "IMM_DROPOUT_DTP1_DTP3",
        ] {
            let d = s.indicators.iter().find(|d| d.code == code).unwrap();
            assert_eq!(d.computed.as_deref(), Some("bala:immunization"), "{code}");
        }
        let u5 = s.indicators.iter().find(|d| d.code == "3.2.1").unwrap();
        assert_eq!(u5.name(Lang::En), "Under‐five mortality rate");
        assert_eq!(u5.link(Framework::Mdg).unwrap().number, "4.1");
        assert_eq!(u5.targets.len(), 2);
        assert!(!s.code_mappings.is_empty());
    }

    /// Every target's quote is in the text it cites, so the values are the source's.
    #[test]
    fn target_quotes_are_in_their_sources() {
        for d in &seed().indicators {
            for t in &d.targets {
                let quote = t
                    .quote
                    .as_deref()
                    .expect("every shipped target quotes its source");
                let en = t.text.en.as_deref().unwrap_or_default();
                assert!(en.contains(quote), "{}: '{quote}' not in '{en}'", d.code);
                if let TargetRule::Absolute { value } = t.rule {
                    if value != 0.0 && value != 100.0 {
                        let digits = format!("{value}");
                        assert!(
                            quote.contains(&digits),
                            "{}: {digits} not in '{quote}'",
                            d.code
                        );
                    }
                }
                assert!(t.text.kk.is_some() && t.text.ru.is_some(), "{}", d.code);
            }
        }
    }

    #[test]
    fn code_names_come_from_kazstat() {
        assert_eq!(code_name(Lang::Kk, "SEX", "F"), Some("әйелдер"));
        assert_eq!(code_name(Lang::En, "URBANISATION", "R"), Some("rural"));
        assert_eq!(
            dimension_name(Lang::Ru, "SEX").map(|s| !s.is_empty()),
            Some(true)
        );
    }
}

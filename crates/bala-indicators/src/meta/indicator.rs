//! `indicator-config/*.yml` and `meta/*.yml`: which indicator, what it is called,
//! its unit and definition.

use super::terminology::{mapping, scalar_text, Label, Terminology};
use super::{MetaError, Names};
use serde::Serialize;
use serde_yaml_ng::Value;

/// What Bala needs from an `indicator-config` file (the rest drives Open SDG's pages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndicatorConfig {
    /// `indicator_number`, e.g. `3.2.1`: the code Bala uses for the indicator.
    pub number: String,
    /// `indicator_name`, a reference like `global_indicators.3-2-1-title`.
    pub name_ref: Option<String>,
    /// `graph_title`, a reference; used for the name when `indicator_name` is absent.
    pub graph_title_ref: Option<String>,
    /// `computation_units`: `UNIT_MEASURE.PT`, or literal text.
    pub unit_ref: Option<String>,
    /// `reporting_status`: `complete`, `notapplicable`, …
    pub reporting_status: Option<String>,
}

/// What Bala needs from a `meta` file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IndicatorMeta {
    /// `indicator_definition`: literal (English) text.
    pub definition: Option<String>,
    /// `computation_definitions`: a reference to translated text (often empty).
    pub definition_ref: Option<String>,
    /// `un_custodian_agency`.
    pub custodian: Option<String>,
    /// `source_compilation_1`: a reference to the compiling body's name.
    pub compiled_by_ref: Option<String>,
    /// `un_designated_tier`.
    pub tier: Option<String>,
}

/// An indicator as Bala shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndicatorInfo {
    /// `3.2.1`.
    pub code: String,
    /// `3-2-1`, as in kazstat's file names (`indicator_3-2-1.csv`).
    pub slug: String,
    pub names: Names,
    pub unit: Option<Label>,
    pub definition: Option<Label>,
    pub custodian: Option<String>,
    pub compiled_by: Option<Label>,
    pub reporting_status: Option<String>,
}

fn fields(input: &str) -> Result<Vec<(String, Value)>, MetaError> {
    mapping(input)
}

fn get(fields: &[(String, Value)], key: &str) -> Option<String> {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| scalar_text(v))
        .filter(|t| !t.is_empty())
}

pub fn parse_indicator_config(input: &str) -> Result<IndicatorConfig, MetaError> {
    let f = fields(input)?;
    Ok(IndicatorConfig {
        number: get(&f, "indicator_number").ok_or(MetaError::Missing("indicator_number"))?,
        name_ref: get(&f, "indicator_name"),
        graph_title_ref: get(&f, "graph_title"),
        unit_ref: get(&f, "computation_units"),
        reporting_status: get(&f, "reporting_status"),
    })
}

pub fn parse_indicator_meta(input: &str) -> Result<IndicatorMeta, MetaError> {
    let f = fields(input)?;
    Ok(IndicatorMeta {
        definition: get(&f, "indicator_definition"),
        definition_ref: get(&f, "computation_definitions"),
        custodian: get(&f, "un_custodian_agency"),
        compiled_by_ref: get(&f, "source_compilation_1"),
        tier: get(&f, "un_designated_tier"),
    })
}

/// Resolves an indicator's references against the term base.
pub fn describe(
    config: &IndicatorConfig,
    meta: Option<&IndicatorMeta>,
    terms: &Terminology,
) -> IndicatorInfo {
    let translated = |r: &Option<String>| match r.as_deref().map(|r| terms.resolve(r)) {
        Some(Label::Translated { names, .. }) => Some(names),
        _ => None,
    };
    let names = translated(&config.name_ref)
        .or_else(|| translated(&config.graph_title_ref))
        .unwrap_or_default();
    let definition = meta.and_then(|m| {
        let t = m.definition_ref.as_deref().map(|r| terms.resolve(r));
        match t {
            Some(l @ Label::Translated { .. }) => Some(l),
            _ => m.definition.clone().map(Label::Literal),
        }
    });
    IndicatorInfo {
        code: config.number.clone(),
        slug: config.number.replace('.', "-"),
        names,
        unit: config.unit_ref.as_deref().map(|u| terms.resolve(u)),
        definition,
        custodian: meta.and_then(|m| m.custodian.clone()),
        compiled_by: meta
            .and_then(|m| m.compiled_by_ref.as_deref())
            .map(|r| terms.resolve(r)),
        reporting_status: config.reporting_status.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::Lang;

    #[test]
    fn config_and_meta() {
        let c = parse_indicator_config("\u{feff}computation_units: UNIT_MEASURE.PT\nindicator_name: global_indicators.1-2-1-title\nindicator_number: 1.2.1\nreporting_status: complete\ntags: []\n").unwrap();
        assert_eq!(c.number, "1.2.1");
        assert_eq!(c.unit_ref.as_deref(), Some("UNIT_MEASURE.PT"));
        assert_eq!(
            parse_indicator_config("a: 1\n"),
            Err(MetaError::Missing("indicator_number"))
        );
        let m = parse_indicator_meta("indicator_definition: The probability\n  of dying\ncomputation_definitions: computation_definitions.3-2-1\nun_designated_tier: '1'\nsource_data_1: null\n").unwrap();
        assert_eq!(m.definition.as_deref(), Some("The probability of dying"));
        assert_eq!(m.tier.as_deref(), Some("1"));

        let mut t = Terminology::new();
        t.add(
            Lang::En,
            "global_indicators",
            [("1-2-1-title".to_string(), "Poverty".to_string())].into(),
        );
        let info = describe(&c, Some(&m), &t);
        assert_eq!(info.slug, "1-2-1");
        assert_eq!(info.names.en.as_deref(), Some("Poverty"));
        assert_eq!(info.unit, Some(Label::Literal("UNIT_MEASURE.PT".into())));
        assert_eq!(
            info.definition,
            Some(Label::Literal("The probability of dying".into()))
        );
    }
}

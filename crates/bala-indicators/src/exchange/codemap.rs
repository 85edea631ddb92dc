//! Translation between another system's codes and Bala's.
//!
//! DHIS2 identifies data elements, organisation units and category option combos by
//! its own 11-character UIDs (or by codes configured per instance), none of which
//! mean anything outside that instance. A [`CodeMap`] says, for one external system,
//! which Bala indicator, area and disaggregation each external code stands for. The
//! DHIS2 readers apply it and reject, by row, whatever it does not cover — an
//! unmapped code is a configuration gap to fix, never something to guess.
//!
//! The flat form, [`CodeMapping`] (system, kind, external, bala), is what storage
//! keeps in a table and what an administrator edits.

use crate::model::dims::{format_dims, is_code, parse_dims};
use crate::model::{AreaRef, Dims};
use bala_core::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// DHIS2's "default" category option combo: the value has no breakdown. The UID is
/// the same in every DHIS2 instance (hard-coded in dhis2-core's
/// `DefaultCategoryService`), so it needs no mapping.
pub const DHIS2_DEFAULT_COMBO: &str = "HllvX50cXC0";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CodeKind {
    /// External: a data element. Bala: an indicator code.
    Indicator,
    /// External: an organisation unit. Bala: an area code (KATO, stat code, or
    /// empty for national).
    Area,
    /// External: a category option combo or attribute option combo UID, or, for
    /// ADX, `CATEGORY=OPTION` (a category attribute and its option code). Bala: a
    /// disaggregation in [`format_dims`] form, `SEX=F;AGE=Y0T4`, empty for total.
    Disaggregation,
}

impl fmt::Display for CodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CodeKind::Indicator => "indicator",
            CodeKind::Area => "area",
            CodeKind::Disaggregation => "disaggregation",
        })
    }
}

/// One row of a code map, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeMapping {
    pub system: String,
    pub kind: CodeKind,
    pub external: String,
    pub bala: String,
}

/// The code map of one external system.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeMap {
    system: String,
    indicators: BTreeMap<String, String>,
    areas: BTreeMap<String, AreaRef>,
    disaggregations: BTreeMap<String, Dims>,
}

impl CodeMap {
    pub fn new(system: impl Into<String>) -> CodeMap {
        CodeMap {
            system: system.into(),
            ..CodeMap::default()
        }
    }

    /// The external system's name (e.g. `dhis2-moh`); recorded as the source of
    /// what is imported through this map.
    pub fn system(&self) -> &str {
        &self.system
    }

    /// Adds one mapping. Mapping the same external code twice to the same thing is
    /// harmless; to something else is an error.
    pub fn insert(&mut self, kind: CodeKind, external: &str, bala: &str) -> Result<(), FieldError> {
        let ext = external.trim();
        if ext.is_empty() {
            return Err(FieldError::new(
                "external",
                super::codes::MISSING,
                "the external code is empty",
            ));
        }
        match kind {
            CodeKind::Indicator => {
                insert_checked(&mut self.indicators, ext, parse_indicator(bala)?)
            }
            CodeKind::Area => insert_checked(&mut self.areas, ext, parse_area(bala)?),
            CodeKind::Disaggregation => {
                check_disaggregation_external(ext)?;
                let dims = parse_dims(bala)
                    .map_err(|e| FieldError::new("bala", super::codes::BAD_CODE, e))?;
                insert_checked(&mut self.disaggregations, ext, dims)
            }
        }
    }

    /// Builder form of [`CodeMap::insert`].
    pub fn with(
        mut self,
        kind: CodeKind,
        external: &str,
        bala: &str,
    ) -> Result<CodeMap, FieldError> {
        self.insert(kind, external, bala)?;
        Ok(self)
    }

    /// The map of `system` from stored rows (rows of other systems are skipped);
    /// every bad row is reported, field named `row N`.
    pub fn from_mappings(
        system: &str,
        mappings: &[CodeMapping],
    ) -> Result<CodeMap, ValidationErrors> {
        let mut map = CodeMap::new(system);
        let mut errors = ValidationErrors::new();
        for (i, m) in mappings
            .iter()
            .enumerate()
            .filter(|(_, m)| m.system == system)
        {
            if let Err(e) = map.insert(m.kind, &m.external, &m.bala) {
                errors.push(
                    format!("row {}", i + 1),
                    e.code,
                    format!("{} '{}': {}", m.kind, m.external, e.detail),
                );
            }
        }
        errors.into_result().map(|_| map)
    }

    /// The stored form, sorted by kind and external code.
    pub fn to_mappings(&self) -> Vec<CodeMapping> {
        let row = |kind, external: &String, bala: String| CodeMapping {
            system: self.system.clone(),
            kind,
            external: external.clone(),
            bala,
        };
        let mut out: Vec<CodeMapping> = self
            .indicators
            .iter()
            .map(|(e, b)| row(CodeKind::Indicator, e, b.clone()))
            .collect();
        out.extend(
            self.areas
                .iter()
                .map(|(e, b)| row(CodeKind::Area, e, b.as_str().to_string())),
        );
        out.extend(
            self.disaggregations
                .iter()
                .map(|(e, b)| row(CodeKind::Disaggregation, e, format_dims(b))),
        );
        out
    }

    pub fn indicator(&self, external: &str) -> Option<&str> {
        self.indicators.get(external.trim()).map(String::as_str)
    }

    pub fn area(&self, external: &str) -> Option<&AreaRef> {
        self.areas.get(external.trim())
    }

    /// A category option combo or attribute option combo.
    pub fn combo(&self, external: &str) -> Option<&Dims> {
        self.disaggregations.get(external.trim())
    }

    /// An ADX category attribute (`Sex_category="FFFFFFFFFFF"`).
    pub fn category_option(&self, category: &str, option: &str) -> Option<&Dims> {
        self.disaggregations
            .get(&format!("{}={}", category.trim(), option.trim()))
    }

    /// Lookups from Bala codes back to external ones, for the writers.
    pub(crate) fn reverse(&self) -> Reverse {
        let mut r = Reverse::default();
        for (e, b) in &self.indicators {
            r.indicators.entry(b.clone()).or_insert_with(|| e.clone());
        }
        for (e, a) in &self.areas {
            r.areas.entry(a.clone()).or_insert_with(|| e.clone());
        }
        for (e, d) in &self.disaggregations {
            match e.split_once('=') {
                None => {
                    r.combos.entry(d.clone()).or_insert_with(|| e.clone());
                }
                Some((cat, opt)) if d.len() == 1 => {
                    let (dim, code) = d
                        .iter()
                        .next()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .unwrap_or_default();
                    r.options
                        .entry((dim, code))
                        .or_insert_with(|| (cat.to_string(), opt.to_string()));
                }
                Some(_) => {}
            }
        }
        r
    }
}

/// Bala → external. When several external codes map to one Bala code, the first in
/// sorted order is used, so exports are deterministic.
#[derive(Debug, Default)]
pub(crate) struct Reverse {
    pub indicators: HashMap<String, String>,
    pub areas: HashMap<AreaRef, String>,
    /// Whole disaggregation → combo UID.
    pub combos: HashMap<Dims, String>,
    /// (dimension, code) → (ADX category, option).
    pub options: HashMap<(String, String), (String, String)>,
}

impl Reverse {
    /// ADX category attributes for a whole disaggregation, if every breakdown has
    /// one and no category is used twice.
    pub fn category_options(&self, dims: &Dims) -> Option<Vec<(String, String)>> {
        let mut out: Vec<(String, String)> = Vec::with_capacity(dims.len());
        for (k, v) in dims {
            let (cat, opt) = self.options.get(&(k.clone(), v.clone()))?;
            if out.iter().any(|(c, _)| c == cat) {
                return None;
            }
            out.push((cat.clone(), opt.clone()));
        }
        Some(out)
    }
}

fn insert_checked<V: PartialEq + Shown>(
    map: &mut BTreeMap<String, V>,
    ext: &str,
    value: V,
) -> Result<(), FieldError> {
    match map.get(ext) {
        Some(existing) if *existing != value => Err(FieldError::new(
            "external",
            super::codes::CONFLICT,
            format!("'{ext}' is already mapped to '{}'", existing.shown()),
        )),
        _ => {
            map.insert(ext.to_string(), value);
            Ok(())
        }
    }
}

/// How a mapped value appears in messages: as it is written in a code map.
trait Shown {
    fn shown(&self) -> String;
}

impl Shown for String {
    fn shown(&self) -> String {
        self.clone()
    }
}

impl Shown for AreaRef {
    fn shown(&self) -> String {
        self.as_str().to_string()
    }
}

impl Shown for Dims {
    fn shown(&self) -> String {
        format_dims(self)
    }
}

fn parse_indicator(bala: &str) -> Result<String, FieldError> {
    let b = bala.trim();
    if is_code(b) {
        Ok(b.to_string())
    } else {
        Err(FieldError::new(
            "bala",
            super::codes::BAD_CODE,
            format!("'{b}' is not an indicator code"),
        ))
    }
}

fn parse_area(bala: &str) -> Result<AreaRef, FieldError> {
    match AreaRef::parse(bala) {
        AreaRef::Code(c) if !is_code(&c) => Err(FieldError::new(
            "bala",
            super::codes::BAD_CODE,
            format!("'{c}' is not an area code"),
        )),
        a => Ok(a),
    }
}

/// A combo UID (no `=`), or `CATEGORY=OPTION` whose category can be an XML
/// attribute name, since ADX writes it as one.
fn check_disaggregation_external(ext: &str) -> Result<(), FieldError> {
    /// ADX attributes with their own meaning; a category cannot use these names.
    const ADX_NAMES: &[&str] = &[
        "dataElement",
        "value",
        "categoryOptionCombo",
        "attributeOptionCombo",
        "period",
        "orgUnit",
        "dataSet",
        "completeDate",
    ];
    let Some((cat, opt)) = ext.split_once('=') else {
        return Ok(());
    };
    if is_xml_name(cat) && !ADX_NAMES.contains(&cat) && !opt.is_empty() {
        Ok(())
    } else {
        Err(FieldError::new("external", super::codes::BAD_CODE, format!("'{ext}' is not CATEGORY=OPTION with an XML name (not an ADX attribute name) as the category")))
    }
}

/// A conservative XML name: ASCII letter or `_`, then letters, digits, `_`, `-`, `.`.
fn is_xml_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> CodeMap {
        CodeMap::new("dhis2-demo")
            .with(CodeKind::Indicator, "f7n9E0hX8qk", "IMM_DTP3")
            .unwrap()
            .with(CodeKind::Area, "DiszpKrYNg8", "751110000")
            .unwrap()
            .with(CodeKind::Disaggregation, "FOver555555", "SEX=F;AGE=Y_GE5")
            .unwrap()
            .with(
                CodeKind::Disaggregation,
                "Sex_category=FFFFFFFFFFF",
                "SEX=F",
            )
            .unwrap()
    }

    #[test]
    fn lookups() {
        let m = map();
        assert_eq!(m.indicator("f7n9E0hX8qk"), Some("IMM_DTP3"));
        assert!(matches!(m.area("DiszpKrYNg8"), Some(AreaRef::Kato(_))));
        assert_eq!(m.combo("FOver555555").unwrap().len(), 2);
        assert_eq!(
            m.category_option("Sex_category", "FFFFFFFFFFF").unwrap()["SEX"],
            "F"
        );
        assert_eq!(m.indicator("nope"), None);
    }

    #[test]
    fn conflicting_and_bad_mappings_are_refused() {
        let mut m = map();
        assert!(m
            .insert(CodeKind::Indicator, "f7n9E0hX8qk", "IMM_DTP3")
            .is_ok());
        assert_eq!(
            m.insert(CodeKind::Indicator, "f7n9E0hX8qk", "OTHER")
                .unwrap_err()
                .code,
            "indicators-conflict"
        );
        assert!(m.insert(CodeKind::Indicator, "x", "bad code").is_err());
        assert!(m.insert(CodeKind::Disaggregation, "x", "sex=f").is_err());
        assert!(m
            .insert(CodeKind::Disaggregation, "1cat=x", "SEX=F")
            .is_err());
        assert!(m.insert(CodeKind::Area, " ", "KZAKM").is_err());
    }

    #[test]
    fn stored_form_round_trips() {
        let m = map();
        let rows = m.to_mappings();
        assert_eq!(rows.len(), 4);
        assert_eq!(CodeMap::from_mappings("dhis2-demo", &rows).unwrap(), m);
        let mut bad = rows.clone();
        bad.push(CodeMapping {
            system: "dhis2-demo".into(),
            kind: CodeKind::Indicator,
            external: "f7n9E0hX8qk".into(),
            bala: "X".into(),
        });
        bad.push(CodeMapping {
            system: "other".into(),
            kind: CodeKind::Indicator,
            external: "f7n9E0hX8qk".into(),
            bala: "Y".into(),
        });
        let e = CodeMap::from_mappings("dhis2-demo", &bad).unwrap_err();
        assert_eq!(e.0.len(), 1);
        assert_eq!(e.0[0].field, "row 5");
    }

    #[test]
    fn reverse_prefers_category_options_per_dimension() {
        let r = map().reverse();
        let dims: Dims = [("SEX".to_string(), "F".to_string())].into();
        assert_eq!(
            r.category_options(&dims),
            Some(vec![("Sex_category".into(), "FFFFFFFFFFF".into())])
        );
        let both: Dims = [
            ("SEX".to_string(), "F".to_string()),
            ("AGE".to_string(), "Y_GE5".to_string()),
        ]
        .into();
        assert_eq!(r.category_options(&both), None);
        assert_eq!(r.combos.get(&both).map(String::as_str), Some("FOver555555"));
    }
}

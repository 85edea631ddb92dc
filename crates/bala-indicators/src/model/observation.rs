//! One indicator value and its key.

use super::dims::{is_code, is_component_id, is_total, Dims};
use super::period::Period;
use bala_core::{AreaCode, ValidationErrors};
use serde::{Deserialize, Serialize};
use std::fmt;

/// SDMX concept ids that are fields of [`Observation`] itself in some exchange
/// format, so they can never be a dimension or attribute key (an SDMX-CSV writer
/// would otherwise produce two `OBS_VALUE` columns).
pub const RESERVED_IDS: &[&str] = &[
    "INDICATOR",
    "REF_AREA",
    "TIME_PERIOD",
    "OBS_VALUE",
    "LOWER_BOUND",
    "UPPER_BOUND",
    "OBS_STATUS",
    "DATA_SOURCE",
    "OBS_FOOTNOTE",
    "COMMENT_OBS",
    "DATAFLOW",
    "STRUCTURE",
    "STRUCTURE_ID",
    "ACTION",
];

/// Where a value applies, as the source file names it.
///
/// Kept as found rather than resolved at parse time because resolving needs the
/// versioned area table (kazstat's `KZONT` is South Kazakhstan, which ceased to exist
/// in 2018): the loader maps codes to KATO areas with the data's period in hand.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum AreaRef {
    /// Empty `REF_AREA`: the whole country.
    National,
    /// A nine-digit KATO code.
    Kato(AreaCode),
    /// Any other code: a kazstat statistical code (`KZAKM`), an ISO 3166 code
    /// (`KAZ`), a UNICEF region (`WHO_EURO`).
    Code(String),
}

impl AreaRef {
    /// Classifies a code by its shape: empty → national, nine digits → KATO.
    pub fn parse(text: &str) -> AreaRef {
        let t = text.trim();
        if t.is_empty() {
            AreaRef::National
        } else if let Ok(code) = AreaCode::parse(t) {
            AreaRef::Kato(code)
        } else {
            AreaRef::Code(t.to_string())
        }
    }

    /// The code as written in files; empty for national.
    pub fn as_str(&self) -> &str {
        match self {
            AreaRef::National => "",
            AreaRef::Kato(c) => c.as_str(),
            AreaRef::Code(c) => c,
        }
    }

    /// National, including KATO's code for the Republic.
    pub fn is_national(&self) -> bool {
        match self {
            AreaRef::National => true,
            AreaRef::Kato(c) => c.as_str() == bala_core::kato::REPUBLIC,
            AreaRef::Code(_) => false,
        }
    }
}

impl fmt::Display for AreaRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AreaRef::National => f.write_str("national"),
            other => f.write_str(other.as_str()),
        }
    }
}

impl From<String> for AreaRef {
    fn from(s: String) -> AreaRef {
        AreaRef::parse(&s)
    }
}

impl From<AreaRef> for String {
    fn from(a: AreaRef) -> String {
        a.as_str().to_string()
    }
}

/// Which way is good for an indicator. Files never say, so callers supply it from
/// the indicator's definition (mortality: lower; vaccine coverage: higher).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    LowerIsBetter,
    HigherIsBetter,
}

impl Direction {
    /// Whether `a` is strictly better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Direction::LowerIsBetter => a < b,
            Direction::HigherIsBetter => a > b,
        }
    }

    /// Whether `value` meets `target` (reaching it exactly counts).
    pub fn meets(self, value: f64, target: f64) -> bool {
        match self {
            Direction::LowerIsBetter => value <= target,
            Direction::HigherIsBetter => value >= target,
        }
    }
}

/// SDMX observation status (code list CL_OBS_STATUS). Bala distinguishes the
/// statuses that change how a value may be used (a provisional or estimated figure
/// is shown as such); any other code is kept as given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum ObsStatus {
    /// `A`, "normal value": final, official.
    Final,
    /// `P`: provisional, may be revised.
    Provisional,
    /// `E`: estimated (modelled, e.g. UN IGME and WUENIC figures).
    Estimated,
    /// `F`: forecast.
    Forecast,
    /// `I`: imputed by the receiving agency.
    Imputed,
    /// Any other status code.
    Other(String),
}

impl ObsStatus {
    pub fn from_code(code: &str) -> ObsStatus {
        match code.trim() {
            "A" => ObsStatus::Final,
            "P" => ObsStatus::Provisional,
            "E" => ObsStatus::Estimated,
            "F" => ObsStatus::Forecast,
            "I" => ObsStatus::Imputed,
            other => ObsStatus::Other(other.to_string()),
        }
    }

    pub fn code(&self) -> &str {
        match self {
            ObsStatus::Final => "A",
            ObsStatus::Provisional => "P",
            ObsStatus::Estimated => "E",
            ObsStatus::Forecast => "F",
            ObsStatus::Imputed => "I",
            ObsStatus::Other(c) => c,
        }
    }
}

impl From<String> for ObsStatus {
    fn from(s: String) -> ObsStatus {
        ObsStatus::from_code(&s)
    }
}

impl From<ObsStatus> for String {
    fn from(s: ObsStatus) -> String {
        s.code().to_string()
    }
}

/// One value of one indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Indicator code as the source names it (`3.2.1`, `CME_MRY0T4`, or the Bala
    /// code a DHIS2 data element is mapped to).
    pub indicator: String,
    pub area: AreaRef,
    pub period: Period,
    /// Disaggregation; absent dimensions are totals (see [`crate::model::dims`]).
    pub dims: Dims,
    pub value: f64,
    /// Lower bound of the uncertainty interval (UN IGME publishes 90 % intervals).
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub status: Option<ObsStatus>,
    /// Who produced the figure (SDMX `DATA_SOURCE`, e.g. `UN_IGME`).
    pub source: Option<String>,
    /// Note on this value (SDMX `OBS_FOOTNOTE`, DHIS2 `comment`, ADX `annotation`).
    pub footnote: Option<String>,
    /// Other SDMX attributes Bala does not interpret but keeps, so that an export
    /// carries the source's notes (UNICEF's `COUNTRY_NOTES`, `UNIT_MULTIPLIER` …).
    pub attributes: Dims,
}

/// What identifies an observation: two with the same key are the same cell.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ObsKey {
    pub indicator: String,
    pub area: AreaRef,
    pub period: Period,
    pub dims: Dims,
}

impl fmt::Display for ObsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {} / {}", self.indicator, self.area, self.period)?;
        if !self.dims.is_empty() {
            write!(f, " / {}", super::dims::format_dims(&self.dims))?;
        }
        Ok(())
    }
}

impl Observation {
    /// A national-or-area total with no bounds, status or notes.
    pub fn new(indicator: impl Into<String>, area: AreaRef, period: Period, value: f64) -> Self {
        Observation {
            indicator: indicator.into(),
            area,
            period,
            dims: Dims::new(),
            value,
            lower: None,
            upper: None,
            status: None,
            source: None,
            footnote: None,
            attributes: Dims::new(),
        }
    }

    /// Adds a breakdown; a total code (`_T`, empty) is dropped, as parsers do.
    pub fn with_dim(mut self, dimension: &str, code: &str) -> Self {
        if !is_total(code) {
            self.dims
                .insert(dimension.to_string(), code.trim().to_string());
        }
        self
    }

    pub fn key(&self) -> ObsKey {
        ObsKey {
            indicator: self.indicator.clone(),
            area: self.area.clone(),
            period: self.period,
            dims: self.dims.clone(),
        }
    }

    /// Checks what types cannot: codes are well formed, numbers finite, bounds
    /// ordered around the value. Every parser runs this before accepting a row, so
    /// storage can rely on it.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        self.check_codes(&mut errors);
        self.check_numbers(&mut errors);
        self.check_texts(&mut errors);
        errors.into_result()
    }

    fn check_codes(&self, errors: &mut ValidationErrors) {
        if !is_code(&self.indicator) {
            errors.push(
                "indicator",
                "indicators-bad-code",
                format!("'{}' is not a valid indicator code", self.indicator),
            );
        }
        if let AreaRef::Code(c) = &self.area {
            if !is_code(c) {
                errors.push(
                    "area",
                    "indicators-bad-code",
                    format!("'{c}' is not a valid area code"),
                );
            }
        }
        for (k, v) in &self.dims {
            check_key(errors, k, "dimension");
            if is_total(v) || !is_code(v) {
                errors.push(
                    k.as_str(),
                    "indicators-bad-code",
                    format!("'{v}' is not a valid code for {k}"),
                );
            }
        }
        for (k, v) in &self.attributes {
            check_key(errors, k, "attribute");
            if self.dims.contains_key(k) {
                errors.push(
                    k.as_str(),
                    "indicators-bad-code",
                    format!("{k} is both a dimension and an attribute"),
                );
            }
            if k == super::dims::id::UNIT_MEASURE {
                errors.push(
                    k.as_str(),
                    "indicators-bad-code",
                    "the unit is kept with the breakdowns (dims), not as an attribute",
                );
            }
            if v.trim().is_empty() {
                errors.push(
                    k.as_str(),
                    "indicators-missing",
                    format!("attribute {k} is empty"),
                );
            }
        }
        if let Some(ObsStatus::Other(c)) = &self.status {
            if !is_code(c) {
                errors.push(
                    "OBS_STATUS",
                    "indicators-bad-code",
                    format!("'{c}' is not a valid status code"),
                );
            }
        }
    }

    fn check_numbers(&self, errors: &mut ValidationErrors) {
        if !self.value.is_finite() {
            errors.push(
                "value",
                "indicators-not-number",
                "the value is not a finite number",
            );
        }
        for (field, bound) in [("LOWER_BOUND", self.lower), ("UPPER_BOUND", self.upper)] {
            if bound.is_some_and(|b| !b.is_finite()) {
                errors.push(
                    field,
                    "indicators-not-number",
                    "the bound is not a finite number",
                );
            }
        }
        if let Some(l) = self.lower.filter(|l| *l > self.value) {
            errors.push(
                "LOWER_BOUND",
                "indicators-bad-bounds",
                format!("lower bound {l} is above the value {}", self.value),
            );
        }
        if let Some(u) = self.upper.filter(|u| *u < self.value) {
            errors.push(
                "UPPER_BOUND",
                "indicators-bad-bounds",
                format!("upper bound {u} is below the value {}", self.value),
            );
        }
    }

    fn check_texts(&self, errors: &mut ValidationErrors) {
        for (field, text) in [
            ("DATA_SOURCE", &self.source),
            ("OBS_FOOTNOTE", &self.footnote),
        ] {
            if text.as_ref().is_some_and(|t| t.trim().is_empty()) {
                errors.push(
                    field,
                    "indicators-missing",
                    "present but empty; leave it out instead",
                );
            }
        }
    }
}

fn check_key(errors: &mut ValidationErrors, key: &str, what: &str) {
    if !is_component_id(key) {
        errors.push(
            key,
            "indicators-bad-code",
            format!("'{key}' is not a valid {what} id (upper-case letters, digits, _)"),
        );
    } else if RESERVED_IDS.contains(&key) {
        errors.push(
            key,
            "indicators-bad-code",
            format!("{key} is an observation field, not a {what}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs() -> Observation {
        Observation::new(
            "3.2.1",
            AreaRef::parse("KZAKM"),
            Period::annual(2019).unwrap(),
            10.0,
        )
    }

    #[test]
    fn area_refs_by_shape() {
        assert_eq!(AreaRef::parse(""), AreaRef::National);
        assert!(matches!(AreaRef::parse("751110000"), AreaRef::Kato(_)));
        assert_eq!(AreaRef::parse(" KZAKM "), AreaRef::Code("KZAKM".into()));
        assert!(AreaRef::parse("000000000").is_national());
        assert_eq!(AreaRef::parse("KZAKM").as_str(), "KZAKM");
    }

    #[test]
    fn status_codes_round_trip() {
        for c in ["A", "P", "E", "F", "I", "B"] {
            assert_eq!(ObsStatus::from_code(c).code(), c);
        }
        assert_eq!(ObsStatus::from_code("P"), ObsStatus::Provisional);
    }

    #[test]
    fn valid_observation_passes() {
        let mut o = obs().with_dim("SEX", "F").with_dim("AGE", "_T");
        o.lower = Some(9.0);
        o.upper = Some(11.0);
        assert!(o.validate().is_ok());
        assert_eq!(o.dims.len(), 1);
    }

    #[test]
    fn validation_names_the_field() {
        let mut o = obs();
        o.value = f64::NAN;
        o.lower = Some(12.0);
        o.dims.insert("OBS_VALUE".into(), "X".into());
        o.attributes.insert("COUNTRY_NOTES".into(), " ".into());
        let e = o.validate().unwrap_err();
        assert!(e.for_field("value").is_some());
        assert!(e.for_field("OBS_VALUE").is_some());
        assert!(e.for_field("COUNTRY_NOTES").is_some());
        let mut o = obs();
        o.lower = Some(12.0);
        assert!(o.validate().unwrap_err().for_field("LOWER_BOUND").is_some());
    }

    #[test]
    fn directions() {
        assert!(Direction::LowerIsBetter.better(1.0, 2.0));
        assert!(Direction::HigherIsBetter.meets(95.0, 95.0));
        assert!(!Direction::LowerIsBetter.meets(26.0, 25.0));
    }
}

//! An observation being assembled from one row's fields, collecting every problem
//! instead of stopping at the first, so one rejection lists all that is wrong.

use super::codes;
use crate::model::dims::is_total;
use crate::model::{AreaRef, Dims, ObsStatus, Observation, Period};
use bala_core::ValidationErrors;

#[derive(Debug, Default)]
pub(crate) struct Draft {
    pub indicator: Option<String>,
    pub area: Option<AreaRef>,
    pub period: Option<Period>,
    pub dims: Dims,
    pub value: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub status: Option<ObsStatus>,
    pub source: Option<String>,
    pub footnote: Option<String>,
    pub attributes: Dims,
    pub errors: ValidationErrors,
}

impl Draft {
    pub fn error(&mut self, field: &str, code: &'static str, detail: impl Into<String>) {
        self.errors.push(field, code, detail);
    }

    /// Records a required numeric field.
    pub fn set_value(&mut self, field: &str, text: &str) {
        match parse_number(text) {
            Ok(Some(v)) => self.value = Some(v),
            Ok(None) => self.error(field, codes::MISSING, "the value is empty"),
            Err(msg) => self.error(field, codes::NOT_NUMBER, msg),
        }
    }

    /// Records an optional numeric field (bounds).
    pub fn optional_number(&mut self, field: &str, text: &str) -> Option<f64> {
        match parse_number(text) {
            Ok(v) => v,
            Err(msg) => {
                self.error(field, codes::NOT_NUMBER, msg);
                None
            }
        }
    }

    pub fn set_period(&mut self, field: &str, text: &str) {
        if text.trim().is_empty() {
            self.error(field, codes::MISSING, "the period is empty");
            return;
        }
        match Period::parse(text) {
            Ok(p) => self.period = Some(p),
            Err(e) => self.error(field, codes::BAD_PERIOD, e.to_string()),
        }
    }

    /// Adds a dimension value; totals are dropped; a second, different code for the
    /// same dimension is an error (two columns or a combo and an attribute disagree).
    pub fn set_dim(&mut self, dimension: &str, code: &str) {
        let code = code.trim();
        if is_total(code) {
            return;
        }
        match self.dims.get(dimension) {
            Some(existing) if existing != code => {
                let msg = format!("{dimension} is given as both '{existing}' and '{code}'");
                self.error(dimension, codes::CONFLICT, msg);
            }
            _ => {
                self.dims.insert(dimension.to_string(), code.to_string());
            }
        }
    }

    pub fn set_attribute(&mut self, id: &str, text: &str) {
        if let Some(t) = non_empty(text) {
            self.attributes.insert(id.to_string(), t);
        }
    }

    /// The observation, if every required field is there and it validates.
    pub fn finish(
        mut self,
        indicator_field: &str,
        period_field: &str,
        value_field: &str,
    ) -> Result<Observation, ValidationErrors> {
        if self
            .indicator
            .as_deref()
            .is_none_or(|s| s.trim().is_empty())
        {
            self.error(indicator_field, codes::MISSING, "the indicator is empty");
        }
        if self.period.is_none() && self.errors.for_field(period_field).is_none() {
            self.error(period_field, codes::MISSING, "the period is missing");
        }
        if self.value.is_none() && self.errors.for_field(value_field).is_none() {
            self.error(value_field, codes::MISSING, "the value is missing");
        }
        let (Some(indicator), Some(period), Some(value), true) = (
            self.indicator,
            self.period,
            self.value,
            self.errors.is_empty(),
        ) else {
            return Err(self.errors);
        };
        let obs = Observation {
            indicator: indicator.trim().to_string(),
            area: self.area.unwrap_or(AreaRef::National),
            period,
            dims: self.dims,
            value,
            lower: self.lower,
            upper: self.upper,
            status: self.status,
            source: self.source,
            footnote: self.footnote,
            attributes: self.attributes,
        };
        obs.validate()?;
        Ok(obs)
    }
}

/// `Ok(None)` for an empty cell; finite numbers only (Rust would accept `NaN`,
/// `inf`); a decimal comma gets its own hint because spreadsheets in Kazakh and
/// Russian locales write one.
pub(crate) fn parse_number(text: &str) -> Result<Option<f64>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        Ok(_) => Err(format!("'{t}' is not a finite number")),
        Err(_) if t.contains(',') && t.replace(',', ".").parse::<f64>().is_ok() => Err(format!(
            "'{t}' is not a number: use a point as the decimal separator"
        )),
        Err(_) => Err(format!("'{t}' is not a number")),
    }
}

pub(crate) fn non_empty(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number(" 19.55 "), Ok(Some(19.55)));
        assert_eq!(parse_number(""), Ok(None));
        assert!(parse_number("NaN").is_err());
        assert!(parse_number("inf").is_err());
        assert!(parse_number("19,55")
            .unwrap_err()
            .contains("decimal separator"));
        assert!(parse_number("abc").is_err());
    }

    #[test]
    fn draft_lists_every_problem() {
        let mut d = Draft::default();
        d.set_value("Value", "x");
        d.set_period("Year", "20x0");
        let e = d.finish("INDICATOR", "Year", "Value").unwrap_err();
        assert_eq!(e.0.len(), 3, "{e}");
    }

    #[test]
    fn conflicting_dims() {
        let mut d = Draft::default();
        d.set_dim("SEX", "F");
        d.set_dim("SEX", "F");
        assert!(d.errors.is_empty());
        d.set_dim("SEX", "M");
        assert!(d.errors.for_field("SEX").is_some());
    }
}

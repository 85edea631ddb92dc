//! Disaggregations: dimension → code, SDMX-style (`SEX=F`, `URBANISATION=U`,
//! `AGE=Y0T4`, `INCOME_WEALTH_QUANTILE=Q1`, `SERIES=…`, `UNIT_MEASURE=…`).
//!
//! A dimension that is absent means "all" (the total). SDMX writes the total as
//! `_T` and kazstat's Open SDG files mostly leave the cell empty (but 3.2.1 writes
//! `SEX=_T`), so both are normalised to absence: the same national total then has
//! the same key whichever file it came from, and comparisons between groups find it.

use std::collections::BTreeMap;

/// Dimension id → code. Sorted, so equal disaggregations compare and hash equal.
pub type Dims = BTreeMap<String, String>;

/// SDMX's code for "total" in every code list.
pub const TOTAL: &str = "_T";

/// Dimension ids used in the reference data, named so callers don't misspell them.
pub mod id {
    pub const SEX: &str = "SEX";
    pub const AGE: &str = "AGE";
    pub const URBANISATION: &str = "URBANISATION";
    /// UNICEF's name for urban/rural.
    pub const RESIDENCE: &str = "RESIDENCE";
    /// kazstat's (SDG) name for wealth/income quintiles.
    pub const INCOME_WEALTH_QUANTILE: &str = "INCOME_WEALTH_QUANTILE";
    /// UNICEF's name for wealth quintiles.
    pub const WEALTH_QUINTILE: &str = "WEALTH_QUINTILE";
    pub const SERIES: &str = "SERIES";
    pub const UNIT_MEASURE: &str = "UNIT_MEASURE";
}

/// Whether `code` means "no breakdown on this dimension".
pub fn is_total(code: &str) -> bool {
    let c = code.trim();
    c.is_empty() || c == TOTAL
}

/// An SDMX component id as the reference files spell them: an upper-case letter or
/// underscore, then upper-case letters, digits and underscores. SDMX itself also
/// allows lower case, but no global DSD uses it, and requiring upper case is what
/// lets an SDMX-CSV reader tell the id column `INDICATOR` from UNICEF's label
/// column `Indicator`.
pub fn is_component_id(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b'A'..=b'Z' | b'_'))
        && bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// A code value (SDMX IDType: letters, digits, `_`, `@`, `$`, `-`) plus `.` so SDG
/// numbers like `3.2.1` are codes too. Excludes `=`, `;`, `:` and spaces, which the
/// text forms below and SDMX-JSON series keys use as separators.
pub fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'@' | b'$' | b'-' | b'.'))
}

/// `SEX=F;URBANISATION=U` (sorted by dimension); empty for the total. This is the
/// form a code map stores for a disaggregation and the form messages show.
pub fn format_dims(dims: &Dims) -> String {
    let parts: Vec<String> = dims.iter().map(|(k, v)| format!("{k}={v}")).collect();
    parts.join(";")
}

/// Parses [`format_dims`]'s output; `_T` and empty codes are dropped as totals.
pub fn parse_dims(text: &str) -> Result<Dims, String> {
    let mut dims = Dims::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("'{part}' is not DIMENSION=CODE"))?;
        let (k, v) = (k.trim(), v.trim());
        if !is_component_id(k) {
            return Err(format!(
                "'{k}' is not a dimension id (upper-case letters, digits, _)"
            ));
        }
        if is_total(v) {
            continue;
        }
        if !is_code(v) {
            return Err(format!("'{v}' is not a code (letters, digits, _ @ $ - .)"));
        }
        if dims.insert(k.to_string(), v.to_string()).is_some() {
            return Err(format!("dimension {k} is given twice"));
        }
    }
    Ok(dims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_codes() {
        assert!(is_component_id("INCOME_WEALTH_QUANTILE"));
        assert!(is_component_id("_L"));
        assert!(!is_component_id("Indicator"));
        assert!(!is_component_id("Geographic area"));
        assert!(!is_component_id(""));
        assert!(is_code("_L_KZ_030b01_1A"));
        assert!(is_code("3.2.1"));
        assert!(!is_code("a=b"));
        assert!(!is_code(""));
    }

    #[test]
    fn dims_text_round_trip() {
        let d = parse_dims("URBANISATION=U; SEX=F;AGE=_T").unwrap();
        assert_eq!(format_dims(&d), "SEX=F;URBANISATION=U");
        assert_eq!(parse_dims(&format_dims(&d)).unwrap(), d);
        assert!(parse_dims("").unwrap().is_empty());
        assert!(parse_dims("SEX").is_err());
        assert!(parse_dims("SEX=F;SEX=M").is_err());
        assert!(parse_dims("sex=F").is_err());
    }
}

//! DHIS2 `dataValueSets` JSON (the body of `GET/POST /api/dataValueSets.json`).
//!
//! ```json
//! {"dataSet": "…", "period": "201201", "orgUnit": "…", "attributeOptionCombo": "…",
//!  "dataValues": [{"dataElement": "…", "period": "…", "orgUnit": "…",
//!                  "categoryOptionCombo": "…", "attributeOptionCombo": "…",
//!                  "value": "10", "comment": "…"}]}
//! ```
//! Set-level `period`, `orgUnit` and `attributeOptionCombo` apply to values that
//! lack their own (DHIS2 import semantics). Codes go through a [`CodeMap`]; the
//! category option combo and attribute option combo both add to the disaggregation.
//! What DHIS2 has no place for — bounds, status, source, attributes — is not written.

use super::codemap::{CodeMap, Reverse, DHIS2_DEFAULT_COMBO};
use super::collect::Collector;
use super::draft::{non_empty, Draft};
use super::{check_for_writing, codes, number_text, CodeKind, FormatError, Import, WriteError};
use crate::model::{Observation, Period};
use serde_json::{json, Map, Value};

/// Reads a dataValueSet, mapping codes through `map`.
pub fn parse(input: &[u8], map: &CodeMap) -> Result<Import, FormatError> {
    let doc: Value = serde_json::from_slice(input).map_err(|e| FormatError::Json(e.to_string()))?;
    let set = doc
        .as_object()
        .ok_or_else(|| not_a_set("the top level is not an object"))?;
    let values = match set.get("dataValues") {
        Some(Value::Array(v)) => v.as_slice(),
        Some(_) => return Err(not_a_set("dataValues is not an array")),
        None => return Err(not_a_set("there is no dataValues array")),
    };
    let defaults = SetDefaults::of(set);
    let mut out = Collector::default();
    for (i, v) in values.iter().enumerate() {
        let draft = match v.as_object() {
            Some(obj) => value_draft(obj, &defaults, map),
            None => {
                let mut d = Draft::default();
                d.error("dataValue", codes::UNEXPECTED, "the entry is not an object");
                d
            }
        };
        out.push(
            i + 1,
            format!("dataValues[{i}]"),
            draft.finish("dataElement", "period", "value"),
        );
    }
    Ok(out.finish())
}

fn not_a_set(message: &str) -> FormatError {
    FormatError::Structure {
        expected: "a DHIS2 dataValueSet",
        message: message.to_string(),
    }
}

struct SetDefaults {
    period: Option<Value>,
    org_unit: Option<Value>,
    attribute_combo: Option<Value>,
}

impl SetDefaults {
    fn of(set: &Map<String, Value>) -> SetDefaults {
        SetDefaults {
            period: set.get("period").cloned(),
            org_unit: set.get("orgUnit").cloned(),
            attribute_combo: set.get("attributeOptionCombo").cloned(),
        }
    }
}

fn value_draft(obj: &Map<String, Value>, defaults: &SetDefaults, map: &CodeMap) -> Draft {
    let mut d = Draft {
        source: Some(map.system().to_string()),
        ..Draft::default()
    };
    let field = |d: &mut Draft, key: &str, fallback: Option<&Value>| {
        text(d, key, obj.get(key).or(fallback))
    };
    if obj.get("deleted") == Some(&Value::Bool(true)) {
        d.error(
            "deleted",
            codes::UNEXPECTED,
            "the value is marked deleted in DHIS2 and is not imported",
        );
    }
    let element = field(&mut d, "dataElement", None);
    let period = field(&mut d, "period", defaults.period.as_ref());
    let org_unit = field(&mut d, "orgUnit", defaults.org_unit.as_ref());
    let combo = field(&mut d, "categoryOptionCombo", None);
    let attribute_combo = field(
        &mut d,
        "attributeOptionCombo",
        defaults.attribute_combo.as_ref(),
    );
    let value = field(&mut d, "value", None);
    let refs = Refs {
        element,
        period,
        org_unit,
        combo,
        attribute_combo,
        categories: Vec::new(),
    };
    apply_refs(&mut d, &refs, map, parse_period);
    match value {
        Some(v) => d.set_value("value", &v),
        None => d.error("value", codes::MISSING, "the value is missing"),
    }
    d.footnote = field(&mut d, "comment", None).and_then(|c| non_empty(&c));
    d
}

/// A field as text: DHIS2 sends values as strings but numbers and booleans are
/// accepted; `null` is absent.
fn text(d: &mut Draft, key: &str, v: Option<&Value>) -> Option<String> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        Some(_) => {
            d.error(key, codes::UNEXPECTED, format!("{key} is not text"));
            None
        }
    }
}

/// The external references of one DHIS2 value, whichever format carried them.
pub(crate) struct Refs {
    pub element: Option<String>,
    pub period: Option<String>,
    pub org_unit: Option<String>,
    pub combo: Option<String>,
    pub attribute_combo: Option<String>,
    /// ADX category attributes: (category, option).
    pub categories: Vec<(String, String)>,
}

/// Maps every reference, recording each unmapped code as its own error.
pub(crate) fn apply_refs(
    d: &mut Draft,
    r: &Refs,
    map: &CodeMap,
    period: fn(&str) -> Result<Period, String>,
) {
    let system = map.system();
    match r
        .element
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => d.error("dataElement", codes::MISSING, "the data element is missing"),
        Some(de) => match map.indicator(de) {
            Some(ind) => d.indicator = Some(ind.to_string()),
            None => d.error(
                "dataElement",
                codes::UNMAPPED,
                format!(
                    "unmapped data element '{de}' (no indicator mapping in code map '{system}')"
                ),
            ),
        },
    }
    match r.period.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => d.error("period", codes::MISSING, "the period is missing"),
        Some(p) => match period(p) {
            Ok(p) => d.period = Some(p),
            Err(msg) => d.error("period", codes::BAD_PERIOD, msg),
        },
    }
    match r
        .org_unit
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => d.error(
            "orgUnit",
            codes::MISSING,
            "the organisation unit is missing",
        ),
        Some(ou) => match map.area(ou) {
            Some(a) => d.area = Some(a.clone()),
            None => d.error(
                "orgUnit",
                codes::UNMAPPED,
                format!(
                    "unmapped organisation unit '{ou}' (no area mapping in code map '{system}')"
                ),
            ),
        },
    }
    apply_combo(
        d,
        "categoryOptionCombo",
        "category option combo",
        r.combo.as_deref(),
        map,
    );
    apply_combo(
        d,
        "attributeOptionCombo",
        "attribute option combo",
        r.attribute_combo.as_deref(),
        map,
    );
    for (cat, opt) in &r.categories {
        match map.category_option(cat, opt) {
            Some(dims) => dims.iter().for_each(|(k, v)| d.set_dim(k, v)),
            None => d.error(cat, codes::UNMAPPED, format!("unmapped category option '{opt}' of category '{cat}' (no disaggregation mapping '{cat}={opt}' in code map '{system}')")),
        }
    }
}

fn apply_combo(d: &mut Draft, field: &str, what: &str, combo: Option<&str>, map: &CodeMap) {
    let Some(c) = combo
        .map(str::trim)
        .filter(|c| !c.is_empty() && *c != DHIS2_DEFAULT_COMBO)
    else {
        return;
    };
    match map.combo(c) {
        Some(dims) => dims.iter().for_each(|(k, v)| d.set_dim(k, v)),
        None => d.error(
            field,
            codes::UNMAPPED,
            format!(
                "unmapped {what} '{c}' (no disaggregation mapping in code map '{}')",
                map.system()
            ),
        ),
    }
}

/// DHIS2 period ids for the types Bala stores: `2012`, `2012Q1`, `201201`.
pub fn parse_period(text: &str) -> Result<Period, String> {
    let t = text.trim();
    let b = t.as_bytes();
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    let year = || t.get(..4).and_then(|y| y.parse::<i32>().ok());
    let parsed = match b.len() {
        4 if digits(b) => year().map(Period::annual),
        6 if b[4] == b'Q' && digits(&b[..4]) && digits(&b[5..]) => {
            year().map(|y| Period::quarterly(y, b[5] - b'0'))
        }
        6 if digits(b) => year().map(|y| Period::monthly(y, (b[4] - b'0') * 10 + (b[5] - b'0'))),
        _ => None,
    };
    match parsed {
        Some(Ok(p)) => Ok(p),
        _ => Err(format!(
            "DHIS2 period '{t}' is not a year (2012), quarter (2012Q1) or month (201201); Bala does not store daily, weekly, bi-monthly, six-monthly or financial-year periods"
        )),
    }
}

/// The DHIS2 period id of a period.
pub fn format_period(p: Period) -> String {
    match (p.quarter(), p.month()) {
        (Some(q), _) => format!("{:04}Q{q}", p.year()),
        (_, Some(m)) => format!("{:04}{m:02}", p.year()),
        _ => format!("{:04}", p.year()),
    }
}

/// External codes for one observation.
pub(crate) struct Coded {
    pub element: String,
    pub org_unit: String,
    pub combo: Option<String>,
}

/// Maps an observation's codes back to the external system's, for writing.
pub(crate) fn code_for_export(
    o: &Observation,
    rev: &Reverse,
    map: &CodeMap,
) -> Result<Coded, WriteError> {
    let unmapped = |kind, code: String| WriteError::Unmapped {
        system: map.system().to_string(),
        kind,
        code,
    };
    let element = rev
        .indicators
        .get(&o.indicator)
        .cloned()
        .ok_or_else(|| unmapped(CodeKind::Indicator, o.indicator.clone()))?;
    let org_unit = rev
        .areas
        .get(&o.area)
        .cloned()
        .ok_or_else(|| unmapped(CodeKind::Area, o.area.to_string()))?;
    let combo = if o.dims.is_empty() {
        None
    } else {
        let c = rev.combos.get(&o.dims).cloned();
        Some(c.ok_or_else(|| {
            unmapped(CodeKind::Disaggregation, crate::model::format_dims(&o.dims))
        })?)
    };
    Ok(Coded {
        element,
        org_unit,
        combo,
    })
}

/// Writes a dataValueSet. Every indicator, area and disaggregation must map back
/// to an external code (a disaggregation to a category option combo with exactly
/// those breakdowns).
pub fn write(
    observations: &[Observation],
    map: &CodeMap,
    data_set: Option<&str>,
) -> Result<String, WriteError> {
    check_for_writing(observations)?;
    let rev = map.reverse();
    let mut values = Vec::with_capacity(observations.len());
    for o in observations {
        let c = code_for_export(o, &rev, map)?;
        let mut v = json!({
            "dataElement": c.element,
            "period": format_period(o.period),
            "orgUnit": c.org_unit,
            "value": number_text(o.value),
        });
        if let Some(combo) = c.combo {
            v["categoryOptionCombo"] = json!(combo);
        }
        if let Some(note) = &o.footnote {
            v["comment"] = json!(note);
        }
        values.push(v);
    }
    let mut set = json!({ "dataValues": values });
    if let Some(ds) = data_set {
        set["dataSet"] = json!(ds);
    }
    serde_json::to_string_pretty(&set).map_err(|e| WriteError::NotRepresentable(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AreaRef;

    fn map() -> CodeMap {
        CodeMap::new("dhis2-demo")
            .with(CodeKind::Indicator, "f7n9E0hX8qk", "IMM_MCV1")
            .unwrap()
            .with(CodeKind::Area, "DiszpKrYNg8", "751110000")
            .unwrap()
            .with(CodeKind::Disaggregation, "cocF", "SEX=F")
            .unwrap()
    }

    #[test]
    fn periods() {
        assert_eq!(parse_period("2012").unwrap(), Period::annual(2012).unwrap());
        assert_eq!(
            parse_period("2012Q4").unwrap(),
            Period::quarterly(2012, 4).unwrap()
        );
        assert_eq!(
            parse_period("201201").unwrap(),
            Period::monthly(2012, 1).unwrap()
        );
        for bad in [
            "2012W5",
            "20120115",
            "2012Q5",
            "201213",
            "2012S1",
            "2012April",
            "201201B",
            "",
            "Q1",
        ] {
            assert!(parse_period(bad).is_err(), "{bad}");
        }
        for p in ["2012", "2012Q4", "201201"] {
            assert_eq!(format_period(parse_period(p).unwrap()), p);
        }
    }

    #[test]
    fn set_defaults_and_mapping() {
        let doc = br#"{"period":"201201","orgUnit":"DiszpKrYNg8","dataValues":[
            {"dataElement":"f7n9E0hX8qk","value":"10","comment":" ok "},
            {"dataElement":"f7n9E0hX8qk","categoryOptionCombo":"cocF","value":7,"period":"2012Q1"},
            {"dataElement":"f7n9E0hX8qk","categoryOptionCombo":"HllvX50cXC0","value":"x","period":"2012W1"},
            {"dataElement":"zzz","orgUnit":"yyy","categoryOptionCombo":"www","value":"1"},
            5
        ]}"#;
        let i = parse(doc, &map()).unwrap();
        assert_eq!(i.observations.len(), 2);
        let a = &i.observations[0];
        assert_eq!(
            (a.indicator.as_str(), a.period.to_string(), a.value),
            ("IMM_MCV1", "2012-01".to_string(), 10.0)
        );
        assert!(matches!(a.area, AreaRef::Kato(_)));
        assert_eq!(a.footnote.as_deref(), Some("ok"));
        assert_eq!(a.source.as_deref(), Some("dhis2-demo"));
        assert_eq!(i.observations[1].dims["SEX"], "F");
        let r3 = &i.rejected[0];
        assert_eq!(r3.row, 3);
        assert!(r3.errors.for_field("period").is_some() && r3.errors.for_field("value").is_some());
        let r4 = i.rejected[1].to_string();
        assert!(r4.contains("unmapped data element 'zzz' (no indicator mapping in code map 'dhis2-demo') in row 4"), "{r4}");
        assert!(
            r4.contains("unmapped organisation unit 'yyy'")
                && r4.contains("unmapped category option combo 'www'"),
            "{r4}"
        );
        assert_eq!(i.rejected[2].row, 5);
    }

    #[test]
    fn not_a_data_value_set() {
        assert!(matches!(
            parse(b"[1]", &map()),
            Err(FormatError::Structure { .. })
        ));
        assert!(matches!(
            parse(b"{}", &map()),
            Err(FormatError::Structure { .. })
        ));
        assert!(matches!(parse(b"{", &map()), Err(FormatError::Json(_))));
    }

    #[test]
    fn writes_only_mapped_codes() {
        let o = Observation::new(
            "IMM_MCV1",
            AreaRef::parse("751110000"),
            Period::monthly(2012, 1).unwrap(),
            10.0,
        )
        .with_dim("SEX", "F");
        let text = write(std::slice::from_ref(&o), &map(), Some("ds1")).unwrap();
        let back = parse(text.as_bytes(), &map()).unwrap();
        assert_eq!(back.observations[0].key(), o.key());
        let other = Observation::new(
            "OTHER",
            AreaRef::National,
            Period::annual(2012).unwrap(),
            1.0,
        );
        let e = write(&[other], &map(), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no indicator mapping in code map 'dhis2-demo' for Bala code 'OTHER'"
        );
    }
}

//! SDMX-JSON data messages, versions 1.0 and 2.0.
//!
//! The message keeps codes out of the data: `structure` lists each dimension and
//! attribute with its values, and the data refer to them by position. A series key
//! `"0:1:0"` picks the first value of the first series dimension, the second of the
//! second, and so on; an observation `"3": [12.5, 0, null]` is at the fourth value
//! of the observation dimension (`TIME_PERIOD`), with value 12.5, the first value of
//! the first observation attribute and no value for the second.
//!
//! Read: 1.0 (`{"structure": …, "dataSets": […]}`, also wrapped in `"data"`) and 2.0
//! (`{"data": {"structures": […], "dataSets": [{"structure": 0, …}]}}`, with
//! `measures`); series-level data (`dataSets[].series`) and flat data
//! (`dataSets[].observations`, all dimensions at observation level); attributes at
//! data set, series and observation level. Write: 1.0, series-level.
//!
//! Specification: SDMX Technical Working Group, *SDMX-JSON data message* 1.0 (2017)
//! and 2.0 (2021), github.com/sdmx-twg/sdmx-json.

use super::collect::Collector;
use super::columns::{role_of, Role};
use super::draft::{non_empty, Draft};
use super::{codes, FormatError, Import};
use crate::model::dims::id as dim_id;
use crate::model::{AreaRef, ObsStatus};
use serde_json::{Map, Value};

mod write;
pub use write::write;

/// Reads an SDMX-JSON data message. `indicator` is used when the structure has no
/// `INDICATOR` dimension or attribute.
pub fn parse(input: &[u8], indicator: Option<&str>) -> Result<Import, FormatError> {
    let doc: Value = serde_json::from_slice(input).map_err(|e| FormatError::Json(e.to_string()))?;
    let (structures, data_sets) = locate(&doc)?;
    let mut rows = Rows {
        out: Collector::default(),
        count: 0,
        indicator,
    };
    for (i, ds) in data_sets.iter().enumerate() {
        let ds = ds
            .as_object()
            .ok_or_else(|| not_sdmx(&format!("dataSets[{i}] is not an object")))?;
        let s = structure_for(ds, &structures, i)?;
        if indicator.is_none() && !s.has_indicator() {
            return Err(FormatError::NoIndicator);
        }
        rows.data_set(i, ds, &s);
    }
    Ok(rows.out.finish())
}

fn not_sdmx(message: &str) -> FormatError {
    FormatError::Structure {
        expected: "an SDMX-JSON data message",
        message: message.to_string(),
    }
}

/// The structure definitions and the data sets, wherever the version puts them.
fn locate(doc: &Value) -> Result<(Vec<&Value>, &[Value]), FormatError> {
    let container = match doc.get("data") {
        Some(d @ Value::Object(_)) => d,
        _ => doc,
    };
    let data_sets = match container.get("dataSets") {
        Some(Value::Array(a)) => a.as_slice(),
        _ => return Err(not_sdmx("there is no dataSets array")),
    };
    let structures: Vec<&Value> = match (
        container.get("structures"),
        container.get("structure"),
        doc.get("structure"),
    ) {
        (Some(Value::Array(a)), _, _) => a.iter().collect(),
        (_, Some(s), _) | (_, _, Some(s)) => vec![s],
        _ => return Err(not_sdmx("there is no structure")),
    };
    Ok((structures, data_sets))
}

/// One dimension or attribute: its id and its values.
struct Component {
    id: String,
    values: Vec<Value>,
}

/// Where a component's value was given.
#[derive(Default)]
struct Levels {
    data_set: Vec<Component>,
    series: Vec<Component>,
    observation: Vec<Component>,
}

struct Structure {
    dims: Levels,
    attrs: Levels,
    /// Number of measures at the head of an observation array (2.0), 1 in 1.0.
    measures: usize,
    /// Position of `OBS_VALUE` among them.
    value_at: usize,
}

impl Structure {
    fn has_indicator(&self) -> bool {
        let levels = [
            &self.dims.data_set,
            &self.dims.series,
            &self.dims.observation,
            &self.attrs.data_set,
            &self.attrs.series,
            &self.attrs.observation,
        ];
        levels.iter().any(|l| l.iter().any(|c| c.id == "INDICATOR"))
    }
}

fn structure_for(
    ds: &Map<String, Value>,
    structures: &[&Value],
    i: usize,
) -> Result<Structure, FormatError> {
    let index = ds.get("structure").and_then(Value::as_u64).unwrap_or(0) as usize;
    let s = structures.get(index).ok_or_else(|| {
        not_sdmx(&format!(
            "dataSets[{i}] refers to structure {index}, which is not there"
        ))
    })?;
    let dims = levels(s.get("dimensions"), "dimensions")?;
    let attrs = levels(s.get("attributes"), "attributes")?;
    let measures: Vec<String> = match s.get("measures").and_then(|m| m.get("observation")) {
        Some(Value::Array(a)) => a
            .iter()
            .map(|m| {
                m.get("id")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            })
            .collect(),
        _ => vec!["OBS_VALUE".to_string()],
    };
    let value_at = measures.iter().position(|m| m == "OBS_VALUE").unwrap_or(0);
    Ok(Structure {
        dims,
        attrs,
        measures: measures.len().max(1),
        value_at,
    })
}

fn levels(v: Option<&Value>, what: &str) -> Result<Levels, FormatError> {
    let Some(v) = v else {
        return Ok(Levels::default());
    };
    let level = |name: &str| -> Result<Vec<Component>, FormatError> {
        match v.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, c)| component(c, &format!("{what}.{name}[{i}]")))
                .collect(),
            Some(_) => Err(not_sdmx(&format!("{what}.{name} is not an array"))),
        }
    };
    Ok(Levels {
        data_set: level("dataSet")?,
        series: level("series")?,
        observation: level("observation")?,
    })
}

fn component(c: &Value, place: &str) -> Result<Component, FormatError> {
    let id = c
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| not_sdmx(&format!("{place} has no id")))?;
    let values = match c.get("values") {
        Some(Value::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    Ok(Component {
        id: id.to_string(),
        values,
    })
}

/// The text of a component value: its `id` (coded), else `value` (SDMX-JSON 2.0
/// uncoded), else `name` (1.0 uncoded; a string or a `{"en": …}` map).
fn value_text(v: &Value) -> Option<String> {
    let s = |x: &Value| match x {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    if let Some(t) = v
        .get("id")
        .and_then(s)
        .or_else(|| v.get("value").and_then(s))
    {
        return Some(t);
    }
    match v.get("name") {
        Some(Value::Object(names)) => names
            .get("en")
            .or_else(|| names.values().next())
            .and_then(s),
        Some(other) => s(other),
        None => s(v),
    }
}

/// (component id, value text, is a dimension) for one observation.
type Assigned = Vec<(String, String, bool)>;

/// Decodes `"0:1:0"` against the dimensions of one level.
fn decode_key(key: &str, dims: &[Component]) -> Result<Assigned, String> {
    let parts: Vec<&str> = if key.is_empty() && dims.is_empty() {
        Vec::new()
    } else {
        key.split(':').collect()
    };
    if parts.len() != dims.len() {
        return Err(format!(
            "key '{key}' has {} positions, the structure {} dimensions",
            parts.len(),
            dims.len()
        ));
    }
    parts
        .iter()
        .zip(dims)
        .map(|(p, d)| pick(d, p.parse::<usize>().ok(), key, true))
        .collect()
}

fn pick(
    c: &Component,
    index: Option<usize>,
    key: &str,
    is_dim: bool,
) -> Result<(String, String, bool), String> {
    let value = index
        .and_then(|i| c.values.get(i))
        .ok_or_else(|| format!("'{key}' points outside the values of {}", c.id))?;
    let text = value_text(value).ok_or_else(|| format!("a value of {} has no id or name", c.id))?;
    Ok((c.id.clone(), text, is_dim))
}

/// Decodes an attribute index array (`[0, null, 2]`) against attribute components.
fn decode_attributes(indices: &[Value], attrs: &[Component]) -> Result<Assigned, String> {
    let mut out = Assigned::new();
    for (v, c) in indices.iter().zip(attrs) {
        match v {
            Value::Null => {}
            Value::Number(n) => out.push(pick(
                c,
                n.as_u64().map(|i| i as usize),
                &n.to_string(),
                false,
            )?),
            Value::String(s) => out.push((c.id.clone(), s.clone(), false)),
            _ => {
                return Err(format!(
                    "the value of attribute {} is neither an index nor text",
                    c.id
                ))
            }
        }
    }
    Ok(out)
}

/// Data-set-level dimensions have one value each.
fn data_set_dims(dims: &[Component]) -> Assigned {
    dims.iter()
        .filter_map(|c| {
            c.values
                .first()
                .and_then(value_text)
                .map(|t| (c.id.clone(), t, true))
        })
        .collect()
}

fn array_at(v: Option<&Value>) -> &[Value] {
    match v {
        Some(Value::Array(a)) => a,
        _ => &[],
    }
}

struct Rows<'a> {
    out: Collector,
    count: usize,
    indicator: Option<&'a str>,
}

impl Rows<'_> {
    fn data_set(&mut self, i: usize, ds: &Map<String, Value>, s: &Structure) {
        let mut base = data_set_dims(&s.dims.data_set);
        let base_err = decode_attributes(array_at(ds.get("attributes")), &s.attrs.data_set)
            .map(|a| base.extend(a))
            .err();
        if let Some(Value::Object(series)) = ds.get("series") {
            for (key, ser) in series {
                let mut ctx = base.clone();
                let mut err = base_err.clone();
                match decode_key(key, &s.dims.series) {
                    Ok(a) => ctx.extend(a),
                    Err(e) => err = err.or(Some(e)),
                }
                match decode_attributes(array_at(ser.get("attributes")), &s.attrs.series) {
                    Ok(a) => ctx.extend(a),
                    Err(e) => err = err.or(Some(e)),
                }
                let place = format!("dataSets[{i}] series {key}");
                self.observations(ser.get("observations"), &ctx, err, s, &place);
            }
        }
        if ds.contains_key("observations") {
            self.observations(
                ds.get("observations"),
                &base,
                base_err,
                s,
                &format!("dataSets[{i}]"),
            );
        }
    }

    fn observations(
        &mut self,
        obs: Option<&Value>,
        ctx: &Assigned,
        err: Option<String>,
        s: &Structure,
        place: &str,
    ) {
        let Some(Value::Object(obs)) = obs else {
            return;
        };
        for (key, arr) in obs {
            self.count += 1;
            let location = format!("{place}, observation {key}");
            let draft = self.observation(key, arr, ctx, err.clone(), s);
            self.out.push(
                self.count,
                location,
                draft.finish("INDICATOR", "TIME_PERIOD", "OBS_VALUE"),
            );
        }
    }

    fn observation(
        &self,
        key: &str,
        arr: &Value,
        ctx: &Assigned,
        err: Option<String>,
        s: &Structure,
    ) -> Draft {
        let mut d = Draft {
            indicator: self.indicator.map(str::to_string),
            ..Draft::default()
        };
        if let Some(e) = err {
            d.error("key", codes::BAD_CODE, e);
        }
        for (id, text, is_dim) in ctx {
            assign(&mut d, id, text, *is_dim);
        }
        match decode_key(key, &s.dims.observation) {
            Ok(a) => a
                .iter()
                .for_each(|(id, text, is_dim)| assign(&mut d, id, text, *is_dim)),
            Err(e) => d.error("key", codes::BAD_CODE, e),
        }
        let Some(arr) = arr.as_array() else {
            d.error(
                "OBS_VALUE",
                codes::UNEXPECTED,
                "the observation is not an array",
            );
            return d;
        };
        match arr.get(s.value_at) {
            Some(Value::Number(n)) => d.set_value("OBS_VALUE", &n.to_string()),
            Some(Value::String(t)) => d.set_value("OBS_VALUE", t),
            _ => d.error("OBS_VALUE", codes::MISSING, "the observation has no value"),
        }
        match decode_attributes(arr.get(s.measures..).unwrap_or(&[]), &s.attrs.observation) {
            Ok(a) => a
                .iter()
                .for_each(|(id, text, is_dim)| assign(&mut d, id, text, *is_dim)),
            Err(e) => d.error("attributes", codes::BAD_CODE, e),
        }
        d
    }
}

/// Puts one component value where it belongs. Dimensions stay dimensions;
/// attributes other than the observation fields stay attributes, except the unit
/// (kept with the breakdowns everywhere in Bala, see `columns`).
fn assign(d: &mut Draft, id: &str, text: &str, is_dim: bool) {
    match role_of(id) {
        Role::Indicator => d.indicator = non_empty(text).or(d.indicator.take()),
        Role::Area => d.area = Some(AreaRef::parse(text)),
        Role::Period => d.set_period(id, text),
        Role::Value => d.set_value(id, text),
        Role::Lower => d.lower = d.optional_number(id, text),
        Role::Upper => d.upper = d.optional_number(id, text),
        Role::Status => d.status = non_empty(text).map(|s| ObsStatus::from_code(&s)),
        Role::Source => d.source = non_empty(text),
        Role::Footnote => d.footnote = non_empty(text),
        Role::Action | Role::Ignore | Role::Unnamed(_) => {}
        Role::Attribute(_) | Role::Dimension(_) if is_dim || id == dim_id::UNIT_MEASURE => {
            d.set_dim(id, text)
        }
        Role::Attribute(_) | Role::Dimension(_) => d.set_attribute(id, text),
    }
}

#[cfg(test)]
mod tests;

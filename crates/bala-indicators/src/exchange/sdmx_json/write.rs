//! SDMX-JSON 1.0 writer: one data set, series keyed by `REF_AREA`, `INDICATOR` and
//! the breakdowns, observations keyed by `TIME_PERIOD`.

use super::super::csv_table::dimension_columns;
use super::super::{check_for_writing, number_text, WriteError};
use crate::model::dims::TOTAL;
use crate::model::Observation;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Distinct values of one component, in order of first use, with their positions.
#[derive(Default)]
struct Values {
    list: Vec<String>,
    index: BTreeMap<String, usize>,
}

impl Values {
    fn position(&mut self, v: &str) -> usize {
        if let Some(i) = self.index.get(v) {
            return *i;
        }
        self.list.push(v.to_string());
        self.index.insert(v.to_string(), self.list.len() - 1);
        self.list.len() - 1
    }
}

/// Reads one attribute's text off an observation.
type Getter = Box<dyn Fn(&Observation) -> Option<String>>;

/// An observation-level attribute: how to read it off an observation, and whether
/// its values are codes (`id`) or free text (`name`).
struct Attr {
    id: String,
    coded: bool,
    get: Getter,
    values: Values,
}

fn attrs_for(observations: &[Observation]) -> Vec<Attr> {
    let mk = |id: &str, coded: bool, get: Getter| Attr {
        id: id.to_string(),
        coded,
        get,
        values: Values::default(),
    };
    let mut all = vec![
        mk(
            "OBS_STATUS",
            true,
            Box::new(|o| o.status.as_ref().map(|s| s.code().to_string())),
        ),
        mk("LOWER_BOUND", false, Box::new(|o| o.lower.map(number_text))),
        mk("UPPER_BOUND", false, Box::new(|o| o.upper.map(number_text))),
        mk("DATA_SOURCE", false, Box::new(|o| o.source.clone())),
        mk("OBS_FOOTNOTE", false, Box::new(|o| o.footnote.clone())),
    ];
    let extra: std::collections::BTreeSet<String> = observations
        .iter()
        .flat_map(|o| o.attributes.keys().cloned())
        .collect();
    for id in extra {
        let key = id.clone();
        all.push(mk(
            &id,
            false,
            Box::new(move |o| o.attributes.get(&key).cloned()),
        ));
    }
    all.retain(|a| observations.iter().any(|o| (a.get)(o).is_some()));
    all
}

/// Writes an SDMX-JSON 1.0 data message. `id` goes in the header.
pub fn write(observations: &[Observation], id: &str) -> Result<String, WriteError> {
    check_for_writing(observations)?;
    let dims = dimension_columns(observations);
    let mut series_ids = vec!["REF_AREA".to_string(), "INDICATOR".to_string()];
    series_ids.extend(dims.iter().cloned());
    let mut series_values: Vec<Values> = series_ids.iter().map(|_| Values::default()).collect();
    let mut periods = Values::default();
    let mut attrs = attrs_for(observations);
    let mut series: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for o in observations {
        let codes = series_codes(o, &dims);
        let key: Vec<String> = codes
            .iter()
            .zip(series_values.iter_mut())
            .map(|(c, v)| v.position(c).to_string())
            .collect();
        let mut arr = vec![json!(o.value)];
        for a in attrs.iter_mut() {
            arr.push(match (a.get)(o) {
                Some(text) => json!(a.values.position(&text)),
                None => Value::Null,
            });
        }
        let t = periods.position(&o.period.to_string()).to_string();
        series
            .entry(key.join(":"))
            .or_default()
            .insert(t, Value::Array(arr));
    }
    let series_json: Map<String, Value> = series
        .into_iter()
        .map(|(k, obs)| (k, json!({ "attributes": [], "observations": obs })))
        .collect();
    let message = json!({
        "header": { "id": id, "test": false, "sender": { "id": "BALA" } },
        "dataSets": [{ "action": "Information", "series": series_json }],
        "structure": {
            "dimensions": {
                "dataSet": [],
                "series": series_ids.iter().zip(&series_values).enumerate().map(|(i, (c, v))| dimension(c, v, Some(i))).collect::<Vec<_>>(),
                "observation": [dimension("TIME_PERIOD", &periods, None)],
            },
            "attributes": {
                "dataSet": [],
                "series": [],
                "observation": attrs.iter().map(attribute).collect::<Vec<_>>(),
            },
        },
    });
    serde_json::to_string_pretty(&message).map_err(|e| WriteError::NotRepresentable(e.to_string()))
}

/// Area, indicator, then each breakdown (`_T` when the observation has none).
fn series_codes(o: &Observation, dims: &[String]) -> Vec<String> {
    let mut codes = vec![o.area.as_str().to_string(), o.indicator.clone()];
    codes.extend(
        dims.iter()
            .map(|d| o.dims.get(d).cloned().unwrap_or_else(|| TOTAL.to_string())),
    );
    codes
}

fn dimension(id: &str, values: &Values, key_position: Option<usize>) -> Value {
    let vals: Vec<Value> = values
        .list
        .iter()
        .map(|v| json!({ "id": v, "name": v }))
        .collect();
    let mut d = json!({ "id": id, "name": id, "values": vals });
    if let Some(k) = key_position {
        d["keyPosition"] = json!(k);
    }
    d
}

fn attribute(a: &Attr) -> Value {
    let vals: Vec<Value> = a
        .values
        .list
        .iter()
        .map(|v| {
            if a.coded {
                json!({ "id": v, "name": v })
            } else {
                json!({ "name": v })
            }
        })
        .collect();
    json!({ "id": a.id, "name": a.id, "values": vals })
}

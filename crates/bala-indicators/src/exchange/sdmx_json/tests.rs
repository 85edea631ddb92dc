use super::*;
use crate::model::Period;

/// Shaped like UNICEF's data warehouse answer (SDMX-JSON 1.0) for Kazakhstan's
/// under-five mortality, two sexes, 2019–2020, values as published in
/// CME_MRY0T4_all_2020.csv for 2020.
const V1: &str = r#"{
  "header": {"id": "IREF1", "test": false},
  "dataSets": [{
    "action": "Information",
    "series": {
      "0:0:0": {"attributes": [0], "observations": {"1": [8.83380809817391, 0, "8.34083145453035", "9.31563554751815"], "0": [9.1, null, null, null]}},
      "0:0:1": {"attributes": [0], "observations": {"1": ["11.3396713478039", 0, null, null]}}
    }
  }],
  "structure": {
    "dimensions": {
      "dataSet": [],
      "series": [
        {"id": "REF_AREA", "values": [{"id": "KAZ", "name": "Kazakhstan"}]},
        {"id": "INDICATOR", "values": [{"id": "CME_MRY0T4", "name": "Under-five mortality rate"}]},
        {"id": "SEX", "values": [{"id": "F", "name": "Female"}, {"id": "M", "name": "Male"}]}
      ],
      "observation": [{"id": "TIME_PERIOD", "values": [{"id": "2019"}, {"id": "2020"}]}]
    },
    "attributes": {
      "dataSet": [],
      "series": [{"id": "UNIT_MEASURE", "values": [{"id": "D_PER_1000_B"}]}],
      "observation": [
        {"id": "OBS_STATUS", "values": [{"id": "A", "name": "Normal value"}]},
        {"id": "LOWER_BOUND", "values": []},
        {"id": "UPPER_BOUND", "values": []}
      ]
    }
  }
}"#;

#[test]
fn reads_version_1() {
    let i = parse(V1.as_bytes(), None).unwrap();
    assert!(i.rejected.is_empty(), "{:?}", i.rejected);
    assert_eq!(i.observations.len(), 3);
    let f2020 = i
        .observations
        .iter()
        .find(|o| {
            o.period == Period::annual(2020).unwrap()
                && o.dims.get("SEX").map(String::as_str) == Some("F")
        })
        .unwrap();
    assert_eq!(f2020.value, 8.83380809817391);
    assert_eq!(f2020.lower, Some(8.34083145453035));
    assert_eq!(f2020.upper, Some(9.31563554751815));
    assert_eq!(f2020.status, Some(ObsStatus::Final));
    assert_eq!(
        f2020.dims.get("UNIT_MEASURE").map(String::as_str),
        Some("D_PER_1000_B")
    );
    assert_eq!(f2020.area.as_str(), "KAZ");
    let m = i
        .observations
        .iter()
        .find(|o| o.dims.get("SEX").map(String::as_str) == Some("M"))
        .unwrap();
    assert_eq!(m.value, 11.3396713478039);
}

#[test]
fn reads_version_2_with_measures_and_flat_observations() {
    let v2 = r#"{"meta": {"schema": "https://json.sdmx.org/2.0.0/sdmx-json-data-schema.json"},
      "data": {
        "structures": [{
          "dimensions": {
            "dataSet": [{"id": "INDICATOR", "values": [{"id": "3.2.1"}]}],
            "series": [],
            "observation": [
              {"id": "REF_AREA", "values": [{"id": ""}, {"id": "KZAKM"}]},
              {"id": "TIME_PERIOD", "values": [{"id": "2019"}]}
            ]
          },
          "measures": {"observation": [{"id": "OBS_VALUE"}]},
          "attributes": {"dataSet": [{"id": "DATA_SOURCE", "values": [{"value": "kazstat"}]}], "observation": [
            {"id": "COUNTRY_NOTES", "values": [{"name": {"en": "a note"}}]}
          ]}
        }],
        "dataSets": [{"structure": 0, "attributes": [0], "observations": {"0:0": [10.69, null], "1:0": [12.5, 0], "5:0": [1], "1:0:0": [2]}}]
      }}"#;
    let i = parse(v2.as_bytes(), None).unwrap();
    assert_eq!(i.observations.len(), 2);
    let national = i
        .observations
        .iter()
        .find(|o| o.area == AreaRef::National)
        .unwrap();
    assert_eq!(
        (national.indicator.as_str(), national.value),
        ("3.2.1", 10.69)
    );
    assert_eq!(national.source.as_deref(), Some("kazstat"));
    let akm = i
        .observations
        .iter()
        .find(|o| o.area.as_str() == "KZAKM")
        .unwrap();
    assert_eq!(
        akm.attributes.get("COUNTRY_NOTES").map(String::as_str),
        Some("a note")
    );
    assert_eq!(i.rejected.len(), 2);
    assert!(
        i.rejected
            .iter()
            .all(|r| r.errors.for_field("key").is_some()),
        "{:?}",
        i.rejected
    );
}

#[test]
fn missing_values_and_structure_problems() {
    let no_value = V1.replace("[9.1, null, null, null]", "[null]");
    let i = parse(no_value.as_bytes(), None).unwrap();
    assert_eq!(i.rejected.len(), 1);
    assert_eq!(i.rejected[0].errors.0[0].field, "OBS_VALUE");
    assert!(
        i.rejected[0]
            .location
            .contains("series 0:0:0, observation 0"),
        "{}",
        i.rejected[0].location
    );
    assert!(matches!(
        parse(b"{}", None),
        Err(FormatError::Structure { .. })
    ));
    assert!(matches!(parse(b"nope", None), Err(FormatError::Json(_))));
    let no_indicator = V1.replace("\"INDICATOR\"", "\"SERIES\"");
    assert_eq!(
        parse(no_indicator.as_bytes(), None),
        Err(FormatError::NoIndicator)
    );
    assert_eq!(
        parse(no_indicator.as_bytes(), Some("U5MR"))
            .unwrap()
            .observations[0]
            .indicator,
        "U5MR"
    );
}

#[test]
fn writes_what_it_reads() {
    let i = parse(V1.as_bytes(), None).unwrap();
    let text = write(&i.observations, "bala-test").unwrap();
    let back = parse(text.as_bytes(), None).unwrap();
    assert!(back.rejected.is_empty(), "{:?}", back.rejected);
    let mut a = i.observations.clone();
    let mut b = back.observations;
    a.sort_by_key(|o| o.key());
    b.sort_by_key(|o| o.key());
    assert_eq!(a, b);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["structure"]["dimensions"]["series"][0]["id"], "REF_AREA");
    assert_eq!(
        v["structure"]["dimensions"]["observation"][0]["id"],
        "TIME_PERIOD"
    );
}

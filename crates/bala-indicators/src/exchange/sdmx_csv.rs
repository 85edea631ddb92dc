//! SDMX-CSV, as UNICEF's data warehouse serves it and as SDMX-CSV 1.0/2.0 define it.
//!
//! Accepted header shapes:
//! - plain ids: `DATAFLOW, REF_AREA, INDICATOR, SEX, TIME_PERIOD, OBS_VALUE, …`
//!   (SDMX-CSV 1.0; 2.0's `STRUCTURE, STRUCTURE_ID, ACTION` too);
//! - ids with a label column after each (UNICEF: `REF_AREA, Geographic area,
//!   INDICATOR, Indicator, …`): a header that is not an upper-case SDMX id is a label
//!   column and skipped;
//! - `ID: Label` headers with `CODE: label` values (SDMX-CSV `labels=both`).
//!
//! `TIME_PERIOD` and `OBS_VALUE` are required; `INDICATOR` is required unless the
//! caller gives the file's indicator. Dimension cells `_T` or empty are totals.

use super::columns::{role_of, Role};
use super::csv_table::{self, opt, opt_num, Column, Defaults};
use super::{check_for_writing, number_text, FormatError, Import, WriteError};
use crate::model::dims::{id, is_component_id, TOTAL};
use crate::model::Observation;

/// Reads SDMX-CSV. `indicator` is used for rows when there is no `INDICATOR`
/// column (dataflows where the indicator is fixed).
pub fn parse(input: &[u8], indicator: Option<&str>) -> Result<Import, FormatError> {
    let table = csv_table::read(input)?;
    let columns: Vec<Column> = table
        .header
        .iter()
        .enumerate()
        .map(|(i, h)| header_column(i, h))
        .collect();
    csv_table::check_unique(&columns)?;
    csv_table::require(&columns, Role::Period, "TIME_PERIOD")?;
    csv_table::require(&columns, Role::Value, "OBS_VALUE")?;
    if indicator.is_none() && !columns.iter().any(|c| c.role == Role::Indicator) {
        return Err(FormatError::NoIndicator);
    }
    Ok(csv_table::import(
        &table,
        &columns,
        &Defaults {
            indicator,
            source: None,
        },
    ))
}

fn header_column(i: usize, h: &str) -> Column {
    if h.is_empty() {
        return Column {
            role: Role::Unnamed(i + 1),
            name: String::new(),
            labelled: false,
        };
    }
    if let Some((id, _label)) = h
        .split_once(": ")
        .filter(|(id, _)| is_component_id(id.trim()))
    {
        let id = id.trim();
        return Column {
            role: role_of(id),
            name: id.to_string(),
            labelled: true,
        };
    }
    if is_component_id(h) {
        Column {
            role: role_of(h),
            name: h.to_string(),
            labelled: false,
        }
    } else {
        Column {
            role: Role::Ignore,
            name: h.to_string(),
            labelled: false,
        }
    }
}

/// Writes SDMX-CSV 1.0 with plain ids: `DATAFLOW` (e.g. `UNICEF:CME(1.0)`; any
/// text), `REF_AREA`, `INDICATOR`, the dimensions (`_T` where an observation has
/// none), `TIME_PERIOD`, `OBS_VALUE`, `LOWER_BOUND`, `UPPER_BOUND`, `OBS_STATUS`,
/// `DATA_SOURCE`, `OBS_FOOTNOTE`, then the attributes.
pub fn write(observations: &[Observation], dataflow: &str) -> Result<String, WriteError> {
    check_for_writing(observations)?;
    let dims = csv_table::dimension_columns(observations);
    csv_table::check_dimension_columns(&dims)?;
    let attrs = csv_table::attribute_columns(observations)?;
    let mut records = vec![header(&dims, &attrs)];
    records.extend(
        observations
            .iter()
            .map(|o| record(o, dataflow, &dims, &attrs)),
    );
    csv_table::to_csv(&records)
}

const TAIL: &[&str] = &[
    "TIME_PERIOD",
    "OBS_VALUE",
    "LOWER_BOUND",
    "UPPER_BOUND",
    "OBS_STATUS",
    "DATA_SOURCE",
    "OBS_FOOTNOTE",
];

fn header(dims: &[String], attrs: &[String]) -> Vec<String> {
    let mut h: Vec<String> = ["DATAFLOW", "REF_AREA", "INDICATOR"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    h.extend(dims.iter().cloned());
    h.extend(TAIL.iter().map(|s| s.to_string()));
    h.extend(attrs.iter().cloned());
    h
}

fn record(o: &Observation, dataflow: &str, dims: &[String], attrs: &[String]) -> Vec<String> {
    let mut r = vec![
        dataflow.to_string(),
        o.area.as_str().to_string(),
        o.indicator.clone(),
    ];
    r.extend(dims.iter().map(|d| match o.dims.get(d) {
        Some(code) => code.clone(),
        // A unit is an attribute in SDMX, where "total" means nothing: leave it empty.
        None if d == id::UNIT_MEASURE => String::new(),
        None => TOTAL.to_string(),
    }));
    r.push(o.period.to_string());
    r.push(number_text(o.value));
    r.push(opt_num(o.lower));
    r.push(opt_num(o.upper));
    r.push(
        o.status
            .as_ref()
            .map(|s| s.code().to_string())
            .unwrap_or_default(),
    );
    r.push(opt(&o.source));
    r.push(opt(&o.footnote));
    r.extend(
        attrs
            .iter()
            .map(|a| o.attributes.get(a).cloned().unwrap_or_default()),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ObsStatus;

    const UNICEF: &str = "REF_AREA,Geographic area,INDICATOR,Indicator,SEX,Sex,WEALTH_QUINTILE,Wealth Quintile,DATA_SOURCE,COUNTRY_NOTES,UNIT_MEASURE,Unit of measure,TIME_PERIOD,OBS_VALUE,REF_PERIOD,LOWER_BOUND,UPPER_BOUND,OBS_STATUS,Observation Status\n\
KAZ,Kazakhstan,CME_MRY0T4,Under-five mortality rate,F,Female,_T,Total,UN_IGME,,D_PER_1000_B,\"Deaths per 1,000 live births\",2020,8.83380809817391,,8.34083145453035,9.31563554751815,A,Normal value\n";

    #[test]
    fn reads_unicef_layout_with_label_columns() {
        let i = parse(UNICEF.as_bytes(), None).unwrap();
        assert!(i.rejected.is_empty(), "{:?}", i.rejected);
        let o = &i.observations[0];
        assert_eq!(o.indicator, "CME_MRY0T4");
        assert_eq!(o.area.as_str(), "KAZ");
        assert_eq!(o.value, 8.83380809817391);
        assert_eq!(o.lower, Some(8.34083145453035));
        assert_eq!(o.status, Some(ObsStatus::Final));
        assert_eq!(o.source.as_deref(), Some("UN_IGME"));
        assert_eq!(o.dims.get("SEX").map(String::as_str), Some("F"));
        assert_eq!(
            o.dims.get("UNIT_MEASURE").map(String::as_str),
            Some("D_PER_1000_B")
        );
        assert!(!o.dims.contains_key("WEALTH_QUINTILE"));
        assert!(o.attributes.is_empty());
    }

    #[test]
    fn reads_labels_both() {
        let text = "DATAFLOW,REF_AREA: Geographic area,INDICATOR: Indicator,TIME_PERIOD: Time,OBS_VALUE: Value\n\
                    UNICEF:CME(1.0),KAZ: Kazakhstan,CME_MRY0T4: Under-five mortality rate,2020,10.1\n";
        let i = parse(text.as_bytes(), None).unwrap();
        assert_eq!(i.observations[0].area.as_str(), "KAZ");
        assert_eq!(i.observations[0].indicator, "CME_MRY0T4");
    }

    #[test]
    fn needs_an_indicator() {
        let text = b"REF_AREA,TIME_PERIOD,OBS_VALUE\nKAZ,2020,1\n";
        assert_eq!(parse(text, None), Err(FormatError::NoIndicator));
        assert_eq!(
            parse(text, Some("X")).unwrap().observations[0].indicator,
            "X"
        );
    }

    #[test]
    fn deletions_are_refused() {
        let text = b"STRUCTURE,STRUCTURE_ID,ACTION,INDICATOR,TIME_PERIOD,OBS_VALUE\ndataflow,UNICEF:CME(1.0),D,X,2020,1\n";
        let i = parse(text, None).unwrap();
        assert_eq!(i.rejected[0].errors.0[0].field, "ACTION");
    }

    #[test]
    fn writes_plain_ids_and_totals() {
        let i = parse(UNICEF.as_bytes(), None).unwrap();
        let text = write(&i.observations, "UNICEF:CME(1.0)").unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "DATAFLOW,REF_AREA,INDICATOR,UNIT_MEASURE,SEX,TIME_PERIOD,OBS_VALUE,LOWER_BOUND,UPPER_BOUND,OBS_STATUS,DATA_SOURCE,OBS_FOOTNOTE"
        );
        assert_eq!(
            lines.next().unwrap(),
            "UNICEF:CME(1.0),KAZ,CME_MRY0T4,D_PER_1000_B,F,2020,8.83380809817391,8.34083145453035,9.31563554751815,A,UN_IGME,"
        );
        assert_eq!(
            parse(text.as_bytes(), None).unwrap().observations,
            i.observations
        );
    }
}

//! kazstat's tidy CSV, the Open SDG data layout:
//! `Year, UNIT_MEASURE, SEX, URBANISATION, REF_AREA, SERIES, …, Value`.
//!
//! One file per indicator (the indicator is in the file name, not in the data, so
//! the caller passes it). Columns vary per file: any column other than `Year` and
//! `Value` is a breakdown named by its SDMX id, except the observation fields
//! (`REF_AREA`, `OBS_STATUS`, `LOWER_BOUND`, `UPPER_BOUND`, `COMMENT_OBS`,
//! `DATA_SOURCE`) and the known SDMX attributes. An empty cell means total or, in
//! `REF_AREA`, national. Columns with an empty header are allowed if their cells are
//! empty (kazstat's 3.7.2 has six of them).

use super::columns::{role_of, Role};
use super::csv_table::{self, opt, opt_num, Column, Defaults};
use super::{check_for_writing, number_text, FormatError, Import, WriteError};
use crate::model::dims::is_component_id;
use crate::model::Observation;

/// Reads a tidy CSV file of `indicator`. `source` is recorded on every observation
/// unless a `DATA_SOURCE` column gives one.
pub fn parse(indicator: &str, source: Option<&str>, input: &[u8]) -> Result<Import, FormatError> {
    let table = csv_table::read(input)?;
    let columns = header_columns(&table.header)?;
    csv_table::check_unique(&columns)?;
    csv_table::require(&columns, Role::Period, "Year")?;
    csv_table::require(&columns, Role::Value, "Value")?;
    let defaults = Defaults {
        indicator: Some(indicator),
        source,
    };
    Ok(csv_table::import(&table, &columns, &defaults))
}

fn header_columns(header: &[String]) -> Result<Vec<Column>, FormatError> {
    header
        .iter()
        .enumerate()
        .map(|(i, h)| header_column(i, h))
        .collect()
}

fn header_column(i: usize, h: &str) -> Result<Column, FormatError> {
    let role = if h.eq_ignore_ascii_case("Year") {
        Role::Period
    } else if h.eq_ignore_ascii_case("Value") {
        Role::Value
    } else if h.is_empty() {
        Role::Unnamed(i + 1)
    } else if is_component_id(h) {
        role_of(h)
    } else {
        return Err(FormatError::Structure {
            expected: "a tidy CSV with SDMX column ids",
            message: format!(
                "column {} '{h}' is not an SDMX id (upper-case letters, digits, _)",
                i + 1
            ),
        });
    };
    Ok(Column {
        role,
        name: h.to_string(),
        labelled: false,
    })
}

/// Writes observations of one indicator in the kazstat layout: `Year`, the
/// breakdowns, `REF_AREA` (if any value is sub-national), the observation fields that
/// any value has, the attributes, `Value`. The indicator itself is not in the file.
pub fn write(observations: &[Observation]) -> Result<String, WriteError> {
    check_for_writing(observations)?;
    check_one_indicator(observations)?;
    let dims = csv_table::dimension_columns(observations);
    csv_table::check_dimension_columns(&dims)?;
    if let Some(d) = dims
        .iter()
        .find(|d| d.eq_ignore_ascii_case("Year") || d.eq_ignore_ascii_case("Value"))
    {
        return Err(WriteError::NotRepresentable(format!(
            "a dimension called {d} would read back as the Year or Value column"
        )));
    }
    let attrs = csv_table::attribute_columns(observations)?;
    let present = Present::of(observations);
    let mut records = vec![header(&dims, &attrs, &present)];
    records.extend(
        observations
            .iter()
            .map(|o| record(o, &dims, &attrs, &present)),
    );
    csv_table::to_csv(&records)
}

fn check_one_indicator(observations: &[Observation]) -> Result<(), WriteError> {
    let Some(first) = observations.first() else {
        return Ok(());
    };
    match observations.iter().find(|o| o.indicator != first.indicator) {
        Some(o) => Err(WriteError::MixedIndicators {
            first: first.indicator.clone(),
            second: o.indicator.clone(),
        }),
        None => Ok(()),
    }
}

/// Which optional columns any observation needs.
struct Present {
    area: bool,
    status: bool,
    lower: bool,
    upper: bool,
    footnote: bool,
    source: bool,
}

impl Present {
    fn of(obs: &[Observation]) -> Present {
        Present {
            area: obs.iter().any(|o| !o.area.as_str().is_empty()),
            status: obs.iter().any(|o| o.status.is_some()),
            lower: obs.iter().any(|o| o.lower.is_some()),
            upper: obs.iter().any(|o| o.upper.is_some()),
            footnote: obs.iter().any(|o| o.footnote.is_some()),
            source: obs.iter().any(|o| o.source.is_some()),
        }
    }

    fn columns(&self) -> Vec<(&'static str, bool)> {
        vec![
            ("REF_AREA", self.area),
            ("OBS_STATUS", self.status),
            ("LOWER_BOUND", self.lower),
            ("UPPER_BOUND", self.upper),
            ("COMMENT_OBS", self.footnote),
            ("DATA_SOURCE", self.source),
        ]
    }
}

fn header(dims: &[String], attrs: &[String], present: &Present) -> Vec<String> {
    let mut h = vec!["Year".to_string()];
    h.extend(dims.iter().cloned());
    h.extend(
        present
            .columns()
            .into_iter()
            .filter(|c| c.1)
            .map(|c| c.0.to_string()),
    );
    h.extend(attrs.iter().cloned());
    h.push("Value".into());
    h
}

fn record(o: &Observation, dims: &[String], attrs: &[String], present: &Present) -> Vec<String> {
    let mut r = vec![o.period.to_string()];
    r.extend(
        dims.iter()
            .map(|d| o.dims.get(d).cloned().unwrap_or_default()),
    );
    for (name, on) in present.columns() {
        if on {
            r.push(match name {
                "REF_AREA" => o.area.as_str().to_string(),
                "OBS_STATUS" => o
                    .status
                    .as_ref()
                    .map(|s| s.code().to_string())
                    .unwrap_or_default(),
                "LOWER_BOUND" => opt_num(o.lower),
                "UPPER_BOUND" => opt_num(o.upper),
                "COMMENT_OBS" => opt(&o.footnote),
                _ => opt(&o.source),
            });
        }
    }
    r.extend(
        attrs
            .iter()
            .map(|a| o.attributes.get(a).cloned().unwrap_or_default()),
    );
    r.push(number_text(o.value));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AreaRef, Period};

    const SAMPLE: &str = "Year,UNIT_MEASURE,SEX,URBANISATION,REF_AREA,Value\n\
        2010,PER_1000_LIVE_BIRTHS,_T,,,19.55\n\
        2010,PER_1000_LIVE_BIRTHS,F,U,KZAKM,16.99\n\
        2011,PER_1000_LIVE_BIRTHS,M,,KZAKM,abc\n\
        20x1,PER_1000_LIVE_BIRTHS,M,,KZAKM,1\n\
        ,,,,,\n";

    #[test]
    fn reads_rows_and_reports_bad_ones() {
        let i = parse("3.2.1", Some("kazstat"), SAMPLE.as_bytes()).unwrap();
        assert_eq!(i.observations.len(), 2);
        let first = &i.observations[0];
        assert_eq!(first.indicator, "3.2.1");
        assert_eq!(first.area, AreaRef::National);
        assert_eq!(first.period, Period::annual(2010).unwrap());
        assert_eq!(first.dims.len(), 1, "SEX=_T is the total: {:?}", first.dims);
        assert_eq!(first.source.as_deref(), Some("kazstat"));
        let second = &i.observations[1];
        assert_eq!(second.dims["SEX"], "F");
        assert_eq!(second.dims["URBANISATION"], "U");
        assert_eq!(second.area.as_str(), "KZAKM");
        let rows: Vec<usize> = i.rejected.iter().map(|r| r.row).collect();
        assert_eq!(rows, [4, 5]);
        assert_eq!(i.rejected[0].errors.0[0].field, "Value");
        assert!(
            i.rejected[0]
                .to_string()
                .contains("'abc' is not a number in row 4 (line 4, field Value)"),
            "{}",
            i.rejected[0]
        );
        assert_eq!(i.rejected[1].errors.0[0].field, "Year");
    }

    #[test]
    fn header_problems_fail_the_file() {
        assert_eq!(parse("x", None, b""), Err(FormatError::Empty));
        assert!(matches!(
            parse("x", None, b"Year,SEX\n2010,F\n"),
            Err(FormatError::MissingColumn { .. })
        ));
        assert!(matches!(
            parse("x", None, b"Year,SEX,SEX,Value\n"),
            Err(FormatError::DuplicateColumn(_))
        ));
        assert!(matches!(
            parse("x", None, b"Year,Sex,Value\n"),
            Err(FormatError::Structure { .. })
        ));
    }

    #[test]
    fn unnamed_columns_must_be_empty() {
        let i = parse("x", None, b"Year,Value,,\n2010,1,,\n2011,2,,oops\n").unwrap();
        assert_eq!(i.observations.len(), 1);
        assert_eq!(i.rejected[0].errors.0[0].field, "column 4");
    }

    #[test]
    fn writes_the_kazstat_layout() {
        let i = parse("3.2.1", None, SAMPLE.as_bytes()).unwrap();
        let text = write(&i.observations).unwrap();
        assert_eq!(
            text,
            "Year,UNIT_MEASURE,SEX,URBANISATION,REF_AREA,Value\n2010,PER_1000_LIVE_BIRTHS,,,,19.55\n2010,PER_1000_LIVE_BIRTHS,F,U,KZAKM,16.99\n"
        );
        let mut other = i.observations[0].clone();
        other.indicator = "3.2.2".into();
        assert!(matches!(
            write(&[i.observations[0].clone(), other]),
            Err(WriteError::MixedIndicators { .. })
        ));
    }
}

//! CSV shared by the tidy (kazstat) and SDMX-CSV readers: reading the table, and
//! turning a row into an observation once each column's role is known.

use super::collect::Collector;
use super::columns::Role;
use super::draft::{non_empty, Draft};
use super::{codes, FormatError, Import};
use crate::model::{AreaRef, ObsStatus};

pub(crate) struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Row>,
}

pub(crate) struct Row {
    /// 1-based line where the record starts.
    pub line: usize,
    /// The cells, or why they could not be read.
    pub cells: Result<Vec<String>, String>,
}

/// Reads the whole table. A byte-order mark is skipped (kazstat's files have none
/// but Excel writes one). Records are read as bytes so that one row with broken
/// UTF-8 is rejected on its own instead of failing the file.
pub(crate) fn read(input: &[u8]) -> Result<Table, FormatError> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut records = reader.byte_records();
    let header = match records.next() {
        None => return Err(FormatError::Empty),
        Some(Err(e)) => return Err(csv_error(&e)),
        Some(Ok(r)) => r
            .iter()
            .map(|c| std::str::from_utf8(c).map(|s| s.trim().to_string()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| FormatError::Encoding)?,
    };
    let mut rows = Vec::new();
    for record in records {
        rows.push(match record {
            Ok(r) => Row {
                line: line_of(r.position()),
                cells: decode(&r),
            },
            Err(e) => Row {
                line: e.position().map_or(0, |p| p.line() as usize),
                cells: Err(e.to_string()),
            },
        });
    }
    Ok(Table { header, rows })
}

fn line_of(p: Option<&csv::Position>) -> usize {
    p.map_or(0, |p| p.line() as usize)
}

fn decode(r: &csv::ByteRecord) -> Result<Vec<String>, String> {
    r.iter()
        .enumerate()
        .map(|(i, c)| {
            String::from_utf8(c.to_vec()).map_err(|_| format!("cell {} is not UTF-8 text", i + 1))
        })
        .collect()
}

fn csv_error(e: &csv::Error) -> FormatError {
    FormatError::Csv {
        line: e.position().map_or(1, |p| p.line()),
        message: e.to_string(),
    }
}

/// One column: what it means, its header as written, and whether its values are
/// `CODE: label`.
pub(crate) struct Column {
    pub role: Role,
    pub name: String,
    pub labelled: bool,
}

/// File-level defaults for what the rows may not say.
pub(crate) struct Defaults<'a> {
    pub indicator: Option<&'a str>,
    pub source: Option<&'a str>,
}

/// Rejects a header that names the same column twice (which cell would win?).
pub(crate) fn check_unique(columns: &[Column]) -> Result<(), FormatError> {
    let mut seen = std::collections::HashSet::new();
    for c in columns
        .iter()
        .filter(|c| !matches!(c.role, Role::Ignore | Role::Unnamed(_)))
    {
        if !seen.insert(c.name.as_str()) {
            return Err(FormatError::DuplicateColumn(c.name.clone()));
        }
    }
    Ok(())
}

pub(crate) fn require(columns: &[Column], role: Role, name: &str) -> Result<(), FormatError> {
    if columns.iter().any(|c| c.role == role) {
        Ok(())
    } else {
        Err(FormatError::MissingColumn {
            column: name.to_string(),
        })
    }
}

/// Turns every row into an observation or a rejection.
pub(crate) fn import(table: &Table, columns: &[Column], defaults: &Defaults) -> Import {
    let names = FieldNames::of(columns);
    let mut out = Collector::default();
    for row in &table.rows {
        let location = format!("line {}", row.line);
        let cells = match &row.cells {
            Ok(c) if c.iter().all(|x| x.trim().is_empty()) => continue,
            Ok(c) => c,
            Err(msg) => {
                let mut d = Draft::default();
                d.error("row", codes::BAD_TEXT, msg.clone());
                out.reject(row.line, location, d.errors);
                continue;
            }
        };
        let draft = row_draft(cells, columns, defaults);
        out.push(
            row.line,
            location,
            draft.finish(&names.indicator, &names.period, &names.value),
        );
    }
    out.finish()
}

struct FieldNames {
    indicator: String,
    period: String,
    value: String,
}

impl FieldNames {
    fn of(columns: &[Column]) -> FieldNames {
        let name = |role: Role, fallback: &str| {
            columns
                .iter()
                .find(|c| c.role == role)
                .map_or(fallback.to_string(), |c| c.name.clone())
        };
        FieldNames {
            indicator: name(Role::Indicator, "indicator"),
            period: name(Role::Period, "period"),
            value: name(Role::Value, "value"),
        }
    }
}

fn row_draft(cells: &[String], columns: &[Column], defaults: &Defaults) -> Draft {
    let mut d = Draft {
        indicator: defaults.indicator.map(str::to_string),
        source: defaults.source.map(str::to_string),
        ..Draft::default()
    };
    if cells.len() < columns.len() {
        let msg = format!(
            "the row has {} cells, the header {}",
            cells.len(),
            columns.len()
        );
        d.error("row", codes::UNEXPECTED, msg);
    }
    for (i, cell) in cells.iter().enumerate() {
        match columns.get(i) {
            Some(col) => apply(&mut d, col, cell),
            None if cell.trim().is_empty() => {}
            None => d.error(
                &format!("column {}", i + 1),
                codes::UNEXPECTED,
                format!("'{}' is beyond the last column of the header", cell.trim()),
            ),
        }
    }
    d
}

fn apply(d: &mut Draft, col: &Column, cell: &str) {
    let raw = cell.trim();
    let text = if col.labelled && col.role.is_coded() {
        strip_label(raw)
    } else {
        raw
    };
    let field = col.name.as_str();
    match &col.role {
        Role::Indicator => {
            if let Some(t) = non_empty(text) {
                d.indicator = Some(t);
            }
        }
        Role::Area => d.area = Some(AreaRef::parse(text)),
        Role::Period => d.set_period(field, text),
        Role::Value => d.set_value(field, text),
        Role::Lower => d.lower = d.optional_number(field, text),
        Role::Upper => d.upper = d.optional_number(field, text),
        Role::Status => d.status = non_empty(text).map(|s| ObsStatus::from_code(&s)),
        Role::Source => d.source = non_empty(text).or(d.source.take()),
        Role::Footnote => d.footnote = non_empty(text),
        Role::Action if text.eq_ignore_ascii_case("D") => d.error(
            field,
            codes::UNEXPECTED,
            "a deletion (ACTION D) is not imported; delete the value in Bala instead",
        ),
        Role::Action => {}
        Role::Unnamed(n) if !text.is_empty() => d.error(
            &format!("column {n}"),
            codes::UNEXPECTED,
            format!("'{text}' is in a column with no header"),
        ),
        Role::Ignore | Role::Unnamed(_) => {}
        Role::Attribute(id) => d.set_attribute(id, text),
        Role::Dimension(id) => d.set_dim(id, text),
    }
}

/// `KAZ: Kazakhstan` → `KAZ` (SDMX-CSV with labels).
fn strip_label(text: &str) -> &str {
    text.split_once(": ").map_or(text, |(code, _)| code.trim())
}

/// The dimension ids used by any observation, in the order kazstat's files put
/// them (series and unit first, then the breakdowns), the rest alphabetically.
pub(crate) fn dimension_columns(observations: &[crate::model::Observation]) -> Vec<String> {
    use crate::model::dims::id;
    const ORDER: &[&str] = &[
        id::SERIES,
        id::UNIT_MEASURE,
        id::SEX,
        id::AGE,
        id::URBANISATION,
        id::INCOME_WEALTH_QUANTILE,
    ];
    let all: std::collections::BTreeSet<&String> =
        observations.iter().flat_map(|o| o.dims.keys()).collect();
    let mut out: Vec<String> = ORDER
        .iter()
        .filter(|d| all.iter().any(|a| a == *d))
        .map(|d| d.to_string())
        .collect();
    out.extend(
        all.into_iter()
            .filter(|a| !ORDER.contains(&a.as_str()))
            .cloned(),
    );
    out
}

/// The attribute ids used by any observation, sorted; each must read back as an
/// attribute from CSV.
pub(crate) fn attribute_columns(
    observations: &[crate::model::Observation],
) -> Result<Vec<String>, super::WriteError> {
    let all: std::collections::BTreeSet<&String> = observations
        .iter()
        .flat_map(|o| o.attributes.keys())
        .collect();
    for a in &all {
        if !super::columns::csv_representable(a, true) {
            return Err(super::WriteError::NotRepresentable(format!(
                "attribute {a} would read back from CSV as a dimension; CSV can only carry the attributes in KNOWN_ATTRIBUTES"
            )));
        }
    }
    Ok(all.into_iter().cloned().collect())
}

/// Dimensions must not read back as attributes.
pub(crate) fn check_dimension_columns(dims: &[String]) -> Result<(), super::WriteError> {
    match dims
        .iter()
        .find(|d| !super::columns::csv_representable(d, false))
    {
        Some(d) => Err(super::WriteError::NotRepresentable(format!(
            "dimension {d} would read back from CSV as an attribute"
        ))),
        None => Ok(()),
    }
}

/// Writes records as CSV text (RFC 4180 quoting).
pub(crate) fn to_csv(records: &[Vec<String>]) -> Result<String, super::WriteError> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    for r in records {
        w.write_record(r)
            .map_err(|e| super::WriteError::NotRepresentable(e.to_string()))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| super::WriteError::NotRepresentable(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| super::WriteError::NotRepresentable(e.to_string()))
}

/// Optional text cell.
pub(crate) fn opt(x: &Option<String>) -> String {
    x.clone().unwrap_or_default()
}

/// Optional number cell.
pub(crate) fn opt_num(x: Option<f64>) -> String {
    x.map(super::number_text).unwrap_or_default()
}

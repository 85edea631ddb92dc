//! Excel workbooks: a data sheet laid out as SDMX-CSV (`INDICATOR`, `REF_AREA`,
//! `TIME_PERIOD`, the breakdowns, `OBS_VALUE`, bounds, status, source, footnote).
//!
//! Reading turns the first sheet into CSV text and hands it to the SDMX-CSV reader,
//! so an Excel file is checked by exactly the same rules, and rejections name the
//! spreadsheet row (the header is row 1). Writing produces the same columns, numbers
//! as numbers, plus — for templates — sheets listing the valid indicator and area
//! codes, and data validation on the cells (lists for codes, decimals for values),
//! so Excel itself stops most mistakes before a file is imported.
//!
//! calamine reads (pure Rust; zip with deflate only); rust_xlsxwriter writes
//! (pure Rust, no C library).

use super::{sdmx_csv, FormatError, Import, WriteError};
use crate::model::Observation;
use calamine::{Data, Reader, Xlsx};
use rust_xlsxwriter::{DataValidation, DataValidationRule, Format, Formula, Workbook, XlsxError};
use std::io::Cursor;

/// Reads the first sheet of a workbook.
pub fn parse(input: &[u8], indicator: Option<&str>) -> Result<Import, FormatError> {
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(input)).map_err(|e| FormatError::Structure {
        expected: "an Excel workbook (.xlsx)",
        message: e.to_string(),
    })?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or(FormatError::Empty)?
        .map_err(|e| FormatError::Structure {
            expected: "an Excel workbook (.xlsx)",
            message: e.to_string(),
        })?;
    // calamine's range starts at the first used cell; rows and columns before it
    // must be counted so that row numbers match what the user sees in Excel.
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let mut out = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    let width = range.width() + first_col as usize;
    if first_row > 0 {
        // Blank rows above the table: the CSV reader needs the header first, so a
        // sheet that does not start on row 1 is refused rather than renumbered.
        return Err(FormatError::Structure {
            expected: "a data sheet with the header on row 1",
            message: format!("the first row used is row {}", first_row + 1),
        });
    }
    for row in range.rows() {
        let mut cells: Vec<String> = vec![String::new(); first_col as usize];
        cells.extend(row.iter().map(cell_text));
        cells.resize(width, String::new());
        out.write_record(&cells).map_err(|e| FormatError::Csv {
            line: 0,
            message: e.to_string(),
        })?;
    }
    let bytes = out.into_inner().map_err(|e| FormatError::Csv {
        line: 0,
        message: e.to_string(),
    })?;
    let mut import = sdmx_csv::parse(&bytes, indicator)?;
    // The CSV reader says "line N"; in a workbook the same number is the row.
    for r in &mut import.rejected {
        r.location = r.location.replace("line ", "row ");
    }
    for p in &mut import.positions {
        p.1 = p.1.replace("line ", "row ");
    }
    Ok(import)
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) => format!("{f}"),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        // A date or time typed into a period cell is not a period Bala reads;
        // keep Excel's serial number so the row is rejected with a clear message.
        Data::DateTime(dt) => format!("{}", dt.as_f64()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Codes offered in a template's drop-down lists: (code, label).
#[derive(Debug, Clone, Default)]
pub struct TemplateLists {
    pub indicators: Vec<(String, String)>,
    pub areas: Vec<(String, String)>,
    /// Header labels for the lists' sheets and the instructions, in the user's language.
    pub texts: TemplateTexts,
}

#[derive(Debug, Clone, Default)]
pub struct TemplateTexts {
    pub instructions: Vec<String>,
    pub code: String,
    pub name: String,
}

/// Rows of validation in a template.
const TEMPLATE_ROWS: u32 = 5000;

/// Writes observations (may be empty) as a workbook. With `lists`, the workbook is
/// a template: code lists on their own sheets and validation on the data cells.
pub fn write(
    observations: &[Observation],
    lists: Option<&TemplateLists>,
) -> Result<Vec<u8>, WriteError> {
    let csv_text = if observations.is_empty() {
        template_header()
    } else {
        sdmx_csv::write(observations, "BALA:INDICATORS(1.0)")?
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_text.as_bytes());
    let records: Vec<csv::StringRecord> = rdr
        .records()
        .collect::<Result<_, _>>()
        .map_err(|e| WriteError::NotRepresentable(e.to_string()))?;
    build(&records, lists).map_err(|e| WriteError::NotRepresentable(format!("Excel: {e}")))
}

/// The columns of an empty template.
fn template_header() -> String {
    "DATAFLOW,REF_AREA,INDICATOR,SEX,URBANISATION,AGE,SERIES,UNIT_MEASURE,TIME_PERIOD,OBS_VALUE,LOWER_BOUND,UPPER_BOUND,OBS_STATUS,DATA_SOURCE,OBS_FOOTNOTE\n".to_string()
}

/// Columns whose cells are numbers.
const NUMERIC: &[&str] = &["OBS_VALUE", "LOWER_BOUND", "UPPER_BOUND"];

fn build(
    records: &[csv::StringRecord],
    lists: Option<&TemplateLists>,
) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let header: Vec<String> = records
        .first()
        .map(|r| r.iter().map(str::to_string).collect())
        .unwrap_or_default();
    {
        let ws = wb.add_worksheet();
        ws.set_name("data")?;
        for (c, h) in header.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &bold)?;
            ws.set_column_width(c as u16, 14)?;
            if !NUMERIC.contains(&h.as_str()) {
                // Codes and periods stay text: Excel must not turn 2020-01 into a date.
                ws.set_column_format(c as u16, &text)?;
            }
        }
        for (r, rec) in records.iter().enumerate().skip(1) {
            for (c, cell) in rec.iter().enumerate() {
                if cell.is_empty() {
                    continue;
                }
                let numeric = header.get(c).is_some_and(|h| NUMERIC.contains(&h.as_str()));
                match cell.parse::<f64>() {
                    Ok(v) if numeric && v.is_finite() => ws.write_number(r as u32, c as u16, v)?,
                    _ => ws.write_string(r as u32, c as u16, cell)?,
                };
            }
        }
        ws.set_freeze_panes(1, 0)?;
        if let Some(l) = lists {
            validations(ws, &header, l)?;
        }
    }
    if let Some(l) = lists {
        for (name, rows) in [("indicators", &l.indicators), ("areas", &l.areas)] {
            let ws = wb.add_worksheet();
            ws.set_name(name)?;
            ws.write_string_with_format(0, 0, &l.texts.code, &bold)?;
            ws.write_string_with_format(0, 1, &l.texts.name, &bold)?;
            ws.set_column_width(0, 14)?;
            ws.set_column_width(1, 60)?;
            for (i, (code, label)) in rows.iter().enumerate() {
                ws.write_string(i as u32 + 1, 0, code)?;
                ws.write_string(i as u32 + 1, 1, label)?;
            }
        }
        let ws = wb.add_worksheet();
        ws.set_name("readme")?;
        ws.set_column_width(0, 120)?;
        for (i, line) in l.texts.instructions.iter().enumerate() {
            ws.write_string(i as u32, 0, line)?;
        }
    }
    wb.save_to_buffer()
}

fn validations(
    ws: &mut rust_xlsxwriter::Worksheet,
    header: &[String],
    l: &TemplateLists,
) -> Result<(), XlsxError> {
    let col = |name: &str| header.iter().position(|h| h == name).map(|c| c as u16);
    let last = TEMPLATE_ROWS;
    if let Some(c) = col("INDICATOR") {
        let dv = DataValidation::new().allow_list_formula(Formula::new(format!(
            "=indicators!$A$2:$A${}",
            l.indicators.len() + 1
        )));
        ws.add_data_validation(1, c, last, c, &dv)?;
    }
    if let Some(c) = col("REF_AREA") {
        let dv = DataValidation::new()
            .allow_list_formula(Formula::new(format!(
                "=areas!$A$2:$A${}",
                l.areas.len() + 1
            )))
            .ignore_blank(true);
        ws.add_data_validation(1, c, last, c, &dv)?;
    }
    for (name, codes) in [
        ("SEX", &["F", "M"][..]),
        ("URBANISATION", &["U", "R"][..]),
        ("OBS_STATUS", &["A", "P", "E", "F", "I"][..]),
    ] {
        if let Some(c) = col(name) {
            let dv = DataValidation::new()
                .allow_list_strings(codes)?
                .ignore_blank(true);
            ws.add_data_validation(1, c, last, c, &dv)?;
        }
    }
    for name in NUMERIC {
        if let Some(c) = col(name) {
            let dv = DataValidation::new()
                .allow_decimal_number(DataValidationRule::GreaterThanOrEqualTo(0.0))
                .ignore_blank(true);
            ws.add_data_validation(1, c, last, c, &dv)?;
        }
    }
    Ok(())
}

/// A cell of a plain table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

/// A one-sheet workbook with a bold header row (pivot tables).
pub fn table(sheet: &str, header: &[String], rows: &[Vec<Cell>]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name(sheet)?;
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold)?;
        ws.set_column_width(c as u16, if c == 0 { 28 } else { 14 })?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            match cell {
                Cell::Text(t) => {
                    ws.write_string(r as u32 + 1, c as u16, t)?;
                }
                Cell::Number(n) if n.is_finite() => {
                    ws.write_number(r as u32 + 1, c as u16, *n)?;
                }
                _ => {}
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AreaRef, Period};

    fn obs() -> Vec<Observation> {
        let mut a = Observation::new(
            "3.2.1",
            AreaRef::National,
            Period::annual(2019).unwrap(),
            10.69,
        )
        .with_dim("UNIT_MEASURE", "PER_1000_LIVE_BIRTHS");
        a.source = Some("kazstat".into());
        let mut b = Observation::new(
            "3.2.1",
            AreaRef::parse("750000000"),
            Period::annual(2019).unwrap(),
            8.1,
        )
        .with_dim("UNIT_MEASURE", "PER_1000_LIVE_BIRTHS")
        .with_dim("SEX", "F");
        b.source = Some("kazstat".into());
        b.lower = Some(7.5);
        b.footnote = Some("provisional, to be revised".into());
        vec![a, b]
    }

    #[test]
    fn round_trip() {
        let bytes = write(&obs(), None).unwrap();
        let back = parse(&bytes, None).unwrap();
        assert!(back.rejected.is_empty(), "{:?}", back.rejected);
        assert_eq!(back.observations, obs());
    }

    #[test]
    fn template_reads_back_empty_and_rows_are_numbered_as_in_excel() {
        let lists = TemplateLists {
            indicators: vec![("3.2.1".into(), "Under-five mortality".into())],
            areas: vec![("750000000".into(), "Almaty".into())],
            texts: TemplateTexts {
                instructions: vec!["Fill one row per value.".into()],
                code: "code".into(),
                name: "name".into(),
            },
        };
        let t = write(&[], Some(&lists)).unwrap();
        let i = parse(&t, None).unwrap();
        assert!(i.observations.is_empty() && i.rejected.is_empty());

        let mut o = obs();
        o[1].value = 8.1;
        let mut bytes = write(&o, Some(&lists)).unwrap();
        // Break the second data row's value in the sheet by rewriting it as text.
        let good = parse(&bytes, None).unwrap();
        assert_eq!(good.observations.len(), 2);
        bytes.truncate(bytes.len() / 2);
        assert!(
            parse(&bytes, None).is_err(),
            "a truncated file is not a workbook"
        );
    }

    #[test]
    fn tables_keep_numbers_as_numbers() {
        let bytes = table(
            "pivot",
            &["area".into(), "2019".into()],
            &[
                vec![Cell::Text("Almaty".into()), Cell::Number(8.25)],
                vec![Cell::Text("Astana".into()), Cell::Empty],
            ],
        )
        .unwrap();
        let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
        let range = wb.worksheet_range_at(0).unwrap().unwrap();
        assert_eq!(range.get_value((1, 1)), Some(&Data::Float(8.25)));
        assert_eq!(
            range.get_value((2, 0)),
            Some(&Data::String("Astana".into()))
        );
    }

    #[test]
    fn not_a_workbook() {
        assert!(matches!(
            parse(b"REF_AREA,TIME_PERIOD\n", None),
            Err(FormatError::Structure { .. })
        ));
    }
}

//! Plain tables in and out of CSV and Excel: what the field's registers and
//! printable lists are. Pure (bytes in, bytes out), so importers can be fuzzed.

use bala_core::{FieldError, ValidationErrors};
use calamine::{Data, Reader, Xlsx};
use std::io::Cursor;

/// A table with a header row; every row has as many cells as the header.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// The cell of `row` under `column`, or "" when the column is absent.
    pub fn get<'a>(&self, row: &'a [String], column: &str) -> &'a str {
        self.headers
            .iter()
            .position(|h| h == column)
            .and_then(|i| row.get(i))
            .map(String::as_str)
            .unwrap_or("")
    }

    /// The cell of `row` under `column`, trimmed and owned (what importers
    /// check and store).
    pub fn cell(&self, row: &[String], column: &str) -> String {
        self.get(row, column).trim().to_string()
    }

    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }
}

fn file_error(message: String) -> ValidationErrors {
    ValidationErrors::single(FieldError::new("file", "err-import-file", message))
}

/// At most this many rows are named when cells lie beyond the header, so a
/// file shifted by one column gives a readable answer, not a million lines.
const OVERFLOW_ROWS_NAMED: usize = 20;

/// Collects the rows that carry values in columns without a header. Such a
/// value belongs to no field, and dropping it silently could lose data (a
/// shifted row, a lot number typed one cell too far right).
#[derive(Default)]
struct Overflow {
    rows: usize,
    errors: ValidationErrors,
}

impl Overflow {
    /// Pads a short row; records a row whose extra cells are not all blank.
    /// `line` is the 1-based row number in the file (the header is row 1).
    fn fit(&mut self, row: &mut Vec<String>, width: usize, line: usize) {
        if let Some(extra) = row.iter().skip(width).position(|c| !c.trim().is_empty()) {
            self.rows += 1;
            if self.rows <= OVERFLOW_ROWS_NAMED {
                let column = width + extra + 1;
                self.errors.push(
                    format!("row {line}"),
                    "err-import-file",
                    format!(
                        "a value ({:?}) in column {column} lies beyond the header's \
                         {width} columns: name that column or remove the value",
                        row[width + extra].trim()
                    ),
                );
            }
        }
        row.resize(width, String::new());
    }

    fn into_result(mut self) -> Result<(), ValidationErrors> {
        if self.rows > OVERFLOW_ROWS_NAMED {
            let more = self.rows - OVERFLOW_ROWS_NAMED;
            self.errors.push(
                "file",
                "err-import-file",
                format!("{more} more rows have values beyond the header"),
            );
        }
        self.errors.into_result()
    }
}

/// Reads CSV (comma or semicolon, as Excel writes in Russian locales), trimming
/// a byte-order mark and lower-casing headers.
pub fn from_csv(text: &str) -> Result<Table, ValidationErrors> {
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().next().unwrap_or("");
    let delimiter = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = r
        .headers()
        .map_err(|e| file_error(format!("the header row cannot be read: {e}")))?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    if headers.iter().all(|h| h.is_empty()) {
        return Err(file_error("the file has no header row".into()));
    }
    let mut t = Table {
        headers,
        rows: Vec::new(),
    };
    let mut overflow = Overflow::default();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| file_error(format!("row {} cannot be read: {e}", i + 2)))?;
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        // The reader skips blank lines, so the record's own line is the row to name.
        let line = rec.position().map_or(i + 2, |p| p.line() as usize);
        let mut row: Vec<String> = rec.iter().map(str::to_string).collect();
        overflow.fit(&mut row, t.headers.len(), line);
        t.rows.push(row);
    }
    overflow.into_result()?;
    Ok(t)
}

/// Excel stores dates as days since 1899-12-30.
fn excel_date(serial: f64) -> String {
    let base = time::macros::date!(1899 - 12 - 30);
    match base.checked_add(time::Duration::days(serial.floor() as i64)) {
        Some(d) if serial.is_finite() => bala_core::date::iso(d),
        _ => format!("{serial}"),
    }
}

fn cell(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => format!("{f}"),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => excel_date(dt.as_f64()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.chars().take(10).collect(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Reads the first sheet of a workbook; the header must be on row 1.
pub fn from_xlsx(bytes: &[u8]) -> Result<Table, ValidationErrors> {
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| file_error(format!("not an Excel workbook: {e}")))?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or_else(|| file_error("the workbook has no sheet".into()))?
        .map_err(|e| file_error(format!("the first sheet cannot be read: {e}")))?;
    if range.start().is_some_and(|(r, _)| r > 0) {
        return Err(file_error("the header must be on row 1".into()));
    }
    let first_col = range.start().map(|(_, c)| c as usize).unwrap_or(0);
    let mut rows = range.rows().map(|r| {
        let mut cells = vec![String::new(); first_col];
        cells.extend(r.iter().map(cell));
        cells
    });
    let mut headers: Vec<String> = rows
        .next()
        .ok_or_else(|| file_error("the sheet is empty".into()))?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    // A sheet's range spans its widest row, so the header row arrives padded
    // with blank cells; the header ends at its last named column.
    let named = headers
        .iter()
        .rposition(|h| !h.is_empty())
        .map_or(0, |i| i + 1);
    headers.truncate(named);
    let mut t = Table {
        headers,
        rows: Vec::new(),
    };
    let mut overflow = Overflow::default();
    for (i, mut row) in rows.enumerate() {
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        overflow.fit(&mut row, t.headers.len(), i + 2);
        t.rows.push(row);
    }
    overflow.into_result()?;
    Ok(t)
}

/// Writes CSV with a byte-order mark so Excel opens Cyrillic correctly.
pub fn to_csv(t: &Table) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::from("\u{feff}".as_bytes()));
    // Writing to a Vec cannot fail.
    w.write_record(&t.headers).expect("in-memory CSV");
    for r in &t.rows {
        w.write_record(r).expect("in-memory CSV");
    }
    w.into_inner().expect("in-memory CSV")
}

/// Writes one sheet with a bold, frozen header; numbers stay numbers.
pub fn to_xlsx(t: &Table, sheet: &str) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name(sheet)?;
    for (c, h) in t.headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold)?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            // IINs and KATO codes look numeric but must keep their leading zeros.
            let numeric = !v.starts_with('0') || v.starts_with("0.") || v == "0";
            match v.parse::<f64>() {
                Ok(n) if numeric && n.is_finite() && v.len() < 10 => {
                    ws.write_number(r as u32 + 1, c as u16, n)?
                }
                _ => ws.write_string(r as u32 + 1, c as u16, v)?,
            };
        }
    }
    ws.set_freeze_panes(1, 0)?;
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_reads_semicolons_bom_and_pads_rows() {
        let t = from_csv("\u{feff}IIN;Product\n123;BCG\n\n;HEXA;\n456\n").unwrap();
        assert_eq!(t.headers, vec!["iin", "product"]);
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[1], vec!["", "HEXA"]);
        assert_eq!(t.get(&t.rows[2], "product"), "");
        assert_eq!(t.get(&t.rows[0], "missing"), "");
    }

    #[test]
    fn csv_values_beyond_the_header_are_refused_by_row() {
        let e = from_csv("iin,product\n123,BCG\n456,HEXA,LOT-7\n789,MMR, \n").unwrap_err();
        assert_eq!(e.0.len(), 1, "{e}");
        assert_eq!(e.0[0].field, "row 3");
        assert!(e.0[0].detail.contains("(\"LOT-7\") in column 3"), "{e}");
        assert!(e.0[0].detail.contains("header's 2 columns"), "{e}");
    }

    #[test]
    fn many_overflowing_rows_are_summarised() {
        let mut text = String::from("iin\n");
        for i in 0..25 {
            text.push_str(&format!("{i},x\n"));
        }
        let e = from_csv(&text).unwrap_err();
        assert_eq!(e.0.len(), OVERFLOW_ROWS_NAMED + 1);
        assert_eq!(e.0[0].field, "row 2");
        assert!(e.0.last().unwrap().detail.starts_with("5 more rows"), "{e}");
    }

    #[test]
    fn xlsx_values_beyond_the_header_are_refused_by_row() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "iin").unwrap();
        ws.write_string(0, 1, "product").unwrap();
        ws.write_string(1, 0, "123").unwrap();
        ws.write_string(1, 1, "BCG").unwrap();
        ws.write_string(2, 0, "456").unwrap();
        ws.write_string(2, 3, "shifted").unwrap();
        let e = from_xlsx(&wb.save_to_buffer().unwrap()).unwrap_err();
        assert_eq!(e.0.len(), 1, "{e}");
        assert_eq!(e.0[0].field, "row 3");
        assert!(e.0[0].detail.contains("column 4"), "{e}");
    }

    #[test]
    fn xlsx_round_trip_keeps_codes_and_numbers() {
        let mut t = Table::new(&["iin", "product", "given_on", "n"]);
        t.push(vec![
            "050101500017".into(),
            "BCG".into(),
            "2024-01-05".into(),
            "3".into(),
        ]);
        let bytes = to_xlsx(&t, "doses").unwrap();
        let back = from_xlsx(&bytes).unwrap();
        assert_eq!(back, t);
        let csv = to_csv(&t);
        assert_eq!(from_csv(std::str::from_utf8(&csv).unwrap()).unwrap(), t);
    }

    #[test]
    fn excel_serial_dates_become_iso() {
        assert_eq!(excel_date(45306.0), "2024-01-15");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(from_xlsx(b"PK\x03\x04 not really").is_err());
        assert!(from_csv("").is_err());
    }
}

//! Plain tables in and out of CSV and Excel: what the field's registers and
//! printable lists are. Pure (bytes in, bytes out), so importers can be fuzzed.

use bala_core::{FieldError, ValidationErrors};
use calamine::{Data, Reader, Xlsx};
use std::io::Cursor;

/// A table with a header row; every row has as many cells as the header.
///
/// The cells are kept in one string with their end offsets, not as a string
/// each: a register's history is a million rows of nine cells, and ten million
/// separate allocations took about 450 MB where this takes 130 MB (on the
/// 2-core VM, touching fresh memory costs about 3 s per GB: docs/benchmarks.md).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    /// Every cell's text, row after row.
    text: String,
    /// Where each cell ends in `text`: row r's cell c at `r * width + c`.
    ends: Vec<u32>,
    rows: usize,
}

/// One row of a [`Table`].
#[derive(Debug, Clone, Copy)]
pub struct Row<'t> {
    table: &'t Table,
    index: usize,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            ..Default::default()
        }
    }

    /// Number of rows (the header not counted).
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Row `index` (0-based, the header not counted).
    pub fn row(&self, index: usize) -> Row<'_> {
        assert!(index < self.rows, "row {index} of {}", self.rows);
        Row { table: self, index }
    }

    pub fn rows(&self) -> impl ExactSizeIterator<Item = Row<'_>> + '_ {
        (0..self.rows).map(move |index| Row { table: self, index })
    }

    /// Appends a row: cells beyond the header are dropped, missing ones are
    /// blank (the readers refuse rows with values beyond the header first).
    pub fn push<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) {
        let width = self.headers.len();
        let mut n = 0;
        for c in cells.into_iter().take(width) {
            self.text.push_str(c.as_ref());
            self.ends.push(self.end());
            n += 1;
        }
        for _ in n..width {
            self.ends.push(self.end());
        }
        self.rows += 1;
    }

    fn end(&self) -> u32 {
        u32::try_from(self.text.len()).expect("a table holds less than 4 GiB of text")
    }
}

impl<'t> Row<'t> {
    /// The cell in column `c` as written in the file.
    pub fn at(&self, c: usize) -> &'t str {
        let t = self.table;
        let k = self.index * t.headers.len() + c;
        let start = if k == 0 { 0 } else { t.ends[k - 1] as usize };
        &t.text[start..t.ends[k] as usize]
    }

    /// The cell under `column` as written, or "" when the column is absent.
    pub fn get(&self, column: &str) -> &'t str {
        self.table
            .headers
            .iter()
            .position(|h| h == column)
            .map_or("", |c| self.at(c))
    }

    /// The cell under `column`, trimmed (what importers check and store).
    pub fn cell(&self, column: &str) -> &'t str {
        self.get(column).trim()
    }

    /// Every cell, in header order.
    pub fn cells(&self) -> impl Iterator<Item = &'t str> + 't {
        let row = *self;
        (0..self.table.headers.len()).map(move |c| row.at(c))
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
    /// Records a row whose cells beyond the header are not all blank. `line`
    /// is the 1-based row number in the file (the header is row 1).
    fn check<'a>(&mut self, cells: impl Iterator<Item = &'a str>, width: usize, line: usize) {
        if let Some((extra, value)) = cells
            .skip(width)
            .enumerate()
            .find(|(_, c)| !c.trim().is_empty())
        {
            self.rows += 1;
            if self.rows <= OVERFLOW_ROWS_NAMED {
                let column = width + extra + 1;
                self.errors.push(
                    format!("row {line}"),
                    "err-import-file",
                    format!(
                        "a value ({:?}) in column {column} lies beyond the header's \
                         {width} columns: name that column or remove the value",
                        value.trim()
                    ),
                );
            }
        }
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
    if u32::try_from(text.len()).is_err() {
        return Err(file_error("the file is larger than 4 GiB".into()));
    }
    // Sized once: the cells hold at most the file's text, and a cell end per
    // column of each line. Grown by doubling, a register's 80 MB file was
    // copied a dozen times into freshly faulted memory.
    let lines = text.bytes().filter(|b| *b == b'\n').count() + 1;
    let mut t = Table {
        text: String::with_capacity(text.len()),
        ends: Vec::with_capacity(lines.saturating_mul(headers.len())),
        headers,
        ..Default::default()
    };
    let mut overflow = Overflow::default();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| file_error(format!("row {} cannot be read: {e}", i + 2)))?;
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        // The reader skips blank lines, so the record's own line is the row to name.
        let line = rec.position().map_or(i + 2, |p| p.line() as usize);
        overflow.check(rec.iter(), t.headers.len(), line);
        t.push(rec.iter());
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
        ..Default::default()
    };
    let mut overflow = Overflow::default();
    for (i, row) in rows.enumerate() {
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        overflow.check(row.iter().map(String::as_str), t.headers.len(), i + 2);
        t.push(row);
    }
    overflow.into_result()?;
    Ok(t)
}

/// Writes CSV with a byte-order mark so Excel opens Cyrillic correctly.
pub fn to_csv(t: &Table) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::from("\u{feff}".as_bytes()));
    // Writing to a Vec cannot fail.
    w.write_record(&t.headers).expect("in-memory CSV");
    for r in t.rows() {
        w.write_record(r.cells()).expect("in-memory CSV");
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
    for (r, row) in t.rows().enumerate() {
        for (c, v) in row.cells().enumerate() {
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
        assert_eq!(t.len(), 3);
        assert_eq!(t.row(1).cells().collect::<Vec<_>>(), vec!["", "HEXA"]);
        assert_eq!(t.row(2).get("product"), "");
        assert_eq!(t.row(0).get("missing"), "");
        assert_eq!(t.row(0).cells().collect::<Vec<_>>(), vec!["123", "BCG"]);
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
        t.push(["050101500017", "BCG", "2024-01-05", "3"]);
        let bytes = to_xlsx(&t, "doses").unwrap();
        let back = from_xlsx(&bytes).unwrap();
        assert_eq!(back, t);
        let csv = to_csv(&t);
        assert_eq!(from_csv(std::str::from_utf8(&csv).unwrap()).unwrap(), t);
    }

    proptest::proptest! {
        /// Every row reads back as pushed, cut or padded to the header.
        #[test]
        fn rows_read_back_as_pushed(
            width in 0usize..5,
            rows in proptest::collection::vec(proptest::collection::vec(".{0,6}", 0..7), 0..20),
        ) {
            let headers: Vec<String> = (0..width).map(|c| format!("c{c}")).collect();
            let names: Vec<&str> = headers.iter().map(String::as_str).collect();
            let mut t = Table::new(&names);
            for r in &rows {
                t.push(r);
            }
            proptest::prop_assert_eq!(t.len(), rows.len());
            for (i, r) in rows.iter().enumerate() {
                let want: Vec<&str> = (0..width)
                    .map(|c| r.get(c).map_or("", String::as_str))
                    .collect();
                proptest::prop_assert_eq!(t.row(i).cells().collect::<Vec<_>>(), want.clone());
                for (c, name) in names.iter().enumerate() {
                    proptest::prop_assert_eq!(t.row(i).get(name), want[c]);
                    proptest::prop_assert_eq!(t.row(i).cell(name), want[c].trim());
                }
            }
        }
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

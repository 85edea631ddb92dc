//! ADX, the IHE Aggregate Data Exchange profile (`urn:ihe:qrph:adx:2015`), as DHIS2
//! imports and exports it at `/api/dataValueSets` with `application/adx+xml`.
//!
//! ```xml
//! <adx xmlns="urn:ihe:qrph:adx:2015">
//!   <group dataSet="…" period="2020-01-01/P1M" orgUnit="…" [attributeOptionCombo="…"] [Category="option"…]>
//!     <dataValue dataElement="…" value="1" [categoryOptionCombo="…"] [Category="option"…]>
//!       <annotation>note</annotation>
//!     </dataValue>
//!   </group>
//! </adx>
//! ```
//! Any attribute other than the named ones is a category (on `dataValue`) or an
//! attribute category (on `group`) whose value is the option code; each goes through
//! the [`CodeMap`] as `CATEGORY=OPTION`. Periods are ISO 8601 start/duration, of which
//! Bala reads calendar years (`P1Y`/`P12M` from 1 January), quarters (`P3M` from the
//! first day of a quarter) and months (`P1M` from the first of a month).

use super::codemap::{CodeMap, Reverse};
use super::collect::Collector;
use super::dhis2::{apply_refs, code_for_export, Coded, Refs};
use super::draft::{non_empty, Draft};
use super::{check_for_writing, codes, number_text, CodeKind, FormatError, Import, WriteError};
use crate::model::{Observation, Period};
use quick_xml::escape::escape;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// Reads an ADX message, mapping codes through `map`. Rows are the `dataValue`
/// elements in document order.
pub fn parse(input: &[u8], map: &CodeMap) -> Result<Import, FormatError> {
    let mut reader = Reader::from_reader(input);
    reader.config_mut().trim_text(true);
    let mut st = State::default();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| xml_error(&reader, &e.to_string()))?;
        match event {
            Event::Start(e) => st.start(&reader, &e, false, map)?,
            Event::Empty(e) => st.start(&reader, &e, true, map)?,
            Event::End(e) => st.end(e.local_name().as_ref(), map),
            Event::Text(t) if st.in_annotation => {
                let text = t
                    .unescape()
                    .map_err(|e| xml_error(&reader, &e.to_string()))?;
                st.annotate(&text);
            }
            Event::CData(c) if st.in_annotation => {
                let text = std::str::from_utf8(&c)
                    .map_err(|e| xml_error(&reader, &e.to_string()))?
                    .to_string();
                st.annotate(&text);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !st.root_seen {
        return Err(not_adx("there is no adx element"));
    }
    Ok(st.out.finish())
}

fn xml_error(reader: &Reader<&[u8]>, message: &str) -> FormatError {
    FormatError::Xml {
        position: reader.error_position(),
        message: message.to_string(),
    }
}

fn not_adx(message: &str) -> FormatError {
    FormatError::Structure {
        expected: "an ADX message",
        message: message.to_string(),
    }
}

#[derive(Default)]
struct State {
    root_seen: bool,
    groups: usize,
    group: Option<Group>,
    value: Option<Pending>,
    in_annotation: bool,
    rows: usize,
    out: Collector,
}

#[derive(Default, Clone)]
struct Group {
    number: usize,
    period: Option<String>,
    org_unit: Option<String>,
    attribute_combo: Option<String>,
    categories: Vec<(String, String)>,
}

struct Pending {
    row: usize,
    group: Option<Group>,
    element: Option<String>,
    value: Option<String>,
    combo: Option<String>,
    categories: Vec<(String, String)>,
    annotation: String,
}

impl State {
    fn start(
        &mut self,
        reader: &Reader<&[u8]>,
        e: &BytesStart,
        empty: bool,
        map: &CodeMap,
    ) -> Result<(), FormatError> {
        let name = e.local_name();
        let name = name.as_ref();
        if !self.root_seen {
            if name != b"adx" {
                return Err(not_adx(&format!(
                    "the root element is {}",
                    String::from_utf8_lossy(name)
                )));
            }
            self.root_seen = true;
            return Ok(());
        }
        match name {
            b"group" => {
                self.groups += 1;
                let g = group(self.groups, attributes(reader, e)?);
                self.group = (!empty).then_some(g);
            }
            b"dataValue" => {
                self.rows += 1;
                let p = pending(self.rows, self.group.clone(), attributes(reader, e)?);
                self.value = Some(p);
                if empty {
                    self.finish_value(map);
                }
            }
            b"annotation" if self.value.is_some() => self.in_annotation = !empty,
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, name: &[u8], map: &CodeMap) {
        match name {
            b"group" => self.group = None,
            b"dataValue" => self.finish_value(map),
            b"annotation" => self.in_annotation = false,
            _ => {}
        }
    }

    fn annotate(&mut self, text: &str) {
        if let Some(v) = self.value.as_mut() {
            v.annotation.push_str(text);
        }
    }

    fn finish_value(&mut self, map: &CodeMap) {
        let Some(p) = self.value.take() else { return };
        self.in_annotation = false;
        let location = match &p.group {
            Some(g) => format!("dataValue {} (group {})", p.row, g.number),
            None => format!("dataValue {} (outside any group)", p.row),
        };
        let draft = value_draft(p, map);
        self.out.push(
            draft.0,
            location,
            draft.1.finish("dataElement", "period", "value"),
        );
    }
}

fn attributes(
    reader: &Reader<&[u8]>,
    e: &BytesStart,
) -> Result<Vec<(String, String)>, FormatError> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| xml_error(reader, &err.to_string()))?;
        if a.key.as_namespace_binding().is_some() || a.key.prefix().is_some() {
            continue;
        }
        let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
        // decode_and_unescape_value works whether or not quick-xml's `encoding`
        // feature is on (calamine, the Excel reader, turns it on).
        let value = a
            .decode_and_unescape_value(reader.decoder())
            .map_err(|err| xml_error(reader, &err.to_string()))?
            .into_owned();
        out.push((key, value));
    }
    Ok(out)
}

fn group(number: usize, attrs: Vec<(String, String)>) -> Group {
    let mut g = Group {
        number,
        ..Group::default()
    };
    for (k, v) in attrs {
        match k.as_str() {
            "period" => g.period = Some(v),
            "orgUnit" => g.org_unit = Some(v),
            "attributeOptionCombo" => g.attribute_combo = Some(v),
            "dataSet" | "completeDate" => {}
            _ => g.categories.push((k, v)),
        }
    }
    g
}

fn pending(row: usize, group: Option<Group>, attrs: Vec<(String, String)>) -> Pending {
    let mut p = Pending {
        row,
        group,
        element: None,
        value: None,
        combo: None,
        categories: Vec::new(),
        annotation: String::new(),
    };
    for (k, v) in attrs {
        match k.as_str() {
            "dataElement" => p.element = Some(v),
            "value" => p.value = Some(v),
            "categoryOptionCombo" => p.combo = Some(v),
            _ => p.categories.push((k, v)),
        }
    }
    p
}

fn value_draft(p: Pending, map: &CodeMap) -> (usize, Draft) {
    let mut d = Draft {
        source: Some(map.system().to_string()),
        ..Draft::default()
    };
    let g = p.group.clone().unwrap_or_default();
    if p.group.is_none() {
        d.error(
            "group",
            codes::UNEXPECTED,
            "the dataValue is not inside a group",
        );
    }
    let mut categories = g.categories.clone();
    categories.extend(p.categories);
    let refs = Refs {
        element: p.element,
        period: g.period,
        org_unit: g.org_unit,
        combo: p.combo,
        attribute_combo: g.attribute_combo,
        categories,
    };
    apply_refs(&mut d, &refs, map, parse_period);
    match p.value {
        Some(v) => d.set_value("value", &v),
        None => d.error(
            "value",
            codes::MISSING,
            "the dataValue has no value attribute",
        ),
    }
    d.footnote = non_empty(&p.annotation);
    (p.row, d)
}

/// `2020-01-01/P1M` → 2020-01; `2021-01-01/P3M` → 2021-Q1; `2020-01-01/P1Y` → 2020.
pub fn parse_period(text: &str) -> Result<Period, String> {
    let t = text.trim();
    let bad = || {
        format!("ADX period '{t}' is not a calendar year (2020-01-01/P1Y), quarter (2020-04-01/P3M) or month (2020-03-01/P1M)")
    };
    let (start, duration) = t.split_once('/').ok_or_else(bad)?;
    let date = bala_core::parse_date(start).map_err(|_| bad())?;
    let (year, month, day) = (date.year(), date.month() as u8, date.day());
    if day != 1 {
        return Err(bad());
    }
    let p = match duration {
        "P1Y" | "P12M" if month == 1 => Period::annual(year),
        "P3M" if (month - 1) % 3 == 0 => Period::quarterly(year, (month - 1) / 3 + 1),
        "P1M" => Period::monthly(year, month),
        _ => return Err(bad()),
    };
    p.map_err(|e| e.to_string())
}

/// The ADX period of a period.
pub fn format_period(p: Period) -> String {
    let duration = match p.months() {
        12 => "P1Y",
        3 => "P3M",
        _ => "P1M",
    };
    format!("{:04}-{:02}-01/{duration}", p.year(), p.first_month())
}

/// Writes ADX: one `group` per period and organisation unit (in order of first
/// appearance), one `dataValue` per observation. A disaggregation is written as
/// category attributes when each breakdown maps to a `CATEGORY=OPTION` entry, else
/// as a `categoryOptionCombo`. Footnotes become annotations.
pub fn write(
    observations: &[Observation],
    map: &CodeMap,
    data_set: &str,
) -> Result<String, WriteError> {
    check_for_writing(observations)?;
    let rev = map.reverse();
    let mut groups: Vec<((String, String), Vec<String>)> = Vec::new();
    for o in observations {
        let coded = element_and_unit(o, &rev, map)?;
        let line = data_value(&coded.element, &disaggregation(o, &rev, map)?, o)?;
        let key = (format_period(o.period), coded.org_unit);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, lines)) => lines.push(line),
            None => groups.push((key, vec![line])),
        }
    }
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<adx xmlns=\"urn:ihe:qrph:adx:2015\">\n",
    );
    for ((period, org_unit), lines) in groups {
        xml.push_str(&format!(
            "  <group dataSet=\"{}\" period=\"{period}\" orgUnit=\"{}\">\n",
            escape(data_set),
            escape(org_unit.as_str())
        ));
        lines.iter().for_each(|l| xml.push_str(l));
        xml.push_str("  </group>\n");
    }
    xml.push_str("</adx>\n");
    Ok(xml)
}

/// The data element and org unit (the disaggregation is mapped separately).
fn element_and_unit(o: &Observation, rev: &Reverse, map: &CodeMap) -> Result<Coded, WriteError> {
    let mut plain = o.clone();
    plain.dims.clear();
    code_for_export(&plain, rev, map)
}

/// Category attributes if every breakdown maps to one, else a combo.
fn disaggregation(o: &Observation, rev: &Reverse, map: &CodeMap) -> Result<String, WriteError> {
    if o.dims.is_empty() {
        return Ok(String::new());
    }
    if let Some(opts) = rev.category_options(&o.dims) {
        return Ok(opts
            .iter()
            .map(|(c, v)| format!(" {c}=\"{}\"", escape(v.as_str())))
            .collect());
    }
    match rev.combos.get(&o.dims) {
        Some(c) => Ok(format!(" categoryOptionCombo=\"{}\"", escape(c.as_str()))),
        None => Err(WriteError::Unmapped {
            system: map.system().to_string(),
            kind: CodeKind::Disaggregation,
            code: crate::model::format_dims(&o.dims),
        }),
    }
}

fn data_value(element: &str, disaggregation: &str, o: &Observation) -> Result<String, WriteError> {
    let head = format!(
        "    <dataValue dataElement=\"{}\"{disaggregation} value=\"{}\"",
        escape(element),
        number_text(o.value)
    );
    match &o.footnote {
        None => Ok(format!("{head}/>\n")),
        Some(note) if note.chars().all(xml_char) => Ok(format!(
            "{head}><annotation>{}</annotation></dataValue>\n",
            escape(note.as_str())
        )),
        Some(_) => Err(WriteError::NotRepresentable(
            "the footnote has characters XML cannot hold (control characters)".into(),
        )),
    }
}

/// Characters allowed in XML 1.0 documents.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::CodeKind;
    use crate::model::AreaRef;

    fn map() -> CodeMap {
        let rows = [
            (CodeKind::Indicator, "Malaria numeric", "MAL_CASES"),
            (CodeKind::Area, "123", "751110000"),
            (CodeKind::Area, "456", "KZAKM"),
            (
                CodeKind::Disaggregation,
                "Sex_category=FFFFFFFFFFF",
                "SEX=F",
            ),
            (
                CodeKind::Disaggregation,
                "Age_category=under555555",
                "AGE=Y0T4",
            ),
            (CodeKind::Disaggregation, "FOver555555", "SEX=F;AGE=Y_GE5"),
        ];
        let mut m = CodeMap::new("dhis2-demo");
        for (k, e, b) in rows {
            m.insert(k, e, b).unwrap();
        }
        m
    }

    #[test]
    fn periods() {
        assert_eq!(
            parse_period("2020-01-01/P1M").unwrap(),
            Period::monthly(2020, 1).unwrap()
        );
        assert_eq!(
            parse_period("2021-04-01/P3M").unwrap(),
            Period::quarterly(2021, 2).unwrap()
        );
        assert_eq!(
            parse_period("2021-01-01/P1Y").unwrap(),
            Period::annual(2021).unwrap()
        );
        for bad in [
            "2021-02-01/P3M",
            "2021-01-02/P1M",
            "2021-01-01/P1W",
            "2021-01-01",
            "x/P1M",
            "2021-03-01/P1Y",
        ] {
            assert!(parse_period(bad).is_err(), "{bad}");
        }
        for p in ["2020-01-01/P1M", "2021-04-01/P3M", "2021-01-01/P1Y"] {
            assert_eq!(format_period(parse_period(p).unwrap()), p);
        }
    }

    #[test]
    fn reads_groups_categories_and_annotations() {
        let xml = br#"<adx xmlns="urn:ihe:qrph:adx:2015">
            <group dataSet="DS" period="2020-01-01/P1M" orgUnit="123">
              <dataValue dataElement="Malaria numeric" Sex_category="FFFFFFFFFFF" Age_category="under555555" value="1"/>
              <dataValue dataElement="Malaria numeric" categoryOptionCombo="FOver555555" value="3"><annotation>late &amp; checked</annotation></dataValue>
              <dataValue dataElement="Malaria numeric" Sex_category="MMMMMMMMMMM" value="2"/>
            </group>
            <dataValue dataElement="Malaria numeric" value="9"/>
        </adx>"#;
        let i = parse(xml, &map()).unwrap();
        assert_eq!(i.observations.len(), 2);
        let a = &i.observations[0];
        assert_eq!(crate::model::format_dims(&a.dims), "AGE=Y0T4;SEX=F");
        assert!(matches!(a.area, AreaRef::Kato(_)));
        assert_eq!(
            i.observations[1].footnote.as_deref(),
            Some("late & checked")
        );
        assert_eq!(i.rejected[0].row, 3);
        assert!(
            i.rejected[0]
                .to_string()
                .contains("unmapped category option 'MMMMMMMMMMM' of category 'Sex_category'"),
            "{}",
            i.rejected[0]
        );
        assert_eq!(i.rejected[1].row, 4);
        assert!(i.rejected[1].errors.for_field("group").is_some());
    }

    #[test]
    fn not_adx() {
        assert!(matches!(
            parse(b"<html/>", &map()),
            Err(FormatError::Structure { .. })
        ));
        assert!(matches!(
            parse(b"", &map()),
            Err(FormatError::Structure { .. })
        ));
        assert!(matches!(
            parse(b"<adx><group></adx>", &map()),
            Err(FormatError::Xml { .. })
        ));
    }

    #[test]
    fn writes_category_attributes_when_it_can() {
        let p = Period::monthly(2020, 1).unwrap();
        let a = Observation::new("MAL_CASES", AreaRef::parse("KZAKM"), p, 1.0)
            .with_dim("SEX", "F")
            .with_dim("AGE", "Y0T4");
        let mut b = Observation::new("MAL_CASES", AreaRef::parse("KZAKM"), p, 3.0)
            .with_dim("SEX", "F")
            .with_dim("AGE", "Y_GE5");
        b.footnote = Some("a <note>".into());
        let xml = write(&[a.clone(), b.clone()], &map(), "DS").unwrap();
        assert!(xml.contains(r#"<dataValue dataElement="Malaria numeric" Age_category="under555555" Sex_category="FFFFFFFFFFF" value="1"/>"#), "{xml}");
        assert!(xml.contains(r#"categoryOptionCombo="FOver555555" value="3"><annotation>a &lt;note&gt;</annotation>"#), "{xml}");
        assert_eq!(xml.matches("<group ").count(), 1);
        let back = parse(xml.as_bytes(), &map()).unwrap();
        assert_eq!(back.observations.len(), 2);
        assert_eq!(back.observations[1].footnote, b.footnote);
        let c = Observation::new("MAL_CASES", AreaRef::parse("KZAKM"), p, 3.0).with_dim("SEX", "M");
        assert!(matches!(
            write(&[c], &map(), "DS"),
            Err(WriteError::Unmapped {
                kind: CodeKind::Disaggregation,
                ..
            })
        ));
    }
}

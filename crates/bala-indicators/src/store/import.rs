//! Importing a file: read it in its format, harmonise every observation with
//! Bala's codes (through the format's code list), validate it, and write it —
//! or, in a dry run, only say what would happen. Every row gets a line in the
//! report; a row that cannot be imported names its field and the problem.
//!
//! Re-importing the same file changes nothing: each value is compared with what
//! is stored and only differences are written (see [`super::values`]).

use super::resolve::AreaResolver;
use super::values::{self, Existing, Fields, Outcome, ValueKey, Writer};
use super::{registry, Channel, IndError};
use crate::exchange::{
    adx, codes, dhis2, sdmx_csv, sdmx_json, tidy_csv, xlsx, CodeMap, FormatError, Import,
};
use crate::model::{Dims, Observation};
use crate::quality;
use crate::registry::{IndicatorDef, Kind};
use bala_core::{FieldError, ValidationErrors};
use bala_store::audit::{self, Actor, NewEntry};
use bala_store::Db;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// The formats Bala reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Format {
    /// kazstat's tidy CSV (Open SDG layout), one indicator per file.
    Csv,
    SdmxCsv,
    SdmxJson,
    Dhis2Json,
    Adx,
    Xlsx,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Csv,
        Format::SdmxCsv,
        Format::SdmxJson,
        Format::Dhis2Json,
        Format::Adx,
        Format::Xlsx,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::SdmxCsv => "sdmx-csv",
            Format::SdmxJson => "sdmx-json",
            Format::Dhis2Json => "dhis2-json",
            Format::Adx => "adx",
            Format::Xlsx => "xlsx",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.code() == s.trim())
    }

    /// The code list used when none is named: the system the format usually
    /// comes from.
    pub fn default_codelist(self) -> &'static str {
        match self {
            Format::Csv => "kazstat",
            Format::SdmxCsv | Format::SdmxJson => "unicef",
            Format::Dhis2Json | Format::Adx => "dhis2",
            Format::Xlsx => "bala",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv | Format::SdmxCsv => "csv",
            Format::SdmxJson | Format::Dhis2Json => "json",
            Format::Adx => "xml",
            Format::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv | Format::SdmxCsv => "text/csv; charset=utf-8",
            Format::SdmxJson | Format::Dhis2Json => "application/json",
            Format::Adx => "application/adx+xml",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What to import and how.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub format: Format,
    pub bytes: &'a [u8],
    /// For the report and the batch record.
    pub file_name: Option<String>,
    /// The indicator of a file that does not name it (kazstat's tidy CSV: taken
    /// from the file name `indicator_3-2-1.csv` when not given).
    pub indicator: Option<String>,
    /// The source of values whose rows name none; default: the code list's system.
    pub source: Option<String>,
    /// Code list (external system) to map codes with; default per format.
    pub codelist: Option<String>,
    pub dry_run: bool,
}

/// What happened to one row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowReport {
    /// As the reader numbers rows (CSV and Excel: the line, header = 1).
    pub row: usize,
    pub location: String,
    /// `added`, `updated`, `unchanged`, `submitted` or `rejected`.
    pub status: String,
    pub key: Option<String>,
    pub errors: Vec<FieldError>,
    /// Warnings that did not stop the row (an outlier against history).
    pub warnings: Vec<String>,
}

/// The outcome of an import.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub format: String,
    pub codelist: String,
    pub dry_run: bool,
    /// The recorded batch (not for dry runs).
    pub batch_id: Option<i64>,
    pub read: usize,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub submitted: usize,
    pub rejected: usize,
    /// One line per row, in row order.
    pub rows: Vec<RowReport>,
}

impl Report {
    pub fn summary(&self) -> String {
        format!(
            "{}{} rows: {} added, {} updated, {} unchanged, {} waiting for approval, {} rejected",
            if self.dry_run { "dry run: " } else { "" },
            self.read,
            self.added,
            self.updated,
            self.unchanged,
            self.submitted,
            self.rejected
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file as a whole is not in the format.
    #[error("{0}")]
    Format(#[from] FormatError),
    #[error(transparent)]
    Ind(#[from] IndError),
}

impl From<bala_store::StoreError> for ImportError {
    fn from(e: bala_store::StoreError) -> Self {
        ImportError::Ind(e.into())
    }
}

impl From<bala_store::sqlx::Error> for ImportError {
    fn from(e: bala_store::sqlx::Error) -> Self {
        ImportError::Ind(e.into())
    }
}

/// `indicator_3-2-1.csv` → `3.2.1`.
pub fn indicator_from_file_name(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let slug = base.strip_prefix("indicator_")?.strip_suffix(".csv")?;
    let code = slug.replace('-', ".");
    crate::model::is_code(&code).then_some(code)
}

/// Reads a file in its format (code maps are only used by the DHIS2 formats).
pub fn read(
    format: Format,
    bytes: &[u8],
    indicator: Option<&str>,
    map: &CodeMap,
) -> Result<Import, FormatError> {
    match format {
        Format::Csv => {
            let ind = indicator.ok_or(FormatError::NoIndicator)?;
            tidy_csv::parse(ind, None, bytes)
        }
        Format::SdmxCsv => sdmx_csv::parse(bytes, indicator),
        Format::SdmxJson => sdmx_json::parse(bytes, indicator),
        Format::Dhis2Json => dhis2::parse(bytes, map),
        Format::Adx => adx::parse(bytes, map),
        Format::Xlsx => xlsx::parse(bytes, indicator),
    }
}

/// Everything needed to turn an observation into a stored value.
pub struct Harmoniser<'a> {
    pub indicators: &'a HashMap<String, IndicatorDef>,
    pub areas: &'a AreaResolver,
    pub map: &'a CodeMap,
    pub source: &'a str,
}

impl Harmoniser<'_> {
    /// Maps codes, resolves the area, checks the indicator exists and the value
    /// fits its kind. Errors name the field.
    pub fn harmonise(&self, o: &Observation) -> Result<(ValueKey, Fields, bool), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let code = self
            .map
            .indicator(&o.indicator)
            .unwrap_or(&o.indicator)
            .to_string();
        let def = self.indicators.get(&code);
        if def.is_none() {
            errors.push(
                "INDICATOR",
                codes::UNMAPPED,
                format!(
                    "indicator '{}' is not in Bala's registry and code list '{}' does not map it",
                    o.indicator,
                    self.map.system()
                ),
            );
        }
        let mut dims = Dims::new();
        for (k, v) in &o.dims {
            match self.map.category_option(k, v) {
                Some(mapped) => {
                    for (mk, mv) in mapped {
                        if let Some(prev) = dims.insert(mk.clone(), mv.clone()) {
                            if prev != *mv {
                                errors.push(
                                    mk.as_str(),
                                    codes::CONFLICT,
                                    format!("{mk} is mapped to both '{prev}' and '{mv}'"),
                                );
                            }
                        }
                    }
                }
                None => {
                    dims.insert(k.clone(), v.clone());
                }
            }
        }
        if let Err(e) = quality::check_dims(&dims) {
            errors.0.extend(e.0);
        }
        let area_ref = match &o.area {
            crate::model::AreaRef::Code(c) => {
                self.map.area(c).cloned().unwrap_or_else(|| o.area.clone())
            }
            other => other.clone(),
        };
        let area = match self.areas.resolve(&area_ref, o.period) {
            Ok(a) => Some(a),
            Err(msg) => {
                errors.push("REF_AREA", codes::UNMAPPED, msg);
                None
            }
        };
        let percent = match (dims.get("UNIT_MEASURE"), def) {
            (Some(u), _) => u == "PT",
            (None, Some(d)) => d.kind == Kind::Percent,
            (None, None) => false,
        };
        let mut range = ValidationErrors::new();
        quality::check_range(o.value, percent, &mut range);
        for e in range.0 {
            errors.push("OBS_VALUE", e.code, e.detail);
        }
        errors.into_result()?;
        let key = ValueKey {
            indicator: code,
            area: area.unwrap_or_default(),
            period: o.period,
            dims,
            source: o.source.clone().unwrap_or_else(|| self.source.to_string()),
        };
        let fields = Fields {
            value: o.value,
            lower: o.lower,
            upper: o.upper,
            status: o.status.as_ref().map(|s| s.code().to_string()),
            footnote: o.footnote.clone(),
            attributes: o.attributes.clone(),
            numerator: None,
            denominator: None,
        };
        Ok((key, fields, percent))
    }
}

fn key_text(k: &ValueKey) -> String {
    k.to_string()
}

/// Imports a file. Rows are written in one transaction: either the whole file's
/// accepted rows are stored, or (on a database error) none.
pub async fn import(
    db: &Db,
    actor: &Actor,
    channel: &Channel,
    req: &Request<'_>,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<Report, ImportError> {
    let system = req
        .codelist
        .clone()
        .unwrap_or_else(|| req.format.default_codelist().to_string());
    super::codelists::check_system(&system).map_err(IndError::from)?;
    let map = super::codelists::code_map(db, &system).await?;
    let indicator = req
        .indicator
        .clone()
        .or_else(|| req.file_name.as_deref().and_then(indicator_from_file_name));
    let mut parsed = read(req.format, req.bytes, indicator.as_deref(), &map)?;
    // DHIS2 and ADX have no place for a source: the readers record the code
    // list's name, which a source given with the request replaces.
    if let (Format::Dhis2Json | Format::Adx, Some(s)) = (req.format, &req.source) {
        for o in &mut parsed.observations {
            o.source = Some(s.clone());
        }
    }
    let defs: HashMap<String, IndicatorDef> = registry::all(db)
        .await?
        .into_iter()
        .map(|d| (d.code.clone(), d))
        .collect();
    let areas = AreaResolver::load(db).await?;
    let source = req.source.clone().unwrap_or_else(|| system.clone());
    let h = Harmoniser {
        indicators: &defs,
        areas: &areas,
        map: &map,
        source: &source,
    };

    let mut rows: Vec<RowReport> = parsed
        .rejected
        .iter()
        .map(|r| RowReport {
            row: r.row,
            location: r.location.clone(),
            status: "rejected".into(),
            key: None,
            errors: r.errors.0.clone(),
            warnings: vec![],
        })
        .collect();
    let mut harmonised = Vec::with_capacity(parsed.observations.len());
    for (o, (row, location)) in parsed
        .observations
        .iter()
        .zip(parsed.positions.iter().cloned())
    {
        match h.harmonise(o) {
            Ok((key, fields, _)) => {
                let mut errs = ValidationErrors::new();
                if !values::may_write(db, channel, &key.area).await? {
                    errs.push(
                        "REF_AREA",
                        "indicators-area-scope",
                        format!("area {} is outside the areas you work in", key.area),
                    );
                }
                if errs.is_empty() {
                    harmonised.push((row, location, key, fields));
                } else {
                    rows.push(reject(row, location, errs));
                }
            }
            Err(e) => rows.push(reject(row, location, e)),
        }
    }
    // Two rows that harmonise to the same key (e.g. a UNICEF code and a Bala code
    // for the same indicator) would overwrite each other: the later is rejected.
    let mut seen: BTreeMap<ValueKey, usize> = BTreeMap::new();
    let mut unique = Vec::with_capacity(harmonised.len());
    for (row, location, key, fields) in harmonised {
        if let Some(first) = seen.get(&key) {
            rows.push(reject(
                row,
                location,
                ValidationErrors::single(FieldError::new(
                    "key",
                    codes::DUPLICATE,
                    format!("row {first} already has a value for {key}"),
                )),
            ));
            continue;
        }
        seen.insert(key.clone(), row);
        unique.push((row, location, key, fields));
    }

    let mut indicators: Vec<String> = unique.iter().map(|u| u.2.indicator.clone()).collect();
    indicators.sort();
    indicators.dedup();
    let mut report = Report {
        format: req.format.code().into(),
        codelist: system.clone(),
        dry_run: req.dry_run,
        read: parsed.observations.len() + parsed.rejected.len(),
        ..Report::default()
    };
    let total = unique.len();
    let mut tx = db.begin().await?;
    let mut existing = Existing::load(&mut tx, &indicators).await?;
    let batch = if req.dry_run {
        None
    } else {
        Some(
            values::new_batch(
                &mut tx,
                "import",
                Some(req.format.code()),
                req.file_name.as_deref(),
                Some(&system),
                &actor.name,
            )
            .await?,
        )
    };
    let w = Writer {
        actor: &actor.name,
        user_id: channel.user_id(),
        batch,
        approved_by: None,
    };
    let history = history_by_series(db, &indicators).await?;
    for (i, (row, location, key, fields)) in unique.into_iter().enumerate() {
        let route = channel.route(&key.area);
        let warnings: Vec<String> = outlier_warning(&history, &key, fields.value)
            .into_iter()
            .collect();
        let outcome = if req.dry_run {
            existing.decide(&key, &fields, route)
        } else {
            values::write(
                &mut tx,
                &mut existing,
                &key,
                &fields,
                route,
                warnings.first().map(String::as_str),
                &w,
            )
            .await?
        };
        match outcome {
            Outcome::Added => report.added += 1,
            Outcome::Updated => report.updated += 1,
            Outcome::Unchanged => report.unchanged += 1,
            Outcome::Submitted => report.submitted += 1,
        }
        rows.push(RowReport {
            row,
            location,
            status: serde_json::to_value(outcome)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            key: Some(key_text(&key)),
            errors: vec![],
            warnings,
        });
        if (i + 1) % 500 == 0 || i + 1 == total {
            progress(i + 1, total);
        }
    }
    rows.sort_by_key(|r| r.row);
    report.rejected = rows.iter().filter(|r| r.status == "rejected").count();
    report.rows = rows;
    if let Some(id) = batch {
        let summary = serde_json::json!({
            "read": report.read, "added": report.added, "updated": report.updated,
            "unchanged": report.unchanged, "submitted": report.submitted, "rejected": report.rejected,
        });
        values::finish_batch(&mut tx, id, &summary).await?;
        let mut entry = NewEntry::by(actor, "indicators.import", "ind_batch", id).with_details(serde_json::json!({
            "format": req.format.code(), "codelist": system, "file": req.file_name, "indicators": indicators,
            "counts": summary,
        }));
        entry.ip = actor.ip.clone();
        audit::append(&mut tx, &entry).await?;
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(report)
}

fn reject(row: usize, location: String, e: ValidationErrors) -> RowReport {
    RowReport {
        row,
        location,
        status: "rejected".into(),
        key: None,
        errors: e.0,
        warnings: vec![],
    }
}

type SeriesKey = (String, String, String, String);

/// Published history of every series of these indicators, for outlier checks.
async fn history_by_series(
    db: &Db,
    indicators: &[String],
) -> Result<HashMap<SeriesKey, Vec<(crate::model::Period, f64)>>, IndError> {
    let mut out: HashMap<SeriesKey, Vec<(crate::model::Period, f64)>> = HashMap::new();
    if indicators.is_empty() {
        return Ok(out);
    }
    let vals = values::published(
        db,
        &values::Filter {
            indicators: indicators.to_vec(),
            ..values::Filter::default()
        },
    )
    .await?;
    for v in vals {
        out.entry((
            v.key.indicator.clone(),
            v.key.area.clone(),
            crate::model::format_dims(&v.key.dims),
            v.key.source.clone(),
        ))
        .or_default()
        .push((v.key.period, v.fields.value));
    }
    Ok(out)
}

fn outlier_warning(
    history: &HashMap<SeriesKey, Vec<(crate::model::Period, f64)>>,
    key: &ValueKey,
    value: f64,
) -> Option<String> {
    let h = history.get(&(
        key.indicator.clone(),
        key.area.clone(),
        crate::model::format_dims(&key.dims),
        key.source.clone(),
    ))?;
    quality::outlier(h, key.period, value).map(|o| {
        format!(
            "{value} stands out from this series (median {}, modified z-score {:.1})",
            o.median, o.score
        )
    })
}

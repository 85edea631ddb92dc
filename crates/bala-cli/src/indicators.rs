//! `bala import indicators`, `bala export indicators`, `bala progress`.

use anyhow::{bail, Context};
use bala_indicators::model::{format_dims, parse_dims, Period};
use bala_indicators::progress::{self, Method};
use bala_indicators::registry::TargetGap;
use bala_indicators::store::import::{self, Format, ImportError, Request};
use bala_indicators::store::values::{self, Filter};
use bala_indicators::store::{export, registry, Channel};
use bala_store::audit::Actor;
use bala_store::Db;
use clap::Args;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ImportArgs {
    /// The file to import.
    pub file: PathBuf,
    /// csv (kazstat's tidy CSV), sdmx-csv, sdmx-json, dhis2-json, adx or xlsx.
    #[arg(long)]
    pub format: String,
    /// Check and report only; store nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Indicator of a file that does not name it (default for kazstat's CSV: from the file name).
    #[arg(long)]
    pub indicator: Option<String>,
    /// Source of rows that name none (default: the code list's name).
    #[arg(long)]
    pub source: Option<String>,
    /// Code list mapping the file's codes (default: kazstat, unicef or dhis2 by format).
    #[arg(long)]
    pub codelist: Option<String>,
    /// Print every row, not only the rejected ones.
    #[arg(long)]
    pub all_rows: bool,
}

fn format_arg(s: &str) -> anyhow::Result<Format> {
    Format::parse(s).ok_or_else(|| {
        anyhow::anyhow!(
            "--format: '{s}' is not one of {}",
            Format::ALL.map(|f| f.code()).join(", ")
        )
    })
}

/// Imports a file as the command line's system user: values are published
/// directly (the operator is trusted), and the batch is audited.
pub async fn import(db: &Db, a: ImportArgs) -> anyhow::Result<ExitCode> {
    let format = format_arg(&a.format)?;
    let bytes =
        std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let req = Request {
        format,
        bytes: &bytes,
        file_name: a.file.file_name().map(|n| n.to_string_lossy().into_owned()),
        indicator: a.indicator,
        source: a.source,
        codelist: a.codelist,
        dry_run: a.dry_run,
    };
    let mut progress = crate::progress::reporter("values");
    let report = match import::import(
        db,
        &Actor::system("cli"),
        &Channel::System,
        &req,
        &mut progress,
    )
    .await
    {
        Ok(r) => r,
        Err(ImportError::Format(e)) => {
            eprintln!(
                "{}: not {} ({e}); nothing was imported",
                a.file.display(),
                format.code()
            );
            return Ok(ExitCode::FAILURE);
        }
        Err(ImportError::Ind(bala_indicators::store::IndError::Validation(e))) => {
            for f in &e.0 {
                eprintln!("{}: {}", f.field, f.detail);
            }
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(anyhow::anyhow!("{e}")),
    };
    let mut out = std::io::stdout().lock();
    for row in &report.rows {
        if row.status != "rejected" && !a.all_rows && row.warnings.is_empty() {
            continue;
        }
        let problems: Vec<String> = row
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.detail))
            .chain(row.warnings.iter().map(|w| format!("warning: {w}")))
            .collect();
        let mut line = format!("{} ({})", row.location, row.status);
        if let Some(k) = &row.key {
            line.push_str(&format!(": {k}"));
        }
        if !problems.is_empty() {
            line.push_str(&format!(" — {}", problems.join("; ")));
        }
        writeln!(out, "{line}")?;
    }
    writeln!(out, "{}", report.summary())?;
    if let Some(b) = report.batch_id {
        writeln!(out, "batch {b} recorded in the audit trail")?;
    }
    Ok(if report.rejected > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Args)]
pub struct ExportArgs {
    /// csv (one indicator), sdmx-csv, sdmx-json, dhis2-json, adx or xlsx.
    #[arg(long)]
    pub format: String,
    /// Indicator codes (repeat or separate with commas); default: all.
    #[arg(long, value_delimiter = ',')]
    pub indicator: Vec<String>,
    /// KATO codes of areas (repeat or separate with commas); default: all.
    #[arg(long, value_delimiter = ',')]
    pub area: Vec<String>,
    #[arg(long)]
    pub source: Option<String>,
    /// First period (2010, 2020-Q1, 2020-03).
    #[arg(long)]
    pub from: Option<String>,
    #[arg(long)]
    pub to: Option<String>,
    /// Code list to map codes back to (DHIS2 and ADX).
    #[arg(long)]
    pub codelist: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

pub async fn export(db: &Db, a: ExportArgs) -> anyhow::Result<ExitCode> {
    let format = format_arg(&a.format)?;
    let period = |name: &str, v: &Option<String>| -> anyhow::Result<Option<Period>> {
        v.as_deref()
            .map(|s| Period::parse(s).map_err(|e| anyhow::anyhow!("--{name}: {e}")))
            .transpose()
    };
    let filter = Filter {
        indicators: a.indicator,
        areas: a.area,
        from: period("from", &a.from)?,
        to: period("to", &a.to)?,
        dims: None,
        source: a.source,
    };
    let bytes = export::export(db, format, &filter, a.codelist.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    match a.output {
        Some(p) => {
            std::fs::write(&p, &bytes).with_context(|| format!("cannot write {}", p.display()))?;
            eprintln!("wrote {} bytes to {}", bytes.len(), p.display());
        }
        None => std::io::stdout().write_all(&bytes)?,
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct ProgressArgs {
    /// Indicator code, e.g. 3.2.1.
    #[arg(long)]
    pub indicator: String,
    /// KATO code of the area (000000000: the republic).
    #[arg(long, default_value = "000000000")]
    pub area: String,
    /// Breakdown of the series (e.g. `SEX=F;UNIT_MEASURE=PER_1000_LIVE_BIRTHS`); default: the headline.
    #[arg(long)]
    pub series: Option<String>,
    /// Source of the series; default: the one with most values.
    #[arg(long)]
    pub source: Option<String>,
    /// csv or json.
    #[arg(long, default_value = "json")]
    pub format: String,
}

/// One target's assessment, as printed.
#[derive(Serialize)]
pub struct ProgressRow {
    pub indicator: String,
    pub area: String,
    pub series: String,
    pub source: String,
    pub framework: String,
    pub target_value: Option<f64>,
    pub target_period: String,
    pub method: Option<String>,
    pub points: usize,
    pub baseline_period: Option<String>,
    pub baseline_value: Option<f64>,
    pub latest_period: Option<String>,
    pub latest_value: Option<f64>,
    /// As the method publishes it (two-point: continuous; log-linear: compound).
    pub current_aarr: Option<f64>,
    pub current_rate_continuous: Option<f64>,
    pub required_aarr: Option<f64>,
    pub projected: Option<f64>,
    pub status: Option<String>,
    pub explanation: String,
}

pub async fn progress(db: &Db, a: ProgressArgs) -> anyhow::Result<ExitCode> {
    if !["csv", "json"].contains(&a.format.as_str()) {
        bail!("--format: csv or json");
    }
    let def = registry::get(db, &a.indicator)
        .await
        .map_err(|_| anyhow::anyhow!("--indicator: no indicator {}", a.indicator))?;
    if bala_registry::areas::get(db, &a.area).await?.is_none() {
        bail!("--area: no area has KATO code {}", a.area);
    }
    let dims = match &a.series {
        Some(s) => parse_dims(s).map_err(|e| anyhow::anyhow!("--series: {e}"))?,
        None => def.headline.clone(),
    };
    let list = values::series_list(db, &def.code, &a.area)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let source = match a.source {
        Some(s) => s,
        None => list
            .iter()
            .filter(|s| s.0 == dims)
            .max_by_key(|s| (s.2, s.1 == "kazstat"))
            .map(|s| s.1.clone())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "no values of {} for {} in area {}",
                    def.code,
                    format_dims(&dims),
                    a.area
                )
            })?,
    };
    let series = values::series(db, &def.code, &a.area, &dims, &source)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let pts: Vec<(Period, f64)> = series
        .iter()
        .map(|v| (v.key.period, v.fields.value))
        .collect();
    let mut rows = Vec::new();
    for t in def.targets_for(&dims) {
        let mut row = ProgressRow {
            indicator: def.code.clone(),
            area: a.area.clone(),
            series: format_dims(&dims),
            source: source.clone(),
            framework: t.framework.code().into(),
            target_value: None,
            target_period: t.by.to_string(),
            method: None,
            points: pts.len(),
            baseline_period: None,
            baseline_value: None,
            latest_period: None,
            latest_value: None,
            current_aarr: None,
            current_rate_continuous: None,
            required_aarr: None,
            projected: None,
            status: None,
            explanation: String::new(),
        };
        match (def.measure(), t.target_for(&pts)) {
            (None, _) => {
                row.explanation = "the indicator has no direction; progress is not assessed".into()
            }
            (_, Err(TargetGap::NoBaseline(p))) => {
                row.explanation =
                    format!("the target is a reduction from {p}; the series has no value for {p}")
            }
            (Some(m), Ok(target)) => {
                row.target_value = Some(target.value);
                match progress::assess(&pts, m, target) {
                    Ok(r) => {
                        row.method = Some(match r.method {
                            Method::TwoPoint => "two-point".into(),
                            Method::LogLinear => "log-linear".into(),
                        });
                        row.baseline_period = Some(r.baseline.0.to_string());
                        row.baseline_value = Some(r.baseline.1);
                        row.latest_period = Some(r.latest.0.to_string());
                        row.latest_value = Some(r.latest.1);
                        row.current_aarr = r.current_aarr;
                        row.current_rate_continuous = r.current_rate;
                        row.required_aarr = r.required_aarr;
                        row.projected = r.projected;
                        row.status = serde_json::to_value(r.status)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string));
                        row.explanation = r.explanation;
                    }
                    Err(e) => row.explanation = e.to_string(),
                }
            }
        }
        rows.push(row);
    }
    if rows.is_empty() {
        eprintln!("no target applies to {} ({})", def.code, format_dims(&dims));
    }
    let mut out = std::io::stdout().lock();
    if a.format == "json" {
        writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
    } else {
        let mut w = csv::Writer::from_writer(Vec::new());
        for r in &rows {
            w.serialize(r)?;
        }
        out.write_all(&w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?;
    }
    Ok(ExitCode::SUCCESS)
}

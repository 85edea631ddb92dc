//! The national progress report, generated from the stored data: for every
//! indicator with national values, its latest figure, the trend, and progress to
//! each target with the method explained. As a print-friendly page and as a PDF,
//! in Kazakh, Russian or English.

use super::browse::{self, SeriesQuery};
use super::download;
use crate::error::AppError;
use crate::extract::WebQuery as Query;
use crate::i18n::{Lang, Tr};
use crate::indicators_view::{self as iv, num, ProgressView};
use crate::pages::{render, Chrome};
use crate::pdf::Doc;
use crate::state::AppState;
use crate::visitor::Visitor;
use askama::Template;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use bala_indicators::store::registry;
use bala_indicators::store::values::StoredValue;
use serde::Deserialize;

/// One indicator in the report.
pub struct Section {
    pub code: String,
    pub name: String,
    pub unit: String,
    pub frameworks: String,
    pub series: String,
    pub source: String,
    pub latest: String,
    pub first: String,
    pub chart: String,
    pub points: Vec<(f64, f64)>,
    pub rows: Vec<(String, String)>,
    pub progress: Vec<ProgressView>,
}

pub struct Report {
    pub title: String,
    pub generated: String,
    pub sections: Vec<Section>,
    pub summary: Vec<(String, usize)>,
}

pub async fn build(app: &AppState, lang: Lang) -> Result<Report, AppError> {
    let tr = Tr(lang);
    let defs = registry::all(&app.db).await?;
    let areas = iv::areas(&app.db, lang).await?;
    let republic = areas
        .get(bala_core::kato::REPUBLIC)
        .map(|a| a.name.clone())
        .unwrap_or_default();
    let mut sections = Vec::new();
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for def in defs.iter().filter(|d| d.computed.is_none()) {
        let sel = browse::select(app, def, &SeriesQuery::default()).await?;
        let (chart, main, progress): (String, Vec<StoredValue>, Vec<ProgressView>) =
            browse::series_chart(app, tr, def, &sel, &republic).await?;
        if main.is_empty() {
            continue;
        }
        for p in &progress {
            if !p.status_key.is_empty() {
                *counts.entry(p.status_key.clone()).or_default() += 1;
            }
        }
        let last = main
            .last()
            .map(|v| format!("{} ({})", num(tr, v.fields.value), v.key.period))
            .unwrap_or_default();
        let first = main
            .first()
            .map(|v| format!("{} ({})", num(tr, v.fields.value), v.key.period))
            .unwrap_or_default();
        sections.push(Section {
            code: def.code.clone(),
            name: iv::name(lang, def),
            unit: iv::unit_name(&app.db, lang, &def.unit).await,
            frameworks: def
                .frameworks
                .iter()
                .map(|f| format!("{} {}", f.framework.code().replace("_PLUS", "+"), f.number))
                .collect::<Vec<_>>()
                .join(", "),
            series: {
                let l = iv::dims_label(lang, &sel.dims, &Default::default());
                if l.is_empty() {
                    tr.t("ind-total")
                } else {
                    l
                }
            },
            source: iv::source_label(tr, &sel.source),
            latest: last,
            first,
            chart,
            points: main
                .iter()
                .map(|v| (v.key.period.midpoint(), v.fields.value))
                .collect(),
            rows: main
                .iter()
                .rev()
                .take(6)
                .map(|v| (v.key.period.to_string(), num(tr, v.fields.value)))
                .collect(),
            progress,
        });
    }
    Ok(Report {
        title: tr.t("ind-report-title"),
        generated: tr.date(&bala_core::date::iso(
            time::OffsetDateTime::now_utc().date(),
        )),
        summary: counts.into_iter().map(|(k, n)| (tr.t(&k), n)).collect(),
        sections,
    })
}

#[derive(Template)]
#[template(path = "indicators/report.html")]
struct ReportPage {
    c: Chrome,
    r: Report,
}

pub async fn html(State(app): State<AppState>, v: Visitor, uri: Uri) -> Result<Response, AppError> {
    let r = build(&app, v.lang).await?;
    render(&ReportPage {
        c: Chrome::new(&v, "indicators", &uri),
        r,
    })
}

#[derive(Deserialize, Default)]
pub struct PdfQuery {
    pub lang: Option<String>,
}

fn status_rgb(class: &str) -> (f32, f32, f32) {
    match class {
        "ok" => (0.11, 0.48, 0.23),
        "warn" => (0.6, 0.36, 0.0),
        _ => (0.7, 0.15, 0.12),
    }
}

/// The report as a PDF in `lang` (default: the page's language).
pub async fn pdf(
    State(app): State<AppState>,
    v: Visitor,
    Query(q): Query<PdfQuery>,
) -> Result<Response, AppError> {
    let lang = match q.lang.as_deref() {
        Some(l) => Lang::parse(l).ok_or_else(|| {
            AppError::Validation(bala_core::ValidationErrors::single(
                bala_core::FieldError::new("lang", "err-query", "kk, ru or en"),
            ))
        })?,
        None => v.lang,
    };
    let tr = Tr(lang);
    let r = build(&app, lang).await?;
    let err = |e: crate::pdf::PdfError| AppError::Internal(anyhow::anyhow!("{e}"));
    let mut d = Doc::new(&r.title, lang.code()).map_err(err)?;
    d.heading(&r.title, 18.0);
    d.note(&tr.t1("ind-report-generated", "date", r.generated.clone()));
    d.paragraph(&tr.t("ind-report-intro"));
    d.heading(&tr.t("ind-report-summary"), 12.0);
    for (label, n) in &r.summary {
        d.bullet(&format!("{label}: {n}"));
    }
    d.paragraph(&tr.t("ind-report-method"));
    for s in &r.sections {
        d.need(260.0);
        d.heading(&format!("{} {}", s.code, s.name), 13.0);
        d.note(&format!(
            "{} · {} · {} · {}",
            s.frameworks, s.unit, s.series, s.source
        ));
        d.paragraph(&tr.t2(
            "ind-report-latest",
            "latest",
            s.latest.clone(),
            "first",
            s.first.clone(),
        ));
        let targets: Vec<(f64, String)> = s
            .progress
            .iter()
            .filter_map(|p| {
                Some((
                    p.target_value?,
                    format!("{}: {}", p.framework, p.target_label),
                ))
            })
            .collect();
        d.chart(
            &[(s.source.clone(), s.points.clone(), false)],
            &targets,
            110.0,
        );
        for p in &s.progress {
            d.paragraph(&format!("{} — {}", p.framework, p.target_label));
            if !p.status_key.is_empty() {
                d.badge(&tr.t(&p.status_key), status_rgb(&p.status_class));
            }
            for line in &p.explanation {
                d.bullet(line);
            }
            if !p.target_text.is_empty() {
                d.note(&format!("{} ({})", p.target_text, p.citation));
            }
        }
        d.table(
            &[tr.t("ind-field-period"), tr.t("ind-value")],
            &s.rows
                .iter()
                .map(|(p, v)| vec![p.clone(), v.clone()])
                .collect::<Vec<_>>(),
            &[1.0, 1.0],
        );
    }
    d.note(&tr.t("ind-report-sources"));
    let bytes = d.finish().map_err(err)?;
    Ok(download(
        "application/pdf",
        &format!("bala-progress-report-{}.pdf", lang.code()),
        bytes,
    ))
}

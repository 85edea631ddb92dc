//! Import (with dry run and per-row report), export in every format, Excel
//! templates, and the code lists that map other systems' codes.

use super::download;
use crate::error::{translated_field_error, AppError};
use crate::extract::{WebForm as Form, WebQuery as Query};
use crate::i18n::Tr;
use crate::indicators_view as iv;
use crate::pages::{redirect_with_flash, render, Chrome};
use crate::state::AppState;
use crate::visitor::Visitor;
use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::Uri;
use axum::response::Response;
use bala_access::{can, Action};
use bala_indicators::exchange::xlsx::{self, TemplateLists, TemplateTexts};
use bala_indicators::exchange::CodeMapping;
use bala_indicators::model::Period;
use bala_indicators::store::export::{self, ExportError};
use bala_indicators::store::import::{self, Format, ImportError, Report, Request};
use bala_indicators::store::values::Filter;
use bala_indicators::store::{codelists, registry, Channel};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "indicators/import.html")]
struct ImportPage {
    c: Chrome,
    formats: Vec<&'static str>,
    systems: Vec<String>,
    error: Option<String>,
    report: Option<ReportView>,
}

pub struct ReportView {
    pub file: String,
    pub summary: String,
    pub dry_run: bool,
    pub rows: Vec<(usize, String, String, String, String)>,
}

fn report_view(tr: Tr, file: &str, r: &Report) -> ReportView {
    ReportView {
        file: file.to_string(),
        summary: tr.t1(
            if r.dry_run {
                "ind-import-summary-dry"
            } else {
                "ind-import-summary"
            },
            "count",
            r.read as i64,
        ) + &format!(
            " {}",
            [
                (r.added, "ind-count-added"),
                (r.updated, "ind-count-updated"),
                (r.unchanged, "ind-count-unchanged"),
                (r.submitted, "ind-count-submitted"),
                (r.rejected, "ind-count-rejected"),
            ]
            .iter()
            .map(|(n, k)| tr.t1(k, "count", *n as i64))
            .collect::<Vec<_>>()
            .join(", ")
        ),
        dry_run: r.dry_run,
        rows: r
            .rows
            .iter()
            .map(|row| {
                let problems = row
                    .errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.detail))
                    .chain(row.warnings.iter().cloned())
                    .collect::<Vec<_>>()
                    .join("; ");
                (
                    row.row,
                    row.location.clone(),
                    tr.t(&format!("ind-row-{}", row.status)),
                    row.key.clone().unwrap_or_default(),
                    problems,
                )
            })
            .collect(),
    }
}

async fn import_page(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    error: Option<String>,
    report: Option<ReportView>,
) -> Result<Response, AppError> {
    render(&ImportPage {
        c: Chrome::new(v, "indicators", uri),
        formats: Format::ALL.iter().map(|f| f.code()).collect(),
        systems: codelists::systems(&app.db).await?,
        error,
        report,
    })
}

pub async fn import_form(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
) -> Result<Response, AppError> {
    import_page(&app, &v, &uri, None, None).await
}

/// A multipart form: `file`, `format`, optional `indicator`, `source`, `codelist`,
/// `dry_run`. The CSRF token travels in the query string (multipart bodies are
/// not read by the CSRF check).
pub async fn import(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, AppError> {
    let tr = Tr(v.lang);
    let mut mp = multipart
        .map_err(|_| AppError::BadRequest("send the file as multipart/form-data".into()))?;
    let (mut bytes, mut file, mut format, mut indicator, mut source, mut system, mut dry) = (
        Vec::new(),
        String::new(),
        String::new(),
        None,
        None,
        None,
        false,
    );
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(e.to_string()))?
    {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            file = field.file_name().unwrap_or("upload").to_string();
            bytes = field
                .bytes()
                .await
                .map_err(|e| AppError::BadRequest(e.to_string()))?
                .to_vec();
            continue;
        }
        let text = field
            .text()
            .await
            .map_err(|e| AppError::BadRequest(e.to_string()))?;
        let text = text.trim().to_string();
        match name.as_str() {
            "format" => format = text,
            "indicator" if !text.is_empty() => indicator = Some(text),
            "source" if !text.is_empty() => source = Some(text),
            "codelist" if !text.is_empty() => system = Some(text),
            "dry_run" => dry = !text.is_empty(),
            _ => {}
        }
    }
    let Some(fmt) = Format::parse(&format) else {
        return import_page(&app, &v, &uri, Some(tr.t("ind-import-choose-format")), None).await;
    };
    if bytes.is_empty() {
        return import_page(&app, &v, &uri, Some(tr.t("ind-import-choose-file")), None).await;
    }
    let p = v.principal()?;
    let channel = Channel::User {
        user_id: p.user_id,
        scope: p.scope.clone(),
    };
    let req = Request {
        format: fmt,
        bytes: &bytes,
        file_name: Some(file.clone()),
        indicator,
        source,
        codelist: system,
        dry_run: dry,
    };
    match import::import(&app.db, &v.actor(), &channel, &req, &mut |_, _| {}).await {
        Ok(r) => import_page(&app, &v, &uri, None, Some(report_view(tr, &file, &r))).await,
        Err(ImportError::Format(e)) => {
            import_page(
                &app,
                &v,
                &uri,
                Some(tr.t1("ind-import-not-format", "error", e.to_string())),
                None,
            )
            .await
        }
        Err(ImportError::Ind(bala_indicators::store::IndError::Validation(e))) => {
            let msg =
                e.0.iter()
                    .map(|f| translated_field_error(tr, f))
                    .collect::<Vec<_>>()
                    .join("; ");
            import_page(&app, &v, &uri, Some(msg), None).await
        }
        Err(ImportError::Ind(e)) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct ExportQuery {
    pub format: Option<String>,
    pub indicator: Option<String>,
    pub area: Option<String>,
    pub source: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub codelist: Option<String>,
}

/// Builds the filter of an export request; errors name the parameter.
pub fn export_filter(q: &ExportQuery) -> Result<(Format, Filter), AppError> {
    let mut e = bala_core::ValidationErrors::new();
    let format = q.format.as_deref().and_then(Format::parse);
    if format.is_none() {
        e.push(
            "format",
            "indicators-bad-code",
            "csv, sdmx-csv, sdmx-json, dhis2-json, adx or xlsx",
        );
    }
    let period = |field: &str, v: &Option<String>, e: &mut bala_core::ValidationErrors| {
        v.as_deref()
            .filter(|s| !s.is_empty())
            .and_then(|s| match Period::parse(s) {
                Ok(p) => Some(p),
                Err(err) => {
                    e.push(field, "indicators-bad-period", err.to_string());
                    None
                }
            })
    };
    let from = period("from", &q.from, &mut e);
    let to = period("to", &q.to, &mut e);
    e.into_result()?;
    let list = |s: &Option<String>| -> Vec<String> {
        s.as_deref()
            .unwrap_or_default()
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect()
    };
    Ok((
        format.unwrap_or(Format::SdmxCsv),
        Filter {
            indicators: list(&q.indicator),
            areas: list(&q.area),
            from,
            to,
            dims: None,
            source: q.source.clone().filter(|s| !s.is_empty()),
        },
    ))
}

pub fn export_error(e: ExportError) -> AppError {
    match e {
        ExportError::Ind(i) => i.into(),
        other => AppError::Validation(bala_core::ValidationErrors::single(
            bala_core::FieldError::new("format", "indicators-export", other.to_string()),
        )),
    }
}

pub async fn export(
    State(app): State<AppState>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, AppError> {
    let (format, filter) = export_filter(&q)?;
    let bytes = export::export(&app.db, format, &filter, q.codelist.as_deref())
        .await
        .map_err(export_error)?;
    let name = match filter.indicators.as_slice() {
        [one] => format!("indicator_{}.{}", one.replace('.', "-"), format.extension()),
        _ => format!("bala-indicators.{}", format.extension()),
    };
    Ok(download(format.content_type(), &name, bytes))
}

/// An Excel template with the indicator and area lists and cell validation.
pub async fn template(State(app): State<AppState>, v: Visitor) -> Result<Response, AppError> {
    let tr = Tr(v.lang);
    let defs = registry::all(&app.db).await?;
    let areas = iv::areas(&app.db, v.lang).await?;
    let mut area_list: Vec<(String, String)> = areas
        .values()
        .map(|a| (a.code.clone(), a.name.clone()))
        .collect();
    area_list.sort();
    let lists = TemplateLists {
        indicators: defs
            .iter()
            .filter(|d| d.computed.is_none())
            .map(|d| (d.code.clone(), iv::name(v.lang, d)))
            .collect(),
        areas: area_list,
        texts: TemplateTexts {
            instructions: (1..=6)
                .map(|i| tr.t(&format!("ind-template-line-{i}")))
                .collect(),
            code: tr.t("ind-template-code"),
            name: tr.t("ind-template-name"),
        },
    };
    let bytes =
        xlsx::write(&[], Some(&lists)).map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    Ok(download(
        Format::Xlsx.content_type(),
        "bala-indicators-template.xlsx",
        bytes,
    ))
}

#[derive(Template)]
#[template(path = "indicators/codelists.html")]
struct CodelistPage {
    c: Chrome,
    rows: Vec<CodeMapping>,
    editable: bool,
    error: Option<String>,
    system: String,
}

#[derive(Deserialize, Default)]
pub struct CodelistQuery {
    pub system: Option<String>,
}

async fn codelist_page(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    system: Option<String>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let p = v.principal()?;
    render(&CodelistPage {
        c: Chrome::new(v, "indicators", uri),
        rows: codelists::list(&app.db, system.as_deref().filter(|s| !s.is_empty())).await?,
        editable: can(p, Action::ManageReference),
        error,
        system: system.unwrap_or_default(),
    })
}

pub async fn codelists(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<CodelistQuery>,
) -> Result<Response, AppError> {
    codelist_page(&app, &v, &uri, q.system, None).await
}

#[derive(Deserialize)]
pub struct MappingForm {
    #[serde(default)]
    pub system: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub external: String,
    #[serde(default)]
    pub bala: String,
}

pub async fn codelist_put(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Form(f): Form<MappingForm>,
) -> Result<Response, AppError> {
    let tr = Tr(v.lang);
    let Some(kind) = codelists::parse_kind(&f.kind) else {
        return codelist_page(
            &app,
            &v,
            &uri,
            Some(f.system),
            Some(tr.t("indicators-bad-code")),
        )
        .await;
    };
    let m = CodeMapping {
        system: f.system.trim().to_string(),
        kind,
        external: f.external.trim().to_string(),
        bala: f.bala.trim().to_string(),
    };
    match codelists::put(&app.db, &v.actor(), &m).await {
        Ok(()) => Ok(redirect_with_flash(
            &format!("/indicators/codelists?system={}", m.system),
            "ind-mapping-saved",
            app.config.secure_cookies,
        )),
        Err(bala_indicators::store::IndError::Validation(e)) => {
            let msg =
                e.0.iter()
                    .map(|x| format!("{}: {}", x.field, translated_field_error(tr, x)))
                    .collect::<Vec<_>>()
                    .join("; ");
            codelist_page(&app, &v, &uri, Some(m.system), Some(msg)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn codelist_delete(
    State(app): State<AppState>,
    v: Visitor,
    Form(f): Form<MappingForm>,
) -> Result<Response, AppError> {
    let kind = codelists::parse_kind(&f.kind).ok_or(AppError::NotFound)?;
    codelists::delete(
        &app.db,
        &v.actor(),
        f.system.trim(),
        kind,
        f.external.trim(),
    )
    .await?;
    Ok(redirect_with_flash(
        &format!("/indicators/codelists?system={}", f.system.trim()),
        "ind-mapping-deleted",
        app.config.secure_cookies,
    ))
}

//! Entering values by form, and the approval queue of regional managers.

use crate::error::{translated_field_error, AppError};
use crate::extract::WebForm as Form;
use crate::indicators_view::{self as iv, num};
use crate::pages::{redirect_with_flash, render, Chrome};
use crate::state::AppState;
use crate::visitor::Visitor;
use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use bala_core::{FieldError, ValidationErrors};
use bala_indicators::model::{parse_dims, Dims, Period};
use bala_indicators::quality::{self, Entry};
use bala_indicators::store::values::{self, Decision, Existing, Fields, Outcome, ValueKey, Writer};
use bala_indicators::store::{registry, Channel};
use bala_store::audit::{self, NewEntry};
use serde::Deserialize;

#[derive(Deserialize, Default, Clone)]
pub struct EntryForm {
    #[serde(default)]
    pub indicator: String,
    #[serde(default)]
    pub area: String,
    #[serde(default)]
    pub period: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub urbanisation: String,
    #[serde(default)]
    pub other: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub numerator: String,
    #[serde(default)]
    pub denominator: String,
    #[serde(default)]
    pub lower: String,
    #[serde(default)]
    pub upper: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub footnote: String,
    pub confirm_outlier: Option<String>,
}

pub struct SubmissionRow {
    pub id: i64,
    pub indicator: String,
    pub area: String,
    pub period: String,
    pub series: String,
    pub source: String,
    pub value: String,
    pub published: String,
    pub outlier: String,
    pub state: String,
    pub by: String,
    pub at: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "indicators/entry.html")]
struct EntryPage {
    c: Chrome,
    f: EntryForm,
    e: Errs,
    outlier: Option<String>,
    indicators: Vec<(String, String)>,
    area_options: Vec<(String, String)>,
    mine: Vec<SubmissionRow>,
}

/// Field errors of the form, translated.
pub struct Errs(pub Vec<(String, String)>);

impl Errs {
    pub fn err(&self, field: &str) -> Option<&String> {
        self.0.iter().find(|e| e.0 == field).map(|e| &e.1)
    }
}

fn opt_number(errors: &mut ValidationErrors, field: &str, text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    match t.replace(',', ".").parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v),
        _ => {
            errors.push(
                field,
                "indicators-not-number",
                format!("'{t}' is not a number"),
            );
            None
        }
    }
}

async fn rows(
    app: &AppState,
    lang: crate::i18n::Lang,
    subs: Vec<values::Submission>,
) -> Result<Vec<SubmissionRow>, AppError> {
    let tr = crate::i18n::Tr(lang);
    let areas = iv::areas(&app.db, lang).await?;
    Ok(subs
        .into_iter()
        .map(|s| SubmissionRow {
            id: s.id,
            indicator: s.key.indicator.clone(),
            area: areas
                .get(&s.key.area)
                .map(|a| a.name.clone())
                .unwrap_or(s.key.area.clone()),
            period: s.key.period.to_string(),
            series: iv::dims_label(lang, &s.key.dims, &Dims::new()),
            source: iv::source_label(tr, &s.key.source),
            value: num(tr, s.fields.value),
            published: s.published.map(|p| num(tr, p)).unwrap_or_default(),
            outlier: s.outlier.unwrap_or_default(),
            state: tr.t(&format!("ind-state-{}", s.state)),
            by: s.submitted_by,
            at: tr.stamp(&s.submitted_at),
            note: s.review_note.unwrap_or_default(),
        })
        .collect())
}

async fn page(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    f: EntryForm,
    errors: Vec<(String, String)>,
    outlier: Option<String>,
) -> Result<Response, AppError> {
    let p = v.principal()?;
    let defs = registry::all(&app.db).await?;
    let mine = rows(app, v.lang, values::submitted_by(&app.db, p.user_id).await?).await?;
    render(&EntryPage {
        c: Chrome::new(v, "indicators", uri),
        f,
        e: Errs(errors),
        outlier,
        indicators: defs
            .iter()
            .filter(|d| d.computed.is_none())
            .map(|d| {
                (
                    d.code.clone(),
                    format!("{} {}", d.code, iv::name(v.lang, d)),
                )
            })
            .collect(),
        area_options: crate::pages::people::area_options(app, &p.scope, v.lang.code()).await?,
        mine,
    })
}

pub async fn form(State(app): State<AppState>, v: Visitor, uri: Uri) -> Result<Response, AppError> {
    let f = EntryForm {
        status: "A".into(),
        ..EntryForm::default()
    };
    page(&app, &v, &uri, f, vec![], None).await
}

pub async fn submit(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Form(f): Form<EntryForm>,
) -> Result<Response, AppError> {
    let tr = crate::i18n::Tr(v.lang);
    let p = v.principal()?.clone();
    let mut e = ValidationErrors::new();
    let def = registry::get(&app.db, f.indicator.trim()).await.ok();
    if def.is_none() {
        e.push("indicator", "indicators-unmapped", "choose an indicator");
    }
    if def.as_ref().is_some_and(|d| d.computed.is_some()) {
        e.push(
            "indicator",
            "indicators-computed",
            "this indicator is computed from Bala's registers",
        );
    }
    let period = Period::parse(&f.period);
    if let Err(err) = &period {
        e.push("period", "indicators-bad-period", err.to_string());
    }
    let area = f.area.trim().to_string();
    if area.is_empty() || bala_registry::areas::get(&app.db, &area).await?.is_none() {
        e.push("area", "err-area-unknown", "choose an area");
    } else if !bala_registry::areas::is_within(&app.db, &area, &p.scope).await? {
        e.push("area", "err-area-scope", "outside your areas");
    }
    let mut dims = match parse_dims(&f.other) {
        Ok(d) => d,
        Err(msg) => {
            e.push("other", "indicators-bad-code", msg);
            Dims::new()
        }
    };
    for (dim, code) in [
        ("SEX", f.sex.trim()),
        ("URBANISATION", f.urbanisation.trim()),
    ] {
        if !code.is_empty() {
            dims.insert(dim.into(), code.into());
        }
    }
    if let Some(d) = &def {
        if let Some(u) = d.headline.get("UNIT_MEASURE") {
            dims.entry("UNIT_MEASURE".into())
                .or_insert_with(|| u.clone());
        }
    }
    if let Err(err) = quality::check_dims(&dims) {
        e.0.extend(err.0);
    }
    let source = f.source.trim().to_string();
    if source.is_empty() || source.starts_with("bala:") || source.chars().count() > 60 {
        e.push(
            "source",
            "indicators-source",
            "name who produced the figure (not bala:…)",
        );
    }
    let value = opt_number(&mut e, "value", &f.value);
    let numerator = opt_number(&mut e, "numerator", &f.numerator);
    let denominator = opt_number(&mut e, "denominator", &f.denominator);
    let lower = opt_number(&mut e, "lower", &f.lower);
    let upper = opt_number(&mut e, "upper", &f.upper);
    let status = f.status.trim().to_string();
    if !["A", "P", "E"].contains(&status.as_str()) {
        e.push(
            "status",
            "indicators-bad-code",
            "final, provisional or estimated",
        );
    }
    let mut checked = None;
    if let Some(d) = &def {
        let units = registry::units(&app.db).await?;
        let multiplier = units
            .iter()
            .find(|u| u.code == d.unit)
            .and_then(|u| u.multiplier);
        let percent = dims.get("UNIT_MEASURE").map(|u| u == "PT").unwrap_or(false);
        match quality::check_entry(
            d.kind,
            percent,
            multiplier,
            Entry {
                value,
                numerator,
                denominator,
            },
        ) {
            Ok(x) => checked = Some(x),
            Err(err) => e.0.extend(err.0),
        }
    }
    if let (Some(x), Some(l)) = (checked, lower) {
        if l > x {
            e.push(
                "lower",
                "indicators-bad-bounds",
                "the lower bound is above the value",
            );
        }
    }
    if let (Some(x), Some(u)) = (checked, upper) {
        if u < x {
            e.push(
                "upper",
                "indicators-bad-bounds",
                "the upper bound is below the value",
            );
        }
    }
    if !e.is_empty() {
        let errors =
            e.0.iter()
                .map(|x| (x.field.clone(), translated_field_error(tr, x)))
                .collect();
        return page(&app, &v, &uri, f, errors, None).await;
    }
    let (Some(def), Ok(period), Some(value)) = (def, period, checked) else {
        return Err(AppError::BadRequest("entry".into()));
    };
    let key = ValueKey {
        indicator: def.code.clone(),
        area: area.clone(),
        period,
        dims,
        source,
    };
    let history =
        values::series(&app.db, &key.indicator, &key.area, &key.dims, &key.source).await?;
    let outlier = quality::outlier(&iv::points(&history), period, value).map(|o| {
        tr.t2(
            "ind-outlier",
            "median",
            num(tr, o.median),
            "score",
            format!("{:.1}", o.score),
        )
    });
    if outlier.is_some() && f.confirm_outlier.is_none() {
        return page(&app, &v, &uri, f, vec![], outlier).await;
    }
    let fields = Fields {
        value,
        lower,
        upper,
        status: Some(status),
        footnote: Some(f.footnote.trim().to_string()).filter(|x| !x.is_empty()),
        attributes: Dims::new(),
        numerator,
        denominator,
    };
    let channel = Channel::User {
        user_id: p.user_id,
        scope: p.scope.clone(),
    };
    let actor = v.actor();
    let db_err =
        |e: bala_store::sqlx::Error| AppError::from(bala_indicators::store::IndError::from(e));
    let mut tx = app.db.begin().await?;
    let mut existing = Existing::load(&mut tx, std::slice::from_ref(&key.indicator))
        .await
        .map_err(db_err)?;
    let batch = values::new_batch(&mut tx, "form", None, None, None, &actor.name)
        .await
        .map_err(db_err)?;
    let w = Writer {
        actor: &actor.name,
        user_id: Some(p.user_id),
        batch: Some(batch),
        approved_by: None,
    };
    let outcome = values::write(
        &mut tx,
        &mut existing,
        &key,
        &fields,
        channel.route(&key.area),
        outlier.as_deref(),
        &w,
    )
    .await
    .map_err(db_err)?;
    audit::append(
        &mut tx,
        &NewEntry::by(
            &actor,
            "indicators.values.enter",
            "ind_value",
            key.to_string(),
        )
        .with_details(
            serde_json::json!({"outcome": outcome, "batch": batch, "outlier": outlier.is_some()}),
        ),
    )
    .await?;
    tx.commit().await.map_err(db_err)?;
    let flash = match outcome {
        Outcome::Submitted => "ind-entry-submitted",
        Outcome::Unchanged => "ind-entry-unchanged",
        _ => "ind-entry-published",
    };
    Ok(redirect_with_flash(
        "/indicators/entry",
        flash,
        app.config.secure_cookies,
    ))
}

#[derive(Template)]
#[template(path = "indicators/approvals.html")]
struct QueuePage {
    c: Chrome,
    rows: Vec<SubmissionRow>,
    error: Option<String>,
}

pub async fn queue(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
) -> Result<Response, AppError> {
    let p = v.principal()?;
    let subs = values::pending(&app.db, &p.scope).await?;
    render(&QueuePage {
        c: Chrome::new(&v, "indicators", &uri),
        rows: rows(&app, v.lang, subs).await?,
        error: None,
    })
}

/// `id` repeated once per chosen value, `decision`, `note`.
pub async fn review(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    body: Bytes,
) -> Result<Response, AppError> {
    let p = v.principal()?.clone();
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|_| AppError::BadRequest("the form could not be read".into()))?;
    let mut ids = Vec::new();
    let mut decision = None;
    let mut note = None;
    let mut e = ValidationErrors::new();
    for (k, val) in &pairs {
        match k.as_str() {
            "id" => match val.parse::<i64>() {
                Ok(i) => ids.push(i),
                Err(_) => e.push("id", "indicators-not-number", "not a record number"),
            },
            "decision" => {
                decision = match val.as_str() {
                    "approve" => Some(Decision::Approve),
                    "reject" => Some(Decision::Reject),
                    _ => None,
                }
            }
            "note" => note = Some(val.clone()),
            _ => {}
        }
    }
    if decision.is_none() {
        e.push("decision", "indicators-missing", "approve or reject");
    }
    e.into_result()?;
    let decision = decision.unwrap_or(Decision::Reject);
    match values::review(
        &app.db,
        &v.actor(),
        &p.scope,
        &ids,
        decision,
        note.as_deref(),
    )
    .await
    {
        Ok(_) => {
            let flash = if decision == Decision::Approve {
                "ind-approved"
            } else {
                "ind-rejected"
            };
            Ok(redirect_with_flash(
                "/indicators/approvals",
                flash,
                app.config.secure_cookies,
            ))
        }
        Err(bala_indicators::store::IndError::Validation(err)) => {
            let tr = crate::i18n::Tr(v.lang);
            let subs = values::pending(&app.db, &p.scope).await?;
            render(&QueuePage {
                c: Chrome::new(&v, "indicators", &uri),
                rows: rows(&app, v.lang, subs).await?,
                error: err
                    .0
                    .first()
                    .map(|f: &FieldError| translated_field_error(tr, f)),
            })
        }
        Err(other) => Err(other.into()),
    }
}

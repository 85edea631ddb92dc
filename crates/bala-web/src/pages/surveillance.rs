//! Disease surveillance pages: the WHO indicator dashboard, AFP and measles case
//! records, weekly reporting (zero reports included) and population denominators.

use super::people::{area_options, ctx};
use super::{redirect_with_flash, render, Chrome, FieldMessages};
use crate::error::{translated_field_error, AppError};
use crate::extract::{WebForm as Form, WebPath as Path, WebQuery as Query};
use crate::routes::{RouteTable, Rule};
use crate::state::AppState;
use crate::visitor::Visitor;
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use bala_access::Action;
use bala_core::ValidationErrors;
use bala_registry::areas;
use bala_registry::RegistryError;
use bala_surveillance::afp::{AfpClass, FollowUp, StoolResult};
use bala_surveillance::measles::{Igm, MeaslesClass, SpecimenKind};
use bala_surveillance::performance::{Indicator, Unit};
use bala_surveillance::reporting::Week;
use bala_surveillance::store::{
    self, AfpInput, AfpSpecimenInput, MeaslesInput, MeaslesSpecimenInput, PatientInput, WeekRow,
};
use serde::Deserialize;
use std::collections::HashMap;

pub fn routes() -> RouteTable {
    let s = Rule::Can(Action::Surveillance);
    RouteTable::new()
        .get(
            "/surveillance",
            Rule::Can(Action::ViewAggregates),
            dashboard,
        )
        .get("/surveillance/afp", s, afp_list)
        .get("/surveillance/afp/new", s, afp_new)
        .post("/surveillance/afp", s, afp_create)
        .get("/surveillance/afp/{id}", s, afp_show)
        .post("/surveillance/afp/{id}", s, afp_update)
        .get("/surveillance/measles", s, measles_list)
        .get("/surveillance/measles/new", s, measles_new)
        .post("/surveillance/measles", s, measles_create)
        .get("/surveillance/measles/{id}", s, measles_show)
        .post("/surveillance/measles/{id}", s, measles_update)
        .get("/surveillance/reports", s, reports_page)
        .post("/surveillance/reports", s, reports_save)
        .post("/surveillance/sites", s, add_site)
        .get("/surveillance/population", s, population_page)
        .post("/surveillance/population", s, population_save)
}

const INDICATORS: [&str; 10] = [
    "npafp-rate",
    "stool-adequacy",
    "afp-investigated-48h",
    "afp-follow-up",
    "nmnr-rate",
    "measles-investigated-48h",
    "measles-adequate-specimen",
    "measles-results-4d",
    "reporting-completeness",
    "reporting-timeliness",
];

fn this_year() -> i32 {
    time::OffsetDateTime::now_utc().year()
}

fn today() -> bala_core::Date {
    time::OffsetDateTime::now_utc().date()
}

#[derive(Deserialize, Default)]
struct AreaYear {
    area: Option<String>,
    year: Option<i32>,
}

/// The area asked for, or the user's first area.
fn area_or_default(v: &Visitor, area: Option<String>) -> Result<String, AppError> {
    Ok(area.filter(|a| !a.is_empty()).unwrap_or_else(|| {
        v.principal
            .as_ref()
            .and_then(|p| p.scope.first())
            .map(|a| a.as_str().to_string())
            .unwrap_or_default()
    }))
}

fn check_year(year: Option<i32>) -> Result<i32, AppError> {
    match year {
        None => Ok(this_year()),
        Some(y) if (1990..=2100).contains(&y) => Ok(y),
        Some(_) => Err(ValidationErrors::single(bala_core::FieldError::new(
            "year",
            "err-year",
            "a year from 1990 to 2100",
        ))
        .into()),
    }
}

async fn area_name(app: &AppState, code: &str, lang: &str) -> Result<String, AppError> {
    Ok(areas::get(&app.db, code)
        .await?
        .map(|a| a.name(lang).to_string())
        .unwrap_or_else(|| code.to_string()))
}

// ---- dashboard ----------------------------------------------------------------------

struct Cell {
    value: String,
    detail: String,
    below: bool,
}

struct DashRow {
    name: String,
    link: Option<String>,
    total: bool,
    afp: i64,
    measles: i64,
    cells: Vec<Cell>,
}

#[derive(Template)]
#[template(path = "surveillance/dashboard.html")]
struct Dashboard {
    c: Chrome,
    area: String,
    year: i32,
    area_options: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    rows: Vec<DashRow>,
    units_meeting: Option<String>,
    annualised: bool,
}

fn cells(c: &Chrome, inds: &[Indicator]) -> Vec<Cell> {
    INDICATORS
        .iter()
        .map(|code| match inds.iter().find(|i| i.code == *code) {
            Some(i) => Cell {
                value: match (i.value, i.unit) {
                    (Some(v), Unit::Per100k) => c.tr.dec(v, 2),
                    (Some(v), Unit::Percent) => format!("{}%", c.tr.dec(v, 0)),
                    (None, _) => "—".into(),
                },
                detail: format!("{} / {}", i.numerator, c.tr.dec(i.denominator, 0)),
                below: i.meets == Some(false),
            },
            None => Cell {
                value: "—".into(),
                detail: String::new(),
                below: false,
            },
        })
        .collect()
}

async fn dashboard(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<AreaYear>,
) -> Result<Response, AppError> {
    let p = v.principal()?.clone();
    let area = area_or_default(&v, q.area)?;
    let year = check_year(q.year)?;
    let lang = v.lang.code();
    let perf = store::performance(&app.db, &p.scope, &area, year, today()).await?;
    let c = Chrome::new(&v, "surveillance", &uri);
    let mut rows = Vec::new();
    for ch in &perf.children {
        rows.push(DashRow {
            name: area_name(&app, &ch.area_code, lang).await?,
            link: Some(format!("/surveillance?area={}&year={year}", ch.area_code)),
            total: false,
            afp: ch.afp_cases,
            measles: ch.measles_cases,
            cells: cells(&c, &ch.indicators),
        });
    }
    rows.push(DashRow {
        name: area_name(&app, &area, lang).await?,
        link: None,
        total: true,
        afp: perf.area.afp_cases,
        measles: perf.area.measles_cases,
        cells: cells(&c, &perf.area.indicators),
    });
    render(&Dashboard {
        headers: INDICATORS
            .iter()
            .map(|i| (format!("surv-ind-{i}"), format!("surv-ind-{i}-help")))
            .collect(),
        units_meeting: perf
            .nmnr_units_meeting
            .map(|s| format!("{}%", c.tr.dec(s, 0))),
        annualised: perf.annualised,
        area_options: area_options(&app, &p.scope, lang).await?,
        area,
        year,
        rows,
        c,
    })
}

// ---- case forms -----------------------------------------------------------------------

/// A flat form (fields `s1_collected` … for specimens) with its errors.
struct CaseForm {
    values: HashMap<String, String>,
    errors: FieldMessages,
}

impl CaseForm {
    fn v(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }
    fn s(&self, n: &usize, name: &str) -> &str {
        self.values
            .get(&format!("s{n}_{name}"))
            .map(String::as_str)
            .unwrap_or("")
    }
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
    /// Errors of fields shown without an inline message (specimen rows).
    fn loose(&self) -> Vec<String> {
        self.errors
            .0
            .iter()
            .filter(|e| e.0.starts_with("specimens["))
            .map(|e| format!("{}: {}", e.0, e.1))
            .collect()
    }
}

fn form_from(pairs: Vec<(String, String)>) -> HashMap<String, String> {
    pairs.into_iter().filter(|(k, _)| k != "_csrf").collect()
}

fn patient_of(m: &HashMap<String, String>) -> PatientInput {
    let g = |k: &str| m.get(k).cloned().unwrap_or_default();
    PatientInput {
        epid: g("epid"),
        person_id: g("person_id"),
        patient_name: g("patient_name"),
        sex: g("sex"),
        birth_date: g("birth_date"),
        area_code: g("area_code"),
        notified: g("notified"),
        investigated: g("investigated"),
    }
}

const SLOTS: [usize; 3] = [1, 2, 3];

fn afp_input(m: &HashMap<String, String>) -> AfpInput {
    let g = |k: &str| m.get(k).cloned().unwrap_or_default();
    AfpInput {
        patient: patient_of(m),
        age_months: g("age_months"),
        onset: g("onset"),
        polio_doses: g("polio_doses"),
        specimens: SLOTS
            .iter()
            .map(|n| AfpSpecimenInput {
                collected: g(&format!("s{n}_collected")),
                lab_arrival: g(&format!("s{n}_lab_arrival")),
                condition: g(&format!("s{n}_condition")),
                result: g(&format!("s{n}_result")),
            })
            .collect(),
        follow_up_date: g("follow_up_date"),
        follow_up: g("follow_up"),
        classification: g("classification"),
    }
}

fn measles_input(m: &HashMap<String, String>) -> MeaslesInput {
    let g = |k: &str| m.get(k).cloned().unwrap_or_default();
    MeaslesInput {
        patient: patient_of(m),
        rash_onset: g("rash_onset"),
        mcv_doses: g("mcv_doses"),
        specimens: SLOTS
            .iter()
            .map(|n| MeaslesSpecimenInput {
                kind: g(&format!("s{n}_kind")),
                collected: g(&format!("s{n}_collected")),
                lab_arrival: g(&format!("s{n}_lab_arrival")),
                result_date: g(&format!("s{n}_result_date")),
                measles_igm: g(&format!("s{n}_measles_igm")),
                rubella_igm: g(&format!("s{n}_rubella_igm")),
                proficient_lab: g(&format!("s{n}_proficient_lab")),
            })
            .collect(),
        linked_to: g("linked_to"),
        classification: g("classification"),
    }
}

fn labelled<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    prefix: &str,
) -> Vec<(&'static str, String)> {
    all.iter()
        .map(|x| (code(*x), format!("{prefix}{}", code(*x).replace('_', "-"))))
        .collect()
}

#[derive(Template)]
#[template(path = "surveillance/afp_form.html")]
struct AfpPage {
    c: Chrome,
    action: String,
    version: Option<i64>,
    epid: Option<String>,
    f: CaseForm,
    /// (adequate specimens, investigated in 48 h, suggested classification message).
    summary: Option<(bool, bool, String)>,
    area_options: Vec<(String, String)>,
    slots: [usize; 3],
    stool_results: Vec<(&'static str, String)>,
    follow_ups: Vec<(&'static str, String)>,
    classes: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "surveillance/measles_form.html")]
struct MeaslesPage {
    c: Chrome,
    action: String,
    version: Option<i64>,
    epid: Option<String>,
    f: CaseForm,
    summary: Option<(bool, bool, String)>,
    area_options: Vec<(String, String)>,
    slots: [usize; 3],
    kinds: Vec<(&'static str, String)>,
    igm: Vec<(&'static str, String)>,
    classes: Vec<(&'static str, String)>,
}

async fn afp_page(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    record: Option<&store::AfpRecord>,
    values: HashMap<String, String>,
    errors: Option<&ValidationErrors>,
) -> Result<AfpPage, AppError> {
    let c = Chrome::new(v, "surveillance", uri);
    Ok(AfpPage {
        action: record
            .map(|r| format!("/surveillance/afp/{}", r.id))
            .unwrap_or_else(|| "/surveillance/afp".into()),
        version: record.map(|r| r.version),
        epid: record.map(|r| r.case.epid.clone()),
        summary: record.map(|r| {
            (
                r.case.adequate_specimens(),
                r.case.investigated_in_48h(),
                format!(
                    "surv-afp-class-{}",
                    r.case.suggested_class().code().replace('_', "-")
                ),
            )
        }),
        f: CaseForm {
            values,
            errors: FieldMessages::translate(c.tr, errors),
        },
        area_options: area_options(app, &v.principal()?.scope, v.lang.code()).await?,
        slots: SLOTS,
        stool_results: labelled(&StoolResult::ALL, StoolResult::code, "surv-stool-"),
        follow_ups: labelled(&FollowUp::ALL, FollowUp::code, "surv-follow-up-"),
        classes: labelled(&AfpClass::ALL, AfpClass::code, "surv-afp-class-"),
        c,
    })
}

fn afp_values(r: &store::AfpRecord) -> HashMap<String, String> {
    let d = |x: Option<bala_core::Date>| x.map(bala_core::date::iso).unwrap_or_default();
    let mut m = HashMap::new();
    let c = &r.case;
    m.insert("epid".into(), c.epid.clone());
    m.insert(
        "person_id".into(),
        r.person_id.map(|p| p.to_string()).unwrap_or_default(),
    );
    m.insert(
        "patient_name".into(),
        r.patient_name.clone().unwrap_or_default(),
    );
    m.insert("sex".into(), r.sex.clone().unwrap_or_default());
    m.insert("birth_date".into(), d(c.birth_date));
    m.insert("area_code".into(), c.area_code.clone());
    m.insert("notified".into(), bala_core::date::iso(c.notified));
    m.insert("investigated".into(), d(c.investigated));
    m.insert(
        "age_months".into(),
        c.age_months.map(|a| a.to_string()).unwrap_or_default(),
    );
    m.insert("onset".into(), bala_core::date::iso(c.onset));
    m.insert(
        "polio_doses".into(),
        c.polio_doses.map(|a| a.to_string()).unwrap_or_default(),
    );
    for (i, s) in c.specimens.iter().enumerate() {
        let n = i + 1;
        m.insert(format!("s{n}_collected"), bala_core::date::iso(s.collected));
        m.insert(format!("s{n}_lab_arrival"), d(s.lab_arrival));
        m.insert(
            format!("s{n}_condition"),
            match s.good_condition {
                Some(true) => "good",
                Some(false) => "poor",
                None => "",
            }
            .into(),
        );
        m.insert(format!("s{n}_result"), s.result.code().into());
    }
    m.insert("follow_up_date".into(), d(c.follow_up_date));
    m.insert("follow_up".into(), c.follow_up.code().into());
    m.insert("classification".into(), c.classification.code().into());
    m
}

fn unprocessable(html: String) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response()
}

async fn afp_new(State(app): State<AppState>, v: Visitor, uri: Uri) -> Result<Response, AppError> {
    let mut values = HashMap::new();
    values.insert(
        "epid".to_string(),
        format!("KAZ-{}-{}-", "XXX", this_year()),
    );
    render(&afp_page(&app, &v, &uri, None, values, None).await?)
}

async fn afp_create(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let m = form_from(pairs);
    match store::create_afp(&app.db, ctx(&v, &actor)?, &afp_input(&m)).await {
        Ok(id) => Ok(redirect_with_flash(
            &format!("/surveillance/afp/{id}"),
            "flash-case-saved",
            app.config.secure_cookies,
        )),
        Err(RegistryError::Validation(e)) => Ok(unprocessable(
            afp_page(&app, &v, &uri, None, m, Some(&e))
                .await?
                .render()?,
        )),
        Err(e) => Err(e.into()),
    }
}

async fn afp_show(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let r = store::get_afp(&app.db, ctx(&v, &actor)?, id).await?;
    render(&afp_page(&app, &v, &uri, Some(&r), afp_values(&r), None).await?)
}

async fn afp_update(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let cx = ctx(&v, &actor)?;
    let m = form_from(pairs);
    let version = m.get("version").and_then(|s| s.parse().ok()).unwrap_or(0);
    match store::update_afp(&app.db, cx, id, version, &afp_input(&m)).await {
        Ok(()) => Ok(redirect_with_flash(
            &format!("/surveillance/afp/{id}"),
            "flash-case-saved",
            app.config.secure_cookies,
        )),
        Err(RegistryError::Validation(e)) => {
            let r = store::get_afp(&app.db, cx, id).await?;
            Ok(unprocessable(
                afp_page(&app, &v, &uri, Some(&r), m, Some(&e))
                    .await?
                    .render()?,
            ))
        }
        Err(RegistryError::Conflict) => Err(AppError::Conflict("err-conflict".into())),
        Err(e) => Err(e.into()),
    }
}

async fn measles_page(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    record: Option<&store::MeaslesRecord>,
    values: HashMap<String, String>,
    errors: Option<&ValidationErrors>,
) -> Result<MeaslesPage, AppError> {
    let c = Chrome::new(v, "surveillance", uri);
    Ok(MeaslesPage {
        action: record
            .map(|r| format!("/surveillance/measles/{}", r.id))
            .unwrap_or_else(|| "/surveillance/measles".into()),
        version: record.map(|r| r.version),
        epid: record.map(|r| r.case.epid.clone()),
        summary: record.map(|r| {
            (
                r.case.adequate_specimen(),
                r.case.investigated_in_48h(),
                format!(
                    "surv-measles-class-{}",
                    r.case.suggested_class().code().replace('_', "-")
                ),
            )
        }),
        f: CaseForm {
            values,
            errors: FieldMessages::translate(c.tr, errors),
        },
        area_options: area_options(app, &v.principal()?.scope, v.lang.code()).await?,
        slots: SLOTS,
        kinds: labelled(&SpecimenKind::ALL, SpecimenKind::code, "surv-kind-"),
        igm: labelled(&Igm::ALL, Igm::code, "surv-igm-"),
        classes: labelled(
            &MeaslesClass::ALL,
            MeaslesClass::code,
            "surv-measles-class-",
        ),
        c,
    })
}

fn measles_values(r: &store::MeaslesRecord) -> HashMap<String, String> {
    let d = |x: Option<bala_core::Date>| x.map(bala_core::date::iso).unwrap_or_default();
    let mut m = HashMap::new();
    let c = &r.case;
    m.insert("epid".into(), c.epid.clone());
    m.insert(
        "person_id".into(),
        r.person_id.map(|p| p.to_string()).unwrap_or_default(),
    );
    m.insert(
        "patient_name".into(),
        r.patient_name.clone().unwrap_or_default(),
    );
    m.insert("sex".into(), r.sex.clone().unwrap_or_default());
    m.insert(
        "birth_date".into(),
        r.birth_date.clone().unwrap_or_default(),
    );
    m.insert("area_code".into(), c.area_code.clone());
    m.insert("notified".into(), bala_core::date::iso(c.notified));
    m.insert("investigated".into(), d(c.investigated));
    m.insert("rash_onset".into(), bala_core::date::iso(c.rash_onset));
    m.insert(
        "mcv_doses".into(),
        c.mcv_doses.map(|a| a.to_string()).unwrap_or_default(),
    );
    m.insert("linked_to".into(), c.linked_to.clone().unwrap_or_default());
    for (i, s) in c.specimens.iter().enumerate() {
        let n = i + 1;
        m.insert(format!("s{n}_kind"), s.kind.code().into());
        m.insert(format!("s{n}_collected"), bala_core::date::iso(s.collected));
        m.insert(format!("s{n}_lab_arrival"), d(s.lab_arrival));
        m.insert(format!("s{n}_result_date"), d(s.result_date));
        m.insert(format!("s{n}_measles_igm"), s.measles_igm.code().into());
        m.insert(format!("s{n}_rubella_igm"), s.rubella_igm.code().into());
        m.insert(
            format!("s{n}_proficient_lab"),
            if s.proficient_lab { "yes" } else { "" }.into(),
        );
    }
    m.insert("classification".into(), c.classification.code().into());
    m
}

async fn measles_new(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
) -> Result<Response, AppError> {
    let mut values = HashMap::new();
    values.insert(
        "epid".to_string(),
        format!("KAZ-{}-{}-", "XXX", this_year()),
    );
    render(&measles_page(&app, &v, &uri, None, values, None).await?)
}

async fn measles_create(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let m = form_from(pairs);
    match store::create_measles(&app.db, ctx(&v, &actor)?, &measles_input(&m)).await {
        Ok(id) => Ok(redirect_with_flash(
            &format!("/surveillance/measles/{id}"),
            "flash-case-saved",
            app.config.secure_cookies,
        )),
        Err(RegistryError::Validation(e)) => Ok(unprocessable(
            measles_page(&app, &v, &uri, None, m, Some(&e))
                .await?
                .render()?,
        )),
        Err(e) => Err(e.into()),
    }
}

async fn measles_show(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let r = store::get_measles(&app.db, ctx(&v, &actor)?, id).await?;
    render(&measles_page(&app, &v, &uri, Some(&r), measles_values(&r), None).await?)
}

async fn measles_update(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let cx = ctx(&v, &actor)?;
    let m = form_from(pairs);
    let version = m.get("version").and_then(|s| s.parse().ok()).unwrap_or(0);
    match store::update_measles(&app.db, cx, id, version, &measles_input(&m)).await {
        Ok(()) => Ok(redirect_with_flash(
            &format!("/surveillance/measles/{id}"),
            "flash-case-saved",
            app.config.secure_cookies,
        )),
        Err(RegistryError::Validation(e)) => {
            let r = store::get_measles(&app.db, cx, id).await?;
            Ok(unprocessable(
                measles_page(&app, &v, &uri, Some(&r), m, Some(&e))
                    .await?
                    .render()?,
            ))
        }
        Err(RegistryError::Conflict) => Err(AppError::Conflict("err-conflict".into())),
        Err(e) => Err(e.into()),
    }
}

// ---- case lists --------------------------------------------------------------------

struct CaseRow {
    id: i64,
    epid: String,
    onset: String,
    area: String,
    adequate: bool,
    in48h: bool,
    class_key: String,
    suggested_key: String,
}

#[derive(Template)]
#[template(path = "surveillance/cases.html")]
struct CasesPage {
    c: Chrome,
    title: &'static str,
    kind: &'static str,
    area: String,
    area_name: String,
    year: i32,
    rows: Vec<CaseRow>,
}

/// Area names in the page's language, by code.
async fn names(app: &AppState, lang: &str) -> Result<HashMap<String, String>, AppError> {
    Ok(areas::all(&app.db)
        .await?
        .into_iter()
        .map(|a| (a.code.clone(), a.name(lang).to_string()))
        .collect())
}

fn class_key(prefix: &str, code: &str) -> String {
    format!("{prefix}{}", code.replace('_', "-"))
}

async fn afp_list(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<AreaYear>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let (area, year) = (area_or_default(&v, q.area)?, check_year(q.year)?);
    let names = names(&app, v.lang.code()).await?;
    let rows = store::list_afp(&app.db, ctx(&v, &actor)?, &area, year)
        .await?
        .into_iter()
        .map(|r| CaseRow {
            id: r.id,
            onset: bala_core::date::iso(r.case.onset),
            area: names.get(&r.case.area_code).cloned().unwrap_or_default(),
            adequate: r.case.adequate_specimens(),
            in48h: r.case.investigated_in_48h(),
            class_key: class_key("surv-afp-class-", r.case.classification.code()),
            suggested_key: class_key("surv-afp-class-", r.case.suggested_class().code()),
            epid: r.case.epid,
        })
        .collect();
    cases_page(&v, &uri, "afp", "surv-afp-cases", area, year, &names, rows)
}

async fn measles_list(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<AreaYear>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let (area, year) = (area_or_default(&v, q.area)?, check_year(q.year)?);
    let names = names(&app, v.lang.code()).await?;
    let rows = store::list_measles(&app.db, ctx(&v, &actor)?, &area, year)
        .await?
        .into_iter()
        .map(|r| CaseRow {
            id: r.id,
            onset: bala_core::date::iso(r.case.rash_onset),
            area: names.get(&r.case.area_code).cloned().unwrap_or_default(),
            adequate: r.case.adequate_specimen(),
            in48h: r.case.investigated_in_48h(),
            class_key: class_key("surv-measles-class-", r.case.classification.code()),
            suggested_key: class_key("surv-measles-class-", r.case.suggested_class().code()),
            epid: r.case.epid,
        })
        .collect();
    cases_page(
        &v,
        &uri,
        "measles",
        "surv-measles-cases",
        area,
        year,
        &names,
        rows,
    )
}

#[allow(clippy::too_many_arguments)]
fn cases_page(
    v: &Visitor,
    uri: &Uri,
    kind: &'static str,
    title: &'static str,
    area: String,
    year: i32,
    names: &HashMap<String, String>,
    rows: Vec<CaseRow>,
) -> Result<Response, AppError> {
    render(&CasesPage {
        c: Chrome::new(v, "surveillance", uri),
        title,
        kind,
        area_name: names.get(&area).cloned().unwrap_or_default(),
        area,
        year,
        rows,
    })
}

// ---- weekly reports ------------------------------------------------------------------

struct SiteRow {
    id: i64,
    name: String,
    received: String,
    afp: String,
    measles: String,
}

#[derive(Template)]
#[template(path = "surveillance/reports.html")]
struct ReportsPage {
    c: Chrome,
    area: String,
    area_name: String,
    week: String,
    deadline: String,
    area_options: Vec<(String, String)>,
    sites: Vec<SiteRow>,
    errors: Vec<String>,
}

#[derive(Deserialize, Default)]
struct ReportsQuery {
    area: Option<String>,
    week: Option<String>,
}

async fn reports_view(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    area: String,
    week: Week,
    errors: Vec<String>,
    submitted: Option<&HashMap<String, String>>,
) -> Result<ReportsPage, AppError> {
    let p = v.principal()?;
    let lang = v.lang.code();
    let stored: HashMap<i64, store::StoredReport> =
        store::reports(&app.db, &p.scope, &area, week.year)
            .await?
            .into_iter()
            .filter(|r| r.week == week)
            .map(|r| (r.site_id, r))
            .collect();
    let sites = store::sites(&app.db, &p.scope, &area)
        .await?
        .into_iter()
        .map(|s| {
            let from_form =
                |k: &str| submitted.and_then(|m| m.get(&format!("{k}_{}", s.id)).cloned());
            let r = stored.get(&s.id);
            SiteRow {
                received: from_form("received")
                    .unwrap_or_else(|| r.map(|r| r.received.clone()).unwrap_or_default()),
                afp: from_form("afp")
                    .unwrap_or_else(|| r.map(|r| r.afp_cases.to_string()).unwrap_or_default()),
                measles: from_form("measles")
                    .unwrap_or_else(|| r.map(|r| r.measles_cases.to_string()).unwrap_or_default()),
                id: s.id,
                name: s.name,
            }
        })
        .collect();
    Ok(ReportsPage {
        c: Chrome::new(v, "surveillance", uri),
        area_name: area_name(app, &area, lang).await?,
        deadline: week
            .deadline()
            .map(bala_core::date::iso)
            .unwrap_or_default(),
        week: week.label(),
        area_options: area_options(app, &p.scope, lang).await?,
        area,
        sites,
        errors,
    })
}

fn parse_week(raw: Option<&str>) -> Result<Week, AppError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(Week::of(today() - time::Duration::days(7))),
        Some(s) => Week::parse(s).ok_or_else(|| {
            ValidationErrors::single(bala_core::FieldError::new(
                "week",
                "err-week",
                "an ISO week like 2026-W09",
            ))
            .into()
        }),
    }
}

async fn reports_page(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<ReportsQuery>,
) -> Result<Response, AppError> {
    let area = area_or_default(&v, q.area)?;
    if !areas::is_within(&app.db, &area, &v.principal()?.scope).await? {
        return Err(AppError::NotFound);
    }
    let week = parse_week(q.week.as_deref())?;
    render(&reports_view(&app, &v, &uri, area, week, vec![], None).await?)
}

async fn reports_save(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let sites: Vec<i64> = pairs
        .iter()
        .filter(|(k, _)| k == "site")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let m = form_from(pairs);
    let week = parse_week(m.get("week").map(String::as_str))?;
    let area = area_or_default(&v, m.get("area").cloned())?;
    let rows: Vec<WeekRow> = sites
        .iter()
        .map(|id| WeekRow {
            site_id: *id,
            received: m
                .get(&format!("received_{id}"))
                .cloned()
                .unwrap_or_default(),
            afp_cases: m.get(&format!("afp_{id}")).cloned().unwrap_or_default(),
            measles_cases: m.get(&format!("measles_{id}")).cloned().unwrap_or_default(),
        })
        .collect();
    match store::save_week(&app.db, ctx(&v, &actor)?, week, &rows).await {
        Ok(_) => Ok(redirect_with_flash(
            &format!("/surveillance/reports?area={area}&week={}", week.label()),
            "flash-reports-saved",
            app.config.secure_cookies,
        )),
        Err(RegistryError::Validation(e)) => {
            let tr = crate::i18n::Tr(v.lang);
            let errors =
                e.0.iter()
                    .map(|f| format!("{}: {}", f.field, translated_field_error(tr, f)))
                    .collect();
            Ok(unprocessable(
                reports_view(&app, &v, &uri, area, week, errors, Some(&m))
                    .await?
                    .render()?,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct SiteForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    area_code: String,
}

async fn add_site(
    State(app): State<AppState>,
    v: Visitor,
    Form(f): Form<SiteForm>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    store::add_site(&app.db, ctx(&v, &actor)?, &f.area_code, &f.name).await?;
    Ok(redirect_with_flash(
        &format!("/surveillance/reports?area={}", f.area_code),
        "flash-site-added",
        app.config.secure_cookies,
    ))
}

// ---- population -------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "surveillance/population.html")]
struct PopulationPage {
    c: Chrome,
    year: i32,
    rows: Vec<(String, String, String, String)>,
    area_options: Vec<(String, String)>,
    errors: Vec<String>,
}

async fn population_view(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    year: i32,
    errors: Vec<String>,
) -> Result<PopulationPage, AppError> {
    let lang = v.lang.code();
    let c = Chrome::new(v, "surveillance", uri);
    let names = names(app, lang).await?;
    let rows = store::populations(&app.db, year)
        .await?
        .into_iter()
        .map(|p| {
            (
                names.get(&p.area_code).cloned().unwrap_or(p.area_code),
                p.under_15.map(|n| c.num(&n)).unwrap_or_else(|| "—".into()),
                p.total.map(|n| c.num(&n)).unwrap_or_else(|| "—".into()),
                p.source,
            )
        })
        .collect();
    Ok(PopulationPage {
        year,
        rows,
        area_options: area_options(app, &v.principal()?.scope, lang).await?,
        errors,
        c,
    })
}

async fn population_page(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<AreaYear>,
) -> Result<Response, AppError> {
    let year = check_year(q.year)?;
    render(&population_view(&app, &v, &uri, year, vec![]).await?)
}

#[derive(Deserialize)]
struct PopulationForm {
    #[serde(default)]
    area_code: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    under_15: String,
    #[serde(default)]
    total: String,
    #[serde(default)]
    source: String,
}

async fn population_save(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Form(f): Form<PopulationForm>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    match store::set_population(
        &app.db,
        ctx(&v, &actor)?,
        &f.area_code,
        &f.year,
        &f.under_15,
        &f.total,
        &f.source,
    )
    .await
    {
        Ok(()) => Ok(redirect_with_flash(
            &format!("/surveillance/population?year={}", f.year.trim()),
            "flash-population-saved",
            app.config.secure_cookies,
        )),
        Err(RegistryError::Validation(e)) => {
            let tr = crate::i18n::Tr(v.lang);
            let errors = e.0.iter().map(|x| translated_field_error(tr, x)).collect();
            let year = f.year.trim().parse().unwrap_or_else(|_| this_year());
            Ok(unprocessable(
                population_view(&app, &v, &uri, year, errors)
                    .await?
                    .render()?,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

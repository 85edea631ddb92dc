//! The immunization pillar's pages: coverage dashboard with map, outreach lists
//! (due, overdue, zero-dose, under-immunized) printable and exportable, the
//! vaccination card with the dose form, campaigns, calendars, and official
//! target populations.

use super::people::{area_options, ctx};
use super::welfare::unprocessable;
use super::{redirect_with_flash, render, Chrome, FieldMessages};
use crate::charts::{self, MapValue};
use crate::error::{translated_field_error, AppError};
use crate::extract::{WebForm as Form, WebPath as Path, WebQuery as Query};
use crate::routes::{RouteTable, Rule};
use crate::state::AppState;
use crate::visitor::Visitor;
use askama::Template;
use axum::extract::State;
use axum::http::{header, Uri};
use axum::response::{IntoResponse, Response};
use bala_access::Action;
use bala_core::{parse_date, Date, FieldError, ValidationErrors};
use bala_immunization::forecast::SeriesStatus;
use bala_immunization::store::{calendars, campaigns, card, coverage, doses, duelist, population};
use bala_immunization::table::{self, Table};
use bala_registry::areas;
use bala_registry::RegistryError;
use serde::Deserialize;
use std::collections::HashMap;

pub fn routes() -> RouteTable {
    let view = Rule::Can(Action::ViewImmunization);
    let record = Rule::Can(Action::RecordImmunization);
    let agg = Rule::Can(Action::ViewAggregates);
    RouteTable::new()
        .get("/immunization", agg, dashboard)
        .get("/immunization/coverage", agg, coverage_page)
        .get("/immunization/lists", view, lists)
        .get("/immunization/children/{id}", view, card_page)
        .post("/immunization/children/{id}/doses", record, dose_create)
        .post(
            "/immunization/children/{id}/exceptions",
            record,
            exception_create,
        )
        .post(
            "/immunization/children/{id}/doses/{dose}/error",
            record,
            dose_in_error,
        )
        .get("/immunization/campaigns", agg, campaigns_page)
        .post("/immunization/campaigns", record, campaign_create)
        .get("/immunization/campaigns/{id}", agg, campaign_show)
        .get("/immunization/calendar", agg, calendar_page)
        .post(
            "/immunization/calendar",
            Rule::Can(Action::ManageReference),
            calendar_save,
        )
        .get("/immunization/population", agg, population_page)
        .post(
            "/immunization/population",
            Rule::Can(Action::EditIndicators),
            population_save,
        )
}

fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

fn first_area(v: &Visitor) -> String {
    v.principal
        .as_ref()
        .and_then(|p| p.scope.first())
        .map(|a| a.as_str().to_string())
        .unwrap_or_default()
}

fn year_field(raw: Option<&str>, default: i32) -> Result<i32, AppError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(s) => match s.parse::<i32>() {
            Ok(y) if (1990..=2100).contains(&y) => Ok(y),
            _ => Err(ValidationErrors::single(FieldError::new(
                "year",
                "err-year",
                "a year from 1990 to 2100",
            ))
            .into()),
        },
    }
}

fn date_param(field: &str, raw: Option<&str>) -> Result<Option<Date>, AppError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_date(s).map(Some).map_err(|_| {
            ValidationErrors::single(FieldError::new(
                field,
                "err-date",
                "not a date in the form YYYY-MM-DD",
            ))
            .into()
        }),
    }
}

async fn check_area(app: &AppState, code: &str) -> Result<areas::Area, AppError> {
    areas::get(&app.db, code).await?.ok_or_else(|| {
        ValidationErrors::single(FieldError::new(
            "area",
            "err-area-unknown",
            "choose an existing area",
        ))
        .into()
    })
}

/// Every area (for aggregate pages, which are not personal): (code, indented name).
async fn all_area_options(app: &AppState, lang: &str) -> Result<Vec<(String, String)>, AppError> {
    area_options(app, &[bala_core::AreaCode::republic()], lang).await
}

fn download(bytes: Vec<u8>, mime: &str, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Answers `format=csv|xlsx` with the table, or `None` for the HTML page.
fn export(t: &Table, format: Option<&str>, name: &str) -> Result<Option<Response>, AppError> {
    match format.unwrap_or("") {
        "" | "html" => Ok(None),
        "csv" => Ok(Some(download(
            table::to_csv(t),
            "text/csv; charset=utf-8",
            &format!("{name}.csv"),
        ))),
        "xlsx" => Ok(Some(download(
            table::to_xlsx(t, "data").map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            &format!("{name}.xlsx"),
        ))),
        other => Err(ValidationErrors::single(FieldError::new(
            "format",
            "err-choice",
            format!("'{other}' is not csv or xlsx"),
        ))
        .into()),
    }
}

fn pct(c: &Chrome, v: Option<f64>) -> String {
    v.map(|x| format!("{}%", c.tr.dec(x, 1)))
        .unwrap_or_else(|| "—".into())
}

// ---- dashboard and coverage -----------------------------------------------------------

#[derive(Deserialize, Default)]
struct CoverageQuery {
    area: Option<String>,
    year: Option<String>,
    basis: Option<String>,
    format: Option<String>,
}

struct CovRow {
    code: String,
    name: String,
    total: bool,
    denominator: String,
    cells: Vec<String>,
    zero_dose: String,
    dropout: String,
    dropout_mcv: String,
}

#[derive(Template)]
#[template(path = "immunization/coverage.html")]
struct CoveragePage {
    c: Chrome,
    dashboard: bool,
    area: String,
    area_name: String,
    year: i32,
    basis: String,
    area_options: Vec<(String, String)>,
    labels: Vec<String>,
    rows: Vec<CovRow>,
    map: Option<String>,
    query: String,
}

async fn coverage_common(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    q: CoverageQuery,
    dashboard: bool,
) -> Result<Response, AppError> {
    let area = q
        .area
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| first_area(v));
    let a = check_area(app, &area).await?;
    let year = year_field(q.year.as_deref(), today().year() - 1)?;
    let basis = coverage::Basis::parse(q.basis.as_deref().unwrap_or("")).ok_or_else(|| {
        AppError::from(ValidationErrors::single(FieldError::new(
            "basis",
            "err-choice",
            "cohort or period",
        )))
    })?;
    let report = coverage::report(&app.db, &area, year, basis, today()).await?;
    let c = Chrome::new(v, "immunization", uri);
    let lang = v.lang.code();
    let labels: Vec<String> = if dashboard {
        ["BCG", "DTP1", "DTP3", "Pol3", "MCV1", "MCV2"]
            .map(String::from)
            .to_vec()
    } else {
        coverage::LABELS.iter().map(|s| s.to_string()).collect()
    };
    let names: HashMap<String, String> = areas::children(&app.db, &area)
        .await?
        .into_iter()
        .map(|x| (x.code.clone(), x.name(lang).to_string()))
        .collect();
    let mut t = Table::new(&[
        "area_code",
        "area",
        "denominator",
        "label",
        "vaccinated",
        "coverage_pct",
        "by_12m",
        "by_24m",
        "timely",
    ]);
    let mut rows = Vec::new();
    let all: Vec<&coverage::AreaCoverage> = report
        .children
        .iter()
        .chain(std::iter::once(&report.area))
        .collect();
    for ac in &all {
        let total = ac.area_code == area;
        let name = if total {
            a.name(lang).to_string()
        } else {
            names
                .get(&ac.area_code)
                .cloned()
                .unwrap_or_else(|| ac.area_code.clone())
        };
        for d in &ac.doses {
            t.push(vec![
                ac.area_code.clone(),
                name.clone(),
                ac.denominator.map(|n| n.to_string()).unwrap_or_default(),
                d.label.clone(),
                d.vaccinated.to_string(),
                d.coverage.map(|x| format!("{x:.1}")).unwrap_or_default(),
                d.by_12m.to_string(),
                d.by_24m.to_string(),
                d.timely.to_string(),
            ]);
        }
        rows.push(CovRow {
            code: ac.area_code.clone(),
            name,
            total,
            denominator: ac
                .denominator
                .map(|n| c.tr.num(n))
                .unwrap_or_else(|| "—".into()),
            cells: labels
                .iter()
                .map(|l| {
                    let d = ac.dose(l);
                    match d {
                        Some(d) if ac.denominator.is_some() => {
                            format!("{} ({})", pct(&c, d.coverage), c.tr.num(d.vaccinated))
                        }
                        Some(d) => c.tr.num(d.vaccinated),
                        None => "—".into(),
                    }
                })
                .collect(),
            zero_dose: ac
                .zero_dose
                .map(|n| c.tr.num(n))
                .unwrap_or_else(|| "—".into()),
            dropout: pct(&c, ac.dropout_dtp1_dtp3),
            dropout_mcv: pct(&c, ac.dropout_dtp1_mcv1),
        });
    }
    if let Some(r) = export(
        &t,
        q.format.as_deref(),
        &format!("coverage-{area}-{year}-{}", basis.code()),
    )? {
        return Ok(r);
    }
    // The map shows regions: drawn when the area is the republic.
    let map = if a.parent_code.is_none() {
        let kids = areas::children(&app.db, &area).await?;
        let values: Vec<MapValue> = report
            .children
            .iter()
            .filter_map(|ac| {
                let k = kids.iter().find(|k| k.code == ac.area_code)?;
                let v = ac.dose("DTP3")?.coverage?;
                Some(MapValue {
                    map_code: k.map_code.clone()?,
                    label: k.name(lang).to_string(),
                    value: v,
                })
            })
            .collect();
        (!values.is_empty()).then(|| {
            charts::choropleth(
                &c.t("imm-map-title"),
                &c.t("imm-map-desc"),
                &values,
                false,
                &c.t("imm-no-data"),
                &|x| format!("{}%", c.tr.dec(x, 1)),
            )
        })
    } else {
        None
    };
    let query = format!("area={area}&year={year}&basis={}", basis.code());
    render(&CoveragePage {
        dashboard,
        area_name: a.name(lang).to_string(),
        area,
        year,
        basis: basis.code().into(),
        area_options: all_area_options(app, lang).await?,
        labels,
        rows,
        map,
        query,
        c,
    })
}

async fn dashboard(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<CoverageQuery>,
) -> Result<Response, AppError> {
    coverage_common(&app, &v, &uri, q, true).await
}

async fn coverage_page(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<CoverageQuery>,
) -> Result<Response, AppError> {
    coverage_common(&app, &v, &uri, q, false).await
}

// ---- outreach lists ----------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct ListQuery {
    area: Option<String>,
    kind: Option<String>,
    on: Option<String>,
    until: Option<String>,
    min_overdue: Option<String>,
    format: Option<String>,
}

#[derive(Template)]
#[template(path = "immunization/lists.html")]
struct ListPage {
    c: Chrome,
    area: String,
    kind: String,
    on: String,
    until: String,
    min_overdue: String,
    area_options: Vec<(String, String)>,
    entries: Vec<duelist::Entry>,
    query: String,
    kinds: Vec<String>,
}

impl ListPage {
    fn label(&self, kind: &str) -> String {
        self.c.t(&format!("imm-list-{kind}"))
    }
    fn status(&self, status: &str) -> String {
        self.c.t(&format!("imm-status-{status}"))
    }
}

async fn lists(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let p = v.principal()?.clone();
    let area = q
        .area
        .clone()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| first_area(&v));
    check_area(&app, &area).await?;
    let kind = duelist::Kind::parse(q.kind.as_deref().unwrap_or("")).ok_or_else(|| {
        AppError::from(ValidationErrors::single(FieldError::new(
            "kind",
            "err-choice",
            "due, overdue, zero-dose or under-immunized",
        )))
    })?;
    let on = date_param("on", q.on.as_deref())?.unwrap_or_else(today);
    let until = date_param("until", q.until.as_deref())?;
    let min_days_overdue = match q
        .min_overdue
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => 0,
        Some(s) => s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            AppError::from(ValidationErrors::single(FieldError::new(
                "min_overdue",
                "err-number-range",
                "a whole number of days",
            )))
        })?,
    };
    let filter = duelist::Filter {
        area: area.clone(),
        kind,
        on,
        until,
        min_days_overdue,
    };
    let entries = duelist::list(&app.db, &v.actor(), &p.scope, &filter).await?;
    let mut t = Table::new(&[
        "person_id",
        "name",
        "iin",
        "birth_date",
        "sex",
        "area_code",
        "address",
        "phone",
        "caregiver",
        "caregiver_phone",
        "doses",
        "max_days_overdue",
    ]);
    for e in &entries {
        let cg = e.caregivers.first();
        t.push(vec![
            e.person_id.to_string(),
            e.name.clone(),
            e.iin.clone().unwrap_or_default(),
            e.birth_date.clone(),
            e.sex.clone(),
            e.area_code.clone(),
            e.address.clone().unwrap_or_default(),
            e.phone.clone().unwrap_or_default(),
            cg.map(|c| c.name.clone()).unwrap_or_default(),
            cg.and_then(|c| c.phone.clone()).unwrap_or_default(),
            e.items
                .iter()
                .map(|i| format!("{} ({})", i.label, i.status))
                .collect::<Vec<_>>()
                .join("; "),
            e.max_days_overdue.to_string(),
        ]);
    }
    if let Some(r) = export(
        &t,
        q.format.as_deref(),
        &format!("{}-{area}-{}", kind.code(), bala_core::date::iso(on)),
    )? {
        return Ok(r);
    }
    let c = Chrome::new(&v, "immunization", &uri);
    let on_s = bala_core::date::iso(on);
    let until_s = until.map(bala_core::date::iso).unwrap_or_default();
    render(&ListPage {
        query: format!(
            "area={area}&kind={}&on={on_s}&until={until_s}&min_overdue={min_days_overdue}",
            kind.code()
        ),
        area_options: area_options(&app, &p.scope, v.lang.code()).await?,
        area,
        kind: kind.code().into(),
        on: on_s,
        until: until_s,
        min_overdue: if min_days_overdue > 0 {
            min_days_overdue.to_string()
        } else {
            String::new()
        },
        entries,
        kinds: ["due", "overdue", "zero-dose", "under-immunized"]
            .map(String::from)
            .to_vec(),
        c,
    })
}

// ---- the card -----------------------------------------------------------------------------

struct SeriesView {
    antigen: String,
    status: String,
    doses: String,
    next: String,
    earliest: String,
    recommended: String,
    overdue: String,
    explanation: String,
    css: &'static str,
}

struct DoseForm {
    values: HashMap<String, String>,
    errors: FieldMessages,
}

impl DoseForm {
    fn v(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

#[derive(Template)]
#[template(path = "immunization/card.html")]
struct CardPage {
    c: Chrome,
    card: card::Card,
    age: String,
    series: Vec<SeriesView>,
    products: Vec<(String, String)>,
    antigens: Vec<(String, String)>,
    campaigns: Vec<(i64, String)>,
    sites: Vec<String>,
    routes: Vec<String>,
    f: DoseForm,
    x: DoseForm,
    today: String,
    flags: Vec<String>,
}

impl CardPage {
    fn site(&self, s: &str) -> String {
        self.c.t(&format!("imm-site-{s}"))
    }
    fn flag(&self, s: &str) -> String {
        self.c.t(&format!("imm-flag-{s}"))
    }
    fn day(&self, d: &Date) -> String {
        self.c.date(&bala_core::date::iso(*d))
    }
}

fn status_css(s: SeriesStatus) -> &'static str {
    match s {
        SeriesStatus::Overdue => "overdue",
        SeriesStatus::Due => "due",
        SeriesStatus::Complete => "complete",
        SeriesStatus::Contraindicated | SeriesStatus::Refused => "warn",
        _ => "",
    }
}

fn status_code(s: SeriesStatus) -> &'static str {
    match s {
        SeriesStatus::Complete => "complete",
        SeriesStatus::Due => "due",
        SeriesStatus::Overdue => "overdue",
        SeriesStatus::NotYetDue => "not-yet-due",
        SeriesStatus::Contraindicated => "contraindicated",
        SeriesStatus::Refused => "refused",
        SeriesStatus::AgedOut => "aged-out",
        SeriesStatus::NotApplicable => "not-applicable",
    }
}

async fn card_view(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    id: i64,
    dose: (HashMap<String, String>, Option<&ValidationErrors>),
    exc: (HashMap<String, String>, Option<&ValidationErrors>),
) -> Result<CardPage, AppError> {
    let actor = v.actor();
    let on = today();
    let card = card::card(&app.db, ctx(v, &actor)?, id, on).await?;
    let cal = &card.calendar;
    let c = Chrome::new(v, "immunization", uri);
    let lang = v.lang;
    let name = |n: &bala_immunization::Names| match lang {
        bala_core::Lang::Kk => n.kk.clone(),
        bala_core::Lang::Ru => n.ru.clone(),
        bala_core::Lang::En => n.en.clone(),
    };
    let series = card
        .forecast
        .series
        .iter()
        .filter(|s| s.status != SeriesStatus::NotApplicable)
        .map(|s| SeriesView {
            antigen: cal
                .antigen(&s.antigen)
                .map(|a| name(&a.name))
                .unwrap_or_else(|| s.antigen.clone()),
            status: c.t(&format!("imm-status-{}", status_code(s.status))),
            doses: format!("{} / {}", s.valid_doses, s.total_doses),
            next: s.next.as_ref().map(|n| n.label.clone()).unwrap_or_default(),
            earliest: s
                .next
                .as_ref()
                .map(|n| c.date(&bala_core::date::iso(n.earliest)))
                .unwrap_or_default(),
            recommended: s
                .next
                .as_ref()
                .map(|n| c.date(&bala_core::date::iso(n.recommended)))
                .unwrap_or_default(),
            overdue: s
                .next
                .as_ref()
                .and_then(|n| n.days_overdue)
                .map(|d| c.t1("imm-days-overdue", "days", d.to_string()))
                .unwrap_or_default(),
            explanation: s.explanation.clone(),
            css: status_css(s.status),
        })
        .collect();
    let birth = parse_date(&card.person.birth_date).unwrap_or(on);
    let months = bala_core::date::age_months(birth, on);
    let mut dose_values = dose.0;
    dose_values
        .entry("given_on".into())
        .or_insert_with(|| bala_core::date::iso(on));
    Ok(CardPage {
        age: c.t1("imm-age-months", "months", months.to_string()),
        series,
        products: cal
            .products
            .iter()
            .map(|p| (p.code.clone(), format!("{} — {}", p.code, name(&p.name))))
            .collect(),
        antigens: cal
            .antigens
            .iter()
            .map(|a| (a.code.clone(), name(&a.name)))
            .collect(),
        campaigns: campaigns::running(&app.db, on)
            .await?
            .into_iter()
            .map(|k| (k.id, k.name))
            .collect(),
        sites: doses::SITES.map(String::from).to_vec(),
        routes: doses::ROUTES.map(String::from).to_vec(),
        f: DoseForm {
            values: dose_values,
            errors: FieldMessages::translate(c.tr, dose.1),
        },
        x: DoseForm {
            values: exc.0,
            errors: FieldMessages::translate(c.tr, exc.1),
        },
        today: bala_core::date::iso(on),
        flags: [
            "partial-dose",
            "cold-chain-breach",
            "recalled-lot",
            "reported",
        ]
        .map(String::from)
        .to_vec(),
        card,
        c,
    })
}

async fn card_page(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    render(
        &card_view(
            &app,
            &v,
            &uri,
            id,
            (HashMap::new(), None),
            (HashMap::new(), None),
        )
        .await?,
    )
}

/// The dose form (flat: checkboxes and one flag select, as browsers send them).
#[derive(Deserialize, Default)]
#[serde(default)]
struct DoseFormData {
    product: String,
    given_on: String,
    facility: String,
    lot: String,
    lot_expiry: String,
    site: String,
    route: String,
    historical: Option<String>,
    flag: String,
    campaign_id: String,
}

impl DoseFormData {
    fn input(&self) -> doses::DoseInput {
        doses::DoseInput {
            product: self.product.clone(),
            given_on: self.given_on.clone(),
            facility: self.facility.clone(),
            lot: self.lot.clone(),
            lot_expiry: self.lot_expiry.clone(),
            site: self.site.clone(),
            route: self.route.clone(),
            historical: self.historical.is_some(),
            flags: if self.flag.is_empty() {
                vec![]
            } else {
                vec![self.flag.clone()]
            },
            campaign_id: self.campaign_id.clone(),
        }
    }
    fn values(&self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        for (k, v) in [
            ("product", &self.product),
            ("given_on", &self.given_on),
            ("facility", &self.facility),
            ("lot", &self.lot),
            ("lot_expiry", &self.lot_expiry),
            ("site", &self.site),
            ("route", &self.route),
            ("flag", &self.flag),
            ("campaign_id", &self.campaign_id),
        ] {
            m.insert(k.to_string(), v.clone());
        }
        if self.historical.is_some() {
            m.insert("historical".into(), "on".into());
        }
        m
    }
}

async fn dose_create(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
    Form(f): Form<DoseFormData>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    match doses::record(
        &app.db,
        ctx(&v, &actor)?,
        id,
        &f.input(),
        &doses::Provenance::of("ui"),
    )
    .await
    {
        Ok(_) => Ok(redirect_with_flash(
            &format!("/immunization/children/{id}"),
            "flash-imm-dose-saved",
            app.config.secure_cookies,
        )),
        Err(RegistryError::Validation(e)) => unprocessable(
            &card_view(
                &app,
                &v,
                &uri,
                id,
                (f.values(), Some(&e)),
                (HashMap::new(), None),
            )
            .await?,
        ),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ExceptionFormData {
    kind: String,
    antigen: String,
    since: String,
    until: String,
    reason: String,
}

async fn exception_create(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
    Form(f): Form<ExceptionFormData>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let input = doses::ExceptionInput {
        kind: f.kind.clone(),
        antigen: f.antigen.clone(),
        since: f.since.clone(),
        until: f.until.clone(),
        reason: f.reason.clone(),
    };
    match doses::record_exception(&app.db, ctx(&v, &actor)?, id, &input).await {
        Ok(()) => Ok(redirect_with_flash(
            &format!("/immunization/children/{id}"),
            "flash-imm-exception-saved",
            app.config.secure_cookies,
        )),
        Err(RegistryError::Validation(e)) => {
            let mut values = HashMap::new();
            for (k, val) in [
                ("kind", f.kind),
                ("antigen", f.antigen),
                ("since", f.since),
                ("until", f.until),
                ("reason", f.reason),
            ] {
                values.insert(k.to_string(), val);
            }
            unprocessable(
                &card_view(
                    &app,
                    &v,
                    &uri,
                    id,
                    (HashMap::new(), None),
                    (values, Some(&e)),
                )
                .await?,
            )
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct InErrorForm {
    reason: String,
}

async fn dose_in_error(
    State(app): State<AppState>,
    v: Visitor,
    Path((id, dose)): Path<(i64, i64)>,
    Form(f): Form<InErrorForm>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    doses::mark_in_error(&app.db, ctx(&v, &actor)?, id, dose, &f.reason).await?;
    Ok(redirect_with_flash(
        &format!("/immunization/children/{id}"),
        "flash-imm-dose-in-error",
        app.config.secure_cookies,
    ))
}

// ---- campaigns ----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "immunization/campaigns.html")]
struct CampaignsPage {
    c: Chrome,
    rows: Vec<(campaigns::Campaign, i64, String)>,
    products: Vec<String>,
    f: DoseForm,
}

async fn campaigns_view(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    values: HashMap<String, String>,
    errors: Option<&ValidationErrors>,
) -> Result<CampaignsPage, AppError> {
    let c = Chrome::new(v, "immunization", uri);
    let mut rows = Vec::new();
    for k in campaigns::list(&app.db).await? {
        let t = campaigns::tally(&app.db, k.id).await?;
        rows.push((k, t.total, pct(&c, t.coverage)));
    }
    Ok(CampaignsPage {
        rows,
        products: product_codes(app).await?,
        f: DoseForm {
            values,
            errors: FieldMessages::translate(c.tr, errors),
        },
        c,
    })
}

async fn product_codes(app: &AppState) -> Result<Vec<String>, AppError> {
    let cals = calendars::all(&app.db).await?;
    Ok(calendars::in_force(&cals, today())
        .products
        .iter()
        .map(|p| p.code.clone())
        .collect())
}

async fn campaigns_page(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
) -> Result<Response, AppError> {
    render(&campaigns_view(&app, &v, &uri, HashMap::new(), None).await?)
}

async fn campaign_create(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Form(f): Form<campaigns::CampaignInput>,
) -> Result<Response, AppError> {
    let products = product_codes(&app).await?;
    match campaigns::create(&app.db, &v.actor(), &f, &products).await {
        Ok(id) => Ok(redirect_with_flash(
            &format!("/immunization/campaigns/{id}"),
            "flash-imm-campaign-saved",
            app.config.secure_cookies,
        )),
        Err(RegistryError::Validation(e)) => {
            let values = serde_json::to_value(&f)
                .ok()
                .and_then(|j| serde_json::from_value::<HashMap<String, String>>(j).ok())
                .unwrap_or_default();
            unprocessable(&campaigns_view(&app, &v, &uri, values, Some(&e)).await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "immunization/campaign.html")]
struct CampaignPage {
    c: Chrome,
    t: campaigns::Tally,
    areas: Vec<(String, String, String, String)>,
    coverage: String,
    chart: String,
}

async fn campaign_show(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let t = campaigns::tally(&app.db, id).await?;
    let c = Chrome::new(&v, "immunization", &uri);
    let mut areas_v = Vec::new();
    for (code, target, n, cov) in &t.by_area {
        let name = areas::get(&app.db, code)
            .await?
            .map(|a| a.name(v.lang.code()).to_string())
            .unwrap_or_else(|| code.clone());
        areas_v.push((name, c.tr.num(*target), c.tr.num(*n), pct(&c, *cov)));
    }
    let bars: Vec<charts::Bar> = t
        .daily
        .iter()
        .map(|(d, n, _)| charts::Bar {
            label: c.date(d),
            value: *n as f64,
            bounds: None,
        })
        .collect();
    let chart = charts::bar_chart(
        &c.t("imm-campaign-daily"),
        &c.t("imm-campaign-daily"),
        &bars,
        &|x| c.tr.dec(x, 0),
    );
    render(&CampaignPage {
        coverage: pct(&c, t.coverage),
        areas: areas_v,
        chart,
        t,
        c,
    })
}

// ---- calendar -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "immunization/calendar.html")]
struct CalendarPage {
    c: Chrome,
    versions: Vec<calendars::StoredCalendar>,
    in_force: String,
    editing: Option<String>,
    text: String,
    version: String,
    errors: Vec<String>,
    rows: Vec<(String, String, String, String, String, String)>,
}

impl CalendarPage {
    fn day(&self, d: &Date) -> String {
        self.c.date(&bala_core::date::iso(*d))
    }
}

#[derive(Deserialize, Default)]
struct CalendarQuery {
    edit: Option<String>,
}

async fn calendar_view(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    edit: Option<String>,
    text: Option<String>,
    errors: Vec<String>,
) -> Result<CalendarPage, AppError> {
    let versions = calendars::stored(&app.db).await?;
    let cals: Vec<_> = versions.iter().map(|s| s.calendar.clone()).collect();
    let current = calendars::in_force(&cals, today()).clone();
    let c = Chrome::new(v, "immunization", uri);
    let mut rows = Vec::new();
    for s in &current.series {
        for d in &s.doses {
            rows.push((
                d.label.clone(),
                d.recommended_age.describe(),
                d.min_age.describe(),
                d.min_interval.map(|i| i.describe()).unwrap_or_default(),
                d.max_age.map(|i| i.describe()).unwrap_or_default(),
                format!("{:?}", d.status),
            ));
        }
    }
    let editing = versions
        .iter()
        .find(|s| Some(&s.calendar.id) == edit.as_ref());
    Ok(CalendarPage {
        in_force: current.id.clone(),
        text: text
            .or_else(|| editing.map(|s| s.toml.clone()))
            .unwrap_or_default(),
        version: editing.map(|s| s.version.to_string()).unwrap_or_default(),
        editing: edit,
        errors,
        rows,
        versions,
        c,
    })
}

async fn calendar_page(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<CalendarQuery>,
) -> Result<Response, AppError> {
    render(&calendar_view(&app, &v, &uri, q.edit, None, vec![]).await?)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CalendarForm {
    toml: String,
    version: String,
    id: String,
}

async fn calendar_save(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Form(f): Form<CalendarForm>,
) -> Result<Response, AppError> {
    let expected = f.version.trim().parse::<i64>().ok();
    match calendars::save(&app.db, &v.actor(), &f.toml, expected).await {
        Ok(_) => Ok(redirect_with_flash(
            "/immunization/calendar",
            "flash-imm-calendar-saved",
            app.config.secure_cookies,
        )),
        Err(RegistryError::Validation(e)) => {
            let tr = crate::i18n::Tr(v.lang);
            // The editor needs the detail (line, dose) as well as the translated gist.
            let errors =
                e.0.iter()
                    .map(|x| {
                        let t = translated_field_error(tr, x);
                        if t == x.detail {
                            format!("{}: {t}", x.field)
                        } else {
                            format!("{}: {t} ({})", x.field, x.detail)
                        }
                    })
                    .collect();
            let edit = (!f.id.is_empty()).then_some(f.id.clone());
            unprocessable(&calendar_view(&app, &v, &uri, edit, Some(f.toml), errors).await?)
        }
        Err(e) => Err(e.into()),
    }
}

// ---- target population ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "immunization/population.html")]
struct PopulationPage {
    c: Chrome,
    year: i32,
    rows: Vec<(String, String, String)>,
    area_options: Vec<(String, String)>,
    errors: Vec<String>,
}

#[derive(Deserialize, Default)]
struct YearQuery {
    year: Option<String>,
}

async fn population_view(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    year: i32,
    errors: Vec<String>,
) -> Result<PopulationPage, AppError> {
    let c = Chrome::new(v, "immunization", uri);
    let mut rows = Vec::new();
    for e in population::list(&app.db, year).await? {
        let name = areas::get(&app.db, &e.area_code)
            .await?
            .map(|a| a.name(v.lang.code()).to_string())
            .unwrap_or(e.area_code);
        rows.push((name, c.tr.num(e.surviving_infants), e.source));
    }
    Ok(PopulationPage {
        year,
        rows,
        area_options: all_area_options(app, v.lang.code()).await?,
        errors,
        c,
    })
}

async fn population_page(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<YearQuery>,
) -> Result<Response, AppError> {
    let year = year_field(q.year.as_deref(), today().year())?;
    render(&population_view(&app, &v, &uri, year, vec![]).await?)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PopulationForm {
    area_code: String,
    year: String,
    surviving_infants: String,
    source: String,
}

async fn population_save(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Form(f): Form<PopulationForm>,
) -> Result<Response, AppError> {
    match population::save(
        &app.db,
        &v.actor(),
        &f.area_code,
        &f.year,
        &f.surviving_infants,
        &f.source,
    )
    .await
    {
        Ok(()) => Ok(redirect_with_flash(
            &format!("/immunization/population?year={}", f.year.trim()),
            "flash-imm-population-saved",
            app.config.secure_cookies,
        )),
        Err(RegistryError::Validation(e)) => {
            let tr = crate::i18n::Tr(v.lang);
            let errors = e.0.iter().map(|x| translated_field_error(tr, x)).collect();
            let year = f.year.trim().parse().unwrap_or_else(|_| today().year());
            unprocessable(&population_view(&app, &v, &uri, year, errors).await?)
        }
        Err(e) => Err(e.into()),
    }
}

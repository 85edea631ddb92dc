//! The welfare pillar's pages: screening and concern reports (any front-line
//! worker), incoming referrals, alerts, cases (see `welfare/cases.rs`), the
//! supervisor's dashboard, de-identified statistics, and the administration of
//! the instrument and alert rules.
//!
//! Authorization: the route rule decides the role (`bala_access::gate`); which
//! records, and which actions on a case, are decided by `bala_welfare::store`
//! (SQL scope and `bala_welfare::gate`), which answers `NotFound` for anything
//! the user may not see.

mod admin;
mod cases;

use super::{redirect_with_flash, render, Chrome};
use crate::error::{translated_field_error, AppError};
use crate::extract::{WebForm as Form, WebPath as Path, WebQuery as Query};
use crate::integration::RegisterImmunization;
use crate::routes::{RouteTable, Rule};
use crate::state::AppState;
use crate::visitor::Visitor;
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use bala_access::{can, Action, Role};
use bala_core::ValidationErrors;
use bala_store::audit::Actor;
use bala_welfare::instrument::AnswerSpec;
use bala_welfare::store::alerts;
use bala_welfare::store::cases::NewCase;
use bala_welfare::store::screenings::{self, ConcernInput, ScreeningInput};
use bala_welfare::store::{notify, referrals, stats, Ctx, WelfareError};
use bala_welfare::{vocab, Answer, AnswerValue, Instrument};
use serde::Deserialize;
use std::collections::HashMap;

/// The immunization facts used by the alert rules, read from the immunization
/// register (see [`crate::integration`]).
pub(crate) const IMMUNIZATION: RegisterImmunization = RegisterImmunization;

pub fn routes() -> RouteTable {
    let screen = Rule::Can(Action::Screen);
    let cases = Rule::Can(Action::ManageCases);
    RouteTable::new()
        .get("/welfare", screen, home)
        .get("/welfare/screenings/new", screen, screening_form)
        .post("/welfare/screenings", screen, screening_create)
        .get("/welfare/screenings/{id}", screen, screening_show)
        .get("/welfare/concerns/new", screen, concern_form)
        .post("/welfare/concerns", screen, concern_create)
        .get("/welfare/concerns/{id}", screen, concern_show)
        .get("/welfare/referrals", cases, referrals_list)
        .post("/welfare/referrals/{id}/accept", cases, referral_accept)
        .post("/welfare/referrals/{id}/decline", cases, referral_decline)
        .get("/welfare/alerts", cases, alerts_list)
        .post(
            "/welfare/alerts/run",
            Rule::Can(Action::SuperviseCases),
            alerts_run,
        )
        .get("/welfare/alerts/{id}", cases, alert_show)
        .post("/welfare/alerts/{id}/acknowledge", cases, alert_acknowledge)
        .post("/welfare/alerts/{id}/dismiss", cases, alert_dismiss)
        .post("/welfare/alerts/{id}/case", cases, alert_case)
        .get("/welfare/notifications", Rule::SignedIn, notifications)
        .post(
            "/welfare/notifications/read",
            Rule::SignedIn,
            notifications_read,
        )
        .get(
            "/welfare/supervision",
            Rule::Can(Action::SuperviseCases),
            supervision,
        )
        .get(
            "/welfare/statistics",
            Rule::Can(Action::ViewAggregates),
            statistics,
        )
        .merge(cases::routes())
        .merge(admin::routes())
}

/// The store's context for this request.
pub(crate) fn ctx<'a>(
    app: &'a AppState,
    v: &'a Visitor,
    actor: &'a Actor,
) -> Result<Ctx<'a>, AppError> {
    Ok(Ctx {
        principal: v.principal()?,
        actor,
        keys: &app.config.encryption,
    })
}

pub(crate) fn wlang(c: &Chrome) -> bala_welfare::Lang {
    c.lang.code().parse().unwrap_or(bala_welfare::Lang::En)
}

impl Chrome {
    /// The label of a code from one of the pillar's lists: `welfare-<list>-<code>`.
    pub fn code(&self, list: &str, code: &str) -> String {
        self.t(&format!("welfare-{list}-{}", code.replace('_', "-")))
    }
    /// A translated text of the instrument or rules in the page's language.
    pub fn text(&self, t: &bala_welfare::Text) -> String {
        t.get(wlang(self)).to_string()
    }
    /// The text of a notification kind.
    pub fn notify(&self, kind: &str) -> String {
        self.t(&format!("notify-{kind}"))
    }
    /// The CSS class of a risk level or severity badge.
    pub fn level_class(&self, level: &str) -> &'static str {
        match level {
            "immediate_danger" | "critical" => "bad",
            "high" => "warn",
            "low" => "ok",
            _ => "",
        }
    }
}

/// Field errors translated for a form: (field, message).
pub(crate) fn field_errors(c: &Chrome, e: &ValidationErrors) -> Vec<(String, String)> {
    e.0.iter()
        .map(|f| (f.field.clone(), translated_field_error(c.tr, f)))
        .collect()
}

pub(crate) fn unprocessable(t: &impl Template) -> Result<Response, AppError> {
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(t.render()?)).into_response())
}

/// Code lists with labels, for selects.
pub(crate) fn options(c: &Chrome, list: &str, codes: &[&str]) -> Vec<(String, String)> {
    codes
        .iter()
        .map(|x| (x.to_string(), c.code(list, x)))
        .collect()
}

pub(crate) const LEVELS: &[&str] = &["low", "medium", "high", "immediate_danger"];

/// A form whose errors are shown next to its fields.
#[derive(Default)]
pub struct FormState {
    pub values: HashMap<String, String>,
    pub errors: Vec<(String, String)>,
}

impl FormState {
    pub fn err(&self, field: &str) -> Option<&String> {
        self.errors.iter().find(|e| e.0 == field).map(|e| &e.1)
    }
    pub fn val(&self, field: &str) -> &str {
        self.values.get(field).map(String::as_str).unwrap_or("")
    }
    pub fn has(&self, field: &str, value: &str) -> bool {
        self.values
            .get(field)
            .is_some_and(|v| v.split(',').any(|x| x == value))
    }
}

fn pairs_to_map(pairs: &[(String, String)]) -> HashMap<String, String> {
    let mut m: HashMap<String, String> = HashMap::new();
    for (k, v) in pairs {
        m.entry(k.clone())
            .and_modify(|e| {
                e.push(',');
                e.push_str(v);
            })
            .or_insert_with(|| v.clone());
    }
    m
}

fn all_of(pairs: &[(String, String)], key: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .collect()
}

fn first_of(pairs: &[(String, String)], key: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

// ---- home ---------------------------------------------------------------------

struct HomeLink {
    href: &'static str,
    label: &'static str,
    count: Option<i64>,
}

#[derive(Template)]
#[template(path = "welfare/home.html")]
struct HomePage {
    c: Chrome,
    links: Vec<HomeLink>,
    recent: Vec<screenings::ScreeningRow>,
}

async fn home(State(app): State<AppState>, v: Visitor, uri: Uri) -> Result<Response, AppError> {
    let actor = v.actor();
    let ctx = ctx(&app, &v, &actor)?;
    let p = ctx.principal;
    let c = Chrome::new(&v, "welfare", &uri);
    let mut links = vec![
        HomeLink {
            href: "/welfare/screenings/new",
            label: "welfare-screen-child",
            count: None,
        },
        HomeLink {
            href: "/welfare/concerns/new",
            label: "welfare-report-concern",
            count: None,
        },
    ];
    if can(p, Action::ManageCases) {
        let my_alerts = alerts::list(&app.db, ctx, false).await?.len() as i64;
        let incoming = referrals::incoming(&app.db, ctx, true).await?.len() as i64;
        let mine = bala_welfare::store::cases::list(
            &app.db,
            ctx,
            bala_welfare::store::cases::Listing::Mine,
            false,
        )
        .await?
        .len() as i64;
        links.push(HomeLink {
            href: "/welfare/alerts",
            label: "welfare-my-alerts",
            count: Some(my_alerts),
        });
        links.push(HomeLink {
            href: "/welfare/referrals",
            label: "welfare-incoming-referrals",
            count: Some(incoming),
        });
        links.push(HomeLink {
            href: "/welfare/cases",
            label: "welfare-my-cases",
            count: Some(mine),
        });
        links.push(HomeLink {
            href: "/welfare/break-glass",
            label: "welfare-break-glass",
            count: None,
        });
    }
    if can(p, Action::SuperviseCases) {
        links.push(HomeLink {
            href: "/welfare/supervision",
            label: "welfare-supervision",
            count: None,
        });
    }
    links.push(HomeLink {
        href: "/welfare/notifications",
        label: "welfare-notifications",
        count: Some(notify::unread_count(&app.db, p.user_id).await?),
    });
    if can(p, Action::ViewAggregates) {
        links.push(HomeLink {
            href: "/welfare/statistics",
            label: "welfare-statistics",
            count: None,
        });
    }
    let recent = screenings::recent(&app.db, ctx, 10).await?;
    render(&HomePage { c, links, recent })
}

// ---- screening ------------------------------------------------------------------

struct QView {
    code: String,
    text: String,
    help: Option<String>,
    required: bool,
    kind: &'static str,
    options: Vec<(String, String)>,
    min: i64,
    max: i64,
    unit: String,
    value: String,
    error: Option<String>,
}

struct DomainView {
    name: String,
    questions: Vec<QView>,
}

struct ChildView {
    id: i64,
    name: String,
    age: String,
}

#[derive(Template)]
#[template(path = "welfare/screening_form.html")]
struct ScreeningFormPage {
    c: Chrome,
    child: Option<ChildView>,
    title: String,
    version: u32,
    domains: Vec<DomainView>,
    agencies: Vec<(String, String)>,
    agency: String,
    f: FormState,
}

#[derive(Deserialize)]
struct PersonQuery {
    person: Option<String>,
}

async fn child_view(app: &AppState, v: &Visitor, id: i64) -> Result<Option<ChildView>, AppError> {
    match bala_registry::people::fetch_in_scope(&app.db, &v.principal()?.scope, id).await {
        Ok(p) => Ok(Some(ChildView {
            id: p.id,
            name: p.full_name(),
            age: super::people::age_label(crate::i18n::Tr(v.lang), &p.birth_date),
        })),
        Err(bala_registry::RegistryError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn age_months_of(app_birth: Option<&str>) -> Option<u32> {
    let b = bala_core::parse_date(app_birth?).ok()?;
    u32::try_from(bala_core::date::age_months(
        b,
        time::OffsetDateTime::now_utc().date(),
    ))
    .ok()
}

async fn screening_page(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    person: Option<i64>,
    f: FormState,
) -> Result<ScreeningFormPage, AppError> {
    let c = Chrome::new(v, "welfare", uri);
    let inst = bala_welfare::store::reference::instrument_in_force(
        &app.db,
        &Instrument::default_kz().code,
    )
    .await?;
    let (child, birth) = match person {
        Some(id) => {
            match bala_registry::people::fetch_in_scope(&app.db, &v.principal()?.scope, id).await {
                Ok(p) => (child_view(app, v, id).await?, Some(p.birth_date)),
                Err(bala_registry::RegistryError::NotFound) => (None, None),
                Err(e) => return Err(e.into()),
            }
        }
        None => (None, None),
    };
    let age = age_months_of(birth.as_deref());
    let lang = wlang(&c);
    let domains = inst
        .domains
        .iter()
        .map(|d| DomainView {
            name: d.name.get(lang).to_string(),
            questions: d
                .questions
                .iter()
                .filter(|q| q.applies.applies_to(age))
                .map(|q| {
                    let (kind, options, min, max, unit) = match &q.answer {
                        AnswerSpec::YesNo { .. } => ("yes_no", vec![], 0, 0, String::new()),
                        AnswerSpec::SingleChoice { options } => (
                            "choice",
                            options
                                .iter()
                                .map(|o| (o.code.clone(), o.label.get(lang).to_string()))
                                .collect(),
                            0,
                            0,
                            String::new(),
                        ),
                        AnswerSpec::Number { min, max, unit, .. } => (
                            "number",
                            vec![],
                            *min,
                            *max,
                            unit.as_ref()
                                .map(|u| u.get(lang).to_string())
                                .unwrap_or_default(),
                        ),
                        AnswerSpec::Text { max_len } => {
                            ("text", vec![], 0, i64::from(*max_len), String::new())
                        }
                    };
                    let field = format!("answers.{}", q.code);
                    QView {
                        value: f.val(&format!("q.{}", q.code)).to_string(),
                        error: f.err(&field).cloned(),
                        code: q.code.clone(),
                        text: q.text.get(lang).to_string(),
                        help: q.help.as_ref().map(|h| h.get(lang).to_string()),
                        required: q.required,
                        kind,
                        options,
                        min,
                        max,
                        unit,
                    }
                })
                .collect(),
        })
        .collect();
    let default_agency = bala_welfare::store::agency_of(v.principal()?).to_string();
    Ok(ScreeningFormPage {
        title: inst.title.get(lang).to_string(),
        version: inst.version,
        domains,
        agencies: options(&c, "agency", vocab::AGENCIES),
        agency: if f.val("agency").is_empty() {
            default_agency
        } else {
            f.val("agency").to_string()
        },
        child,
        c,
        f,
    })
}

async fn screening_form(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<PersonQuery>,
) -> Result<Response, AppError> {
    let person = q
        .person
        .as_deref()
        .and_then(|s| s.trim().parse::<i64>().ok());
    let mut f = FormState::default();
    if q.person.as_deref().is_some_and(|s| !s.trim().is_empty()) {
        let found = match person {
            Some(id) => child_view(&app, &v, id).await?.is_some(),
            None => false,
        };
        if !found {
            f.errors.push((
                "person".into(),
                Chrome::new(&v, "welfare", &uri).t("err-person-unknown"),
            ));
        }
    }
    render(&screening_page(&app, &v, &uri, person, f).await?)
}

/// Reads the answers of a screening form (`q.<code>` fields) into typed answers;
/// a value that does not fit its question is reported at `answers.<code>`.
pub(crate) fn answers_from_form(
    inst: &Instrument,
    pairs: &[(String, String)],
) -> (Vec<Answer>, ValidationErrors) {
    let mut answers = Vec::new();
    let mut e = ValidationErrors::new();
    for (_, q) in inst.questions() {
        let raw = first_of(pairs, &format!("q.{}", q.code));
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let field = format!("answers.{}", q.code);
        let value = match &q.answer {
            AnswerSpec::YesNo { .. } => match raw {
                "yes" => Some(AnswerValue::YesNo(true)),
                "no" => Some(AnswerValue::YesNo(false)),
                _ => None,
            },
            AnswerSpec::SingleChoice { .. } => Some(AnswerValue::Choice(raw.to_string())),
            AnswerSpec::Number { .. } => raw.parse::<i64>().ok().map(AnswerValue::Number),
            AnswerSpec::Text { .. } => Some(AnswerValue::Text(raw.to_string())),
        };
        match value {
            Some(val) => answers.push(Answer::new(q.code.clone(), val)),
            None => e.push(field, "err-answer-type", "the answer has the wrong type"),
        }
    }
    (answers, e)
}

async fn screening_create(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let ctx = ctx(&app, &v, &actor)?;
    let inst = bala_welfare::store::reference::instrument_in_force(
        &app.db,
        &Instrument::default_kz().code,
    )
    .await?;
    let person_raw = first_of(&pairs, "person_id");
    let person = person_raw.trim().parse::<i64>().ok();
    let (answers, mut bad) = answers_from_form(&inst, &pairs);
    let input = ScreeningInput {
        person_id: person.unwrap_or(0),
        agency: first_of(&pairs, "agency"),
        answers,
    };
    let outcome = if bad.is_empty() {
        screenings::create(&app.db, ctx, &IMMUNIZATION, &input).await
    } else {
        Err(WelfareError::Validation(ValidationErrors::new()))
    };
    match outcome {
        Ok(saved) => Ok(redirect_with_flash(
            &format!("/welfare/screenings/{}", saved.id),
            "flash-screening-saved",
            app.config.secure_cookies,
        )),
        Err(WelfareError::Validation(e)) => {
            bad.0.extend(e.0);
            let c = Chrome::new(&v, "welfare", &uri);
            let f = FormState {
                values: pairs_to_map(&pairs),
                errors: field_errors(&c, &bad),
            };
            unprocessable(&screening_page(&app, &v, &uri, person, f).await?)
        }
        Err(e) => Err(e.into()),
    }
}

struct AnswerRow {
    question: String,
    answer: String,
}

#[derive(Template)]
#[template(path = "welfare/screening_show.html")]
struct ScreeningShowPage {
    c: Chrome,
    s: screenings::ScreeningView,
    title: String,
    level: String,
    explanation: Vec<String>,
    domains: Vec<(String, u32, u32)>,
    answers: Vec<AnswerRow>,
    can_cases: bool,
}

async fn screening_show(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let ctx = ctx(&app, &v, &actor)?;
    let s = screenings::get(&app.db, ctx, id).await?;
    let c = Chrome::new(&v, "welfare", &uri);
    let lang = wlang(&c);
    let inst = &s.instrument;
    let answers = s
        .answers
        .iter()
        .map(|a| {
            let (_, q) = inst
                .question(&a.question)
                .expect("stored with this instrument");
            let answer = match (&a.value, &q.answer) {
                (AnswerValue::YesNo(true), _) => c.t("welfare-yes"),
                (AnswerValue::YesNo(false), _) => c.t("welfare-no"),
                (AnswerValue::Choice(code), AnswerSpec::SingleChoice { options }) => options
                    .iter()
                    .find(|o| &o.code == code)
                    .map(|o| o.label.get(lang).to_string())
                    .unwrap_or_else(|| code.clone()),
                (AnswerValue::Number(n), _) => n.to_string(),
                (AnswerValue::Text(t), _) => t.clone(),
                (AnswerValue::Choice(code), _) => code.clone(),
            };
            AnswerRow {
                question: q.text.get(lang).to_string(),
                answer,
            }
        })
        .collect();
    let domains = s
        .result
        .domains
        .iter()
        .filter_map(|d| {
            inst.domain(&d.domain)
                .map(|x| (x.name.get(lang).to_string(), d.score, d.cap))
        })
        .collect();
    render(&ScreeningShowPage {
        title: inst.title.get(lang).to_string(),
        level: s.result.level.code().to_string(),
        explanation: s.result.explain(inst, lang),
        domains,
        answers,
        can_cases: can(ctx.principal, Action::ManageCases),
        s,
        c,
    })
}

// ---- concern reports -----------------------------------------------------------

#[derive(Template)]
#[template(path = "welfare/concern_form.html")]
struct ConcernFormPage {
    c: Chrome,
    child: Option<ChildView>,
    concerns: Vec<(String, String)>,
    levels: Vec<(String, String)>,
    agencies: Vec<(String, String)>,
    f: FormState,
}

async fn concern_page(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    person: Option<i64>,
    mut f: FormState,
) -> Result<ConcernFormPage, AppError> {
    let c = Chrome::new(v, "welfare", uri);
    let child = match person {
        Some(id) => child_view(app, v, id).await?,
        None => None,
    };
    if f.val("agency").is_empty() {
        f.values.insert(
            "agency".into(),
            bala_welfare::store::agency_of(v.principal()?).to_string(),
        );
    }
    Ok(ConcernFormPage {
        concerns: options(&c, "concern", vocab::CONCERNS),
        levels: options(&c, "level", LEVELS),
        agencies: options(&c, "agency", vocab::AGENCIES),
        child,
        c,
        f,
    })
}

async fn concern_form(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<PersonQuery>,
) -> Result<Response, AppError> {
    let person = q
        .person
        .as_deref()
        .and_then(|s| s.trim().parse::<i64>().ok());
    render(&concern_page(&app, &v, &uri, person, FormState::default()).await?)
}

async fn concern_create(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let ctx = ctx(&app, &v, &actor)?;
    let person = first_of(&pairs, "person_id").trim().parse::<i64>().ok();
    let input = ConcernInput {
        person_id: person.unwrap_or(0),
        concerns: all_of(&pairs, "concerns"),
        level: first_of(&pairs, "level"),
        agency: first_of(&pairs, "agency"),
        narrative: first_of(&pairs, "narrative"),
    };
    match screenings::report_concern(&app.db, ctx, &input).await {
        Ok((id, _)) => Ok(redirect_with_flash(
            &format!("/welfare/concerns/{id}"),
            "flash-concern-saved",
            app.config.secure_cookies,
        )),
        Err(WelfareError::Validation(e)) => {
            let c = Chrome::new(&v, "welfare", &uri);
            let f = FormState {
                values: pairs_to_map(&pairs),
                errors: field_errors(&c, &e),
            };
            unprocessable(&concern_page(&app, &v, &uri, person, f).await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "welfare/concern_show.html")]
struct ConcernShowPage {
    c: Chrome,
    r: screenings::ConcernView,
}

async fn concern_show(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let r = screenings::get_concern(&app.db, ctx(&app, &v, &actor)?, id).await?;
    render(&ConcernShowPage {
        c: Chrome::new(&v, "welfare", &uri),
        r,
    })
}

// ---- incoming referrals ------------------------------------------------------------

#[derive(Template)]
#[template(path = "welfare/referrals.html")]
struct ReferralsPage {
    c: Chrome,
    open: Vec<referrals::Referral>,
    answered: Vec<referrals::Referral>,
    concerns: Vec<(String, String)>,
    levels: Vec<(String, String)>,
    supervisor: bool,
    /// The referral whose form has errors, with them.
    failed: Option<i64>,
    f: FormState,
}

async fn referrals_page(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    failed: Option<i64>,
    f: FormState,
) -> Result<ReferralsPage, AppError> {
    let actor = v.actor();
    let all = referrals::incoming(&app.db, ctx(app, v, &actor)?, false).await?;
    let c = Chrome::new(v, "welfare", uri);
    let (open, answered) = all.into_iter().partition(|r| r.state == "sent");
    Ok(ReferralsPage {
        concerns: options(&c, "concern", vocab::CONCERNS),
        levels: options(&c, "level", LEVELS),
        supervisor: is_supervisor(v),
        open,
        answered,
        failed,
        f,
        c,
    })
}

static EMPTY_FORM: std::sync::LazyLock<FormState> = std::sync::LazyLock::new(FormState::default);

impl ReferralsPage {
    fn is_failed(&self, id: &i64) -> bool {
        self.failed == Some(*id)
    }
    /// The form state of referral `id`'s forms (empty unless they failed).
    fn form_for(&self, id: &i64) -> &FormState {
        if self.is_failed(id) {
            &self.f
        } else {
            &EMPTY_FORM
        }
    }
}

async fn referrals_list(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
) -> Result<Response, AppError> {
    render(&referrals_page(&app, &v, &uri, None, FormState::default()).await?)
}

/// The "open a case" fields shared by referral and alert forms.
pub(crate) fn new_case_from(pairs: &[(String, String)]) -> NewCase {
    NewCase {
        person_id: first_of(pairs, "person_id").trim().parse().unwrap_or(0),
        subject: first_of(pairs, "subject"),
        concerns: all_of(pairs, "concerns"),
        risk: first_of(pairs, "risk"),
        summary: first_of(pairs, "summary"),
        assign_to: Some(first_of(pairs, "assign_to")),
        source: "direct".into(),
        source_id: None,
    }
}

async fn referral_accept(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let ctx = ctx(&app, &v, &actor)?;
    match referrals::accept_incoming(&app.db, ctx, id, &new_case_from(&pairs)).await {
        Ok(case_id) => Ok(redirect_with_flash(
            &format!("/welfare/cases/{case_id}"),
            "flash-case-opened",
            app.config.secure_cookies,
        )),
        Err(WelfareError::Validation(e)) => {
            let c = Chrome::new(&v, "welfare", &uri);
            let f = FormState {
                values: pairs_to_map(&pairs),
                errors: field_errors(&c, &e),
            };
            unprocessable(&referrals_page(&app, &v, &uri, Some(id), f).await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
}

async fn referral_decline(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
    Form(form): Form<ReasonForm>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    match referrals::decline_incoming(&app.db, ctx(&app, &v, &actor)?, id, &form.reason).await {
        Ok(()) => Ok(redirect_with_flash(
            "/welfare/referrals",
            "flash-referral-declined",
            app.config.secure_cookies,
        )),
        Err(WelfareError::Validation(e)) => {
            let c = Chrome::new(&v, "welfare", &uri);
            let mut values = HashMap::new();
            values.insert("reason".to_string(), form.reason.clone());
            let f = FormState {
                values,
                errors: field_errors(&c, &e),
            };
            unprocessable(&referrals_page(&app, &v, &uri, Some(id), f).await?)
        }
        Err(e) => Err(e.into()),
    }
}

// ---- alerts ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "welfare/alerts.html")]
struct AlertsPage {
    c: Chrome,
    alerts: Vec<alerts::Alert>,
    all: bool,
    supervisor: bool,
}

#[derive(Deserialize)]
struct AllQuery {
    all: Option<String>,
}

async fn alerts_list(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<AllQuery>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let ctx = ctx(&app, &v, &actor)?;
    let all = q.all.is_some();
    render(&AlertsPage {
        alerts: alerts::list(&app.db, ctx, all).await?,
        supervisor: can(ctx.principal, Action::SuperviseCases),
        all,
        c: Chrome::new(&v, "welfare", &uri),
    })
}

async fn alerts_run(State(app): State<AppState>, v: Visitor) -> Result<Response, AppError> {
    let p = v.principal()?;
    alerts::evaluate_area(&app.db, &IMMUNIZATION, &p.scope).await?;
    Ok(redirect_with_flash(
        "/welfare/alerts",
        "flash-alerts-run",
        app.config.secure_cookies,
    ))
}

#[derive(Template)]
#[template(path = "welfare/alert_show.html")]
struct AlertPage {
    c: Chrome,
    a: alerts::Alert,
    supervisor: bool,
    concerns: Vec<(String, String)>,
    levels: Vec<(String, String)>,
    f: FormState,
}

async fn alert_page(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    id: i64,
    f: FormState,
) -> Result<AlertPage, AppError> {
    let actor = v.actor();
    let a = alerts::get(&app.db, ctx(app, v, &actor)?, id).await?;
    let c = Chrome::new(v, "welfare", uri);
    Ok(AlertPage {
        supervisor: is_supervisor(v),
        concerns: options(&c, "concern", vocab::CONCERNS),
        levels: options(&c, "level", LEVELS),
        a,
        f,
        c,
    })
}

async fn alert_show(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    render(&alert_page(&app, &v, &uri, id, FormState::default()).await?)
}

async fn alert_failed(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    id: i64,
    pairs: &[(String, String)],
    e: &ValidationErrors,
) -> Result<Response, AppError> {
    let c = Chrome::new(v, "welfare", uri);
    let f = FormState {
        values: pairs_to_map(pairs),
        errors: field_errors(&c, e),
    };
    unprocessable(&alert_page(app, v, uri, id, f).await?)
}

async fn alert_acknowledge(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    match alerts::acknowledge(&app.db, ctx(&app, &v, &actor)?, id).await {
        Ok(()) => Ok(redirect_with_flash(
            &format!("/welfare/alerts/{id}"),
            "flash-alert-acknowledged",
            app.config.secure_cookies,
        )),
        Err(WelfareError::Validation(e)) => alert_failed(&app, &v, &uri, id, &[], &e).await,
        Err(e) => Err(e.into()),
    }
}

async fn alert_dismiss(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    match alerts::dismiss(
        &app.db,
        ctx(&app, &v, &actor)?,
        id,
        &first_of(&pairs, "reason"),
    )
    .await
    {
        Ok(()) => Ok(redirect_with_flash(
            "/welfare/alerts",
            "flash-alert-dismissed",
            app.config.secure_cookies,
        )),
        Err(WelfareError::Validation(e)) => alert_failed(&app, &v, &uri, id, &pairs, &e).await,
        Err(e) => Err(e.into()),
    }
}

async fn alert_case(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    match alerts::open_case(&app.db, ctx(&app, &v, &actor)?, id, &new_case_from(&pairs)).await {
        Ok(case_id) => Ok(redirect_with_flash(
            &format!("/welfare/cases/{case_id}"),
            "flash-case-opened",
            app.config.secure_cookies,
        )),
        Err(WelfareError::Validation(e)) => alert_failed(&app, &v, &uri, id, &pairs, &e).await,
        Err(e) => Err(e.into()),
    }
}

// ---- notifications ----------------------------------------------------------------

#[derive(Template)]
#[template(path = "welfare/notifications.html")]
struct NotificationsPage {
    c: Chrome,
    items: Vec<notify::Notification>,
}

async fn notifications(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
) -> Result<Response, AppError> {
    let p = v.principal()?;
    render(&NotificationsPage {
        items: notify::inbox(&app.db, p.user_id, 100).await?,
        c: Chrome::new(&v, "welfare", &uri),
    })
}

async fn notifications_read(State(app): State<AppState>, v: Visitor) -> Result<Response, AppError> {
    notify::mark_all_read(&app.db, v.principal()?.user_id).await?;
    Ok(redirect_with_flash(
        "/welfare/notifications",
        "flash-notifications-read",
        app.config.secure_cookies,
    ))
}

// ---- supervision ----------------------------------------------------------------

#[derive(Template)]
#[template(path = "welfare/supervision.html")]
struct SupervisionPage {
    c: Chrome,
    d: stats::Dashboard,
    areas: HashMap<String, String>,
}

pub(crate) async fn area_names(
    app: &AppState,
    lang: &str,
) -> Result<HashMap<String, String>, AppError> {
    Ok(bala_registry::areas::all(&app.db)
        .await?
        .into_iter()
        .map(|a| (a.code.clone(), a.name(lang).to_string()))
        .collect())
}

/// An area's name, or its code when unknown.
pub(crate) fn area_name<'a>(areas: &'a HashMap<String, String>, code: &'a str) -> &'a str {
    areas.get(code).map(String::as_str).unwrap_or(code)
}

impl SupervisionPage {
    fn area<'a>(&'a self, code: &'a str) -> &'a str {
        area_name(&self.areas, code)
    }
}

impl StatisticsPage {
    fn area<'a>(&'a self, code: &'a str) -> &'a str {
        area_name(&self.areas, code)
    }
}

async fn supervision(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
) -> Result<Response, AppError> {
    let p = v.principal()?;
    let d = stats::dashboard(&app.db, &p.scope).await?;
    bala_store::audit::record(
        &app.db,
        &[bala_store::audit::NewEntry::by(&v.actor(), "welfare.dashboard.read", "welfare_case", "dashboard")
            .with_details(serde_json::json!({"escalations": d.escalations.iter().map(|e| e.case_id).collect::<Vec<_>>()}))],
    )
    .await?;
    render(&SupervisionPage {
        areas: area_names(&app, v.lang.code()).await?,
        d,
        c: Chrome::new(&v, "welfare", &uri),
    })
}

// ---- statistics ------------------------------------------------------------------

struct TableView {
    title: &'static str,
    rows: Vec<(String, String)>,
    total: String,
}

#[derive(Template)]
#[template(path = "welfare/statistics.html")]
struct StatisticsPage {
    c: Chrome,
    year: String,
    tables: Vec<TableView>,
    indicators: Vec<stats::IndicatorValue>,
    areas: HashMap<String, String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct YearQuery {
    year: Option<String>,
}

/// A year from the query: empty means all years.
pub(crate) fn parse_year(raw: Option<&str>) -> Result<Option<i32>, ValidationErrors> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => match s.parse::<i32>() {
            Ok(y) if (1990..=2100).contains(&y) => Ok(Some(y)),
            _ => Err(ValidationErrors::single(bala_core::FieldError::new(
                "year",
                "err-year",
                "a year from 1990 to 2100",
            ))),
        },
    }
}

async fn statistics(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<YearQuery>,
) -> Result<Response, AppError> {
    let p = v.principal()?;
    let c = Chrome::new(&v, "welfare-stats", &uri);
    let policy = bala_welfare::SuppressionPolicy::default();
    let areas = area_names(&app, v.lang.code()).await?;
    let (year, error) = match parse_year(q.year.as_deref()) {
        Ok(y) => (y, None),
        Err(e) => (None, Some(field_errors(&c, &e).remove(0).1)),
    };
    let tables = stats::statistics(&app.db, &p.scope, year)
        .await?
        .into_iter()
        .map(|t| {
            let list = match t.title {
                "welfare-stat-screenings-by-level" | "welfare-stat-cases-by-risk" => Some("level"),
                "welfare-stat-cases-by-concern" => Some("concern"),
                "welfare-stat-cases-by-outcome" => Some("closure"),
                "welfare-stat-first-response" => Some("band"),
                _ => None,
            };
            TableView {
                title: t.title,
                rows: t
                    .labels
                    .iter()
                    .zip(&t.cells)
                    .map(|(l, cell)| {
                        let label = match list {
                            Some(list) => c.code(list, l),
                            None => areas.get(l).cloned().unwrap_or_else(|| l.clone()),
                        };
                        (label, cell.label(&policy))
                    })
                    .collect(),
                total: t.total.label(&policy),
            }
        })
        .collect();
    let this_year = time::OffsetDateTime::now_utc().year();
    let indicators = stats::indicator_values(&app.db, &p.scope, year.unwrap_or(this_year)).await?;
    render(&StatisticsPage {
        year: year.map(|y| y.to_string()).unwrap_or_default(),
        tables,
        indicators,
        areas,
        error,
        c,
    })
}

/// The role of the viewer, for templates that adapt (e.g. "assign to" shown to supervisors).
pub(crate) fn is_supervisor(v: &Visitor) -> bool {
    v.principal
        .as_ref()
        .is_some_and(|p| p.role == Role::Supervisor)
}

#[cfg(test)]
mod tests {
    use crate::i18n::{translate, Lang};

    /// Codes are labelled through dynamic message ids; each must exist in every language.
    #[test]
    fn every_code_has_a_label() {
        let mut ids = vec![];
        let lists: [(&str, Vec<String>); 7] = [
            (
                "agency",
                bala_welfare::vocab::AGENCIES
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            ),
            (
                "service",
                bala_welfare::vocab::SERVICES
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            ),
            (
                "concern",
                bala_welfare::vocab::CONCERNS
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            ),
            (
                "relation",
                bala_welfare::vocab::CONSENT_RELATIONS
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            ),
            (
                "level",
                super::LEVELS.iter().map(|s| s.to_string()).collect(),
            ),
            (
                "closure",
                bala_welfare::case::ClosureReason::ALL
                    .iter()
                    .map(bala_welfare::store::code_of)
                    .collect(),
            ),
            (
                "state",
                bala_welfare::CaseState::ALL
                    .iter()
                    .map(bala_welfare::store::code_of)
                    .collect(),
            ),
        ];
        for (list, codes) in lists {
            for code in codes {
                ids.push(format!("welfare-{list}-{}", code.replace('_', "-")));
            }
        }
        for extra in ["direct", "referral", "alert"] {
            ids.push(format!("welfare-source-{extra}"));
        }
        for extra in ["response", "completion"] {
            ids.push(format!("welfare-stage-{extra}"));
        }
        for extra in ["supervisor", "head"] {
            ids.push(format!("welfare-escalation-{extra}"));
        }
        for extra in ["within_24h", "within_72h", "within_7d", "later", "none_yet"] {
            ids.push(format!("welfare-band-{}", extra.replace('_', "-")));
        }
        for kind in bala_welfare::store::notify::KINDS {
            ids.push(format!("notify-{kind}"));
        }
        for kind in super::cases::EVENT_KINDS {
            ids.push(format!("welfare-event-{}", kind.replace('_', "-")));
        }
        for status in [
            "open",
            "acknowledged",
            "dismissed",
            "case-opened",
            "sent",
            "accepted",
            "declined",
            "completed",
            "planned",
            "in-progress",
            "done",
            "cancelled",
            "missed",
        ] {
            ids.push(format!("welfare-status-{status}"));
        }
        for severity in ["low", "medium", "high", "critical"] {
            ids.push(format!("welfare-severity-{severity}"));
        }
        for id in ids {
            for lang in Lang::ALL {
                assert_ne!(
                    translate(lang, &id, None),
                    id,
                    "{id} missing in {}",
                    lang.code()
                );
            }
        }
    }
}

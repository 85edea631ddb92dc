//! Case pages: my cases, opening a case, the case page (timeline, plan, visits,
//! referrals, consent, documents, sharing, transfer, sensitivity) and
//! emergency access. Every action posts a small form; on a mistake the case
//! page comes back with the error next to the field of the form at fault.

use super::{
    ctx, field_errors, first_of, is_supervisor, options, pairs_to_map, unprocessable, FormState,
    LEVELS,
};
use crate::error::AppError;
use crate::extract::{WebForm as Form, WebPath as Path, WebQuery as Query};
use crate::pages::{redirect_with_flash, render, Chrome};
use crate::routes::{RouteTable, Rule};
use crate::state::AppState;
use crate::visitor::Visitor;
use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::{header, Uri};
use axum::response::{IntoResponse, Response};
use bala_access::Action;
use bala_core::{FieldError, ValidationErrors};
use bala_welfare::case::allowed_transitions;
use bala_welfare::store::cases::{self, CaseDetail, CaseSummary, Listing, NewCase};
use bala_welfare::store::{code_of, referrals, WelfareError};
use bala_welfare::vocab;
use serde::Deserialize;
use std::collections::HashMap;

/// Kinds of timeline event (each labelled `welfare-event-<kind>`; the label test walks this list).
#[cfg(test)]
pub const EVENT_KINDS: &[&str] = &[
    "registered",
    "transition",
    "closed",
    "reopened",
    "note",
    "assessment",
    "review",
    "first_response",
    "plan_item",
    "plan_status",
    "visit_planned",
    "visit_done",
    "visit_missed",
    "referral_sent",
    "referral_update",
    "referral_overdue",
    "document",
    "consent",
    "consent_withdrawn",
    "shared",
    "unshared",
    "transfer",
    "sensitivity",
    "break_glass",
    "escalation",
];

pub fn routes() -> RouteTable {
    let m = Rule::Can(Action::ManageCases);
    RouteTable::new()
        .get("/welfare/cases", m, list)
        .get("/welfare/cases/new", m, new_form)
        .post("/welfare/cases", m, create)
        .get("/welfare/cases/{id}", m, show)
        .post("/welfare/cases/{id}/transition", m, transition)
        .post("/welfare/cases/{id}/notes", m, note)
        .post("/welfare/cases/{id}/first-response", m, first_response)
        .post("/welfare/cases/{id}/plan", m, plan_add)
        .post("/welfare/cases/{id}/plan/{item}", m, plan_status)
        .post("/welfare/cases/{id}/visits", m, visit_add)
        .post("/welfare/cases/{id}/visits/{item}", m, visit_record)
        .post("/welfare/cases/{id}/referrals", m, referral_send)
        .post("/welfare/cases/{id}/referrals/{item}", m, referral_update)
        .post("/welfare/cases/{id}/documents", m, document_add)
        .get("/welfare/cases/{id}/documents/{item}", m, document_get)
        .post("/welfare/cases/{id}/consents", m, consent_add)
        .post(
            "/welfare/cases/{id}/consents/{item}/withdraw",
            m,
            consent_withdraw,
        )
        .post("/welfare/cases/{id}/shares", m, share_add)
        .post("/welfare/cases/{id}/shares/{item}/revoke", m, share_revoke)
        .post("/welfare/cases/{id}/transfer", m, transfer)
        .post("/welfare/cases/{id}/sensitivity", m, sensitivity)
        .get("/welfare/break-glass", m, break_glass_form)
        .post("/welfare/break-glass", m, break_glass)
}

// ---- lists ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "welfare/cases.html")]
struct ListPage {
    c: Chrome,
    cases: Vec<CaseSummary>,
    due_today: Vec<CaseSummary>,
    overdue: Vec<CaseSummary>,
    visible: bool,
    closed: bool,
    areas: HashMap<String, String>,
    today: String,
}

#[derive(Deserialize)]
struct ListQuery {
    show: Option<String>,
    closed: Option<String>,
}

impl ListPage {
    fn area<'a>(&'a self, code: &'a str) -> &'a str {
        super::area_name(&self.areas, code)
    }
}

async fn list(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let ctx = ctx(&app, &v, &actor)?;
    let visible = q.show.as_deref() == Some("all");
    let closed = q.closed.is_some();
    let which = if visible {
        Listing::Visible
    } else {
        Listing::Mine
    };
    let cases = cases::list(&app.db, ctx, which, closed).await?;
    let today = bala_core::date::iso(time::OffsetDateTime::now_utc().date());
    let due_today = cases
        .iter()
        .filter(|c| c.next_visit.as_deref() == Some(today.as_str()))
        .cloned()
        .collect();
    let overdue = cases
        .iter()
        .filter(|c| c.overdue_tasks > 0)
        .cloned()
        .collect();
    render(&ListPage {
        areas: super::area_names(&app, v.lang.code()).await?,
        c: Chrome::new(&v, "welfare", &uri),
        cases,
        due_today,
        overdue,
        visible,
        closed,
        today,
    })
}

// ---- opening a case -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "welfare/case_new.html")]
struct NewPage {
    c: Chrome,
    child: Option<super::ChildView>,
    concerns: Vec<(String, String)>,
    levels: Vec<(String, String)>,
    supervisor: bool,
    f: FormState,
}

#[derive(Deserialize)]
struct PersonQuery {
    person: Option<String>,
}

async fn new_page(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    person: Option<i64>,
    f: FormState,
) -> Result<NewPage, AppError> {
    let c = Chrome::new(v, "welfare", uri);
    let child = match person {
        Some(id) => super::child_view(app, v, id).await?,
        None => None,
    };
    Ok(NewPage {
        concerns: options(&c, "concern", vocab::CONCERNS),
        levels: options(&c, "level", LEVELS),
        supervisor: is_supervisor(v),
        child,
        c,
        f,
    })
}

async fn new_form(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Query(q): Query<PersonQuery>,
) -> Result<Response, AppError> {
    let person = q.person.as_deref().and_then(|s| s.trim().parse().ok());
    render(&new_page(&app, &v, &uri, person, FormState::default()).await?)
}

async fn create(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let n: NewCase = super::new_case_from(&pairs);
    match cases::create(&app.db, ctx(&app, &v, &actor)?, &n).await {
        Ok(id) => Ok(redirect_with_flash(
            &format!("/welfare/cases/{id}"),
            "flash-case-opened",
            app.config.secure_cookies,
        )),
        Err(WelfareError::Validation(e)) => {
            let c = Chrome::new(&v, "welfare", &uri);
            let f = FormState {
                values: pairs_to_map(&pairs),
                errors: field_errors(&c, &e),
            };
            let person = (n.person_id > 0).then_some(n.person_id);
            unprocessable(&new_page(&app, &v, &uri, person, f).await?)
        }
        Err(e) => Err(e.into()),
    }
}

// ---- the case page ------------------------------------------------------------------

struct Move {
    to: String,
    label: String,
}

#[derive(Template)]
#[template(path = "welfare/case_show.html")]
struct ShowPage {
    c: Chrome,
    d: CaseDetail,
    area: String,
    state: String,
    closure: Option<String>,
    summary: String,
    moves: Vec<Move>,
    closing: bool,
    reopening: bool,
    response: String,
    response_class: &'static str,
    can_work: bool,
    can_share: bool,
    can_transfer: bool,
    can_unmark: bool,
    services: Vec<(String, String)>,
    agencies: Vec<(String, String)>,
    relations: Vec<(String, String)>,
    closures: Vec<(String, String)>,
    /// The form that failed ("" when none), its values and errors.
    failed: String,
    f: FormState,
    today: String,
}

impl ShowPage {
    /// The form state for `form`: the failed one keeps its values and errors.
    fn fs(&self, form: &str) -> Option<&FormState> {
        (self.failed == form).then_some(&self.f)
    }
    fn err(&self, form: &str, field: &str) -> Option<&String> {
        self.fs(form).and_then(|f| f.err(field))
    }
    fn val(&self, form: &str, field: &str) -> &str {
        self.fs(form).map(|f| f.val(field)).unwrap_or("")
    }
    fn consent_has(&self, agency: &str) -> bool {
        self.fs("consent")
            .is_some_and(|f| f.has("agencies", agency))
    }
    fn event_detail(&self, e: &cases::TimelineEvent) -> String {
        let c = &self.c;
        let s = |k: &str| {
            e.details
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string()
        };
        match e.kind.as_str() {
            "transition" | "closed" | "reopened" => {
                let mut t = format!(
                    "{} → {}",
                    c.code("state", e.from_state.as_deref().unwrap_or("")),
                    c.code("state", e.to_state.as_deref().unwrap_or(""))
                );
                if !s("closure_reason").is_empty() {
                    t.push_str(&format!(" ({})", c.code("closure", &s("closure_reason"))));
                }
                t
            }
            "registered" => c.code("level", &s("risk")),
            "plan_item" => format!(
                "{} · {}",
                c.code("service", &s("service")),
                c.code("agency", &s("agency"))
            ),
            "plan_status" => c.code("status", &s("status")),
            "referral_sent" => format!(
                "{} · {}",
                c.code("agency", &s("to")),
                c.code("service", &s("service"))
            ),
            "referral_update" => c.code("status", &s("state")),
            "referral_overdue" => c.code("stage", &s("stage")),
            "consent" => e
                .details
                .get("agencies")
                .and_then(|a| a.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str())
                        .map(|x| c.code("agency", x))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
            "sensitivity" => {
                if e.details
                    .get("sensitive")
                    .and_then(|b| b.as_bool())
                    .unwrap_or(false)
                {
                    c.t("welfare-sensitive")
                } else {
                    c.t("welfare-not-sensitive")
                }
            }
            "break_glass" => c.t1("welfare-until", "time", c.stamp(&s("until"))),
            "escalation" => c.code("escalation", &s("to")),
            _ => String::new(),
        }
    }
}

async fn show_page(
    app: &AppState,
    v: &Visitor,
    uri: &Uri,
    id: i64,
    failed: &str,
    f: FormState,
) -> Result<ShowPage, AppError> {
    let actor = v.actor();
    let d = cases::get(&app.db, ctx(app, v, &actor)?, id).await?;
    let c = Chrome::new(v, "welfare", uri);
    let rel = d.relation;
    let sensitive = d.case.sensitive;
    use bala_welfare::gate::{permits, CaseAction};
    let role = rel.workflow_role();
    let moves = allowed_transitions()
        .iter()
        .filter(|(from, _, roles)| *from == d.case.state && roles.contains(&role))
        .map(|(_, to, _)| {
            let to = code_of(to);
            Move {
                label: c.code("state", &to),
                to,
            }
        })
        .collect::<Vec<_>>();
    let closing = moves.iter().any(|m| m.to == "closed");
    let reopening = d.case.state == bala_welfare::CaseState::Closed && !moves.is_empty();
    let (response, response_class) = {
        use bala_welfare::case::ResponseStatus as S;
        match d.first_response.status {
            S::NoDeadline => (c.t("welfare-response-none"), ""),
            S::Responded { on_time: true } => (c.t("welfare-response-on-time"), "ok"),
            S::Responded { on_time: false } => (c.t("welfare-response-late"), "warn"),
            S::ClosedWithoutResponse => (c.t("welfare-response-closed"), ""),
            S::Pending => (
                c.t1(
                    "welfare-response-due",
                    "time",
                    c.stamp(d.case.response_due_at.as_deref().unwrap_or("")),
                ),
                "",
            ),
            S::DueSoon => (
                c.t1(
                    "welfare-response-due-soon",
                    "time",
                    c.stamp(d.case.response_due_at.as_deref().unwrap_or("")),
                ),
                "warn",
            ),
            S::Overdue { overdue_by_minutes } => (
                c.t1("welfare-response-overdue", "hours", overdue_by_minutes / 60),
                "bad",
            ),
        }
    };
    let area = bala_registry::areas::get(&app.db, &d.case.area_code)
        .await?
        .map(|a| a.name(v.lang.code()).to_string())
        .unwrap_or_else(|| d.case.area_code.clone());
    Ok(ShowPage {
        state: code_of(&d.case.state),
        closure: d.case.closure_reason.map(|r| code_of(&r)),
        summary: d.case.summary.clone().unwrap_or_default(),
        moves,
        closing,
        reopening,
        response,
        response_class,
        can_work: permits(rel, sensitive, CaseAction::Work),
        can_share: permits(rel, sensitive, CaseAction::Share) && !sensitive,
        can_transfer: permits(rel, sensitive, CaseAction::Transfer),
        can_unmark: rel.supervisor,
        services: options(&c, "service", vocab::SERVICES),
        agencies: options(&c, "agency", vocab::AGENCIES),
        relations: options(&c, "relation", vocab::CONSENT_RELATIONS),
        closures: bala_welfare::case::ClosureReason::ALL
            .iter()
            .filter(|r| r.allowed_from(d.case.state))
            .map(|r| {
                let code = code_of(r);
                (code.clone(), c.code("closure", &code))
            })
            .collect(),
        failed: failed.to_string(),
        f,
        today: bala_core::date::iso(time::OffsetDateTime::now_utc().date()),
        area,
        d,
        c,
    })
}

async fn show(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    render(&show_page(&app, &v, &uri, id, "", FormState::default()).await?)
}

/// After a case action: back to the case with a message, or the case page with
/// the form's errors (422).
async fn after(
    app: &AppState,
    v: &Visitor,
    id: i64,
    form: &str,
    pairs: &[(String, String)],
    outcome: Result<(), WelfareError>,
    flash: &str,
) -> Result<Response, AppError> {
    let uri: Uri = format!("/welfare/cases/{id}").parse().expect("a path");
    match outcome {
        Ok(()) => Ok(redirect_with_flash(
            &format!("/welfare/cases/{id}#{form}"),
            flash,
            app.config.secure_cookies,
        )),
        Err(WelfareError::Validation(e)) => {
            let c = Chrome::new(v, "welfare", &uri);
            let f = FormState {
                values: pairs_to_map(pairs),
                errors: field_errors(&c, &e),
            };
            unprocessable(&show_page(app, v, &uri, id, form, f).await?)
        }
        Err(e) => Err(e.into()),
    }
}

type Pairs = Form<Vec<(String, String)>>;

async fn transition(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(p): Pairs,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let reason = first_of(&p, "closure_reason");
    let note = first_of(&p, "note");
    let r = cases::transition(
        &app.db,
        ctx(&app, &v, &actor)?,
        id,
        &first_of(&p, "to"),
        Some(&reason),
        Some(&note),
    )
    .await;
    after(&app, &v, id, "stage", &p, r, "flash-case-moved").await
}

async fn note(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(p): Pairs,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let r = cases::add_note(
        &app.db,
        ctx(&app, &v, &actor)?,
        id,
        &first_of(&p, "kind"),
        &first_of(&p, "text"),
    )
    .await;
    after(&app, &v, id, "notes", &p, r, "flash-note-added").await
}

async fn first_response(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(p): Pairs,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let r =
        cases::record_first_response(&app.db, ctx(&app, &v, &actor)?, id, &first_of(&p, "note"))
            .await;
    after(&app, &v, id, "response", &p, r, "flash-response-recorded").await
}

async fn plan_add(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(p): Pairs,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let r = cases::add_plan_item(
        &app.db,
        ctx(&app, &v, &actor)?,
        id,
        &first_of(&p, "goal"),
        &first_of(&p, "service"),
        &first_of(&p, "agency"),
        &first_of(&p, "due_on"),
    )
    .await;
    after(&app, &v, id, "plan", &p, r, "flash-plan-added").await
}

async fn plan_status(
    State(app): State<AppState>,
    v: Visitor,
    Path((id, item)): Path<(i64, i64)>,
    Form(p): Pairs,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let r = cases::set_plan_status(
        &app.db,
        ctx(&app, &v, &actor)?,
        id,
        item,
        &first_of(&p, "status"),
    )
    .await;
    after(&app, &v, id, "plan", &p, r, "flash-plan-updated").await
}

async fn visit_add(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(p): Pairs,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let r = cases::plan_visit(&app.db, ctx(&app, &v, &actor)?, id, &first_of(&p, "due_on")).await;
    after(&app, &v, id, "visits", &p, r, "flash-visit-planned").await
}

async fn visit_record(
    State(app): State<AppState>,
    v: Visitor,
    Path((id, item)): Path<(i64, i64)>,
    Form(p): Pairs,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let r = cases::record_visit(
        &app.db,
        ctx(&app, &v, &actor)?,
        id,
        item,
        &first_of(&p, "status"),
        &first_of(&p, "outcome"),
    )
    .await;
    after(&app, &v, id, "visits", &p, r, "flash-visit-recorded").await
}

async fn referral_send(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(p): Pairs,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let r = referrals::send_from_case(
        &app.db,
        ctx(&app, &v, &actor)?,
        id,
        &first_of(&p, "to_agency"),
        &first_of(&p, "service"),
        &first_of(&p, "note"),
    )
    .await
    .map(|_| ());
    after(&app, &v, id, "referrals", &p, r, "flash-referral-sent").await
}

async fn referral_update(
    State(app): State<AppState>,
    v: Visitor,
    Path((id, item)): Path<(i64, i64)>,
    Form(p): Pairs,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let r = referrals::update_from_case(
        &app.db,
        ctx(&app, &v, &actor)?,
        id,
        item,
        &first_of(&p, "action"),
        &first_of(&p, "reason"),
    )
    .await;
    after(&app, &v, id, "referrals", &p, r, "flash-referral-updated").await
}

async fn document_add(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    bala_welfare::store::access::require(
        &app.db,
        ctx(&app, &v, &actor)?,
        id,
        bala_welfare::gate::CaseAction::Work,
    )
    .await?;
    let no_file = || {
        WelfareError::Validation(ValidationErrors::single(FieldError::new(
            "file",
            "err-document-empty",
            "choose a file to attach",
        )))
    };
    let mut file: Option<(String, String, Vec<u8>)> = None;
    let mut too_large = false;
    if let Ok(mut m) = multipart {
        loop {
            match m.next_field().await {
                Ok(Some(field)) if field.name() == Some("file") => {
                    let name = field.file_name().unwrap_or("").to_string();
                    let ct = field.content_type().unwrap_or("").to_string();
                    match field.bytes().await {
                        Ok(b) => file = Some((name, ct, b.to_vec())),
                        Err(_) => too_large = true,
                    }
                }
                Ok(Some(_)) => continue,
                Ok(None) => break,
                Err(_) => {
                    too_large = true;
                    break;
                }
            }
        }
    }
    let r = match (file, too_large) {
        (_, true) => Err(WelfareError::Validation(ValidationErrors::single(
            FieldError::new(
                "file",
                "err-document-too-large",
                "the file is too large or could not be read",
            ),
        ))),
        (Some((name, ct, bytes)), false) if !bytes.is_empty() => {
            cases::add_document(&app.db, ctx(&app, &v, &actor)?, id, &name, &ct, &bytes)
                .await
                .map(|_| ())
        }
        _ => Err(no_file()),
    };
    after(&app, &v, id, "documents", &[], r, "flash-document-added").await
}

async fn document_get(
    State(app): State<AppState>,
    v: Visitor,
    Path((id, item)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let (name, ct, bytes) = cases::document(&app.db, ctx(&app, &v, &actor)?, id, item).await?;
    let ascii: String = name
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ".-_".contains(ch) {
                ch
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        name.bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            })
            .collect::<String>()
    );
    Ok((
        [
            (header::CONTENT_TYPE, ct),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

async fn consent_add(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(p): Pairs,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let agencies = super::all_of(&p, "agencies");
    let r = cases::add_consent(
        &app.db,
        ctx(&app, &v, &actor)?,
        id,
        &first_of(&p, "given_by"),
        &first_of(&p, "relation"),
        &agencies,
        &first_of(&p, "given_on"),
    )
    .await;
    after(&app, &v, id, "consent", &p, r, "flash-consent-recorded").await
}

async fn consent_withdraw(
    State(app): State<AppState>,
    v: Visitor,
    Path((id, item)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let r = cases::withdraw_consent(&app.db, ctx(&app, &v, &actor)?, id, item).await;
    after(&app, &v, id, "consent", &[], r, "flash-consent-withdrawn").await
}

async fn share_add(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(p): Pairs,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let r = cases::share(
        &app.db,
        ctx(&app, &v, &actor)?,
        id,
        &first_of(&p, "username"),
    )
    .await;
    after(&app, &v, id, "sharing", &p, r, "flash-case-shared").await
}

async fn share_revoke(
    State(app): State<AppState>,
    v: Visitor,
    Path((id, item)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let r = cases::unshare(&app.db, ctx(&app, &v, &actor)?, id, item).await;
    after(&app, &v, id, "sharing", &[], r, "flash-case-unshared").await
}

async fn transfer(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(p): Pairs,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let r = cases::transfer(
        &app.db,
        ctx(&app, &v, &actor)?,
        id,
        &first_of(&p, "username"),
        &first_of(&p, "area_code"),
        &first_of(&p, "note"),
    )
    .await;
    // After a transfer the supervisor may still read the case (same area) or not.
    match r {
        Ok(()) => {
            let still = bala_welfare::store::access::require(
                &app.db,
                ctx(&app, &v, &actor)?,
                id,
                bala_welfare::gate::CaseAction::Read,
            )
            .await
            .is_ok();
            let to = if still {
                format!("/welfare/cases/{id}")
            } else {
                "/welfare/cases".to_string()
            };
            Ok(redirect_with_flash(
                &to,
                "flash-case-transferred",
                app.config.secure_cookies,
            ))
        }
        other => {
            after(
                &app,
                &v,
                id,
                "transfer",
                &p,
                other,
                "flash-case-transferred",
            )
            .await
        }
    }
}

async fn sensitivity(
    State(app): State<AppState>,
    v: Visitor,
    Path(id): Path<i64>,
    Form(p): Pairs,
) -> Result<Response, AppError> {
    let actor = v.actor();
    let r = cases::set_sensitive(
        &app.db,
        ctx(&app, &v, &actor)?,
        id,
        &first_of(&p, "sensitive"),
        &first_of(&p, "note"),
    )
    .await;
    after(&app, &v, id, "sensitivity", &p, r, "flash-case-sensitivity").await
}

// ---- emergency access ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "welfare/break_glass.html")]
struct BreakGlassPage {
    c: Chrome,
    f: FormState,
    hours: i64,
}

async fn break_glass_form(
    v: Visitor,
    uri: Uri,
    Query(q): Query<PersonQuery>,
) -> Result<Response, AppError> {
    let mut f = FormState::default();
    if let Some(p) = q.person {
        f.values.insert("person_id".into(), p);
    }
    render(&BreakGlassPage {
        c: Chrome::new(&v, "welfare", &uri),
        f,
        hours: cases::BREAK_GLASS_HOURS,
    })
}

async fn break_glass(
    State(app): State<AppState>,
    v: Visitor,
    uri: Uri,
    Form(p): Pairs,
) -> Result<Response, AppError> {
    let actor = v.actor();
    match cases::break_glass(
        &app.db,
        ctx(&app, &v, &actor)?,
        &first_of(&p, "person_id"),
        &first_of(&p, "reason"),
    )
    .await
    {
        Ok(ids) => {
            let to = match ids.as_slice() {
                [one] => format!("/welfare/cases/{one}"),
                _ => "/welfare/cases?show=all".to_string(),
            };
            Ok(redirect_with_flash(
                &to,
                "flash-break-glass",
                app.config.secure_cookies,
            ))
        }
        Err(WelfareError::Validation(e)) => {
            let c = Chrome::new(&v, "welfare", &uri);
            let f = FormState {
                values: pairs_to_map(&p),
                errors: field_errors(&c, &e),
            };
            unprocessable(&BreakGlassPage {
                c,
                f,
                hours: cases::BREAK_GLASS_HOURS,
            })
        }
        Err(e) => Err(e.into()),
    }
}

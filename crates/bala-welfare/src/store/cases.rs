//! Cases: registration, the timeline, the plan, visits, documents, consent,
//! sharing, transfer, sensitivity and emergency access — each gated by
//! [`super::access::require`] and audited.

use super::access::{self, push_visible};
use super::notify::{enqueue, responsible_users};
use super::{
    code_list, code_of, now, optional_text, parse_code, required_code, required_date,
    required_text, stamp_of, Ctx, Result, WelfareError,
};
use crate::case::{
    Case, CaseEvent, CaseState, Clock, Closure, ClosureReason, FirstResponse, ResponsePolicy,
    TransitionRequest,
};
use crate::gate::{CaseAction, Relation};
use crate::instrument::RiskLevel;
use crate::vocab;
use bala_access::Role;
use bala_core::{FieldError, ValidationErrors};
use bala_store::audit::{self, NewEntry};
use bala_store::sqlx::{self, any::AnyRow, AnyConnection};
use bala_store::{Db, Row, Sql};
use serde::Serialize;
use serde_json::json;
use time::{Duration, OffsetDateTime};

/// Longest narrative accepted in one field.
pub const MAX_NARRATIVE: usize = 10_000;
/// Largest document accepted.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024 * 1024;
/// Document types accepted (checked against the file's first bytes too).
pub const DOCUMENT_TYPES: &[&str] = &["application/pdf", "image/jpeg", "image/png", "text/plain"];
/// How long emergency access lasts.
pub const BREAK_GLASS_HOURS: i64 = 4;

/// A person as a case shows them (the case gate, not the area scope, grants this).
#[derive(Debug, Clone, Serialize)]
pub struct Child {
    pub id: i64,
    pub name: String,
    pub birth_date: String,
    pub area_code: String,
    pub household_id: Option<i64>,
}

pub(crate) async fn child(db: &Db, id: i64) -> Result<Child> {
    let r = sqlx::query(
        "SELECT id, family_name, given_name, patronymic, birth_date, area_code, household_id FROM people WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.reader())
    .await?
    .ok_or(WelfareError::NotFound)?;
    let patronymic: Option<String> = r.try_get(3)?;
    let name = [r.try_get::<String, _>(1)?, r.try_get::<String, _>(2)?]
        .into_iter()
        .chain(patronymic)
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Child {
        id: r.try_get(0)?,
        name,
        birth_date: r.try_get(4)?,
        area_code: r.try_get(5)?,
        household_id: r.try_get(6)?,
    })
}

/// The stored case (narrative opened).
#[derive(Debug, Clone, Serialize)]
pub struct CaseRecord {
    pub id: i64,
    pub subject: String,
    pub person_id: i64,
    pub household_id: Option<i64>,
    pub area_code: String,
    pub state: CaseState,
    pub risk: RiskLevel,
    pub concerns: Vec<String>,
    pub sensitive: bool,
    pub assigned_to: i64,
    pub assigned_name: String,
    pub source: String,
    pub source_id: Option<i64>,
    pub summary: Option<String>,
    pub registered_at: String,
    pub response_due_at: Option<String>,
    pub first_response_at: Option<String>,
    pub closure_reason: Option<ClosureReason>,
    pub closed_at: Option<String>,
    pub times_reopened: i64,
    pub updated_at: String,
}

const CASE_COLUMNS: &str = "c.id, c.subject, c.person_id, c.household_id, c.area_code, c.state, c.risk, c.concerns, \
     c.sensitive, c.assigned_to, u.display_name, c.source, c.source_id, c.summary_enc, c.registered_at, \
     c.response_escalate_at, c.response_due_at, c.first_response_at, c.closure_reason, c.closed_at, \
     c.times_reopened, c.updated_at";

struct Raw {
    rec: CaseRecord,
    summary_enc: Option<String>,
    escalate_at: Option<String>,
}

fn raw(r: &AnyRow) -> Result<Raw> {
    let state: String = r.try_get(5)?;
    let risk: String = r.try_get(6)?;
    let concerns: String = r.try_get(7)?;
    let closure: Option<String> = r.try_get(18)?;
    let bad = |what: &str, v: &str| {
        WelfareError::Store(bala_store::StoreError::Other(format!(
            "stored {what} '{v}' is unknown"
        )))
    };
    Ok(Raw {
        rec: CaseRecord {
            id: r.try_get(0)?,
            subject: r.try_get(1)?,
            person_id: r.try_get(2)?,
            household_id: r.try_get(3)?,
            area_code: r.try_get(4)?,
            state: parse_code(&state).ok_or_else(|| bad("state", &state))?,
            risk: risk.parse().map_err(|_| bad("risk", &risk))?,
            concerns: concerns
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            sensitive: r.try_get::<i64, _>(8)? != 0,
            assigned_to: r.try_get(9)?,
            assigned_name: r.try_get(10)?,
            source: r.try_get(11)?,
            source_id: r.try_get(12)?,
            summary: None,
            registered_at: r.try_get(14)?,
            response_due_at: r.try_get(16)?,
            first_response_at: r.try_get(17)?,
            closure_reason: closure.as_deref().and_then(parse_code),
            closed_at: r.try_get(19)?,
            times_reopened: r.try_get(20)?,
            updated_at: r.try_get(21)?,
        },
        summary_enc: r.try_get(13)?,
        escalate_at: r.try_get(15)?,
    })
}

impl Raw {
    /// The workflow view of the case, for the state machine and deadlines.
    fn workflow(&self) -> Result<Case> {
        let registered_at = stamp_of(&self.rec.registered_at)?;
        let clock = match (&self.escalate_at, &self.rec.response_due_at) {
            (Some(e), Some(d)) => Some(Clock {
                started_at: registered_at,
                escalate_at: stamp_of(e)?,
                due_at: stamp_of(d)?,
            }),
            _ => None,
        };
        Ok(Case {
            state: self.rec.state,
            risk: self.rec.risk,
            registered_at,
            response_clock: clock,
            first_response_at: self
                .rec
                .first_response_at
                .as_deref()
                .map(stamp_of)
                .transpose()?,
            closure: match (self.rec.closure_reason, &self.rec.closed_at) {
                (Some(reason), Some(at)) => Some(Closure {
                    reason,
                    at: stamp_of(at)?,
                }),
                _ => None,
            },
            times_reopened: u32::try_from(self.rec.times_reopened).unwrap_or(u32::MAX),
        })
    }
}

async fn load_raw(conn: &mut AnyConnection, id: i64) -> Result<Raw> {
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM welfare_cases c JOIN users u ON u.id = c.assigned_to WHERE c.id = $1"
    );
    let r = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(WelfareError::NotFound)?;
    raw(&r)
}

/// What a new case needs.
#[derive(Debug, Clone, Default)]
pub struct NewCase {
    pub person_id: i64,
    /// `child` or `family`.
    pub subject: String,
    pub concerns: Vec<String>,
    pub risk: String,
    pub summary: String,
    /// The worker to assign (default: the creator).
    pub assign_to: Option<String>,
    /// `direct`, `referral`, `alert`.
    pub source: String,
    pub source_id: Option<i64>,
}

/// Who may hold a case: an enabled social worker or supervisor whose scope covers the area.
async fn assignee(db: &Db, username: &str, area_code: &str) -> Result<Option<(i64, String)>> {
    let r = sqlx::query(
        "SELECT u.id, u.display_name FROM users u
         JOIN user_scopes s ON s.user_id = u.id
         JOIN area_closure c ON c.ancestor = s.area_code AND c.descendant = $1
         WHERE u.username = $2 AND u.disabled = 0 AND u.role IN ('social_worker', 'supervisor')",
    )
    .bind(area_code)
    .bind(username.trim().to_lowercase())
    .fetch_optional(db.reader())
    .await?;
    Ok(match r {
        Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
        None => None,
    })
}

/// Checks a new case and resolves the child, assignee and household.
pub(crate) async fn validate_new(
    db: &Db,
    ctx: Ctx<'_>,
    n: &NewCase,
) -> Result<(Child, i64, Option<i64>, Vec<String>, RiskLevel, String)> {
    let person = bala_registry::people::fetch_in_scope(db, &ctx.principal.scope, n.person_id).await;
    let mut e = ValidationErrors::new();
    let child = match person {
        Ok(_) => Some(child(db, n.person_id).await?),
        Err(bala_registry::RegistryError::NotFound) => {
            e.push(
                "person_id",
                "err-person-unknown",
                "no such person in your areas",
            );
            None
        }
        Err(other) => return Err(other.into()),
    };
    let subject = required_code("subject", &n.subject, &["child", "family"], &mut e);
    let concerns = code_list("concerns", &n.concerns, vocab::CONCERNS, false, &mut e);
    let risk = required_code(
        "risk",
        &n.risk,
        &["low", "medium", "high", "immediate_danger"],
        &mut e,
    )
    .and_then(|r| r.parse::<RiskLevel>().ok());
    let summary = required_text("summary", &n.summary, MAX_NARRATIVE, &mut e);
    let mut household = None;
    if let (Some(c), Some("family")) = (&child, subject.as_deref()) {
        match c.household_id {
            Some(h) => household = Some(h),
            None => e.push(
                "subject",
                "err-case-no-household",
                "the child belongs to no household; register the household first or open a child case",
            ),
        }
    }
    let mut assigned = None;
    if let Some(c) = &child {
        let wanted = n
            .assign_to
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(&ctx.principal.username);
        match assignee(db, wanted, &c.area_code).await? {
            Some((id, _)) => assigned = Some(id),
            None => e.push(
                "assign_to",
                "err-case-assignee",
                "choose a social worker or supervisor who works in the child's area",
            ),
        }
    }
    e.into_result()?;
    Ok((
        child.expect("checked"),
        assigned.expect("checked"),
        household,
        concerns,
        risk.expect("checked"),
        summary.expect("checked"),
    ))
}

/// Registers a case inside the caller's transaction; returns its id.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    ctx: Ctx<'_>,
    child: &Child,
    subject: &str,
    household: Option<i64>,
    concerns: &[String],
    risk: RiskLevel,
    summary: &str,
    assigned_to: i64,
    source: &str,
    source_id: Option<i64>,
) -> Result<i64> {
    let (at, t) = now();
    let clock = ResponsePolicy::default().clock(risk, t);
    let sensitive = vocab::sensitive_concerns(concerns);
    let id: i64 = sqlx::query(
        "INSERT INTO welfare_cases (subject, person_id, household_id, area_code, state, risk, concerns, sensitive,
            assigned_to, source, source_id, summary_enc, registered_at, response_escalate_at, response_due_at,
            times_reopened, version, updated_at)
         VALUES ($1, $2, $3, $4, 'registered', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 0, 1, $12) RETURNING id",
    )
    .bind(subject)
    .bind(child.id)
    .bind(household)
    .bind(&child.area_code)
    .bind(risk.code())
    .bind(concerns.join(","))
    .bind(i64::from(sensitive))
    .bind(assigned_to)
    .bind(source)
    .bind(source_id)
    .bind(ctx.keys.seal("case.summary", summary))
    .bind(&at)
    .bind(clock.map(|c| bala_store::time_fmt::format(c.escalate_at)))
    .bind(clock.map(|c| bala_store::time_fmt::format(c.due_at)))
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    event(
        conn,
        ctx,
        id,
        "registered",
        None,
        Some(CaseState::Registered),
        json!({"risk": risk.code(), "source": source, "sensitive": sensitive, "concerns": concerns}),
        None,
    )
    .await?;
    audit::append(
        conn,
        &NewEntry::by(ctx.actor, "welfare.case.create", "welfare_case", id).with_details(
            json!({"person_id": child.id, "risk": risk.code(), "source": source, "sensitive": sensitive}),
        ),
    )
    .await?;
    if assigned_to != ctx.me() {
        enqueue(
            conn,
            assigned_to,
            "case-assigned",
            Some(id),
            &format!("/welfare/cases/{id}"),
        )
        .await?;
    }
    Ok(id)
}

/// Opens a case from the case form.
pub async fn create(db: &Db, ctx: Ctx<'_>, n: &NewCase) -> Result<i64> {
    let (child, assigned, household, concerns, risk, summary) = validate_new(db, ctx, n).await?;
    let mut tx = db.begin().await?;
    let id = insert(
        &mut tx, ctx, &child, &n.subject, household, &concerns, risk, &summary, assigned, "direct",
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Appends a timeline event (the note sealed).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn event(
    conn: &mut AnyConnection,
    ctx: Ctx<'_>,
    case_id: i64,
    kind: &str,
    from: Option<CaseState>,
    to: Option<CaseState>,
    details: serde_json::Value,
    note: Option<&str>,
) -> Result<()> {
    let (at, _) = now();
    sqlx::query(
        "INSERT INTO welfare_case_events (case_id, at, actor_id, actor, kind, from_state, to_state, details, note_enc)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(case_id)
    .bind(&at)
    .bind(ctx.actor.id)
    .bind(&ctx.actor.name)
    .bind(kind)
    .bind(from.map(|s| code_of(&s)))
    .bind(to.map(|s| code_of(&s)))
    .bind(details.to_string())
    .bind(ctx.keys.seal_opt("event.note", note))
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE welfare_cases SET updated_at = $1, version = version + 1 WHERE id = $2")
        .bind(&at)
        .bind(case_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// One timeline entry.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEvent {
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub details: serde_json::Value,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanItem {
    pub id: i64,
    pub goal: String,
    pub service: String,
    pub agency: String,
    pub due_on: String,
    pub status: String,
    pub overdue: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Visit {
    pub id: i64,
    pub due_on: String,
    pub status: String,
    pub outcome: Option<String>,
    pub done_at: Option<String>,
    pub overdue: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Consent {
    pub id: i64,
    pub given_by: String,
    pub relation: String,
    pub agencies: Vec<String>,
    pub given_on: String,
    pub withdrawn_on: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentInfo {
    pub id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Share {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub granted_at: String,
}

/// Everything the case page shows.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDetail {
    pub case: CaseRecord,
    pub child: Child,
    pub relation: Relation,
    pub first_response: FirstResponse,
    pub timeline: Vec<TimelineEvent>,
    pub plan: Vec<PlanItem>,
    pub visits: Vec<Visit>,
    pub consents: Vec<Consent>,
    pub documents: Vec<DocumentInfo>,
    pub shares: Vec<Share>,
    pub referrals: Vec<super::referrals::Referral>,
}

/// Reads a case with everything on it; audited as `welfare.case.read`.
pub async fn get(db: &Db, ctx: Ctx<'_>, id: i64) -> Result<CaseDetail> {
    let rel = access::require(db, ctx, id, CaseAction::Read).await?;
    let mut conn = db.reader().acquire().await?;
    let mut r = load_raw(&mut conn, id).await?;
    r.rec.summary = ctx
        .keys
        .open_opt("case.summary", r.summary_enc.as_deref())?;
    let first_response = r.workflow()?.first_response(OffsetDateTime::now_utc());
    let today = bala_core::date::iso(super::today());

    let timeline = sqlx::query(
        "SELECT at, actor, kind, from_state, to_state, details, note_enc FROM welfare_case_events
         WHERE case_id = $1 ORDER BY at, id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|e| {
        let details: String = e.try_get(5)?;
        let note: Option<String> = e.try_get(6)?;
        Ok(TimelineEvent {
            at: e.try_get(0)?,
            actor: e.try_get(1)?,
            kind: e.try_get(2)?,
            from_state: e.try_get(3)?,
            to_state: e.try_get(4)?,
            details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
            note: ctx.keys.open_opt("event.note", note.as_deref())?,
        })
    })
    .collect::<Result<Vec<_>>>()?;

    let plan = sqlx::query(
        "SELECT id, goal_enc, service, agency, due_on, status FROM welfare_plan_items WHERE case_id = $1 ORDER BY due_on, id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|p| {
        let status: String = p.try_get(5)?;
        let due_on: String = p.try_get(4)?;
        Ok(PlanItem {
            id: p.try_get(0)?,
            goal: ctx.keys.open("plan.goal", &p.try_get::<String, _>(1)?)?,
            service: p.try_get(2)?,
            agency: p.try_get(3)?,
            overdue: matches!(status.as_str(), "planned" | "in_progress") && due_on < today,
            due_on,
            status,
        })
    })
    .collect::<Result<Vec<_>>>()?;

    let visits = sqlx::query(
        "SELECT id, due_on, status, outcome_enc, done_at FROM welfare_visits WHERE case_id = $1 ORDER BY due_on, id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|v| {
        let status: String = v.try_get(2)?;
        let due_on: String = v.try_get(1)?;
        let outcome: Option<String> = v.try_get(3)?;
        Ok(Visit {
            id: v.try_get(0)?,
            overdue: status == "planned" && due_on < today,
            due_on,
            status,
            outcome: ctx.keys.open_opt("visit.outcome", outcome.as_deref())?,
            done_at: v.try_get(4)?,
        })
    })
    .collect::<Result<Vec<_>>>()?;

    let consents = consents_of(&mut conn, ctx, id).await?;

    let documents = sqlx::query(
        "SELECT id, filename_enc, content_type, size, uploaded_by, uploaded_at FROM welfare_documents
         WHERE case_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|d| {
        Ok(DocumentInfo {
            id: d.try_get(0)?,
            filename: ctx.keys.open("document.filename", &d.try_get::<String, _>(1)?)?,
            content_type: d.try_get(2)?,
            size: d.try_get(3)?,
            uploaded_by: d.try_get(4)?,
            uploaded_at: d.try_get(5)?,
        })
    })
    .collect::<Result<Vec<_>>>()?;

    let shares = sqlx::query(
        "SELECT s.id, s.user_id, u.username, u.display_name, s.granted_at FROM welfare_case_shares s
         JOIN users u ON u.id = s.user_id WHERE s.case_id = $1 AND s.revoked_at IS NULL ORDER BY s.id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|s| {
        Ok(Share {
            id: s.try_get(0)?,
            user_id: s.try_get(1)?,
            username: s.try_get(2)?,
            display_name: s.try_get(3)?,
            granted_at: s.try_get(4)?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    drop(conn);

    let referrals = super::referrals::of_case(db, ctx, id).await?;
    let child = child(db, r.rec.person_id).await?;
    audit::record(
        db,
        &[
            NewEntry::by(ctx.actor, "welfare.case.read", "welfare_case", id)
                .with_details(json!({"basis": rel.basis(), "sensitive": r.rec.sensitive})),
        ],
    )
    .await?;
    Ok(CaseDetail {
        case: r.rec,
        child,
        relation: rel,
        first_response,
        timeline,
        plan,
        visits,
        consents,
        documents,
        shares,
        referrals,
    })
}

pub(crate) async fn consents_of(
    conn: &mut AnyConnection,
    ctx: Ctx<'_>,
    id: i64,
) -> Result<Vec<Consent>> {
    sqlx::query(
        "SELECT id, given_by_enc, relation, agencies, given_on, withdrawn_on FROM welfare_consents
         WHERE case_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|c| {
        let agencies: String = c.try_get(3)?;
        Ok(Consent {
            id: c.try_get(0)?,
            given_by: ctx
                .keys
                .open("consent.given_by", &c.try_get::<String, _>(1)?)?,
            relation: c.try_get(2)?,
            agencies: agencies
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            given_on: c.try_get(4)?,
            withdrawn_on: c.try_get(5)?,
        })
    })
    .collect()
}

/// A case in a list (no narrative).
#[derive(Debug, Clone, Serialize)]
pub struct CaseSummary {
    pub id: i64,
    pub person_id: i64,
    pub child_name: String,
    pub birth_date: String,
    pub area_code: String,
    pub state: String,
    pub risk: String,
    pub sensitive: bool,
    pub assigned_name: String,
    pub registered_at: String,
    pub response_due_at: Option<String>,
    pub first_response_at: Option<String>,
    /// Planned visits and plan items past their due date.
    pub overdue_tasks: i64,
    /// The next planned visit.
    pub next_visit: Option<String>,
}

/// Which cases to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Assigned to me.
    Mine,
    /// Every case I may read (assigned, supervised, shared, emergency).
    Visible,
}

/// Lists cases (open ones unless `include_closed`); audited with the ids shown.
pub async fn list(
    db: &Db,
    ctx: Ctx<'_>,
    which: Listing,
    include_closed: bool,
) -> Result<Vec<CaseSummary>> {
    let (at, _) = now();
    let today = bala_core::date::iso(super::today());
    let mut sql = Sql::new(
        "SELECT c.id, c.person_id, p.family_name, p.given_name, p.birth_date, c.area_code, c.state, c.risk, c.sensitive,
                u.display_name, c.registered_at, c.response_due_at, c.first_response_at,
                (SELECT COUNT(*) FROM welfare_visits v WHERE v.case_id = c.id AND v.status = 'planned' AND v.due_on < ",
    );
    sql.push_arg(today.clone()).push(
        ") + (SELECT COUNT(*) FROM welfare_plan_items i WHERE i.case_id = c.id AND i.status IN ('planned', 'in_progress') AND i.due_on < ",
    );
    sql.push_arg(today).push(
        ") AS overdue,
                (SELECT MIN(v.due_on) FROM welfare_visits v WHERE v.case_id = c.id AND v.status = 'planned') AS next_visit
         FROM welfare_cases c JOIN people p ON p.id = c.person_id JOIN users u ON u.id = c.assigned_to WHERE ",
    );
    match which {
        Listing::Mine => {
            sql.push("c.assigned_to = ").push_arg(ctx.me());
        }
        Listing::Visible => push_visible(&mut sql, ctx.principal, &at),
    }
    if !include_closed {
        sql.push(" AND c.state <> 'closed'");
    }
    sql.push(" ORDER BY c.registered_at DESC, c.id DESC LIMIT 500");
    let rows = sql.query().fetch_all(db.reader()).await?;
    let out = rows
        .iter()
        .map(|r| {
            Ok(CaseSummary {
                id: r.try_get(0)?,
                person_id: r.try_get(1)?,
                child_name: format!(
                    "{} {}",
                    r.try_get::<String, _>(2)?,
                    r.try_get::<String, _>(3)?
                ),
                birth_date: r.try_get(4)?,
                area_code: r.try_get(5)?,
                state: r.try_get(6)?,
                risk: r.try_get(7)?,
                sensitive: r.try_get::<i64, _>(8)? != 0,
                assigned_name: r.try_get(9)?,
                registered_at: r.try_get(10)?,
                response_due_at: r.try_get(11)?,
                first_response_at: r.try_get(12)?,
                overdue_tasks: r.try_get(13)?,
                next_visit: r.try_get(14)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let ids: Vec<i64> = out.iter().map(|c| c.id).collect();
    audit::record(
        db,
        &[
            NewEntry::new("welfare.case.list", "welfare_case", None::<String>)
                .with_details(json!({"ids": ids}))
                .by_actor(ctx.actor),
        ],
    )
    .await?;
    Ok(out)
}

trait ByActor {
    fn by_actor(self, a: &bala_store::audit::Actor) -> Self;
}
impl ByActor for NewEntry {
    fn by_actor(mut self, a: &bala_store::audit::Actor) -> Self {
        self.actor_id = a.id;
        self.actor = a.name.clone();
        self.ip = a.ip.clone();
        self
    }
}

async fn write_start(
    db: &Db,
    ctx: Ctx<'_>,
    id: i64,
    action: CaseAction,
) -> Result<(Relation, bala_store::Tx, Raw)> {
    let rel = access::require(db, ctx, id, action).await?;
    let mut tx = db.begin().await?;
    let r = load_raw(&mut tx, id).await?;
    Ok((rel, tx, r))
}

fn one(field: &str, code: &'static str, detail: impl Into<String>) -> WelfareError {
    ValidationErrors::single(FieldError::new(field, code, detail)).into()
}

/// Moves the case to another stage (closing needs a reason, reopening a note).
pub async fn transition(
    db: &Db,
    ctx: Ctx<'_>,
    id: i64,
    to: &str,
    closure_reason: Option<&str>,
    note: Option<&str>,
) -> Result<()> {
    access::require(db, ctx, id, CaseAction::Work).await?;
    let mut e = ValidationErrors::new();
    let to_state = match to.trim() {
        "" => {
            e.push("to", "err-required", "choose the next stage");
            None
        }
        t => match parse_code::<CaseState>(t) {
            Some(s) => Some(s),
            None => {
                e.push("to", "err-choice", format!("'{t}' is not a case stage"));
                None
            }
        },
    };
    let reason = match closure_reason.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(r) => match parse_code::<ClosureReason>(r) {
            Some(x) => Some(x),
            None => {
                e.push(
                    "closure_reason",
                    "err-choice",
                    format!("'{r}' is not a closure reason"),
                );
                None
            }
        },
    };
    let note = optional_text("note", note, MAX_NARRATIVE, &mut e);
    e.into_result()?;
    let to_state = to_state.expect("checked");
    let (rel, mut tx, r) = write_start(db, ctx, id, CaseAction::Work).await?;
    let case = r.workflow()?;
    let req = TransitionRequest {
        to: to_state,
        closure_reason: reason,
        note: note.clone(),
    };
    let (next, ev): (Case, CaseEvent) = case
        .transition(&req, rel.workflow_role(), OffsetDateTime::now_utc())
        .map_err(|err| {
            let field = match err {
                crate::case::TransitionError::ClosureReasonRequired
                | crate::case::TransitionError::ClosureReasonNotAllowed { .. }
                | crate::case::TransitionError::UnexpectedClosureReason => "closure_reason",
                crate::case::TransitionError::ReopenNoteRequired => "note",
                _ => "to",
            };
            one(field, err.code(), err.to_string())
        })?;
    let updated = sqlx::query(
        "UPDATE welfare_cases SET state = $1, first_response_at = $2, closure_reason = $3, closed_at = $4,
                times_reopened = $5 WHERE id = $6 AND state = $7",
    )
    .bind(code_of(&next.state))
    .bind(next.first_response_at.map(bala_store::time_fmt::format))
    .bind(next.closure.as_ref().map(|c| code_of(&c.reason)))
    .bind(next.closure.as_ref().map(|c| bala_store::time_fmt::format(c.at)))
    .bind(i64::from(next.times_reopened))
    .bind(id)
    .bind(code_of(&case.state))
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(one(
            "to",
            "err-conflict",
            "the case changed meanwhile; reload it",
        ));
    }
    event(
        &mut tx,
        ctx,
        id,
        if ev.to == CaseState::Closed {
            "closed"
        } else if ev.from == CaseState::Closed {
            "reopened"
        } else {
            "transition"
        },
        Some(ev.from),
        Some(ev.to),
        json!({"role": code_of(&ev.role), "closure_reason": ev.closure_reason.map(|c| code_of(&c))}),
        note.as_deref(),
    )
    .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "welfare.case.transition", "welfare_case", id).with_details(
            json!({
                "from": code_of(&ev.from), "to": code_of(&ev.to),
                "closure_reason": ev.closure_reason.map(|c| code_of(&c)), "basis": rel.basis()
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Adds a note to the timeline: `note`, `assessment` or `review`.
pub async fn add_note(db: &Db, ctx: Ctx<'_>, id: i64, kind: &str, text: &str) -> Result<()> {
    access::require(db, ctx, id, CaseAction::Work).await?;
    let mut e = ValidationErrors::new();
    let kind = required_code("kind", kind, &["note", "assessment", "review"], &mut e);
    let text = required_text("text", text, MAX_NARRATIVE, &mut e);
    e.into_result()?;
    let kind = kind.expect("checked");
    let (rel, mut tx, _) = write_start(db, ctx, id, CaseAction::Work).await?;
    event(
        &mut tx,
        ctx,
        id,
        &kind,
        None,
        None,
        json!({"basis": rel.basis()}),
        text.as_deref(),
    )
    .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "welfare.case.note", "welfare_case", id)
            .with_details(json!({"kind": kind, "basis": rel.basis()})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Records the first contact with the child (stops the response clock).
pub async fn record_first_response(db: &Db, ctx: Ctx<'_>, id: i64, note: &str) -> Result<()> {
    access::require(db, ctx, id, CaseAction::Work).await?;
    let mut e = ValidationErrors::new();
    let note = required_text("note", note, MAX_NARRATIVE, &mut e);
    e.into_result()?;
    let (rel, mut tx, r) = write_start(db, ctx, id, CaseAction::Work).await?;
    if r.rec.first_response_at.is_some() {
        return Err(one(
            "note",
            "err-case-responded",
            "the first response is already recorded",
        ));
    }
    if r.rec.state == CaseState::Closed {
        return Err(one(
            "note",
            "err-case-closed",
            "the case is closed; reopen it first",
        ));
    }
    let next = r
        .workflow()?
        .record_first_response(OffsetDateTime::now_utc())
        .map_err(|err| one("note", err.code(), err.to_string()))?;
    sqlx::query("UPDATE welfare_cases SET first_response_at = $1 WHERE id = $2")
        .bind(next.first_response_at.map(bala_store::time_fmt::format))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let on_time = next.first_response(OffsetDateTime::now_utc());
    event(
        &mut tx,
        ctx,
        id,
        "first_response",
        None,
        None,
        json!({"status": on_time.status, "basis": rel.basis()}),
        note.as_deref(),
    )
    .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "welfare.case.first_response", "welfare_case", id)
            .with_details(json!({"basis": rel.basis()})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn require_open(r: &Raw, field: &str) -> Result<()> {
    if r.rec.state == CaseState::Closed {
        Err(one(
            field,
            "err-case-closed",
            "the case is closed; reopen it first",
        ))
    } else {
        Ok(())
    }
}

/// Adds a goal to the case plan.
pub async fn add_plan_item(
    db: &Db,
    ctx: Ctx<'_>,
    id: i64,
    goal: &str,
    service: &str,
    agency: &str,
    due_on: &str,
) -> Result<()> {
    access::require(db, ctx, id, CaseAction::Work).await?;
    let mut e = ValidationErrors::new();
    let goal = required_text("goal", goal, 2000, &mut e);
    let service = required_code("service", service, vocab::SERVICES, &mut e);
    let agency = required_code("agency", agency, vocab::AGENCIES, &mut e);
    let due = required_date("due_on", due_on, &mut e);
    e.into_result()?;
    let (rel, mut tx, r) = write_start(db, ctx, id, CaseAction::Work).await?;
    require_open(&r, "goal")?;
    let (at, _) = now();
    let item: i64 = sqlx::query(
        "INSERT INTO welfare_plan_items (case_id, goal_enc, service, agency, due_on, status, created_at)
         VALUES ($1, $2, $3, $4, $5, 'planned', $6) RETURNING id",
    )
    .bind(id)
    .bind(ctx.keys.seal("plan.goal", goal.as_deref().expect("checked")))
    .bind(&service)
    .bind(&agency)
    .bind(bala_core::date::iso(due.expect("checked")))
    .bind(&at)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    event(
        &mut tx,
        ctx,
        id,
        "plan_item",
        None,
        None,
        json!({"item": item, "service": service, "agency": agency, "basis": rel.basis()}),
        None,
    )
    .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "welfare.case.plan_item", "welfare_case", id)
            .with_details(json!({"item": item})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a plan item's status: `in_progress`, `done` or `cancelled`.
pub async fn set_plan_status(
    db: &Db,
    ctx: Ctx<'_>,
    id: i64,
    item: i64,
    status: &str,
) -> Result<()> {
    access::require(db, ctx, id, CaseAction::Work).await?;
    let mut e = ValidationErrors::new();
    let status = required_code(
        "status",
        status,
        &["in_progress", "done", "cancelled"],
        &mut e,
    );
    let (rel, mut tx, _) = write_start(db, ctx, id, CaseAction::Work).await?;
    let exists =
        sqlx::query("SELECT status FROM welfare_plan_items WHERE id = $1 AND case_id = $2")
            .bind(item)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(WelfareError::NotFound)?;
    e.into_result()?;
    let old: String = exists.try_get(0)?;
    let status = status.expect("checked");
    if matches!(old.as_str(), "done" | "cancelled") {
        return Err(one(
            "status",
            "err-plan-finished",
            "this goal is already finished",
        ));
    }
    let (at, _) = now();
    sqlx::query("UPDATE welfare_plan_items SET status = $1, done_at = $2 WHERE id = $3")
        .bind(&status)
        .bind((status != "in_progress").then_some(at))
        .bind(item)
        .execute(&mut *tx)
        .await?;
    event(
        &mut tx,
        ctx,
        id,
        "plan_status",
        None,
        None,
        json!({"item": item, "status": status, "basis": rel.basis()}),
        None,
    )
    .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "welfare.case.plan_status", "welfare_case", id)
            .with_details(json!({"item": item, "status": status})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Plans a follow-up visit.
pub async fn plan_visit(db: &Db, ctx: Ctx<'_>, id: i64, due_on: &str) -> Result<()> {
    access::require(db, ctx, id, CaseAction::Work).await?;
    let mut e = ValidationErrors::new();
    let due = required_date("due_on", due_on, &mut e);
    e.into_result()?;
    let (rel, mut tx, r) = write_start(db, ctx, id, CaseAction::Work).await?;
    require_open(&r, "due_on")?;
    let visit: i64 = sqlx::query(
        "INSERT INTO welfare_visits (case_id, due_on, status) VALUES ($1, $2, 'planned') RETURNING id",
    )
    .bind(id)
    .bind(bala_core::date::iso(due.expect("checked")))
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    event(
        &mut tx,
        ctx,
        id,
        "visit_planned",
        None,
        None,
        json!({"visit": visit, "basis": rel.basis()}),
        None,
    )
    .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "welfare.case.visit_planned", "welfare_case", id)
            .with_details(json!({"visit": visit})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Records a planned visit as `done` (with its outcome) or `missed`.
pub async fn record_visit(
    db: &Db,
    ctx: Ctx<'_>,
    id: i64,
    visit: i64,
    status: &str,
    outcome: &str,
) -> Result<()> {
    access::require(db, ctx, id, CaseAction::Work).await?;
    let mut e = ValidationErrors::new();
    let status = required_code("status", status, &["done", "missed"], &mut e);
    let outcome = if status.as_deref() == Some("done") {
        required_text("outcome", outcome, MAX_NARRATIVE, &mut e)
    } else {
        optional_text("outcome", Some(outcome), MAX_NARRATIVE, &mut e)
    };
    let (rel, mut tx, _) = write_start(db, ctx, id, CaseAction::Work).await?;
    let row = sqlx::query("SELECT status FROM welfare_visits WHERE id = $1 AND case_id = $2")
        .bind(visit)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(WelfareError::NotFound)?;
    e.into_result()?;
    if row.try_get::<String, _>(0)? != "planned" {
        return Err(one(
            "status",
            "err-visit-recorded",
            "this visit is already recorded",
        ));
    }
    let status = status.expect("checked");
    let (at, _) = now();
    sqlx::query("UPDATE welfare_visits SET status = $1, outcome_enc = $2, done_at = $3, done_by = $4 WHERE id = $5")
        .bind(&status)
        .bind(ctx.keys.seal_opt("visit.outcome", outcome.as_deref()))
        .bind(&at)
        .bind(&ctx.actor.name)
        .bind(visit)
        .execute(&mut *tx)
        .await?;
    event(
        &mut tx,
        ctx,
        id,
        if status == "done" {
            "visit_done"
        } else {
            "visit_missed"
        },
        None,
        None,
        json!({"visit": visit, "basis": rel.basis()}),
        None,
    )
    .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "welfare.case.visit_recorded", "welfare_case", id)
            .with_details(json!({"visit": visit, "status": status})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Checks that the bytes look like the declared type (magic numbers; UTF-8 for text).
pub fn sniff_matches(content_type: &str, bytes: &[u8]) -> bool {
    match content_type {
        "application/pdf" => bytes.starts_with(b"%PDF-"),
        "image/jpeg" => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        "image/png" => bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]),
        "text/plain" => std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0),
        _ => false,
    }
}

/// Attaches a document (sealed in the database).
pub async fn add_document(
    db: &Db,
    ctx: Ctx<'_>,
    id: i64,
    filename: &str,
    content_type: &str,
    bytes: &[u8],
) -> Result<i64> {
    access::require(db, ctx, id, CaseAction::Work).await?;
    let mut e = ValidationErrors::new();
    let name = filename
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let name = required_text("file", &name, 200, &mut e);
    let ct = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if bytes.is_empty() {
        e.push("file", "err-document-empty", "choose a file to attach");
    } else if bytes.len() > MAX_DOCUMENT_BYTES {
        e.push(
            "file",
            "err-document-too-large",
            format!("at most {} MB", MAX_DOCUMENT_BYTES / 1024 / 1024),
        );
    } else if !DOCUMENT_TYPES.contains(&ct.as_str()) {
        e.push(
            "file",
            "err-document-type",
            format!("'{ct}' is not accepted; attach PDF, JPEG, PNG or plain text"),
        );
    } else if !sniff_matches(&ct, bytes) {
        e.push(
            "file",
            "err-document-content",
            format!("the file's content is not {ct}"),
        );
    }
    e.into_result()?;
    let (rel, mut tx, r) = write_start(db, ctx, id, CaseAction::Work).await?;
    require_open(&r, "file")?;
    let (key_id, sealed) = ctx.keys.seal_bytes(&format!("document.data:{id}"), bytes);
    let (at, _) = now();
    let doc: i64 = sqlx::query(
        "INSERT INTO welfare_documents (case_id, filename_enc, content_type, size, key_id, data, uploaded_by, uploaded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(id)
    .bind(ctx.keys.seal("document.filename", name.as_deref().expect("checked")))
    .bind(&ct)
    .bind(bytes.len() as i64)
    .bind(key_id)
    .bind(sealed)
    .bind(&ctx.actor.name)
    .bind(&at)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    event(
        &mut tx,
        ctx,
        id,
        "document",
        None,
        None,
        json!({"document": doc, "content_type": ct, "size": bytes.len(), "basis": rel.basis()}),
        None,
    )
    .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "welfare.case.document_add", "welfare_case", id)
            .with_details(json!({"document": doc, "size": bytes.len()})),
    )
    .await?;
    tx.commit().await?;
    Ok(doc)
}

/// Reads a document (audited): (filename, content type, bytes).
pub async fn document(
    db: &Db,
    ctx: Ctx<'_>,
    id: i64,
    doc: i64,
) -> Result<(String, String, Vec<u8>)> {
    let rel = access::require(db, ctx, id, CaseAction::Read).await?;
    let r = sqlx::query(
        "SELECT filename_enc, content_type, key_id, data FROM welfare_documents WHERE id = $1 AND case_id = $2",
    )
    .bind(doc)
    .bind(id)
    .fetch_optional(db.reader())
    .await?
    .ok_or(WelfareError::NotFound)?;
    let name = ctx
        .keys
        .open("document.filename", &r.try_get::<String, _>(0)?)?;
    let key_id: String = r.try_get(2)?;
    let data: Vec<u8> = r.try_get(3)?;
    let bytes = ctx
        .keys
        .open_bytes(&format!("document.data:{id}"), &key_id, &data)?;
    audit::record(
        db,
        &[
            NewEntry::by(ctx.actor, "welfare.case.document_read", "welfare_case", id)
                .with_details(json!({"document": doc, "basis": rel.basis()})),
        ],
    )
    .await?;
    Ok((name, r.try_get(1)?, bytes))
}

/// Records consent to share information with the listed agencies.
pub async fn add_consent(
    db: &Db,
    ctx: Ctx<'_>,
    id: i64,
    given_by: &str,
    relation: &str,
    agencies: &[String],
    given_on: &str,
) -> Result<()> {
    access::require(db, ctx, id, CaseAction::Work).await?;
    let mut e = ValidationErrors::new();
    let given_by = required_text("given_by", given_by, 200, &mut e);
    let relation = required_code("relation", relation, vocab::CONSENT_RELATIONS, &mut e);
    let agencies = code_list("agencies", agencies, vocab::AGENCIES, false, &mut e);
    let on = required_date("given_on", given_on, &mut e);
    if let Some(d) = on {
        if d > super::today() {
            e.push(
                "given_on",
                "err-date-future",
                "the date cannot be in the future",
            );
        }
    }
    e.into_result()?;
    let (rel, mut tx, r) = write_start(db, ctx, id, CaseAction::Work).await?;
    require_open(&r, "given_by")?;
    let (at, _) = now();
    let consent: i64 = sqlx::query(
        "INSERT INTO welfare_consents (case_id, given_by_enc, relation, agencies, given_on, recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(id)
    .bind(ctx.keys.seal("consent.given_by", given_by.as_deref().expect("checked")))
    .bind(&relation)
    .bind(agencies.join(","))
    .bind(bala_core::date::iso(on.expect("checked")))
    .bind(&ctx.actor.name)
    .bind(&at)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    event(
        &mut tx,
        ctx,
        id,
        "consent",
        None,
        None,
        json!({"consent": consent, "relation": relation, "agencies": agencies, "basis": rel.basis()}),
        None,
    )
    .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "welfare.case.consent", "welfare_case", id)
            .with_details(json!({"consent": consent, "agencies": agencies})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Records the withdrawal of a consent (from today).
pub async fn withdraw_consent(db: &Db, ctx: Ctx<'_>, id: i64, consent: i64) -> Result<()> {
    let (rel, mut tx, _) = write_start(db, ctx, id, CaseAction::Work).await?;
    let row =
        sqlx::query("SELECT withdrawn_on FROM welfare_consents WHERE id = $1 AND case_id = $2")
            .bind(consent)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(WelfareError::NotFound)?;
    if row.try_get::<Option<String>, _>(0)?.is_some() {
        return Err(one(
            "consent",
            "err-consent-withdrawn",
            "this consent is already withdrawn",
        ));
    }
    sqlx::query("UPDATE welfare_consents SET withdrawn_on = $1 WHERE id = $2")
        .bind(bala_core::date::iso(super::today()))
        .bind(consent)
        .execute(&mut *tx)
        .await?;
    event(
        &mut tx,
        ctx,
        id,
        "consent_withdrawn",
        None,
        None,
        json!({"consent": consent, "basis": rel.basis()}),
        None,
    )
    .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(
            ctx.actor,
            "welfare.case.consent_withdrawn",
            "welfare_case",
            id,
        )
        .with_details(json!({"consent": consent})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Shares the case with another social worker or supervisor (not for sensitive cases).
pub async fn share(db: &Db, ctx: Ctx<'_>, id: i64, username: &str) -> Result<()> {
    access::require(db, ctx, id, CaseAction::Share).await?;
    let mut e = ValidationErrors::new();
    let username = required_text("username", username, 64, &mut e);
    e.into_result()?;
    let (rel, mut tx, r) = write_start(db, ctx, id, CaseAction::Share).await?;
    if r.rec.sensitive {
        return Err(one(
            "username",
            "err-case-sensitive-share",
            "a sensitive case cannot be shared; ask the supervisor",
        ));
    }
    let user = sqlx::query(
        "SELECT id FROM users WHERE username = $1 AND disabled = 0 AND role IN ('social_worker', 'supervisor')",
    )
    .bind(username.as_deref().expect("checked").to_lowercase())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(user) = user else {
        return Err(one(
            "username",
            "err-case-share-user",
            "no social worker or supervisor has this username",
        ));
    };
    let user_id: i64 = user.try_get(0)?;
    if user_id == r.rec.assigned_to {
        return Err(one(
            "username",
            "err-case-share-self",
            "the case is already assigned to this user",
        ));
    }
    let existing = sqlx::query(
        "SELECT id FROM welfare_case_shares WHERE case_id = $1 AND user_id = $2 AND revoked_at IS NULL",
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    if existing.is_some() {
        return Err(one(
            "username",
            "err-case-share-exists",
            "the case is already shared with this user",
        ));
    }
    let (at, _) = now();
    sqlx::query("INSERT INTO welfare_case_shares (case_id, user_id, granted_by, granted_at) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(user_id)
        .bind(ctx.me())
        .bind(&at)
        .execute(&mut *tx)
        .await?;
    event(
        &mut tx,
        ctx,
        id,
        "shared",
        None,
        None,
        json!({"user_id": user_id, "basis": rel.basis()}),
        None,
    )
    .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "welfare.case.share", "welfare_case", id)
            .with_details(json!({"user_id": user_id})),
    )
    .await?;
    enqueue(
        &mut tx,
        user_id,
        "case-shared",
        Some(id),
        &format!("/welfare/cases/{id}"),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends a share.
pub async fn unshare(db: &Db, ctx: Ctx<'_>, id: i64, share_id: i64) -> Result<()> {
    let (rel, mut tx, _) = write_start(db, ctx, id, CaseAction::Share).await?;
    let (at, _) = now();
    let done = sqlx::query(
        "UPDATE welfare_case_shares SET revoked_at = $1 WHERE id = $2 AND case_id = $3 AND revoked_at IS NULL RETURNING user_id",
    )
    .bind(&at)
    .bind(share_id)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(WelfareError::NotFound)?;
    let user_id: i64 = done.try_get(0)?;
    event(
        &mut tx,
        ctx,
        id,
        "unshared",
        None,
        None,
        json!({"user_id": user_id, "basis": rel.basis()}),
        None,
    )
    .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "welfare.case.unshare", "welfare_case", id)
            .with_details(json!({"user_id": user_id})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Hands the case to another worker, and to the district they work in when the
/// case's area is outside it (a family that moved).
pub async fn transfer(
    db: &Db,
    ctx: Ctx<'_>,
    id: i64,
    username: &str,
    area_code: &str,
    note: &str,
) -> Result<()> {
    access::require(db, ctx, id, CaseAction::Transfer).await?;
    let mut e = ValidationErrors::new();
    let username = required_text("username", username, 64, &mut e);
    let note = required_text("note", note, MAX_NARRATIVE, &mut e);
    let area = area_code.trim();
    if !area.is_empty() && bala_core::AreaCode::parse(area).is_err() {
        e.push("area_code", "err-area-unknown", "choose an existing area");
    }
    e.into_result()?;
    let (rel, mut tx, r) = write_start(db, ctx, id, CaseAction::Transfer).await?;
    let area = if area.is_empty() {
        r.rec.area_code.clone()
    } else {
        area.to_string()
    };
    if bala_registry::areas::get(db, &area).await?.is_none() {
        return Err(one(
            "area_code",
            "err-area-unknown",
            "choose an existing area",
        ));
    }
    let Some((user_id, _)) = assignee(db, username.as_deref().expect("checked"), &area).await?
    else {
        return Err(one(
            "username",
            "err-case-assignee",
            "choose a social worker or supervisor who works in the case's area",
        ));
    };
    if user_id == r.rec.assigned_to && area == r.rec.area_code {
        return Err(one(
            "username",
            "err-case-transfer-same",
            "the case is already with this worker in this area",
        ));
    }
    sqlx::query("UPDATE welfare_cases SET assigned_to = $1, area_code = $2 WHERE id = $3")
        .bind(user_id)
        .bind(&area)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    event(
        &mut tx,
        ctx,
        id,
        "transfer",
        None,
        None,
        json!({"from_user": r.rec.assigned_to, "to_user": user_id, "from_area": r.rec.area_code, "to_area": area, "basis": rel.basis()}),
        note.as_deref(),
    )
    .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "welfare.case.transfer", "welfare_case", id)
            .with_details(json!({"to_user": user_id, "to_area": area})),
    )
    .await?;
    enqueue(
        &mut tx,
        user_id,
        "case-assigned",
        Some(id),
        &format!("/welfare/cases/{id}"),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Marks the case sensitive (shares stop opening it) or, supervisors only, not sensitive.
pub async fn set_sensitive(
    db: &Db,
    ctx: Ctx<'_>,
    id: i64,
    sensitive: &str,
    note: &str,
) -> Result<()> {
    access::require(db, ctx, id, CaseAction::SetSensitivity).await?;
    let mut e = ValidationErrors::new();
    let value = required_code("sensitive", sensitive, &["yes", "no"], &mut e);
    let note = required_text("note", note, MAX_NARRATIVE, &mut e);
    e.into_result()?;
    let on = value.as_deref() == Some("yes");
    let (rel, mut tx, r) = write_start(db, ctx, id, CaseAction::SetSensitivity).await?;
    if r.rec.sensitive == on {
        return Err(one(
            "sensitive",
            "err-case-sensitivity-same",
            "the case already has this setting",
        ));
    }
    if !on && !rel.supervisor {
        return Err(WelfareError::Forbidden);
    }
    sqlx::query("UPDATE welfare_cases SET sensitive = $1 WHERE id = $2")
        .bind(i64::from(on))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    event(
        &mut tx,
        ctx,
        id,
        "sensitivity",
        None,
        None,
        json!({"sensitive": on, "basis": rel.basis()}),
        note.as_deref(),
    )
    .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "welfare.case.sensitivity", "welfare_case", id)
            .with_details(json!({"sensitive": on})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Emergency access: opens the open cases of a child in the caller's areas for
/// [`BREAK_GLASS_HOURS`], records the reason, and alerts the area's supervisors.
/// Returns the case ids opened.
pub async fn break_glass(db: &Db, ctx: Ctx<'_>, person_id: &str, reason: &str) -> Result<Vec<i64>> {
    let mut e = ValidationErrors::new();
    let person = person_id.trim().parse::<i64>().ok();
    if person.is_none() {
        e.push(
            "person_id",
            "err-person-unknown",
            "give the child's record number",
        );
    }
    let reason = required_text("reason", reason, 2000, &mut e);
    if let Some(r) = &reason {
        if r.chars().count() < 20 {
            e.push(
                "reason",
                "err-break-glass-reason",
                "explain the emergency in at least 20 characters",
            );
        }
    }
    e.into_result()?;
    let person = person.expect("checked");
    if !matches!(ctx.principal.role, Role::SocialWorker | Role::Supervisor) {
        return Err(WelfareError::Forbidden);
    }
    let child = match bala_registry::people::fetch_in_scope(db, &ctx.principal.scope, person).await
    {
        Ok(p) => p,
        Err(bala_registry::RegistryError::NotFound) => {
            return Err(one(
                "person_id",
                "err-person-unknown",
                "no such person in your areas",
            ))
        }
        Err(other) => return Err(other.into()),
    };
    let mut sql = Sql::new("SELECT c.id, c.area_code FROM welfare_cases c WHERE c.person_id = ");
    sql.push_arg(child.id).push(" AND c.state <> 'closed' AND ");
    bala_registry::scope::push_area_within(&mut sql, "c.area_code", &ctx.principal.scope);
    let cases: Vec<(i64, String)> = sql
        .query()
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_>>()?;
    if cases.is_empty() {
        return Err(one(
            "person_id",
            "err-break-glass-none",
            "this child has no open case in your areas",
        ));
    }
    let (at, t) = now();
    let until = bala_store::time_fmt::format(t + Duration::hours(BREAK_GLASS_HOURS));
    let mut tx = db.begin().await?;
    for (case_id, area) in &cases {
        sqlx::query(
            "INSERT INTO welfare_break_glass (case_id, user_id, reason_enc, granted_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(case_id)
        .bind(ctx.me())
        .bind(ctx.keys.seal("break_glass.reason", reason.as_deref().expect("checked")))
        .bind(&at)
        .bind(&until)
        .execute(&mut *tx)
        .await?;
        event(
            &mut tx,
            ctx,
            *case_id,
            "break_glass",
            None,
            None,
            json!({"user_id": ctx.me(), "until": until}),
            reason.as_deref(),
        )
        .await?;
        audit::append(
            &mut tx,
            &NewEntry::by(
                ctx.actor,
                "welfare.case.break_glass",
                "welfare_case",
                case_id,
            )
            .with_details(json!({"until": until})),
        )
        .await?;
        for sup in responsible_users(db, "supervisor", area).await? {
            if sup != ctx.me() {
                enqueue(
                    &mut tx,
                    sup,
                    "break-glass",
                    Some(*case_id),
                    &format!("/welfare/cases/{case_id}"),
                )
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(cases.into_iter().map(|c| c.0).collect())
}

/// Sends due-soon and overdue first-response notifications, once each; returns
/// how many were sent. Run periodically (see `bala serve`).
pub async fn escalate(db: &Db) -> Result<usize> {
    let (at, _) = now();
    let rows = sqlx::query(
        "SELECT c.id, c.area_code, c.assigned_to, c.response_due_at,
                (SELECT COUNT(*) FROM welfare_case_events e WHERE e.case_id = c.id AND e.kind = 'escalation' AND e.to_state IS NULL AND e.details = '{\"to\":\"supervisor\"}') AS sup_done,
                (SELECT COUNT(*) FROM welfare_case_events e WHERE e.case_id = c.id AND e.kind = 'escalation' AND e.details = '{\"to\":\"head\"}') AS head_done
         FROM welfare_cases c
         WHERE c.first_response_at IS NULL AND c.state <> 'closed' AND c.response_escalate_at IS NOT NULL
           AND c.response_escalate_at <= $1",
    )
    .bind(&at)
    .fetch_all(db.reader())
    .await?;
    let system = bala_store::audit::Actor::system("escalation");
    let mut sent = 0;
    for r in &rows {
        let id: i64 = r.try_get(0)?;
        let area: String = r.try_get(1)?;
        let assigned: i64 = r.try_get(2)?;
        let due: Option<String> = r.try_get(3)?;
        let overdue = due.as_deref().is_some_and(|d| d < at.as_str());
        let (sup_done, head_done): (i64, i64) = (r.try_get(4)?, r.try_get(5)?);
        let stage = if overdue && head_done == 0 {
            "head"
        } else if !overdue && sup_done == 0 {
            "supervisor"
        } else {
            continue;
        };
        let kind = if stage == "head" {
            "response-overdue"
        } else {
            "response-due-soon"
        };
        let mut tx = db.begin().await?;
        sqlx::query(
            "INSERT INTO welfare_case_events (case_id, at, actor_id, actor, kind, details) VALUES ($1, $2, NULL, $3, 'escalation', $4)",
        )
        .bind(id)
        .bind(&at)
        .bind(&system.name)
        .bind(json!({"to": stage}).to_string())
        .execute(&mut *tx)
        .await?;
        let mut recipients = responsible_users(db, "supervisor", &area).await?;
        recipients.push(assigned);
        recipients.dedup();
        for u in recipients {
            enqueue(&mut tx, u, kind, Some(id), &format!("/welfare/cases/{id}")).await?;
        }
        audit::append(
            &mut tx,
            &NewEntry::by(&system, "welfare.case.escalation", "welfare_case", id)
                .with_details(json!({"to": stage})),
        )
        .await?;
        tx.commit().await?;
        sent += 1;
    }
    Ok(sent)
}

//! Referrals between agencies.
//!
//! *Incoming* referrals come from a screening or a concern report and go to the
//! district's social services, which accept them (opening a case) or decline
//! them with a reason. *Case* referrals go from a case to health, education,
//! police, social protection or an NGO; sharing a child's information with
//! another agency needs the family's recorded consent for that agency, except
//! a report to the police when the child is at high risk or in immediate
//! danger (the duty to report violence does not wait for consent).

use super::access;
use super::cases::{self, NewCase};
use super::notify::{enqueue, responsible_users};
use super::{
    now, optional_text, required_code, required_text, stamp_of, Ctx, Result, WelfareError,
};
use crate::case::{Referral as Flow, ReferralOverdue, ReferralPolicy, ReferralState};
use crate::gate::CaseAction;
use crate::instrument::RiskLevel;
use crate::vocab;
use bala_core::{FieldError, ValidationErrors};
use bala_store::audit::{self, NewEntry};
use bala_store::sqlx::{self, any::AnyRow, AnyConnection};
use bala_store::{Db, Row, Sql};
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

#[derive(Debug, Clone, Serialize)]
pub struct Referral {
    pub id: i64,
    pub person_id: i64,
    pub child_name: String,
    pub area_code: String,
    pub case_id: Option<i64>,
    pub screening_id: Option<i64>,
    pub concern_id: Option<i64>,
    pub from_agency: String,
    pub to_agency: String,
    pub service: String,
    pub level: String,
    pub state: String,
    pub decline_reason: Option<String>,
    pub note: Option<String>,
    pub sent_at: String,
    pub sent_by: String,
    pub accepted_at: Option<String>,
    pub ended_at: Option<String>,
    pub overdue: Option<ReferralOverdue>,
}

const COLUMNS: &str = "r.id, r.person_id, p.family_name, p.given_name, r.area_code, r.case_id, r.screening_id, r.concern_id, \
    r.from_agency, r.to_agency, r.service, r.level, r.state, r.decline_reason_enc, r.note_enc, r.sent_at, r.sent_by, \
    r.accepted_at, r.ended_at";

fn flow_of(
    state: &str,
    reason: Option<String>,
    sent: &str,
    acc: Option<&str>,
    ended: Option<&str>,
) -> Result<Flow> {
    Ok(Flow {
        service: String::new(),
        state: match state {
            "sent" => ReferralState::Sent,
            "accepted" => ReferralState::Accepted,
            "declined" => ReferralState::Declined {
                reason: reason.unwrap_or_default(),
            },
            _ => ReferralState::Completed,
        },
        sent_at: stamp_of(sent)?,
        accepted_at: acc.map(stamp_of).transpose()?,
        ended_at: ended.map(stamp_of).transpose()?,
    })
}

fn from_row(r: &AnyRow, ctx: Ctx<'_>) -> Result<Referral> {
    let state: String = r.try_get(12)?;
    let reason_enc: Option<String> = r.try_get(13)?;
    let note_enc: Option<String> = r.try_get(14)?;
    let decline_reason = ctx
        .keys
        .open_opt("referral.decline_reason", reason_enc.as_deref())?;
    let sent_at: String = r.try_get(15)?;
    let accepted_at: Option<String> = r.try_get(17)?;
    let ended_at: Option<String> = r.try_get(18)?;
    let flow = flow_of(
        &state,
        decline_reason.clone(),
        &sent_at,
        accepted_at.as_deref(),
        ended_at.as_deref(),
    )?;
    Ok(Referral {
        id: r.try_get(0)?,
        person_id: r.try_get(1)?,
        child_name: format!(
            "{} {}",
            r.try_get::<String, _>(2)?,
            r.try_get::<String, _>(3)?
        ),
        area_code: r.try_get(4)?,
        case_id: r.try_get(5)?,
        screening_id: r.try_get(6)?,
        concern_id: r.try_get(7)?,
        from_agency: r.try_get(8)?,
        to_agency: r.try_get(9)?,
        service: r.try_get(10)?,
        level: r.try_get(11)?,
        state,
        decline_reason,
        note: ctx.keys.open_opt("referral.note", note_enc.as_deref())?,
        sent_at,
        sent_by: r.try_get(16)?,
        accepted_at,
        ended_at,
        overdue: flow.overdue(&ReferralPolicy::default(), OffsetDateTime::now_utc()),
    })
}

/// Refers a screened or reported child to the district's social services, and
/// tells the area's social worker (inside the caller's transaction).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_incoming(
    conn: &mut AnyConnection,
    db: &Db,
    ctx: Ctx<'_>,
    person_id: i64,
    area_code: &str,
    from_agency: &str,
    level: RiskLevel,
    screening_id: Option<i64>,
    concern_id: Option<i64>,
) -> Result<i64> {
    let (at, _) = now();
    let id: i64 = sqlx::query(
        "INSERT INTO welfare_referrals (person_id, area_code, screening_id, concern_id, from_agency, to_agency, service,
            level, state, sent_at, sent_by)
         VALUES ($1, $2, $3, $4, $5, 'social_services', 'case_management', $6, 'sent', $7, $8) RETURNING id",
    )
    .bind(person_id)
    .bind(area_code)
    .bind(screening_id)
    .bind(concern_id)
    .bind(from_agency)
    .bind(level.code())
    .bind(&at)
    .bind(&ctx.actor.name)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    audit::append(
        conn,
        &NewEntry::by(ctx.actor, "welfare.referral.send", "welfare_referral", id).with_details(
            json!({"person_id": person_id, "to": "social_services", "level": level.code()}),
        ),
    )
    .await?;
    let workers = responsible_users(db, "social_worker", area_code).await?;
    let recipients = if workers.is_empty() {
        responsible_users(db, "supervisor", area_code).await?
    } else {
        workers
    };
    for u in recipients.into_iter().take(1) {
        enqueue(conn, u, "referral-received", None, "/welfare/referrals").await?;
    }
    Ok(id)
}

/// Referrals waiting for (or answered by) the social services of the caller's areas.
pub async fn incoming(db: &Db, ctx: Ctx<'_>, only_open: bool) -> Result<Vec<Referral>> {
    let mut sql = Sql::new(&format!(
        "SELECT {COLUMNS} FROM welfare_referrals r JOIN people p ON p.id = r.person_id
         WHERE r.to_agency = 'social_services' AND r.case_id IS NULL AND "
    ));
    bala_registry::scope::push_area_within(&mut sql, "r.area_code", &ctx.principal.scope);
    if only_open {
        sql.push(" AND r.state = 'sent'");
    }
    sql.push(" ORDER BY r.sent_at DESC LIMIT 500");
    let rows = sql.query().fetch_all(db.reader()).await?;
    let out = rows
        .iter()
        .map(|r| from_row(r, ctx))
        .collect::<Result<Vec<_>>>()?;
    audit::record(
        db,
        &[NewEntry::by(
            ctx.actor,
            "welfare.referral.list",
            "welfare_referral",
            "incoming",
        )
        .with_details(json!({"ids": out.iter().map(|r| r.id).collect::<Vec<_>>()}))],
    )
    .await?;
    Ok(out)
}

async fn incoming_one(db: &Db, ctx: Ctx<'_>, id: i64) -> Result<Referral> {
    let mut sql = Sql::new(&format!(
        "SELECT {COLUMNS} FROM welfare_referrals r JOIN people p ON p.id = r.person_id
         WHERE r.to_agency = 'social_services' AND r.case_id IS NULL AND r.id = "
    ));
    sql.push_arg(id).push(" AND ");
    bala_registry::scope::push_area_within(&mut sql, "r.area_code", &ctx.principal.scope);
    let r = sql
        .query()
        .fetch_optional(db.reader())
        .await?
        .ok_or(WelfareError::NotFound)?;
    from_row(&r, ctx)
}

/// Accepts an incoming referral by opening a case for the child; returns the case id.
pub async fn accept_incoming(db: &Db, ctx: Ctx<'_>, id: i64, new: &NewCase) -> Result<i64> {
    let r = incoming_one(db, ctx, id).await?;
    if r.state != "sent" {
        return Err(ValidationErrors::single(FieldError::new(
            "referral",
            "err-referral-answered",
            "this referral is already answered",
        ))
        .into());
    }
    let n = NewCase {
        person_id: r.person_id,
        source: "referral".into(),
        source_id: Some(id),
        ..new.clone()
    };
    let (child, assigned, household, concerns, risk, summary) =
        cases::validate_new(db, ctx, &n).await?;
    let (at, _) = now();
    let mut tx = db.begin().await?;
    let case_id = cases::insert(
        &mut tx,
        ctx,
        &child,
        &n.subject,
        household,
        &concerns,
        risk,
        &summary,
        assigned,
        "referral",
        Some(id),
    )
    .await?;
    let done = sqlx::query(
        "UPDATE welfare_referrals SET state = 'accepted', accepted_at = $1, case_id = $2 WHERE id = $3 AND state = 'sent'",
    )
    .bind(&at)
    .bind(case_id)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(ValidationErrors::single(FieldError::new(
            "referral",
            "err-referral-answered",
            "this referral is already answered",
        ))
        .into());
    }
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "welfare.referral.accept", "welfare_referral", id)
            .with_details(json!({"case_id": case_id})),
    )
    .await?;
    tx.commit().await?;
    Ok(case_id)
}

/// Declines an incoming referral with a reason.
pub async fn decline_incoming(db: &Db, ctx: Ctx<'_>, id: i64, reason: &str) -> Result<()> {
    let mut e = ValidationErrors::new();
    let reason = required_text("reason", reason, 2000, &mut e);
    let r = incoming_one(db, ctx, id).await?;
    e.into_result()?;
    let flow = flow_of(
        &r.state,
        None,
        &r.sent_at,
        r.accepted_at.as_deref(),
        r.ended_at.as_deref(),
    )?;
    let reason = reason.expect("checked");
    flow.decline(&reason, OffsetDateTime::now_utc())
        .map_err(|err| {
            ValidationErrors::single(FieldError::new("reason", err.code(), err.to_string()))
        })?;
    let (at, _) = now();
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE welfare_referrals SET state = 'declined', ended_at = $1, decline_reason_enc = $2 WHERE id = $3",
    )
    .bind(&at)
    .bind(ctx.keys.seal("referral.decline_reason", &reason))
    .bind(id)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(
            ctx.actor,
            "welfare.referral.decline",
            "welfare_referral",
            id,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The referrals of a case (the caller already passed the case gate).
pub async fn of_case(db: &Db, ctx: Ctx<'_>, case_id: i64) -> Result<Vec<Referral>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM welfare_referrals r JOIN people p ON p.id = r.person_id
         WHERE r.case_id = $1 ORDER BY r.sent_at, r.id"
    );
    let rows = sqlx::query(&sql)
        .bind(case_id)
        .fetch_all(db.reader())
        .await?;
    rows.iter().map(|r| from_row(r, ctx)).collect()
}

/// Refers the child of a case to another agency (consent-gated).
pub async fn send_from_case(
    db: &Db,
    ctx: Ctx<'_>,
    case_id: i64,
    to_agency: &str,
    service: &str,
    note: &str,
) -> Result<i64> {
    access::require(db, ctx, case_id, CaseAction::Work).await?;
    let mut e = ValidationErrors::new();
    let to = required_code("to_agency", to_agency, vocab::AGENCIES, &mut e);
    let service = required_code("service", service, vocab::SERVICES, &mut e);
    let note = optional_text("note", Some(note), 2000, &mut e);
    e.into_result()?;
    let rel = access::require(db, ctx, case_id, CaseAction::Work).await?;
    let to = to.expect("checked");
    let mut tx = db.begin().await?;
    let c =
        sqlx::query("SELECT person_id, area_code, risk, state FROM welfare_cases WHERE id = $1")
            .bind(case_id)
            .fetch_one(&mut *tx)
            .await?;
    let (person_id, area, risk, state): (i64, String, String, String) =
        (c.try_get(0)?, c.try_get(1)?, c.try_get(2)?, c.try_get(3)?);
    if state == "closed" {
        return Err(ValidationErrors::single(FieldError::new(
            "to_agency",
            "err-case-closed",
            "the case is closed; reopen it first",
        ))
        .into());
    }
    let level: RiskLevel = risk.parse().unwrap_or(RiskLevel::Low);
    let consents = cases::consents_of(&mut tx, ctx, case_id).await?;
    let consent = consents
        .iter()
        .find(|c| c.withdrawn_on.is_none() && c.agencies.iter().any(|a| a == &to))
        .map(|c| c.id);
    let duty_to_report = to == "police" && level >= RiskLevel::High;
    if to != "social_services" && consent.is_none() && !duty_to_report {
        return Err(ValidationErrors::single(FieldError::new(
            "to_agency",
            "err-referral-consent",
            "record the family's consent to share with this agency first",
        ))
        .into());
    }
    let (at, _) = now();
    let id: i64 = sqlx::query(
        "INSERT INTO welfare_referrals (person_id, area_code, case_id, from_agency, to_agency, service, level, state,
            note_enc, consent_id, sent_at, sent_by)
         VALUES ($1, $2, $3, 'social_services', $4, $5, $6, 'sent', $7, $8, $9, $10) RETURNING id",
    )
    .bind(person_id)
    .bind(&area)
    .bind(case_id)
    .bind(&to)
    .bind(&service)
    .bind(level.code())
    .bind(ctx.keys.seal_opt("referral.note", note.as_deref()))
    .bind(consent)
    .bind(&at)
    .bind(&ctx.actor.name)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    cases::event(
        &mut tx,
        ctx,
        case_id,
        "referral_sent",
        None,
        None,
        json!({"referral": id, "to": to, "service": service, "consent": consent, "duty_to_report": duty_to_report && consent.is_none(), "basis": rel.basis()}),
        None,
    )
    .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "welfare.referral.send", "welfare_referral", id)
            .with_details(json!({"case_id": case_id, "to": to, "consent": consent})),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Records the receiving agency's answer: `accept`, `decline` (with reason) or `complete`.
pub async fn update_from_case(
    db: &Db,
    ctx: Ctx<'_>,
    case_id: i64,
    id: i64,
    action: &str,
    reason: &str,
) -> Result<()> {
    let mut e = ValidationErrors::new();
    let action = required_code("action", action, &["accept", "decline", "complete"], &mut e);
    let rel = access::require(db, ctx, case_id, CaseAction::Work).await?;
    let all = of_case(db, ctx, case_id).await?;
    let r = all
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(WelfareError::NotFound)?;
    e.into_result()?;
    let action = action.expect("checked");
    let flow = flow_of(
        &r.state,
        r.decline_reason.clone(),
        &r.sent_at,
        r.accepted_at.as_deref(),
        r.ended_at.as_deref(),
    )?;
    let t = OffsetDateTime::now_utc();
    let next = match action.as_str() {
        "accept" => flow.accept(t),
        "decline" => flow.decline(reason, t),
        _ => flow.complete(t),
    }
    .map_err(|err| {
        let field = if matches!(err, crate::case::ReferralError::ReasonRequired) {
            "reason"
        } else {
            "action"
        };
        ValidationErrors::single(FieldError::new(field, err.code(), err.to_string()))
    })?;
    let fmt = |o: Option<OffsetDateTime>| o.map(bala_store::time_fmt::format);
    let reason_enc = match &next.state {
        ReferralState::Declined { reason } => {
            Some(ctx.keys.seal("referral.decline_reason", reason))
        }
        _ => None,
    };
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE welfare_referrals SET state = $1, accepted_at = $2, ended_at = $3, decline_reason_enc = $4 WHERE id = $5",
    )
    .bind(next.state.code())
    .bind(fmt(next.accepted_at))
    .bind(fmt(next.ended_at))
    .bind(reason_enc)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    cases::event(
        &mut tx,
        ctx,
        case_id,
        "referral_update",
        None,
        None,
        json!({"referral": id, "state": next.state.code(), "basis": rel.basis()}),
        None,
    )
    .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "welfare.referral.update", "welfare_referral", id)
            .with_details(json!({"case_id": case_id, "state": next.state.code()})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Notifies, once per wait, about referrals nobody answered or delivered in
/// time: a case's referral to its worker (and the timeline), an incoming one to
/// the area's supervisors. Returns how many notices were sent. Run periodically.
pub async fn notify_overdue(db: &Db) -> Result<usize> {
    let rows = sqlx::query(
        "SELECT r.id, r.case_id, r.area_code, r.state, r.sent_at, r.accepted_at, r.overdue_notified, c.assigned_to
         FROM welfare_referrals r LEFT JOIN welfare_cases c ON c.id = r.case_id
         WHERE r.state IN ('sent', 'accepted')",
    )
    .fetch_all(db.reader())
    .await?;
    let policy = ReferralPolicy::default();
    let now_t = OffsetDateTime::now_utc();
    let system = bala_store::audit::Actor::system("referrals");
    let mut sent = 0;
    for r in &rows {
        let id: i64 = r.try_get(0)?;
        let case_id: Option<i64> = r.try_get(1)?;
        let area: String = r.try_get(2)?;
        let state: String = r.try_get(3)?;
        let sent_at: String = r.try_get(4)?;
        let accepted_at: Option<String> = r.try_get(5)?;
        let notified: Option<String> = r.try_get(6)?;
        let assigned: Option<i64> = r.try_get(7)?;
        let flow = flow_of(&state, None, &sent_at, accepted_at.as_deref(), None)?;
        let Some(overdue) = flow.overdue(&policy, now_t) else {
            continue;
        };
        let stage = super::code_of(&overdue.stage);
        if notified.as_deref() == Some(stage.as_str()) {
            continue;
        }
        let mut tx = db.begin().await?;
        sqlx::query("UPDATE welfare_referrals SET overdue_notified = $1 WHERE id = $2")
            .bind(&stage)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let recipients = match (case_id, assigned) {
            (Some(_), Some(worker)) => vec![worker],
            _ => responsible_users(db, "supervisor", &area).await?,
        };
        let link = match case_id {
            Some(c) => format!("/welfare/cases/{c}#referrals"),
            None => "/welfare/referrals".to_string(),
        };
        for u in recipients {
            enqueue(&mut tx, u, "referral-overdue", case_id, &link).await?;
        }
        if let Some(c) = case_id {
            let (at, _) = now();
            sqlx::query(
                "INSERT INTO welfare_case_events (case_id, at, actor_id, actor, kind, details) VALUES ($1, $2, NULL, $3, 'referral_overdue', $4)",
            )
            .bind(c)
            .bind(&at)
            .bind(&system.name)
            .bind(json!({"referral": id, "stage": stage}).to_string())
            .execute(&mut *tx)
            .await?;
        }
        audit::append(
            &mut tx,
            &NewEntry::by(&system, "welfare.referral.overdue", "welfare_referral", id)
                .with_details(json!({"stage": stage, "overdue_by_days": overdue.overdue_by_days})),
        )
        .await?;
        tx.commit().await?;
        sent += 1;
    }
    Ok(sent)
}

//! Cross-pillar alerts: gather facts about a child from the registers, run the
//! rules in force, and raise each alert that fired for the area's social worker.
//!
//! Facts come from the register (age, household), this pillar (latest household
//! screening, open case) and the immunization pillar through
//! [`ImmunizationSource`], a trait so this crate need not depend on the
//! immunization pillar: the application wires the register-backed source
//! (`bala_web::integration::RegisterImmunization`). [`UnknownImmunization`]
//! reports every immunization fact as unknown, for callers without an
//! immunization register, so rules that need them stay silent rather than
//! guess. Injury visits are not recorded anywhere in Bala yet, so
//! `injury_visits_12m` is unknown too.

use super::cases::{self, NewCase};
use super::notify::{enqueue, responsible_users};
use super::{now, required_text, Ctx, Result, WelfareError};
use crate::alerts::{hit_rates as rule_hit_rates, FiredAlert, HitRate, RuleSet};
use crate::instrument::RiskLevel;
use crate::text::Text;
use crate::Facts;
use bala_access::Role;
use bala_core::{FieldError, ValidationErrors};
use bala_store::audit::{self, Actor, NewEntry};
use bala_store::sqlx;
use bala_store::{Db, Row, Sql};
use serde::Serialize;
use serde_json::json;
use std::future::Future;
use std::pin::Pin;
use time::Date;

/// What the immunization pillar knows about one child.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImmunizationFacts {
    /// No DTP-containing dose by 12 months of age.
    pub zero_dose: Option<bool>,
    /// Days overdue of the most overdue dose (0 when none is).
    pub max_days_overdue: Option<u32>,
    /// The child is on a polyclinic's immunization register.
    pub registered_for_immunization: Option<bool>,
}

pub type FactsFuture<'a> = Pin<Box<dyn Future<Output = Result<ImmunizationFacts>> + Send + 'a>>;

/// The immunization pillar's answer for one child on one day (implemented over
/// its dose storage in `bala_web::integration`; see `docs/welfare.md`, "Integration").
pub trait ImmunizationSource: Send + Sync {
    fn facts<'a>(&'a self, db: &'a Db, person_id: i64, birth: Date, on: Date) -> FactsFuture<'a>;
}

/// Reports every immunization fact as unknown.
#[derive(Debug, Default, Clone, Copy)]
pub struct UnknownImmunization;

impl ImmunizationSource for UnknownImmunization {
    fn facts<'a>(&'a self, _: &'a Db, _: i64, _: Date, _: Date) -> FactsFuture<'a> {
        Box::pin(async { Ok(ImmunizationFacts::default()) })
    }
}

/// The facts of one child on `on`.
pub async fn facts_for(
    db: &Db,
    imm: &dyn ImmunizationSource,
    person_id: i64,
    on: Date,
) -> Result<Option<Facts>> {
    let Some(p) = sqlx::query(
        "SELECT birth_date, household_id FROM people WHERE id = $1 AND merged_into IS NULL",
    )
    .bind(person_id)
    .fetch_optional(db.reader())
    .await?
    else {
        return Ok(None);
    };
    let birth: String = p.try_get(0)?;
    let household: Option<i64> = p.try_get(1)?;
    let Ok(birth) = bala_core::parse_date(&birth) else {
        return Ok(None);
    };
    let mut f = Facts::for_child(birth, on);
    // The latest screening of anyone in the household (or of the child alone).
    let latest = sqlx::query(
        "SELECT s.level, s.screened_at FROM welfare_screenings s JOIN people p ON p.id = s.person_id
         WHERE s.person_id = $1 OR (p.household_id IS NOT NULL AND p.household_id = $2)
         ORDER BY s.screened_at DESC, s.id DESC LIMIT 1",
    )
    .bind(person_id)
    .bind(household)
    .fetch_optional(db.reader())
    .await?;
    if let Some(s) = latest {
        let level: String = s.try_get(0)?;
        let at: String = s.try_get(1)?;
        f.household_risk = level.parse::<RiskLevel>().ok();
        f.days_since_screening = bala_core::parse_date(&at[..10])
            .ok()
            .and_then(|d| u32::try_from((on - d).whole_days()).ok());
    }
    let open: i64 = sqlx::query(
        "SELECT COUNT(*) FROM welfare_cases WHERE state <> 'closed' AND (person_id = $1 OR (household_id IS NOT NULL AND household_id = $2))",
    )
    .bind(person_id)
    .bind(household)
    .fetch_one(db.reader())
    .await?
    .try_get(0)?;
    f.open_case = Some(open > 0);
    let i = imm.facts(db, person_id, birth, on).await?;
    f.zero_dose = i.zero_dose;
    f.max_days_overdue = i.max_days_overdue;
    f.registered_for_immunization = i.registered_for_immunization;
    Ok(Some(f))
}

async fn raise(
    db: &Db,
    rules: &RuleSet,
    person_id: i64,
    area: &str,
    fired: &FiredAlert,
) -> Result<bool> {
    let existing = sqlx::query(
        "SELECT id FROM welfare_alerts WHERE person_id = $1 AND rule = $2 AND status IN ('open', 'acknowledged')",
    )
    .bind(person_id)
    .bind(&fired.rule)
    .fetch_optional(db.reader())
    .await?;
    if existing.is_some() {
        return Ok(false);
    }
    let worker = responsible_users(db, "social_worker", area)
        .await?
        .into_iter()
        .next();
    let (at, _) = now();
    let system = Actor::system("alerts");
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO welfare_alerts (person_id, area_code, rule_set, rule_set_version, rule, severity, fired, status,
            assigned_to, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9) RETURNING id",
    )
    .bind(person_id)
    .bind(area)
    .bind(&rules.code)
    .bind(i64::from(rules.version))
    .bind(&fired.rule)
    .bind(super::code_of(&fired.severity))
    .bind(serde_json::to_string(fired).expect("alert serialises"))
    .bind(worker)
    .bind(&at)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    audit::append(
        &mut tx,
        &NewEntry::by(&system, "welfare.alert.raise", "welfare_alert", id)
            .with_details(json!({"person_id": person_id, "rule": fired.rule})),
    )
    .await?;
    if let Some(w) = worker {
        enqueue(
            &mut tx,
            w,
            "alert-raised",
            None,
            &format!("/welfare/alerts/{id}"),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Runs the rules for one child; returns how many new alerts were raised.
pub async fn evaluate_person(
    db: &Db,
    imm: &dyn ImmunizationSource,
    rules: &RuleSet,
    person_id: i64,
) -> Result<usize> {
    let today = super::today();
    let Some(facts) = facts_for(db, imm, person_id, today).await? else {
        return Ok(0);
    };
    if facts.age_days.is_none_or(|d| d >= 18 * 366) {
        return Ok(0);
    }
    let area: String = sqlx::query("SELECT area_code FROM people WHERE id = $1")
        .bind(person_id)
        .fetch_one(db.reader())
        .await?
        .try_get(0)?;
    let mut raised = 0;
    for fired in crate::evaluate_rules(rules, &facts) {
        if raise(db, rules, person_id, &area, &fired).await? {
            raised += 1;
        }
    }
    Ok(raised)
}

/// Runs the rules for the child and every child in their household.
pub async fn evaluate_household(
    db: &Db,
    imm: &dyn ImmunizationSource,
    person_id: i64,
) -> Result<usize> {
    let rules = super::reference::rule_set_in_force(db, &RuleSet::default_kz().code).await?;
    let ids: Vec<i64> = sqlx::query(
        "SELECT id FROM people WHERE merged_into IS NULL AND (id = $1 OR (household_id IS NOT NULL AND household_id =
            (SELECT household_id FROM people WHERE id = $1)))",
    )
    .bind(person_id)
    .fetch_all(db.reader())
    .await?
    .iter()
    .map(|r| r.try_get(0))
    .collect::<std::result::Result<_, _>>()?;
    let mut n = 0;
    for id in ids {
        n += evaluate_person(db, imm, &rules, id).await?;
    }
    Ok(n)
}

/// Children under 18 in the scope (for area runs and hit rates).
async fn children_in(db: &Db, scope: &[bala_core::AreaCode]) -> Result<Vec<i64>> {
    let cutoff = bala_core::date::iso(super::today() - time::Duration::days(18 * 365 + 4));
    let mut sql = Sql::new("SELECT id FROM people WHERE merged_into IS NULL AND birth_date > ");
    sql.push_arg(cutoff).push(" AND ");
    bala_registry::scope::push_area_within(&mut sql, "area_code", scope);
    sql.push(" ORDER BY id");
    Ok(sql
        .query()
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<std::result::Result<_, _>>()?)
}

/// Runs the rules over every child in the areas; returns (children checked, alerts raised).
pub async fn evaluate_area(
    db: &Db,
    imm: &dyn ImmunizationSource,
    scope: &[bala_core::AreaCode],
) -> Result<(usize, usize)> {
    let rules = super::reference::rule_set_in_force(db, &RuleSet::default_kz().code).await?;
    let ids = children_in(db, scope).await?;
    let mut raised = 0;
    for id in &ids {
        raised += evaluate_person(db, imm, &rules, *id).await?;
    }
    Ok((ids.len(), raised))
}

/// An alert as listed and shown.
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    pub id: i64,
    pub person_id: i64,
    pub child_name: String,
    pub area_code: String,
    pub rule: String,
    pub rule_set_version: i64,
    pub severity: String,
    pub title: Text,
    pub explanation: Text,
    pub status: String,
    pub assigned_to: Option<i64>,
    pub created_at: String,
    pub acted_at: Option<String>,
    pub acted_by: Option<String>,
    pub dismiss_reason: Option<String>,
    pub case_id: Option<i64>,
}

/// Alerts a user works on: a social worker's own (and unassigned ones of their
/// areas); a supervisor's areas. Others see none.
fn push_mine(sql: &mut Sql, ctx: Ctx<'_>) {
    match ctx.principal.role {
        Role::SocialWorker => {
            sql.push("(a.assigned_to = ")
                .push_arg(ctx.me())
                .push(" OR (a.assigned_to IS NULL AND ");
            bala_registry::scope::push_area_within(sql, "a.area_code", &ctx.principal.scope);
            sql.push("))");
        }
        Role::Supervisor => {
            bala_registry::scope::push_area_within(sql, "a.area_code", &ctx.principal.scope)
        }
        _ => {
            sql.push("1 = 0");
        }
    }
}

const ALERT_COLUMNS: &str = "a.id, a.person_id, p.family_name, p.given_name, a.area_code, a.rule, a.rule_set_version,
    a.severity, a.fired, a.status, a.assigned_to, a.created_at, a.acted_at, a.acted_by, a.dismiss_reason_enc, a.case_id";

fn alert_of(r: &bala_store::AnyRow, ctx: Ctx<'_>) -> Result<Alert> {
    let fired: FiredAlert = serde_json::from_str(&r.try_get::<String, _>(8)?)
        .map_err(|e| WelfareError::Store(bala_store::StoreError::Other(e.to_string())))?;
    let reason: Option<String> = r.try_get(14)?;
    Ok(Alert {
        id: r.try_get(0)?,
        person_id: r.try_get(1)?,
        child_name: format!(
            "{} {}",
            r.try_get::<String, _>(2)?,
            r.try_get::<String, _>(3)?
        ),
        area_code: r.try_get(4)?,
        rule: r.try_get(5)?,
        rule_set_version: r.try_get(6)?,
        severity: r.try_get(7)?,
        title: fired.title,
        explanation: fired.explanation,
        status: r.try_get(9)?,
        assigned_to: r.try_get(10)?,
        created_at: r.try_get(11)?,
        acted_at: r.try_get(12)?,
        acted_by: r.try_get(13)?,
        dismiss_reason: ctx
            .keys
            .open_opt("alert.dismiss_reason", reason.as_deref())?,
        case_id: r.try_get(15)?,
    })
}

/// The caller's alerts (open and acknowledged unless `all`), most severe first; audited.
pub async fn list(db: &Db, ctx: Ctx<'_>, all: bool) -> Result<Vec<Alert>> {
    let mut sql = Sql::new(&format!(
        "SELECT {ALERT_COLUMNS} FROM welfare_alerts a JOIN people p ON p.id = a.person_id WHERE "
    ));
    push_mine(&mut sql, ctx);
    if !all {
        sql.push(" AND a.status IN ('open', 'acknowledged')");
    }
    sql.push(
        " ORDER BY CASE a.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, a.created_at DESC LIMIT 500",
    );
    let rows = sql.query().fetch_all(db.reader()).await?;
    let out = rows
        .iter()
        .map(|r| alert_of(r, ctx))
        .collect::<Result<Vec<_>>>()?;
    audit::record(
        db,
        &[
            NewEntry::by(ctx.actor, "welfare.alert.list", "welfare_alert", "mine")
                .with_details(json!({"ids": out.iter().map(|a| a.id).collect::<Vec<_>>()})),
        ],
    )
    .await?;
    Ok(out)
}

/// One of the caller's alerts (audited).
pub async fn get(db: &Db, ctx: Ctx<'_>, id: i64) -> Result<Alert> {
    let mut sql = Sql::new(&format!(
        "SELECT {ALERT_COLUMNS} FROM welfare_alerts a JOIN people p ON p.id = a.person_id WHERE a.id = "
    ));
    sql.push_arg(id).push(" AND ");
    push_mine(&mut sql, ctx);
    let r = sql
        .query()
        .fetch_optional(db.reader())
        .await?
        .ok_or(WelfareError::NotFound)?;
    let a = alert_of(&r, ctx)?;
    audit::record(
        db,
        &[NewEntry::by(
            ctx.actor,
            "welfare.alert.read",
            "welfare_alert",
            id,
        )],
    )
    .await?;
    Ok(a)
}

fn already(field: &str) -> WelfareError {
    ValidationErrors::single(FieldError::new(
        field,
        "err-alert-closed",
        "this alert is already dealt with",
    ))
    .into()
}

/// Marks an open alert as seen and being looked into.
pub async fn acknowledge(db: &Db, ctx: Ctx<'_>, id: i64) -> Result<()> {
    get(db, ctx, id).await?;
    let (at, _) = now();
    let mut tx = db.begin().await?;
    let n = sqlx::query(
        "UPDATE welfare_alerts SET status = 'acknowledged', acted_at = $1, acted_by = $2 WHERE id = $3 AND status = 'open'",
    )
    .bind(&at)
    .bind(&ctx.actor.name)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if n.rows_affected() != 1 {
        return Err(already("status"));
    }
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "welfare.alert.acknowledge", "welfare_alert", id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Dismisses an alert with a reason (kept for the rule's review).
pub async fn dismiss(db: &Db, ctx: Ctx<'_>, id: i64, reason: &str) -> Result<()> {
    let mut e = ValidationErrors::new();
    let reason = required_text("reason", reason, 2000, &mut e);
    get(db, ctx, id).await?;
    e.into_result()?;
    let (at, _) = now();
    let mut tx = db.begin().await?;
    let n = sqlx::query(
        "UPDATE welfare_alerts SET status = 'dismissed', acted_at = $1, acted_by = $2, dismiss_reason_enc = $3
         WHERE id = $4 AND status IN ('open', 'acknowledged')",
    )
    .bind(&at)
    .bind(&ctx.actor.name)
    .bind(ctx.keys.seal("alert.dismiss_reason", reason.as_deref().expect("checked")))
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if n.rows_affected() != 1 {
        return Err(already("reason"));
    }
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "welfare.alert.dismiss", "welfare_alert", id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Turns an alert into a case for its child; returns the case id.
pub async fn open_case(db: &Db, ctx: Ctx<'_>, id: i64, new: &NewCase) -> Result<i64> {
    let a = get(db, ctx, id).await?;
    if !matches!(a.status.as_str(), "open" | "acknowledged") {
        return Err(already("summary"));
    }
    let n = NewCase {
        person_id: a.person_id,
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
        "alert",
        Some(id),
    )
    .await?;
    let done = sqlx::query(
        "UPDATE welfare_alerts SET status = 'case_opened', acted_at = $1, acted_by = $2, case_id = $3
         WHERE id = $4 AND status IN ('open', 'acknowledged')",
    )
    .bind(&at)
    .bind(&ctx.actor.name)
    .bind(case_id)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(already("summary"));
    }
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "welfare.alert.case", "welfare_alert", id)
            .with_details(json!({"case_id": case_id})),
    )
    .await?;
    tx.commit().await?;
    Ok(case_id)
}

/// How one rule performs: how often it would fire today over the children in
/// scope, and what workers did with the alerts it raised.
#[derive(Debug, Clone, Serialize)]
pub struct RuleReport {
    pub rule: String,
    pub title: Text,
    pub rate: HitRate,
    pub raised: i64,
    pub dismissed: i64,
    pub cases_opened: i64,
    pub pending: i64,
}

/// Hit rates of the rules in force over the children of `scope`, with outcomes of stored alerts.
pub async fn hit_rates(
    db: &Db,
    imm: &dyn ImmunizationSource,
    scope: &[bala_core::AreaCode],
) -> Result<(RuleSet, usize, Vec<RuleReport>)> {
    let rules = super::reference::rule_set_in_force(db, &RuleSet::default_kz().code).await?;
    let today = super::today();
    let mut snapshots = Vec::new();
    for id in children_in(db, scope).await? {
        if let Some(f) = facts_for(db, imm, id, today).await? {
            snapshots.push(f);
        }
    }
    let rates = rule_hit_rates(&rules, &snapshots);
    let mut out = Vec::new();
    for (rule, rate) in rules.rules.iter().zip(rates) {
        let mut sql = Sql::new(
            "SELECT COUNT(*),
                    CAST(COALESCE(SUM(CASE WHEN a.status = 'dismissed' THEN 1 ELSE 0 END), 0) AS BIGINT),
                    CAST(COALESCE(SUM(CASE WHEN a.status = 'case_opened' THEN 1 ELSE 0 END), 0) AS BIGINT),
                    CAST(COALESCE(SUM(CASE WHEN a.status IN ('open', 'acknowledged') THEN 1 ELSE 0 END), 0) AS BIGINT)
             FROM welfare_alerts a WHERE a.rule = ",
        );
        sql.push_arg(rule.code.clone()).push(" AND ");
        bala_registry::scope::push_area_within(&mut sql, "a.area_code", scope);
        let r = sql.query().fetch_one(db.reader()).await?;
        let get = |i: usize| -> Result<i64> { Ok(r.try_get::<i64, _>(i)?) };
        out.push(RuleReport {
            rule: rule.code.clone(),
            title: rule.title.clone(),
            rate,
            raised: get(0)?,
            dismissed: get(1)?,
            cases_opened: get(2)?,
            pending: get(3)?,
        });
    }
    Ok((rules, snapshots.len(), out))
}

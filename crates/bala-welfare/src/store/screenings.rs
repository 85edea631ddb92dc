//! Screenings and concern reports: the doors through which any front-line
//! worker (nurse, teacher, police officer, social worker) brings a child to the
//! district's social services.
//!
//! A screening is scored with the instrument version in force and stored with
//! that version; a result of medium risk or above refers the child to social
//! services with the level, and the alert rules run over the child's household.
//! A concern report always refers. Who may read them: the worker who wrote them,
//! and social workers and supervisors of the child's area.

use super::alerts::{self, ImmunizationSource};
use super::referrals::insert_incoming;
use super::{code_list, now, required_code, required_text, Ctx, Result, WelfareError};
use crate::instrument::{Instrument, RiskLevel};
use crate::scoring::{score, Answer, ScreeningContext, ScreeningResult};
use crate::vocab;
use bala_access::Role;
use bala_core::{FieldError, ValidationErrors};
use bala_store::audit::{self, NewEntry};
use bala_store::sqlx;
use bala_store::{Db, Row, Sql};
use serde::Serialize;
use serde_json::json;

/// The level from which a screening refers the child to social services.
pub const REFER_FROM: RiskLevel = RiskLevel::Medium;

#[derive(Debug, Clone)]
pub struct ScreeningInput {
    pub person_id: i64,
    pub agency: String,
    pub answers: Vec<Answer>,
}

/// The outcome of saving a screening.
#[derive(Debug, Clone, Serialize)]
pub struct Saved {
    pub id: i64,
    pub level: RiskLevel,
    pub referral_id: Option<i64>,
    pub alerts_raised: usize,
}

async fn person_in_scope(db: &Db, ctx: Ctx<'_>, id: i64) -> Result<bala_registry::people::Person> {
    match bala_registry::people::fetch_in_scope(db, &ctx.principal.scope, id).await {
        Ok(p) if p.merged_into.is_none() => Ok(p),
        Ok(_) | Err(bala_registry::RegistryError::NotFound) => {
            Err(ValidationErrors::single(FieldError::new(
                "person_id",
                "err-person-unknown",
                "no such person in your areas",
            ))
            .into())
        }
        Err(e) => Err(e.into()),
    }
}

/// The child's age in months today, if the birth date parses.
fn age_months(birth: &str) -> Option<u32> {
    let b = bala_core::parse_date(birth).ok()?;
    u32::try_from(bala_core::date::age_months(b, super::today())).ok()
}

/// Scores and stores a screening; refers the child and runs the alert rules.
pub async fn create(
    db: &Db,
    ctx: Ctx<'_>,
    imm: &dyn ImmunizationSource,
    input: &ScreeningInput,
) -> Result<Saved> {
    let mut e = ValidationErrors::new();
    let agency = required_code("agency", &input.agency, vocab::AGENCIES, &mut e);
    let person = match person_in_scope(db, ctx, input.person_id).await {
        Ok(p) => Some(p),
        Err(WelfareError::Validation(v)) => {
            e.0.extend(v.0);
            None
        }
        Err(other) => return Err(other),
    };
    let inst = super::reference::instrument_in_force(db, &Instrument::default_kz().code).await?;
    let context = ScreeningContext {
        child_age_months: person.as_ref().and_then(|p| age_months(&p.birth_date)),
    };
    let result = match score(&inst, &context, &input.answers) {
        Ok(r) => Some(r),
        Err(v) => {
            e.0.extend(v.0);
            None
        }
    };
    e.into_result()?;
    let (person, result, agency) = (
        person.expect("checked"),
        result.expect("checked"),
        agency.expect("checked"),
    );
    let (at, _) = now();
    let answers = serde_json::to_string(&input.answers).expect("answers serialise");
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO welfare_screenings (person_id, area_code, instrument_code, instrument_version, answers_enc, result,
            level, total, agency, screened_at, screened_by, screened_by_name)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(person.id)
    .bind(&person.area_code)
    .bind(&inst.code)
    .bind(i64::from(inst.version))
    .bind(ctx.keys.seal("screening.answers", &answers))
    .bind(serde_json::to_string(&result).expect("result serialises"))
    .bind(result.level.code())
    .bind(i64::from(result.total))
    .bind(&agency)
    .bind(&at)
    .bind(ctx.me())
    .bind(&ctx.actor.name)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "welfare.screening.create", "welfare_screening", id).with_details(json!({
            "person_id": person.id, "instrument": inst.code, "version": inst.version, "level": result.level.code()
        })),
    )
    .await?;
    let referral_id = if result.level >= REFER_FROM {
        Some(
            insert_incoming(
                &mut tx,
                db,
                ctx,
                person.id,
                &person.area_code,
                &agency,
                result.level,
                Some(id),
                None,
            )
            .await?,
        )
    } else {
        None
    };
    tx.commit().await?;
    let alerts_raised = alerts::evaluate_household(db, imm, person.id).await?;
    Ok(Saved {
        id,
        level: result.level,
        referral_id,
        alerts_raised,
    })
}

/// A stored screening as its reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ScreeningView {
    pub id: i64,
    pub person_id: i64,
    pub child_name: String,
    pub birth_date: String,
    pub area_code: String,
    pub instrument: Instrument,
    pub answers: Vec<Answer>,
    pub result: ScreeningResult,
    pub agency: String,
    pub screened_at: String,
    pub screened_by: String,
    pub referral: Option<(i64, String)>,
}

/// Who may read a record written by `author` about a child in `area` (alias `s`).
fn push_readable(sql: &mut Sql, ctx: Ctx<'_>, author_col: &str) {
    sql.push("(")
        .push(author_col)
        .push(" = ")
        .push_arg(ctx.me());
    if matches!(ctx.principal.role, Role::SocialWorker | Role::Supervisor) {
        sql.push(" OR ");
        bala_registry::scope::push_area_within(sql, "s.area_code", &ctx.principal.scope);
    }
    sql.push(")");
}

/// Reads a screening (audited).
pub async fn get(db: &Db, ctx: Ctx<'_>, id: i64) -> Result<ScreeningView> {
    let mut sql = Sql::new(
        "SELECT s.id, s.person_id, p.family_name, p.given_name, p.birth_date, s.area_code, s.instrument_code,
                s.instrument_version, s.answers_enc, s.result, s.agency, s.screened_at, s.screened_by_name,
                (SELECT MIN(r.id) FROM welfare_referrals r WHERE r.screening_id = s.id),
                (SELECT MIN(r.state) FROM welfare_referrals r WHERE r.screening_id = s.id)
         FROM welfare_screenings s JOIN people p ON p.id = s.person_id WHERE s.id = ",
    );
    sql.push_arg(id).push(" AND ");
    push_readable(&mut sql, ctx, "s.screened_by");
    let r = sql
        .query()
        .fetch_optional(db.reader())
        .await?
        .ok_or(WelfareError::NotFound)?;
    let code: String = r.try_get(6)?;
    let version: i64 = r.try_get(7)?;
    let instrument = super::reference::instrument(db, &code, version).await?;
    let answers: Vec<Answer> = serde_json::from_str(
        &ctx.keys
            .open("screening.answers", &r.try_get::<String, _>(8)?)?,
    )
    .map_err(|e| WelfareError::Store(bala_store::StoreError::Other(e.to_string())))?;
    let result: ScreeningResult = serde_json::from_str(&r.try_get::<String, _>(9)?)
        .map_err(|e| WelfareError::Store(bala_store::StoreError::Other(e.to_string())))?;
    let referral = match (
        r.try_get::<Option<i64>, _>(13)?,
        r.try_get::<Option<String>, _>(14)?,
    ) {
        (Some(id), Some(state)) => Some((id, state)),
        _ => None,
    };
    let view = ScreeningView {
        id: r.try_get(0)?,
        person_id: r.try_get(1)?,
        child_name: format!(
            "{} {}",
            r.try_get::<String, _>(2)?,
            r.try_get::<String, _>(3)?
        ),
        birth_date: r.try_get(4)?,
        area_code: r.try_get(5)?,
        instrument,
        answers,
        result,
        agency: r.try_get(10)?,
        screened_at: r.try_get(11)?,
        screened_by: r.try_get(12)?,
        referral,
    };
    audit::record(
        db,
        &[
            NewEntry::by(ctx.actor, "welfare.screening.read", "welfare_screening", id)
                .with_details(json!({"person_id": view.person_id})),
        ],
    )
    .await?;
    Ok(view)
}

/// A screening in a list.
#[derive(Debug, Clone, Serialize)]
pub struct ScreeningRow {
    pub id: i64,
    pub person_id: i64,
    pub child_name: String,
    pub level: String,
    pub screened_at: String,
    pub screened_by: String,
}

/// Screenings the caller wrote, or (social workers, supervisors) of their areas; newest first.
pub async fn recent(db: &Db, ctx: Ctx<'_>, limit: i64) -> Result<Vec<ScreeningRow>> {
    let mut sql = Sql::new(
        "SELECT s.id, s.person_id, p.family_name, p.given_name, s.level, s.screened_at, s.screened_by_name
         FROM welfare_screenings s JOIN people p ON p.id = s.person_id WHERE ",
    );
    push_readable(&mut sql, ctx, "s.screened_by");
    sql.push(" ORDER BY s.screened_at DESC, s.id DESC LIMIT ")
        .push_arg(limit);
    let rows = sql.query().fetch_all(db.reader()).await?;
    let out = rows
        .iter()
        .map(|r| {
            Ok(ScreeningRow {
                id: r.try_get(0)?,
                person_id: r.try_get(1)?,
                child_name: format!(
                    "{} {}",
                    r.try_get::<String, _>(2)?,
                    r.try_get::<String, _>(3)?
                ),
                level: r.try_get(4)?,
                screened_at: r.try_get(5)?,
                screened_by: r.try_get(6)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    audit::record(
        db,
        &[NewEntry::by(
            ctx.actor,
            "welfare.screening.list",
            "welfare_screening",
            "recent",
        )
        .with_details(json!({"ids": out.iter().map(|s| s.id).collect::<Vec<_>>()}))],
    )
    .await?;
    Ok(out)
}

#[derive(Debug, Clone, Default)]
pub struct ConcernInput {
    pub person_id: i64,
    pub concerns: Vec<String>,
    pub level: String,
    pub agency: String,
    pub narrative: String,
}

/// Stores a concern report and refers the child to social services; returns (report, referral).
pub async fn report_concern(db: &Db, ctx: Ctx<'_>, input: &ConcernInput) -> Result<(i64, i64)> {
    let mut e = ValidationErrors::new();
    let person = match person_in_scope(db, ctx, input.person_id).await {
        Ok(p) => Some(p),
        Err(WelfareError::Validation(v)) => {
            e.0.extend(v.0);
            None
        }
        Err(other) => return Err(other),
    };
    let concerns = code_list("concerns", &input.concerns, vocab::CONCERNS, false, &mut e);
    let level = required_code(
        "level",
        &input.level,
        &["low", "medium", "high", "immediate_danger"],
        &mut e,
    )
    .and_then(|l| l.parse::<RiskLevel>().ok());
    let agency = required_code("agency", &input.agency, vocab::AGENCIES, &mut e);
    let narrative = required_text(
        "narrative",
        &input.narrative,
        super::cases::MAX_NARRATIVE,
        &mut e,
    );
    e.into_result()?;
    let (person, level, agency) = (
        person.expect("checked"),
        level.expect("checked"),
        agency.expect("checked"),
    );
    let (at, _) = now();
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO welfare_concerns (person_id, area_code, concerns, level, agency, narrative_enc, reported_at,
            reported_by, reported_by_name)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(person.id)
    .bind(&person.area_code)
    .bind(concerns.join(","))
    .bind(level.code())
    .bind(&agency)
    .bind(ctx.keys.seal("concern.narrative", narrative.as_deref().expect("checked")))
    .bind(&at)
    .bind(ctx.me())
    .bind(&ctx.actor.name)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "welfare.concern.create", "welfare_concern", id).with_details(
            json!({"person_id": person.id, "level": level.code(), "concerns": concerns}),
        ),
    )
    .await?;
    let referral = insert_incoming(
        &mut tx,
        db,
        ctx,
        person.id,
        &person.area_code,
        &agency,
        level,
        None,
        Some(id),
    )
    .await?;
    tx.commit().await?;
    Ok((id, referral))
}

#[derive(Debug, Clone, Serialize)]
pub struct ConcernView {
    pub id: i64,
    pub person_id: i64,
    pub child_name: String,
    pub area_code: String,
    pub concerns: Vec<String>,
    pub level: String,
    pub agency: String,
    pub narrative: String,
    pub reported_at: String,
    pub reported_by: String,
}

/// Reads a concern report (audited).
pub async fn get_concern(db: &Db, ctx: Ctx<'_>, id: i64) -> Result<ConcernView> {
    let mut sql = Sql::new(
        "SELECT s.id, s.person_id, p.family_name, p.given_name, s.area_code, s.concerns, s.level, s.agency,
                s.narrative_enc, s.reported_at, s.reported_by_name
         FROM welfare_concerns s JOIN people p ON p.id = s.person_id WHERE s.id = ",
    );
    sql.push_arg(id).push(" AND ");
    push_readable(&mut sql, ctx, "s.reported_by");
    let r = sql
        .query()
        .fetch_optional(db.reader())
        .await?
        .ok_or(WelfareError::NotFound)?;
    let concerns: String = r.try_get(5)?;
    let view = ConcernView {
        id: r.try_get(0)?,
        person_id: r.try_get(1)?,
        child_name: format!(
            "{} {}",
            r.try_get::<String, _>(2)?,
            r.try_get::<String, _>(3)?
        ),
        area_code: r.try_get(4)?,
        concerns: concerns
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        level: r.try_get(6)?,
        agency: r.try_get(7)?,
        narrative: ctx
            .keys
            .open("concern.narrative", &r.try_get::<String, _>(8)?)?,
        reported_at: r.try_get(9)?,
        reported_by: r.try_get(10)?,
    };
    audit::record(
        db,
        &[
            NewEntry::by(ctx.actor, "welfare.concern.read", "welfare_concern", id)
                .with_details(json!({"person_id": view.person_id})),
        ],
    )
    .await?;
    Ok(view)
}

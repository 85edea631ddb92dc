//! A child's record as the forecasting engine sees it, and the derived
//! valid-dose facts coverage is counted from.
//!
//! [`refresh_child`] is called inside every transaction that changes a child's
//! doses, refusals or contraindications (and after merges and calendar edits),
//! so `imm_valid_doses` always agrees with the engine.

use super::calendars::in_force;
use super::{iso, today};
use crate::calendar::Calendar;
use crate::forecast::{self, AdminFlag, Administration, ChildRecord, Contraindication, Refusal};
use crate::span::Span;
use bala_core::{parse_date, Date, Sex};
use bala_store::sqlx::{self, AnyConnection, Row};
use bala_store::Sql;

/// Label of the derived fact "HepB dose within 24 hours of birth".
pub const HEPB_BIRTH_DOSE: &str = "HepB-BD";

/// Flags as stored: a comma-separated list of their kebab-case codes.
pub fn flags_to_text(flags: &[AdminFlag]) -> String {
    flags
        .iter()
        .map(|f| flag_code(*f))
        .collect::<Vec<_>>()
        .join(",")
}

pub fn flag_code(f: AdminFlag) -> &'static str {
    match f {
        AdminFlag::PartialDose => "partial-dose",
        AdminFlag::ColdChainBreach => "cold-chain-breach",
        AdminFlag::RecalledLot => "recalled-lot",
        AdminFlag::Reported => "reported",
    }
}

pub fn parse_flag(s: &str) -> Option<AdminFlag> {
    [
        AdminFlag::PartialDose,
        AdminFlag::ColdChainBreach,
        AdminFlag::RecalledLot,
        AdminFlag::Reported,
    ]
    .into_iter()
    .find(|f| flag_code(*f) == s)
}

pub fn flags_from_text(s: &str) -> Vec<AdminFlag> {
    s.split(',').filter_map(|f| parse_flag(f.trim())).collect()
}

fn date_of(s: Option<String>) -> Option<Date> {
    s.and_then(|s| parse_date(&s).ok())
}

/// Loads the child's birth, sex and everything recorded (doses marked entered in
/// error are left out: they never happened).
pub async fn child_record(
    conn: &mut AnyConnection,
    person_id: i64,
) -> Result<Option<ChildRecord>, sqlx::Error> {
    let Some(p) = sqlx::query("SELECT birth_date, sex FROM people WHERE id = $1")
        .bind(person_id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let birth: String = p.try_get("birth_date")?;
    let Ok(birth) = parse_date(&birth) else {
        return Ok(None);
    };
    let sex: String = p.try_get("sex")?;
    let mut child = ChildRecord::new(birth, sex.parse::<Sex>().ok());
    let doses = sqlx::query(
        "SELECT id, given_on, product, lot_expiry, flags FROM imm_doses
         WHERE person_id = $1 AND status = 'recorded' ORDER BY given_on, id",
    )
    .bind(person_id)
    .fetch_all(&mut *conn)
    .await?;
    for d in doses {
        let Some(date) = date_of(d.try_get("given_on")?) else {
            continue;
        };
        let mut a = Administration::new(date, d.try_get::<String, _>("product")?);
        a.id = Some(d.try_get::<i64, _>("id")?.to_string());
        a.lot_expiry = date_of(d.try_get("lot_expiry")?);
        a.flags = flags_from_text(&d.try_get::<String, _>("flags")?);
        child.administrations.push(a);
    }
    for c in sqlx::query(
        "SELECT antigen, since, until, reason FROM imm_contraindications WHERE person_id = $1 ORDER BY id",
    )
    .bind(person_id)
    .fetch_all(&mut *conn)
    .await?
    {
        child.contraindications.push(Contraindication {
            antigen: c.try_get("antigen")?,
            since: date_of(c.try_get("since")?),
            until: date_of(c.try_get("until")?),
            reason: c.try_get("reason")?,
        });
    }
    for r in sqlx::query(
        "SELECT antigen, refused_on, reason FROM imm_refusals WHERE person_id = $1 ORDER BY id",
    )
    .bind(person_id)
    .fetch_all(&mut *conn)
    .await?
    {
        let Some(date) = date_of(r.try_get("refused_on")?) else {
            continue;
        };
        child.refusals.push(Refusal {
            antigen: r.try_get("antigen")?,
            date,
            reason: r.try_get("reason")?,
        });
    }
    Ok(Some(child))
}

/// One derived fact: a valid dose and how timely it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidDose {
    pub label: String,
    pub given_on: Date,
    pub by_12m: bool,
    pub by_24m: bool,
    pub timely: bool,
}

/// The valid doses of a child under `calendar` on `on` (pure).
pub fn valid_doses(calendar: &Calendar, child: &ChildRecord, on: Date) -> Vec<ValidDose> {
    let f = forecast::forecast(calendar, child, on);
    let one = Span::months(12).add_to(child.birth);
    let two = Span::months(24).add_to(child.birth);
    let mut out: Vec<ValidDose> = Vec::new();
    for e in f.evaluations.iter().filter(|e| e.is_valid()) {
        let (Some(antigen), Some(n), Some(label)) = (&e.antigen, e.dose_number, &e.label) else {
            continue;
        };
        let given = e.administration.date;
        let timely = calendar
            .series_for(antigen)
            .and_then(|s| s.doses.iter().find(|d| d.number == n))
            .map(|rule| {
                let recommended = rule.recommended_age.add_to(child.birth);
                given < calendar.overdue_after.add_to(recommended)
            })
            .unwrap_or(false);
        if out.iter().any(|v| &v.label == label) {
            continue;
        }
        out.push(ValidDose {
            label: label.clone(),
            given_on: given,
            by_12m: given < one,
            by_24m: given < two,
            timely,
        });
    }
    if forecast::hepb_birth_dose_within_24h(child.birth, &f.evaluations) {
        let given = forecast::dose_date(&f.evaluations, "HepB", 1).expect("checked above");
        out.push(ValidDose {
            label: HEPB_BIRTH_DOSE.into(),
            given_on: given,
            by_12m: true,
            by_24m: true,
            timely: true,
        });
    }
    out
}

/// Re-derives one child's valid doses; call inside the transaction that changed them.
pub async fn refresh_child(
    conn: &mut AnyConnection,
    calendars: &[Calendar],
    person_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM imm_valid_doses WHERE person_id = $1")
        .bind(person_id)
        .execute(&mut *conn)
        .await?;
    let Some(child) = child_record(conn, person_id).await? else {
        return Ok(());
    };
    if child.administrations.is_empty() {
        return Ok(());
    }
    let on = today();
    let facts = valid_doses(in_force(calendars, on), &child, on);
    // One statement per 100 facts rather than one per fact: this runs inside
    // every dose's transaction, and a child has a few dozen facts at most, so
    // a single round trip usually does. 100 rows × 7 values stays far below
    // both databases' limit on parameters.
    for chunk in facts.chunks(100) {
        let mut sql = Sql::new(
            "INSERT INTO imm_valid_doses (person_id, label, given_on, given_year, by_12m, by_24m, timely) VALUES ",
        );
        for (i, v) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" })
                .push_arg(person_id)
                .push(", ")
                .push_arg(v.label.clone())
                .push(", ")
                .push_arg(iso(v.given_on))
                .push(", ")
                .push_arg(v.given_on.year() as i64)
                .push(", ")
                .push_arg(v.by_12m as i64)
                .push(", ")
                .push_arg(v.by_24m as i64)
                .push(", ")
                .push_arg(v.timely as i64)
                .push(")");
        }
        sql.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Re-derives every child with a recorded dose (after a calendar edit, a merge,
/// or on `bala immunization refresh`). Returns the number of children.
pub async fn refresh_all(
    conn: &mut AnyConnection,
    calendars: &[Calendar],
) -> Result<usize, sqlx::Error> {
    let ids: Vec<i64> = sqlx::query("SELECT DISTINCT person_id FROM imm_doses ORDER BY person_id")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    sqlx::query("DELETE FROM imm_valid_doses")
        .execute(&mut *conn)
        .await?;
    for id in &ids {
        refresh_child(conn, calendars, *id).await?;
    }
    Ok(ids.len())
}

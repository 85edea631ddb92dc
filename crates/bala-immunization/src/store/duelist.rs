//! Due and defaulter lists, zero-dose and under-immunized children for an area:
//! the outreach lists a nurse prints in the morning.
//!
//! Lists are computed by running the engine over every child of the area (one
//! query each for children, doses, exceptions and caregivers), so they always
//! agree with the card; a district of a few thousand children takes
//! milliseconds (see docs/benchmarks.md).

use super::{calendars, iso, Error};
use crate::forecast::{self, Administration, ChildRecord, Contraindication, Refusal, SeriesStatus};
use bala_core::{parse_date, AreaCode, Date, Sex};
use bala_registry::{households::is_caregiver, scope};
use bala_store::audit::{self, Actor, NewEntry};
use bala_store::sqlx::{any::AnyRow, Row};
use bala_store::{Db, Sql};
use serde::Serialize;
use std::collections::HashMap;

/// Children older than this are not on outreach lists (the last calendar dose is at 16).
const MAX_AGE_YEARS: i32 = 18;

#[derive(Debug, Clone, Serialize)]
pub struct Caregiver {
    pub kind: String,
    pub name: String,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DueItem {
    pub antigen: String,
    pub label: String,
    /// `due`, `overdue` or `not-yet-due` (due before the list's horizon).
    pub status: String,
    pub earliest: String,
    pub recommended: String,
    pub days_overdue: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub person_id: i64,
    pub name: String,
    pub iin: Option<String>,
    pub birth_date: String,
    pub sex: String,
    pub area_code: String,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub caregivers: Vec<Caregiver>,
    pub items: Vec<DueItem>,
    /// The longest delay among the items, for sorting and the "by how long" filter.
    pub max_days_overdue: i64,
}

/// What list to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Due or overdue on the date, or becoming due by the horizon.
    Due,
    /// Overdue only (defaulters).
    Overdue,
    /// No valid DTP1 by 12 months (aged 12–59 months).
    ZeroDose,
    /// DTP1 but no DTP3 by 12 months (aged 12–59 months).
    UnderImmunized,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "due" | "" => Some(Kind::Due),
            "overdue" => Some(Kind::Overdue),
            "zero-dose" => Some(Kind::ZeroDose),
            "under-immunized" => Some(Kind::UnderImmunized),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Kind::Due => "due",
            Kind::Overdue => "overdue",
            Kind::ZeroDose => "zero-dose",
            Kind::UnderImmunized => "under-immunized",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Filter {
    pub area: String,
    pub kind: Kind,
    pub on: Date,
    /// Also list doses that become due up to this date (a week's plan).
    pub until: Option<Date>,
    /// Only children overdue by at least this many days.
    pub min_days_overdue: i64,
}

struct Child {
    entry: Entry,
    record: ChildRecord,
}

fn date(r: &AnyRow, col: &str) -> Result<Option<Date>, Error> {
    Ok(r.try_get::<Option<String>, _>(col)?
        .and_then(|s| parse_date(&s).ok()))
}

/// People of the area (within scope) born in the last 18 years.
fn children_sql(scope_: &[AreaCode], area: &str, on: Date, select: &str) -> Sql {
    let mut sql = Sql::new(select);
    sql.push(" FROM people p WHERE p.merged_into IS NULL AND p.birth_date >= ")
        .push_arg(format!("{:04}-01-01", on.year() - MAX_AGE_YEARS))
        .push(" AND p.birth_date <= ")
        .push_arg(iso(on))
        .push(" AND p.area_code IN (SELECT descendant FROM area_closure WHERE ancestor = ")
        .push_arg(area)
        .push(") AND ");
    scope::push_area_within(&mut sql, "p.area_code", scope_);
    sql
}

async fn load(db: &Db, scope_: &[AreaCode], area: &str, on: Date) -> Result<Vec<Child>, Error> {
    let rows = children_sql(scope_, area, on, "SELECT p.*")
        .query()
        .fetch_all(db.reader())
        .await?;
    let mut children: Vec<Child> = Vec::with_capacity(rows.len());
    let mut index = HashMap::new();
    for r in &rows {
        let Some(birth) = date(r, "birth_date")? else {
            continue;
        };
        let sex: String = r.try_get("sex")?;
        let id: i64 = r.try_get("id")?;
        let name = [
            r.try_get::<String, _>("family_name")?,
            r.try_get::<String, _>("given_name")?,
            r.try_get::<Option<String>, _>("patronymic")?
                .unwrap_or_default(),
        ]
        .join(" ")
        .trim()
        .to_string();
        index.insert(id, children.len());
        children.push(Child {
            entry: Entry {
                person_id: id,
                name,
                iin: r.try_get("iin")?,
                birth_date: iso(birth),
                sex: sex.clone(),
                area_code: r.try_get("area_code")?,
                address: r.try_get("address")?,
                phone: r.try_get("phone")?,
                caregivers: Vec::new(),
                items: Vec::new(),
                max_days_overdue: 0,
            },
            record: ChildRecord::new(birth, sex.parse::<Sex>().ok()),
        });
    }
    let ids: Vec<i64> = children.iter().map(|c| c.entry.person_id).collect();
    let sub = |select: &str, from: &str, tail: &str| by_ids(select, from, tail, &ids, None);
    for r in fetch(
        db,
        sub(
            "SELECT x.id, x.person_id, x.given_on, x.product, x.lot_expiry, x.flags",
            "imm_doses x",
            " AND x.status = 'recorded'",
        ),
    )
    .await?
    {
        let Some(&i) = index.get(&r.try_get::<i64, _>("person_id")?) else {
            continue;
        };
        let Some(d) = date(&r, "given_on")? else {
            continue;
        };
        let mut a = Administration::new(d, r.try_get::<String, _>("product")?);
        a.id = Some(r.try_get::<i64, _>("id")?.to_string());
        a.lot_expiry = date(&r, "lot_expiry")?;
        a.flags = super::facts::flags_from_text(&r.try_get::<String, _>("flags")?);
        children[i].record.administrations.push(a);
    }
    for r in fetch(db, sub("SELECT x.*", "imm_contraindications x", "")).await? {
        if let Some(&i) = index.get(&r.try_get::<i64, _>("person_id")?) {
            children[i].record.contraindications.push(Contraindication {
                antigen: r.try_get("antigen")?,
                since: date(&r, "since")?,
                until: date(&r, "until")?,
                reason: r.try_get("reason")?,
            });
        }
    }
    for r in fetch(db, sub("SELECT x.*", "imm_refusals x", "")).await? {
        if let (Some(&i), Some(d)) = (
            index.get(&r.try_get::<i64, _>("person_id")?),
            date(&r, "refused_on")?,
        ) {
            children[i].record.refusals.push(Refusal {
                antigen: r.try_get("antigen")?,
                date: d,
                reason: r.try_get("reason")?,
            });
        }
    }
    // Caregivers' own records must be in scope too.
    let caregivers = by_ids(
        "SELECT x.person_id, x.kind, q.family_name, q.given_name, q.phone",
        // CROSS JOIN keeps SQLite's planner from driving the join from every
        // person in scope (24 s per chunk on a national register); PostgreSQL
        // plans it the same either way.
        "relationships x CROSS JOIN people q",
        " AND q.id = x.related_id",
        &ids,
        Some(scope_),
    );
    for r in fetch(db, caregivers).await? {
        let kind: String = r.try_get("kind")?;
        if !is_caregiver(&kind) {
            continue;
        }
        if let Some(&i) = index.get(&r.try_get::<i64, _>("person_id")?) {
            children[i].entry.caregivers.push(Caregiver {
                kind,
                name: format!(
                    "{} {}",
                    r.try_get::<String, _>("family_name")?,
                    r.try_get::<String, _>("given_name")?
                ),
                phone: r.try_get("phone")?,
            });
        }
    }
    Ok(children)
}

/// Queries over the listed children, in chunks of ids so no statement exceeds
/// either database's parameter limit. `q_scope`, when given, restricts the
/// joined person `q` to those areas.
fn by_ids(
    select: &str,
    from: &str,
    tail: &str,
    ids: &[i64],
    q_scope: Option<&[AreaCode]>,
) -> Vec<Sql> {
    ids.chunks(500)
        .map(|chunk| {
            let mut sql = Sql::new(&format!("{select} FROM {from} WHERE x.person_id IN ("));
            sql.push_list(chunk.iter().copied()).push(")").push(tail);
            if let Some(areas) = q_scope {
                sql.push(" AND ");
                scope::push_area_within(&mut sql, "q.area_code", areas);
            }
            sql
        })
        .collect()
}

async fn fetch(db: &Db, queries: Vec<Sql>) -> Result<Vec<AnyRow>, Error> {
    let mut out = Vec::new();
    for q in &queries {
        out.extend(q.query().fetch_all(db.reader()).await?);
    }
    Ok(out)
}

/// Draws a list for an area the caller may see; audited as one read naming the
/// area and how many children were listed.
pub async fn list(
    db: &Db,
    actor: &Actor,
    scope_: &[AreaCode],
    f: &Filter,
) -> Result<Vec<Entry>, Error> {
    let cals = calendars::all(db).await?;
    let cal = calendars::in_force(&cals, f.on);
    let children = load(db, scope_, &f.area, f.on).await?;
    let mut out = Vec::new();
    for mut c in children {
        let fc = forecast::forecast(cal, &c.record, f.on);
        let keep = match f.kind {
            Kind::Due | Kind::Overdue => {
                for s in &fc.series {
                    let Some(next) = &s.next else { continue };
                    let status = match s.status {
                        SeriesStatus::Overdue => "overdue",
                        SeriesStatus::Due if f.kind == Kind::Due => "due",
                        SeriesStatus::NotYetDue
                            if f.kind == Kind::Due
                                && f.until.is_some_and(|u| next.recommended <= u) =>
                        {
                            "not-yet-due"
                        }
                        _ => continue,
                    };
                    c.entry.items.push(DueItem {
                        antigen: s.antigen.clone(),
                        label: next.label.clone(),
                        status: status.into(),
                        earliest: iso(next.earliest),
                        recommended: iso(next.recommended),
                        days_overdue: next.days_overdue,
                    });
                }
                c.entry.max_days_overdue = c
                    .entry
                    .items
                    .iter()
                    .filter_map(|i| i.days_overdue)
                    .max()
                    .unwrap_or(0);
                !c.entry.items.is_empty() && c.entry.max_days_overdue >= f.min_days_overdue
            }
            Kind::ZeroDose | Kind::UnderImmunized => {
                let months = bala_core::date::age_months(c.record.birth, f.on);
                let hit = if f.kind == Kind::ZeroDose {
                    forecast::is_zero_dose(c.record.birth, &fc.evaluations, f.on)
                } else {
                    forecast::is_under_immunized(c.record.birth, &fc.evaluations, f.on)
                };
                (12..60).contains(&months) && hit
            }
        };
        if keep {
            out.push(c.entry);
        }
    }
    out.sort_by(|a, b| {
        b.max_days_overdue
            .cmp(&a.max_days_overdue)
            .then_with(|| a.name.cmp(&b.name))
    });
    audit::record(
        db,
        &[NewEntry::by(actor, "immunization.list.view", "area", &f.area).with_details(
            serde_json::json!({ "kind": f.kind.code(), "on": iso(f.on), "children": out.len() }),
        )],
    )
    .await?;
    Ok(out)
}

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
use bala_store::{Db, Sql, Value};
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

fn date(v: &Value) -> Option<Date> {
    v.text().and_then(|s| parse_date(s).ok())
}

fn text(v: &Value) -> String {
    v.text().unwrap_or_default().to_string()
}

/// People of the area (within scope) born in the last 18 years; `join` adds
/// their rows of another table.
fn children_sql(scope_: &[AreaCode], area: &str, on: Date, select: &str, join: &str) -> Sql {
    let mut sql = Sql::new(select);
    sql.push(" FROM people p")
        .push(join)
        .push(" WHERE p.merged_into IS NULL AND p.birth_date >= ")
        .push_arg(format!("{:04}-01-01", on.year() - MAX_AGE_YEARS))
        .push(" AND p.birth_date <= ")
        .push_arg(iso(on))
        .push(" AND p.area_code IN (SELECT descendant FROM area_closure WHERE ancestor = ")
        .push_arg(area)
        .push(") AND ");
    scope::push_area_within(&mut sql, "p.area_code", scope_);
    sql
}

/// Loads the children of the area with everything the engine needs. Rows come
/// through [`Db::rows`] (a due list reads tens of thousands of dose rows).
async fn load(db: &Db, scope_: &[AreaCode], area: &str, on: Date) -> Result<Vec<Child>, Error> {
    let rows = db
        .rows(&children_sql(
            scope_,
            area,
            on,
            "SELECT p.id, p.family_name, p.given_name, p.patronymic, p.iin, p.birth_date, p.sex, p.area_code, p.address, p.phone",
            "",
        ))
        .await?;
    let mut children: Vec<Child> = Vec::with_capacity(rows.len());
    let mut index = HashMap::new();
    for r in &rows {
        let (Some(id), Some(birth)) = (r[0].int(), date(&r[5])) else {
            continue;
        };
        let sex = text(&r[6]);
        let name = [text(&r[1]), text(&r[2]), text(&r[3])]
            .join(" ")
            .trim()
            .to_string();
        index.insert(id, children.len());
        children.push(Child {
            entry: Entry {
                person_id: id,
                name,
                iin: r[4].text().map(str::to_string),
                birth_date: iso(birth),
                sex: sex.clone(),
                area_code: text(&r[7]),
                address: r[8].text().map(str::to_string),
                phone: r[9].text().map(str::to_string),
                caregivers: Vec::new(),
                items: Vec::new(),
                max_days_overdue: 0,
            },
            record: ChildRecord::new(birth, sex.parse::<Sex>().ok()),
        });
    }
    let ids: Vec<i64> = children.iter().map(|c| c.entry.person_id).collect();
    // The children's doses and exceptions, joined to the same selection of
    // children (one query each, no id lists); sorted here, not by the database.
    let of_children = |select: &str, join: &str| children_sql(scope_, area, on, select, join);
    let mut doses = db
        .rows(&of_children(
            "SELECT x.person_id, x.id, x.given_on, x.product, x.lot_expiry, x.flags",
            " JOIN imm_doses x ON x.person_id = p.id AND x.status = 'recorded'",
        ))
        .await?;
    doses.sort_unstable_by(|a, b| {
        (a[0].int(), a[2].text(), a[1].int()).cmp(&(b[0].int(), b[2].text(), b[1].int()))
    });
    for r in doses {
        let (Some(&i), Some(d)) = (r[0].int().and_then(|p| index.get(&p)), date(&r[2])) else {
            continue;
        };
        let mut a = Administration::new(d, text(&r[3]));
        a.id = r[1].int().map(|id| id.to_string());
        a.lot_expiry = date(&r[4]);
        a.flags = super::facts::flags_from_text(r[5].text().unwrap_or_default());
        children[i].record.administrations.push(a);
    }
    let mut contraindications = db
        .rows(&of_children(
            "SELECT x.person_id, x.antigen, x.since, x.until, x.reason, x.id",
            " JOIN imm_contraindications x ON x.person_id = p.id",
        ))
        .await?;
    contraindications.sort_unstable_by_key(|r| r[5].int());
    for r in contraindications {
        if let Some(&i) = r[0].int().and_then(|p| index.get(&p)) {
            children[i].record.contraindications.push(Contraindication {
                antigen: text(&r[1]),
                since: date(&r[2]),
                until: date(&r[3]),
                reason: text(&r[4]),
            });
        }
    }
    let mut refusals = db
        .rows(&of_children(
            "SELECT x.person_id, x.antigen, x.refused_on, x.reason, x.id",
            " JOIN imm_refusals x ON x.person_id = p.id",
        ))
        .await?;
    refusals.sort_unstable_by_key(|r| r[4].int());
    for r in refusals {
        if let (Some(&i), Some(d)) = (r[0].int().and_then(|p| index.get(&p)), date(&r[2])) {
            children[i].record.refusals.push(Refusal {
                antigen: text(&r[1]),
                date: d,
                reason: text(&r[3]),
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
        let kind = text(&r[1]);
        if !is_caregiver(&kind) {
            continue;
        }
        if let Some(&i) = r[0].int().and_then(|p| index.get(&p)) {
            children[i].entry.caregivers.push(Caregiver {
                kind,
                name: format!("{} {}", text(&r[2]), text(&r[3])),
                phone: r[4].text().map(str::to_string),
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
    ids.chunks(2_000)
        .map(|chunk| {
            let mut sql = Sql::new(&format!("{select} FROM {from} WHERE x.person_id IN ("));
            sql.push_list(chunk.iter().copied()).push(")");
            if let Some(areas) = q_scope {
                sql.push(" AND ");
                scope::push_area_within(&mut sql, "q.area_code", areas);
            }
            sql.push(tail);
            sql
        })
        .collect()
}

async fn fetch(db: &Db, queries: Vec<Sql>) -> Result<Vec<Vec<Value>>, Error> {
    let mut out = Vec::new();
    for q in &queries {
        out.extend(db.rows(q).await?);
    }
    Ok(out)
}

/// The child's entry if it belongs on the list `f` draws.
fn judge(cal: &crate::calendar::Calendar, f: &Filter, mut c: Child) -> Option<Entry> {
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
    keep.then_some(c.entry)
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
    // The engine runs over every child: split them over the cores (a district
    // is thousands of children; each is judged on its own).
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = children.len().div_ceil(threads).max(1);
    let mut children = children;
    let mut parts = Vec::new();
    while children.len() > per {
        let rest = children.split_off(per);
        parts.push(std::mem::replace(&mut children, rest));
    }
    parts.push(children);
    let mut out: Vec<Entry> = std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| {
                s.spawn(move || {
                    part.into_iter()
                        .filter_map(|c| judge(cal, f, c))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
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

//! Due and defaulter lists, zero-dose and under-immunized children for an area:
//! the outreach lists a nurse prints in the morning.
//!
//! Lists are computed by running the engine over every child of the area, so
//! they always agree with the card. The children and their doses come from
//! two covering indexes keyed by area (migration 3005, ADR 0016), exceptions
//! joined to the same selection; the reads run at once and the engine is
//! split over the cores; caregivers are read for the listed children only
//! (figures: docs/benchmarks.md).

use super::{calendars, iso, Error};
use crate::forecast::{self, Administration, ChildRecord, Contraindication, Refusal, SeriesStatus};
use bala_core::{parse_date, AreaCode, Date, Sex};
use bala_registry::{households::is_caregiver, scope};
use bala_store::audit::{self, Actor, NewEntry};
use bala_store::{Cells, Db, Sql};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

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

/// The recorded doses of the children living in the area (within scope) whose
/// ids lie in `ids`, from the index `imm_doses_area`: a dose's area follows
/// its child (migration 3005), so a district's doses lie together, ordered by
/// person within each area. Doses of children not on the list (too old,
/// merged away) are dropped when dealt.
fn doses_sql(scope_: &[AreaCode], area: &str, ids: &std::ops::RangeInclusive<i64>) -> Sql {
    let mut sql = Sql::new(
        "SELECT x.person_id, x.id, x.given_on, x.product, x.lot_expiry, x.flags FROM imm_doses x
         WHERE x.status = 'recorded' AND x.area_code IN (SELECT descendant FROM area_closure WHERE ancestor = ",
    );
    sql.push_arg(area)
        .push(") AND x.person_id >= ")
        .push_arg(*ids.start())
        .push(" AND x.person_id <= ")
        .push_arg(*ids.end())
        .push(" AND ");
    scope::push_area_within(&mut sql, "x.area_code", scope_);
    sql
}

/// Splits the children's ids into `parts` ranges holding about as many
/// children each, so their doses can be read on as many connections at once.
fn id_ranges(children: &[Child], parts: usize) -> Vec<std::ops::RangeInclusive<i64>> {
    let mut ids: Vec<i64> = children.iter().map(|c| c.entry.person_id).collect();
    ids.sort_unstable();
    let per = ids.len().div_ceil(parts.max(1)).max(1);
    ids.chunks(per).map(|c| c[0]..=c[c.len() - 1]).collect()
}

/// Loads the children of the area with everything the engine needs, without
/// id lists in SQL: the children, then their doses by area ([`doses_sql`]) in
/// as many id ranges as there are cores, while contraindications and refusals
/// are read joined to the same selection of children. Every query
/// runs on its own connection and decodes its rows as it reads them
/// ([`Db::rows_as`]); the doses are most of the rows, hence their split.
async fn load(db: &Db, scope_: &[AreaCode], area: &str, on: Date) -> Result<Vec<Child>, Error> {
    let of_children = |select: &str, join: &str| children_sql(scope_, area, on, select, join);
    let people = of_children(
        "SELECT p.id, p.family_name, p.given_name, p.patronymic, p.iin, p.birth_date, p.sex, p.area_code, p.address, p.phone",
        "",
    );
    let contraindications = of_children(
        "SELECT x.person_id, x.antigen, x.since, x.until, x.reason, x.id",
        " JOIN imm_contraindications x ON x.person_id = p.id",
    );
    let refusals = of_children(
        "SELECT x.person_id, x.antigen, x.refused_on, x.reason, x.id",
        " JOIN imm_refusals x ON x.person_id = p.id",
    );
    let doses = async {
        let children = db.rows_as(&people, child_of).await?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let reads = id_ranges(&children, cores)
            .iter()
            .map(|ids| doses_sql(scope_, area, ids))
            .collect();
        let doses = read_at_once(db, reads, "doses", dose_of).await?;
        Ok::<_, Error>((children, doses))
    };
    let ((mut children, doses), contraindications, refusals) = tokio::try_join!(
        doses,
        async { Ok::<_, Error>(db.rows_as(&contraindications, contraindication_of).await?) },
        async { Ok::<_, Error>(db.rows_as(&refusals, refusal_of).await?) },
    )?;
    let index: HashMap<i64, usize> = children
        .iter()
        .enumerate()
        .map(|(i, c)| (c.entry.person_id, i))
        .collect();
    deal(&mut children, &index, doses, |c, a| {
        c.record.administrations.push(a)
    });
    deal(&mut children, &index, contraindications, |c, x| {
        c.record.contraindications.push(x)
    });
    deal(&mut children, &index, refusals, |c, r| {
        c.record.refusals.push(r)
    });
    Ok(children)
}

/// Runs the queries at once, each on its own connection, decoding rows as they
/// are read, and gathers the rows of all (in no particular order).
async fn read_at_once<T, F>(db: &Db, sqls: Vec<Sql>, what: &str, decode: F) -> Result<Vec<T>, Error>
where
    T: Send + 'static,
    F: Fn(&dyn Cells) -> Option<T> + Copy + Send + 'static,
{
    let mut reads = tokio::task::JoinSet::new();
    for sql in sqls {
        let db = db.clone();
        reads.spawn(async move { db.rows_as(&sql, decode).await });
    }
    let mut rows = Vec::new();
    while let Some(part) = reads.join_next().await {
        rows.extend(
            part.map_err(|e| bala_store::StoreError::Other(format!("reading {what}: {e}")))??,
        );
    }
    Ok(rows)
}

/// Rows decoded on the reading thread: (person, sort key, what the child gets).
type Dealt<K, T> = Vec<(i64, K, T)>;

/// Sorts the rows by person and key and hands each to the child (or list
/// entry) of that person in that order (the database is not asked to sort).
fn deal<C, K: Ord, T>(
    children: &mut [C],
    index: &HashMap<i64, usize>,
    mut rows: Dealt<K, T>,
    mut give: impl FnMut(&mut C, T),
) {
    rows.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    for (person, _, item) in rows {
        if let Some(&i) = index.get(&person) {
            give(&mut children[i], item);
        }
    }
}

/// Ids per caregiver query: well under both databases' parameter limits.
const CAREGIVER_CHUNK: usize = 2000;

/// Adds the caregivers' contacts to the entries of the list, once it is drawn:
/// a caregiver is a person of their own, scattered over the register, so each
/// costs a seek; a district's list holds a fraction of its children (on the
/// synthetic cohort 1 065 of 7 055 overdue), and reading caregivers for every
/// child was the slowest of the list's reads. Caregivers' own records must be
/// in scope too; that is checked here, not in SQL, where an area condition
/// beside the id list made PostgreSQL hash every person in scope (570 ms).
async fn add_caregivers(db: &Db, scope_: &[AreaCode], out: &mut [Entry]) -> Result<(), Error> {
    if out.is_empty() {
        return Ok(());
    }
    let Some(within) = scope::areas_within(scope_) else {
        return Ok(());
    };
    let within: HashSet<String> = db
        .rows_as(&within, |r| r.text(0).map(str::to_string))
        .await?
        .into_iter()
        .collect();
    let reads = out.chunks(CAREGIVER_CHUNK).map(|chunk| {
        // CROSS JOIN keeps SQLite's planner from driving the join from every
        // related person.
        let mut sql = Sql::new(
            "SELECT x.person_id, x.kind, q.family_name, q.given_name, q.phone, q.id, q.area_code \
             FROM relationships x CROSS JOIN people q WHERE x.person_id IN (",
        );
        sql.push_list(chunk.iter().map(|e| e.person_id))
            .push(") AND q.id = x.related_id");
        sql
    });
    let rows = read_at_once(db, reads.collect(), "caregivers", |r| {
        Some((caregiver_of(r)?, r.text(6)?.to_string()))
    })
    .await?;
    let rows = rows
        .into_iter()
        .filter(|(_, area)| within.contains(area))
        .map(|(g, _)| g)
        .collect();
    let index: HashMap<i64, usize> = out
        .iter()
        .enumerate()
        .map(|(i, e)| (e.person_id, i))
        .collect();
    deal(out, &index, rows, |e, g| e.caregivers.push(g));
    Ok(())
}

fn day(r: &dyn Cells, i: usize) -> Option<Date> {
    r.text(i).and_then(|s| parse_date(s).ok())
}

fn owned(r: &dyn Cells, i: usize) -> String {
    r.text(i).unwrap_or_default().to_string()
}

/// `p.id, family, given, patronymic, iin, birth, sex, area, address, phone`.
fn child_of(r: &dyn Cells) -> Option<Child> {
    let (id, birth) = (r.int(0)?, day(r, 5)?);
    let sex = owned(r, 6);
    let name = [r.text(1), r.text(2), r.text(3)]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Some(Child {
        entry: Entry {
            person_id: id,
            name,
            iin: r.text(4).map(str::to_string),
            birth_date: iso(birth),
            area_code: owned(r, 7),
            address: r.text(8).map(str::to_string),
            phone: r.text(9).map(str::to_string),
            caregivers: Vec::new(),
            items: Vec::new(),
            max_days_overdue: 0,
            sex: sex.clone(),
        },
        record: ChildRecord::new(birth, sex.parse::<Sex>().ok()),
    })
}

/// `person, id, given_on, product, lot_expiry, flags`, in date order. The
/// storage id orders same-day doses here and is not copied into the record:
/// lists never link a verdict back to its dose.
fn dose_of(r: &dyn Cells) -> Option<(i64, (Date, i64), Administration)> {
    let (person, id, given) = (r.int(0)?, r.int(1)?, day(r, 2)?);
    let mut a = Administration::new(given, owned(r, 3));
    a.lot_expiry = day(r, 4);
    a.flags = super::facts::flags_from_text(r.text(5).unwrap_or_default());
    Some((person, (given, id), a))
}

/// `person, antigen, since, until, reason, id`.
fn contraindication_of(r: &dyn Cells) -> Option<(i64, i64, Contraindication)> {
    let c = Contraindication {
        antigen: owned(r, 1),
        since: day(r, 2),
        until: day(r, 3),
        reason: owned(r, 4),
    };
    Some((r.int(0)?, r.int(5)?, c))
}

/// `person, antigen, refused_on, reason, id`.
fn refusal_of(r: &dyn Cells) -> Option<(i64, i64, Refusal)> {
    let refusal = Refusal {
        antigen: owned(r, 1),
        date: day(r, 2)?,
        reason: owned(r, 3),
    };
    Some((r.int(0)?, r.int(4)?, refusal))
}

/// `person, kind, family, given, phone, related id`; other relations dropped.
fn caregiver_of(r: &dyn Cells) -> Option<(i64, i64, Caregiver)> {
    let kind = r.text(1).filter(|k| is_caregiver(k))?.to_string();
    let g = Caregiver {
        kind,
        name: format!(
            "{} {}",
            r.text(2).unwrap_or_default(),
            r.text(3).unwrap_or_default()
        ),
        phone: r.text(4).map(str::to_string),
    };
    Some((r.int(0)?, r.int(5)?, g))
}

/// The child's entry if it belongs on the list `f` draws.
fn judge(cal: &crate::calendar::Calendar, f: &Filter, mut c: Child) -> Option<Entry> {
    // Lists show dates and statuses, never the engine's sentences.
    let fc = forecast::forecast_with(cal, &c.record, f.on, forecast::Detail::Lean);
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
    add_caregivers(db, scope_, &mut out).await?;
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

//! Due and defaulter lists, zero-dose and under-immunized children for an area:
//! the outreach lists a nurse prints in the morning.
//!
//! Lists are computed by running the engine over the children of the area, so
//! they always agree with the card. Most children of a district have nothing
//! due on a given day: a due list skips those whose `imm_first_due` row
//! (migration 3008, ADR 0020) puts the first date anything can be due after
//! its horizon, and reads the others from the covering index of people by
//! area (migration 3005), then their doses by area and person, their
//! contraindications, refusals and caregivers, all at once; the engine is
//! split over the cores (figures: docs/benchmarks.md).

use super::{calendars, iso, Error};
use crate::forecast::{self, Administration, ChildRecord, Contraindication, Refusal, SeriesStatus};
use bala_core::{parse_date, AreaCode, Date, Sex};
use bala_registry::{households::is_caregiver, scope};
use bala_store::audit::{self, Actor, NewEntry};
use bala_store::{Backend, Cells, Db, Sql};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

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

/// The children a list reads: those of the area (within scope) born in its
/// age window, less those whose row of `imm_first_due` (migration 3008, ADR
/// 0020) shows that nothing can be due for them by the list's horizon
/// ([`Selection::skippable`]).
struct Selection<'a> {
    scope: &'a [AreaCode],
    area: &'a str,
    /// Birth dates, both ends included.
    born: (Date, Date),
    due_by: Option<DueBy<'a>>,
}

/// The list's date, horizon and calendar, which a row of `imm_first_due`
/// must be derived for to speak for a child.
struct DueBy<'a> {
    calendar_id: &'a str,
    on: Date,
    /// The last day a dose can become due and be listed.
    horizon: Date,
}

impl<'a> Selection<'a> {
    fn new(scope: &'a [AreaCode], f: &'a Filter, calendar_id: &'a str) -> Selection<'a> {
        let on = f.on;
        let oldest = Date::from_calendar_date(on.year() - MAX_AGE_YEARS, time::Month::January, 1)
            .unwrap_or(Date::MIN);
        let (born, due_by) = match f.kind {
            Kind::Due | Kind::Overdue => {
                let horizon = match (f.kind, f.until) {
                    (Kind::Due, Some(until)) => until.max(on),
                    _ => on,
                };
                let due_by = DueBy {
                    calendar_id,
                    on,
                    horizon,
                };
                ((oldest, on), Some(due_by))
            }
            // Judged between 12 and 59 months of age (exactly by `judge`):
            // 12 months are at least 365 days, 60 at most 1 827.
            Kind::ZeroDose | Kind::UnderImmunized => {
                let days = |n| on - time::Duration::days(n);
                ((days(1827), days(365)), None)
            }
        };
        Selection {
            scope,
            area: &f.area,
            born,
            due_by,
        }
    }

    /// `select` over the selected children (`p`) whose id is `part` modulo
    /// `parts`: the parts are read at once, each on its own connection.
    fn sql(&self, select: &str, part: usize, parts: usize) -> Sql {
        let mut sql = Sql::new(select);
        sql.push(" FROM people p WHERE p.merged_into IS NULL AND p.birth_date >= ")
            .push_arg(iso(self.born.0))
            .push(" AND p.birth_date <= ")
            .push_arg(iso(self.born.1))
            .push(" AND p.area_code IN (SELECT descendant FROM area_closure WHERE ancestor = ")
            .push_arg(self.area)
            .push(") AND ");
        scope::push_area_within(&mut sql, "p.area_code", self.scope);
        if parts > 1 {
            sql.push(&format!(" AND p.id % {parts} = {part}"));
        }
        sql
    }

    /// `person_id, birth_date, sex` of the rows of `imm_first_due` in the
    /// list's areas that put the first due date after the horizon, derived
    /// under the list's calendar from no dose after its date: the child of
    /// such a row is skipped if the row's birth date and sex are still the
    /// child's ([`skipped`]). Rows are keyed by area, so these are read as a
    /// range (a join from the children was a seek per child, and PostgreSQL
    /// planned it as one).
    fn skippable(&self) -> Option<Sql> {
        let d = self.due_by.as_ref()?;
        let mut sql = Sql::new(
            "SELECT n.person_id, n.birth_date, n.sex FROM imm_first_due n \
             WHERE n.area_code IN (SELECT descendant FROM area_closure WHERE ancestor = ",
        );
        sql.push_arg(self.area)
            .push(") AND n.calendar_id = ")
            .push_arg(d.calendar_id)
            .push(" AND n.last_dose_on <= ")
            .push_arg(iso(d.on))
            .push(" AND (n.first_due IS NULL OR n.first_due > ")
            .push_arg(iso(d.horizon))
            .push(")");
        Some(sql)
    }
}

/// The [`Selection::skippable`] rows by child: (birth date, sex) as derived.
type Skippable = HashMap<i64, (String, String)>;

/// Whether a skippable row speaks for the child of people row `r` ([`child_of`]'s
/// columns): one derived from their current birth date and sex, as stored (a
/// child moved within the list's areas keeps what their row says; one moved
/// in from elsewhere is read). Checked before the row is decoded.
fn skipped(rows: &Skippable, r: &dyn Cells) -> bool {
    r.int(0)
        .and_then(|id| rows.get(&id))
        .is_some_and(|(birth, sex)| r.text(5) == Some(birth) && r.text(6) == Some(sex))
}

/// `sql` (ending in a condition's place, on a table `x`) restricted to the
/// children `ids`.
fn person_in(mut sql: Sql, ids: &[i64]) -> Sql {
    sql.push("x.person_id IN (")
        .push_list(ids.iter().copied())
        .push(")");
    sql
}

/// The recorded doses of `children`, in parts of at most `per` children of
/// one area each: by (area, person) from the index `imm_doses_area`, where a
/// district's doses lie together (a dose's area follows its child, migration
/// 3005), rather than a seek per child anywhere in the person index.
fn doses_sql(children: &[Child], per: usize) -> Vec<Sql> {
    let mut by_area: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for c in children {
        by_area
            .entry(c.entry.area_code.as_str())
            .or_default()
            .push(c.entry.person_id);
    }
    let mut out = Vec::new();
    for (area, ids) in by_area {
        for chunk in ids.chunks(per) {
            let mut sql = Sql::new(
                "SELECT x.person_id, x.id, x.given_on, x.product, x.lot_expiry, x.flags FROM imm_doses x WHERE x.status = 'recorded' AND x.area_code = ",
            );
            sql.push_arg(area).push(" AND ");
            out.push(person_in(sql, chunk));
        }
    }
    out
}

/// Ids per query: well under both databases' parameter limits.
const ID_CHUNK: usize = 2000;

/// Ids per query of a large table (doses, relationships), read in parts at
/// once: one part per core. PostgreSQL gets parts of at most 400: beyond a
/// few hundred ids its planner estimates a scan of the whole table cheaper
/// than an index probe per id (national synthetic register: 741 caregiver
/// ids took 37–74 ms by a parallel scan of `relationships`, 400 took 7 ms by
/// its key). SQLite gets no more parts than cores: each part is a reader
/// connection faulting its own pages in.
fn ids_per_part(db: &Db, ids: usize) -> usize {
    let per = ids.div_ceil(cores()).clamp(1, ID_CHUNK);
    match db.backend() {
        Backend::Postgres => per.min(400),
        Backend::Sqlite => per,
    }
}

/// How many parts a list's reads and its engine run are split into.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Loads the children a list reads ([`Selection`]) with everything the engine
/// needs, and their caregivers: the skippable rows, then the children, then
/// at once their doses ([`doses_sql`]), contraindications, refusals and
/// caregivers by id. The children and their doses are read in parts: every
/// query runs on its own connection and decodes its rows as it reads them
/// ([`Db::rows_as`]).
async fn load(db: &Db, selection: &Selection<'_>) -> Result<Vec<Child>, Error> {
    let cores = cores();
    let people = (0..cores)
        .map(|part| {
            selection.sql(
                "SELECT p.id, p.family_name, p.given_name, p.patronymic, p.iin, p.birth_date, p.sex, p.area_code, p.address, p.phone",
                part,
                cores,
            )
        })
        .collect();
    let skippable: Skippable = match selection.skippable() {
        Some(sql) => db.rows_as(&sql, skippable_of).await?.into_iter().collect(),
        None => HashMap::new(),
    };
    let skippable = std::sync::Arc::new(skippable);
    let mut children = read_at_once(db, people, "children", move |r| {
        (!skipped(&skippable, r)).then(|| child_of(r)).flatten()
    })
    .await?;
    let ids: Vec<i64> = children.iter().map(|c| c.entry.person_id).collect();
    let per = ids_per_part(db, ids.len());
    let sqls = |select: &str, chunk: usize| -> Vec<Sql> {
        ids.chunks(chunk)
            .map(|c| person_in(Sql::new(select), c))
            .collect()
    };
    let (doses, contraindications, refusals, caregivers) = tokio::try_join!(
        read_at_once(db, doses_sql(&children, per), "doses", dose_of),
        read_at_once(
            db,
            sqls(
                "SELECT x.person_id, x.antigen, x.since, x.until, x.reason, x.id FROM imm_contraindications x WHERE ",
                ID_CHUNK
            ),
            "contraindications",
            contraindication_of
        ),
        read_at_once(
            db,
            sqls(
                "SELECT x.person_id, x.antigen, x.refused_on, x.reason, x.id FROM imm_refusals x WHERE ",
                ID_CHUNK
            ),
            "refusals",
            refusal_of
        ),
        caregivers_of(db, selection.scope, &ids),
    )?;
    let index: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    deal(&mut children, &index, doses, |c, a| {
        c.record.administrations.push(a)
    });
    deal(&mut children, &index, contraindications, |c, x| {
        c.record.contraindications.push(x)
    });
    deal(&mut children, &index, refusals, |c, r| {
        c.record.refusals.push(r)
    });
    deal(&mut children, &index, caregivers, |c, g| {
        c.entry.caregivers.push(g)
    });
    Ok(children)
}

/// Runs the queries at once, each on its own connection, decoding rows as they
/// are read, and gathers the rows of all (in no particular order).
async fn read_at_once<T, F>(db: &Db, sqls: Vec<Sql>, what: &str, decode: F) -> Result<Vec<T>, Error>
where
    T: Send + 'static,
    F: Fn(&dyn Cells) -> Option<T> + Clone + Send + 'static,
{
    let mut reads = tokio::task::JoinSet::new();
    for sql in sqls {
        let (db, decode) = (db.clone(), decode.clone());
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

/// The caregivers' contacts of the children `ids` (those the engine will
/// judge, read at once with their doses): a caregiver is a person of their
/// own, scattered over the register, so each costs a seek, and reading them
/// for every child of a district was the slowest of the list's reads.
/// Caregivers' own records must be in scope too; that is checked here, not
/// in SQL, where an area condition beside the id list made PostgreSQL hash
/// every person in scope (570 ms).
async fn caregivers_of(
    db: &Db,
    scope_: &[AreaCode],
    ids: &[i64],
) -> Result<Dealt<i64, Caregiver>, Error> {
    let Some(within) = scope::areas_within(scope_).filter(|_| !ids.is_empty()) else {
        return Ok(Vec::new());
    };
    let within: HashSet<String> = db
        .rows_as(&within, |r| r.text(0).map(str::to_string))
        .await?
        .into_iter()
        .collect();
    let per = ids_per_part(db, ids.len());
    let reads = ids.chunks(per).map(|chunk| {
        // CROSS JOIN keeps SQLite's planner from driving the join from every
        // related person.
        let mut sql = Sql::new(
            "SELECT x.person_id, x.kind, q.family_name, q.given_name, q.phone, q.id, q.area_code \
             FROM relationships x CROSS JOIN people q WHERE x.person_id IN (",
        );
        sql.push_list(chunk.iter().copied())
            .push(") AND q.id = x.related_id");
        sql
    });
    let rows = read_at_once(db, reads.collect(), "caregivers", |r| {
        Some((caregiver_of(r)?, r.text(6)?.to_string()))
    })
    .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, area)| within.contains(area))
        .map(|(g, _)| g)
        .collect())
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

/// `person_id, birth_date, sex` of `imm_first_due`.
fn skippable_of(r: &dyn Cells) -> Option<(i64, (String, String))> {
    Some((r.int(0)?, (owned(r, 1), owned(r, 2))))
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
    let children = load(db, &Selection::new(scope_, f, &cal.id)).await?;
    // The engine runs over every child: split them over the cores (a district
    // is thousands of children; each is judged on its own).
    let per = children.len().div_ceil(cores()).max(1);
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

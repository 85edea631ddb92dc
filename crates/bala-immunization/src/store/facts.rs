//! A child's record as the forecasting engine sees it, and the derived
//! valid-dose facts coverage is counted from.
//!
//! [`refresh_child`] is called inside every transaction that changes a child's
//! doses, refusals or contraindications (and after merges and calendar edits),
//! so `imm_facts` always agrees with the engine. A child's facts are one row
//! (migration 3011, ADR 0023): its valid doses packed in one text column
//! ([`pack`]) beside the area and birth they were counted with.

use super::calendars::in_force;
use super::{iso, today};
use crate::calendar::Calendar;
use crate::forecast::{self, AdminFlag, Administration, ChildRecord, Contraindication, Refusal};
use crate::span::Span;
use bala_core::{parse_date, Date, Sex};
use bala_store::sqlx::{self, AnyConnection, Row};
use bala_store::{query::Value, Batch, Bulk, Sql, StoreError};
use std::collections::HashMap;

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
    let Some(p) = sqlx::query("SELECT birth_date, sex, area_code FROM people WHERE id = $1")
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
    let area: String = p.try_get("area_code")?;
    let mut child = ChildRecord::new(birth, sex.parse::<Sex>().ok());
    // Under the child's area: a dose's is always its child's (migration 3015).
    let doses = sqlx::query(
        "SELECT id, given_on, product, lot_expiry, flags FROM imm_doses
         WHERE area_code = $1 AND person_id = $2 AND status = 'recorded' ORDER BY given_on, id",
    )
    .bind(area)
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

/// The valid doses among `administrations` of a child born on `birth` (pure).
/// Validity depends only on the doses and the birth date (not on sex,
/// refusals or contraindications), which lets the bulk refresh skip the rest.
pub fn valid_doses_of(
    calendar: &Calendar,
    birth: Date,
    administrations: &[Administration],
    on: Date,
) -> Vec<ValidDose> {
    let evaluations =
        forecast::evaluate_with(calendar, birth, administrations, on, forecast::Detail::Lean);
    valid_doses_from(calendar, birth, &evaluations)
}

/// The valid doses among the engine's verdicts on a child born on `birth` (pure).
fn valid_doses_from(
    calendar: &Calendar,
    birth: Date,
    evaluations: &[forecast::DoseEvaluation],
) -> Vec<ValidDose> {
    let one = Span::months(12).add_to(birth);
    let two = Span::months(24).add_to(birth);
    let mut out: Vec<ValidDose> = Vec::new();
    for e in evaluations.iter().filter(|e| e.is_valid()) {
        let (Some(antigen), Some(n), Some(label)) = (&e.antigen, e.dose_number, &e.label) else {
            continue;
        };
        let given = e.administration.date;
        let timely = calendar
            .series_for(antigen)
            .and_then(|s| s.doses.iter().find(|d| d.number == n))
            .map(|rule| {
                let recommended = rule.recommended_age.add_to(birth);
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
    if forecast::hepb_birth_dose_within_24h(birth, evaluations) {
        let given = forecast::dose_date(evaluations, "HepB", 1).expect("checked above");
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

/// The valid doses of a child under `calendar` on `on` (pure).
pub fn valid_doses(calendar: &Calendar, child: &ChildRecord, on: Date) -> Vec<ValidDose> {
    valid_doses_of(calendar, child.birth, &child.administrations, on)
}

/// A child's valid doses as `imm_facts.valid` stores them: one entry per dose,
/// `given-on by12m by24m timely label` (`2024-07-30 111 DTP1`), separated by
/// `;`. The label comes last and escapes `\` and `;` with a backslash, as
/// calendar labels are free text. Migration 3011 writes the same format in SQL.
pub fn pack(valid: &[ValidDose]) -> String {
    let mut out = String::with_capacity(valid.len() * 20);
    for (i, v) in valid.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(&iso(v.given_on));
        out.push(' ');
        for flag in [v.by_12m, v.by_24m, v.timely] {
            out.push(if flag { '1' } else { '0' });
        }
        out.push(' ');
        for c in v.label.chars() {
            if c == '\\' || c == ';' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// The valid doses [`pack`] stored (pure). An entry that does not parse is
/// skipped rather than failing the child's whole record.
pub fn unpack(text: &str) -> Vec<ValidDose> {
    let mut out = Vec::new();
    let mut entry = String::new();
    let mut chars = text.chars();
    loop {
        match chars.next() {
            Some('\\') => entry.extend(chars.next()),
            Some(';') => out.extend(unpack_entry(&std::mem::take(&mut entry))),
            Some(c) => entry.push(c),
            None => {
                out.extend(unpack_entry(&entry));
                return out;
            }
        }
    }
}

fn unpack_entry(entry: &str) -> Option<ValidDose> {
    let mut parts = entry.splitn(3, ' ');
    let given_on = parse_date(parts.next()?).ok()?;
    let flags = parts.next()?.as_bytes();
    let label = parts.next()?;
    if flags.len() != 3 || label.is_empty() {
        return None;
    }
    Some(ValidDose {
        label: label.to_string(),
        given_on,
        by_12m: flags[0] == b'1',
        by_24m: flags[1] == b'1',
        timely: flags[2] == b'1',
    })
}

/// A child's facts as stored: the valid doses with where and when the child
/// was counted, so the counters can be decremented exactly after a move or a
/// birth-date correction.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Facts {
    valid: Vec<ValidDose>,
    area_code: String,
    birth_year: i64,
    /// The child's birth date (for the counters of children judged at one;
    /// `None` only for facts stored without one).
    birth: Option<Date>,
}

impl Facts {
    fn of(child: &Born, valid: Vec<ValidDose>) -> Facts {
        Facts {
            valid,
            area_code: child.area_code.clone(),
            birth_year: child.birth.year() as i64,
            birth: Some(child.birth),
        }
    }

    /// From `area_code, birth_year, birth_date, valid` as stored.
    fn stored(area_code: String, birth_year: i64, birth: Option<&str>, valid: &str) -> Facts {
        Facts {
            valid: unpack(valid),
            area_code,
            birth_year,
            birth: birth.and_then(|b| parse_date(b).ok()),
        }
    }
}

/// A child of the register as the derivation needs them: birth date, area
/// and sex as stored (the sex only for `imm_first_due`).
#[derive(Debug, Clone)]
pub struct Born {
    pub birth: Date,
    pub area_code: String,
    pub sex: String,
}

/// A child's row of `imm_first_due` (migration 3008, ADR 0020): the first
/// date anything can be due, stamped with what it was derived from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FirstDue {
    area_code: String,
    birth: Date,
    sex: String,
    calendar_id: String,
    last_dose_on: Date,
    first_due: Option<Date>,
}

const FIRST_DUE_COLS: [&str; 7] = [
    "area_code",
    "person_id",
    "birth_date",
    "sex",
    "calendar_id",
    "last_dose_on",
    "first_due",
];

fn first_due_row(person: i64, f: &FirstDue) -> Vec<Value> {
    vec![
        Value::from(f.area_code.as_str()),
        Value::from(person),
        Value::from(iso(f.birth)),
        Value::from(f.sex.as_str()),
        Value::from(f.calendar_id.as_str()),
        Value::from(iso(f.last_dose_on)),
        Value::Text(f.first_due.map(iso)),
    ]
}

/// A child's valid doses (evaluated on `on`) and `imm_first_due` row (pure);
/// one pass of the engine serves both unless a dose is dated after `on`.
fn derive_child(
    calendar: &Calendar,
    on: Date,
    child: &Born,
    admins: &[Administration],
) -> (Vec<ValidDose>, Option<FirstDue>) {
    let lean = forecast::Detail::Lean;
    let evaluations = forecast::evaluate_with(calendar, child.birth, admins, on, lean);
    let valid = valid_doses_from(calendar, child.birth, &evaluations);
    let Some(last) = admins.iter().map(|a| a.date).max() else {
        return (valid, None);
    };
    let record = ChildRecord::new(child.birth, child.sex.parse::<Sex>().ok());
    let first_due = if last <= on {
        forecast::first_due(calendar, &record, &evaluations)
    } else {
        let every = forecast::evaluate_with(calendar, child.birth, admins, last, lean);
        forecast::first_due(calendar, &record, &every)
    };
    let row = FirstDue {
        area_code: child.area_code.clone(),
        birth: child.birth,
        sex: child.sex.clone(),
        calendar_id: calendar.id.clone(),
        last_dose_on: last,
        first_due,
    };
    (valid, Some(row))
}

/// Counter changes: `counts` for `imm_counts`, (kind, area, year, label) →
/// (n, by 12m, by 24m, timely); `judged` for `imm_judged`, (area, birth date)
/// → (DTP1 by 12m, DTP3 by 12m).
///
/// Keys name areas and labels by number ([`Names`]): a load counts every
/// valid dose of every child in twice, and keys of owned strings cost four
/// allocations a dose even when the counter existed (2.3 M doses for a
/// register of 100 000 children).
#[derive(Default)]
struct Deltas {
    names: Names,
    counts: HashMap<(&'static str, u32, i64, u32), [i64; 4], Fast>,
    judged: HashMap<(u32, Date), [i64; 2], Fast>,
}

type Fast = foldhash::fast::RandomState;

/// Area codes and dose labels, numbered in order of first appearance.
#[derive(Default)]
struct Names {
    numbers: HashMap<String, u32, Fast>,
    names: Vec<String>,
}

impl Names {
    fn number(&mut self, name: &str) -> u32 {
        if let Some(n) = self.numbers.get(name) {
            return *n;
        }
        let n = u32::try_from(self.names.len()).expect("fewer than 4 billion names");
        self.names.push(name.to_string());
        self.numbers.insert(name.to_string(), n);
        n
    }

    fn name(&self, number: u32) -> String {
        self.names[number as usize].clone()
    }
}

/// Counts a child's facts in (`sign` 1) or out (-1).
fn add(d: &mut Deltas, f: &Facts, sign: i64) {
    for dose in &f.valid {
        add_dose(d, f, dose, sign);
    }
}

fn add_dose(d: &mut Deltas, f: &Facts, dose: &ValidDose, sign: i64) {
    let v = [
        sign,
        sign * dose.by_12m as i64,
        sign * dose.by_24m as i64,
        sign * dose.timely as i64,
    ];
    let area = d.names.number(&f.area_code);
    let label = d.names.number(&dose.label);
    for (kind, year) in [
        ("cohort", f.birth_year),
        ("period", dose.given_on.year() as i64),
    ] {
        let e = d.counts.entry((kind, area, year, label)).or_insert([0; 4]);
        for i in 0..4 {
            e[i] += v[i];
        }
    }
    let slot = match dose.label.as_str() {
        "DTP1" => 0,
        "DTP3" => 1,
        _ => return,
    };
    if let (true, Some(birth)) = (dose.by_12m, f.birth) {
        d.judged.entry((area, birth)).or_insert([0; 2])[slot] += sign;
    }
}

/// Moves counters by deltas, creating them at zero first: this head, then
/// rows of values, then [`COUNT_UPSERT`].
const COUNT_DELTA: &str =
    "INSERT INTO imm_counts (kind, area_code, year, label, n, by_12m, by_24m, timely) VALUES ";
const COUNT_UPSERT: &str =
    " ON CONFLICT (kind, year, area_code, label) DO UPDATE SET n = imm_counts.n + excluded.n,
        by_12m = imm_counts.by_12m + excluded.by_12m, by_24m = imm_counts.by_24m + excluded.by_24m,
        timely = imm_counts.timely + excluded.timely";

/// The same for the judged-at-one counters of (area, birth date).
const JUDGED_DELTA: &str = "INSERT INTO imm_judged (area_code, birth_date, dtp1, dtp3) VALUES ";
const JUDGED_UPSERT: &str =
    " ON CONFLICT (birth_date, area_code) DO UPDATE SET dtp1 = imm_judged.dtp1 + excluded.dtp1,
        dtp3 = imm_judged.dtp3 + excluded.dtp3";

/// The counter tables, emptied before a rebuild counts every child in again.
const COUNTERS: [&str; 2] = ["imm_counts", "imm_judged"];

impl Deltas {
    /// The statements that move the counters, a few hundred counters each
    /// (an import moves tens of thousands), in key order so that two writers
    /// take the counter rows' locks in the same order; zero changes are left out.
    fn into_statements(self) -> Vec<Sql> {
        let names = &self.names;
        let counts = changed(
            self.counts
                .into_iter()
                .map(|((kind, area, year, label), v)| {
                    ((kind, names.name(area), year, names.name(label)), v)
                }),
        )
        .into_iter()
        .map(|((kind, area, year, label), v)| {
            let mut row = vec![
                Value::from(kind),
                Value::from(area),
                Value::from(year),
                Value::from(label),
            ];
            row.extend(v.map(Value::from));
            row
        });
        let judged = changed(
            self.judged
                .into_iter()
                .map(|((area, birth), v)| ((names.name(area), birth), v)),
        )
        .into_iter()
        .map(|((area, birth), v)| {
            vec![
                Value::from(area),
                Value::from(iso(birth)),
                Value::from(v[0]),
                Value::from(v[1]),
            ]
        });
        let mut out = multi_row(COUNT_DELTA, COUNT_UPSERT, &counts.collect::<Vec<_>>());
        out.extend(multi_row(
            JUDGED_DELTA,
            JUDGED_UPSERT,
            &judged.collect::<Vec<_>>(),
        ));
        out
    }
}

/// The counters of `deltas` that change, in key order.
fn changed<K: Ord, const N: usize>(
    deltas: impl IntoIterator<Item = (K, [i64; N])>,
) -> Vec<(K, [i64; N])> {
    let mut out: Vec<_> = deltas.into_iter().filter(|(_, v)| *v != [0; N]).collect();
    out.sort_unstable();
    out
}

/// `head` (`INSERT INTO … VALUES `) over `rows`, a few hundred per statement,
/// each statement ending in `tail` (`ON CONFLICT …`, or nothing).
fn multi_row(head: &str, tail: &str, rows: &[Vec<Value>]) -> Vec<Sql> {
    rows.chunks(200)
        .map(|chunk| {
            let mut sql = Sql::new(head);
            for (i, row) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.push("(").push_list(row.iter().cloned()).push(")");
            }
            sql.push(tail);
            sql
        })
        .collect()
}

async fn apply(conn: &mut AnyConnection, deltas: Deltas) -> Result<(), sqlx::Error> {
    for sql in deltas.into_statements() {
        sql.query().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn stored_facts(
    conn: &mut AnyConnection,
    person_id: i64,
) -> Result<Option<Facts>, sqlx::Error> {
    let Some(r) = sqlx::query(&format!("{FACTS_SELECT} = $1"))
        .bind(person_id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Facts::stored(
        r.try_get(0)?,
        r.try_get(1)?,
        r.try_get::<Option<String>, _>(2)?.as_deref(),
        &r.try_get::<String, _>(3)?,
    )))
}

/// A child's stored facts, as [`Facts::stored`] reads them; ends in `person_id`
/// for `= $1` or an id list.
const FACTS_SELECT: &str =
    "SELECT area_code, birth_year, birth_date, valid FROM imm_facts WHERE person_id";

/// Inserts children's facts, several rows per statement.
async fn insert_facts(conn: &mut AnyConnection, facts: &[(i64, Facts)]) -> Result<(), sqlx::Error> {
    let rows: Vec<Vec<Value>> = facts.iter().map(|(p, f)| fact_row(*p, f)).collect();
    insert_values(conn, "imm_facts", &FACT_COLS, &rows).await
}

/// Inserts `rows` into `columns` of `table`, several rows per statement (the
/// same columns a bulk session's [`Batch`] of that table names).
async fn insert_values(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[&str],
    rows: &[Vec<Value>],
) -> Result<(), sqlx::Error> {
    let head = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    for sql in multi_row(&head, "", rows) {
        sql.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Re-derives one child's valid doses and moves the counters by the
/// difference; call inside the transaction that changed the child's record.
pub async fn refresh_child(
    conn: &mut AnyConnection,
    calendars: &[Calendar],
    person_id: i64,
) -> Result<(), sqlx::Error> {
    let mut deltas = Deltas::default();
    if let Some(old) = stored_facts(conn, person_id).await? {
        add(&mut deltas, &old, -1);
        sqlx::query("DELETE FROM imm_facts WHERE person_id = $1")
            .bind(person_id)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("DELETE FROM imm_first_due WHERE person_id = $1")
        .bind(person_id)
        .execute(&mut *conn)
        .await?;
    let place = sqlx::query("SELECT area_code, merged_into, sex FROM people WHERE id = $1")
        .bind(person_id)
        .fetch_optional(&mut *conn)
        .await?;
    let child = child_record(conn, person_id).await?;
    // A merged-away record counts for nothing: its doses moved to the survivor.
    if let (Some(child), Some(place)) = (child, place) {
        if place.try_get::<Option<i64>, _>("merged_into")?.is_none()
            && !child.administrations.is_empty()
        {
            let on = today();
            let born = Born {
                birth: child.birth,
                area_code: place.try_get("area_code")?,
                sex: place.try_get("sex")?,
            };
            let calendar = in_force(calendars, on);
            let (valid, first) = derive_child(calendar, on, &born, &child.administrations);
            if let Some(first) = first {
                insert_values(
                    conn,
                    "imm_first_due",
                    &FIRST_DUE_COLS,
                    &[first_due_row(person_id, &first)],
                )
                .await?;
            }
            if !valid.is_empty() {
                let new = Facts::of(&born, valid);
                add(&mut deltas, &new, 1);
                insert_facts(conn, &[(person_id, new)]).await?;
            }
        }
    }
    apply(conn, deltas).await
}

/// What [`derive`] finds for a slice of children: their facts and
/// first-due rows, to be written ([`Derived::batches`]).
#[derive(Default)]
pub struct Derived {
    facts: Vec<(i64, Facts)>,
    first_due: Vec<(i64, FirstDue)>,
    /// Children with doses.
    children: usize,
}

/// The facts and `imm_first_due` rows of the children in `people` from their
/// doses, which come sorted by person (pure). Children not in `people`
/// (merged away, or outside the slice) count for nothing.
fn derive(
    calendar: &Calendar,
    on: Date,
    people: &HashMap<i64, Born>,
    doses: &[(i64, Administration)],
) -> Derived {
    let mut out = Derived::default();
    for group in doses.chunk_by(|a, b| a.0 == b.0) {
        let person = group[0].0;
        let Some(child) = people.get(&person) else {
            continue;
        };
        out.children += 1;
        let admins: Vec<Administration> = group.iter().map(|(_, a)| a.clone()).collect();
        let (valid, first) = derive_child(calendar, on, child, &admins);
        out.first_due.extend(first.map(|f| (person, f)));
        if !valid.is_empty() {
            out.facts.push((person, Facts::of(child, valid)));
        }
    }
    out
}

impl Derived {
    /// Counts the derived facts in.
    fn count_in(&self, deltas: &mut Deltas) {
        for (_, f) in &self.facts {
            add(deltas, f, 1);
        }
    }

    fn first_due_rows(&self) -> Vec<Vec<Value>> {
        self.first_due
            .iter()
            .map(|(p, f)| first_due_row(*p, f))
            .collect()
    }

    fn fact_rows(&self) -> Vec<Vec<Value>> {
        self.facts.iter().map(|(p, f)| fact_row(*p, f)).collect()
    }

    /// The facts and first-due rows as rows to insert.
    pub fn batches(&self) -> Vec<Batch> {
        vec![
            Batch::new("imm_facts", &FACT_COLS, self.fact_rows()),
            Batch::new("imm_first_due", &FIRST_DUE_COLS, self.first_due_rows()),
        ]
    }

    /// Writes the facts and first-due rows in a bulk session.
    async fn insert(&self, bulk: &mut Bulk) -> Result<(), StoreError> {
        bulk.insert_all(self.batches()).await?;
        Ok(())
    }
}

/// A [`Born`] from `id, birth_date, area_code, sex` (as [`PEOPLE_SELECT`] reads them).
fn born_of(row: &[Value]) -> Option<(i64, Born)> {
    let birth = parse_date(row[1].text()?).ok()?;
    let born = Born {
        birth,
        area_code: text(&row[2]),
        sex: text(&row[3]),
    };
    Some((row[0].int()?, born))
}

/// Re-derives every child's valid doses and rebuilds the counters (after a
/// calendar edit, a restore, or the synthetic-data generator). Works through
/// the register one area at a time (its children, then their doses from one
/// stretch of the area index: the dose table has no index by person,
/// migration 3015), so memory is bounded by the largest area's doses, not
/// the nation's. Returns the number of children with doses.
pub async fn refresh_all(
    conn: &mut AnyConnection,
    calendars: &[Calendar],
) -> Result<usize, sqlx::Error> {
    sqlx::query("DELETE FROM imm_facts")
        .execute(&mut *conn)
        .await?;
    for table in COUNTERS {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("DELETE FROM imm_first_due")
        .execute(&mut *conn)
        .await?;
    let areas: Vec<String> = sqlx::query(AREAS_SELECT)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let on = today();
    let calendar = in_force(calendars, on);
    let mut children = 0;
    let mut deltas = Deltas::default();
    for area in &areas {
        let people: HashMap<i64, Born> = sqlx::query(&format!("{AREA_PEOPLE}$1"))
            .bind(area)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .filter_map(|r| {
                let id: i64 = r.try_get("id").ok()?;
                let born = Born {
                    birth: date_of(r.try_get("birth_date").ok()?)?,
                    area_code: r.try_get("area_code").ok()?,
                    sex: r.try_get("sex").ok()?,
                };
                Some((id, born))
            })
            .collect();
        let rows = sqlx::query(&format!("{AREA_DOSES}$1 ORDER BY person_id, given_on, id"))
            .bind(area)
            .fetch_all(&mut *conn)
            .await?;
        let mut admins = Vec::with_capacity(rows.len());
        for r in &rows {
            let Some(date) = date_of(r.try_get("given_on")?) else {
                continue;
            };
            let mut a = Administration::new(date, r.try_get::<String, _>("product")?);
            a.id = Some(r.try_get::<i64, _>("id")?.to_string());
            a.lot_expiry = date_of(r.try_get("lot_expiry")?);
            a.flags = flags_from_text(&r.try_get::<String, _>("flags")?);
            admins.push((r.try_get::<i64, _>("person_id")?, a));
        }
        let d = derive(calendar, on, &people, &admins);
        children += d.children;
        d.count_in(&mut deltas);
        insert_facts(conn, &d.facts).await?;
        insert_values(conn, "imm_first_due", &FIRST_DUE_COLS, &d.first_due_rows()).await?;
    }
    apply(conn, deltas).await?;
    Ok(children)
}

/// The areas people live in, for the rebuilds that go one area at a time.
const AREAS_SELECT: &str = "SELECT DISTINCT area_code FROM people ORDER BY area_code";

/// An area's unmerged people, for the rebuilds; followed by the area.
const AREA_PEOPLE: &str =
    "SELECT id, birth_date, area_code, sex FROM people WHERE merged_into IS NULL AND area_code = ";

/// An area's recorded doses (one stretch of `imm_doses_area`), for the
/// rebuilds; followed by the area.
const AREA_DOSES: &str =
    "SELECT person_id, id, given_on, product, lot_expiry, flags FROM imm_doses \
     WHERE status = 'recorded' AND area_code = ";

// ---- Bulk sessions (ADR 0013): the same derivation over a `Bulk` transaction,
// for imports, the synthetic generator and `bala immunization refresh`.

const FACT_COLS: [&str; 5] = [
    "person_id",
    "area_code",
    "birth_year",
    "birth_date",
    "valid",
];

fn fact_row(person: i64, f: &Facts) -> Vec<Value> {
    vec![
        Value::from(person),
        Value::from(f.area_code.as_str()),
        Value::from(f.birth_year),
        Value::from(f.birth.map(iso).unwrap_or_default()),
        Value::from(pack(&f.valid)),
    ]
}

fn text(v: &Value) -> String {
    v.text().unwrap_or_default().to_string()
}

fn ids_in(select: &str, ids: &[i64], tail: &str) -> Sql {
    let mut sql = Sql::new(select);
    sql.push(" IN (")
        .push_list(ids.iter().copied())
        .push(")")
        .push(tail);
    sql
}

/// Birth date, area and sex of the unmerged people `sql` selects.
async fn people_of(bulk: &mut Bulk, sql: &Sql) -> Result<HashMap<i64, Born>, StoreError> {
    let rows = bulk.fetch(sql).await?;
    Ok(rows.iter().filter_map(|r| born_of(r)).collect())
}

/// The recorded doses of `sql`'s people as (person, administration), sorted by
/// person, date and id here rather than by the database (a sort of a whole
/// slice in SQL costs more than the rest of the query).
async fn doses_of(bulk: &mut Bulk, sql: &Sql) -> Result<Vec<(i64, Administration)>, StoreError> {
    let rows = bulk.fetch(sql).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let (Some(person), Some(date)) = (r[0].int(), r[2].text().and_then(|d| parse_date(d).ok()))
        else {
            continue;
        };
        let id = r[1].int().unwrap_or_default();
        let mut a = Administration::new(date, text(&r[3]));
        a.id = Some(id.to_string());
        a.lot_expiry = r[4].text().and_then(|d| parse_date(d).ok());
        a.flags = flags_from_text(r[5].text().unwrap_or_default());
        out.push(((person, date, id), a));
    }
    out.sort_unstable_by_key(|(k, _)| *k);
    Ok(out.into_iter().map(|((p, _, _), a)| (p, a)).collect())
}

const PEOPLE_SELECT: &str =
    "SELECT id, birth_date, area_code, sex FROM people WHERE merged_into IS NULL AND id";

/// Doses are found under their child's area (the dose table has no index by
/// person, migration 3015): each child by primary key, then one probe of the
/// area index. Followed by a condition on `p.id`.
const DOSE_SELECT: &str = "SELECT d.person_id, d.id, d.given_on, d.product, d.lot_expiry, d.flags \
     FROM people p JOIN imm_doses d ON d.area_code = p.area_code AND d.person_id = p.id \
     WHERE d.status = 'recorded' AND p.id";

/// The tables holding one row per child with doses, which a bulk load writes
/// with [`Derived::batches`].
pub const PER_CHILD: [&str; 2] = ["imm_facts", "imm_first_due"];

/// The tables a bulk load of doses changes, for [`bala_store::Db::vacuum`].
pub const BULK_TABLES: [&str; 6] = [
    "people",
    "imm_doses",
    "imm_facts",
    "imm_counts",
    "imm_judged",
    "imm_first_due",
];

/// Re-derives the facts of children whose doses a bulk session changes, one
/// slice of children at a time, and moves the counters by the difference at
/// the end. The caller hands over each slice's doses — those recorded before
/// ([`BulkRefresh::recorded`]) with the ones it is writing — so a load need
/// not read back what it has just written.
pub struct BulkRefresh<'c> {
    calendar: &'c Calendar,
    on: Date,
    deltas: Deltas,
    children: usize,
}

/// A slice of children whose old facts are counted out and deleted
/// ([`BulkRefresh::clear`]), waiting for its new ones.
#[derive(Default)]
pub struct Cleared {
    people: HashMap<i64, Born>,
}

impl<'c> BulkRefresh<'c> {
    pub fn new(calendars: &'c [Calendar]) -> BulkRefresh<'c> {
        let on = today();
        BulkRefresh {
            calendar: in_force(calendars, on),
            on,
            deltas: Deltas::default(),
            children: 0,
        }
    }

    /// The recorded doses of `ids`, as (person, administration) sorted by
    /// person, date and id.
    pub async fn recorded(
        &self,
        bulk: &mut Bulk,
        ids: &[i64],
    ) -> Result<Vec<(i64, Administration)>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        doses_of(bulk, &ids_in(DOSE_SELECT, ids, "")).await
    }

    /// Replaces the facts of `ids` by those of `doses` (every recorded dose of
    /// these children, grouped by person), counting the difference: the three
    /// steps below, one after the other.
    pub async fn rederive(
        &mut self,
        bulk: &mut Bulk,
        ids: &[i64],
        prior: &[i64],
        doses: &[(i64, Administration)],
    ) -> Result<(), StoreError> {
        let cleared = self.clear(bulk, ids, prior).await?;
        self.derive(&cleared, doses).insert(bulk).await
    }

    /// Counts out and deletes the facts and first-due rows of a slice of
    /// children, and reads their birth date, area and sex. Only the `prior`
    /// children (those with doses recorded before) can have rows to delete: a
    /// child without doses has none, and a load of new children skips the
    /// lookup.
    pub async fn clear(
        &mut self,
        bulk: &mut Bulk,
        ids: &[i64],
        prior: &[i64],
    ) -> Result<Cleared, StoreError> {
        if ids.is_empty() {
            return Ok(Cleared::default());
        }
        let people = people_of(bulk, &ids_in(PEOPLE_SELECT, ids, "")).await?;
        self.clear_known(bulk, prior, people).await
    }

    /// As [`BulkRefresh::clear`], for a caller that has read the slice's
    /// children (`people`, by id: unmerged, with a birth date) in the same
    /// session: a load of new children then asks the database nothing here.
    pub async fn clear_known(
        &mut self,
        bulk: &mut Bulk,
        prior: &[i64],
        people: HashMap<i64, Born>,
    ) -> Result<Cleared, StoreError> {
        let old = if prior.is_empty() {
            Vec::new()
        } else {
            bulk.fetch(&ids_in(FACTS_SELECT, prior, "")).await?
        };
        for r in &old {
            let facts = Facts::stored(
                text(&r[0]),
                r[1].int().unwrap_or_default(),
                r[2].text(),
                r[3].text().unwrap_or_default(),
            );
            add(&mut self.deltas, &facts, -1);
        }
        if !old.is_empty() {
            bulk.execute(&ids_in("DELETE FROM imm_facts WHERE person_id", prior, ""))
                .await?;
        }
        if !prior.is_empty() {
            // Only children with doses have a row.
            bulk.execute(&ids_in(
                "DELETE FROM imm_first_due WHERE person_id",
                prior,
                "",
            ))
            .await?;
        }
        Ok(Cleared { people })
    }

    /// The new facts and first-due rows of a cleared slice from `doses` (every
    /// recorded dose of its children, grouped by person), counted in (pure:
    /// the caller writes them, and may meanwhile write the previous slice).
    pub fn derive(&mut self, cleared: &Cleared, doses: &[(i64, Administration)]) -> Derived {
        let d = derive(self.calendar, self.on, &cleared.people, doses);
        self.children += d.children;
        d.count_in(&mut self.deltas);
        d
    }

    /// Moves the counters by what the slices changed; returns how many of the
    /// children have doses.
    pub async fn finish(self, bulk: &mut Bulk) -> Result<usize, StoreError> {
        for sql in self.deltas.into_statements() {
            bulk.execute(&sql).await?;
        }
        Ok(self.children)
    }
}

/// Re-derives every child's facts and rebuilds the counters inside a bulk
/// session, one area at a time (as [`refresh_all`]), so memory is bounded by
/// the largest area's doses. `progress(done, total)` counts areas. Returns
/// the children with doses.
pub async fn rebuild_bulk(
    bulk: &mut Bulk,
    calendars: &[Calendar],
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<usize, StoreError> {
    bulk.execute(&Sql::new("DELETE FROM imm_facts")).await?;
    for table in COUNTERS {
        bulk.execute(&Sql::new(&format!("DELETE FROM {table}")))
            .await?;
    }
    bulk.execute(&Sql::new("DELETE FROM imm_first_due")).await?;
    let areas: Vec<String> = bulk
        .fetch(&Sql::new(AREAS_SELECT))
        .await?
        .iter()
        .map(|r| text(&r[0]))
        .collect();
    let on = today();
    let calendar = in_force(calendars, on);
    let mut children = 0;
    let mut deltas = Deltas::default();
    for (done, area) in areas.iter().enumerate() {
        let mut people_sql = Sql::new(AREA_PEOPLE);
        people_sql.push_arg(area.as_str());
        let people = people_of(bulk, &people_sql).await?;
        let mut doses_sql = Sql::new(AREA_DOSES);
        doses_sql.push_arg(area.as_str());
        let doses = doses_of(bulk, &doses_sql).await?;
        let d = derive(calendar, on, &people, &doses);
        children += d.children;
        d.count_in(&mut deltas);
        d.insert(bulk).await?;
        progress(done + 1, areas.len());
    }
    for sql in deltas.into_statements() {
        bulk.execute(&sql).await?;
    }
    Ok(children)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dose(label: &str, on: &str, flags: [bool; 3]) -> ValidDose {
        ValidDose {
            label: label.into(),
            given_on: parse_date(on).unwrap(),
            by_12m: flags[0],
            by_24m: flags[1],
            timely: flags[2],
        }
    }

    #[test]
    fn packed_facts_read_as_the_migration_writes_them() {
        let valid = [
            dose("DTP1", "2024-07-30", [true, true, true]),
            dose("MCV1", "2025-05-31", [false, true, false]),
        ];
        assert_eq!(pack(&valid), "2024-07-30 111 DTP1;2025-05-31 010 MCV1");
        assert_eq!(unpack("2024-07-30 111 DTP1;2025-05-31 010 MCV1"), valid);
        assert_eq!(unpack(""), vec![]);
    }

    #[test]
    fn labels_with_separators_survive_packing() {
        let valid = [
            dose("a;b", "2024-01-02", [true, false, true]),
            dose("c\\d e", "2024-01-03", [false, false, false]),
        ];
        assert_eq!(pack(&valid), "2024-01-02 101 a\\;b;2024-01-03 000 c\\\\d e");
        assert_eq!(unpack(&pack(&valid)), valid);
    }

    #[test]
    fn an_unreadable_entry_is_skipped_not_the_child() {
        let got = unpack(
            "2024-07-30 111 DTP1;garbage;2024-13-01 111 X;2024-08-30 11 Y;2024-09-29 001 DTP3",
        );
        let labels: Vec<&str> = got.iter().map(|v| v.label.as_str()).collect();
        assert_eq!(labels, ["DTP1", "DTP3"]);
    }

    proptest! {
        #[test]
        fn packing_round_trips(
            entries in proptest::collection::vec(
                ("\\PC{1,12}", 0i64..40_000, any::<[bool; 3]>()),
                0..30,
            )
        ) {
            let base = parse_date("2000-01-01").unwrap();
            let valid: Vec<ValidDose> = entries
                .into_iter()
                .map(|(label, days, f)| ValidDose {
                    label,
                    given_on: base + time::Duration::days(days),
                    by_12m: f[0],
                    by_24m: f[1],
                    timely: f[2],
                })
                .collect();
            prop_assert_eq!(unpack(&pack(&valid)), valid);
        }
    }
}

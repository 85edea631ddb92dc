//! Bulk import of historical registers (doses and people) from CSV or Excel,
//! with a dry run that names every rejected row and field.
//!
//! Re-importing a file changes nothing: a dose row's identity is its
//! `external_id` column, or else `csv:<child>:<product>:<date>`, stored unique;
//! a person row whose IIN is already registered, or who is a likely duplicate
//! of a registered person, is reported unchanged.

use super::{calendars, doses, facts, Error};
use crate::forecast::Administration;
use crate::table::{self, Row, Table};
use bala_core::{FieldError, ValidationErrors};
use bala_registry::people::{self, CreateOutcome, Ctx};
use bala_registry::person::PersonInput;
use bala_store::audit::{self, NewEntry};
use bala_store::sqlx::Row as _;
use bala_store::{time_fmt, Batch, Bulk, Db, References, Sql, Value};
use serde::Serialize;
// Keys come from uploaded files; foldhash is seeded per process.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

/// What became of one row.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RowOutcome {
    /// 1-based line in the file, the header being line 1.
    pub row: usize,
    /// `imported`, `unchanged` or `rejected`.
    pub outcome: String,
    /// The field at fault (for `rejected`), or the record concerned.
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub dry_run: bool,
    pub rows: usize,
    pub imported: usize,
    pub unchanged: usize,
    pub rejected: usize,
    pub outcomes: Vec<RowOutcome>,
    /// Seconds from the start at the end of each phase (checked, written …).
    pub phases: Vec<(String, f64)>,
}

impl Report {
    fn push(&mut self, row: usize, outcome: &str, field: &str, message: impl Into<String>) {
        match outcome {
            "imported" => self.imported += 1,
            "unchanged" => self.unchanged += 1,
            _ => self.rejected += 1,
        }
        self.outcomes.push(RowOutcome {
            row,
            outcome: outcome.into(),
            field: field.into(),
            message: message.into(),
        });
    }

    fn reject_all(&mut self, row: usize, e: &ValidationErrors) {
        for f in &e.0 {
            self.push(row, "rejected", &f.field, f.detail.clone());
        }
    }
}

/// Columns of a dose file. `iin` or `person_id` identifies the child.
pub const DOSE_COLUMNS: [&str; 9] = [
    "iin",
    "person_id",
    "product",
    "given_on",
    "lot",
    "lot_expiry",
    "facility",
    "flags",
    "external_id",
];

/// Columns of a people file.
pub const PEOPLE_COLUMNS: [&str; 11] = [
    "iin",
    "family_name",
    "given_name",
    "patronymic",
    "family_name_lat",
    "given_name_lat",
    "birth_date",
    "sex",
    "area_code",
    "address",
    "phone",
];

/// Reads a CSV or Excel file (by its first bytes) into a table with known columns.
pub fn read(bytes: &[u8], columns: &[&str]) -> Result<Table, ValidationErrors> {
    let t = if bytes.starts_with(b"PK") {
        table::from_xlsx(bytes)?
    } else {
        let text = std::str::from_utf8(bytes).map_err(|_| {
            ValidationErrors::single(FieldError::new(
                "file",
                "err-import-encoding",
                "the file is neither UTF-8 CSV nor an Excel workbook",
            ))
        })?;
        table::from_csv(text)?
    };
    let unknown: Vec<&String> = t
        .headers
        .iter()
        .filter(|h| !columns.contains(&h.as_str()))
        .collect();
    if !unknown.is_empty() {
        return Err(ValidationErrors::single(FieldError::new(
            "header",
            "err-import-columns",
            format!(
                "unknown column(s) {}; the columns are: {}",
                unknown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                columns.join(", ")
            ),
        )));
    }
    Ok(t)
}

/// Keys per lookup query. Each query is a round trip to PostgreSQL (about
/// half a millisecond), so a register's 1.15 M external ids in lists of 500
/// spent a second waiting; but from a few thousand keys on PostgreSQL plans
/// the list as a scan of the whole table (5 000 IINs: 40 ms a list, against
/// 2 ms for 500), so lists stay near the size where an index lookup wins.
const LOOKUP: usize = 1_000;

/// A child as the dose importer needs it.
struct Child {
    id: i64,
    birth: Option<bala_core::Date>,
    /// Where the child lives now: the area a new dose is filed under.
    area: String,
    /// As stored, for the child's first-due row.
    sex: String,
}

/// Codes of every area inside the caller's scope, read inside the import's
/// transaction.
async fn areas_within(
    bulk: &mut Bulk,
    scope: &[bala_core::AreaCode],
) -> Result<HashSet<String>, Error> {
    let Some(sql) = bala_registry::scope::areas_within(scope) else {
        return Ok(HashSet::new());
    };
    Ok(bulk
        .fetch(&sql)
        .await?
        .iter()
        .filter_map(|r| r[0].text().map(str::to_string))
        .collect())
}

/// The unmerged children whose `column` (iin or id) is one of `keys` and who
/// live in one of the `within` areas, read inside the import's own transaction.
/// The scope is checked here rather than in SQL: with an area condition beside
/// the id list SQLite's planner walks the whole scope by area for every chunk
/// (17 ms a chunk for a national scope against 0.8 ms by primary key).
/// Children are looked up by key, or, when the keys are most of the register,
/// found by reading it whole ([`names_most_of_the_register`]).
async fn children_by(
    bulk: &mut Bulk,
    within: &HashSet<String>,
    column: &str,
    keys: Vec<Value>,
) -> Result<HashMap<String, Child>, Error> {
    let mut out = HashMap::new();
    if keys.is_empty() {
        return Ok(out);
    }
    // A row read: kept if its child lives within the scope and, when the
    // register is read whole, is one of the keys.
    let mut keep = |r: &[Value], wanted: Option<&HashSet<String>>| {
        let (Some(id), Some(area)) = (r[0].int(), r[3].text()) else {
            return;
        };
        let key = if column == "iin" {
            let Some(iin) = r[1].text() else { return };
            iin.to_string()
        } else {
            id.to_string()
        };
        if !within.contains(area) || wanted.is_some_and(|w| !w.contains(&key)) {
            return;
        }
        let birth = r[2].text().and_then(|d| bala_core::parse_date(d).ok());
        out.insert(
            key,
            Child {
                id,
                birth,
                area: area.to_string(),
                sex: r[4].text().unwrap_or_default().to_string(),
            },
        );
    };
    if names_most_of_the_register(bulk, keys.len()).await? {
        let wanted: HashSet<String> = keys
            .iter()
            .filter_map(|k| match k {
                Value::Text(t) => t.clone(),
                Value::Int(i) => i.map(|i| i.to_string()),
                Value::Float(_) => None,
            })
            .collect();
        let mut after = i64::MIN;
        loop {
            let mut sql = Sql::new(CHILD_SELECT);
            sql.push("id > ")
                .push_arg(after)
                .push(" ORDER BY id LIMIT ")
                .push_arg(SCAN as i64);
            let rows = bulk.fetch(&sql).await?;
            for r in &rows {
                keep(r, Some(&wanted));
            }
            match rows.last().and_then(|r| r[0].int()) {
                Some(last) if rows.len() == SCAN => after = last,
                _ => break,
            }
        }
        return Ok(out);
    }
    for chunk in keys.chunks(LOOKUP) {
        let mut sql = Sql::new(CHILD_SELECT);
        sql.push(column)
            .push(" IN (")
            .push_list(chunk.iter().cloned())
            .push(")");
        for r in bulk.fetch(&sql).await? {
            keep(&r, None);
        }
    }
    Ok(out)
}

/// What the importer reads of a child; followed by a condition.
const CHILD_SELECT: &str =
    "SELECT id, iin, birth_date, area_code, sex FROM people WHERE merged_into IS NULL AND ";

/// People read per query when [`children_by`] reads the register whole: a
/// few dozen queries for a register of 190 000 people, memory bounded
/// whatever the register's size (and small enough that the store tests'
/// registers of a few thousand take more than one).
const SCAN: usize = 4_000;

/// Whether `keys` people are at least a third of the register, as in the
/// first load of a register's history. Reading the register whole in id
/// order then costs less than looking each key up: a lookup is an index probe
/// and a row, several times the cost of a row read in order. Counts at most
/// three times `keys` rows, so a national register is not counted whole for
/// a district's file.
async fn names_most_of_the_register(bulk: &mut Bulk, keys: usize) -> Result<bool, Error> {
    let bound = keys.saturating_mul(3) as i64;
    let mut sql = Sql::new("SELECT COUNT(*) FROM (SELECT 1 FROM people LIMIT ");
    sql.push_arg(bound).push(") AS p");
    let n = bulk
        .fetch(&sql)
        .await?
        .first()
        .and_then(|r| r[0].int())
        .unwrap_or(0);
    Ok(n < bound)
}

/// Which of `ext` are recorded already, and for whom.
async fn recorded_external_ids(
    bulk: &mut Bulk,
    ext: &[&str],
) -> Result<HashMap<String, i64>, Error> {
    let mut out = HashMap::new();
    // A register's first load finds no dose recorded, and need not ask for
    // each of its million ids (a second of index probes on SQLite).
    let any = bulk
        .fetch(&Sql::new(
            "SELECT id FROM imm_doses WHERE external_id IS NOT NULL LIMIT 1",
        ))
        .await?;
    if any.is_empty() {
        return Ok(out);
    }
    for chunk in ext.chunks(LOOKUP) {
        let mut sql =
            Sql::new("SELECT external_id, person_id FROM imm_doses WHERE external_id IN (");
        sql.push_list(chunk.iter().copied()).push(")");
        for r in bulk.fetch(&sql).await? {
            if let (Some(e), Some(p)) = (r[0].text(), r[1].int()) {
                out.insert(e.to_string(), p);
            }
        }
    }
    Ok(out)
}

/// Imports writing at least this many doses vacuum the tables they filled
/// (PostgreSQL; see [`bala_store::Db::vacuum`]).
const VACUUM_AFTER: usize = 50_000;

/// The columns of a dose row; the import's source, time and author, the
/// `historical` mark and the status are the same in every row (constants of
/// the batch, see [`dose_batch`]).
const DOSE_COLS: [&str; 9] = [
    "person_id",
    "given_on",
    "product",
    "facility",
    "lot",
    "lot_expiry",
    "flags",
    "area_code",
    "external_id",
];

/// A row that passed every check, waiting to be written.
struct Accepted<'c> {
    line: usize,
    person: i64,
    /// The child as read for the file: where it lives now (the area its
    /// doses are filed under), its birth date and sex.
    child: &'c Child,
    /// Boxed so the million-row vectors of checked rows stay a few words a
    /// row: every copy of one touches fresh memory, which this VM pays for
    /// (the kernel clears each new page).
    dose: Box<doses::ValidInput>,
    ext: String,
}

/// The children of a file by IIN and by person id.
type Children<'m> = (&'m HashMap<String, Child>, &'m HashMap<String, Child>);

/// Why a row was rejected: its child (one field, one reason), or the dose's
/// own checks.
enum Rejected {
    Child(&'static str, String),
    Dose(ValidationErrors),
}

/// What the checks make of one row.
type Checked<'c> = Result<Accepted<'c>, Rejected>;

/// Checks one row of a dose file (line `line`): the child (by IIN or person
/// id, among `children`, in the caller's areas), then the dose against the
/// calendar. Pure, so rows are checked on every core.
fn check_row<'c>(
    row: Row<'_>,
    line: usize,
    (by_iin, by_id): Children<'c>,
    cal: &crate::calendar::Calendar,
    source: &str,
) -> Checked<'c> {
    let get = |c: &str| row.cell(c);
    let reject = |field, why| Err(Rejected::Child(field, why));
    let (iin, pid) = (get("iin"), get("person_id"));
    let child = if !iin.is_empty() {
        match by_iin.get(iin) {
            Some(c) => c,
            // A mistyped IIN says what is wrong with it, not just "not found".
            None => {
                return reject(
                    "iin",
                    match bala_core::Iin::parse(iin) {
                        Err(e) => format!("IIN {iin} is not valid: {e}"),
                        Ok(_) => format!("no child with IIN {iin} in your areas"),
                    },
                )
            }
        }
    } else if pid.parse::<i64>().is_err() {
        return reject("iin", "give the child's iin or person_id".into());
    } else {
        match by_id.get(pid) {
            Some(c) => c,
            None => return reject("person_id", "no such child in your areas".into()),
        }
    };
    let Some(birth) = child.birth else {
        return reject("person_id", "the child's birth date is not recorded".into());
    };
    let input = doses::DoseInput {
        product: get("product").into(),
        given_on: get("given_on").into(),
        facility: get("facility").into(),
        lot: get("lot").into(),
        lot_expiry: get("lot_expiry").into(),
        historical: true,
        flags: get("flags")
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        ..Default::default()
    };
    let dose = Box::new(doses::check(cal, birth, &input).map_err(Rejected::Dose)?);
    let ext = match get("external_id") {
        "" => format!(
            "{source}:{}:{}:{}",
            child.id,
            dose.product,
            super::iso(dose.given_on)
        ),
        s => s.to_string(),
    };
    Ok(Accepted {
        line,
        person: child.id,
        child,
        dose,
        ext,
    })
}

/// Checks every row, in as many parts as there are cores; returns each row's
/// line and outcome in file order, part by part (left apart rather than
/// copied into one vector). `progress` hears from the first part.
fn check_all<'c>(
    file: &Table,
    check: &(dyn Fn(usize, Row<'_>) -> Checked<'c> + Sync),
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Vec<Vec<(usize, Checked<'c>)>> {
    let total = file.len();
    let parts = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let size = total.div_ceil(parts).max(1);
    let part = |rows: std::ops::Range<usize>, progress: &mut dyn FnMut(usize)| {
        let mut out = Vec::with_capacity(rows.len());
        for (i, r) in rows.enumerate() {
            if i % 1000 == 0 {
                progress(i);
            }
            // 1-based, the header being line 1.
            let line = r + 2;
            out.push((line, check(line, file.row(r))));
        }
        out
    };
    let part = &part;
    std::thread::scope(|s| {
        let mut ranges = (0..parts).map(|k| k * size..((k + 1) * size).min(total));
        let first = ranges.next();
        let others: Vec<_> = ranges
            .filter(|r| !r.is_empty())
            .map(|r| s.spawn(move || part(r, &mut |_| {})))
            .collect();
        let mut out = vec![match first {
            Some(r) => part(r, &mut |i| progress((i * parts).min(total), total)),
            None => Vec::new(),
        }];
        for h in others {
            out.push(h.join().expect("a dose check panicked"));
        }
        out
    })
}

/// Imports doses in one transaction (ADR 0013): every row is checked first —
/// the child (by IIN or person id, in the caller's areas), the dose against the
/// calendar, the external id against what is recorded and against earlier rows
/// of the file — then the accepted rows, the re-derived facts of their children
/// and one audit entry per child are written and committed together. A failure
/// while writing leaves nothing behind. `progress(done, total)` counts rows,
/// once while checking and once while writing.
pub async fn doses(
    db: &Db,
    ctx: Ctx<'_>,
    file: &Table,
    source: &str,
    dry_run: bool,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<Report, Error> {
    let cals = calendars::all(db).await?;
    let cal = calendars::in_force(&cals, super::today());
    let mut report = Report {
        dry_run,
        rows: file.len(),
        ..Default::default()
    };
    let total = file.len();
    let clock = std::time::Instant::now();
    let phases = std::sync::Mutex::new(Vec::new());
    let lap = |what: &str| {
        let at = clock.elapsed().as_secs_f64();
        tracing::debug!(phase = what, seconds = at, "dose import");
        if let Ok(mut p) = phases.lock() {
            p.push((what.to_string(), at));
        }
    };
    // Every row the doses refer to is read in this session: each child, by
    // `children_by` below, and with it the area a dose is filed under (the
    // child's own); imported doses name no campaign.
    let mut bulk = db.bulk_with(References::Caller).await?;
    if file.len() >= VACUUM_AFTER {
        // A register loaded just before (people imported, a fresh database)
        // may have no statistics yet, and PostgreSQL then plans the id-list
        // lookups below as scans of the whole table. (Tables whose
        // statistics are fresh are left alone.)
        for table in facts::BULK_TABLES {
            bulk.analyze(table).await?;
        }
    }
    let iins: HashSet<&str> = file
        .rows()
        .map(|r| r.cell("iin"))
        .filter(|s| !s.is_empty())
        .collect();
    let ids: HashSet<i64> = file
        .rows()
        .filter(|r| r.cell("iin").is_empty())
        .filter_map(|r| r.cell("person_id").parse().ok())
        .collect();
    let within = areas_within(&mut bulk, ctx.scope).await?;
    let by_iin = children_by(
        &mut bulk,
        &within,
        "iin",
        iins.into_iter().map(Value::from).collect(),
    )
    .await?;
    let by_id = children_by(
        &mut bulk,
        &within,
        "id",
        ids.into_iter().map(Value::from).collect(),
    )
    .await?;

    lap("children read");
    let check = |line: usize, row: Row<'_>| check_row(row, line, (&by_iin, &by_id), cal, source);
    let mut accepted: Vec<Accepted> = Vec::with_capacity(total);
    for (line, checked) in check_all(file, &check, progress).into_iter().flatten() {
        match checked {
            Ok(a) => accepted.push(a),
            Err(Rejected::Child(field, why)) => report.push(line, "rejected", field, why),
            Err(Rejected::Dose(e)) => report.reject_all(line, &e),
        }
    }
    progress(total, total);
    lap("rows checked");

    // External ids: recorded before, or earlier in this file.
    let exts: Vec<&str> = accepted.iter().map(|a| a.ext.as_str()).collect();
    let known = recorded_external_ids(&mut bulk, &exts).await?;
    drop(exts);
    let mut keep = vec![false; accepted.len()];
    {
        let mut in_file: HashMap<&str, (i64, usize)> = HashMap::with_capacity(accepted.len());
        for (i, a) in accepted.iter().enumerate() {
            let ext = a.ext.as_str();
            let owner = known
                .get(ext)
                .copied()
                .or_else(|| in_file.get(ext).map(|(p, _)| *p));
            match owner {
                Some(p) if p == a.person => {
                    let msg = match in_file.get(ext) {
                        Some((_, first)) if !known.contains_key(ext) => {
                            format!("dose {ext} is on line {first} of this file already")
                        }
                        _ => format!("dose {ext} is already recorded"),
                    };
                    report.push(a.line, "unchanged", "external_id", msg);
                }
                Some(_) => report.push(
                    a.line,
                    "rejected",
                    "external_id",
                    format!("dose {ext} was imported for another child"),
                ),
                None => {
                    in_file.insert(ext, (a.person, a.line));
                    keep[i] = true;
                }
            }
        }
    }
    let mut to_write = accepted;
    let mut kept = keep.into_iter();
    to_write.retain(|_| kept.next().unwrap_or(false));
    lap("external ids checked");
    if dry_run {
        for a in &to_write {
            report.push(
                a.line,
                "imported",
                "",
                format!(
                    "would record {} on {} for person {}",
                    a.dose.product,
                    super::iso(a.dose.given_on),
                    a.person
                ),
            );
        }
        report.outcomes.sort_by_key(|o| o.row);
        return Ok(report);
    }
    // Room for every row's outcome at once: grown by doubling, the vector
    // of a register's 1.1 M outcomes was copied a dozen times into freshly
    // faulted memory (a third of the report's time in `perf`).
    report.outcomes.reserve(to_write.len());
    write_doses(
        &mut bulk,
        ctx,
        &cals,
        source,
        &to_write,
        &mut report,
        progress,
        &lap,
    )
    .await?;
    bulk.commit().await?;
    lap("committed");
    // The database tidies up after a load (PostgreSQL vacuums, SQLite
    // checkpoints its write-ahead log) while the outcomes are put in file
    // order. Small imports leave this to autovacuum and the next write.
    let tidy = (to_write.len() >= VACUUM_AFTER).then(|| {
        let db = db.clone();
        tokio::spawn(async move {
            // Not `people`, which a dose import does not change.
            let changed: Vec<&str> = facts::BULK_TABLES
                .into_iter()
                .filter(|t| *t != "people")
                .collect();
            db.vacuum(&changed).await
        })
    });
    // Lets the tidy-up task send its statement before the sort takes this thread.
    tokio::task::yield_now().await;
    report.outcomes.sort_by_key(|o| o.row);
    if let Some(tidy) = tidy {
        tidy.await.map_err(|e| {
            bala_store::StoreError::Other(format!("vacuum after the import: {e}"))
        })??;
        lap("vacuumed beside the report");
    }
    report.phases = phases.into_inner().unwrap_or_default();
    Ok(report)
}

/// Children per slice of the write: their doses, then their facts.
const SLICE: usize = 2_000;

/// Writes the accepted doses, re-derives their children's facts and audits one
/// entry per child, all in the import's transaction. Children go in slices:
/// a slice's recorded doses are read, its new doses written, and its facts
/// derived from both in memory, so nothing just written is read back.
///
/// Each written row's outcome goes into `report` as its slice is built, while
/// the database writes the slice before: built after the commit instead, the
/// report of a register's load kept the import waiting about a second longer.
/// If the write fails, the caller returns the error and the report goes with it.
#[allow(clippy::too_many_arguments)]
async fn write_doses(
    bulk: &mut Bulk,
    ctx: Ctx<'_>,
    cals: &[crate::calendar::Calendar],
    source: &str,
    rows: &[Accepted<'_>],
    report: &mut Report,
    progress: &mut (dyn FnMut(usize, usize) + Send),
    lap: &(dyn Fn(&str) + Sync),
) -> Result<(), Error> {
    if rows.is_empty() {
        // Nothing changes: no batch, no facts, no audit entry.
        return Ok(());
    }
    let batch = provenance(bulk, ctx, source).await?;
    // An initial load writes the dose table without its indexes (ADR 0024),
    // after reading every slice's recorded doses while they are there (at
    // most as many as the load's own rows). Other loads read a slice's
    // recorded doses as they come to it.
    let deferred = bulk.should_defer_indexes("imm_doses", rows.len()).await?;
    // By child, each child's rows in file order. Children go by person id
    // when the indexes are kept up row by row: the person-keyed B-trees (the
    // dose table's person index, the facts) then grow at their end. They go
    // by area first when the indexes are built afterwards: PostgreSQL then
    // sorts nearly sorted rows for the widest index, the area one (its build
    // took 1.7–2.1 s instead of 2.2–2.9 s for a register's load; the same
    // order cost SQLite, which keeps its indexes up, 1–3 s more).
    // (Rows come in file order, and a row's line is unique: sorting by line
    // last gives what a stable sort would, without its buffer.)
    let mut order: Vec<&Accepted> = rows.iter().collect();
    if deferred {
        order.sort_unstable_by_key(|a| (a.child.area.as_str(), a.person, a.line));
    } else {
        order.sort_unstable_by_key(|a| (a.person, a.line));
    }
    let by_child: Vec<&[&Accepted]> = order.chunk_by(|a, b| a.person == b.person).collect();
    let mut refresh = facts::BulkRefresh::new(cals);
    let mut written = 0;
    // A slice's rows are written while the next slice's are built and its
    // facts derived: the database works on one core, the engine on the other.
    // (Slices hold different children, so reading and clearing the next one
    // before the previous one is written changes nothing.)
    let mut pending: Option<(Vec<Batch>, usize)> = None;
    let mut before = std::collections::VecDeque::new();
    if deferred {
        for slice in by_child.chunks(SLICE) {
            let ids: Vec<i64> = slice.iter().map(|c| c[0].person).collect();
            before.push_back(refresh.recorded(bulk, &ids).await?);
        }
        let first = bulk.defer_indexes("imm_doses").await?;
        // A first load into an empty dose table finds no facts to replace,
        // so the facts tables, empty too, can be loaded the same way: their
        // 100 000 rows a register were otherwise indexed row by row. With
        // doses recorded before, the slices' deletes need the indexes.
        if first {
            for table in facts::PER_CHILD {
                if bulk.should_defer_indexes(table, by_child.len()).await? {
                    bulk.defer_indexes(table).await?;
                }
            }
        }
    }
    // Each slice's audit entries are hashed with its rows and written with them.
    let mut audit = audit::BulkChain::reserve(bulk, by_child.len()).await?;
    for slice in by_child.chunks(SLICE) {
        let ids: Vec<i64> = slice.iter().map(|c| c[0].person).collect();
        let recorded = match before.pop_front() {
            Some(read) => read,
            None => refresh.recorded(bulk, &ids).await?,
        };
        let mut prior: Vec<i64> = recorded.iter().map(|(p, _)| *p).collect();
        prior.dedup();
        // The slice's children as read for the file, in this transaction:
        // read again here, they cost a query per slice while both the
        // database and the engine waited (0.3 s of a register's load).
        let people = slice
            .iter()
            .filter_map(|c| {
                let child = c[0].child;
                let born = facts::Born {
                    birth: child.birth?,
                    area_code: child.area.clone(),
                    sex: child.sex.clone(),
                };
                Some((child.id, born))
            })
            .collect();
        let cleared = refresh.clear_known(bulk, &prior, people).await?;
        let new: Vec<&Accepted> = slice.iter().flat_map(|c| c.iter().copied()).collect();
        let build = async {
            let doses = dose_batch(batch, &new);
            let derived = refresh.derive(&cleared, &with_new(recorded, &new));
            let mut batches = vec![doses];
            batches.extend(derived.batches());
            batches.push(audit.batch(&audit_entries(ctx, source, slice))?);
            for a in &new {
                report.push(
                    a.line,
                    "imported",
                    "",
                    format!("{} on {}", a.dose.product, super::iso(a.dose.given_on)),
                );
            }
            Ok::<_, Error>((batches, new.len()))
        };
        let next = match pending.take() {
            Some((batches, n)) => {
                let (done, next) = tokio::join!(bulk.insert_all(batches), build);
                done?;
                written += n;
                progress(written, rows.len());
                next?
            }
            None => build.await?,
        };
        pending = Some(next);
    }
    if let Some((batches, n)) = pending {
        bulk.insert_all(batches).await?;
        written += n;
        progress(written, rows.len());
    }
    lap("doses written, facts re-derived, audited");
    if deferred {
        bulk.rebuild_deferred().await?;
        lap("dose indexes rebuilt");
    }
    // (Nothing in the session reads the dose table from here on; the vacuum
    // after the commit analyses it for the queries that will.)
    refresh.finish(bulk).await?;
    lap("counters moved");
    audit.close(bulk).await?;
    Ok(())
}

/// One audit entry per child of a slice: the rows of the file it came from.
fn audit_entries(ctx: Ctx<'_>, source: &str, slice: &[&[&Accepted<'_>]]) -> Vec<NewEntry> {
    slice
        .iter()
        .map(|rows| {
            let lines: Vec<usize> = rows.iter().map(|a| a.line).collect();
            NewEntry::by(
                ctx.actor,
                "immunization.dose.import",
                "person",
                rows[0].person,
            )
            .with_details(
                serde_json::json!({ "source": source, "doses": lines.len(), "rows": lines }),
            )
        })
        .collect()
}

/// Writes the import's source, time and author once, as the batch its doses
/// point to (migration 3014), and returns the batch's id.
async fn provenance(bulk: &mut Bulk, ctx: Ctx<'_>, source: &str) -> Result<i64, Error> {
    let mut sql =
        Sql::new("INSERT INTO imm_dose_batches (source, created_at, created_by) VALUES (");
    sql.push_arg(source)
        .push(", ")
        .push_arg(time_fmt::now())
        .push(", ")
        .push_arg(ctx.actor.name.as_str())
        .push(") RETURNING id");
    let rows = bulk.fetch(&sql).await?;
    rows.first()
        .and_then(|r| r.first())
        .and_then(Value::int)
        .ok_or_else(|| bala_store::StoreError::Other("no id for the import's batch".into()).into())
}

/// The `imm_doses` rows of a slice's new doses. Their own provenance columns
/// are empty: it is the batch's.
fn dose_batch(batch: i64, new: &[&Accepted<'_>]) -> Batch {
    let rows = new
        .iter()
        .map(|a| {
            vec![
                Value::from(a.person),
                Value::from(super::iso(a.dose.given_on)),
                Value::from(a.dose.product.as_str()),
                Value::Text(a.dose.facility.clone()),
                Value::Text(a.dose.lot.clone()),
                Value::Text(a.dose.lot_expiry.map(super::iso)),
                Value::from(facts::flags_to_text(&a.dose.flags)),
                Value::from(a.child.area.as_str()),
                Value::from(a.ext.as_str()),
            ]
        })
        .collect();
    Batch::new("imm_doses", &DOSE_COLS, rows)
        .constant("historical", 1i64)
        .constant("batch_id", batch)
        .constant("source", "")
        .constant("created_at", "")
        .constant("created_by", "")
        .constant("status", "recorded")
}

/// A slice's recorded doses (grouped by person) with its new ones, grouped by
/// person again. The engine orders each child's doses itself; same-day
/// duplicates that differ only by storage id give the same facts either way.
fn with_new(
    recorded: Vec<(i64, Administration)>,
    new: &[&Accepted<'_>],
) -> Vec<(i64, Administration)> {
    let mut all = recorded;
    all.extend(new.iter().map(|a| {
        let mut x = Administration::new(a.dose.given_on, a.dose.product.clone());
        x.lot_expiry = a.dose.lot_expiry;
        x.flags = a.dose.flags.clone();
        (a.person, x)
    }));
    all.sort_by_key(|(person, _)| *person);
    all
}

/// Imports people (children and caregivers).
pub async fn people(
    db: &Db,
    ctx: Ctx<'_>,
    file: &Table,
    dry_run: bool,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<Report, Error> {
    let mut report = Report {
        dry_run,
        rows: file.len(),
        ..Default::default()
    };
    for (i, row) in file.rows().enumerate() {
        let line = i + 2;
        progress(i + 1, file.len());
        let get = |c: &str| row.cell(c).to_string();
        let opt = |c: &str| Some(get(c)).filter(|s| !s.is_empty());
        let input = PersonInput {
            iin: opt("iin"),
            family_name: get("family_name"),
            given_name: get("given_name"),
            patronymic: opt("patronymic"),
            family_name_lat: opt("family_name_lat"),
            given_name_lat: opt("given_name_lat"),
            birth_date: get("birth_date"),
            sex: get("sex"),
            area_code: get("area_code"),
            address: opt("address"),
            phone: opt("phone"),
        };
        if let Some(iin) = &input.iin {
            let mut sql = Sql::new("SELECT id FROM people WHERE iin = ");
            sql.push_arg(iin.as_str());
            if let Some(r) = sql.query().fetch_optional(db.reader()).await? {
                let id: i64 = r.try_get(0)?;
                report.push(
                    line,
                    "unchanged",
                    "iin",
                    format!("already registered as person {id}"),
                );
                continue;
            }
        }
        let valid = match bala_registry::person::validate(&input, super::today()) {
            Ok(v) => v,
            Err(e) => {
                report.reject_all(line, &e);
                continue;
            }
        };
        let dups = people::find_likely_duplicates(db, &valid, None).await?;
        if let Some(d) = dups.first() {
            report.push(
                line,
                "unchanged",
                "",
                format!("matches registered person {}", d.id),
            );
            continue;
        }
        if dry_run {
            if !bala_registry::areas::is_within(db, valid.area.as_str(), ctx.scope).await? {
                report.push(
                    line,
                    "rejected",
                    "area_code",
                    "this area is outside the areas you work in",
                );
            } else {
                report.push(line, "imported", "", "would register");
            }
            continue;
        }
        match people::create(db, ctx, &input, false).await {
            Ok(CreateOutcome::Created(id)) => {
                report.push(line, "imported", "", format!("person {id}"))
            }
            Ok(CreateOutcome::PossibleDuplicates(d)) => report.push(
                line,
                "unchanged",
                "",
                format!(
                    "matches registered person {}",
                    d.first().map(|p| p.id).unwrap_or_default()
                ),
            ),
            Err(Error::Validation(e)) => report.reject_all(line, &e),
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

//! Coverage, dropout, timeliness and zero-dose counts by area, straight from
//! the derived valid-dose facts (so never stale).
//!
//! Two bases, always labelled:
//! * **birth cohort** — children of the register born in the year; vaccinated =
//!   those with the valid dose (at any age, by 12 and by 24 months). The
//!   denominator is the register's cohort.
//! * **reporting period** — valid doses given in the year (any cohort) over the
//!   official target population (surviving infants) entered for the area and
//!   year: the administrative coverage WHO/UNICEF reporting uses.

use super::{facts::HEPB_BIRTH_DOSE, iso, population, Error};
use crate::span::Span;
use bala_core::Date;
use bala_registry::areas;
use bala_store::sqlx::Row;
use bala_store::{Db, Sql};
use serde::Serialize;
use std::collections::BTreeMap;

/// The doses coverage is reported for, in the order tables show them.
pub const LABELS: [&str; 11] = [
    "BCG",
    HEPB_BIRTH_DOSE,
    "HepB3",
    "DTP1",
    "DTP3",
    "Pol3",
    "Hib3",
    "PCV3",
    "MCV1",
    "MCV2",
    "DTP4",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    Cohort,
    Period,
}

impl Basis {
    pub fn parse(s: &str) -> Option<Basis> {
        match s {
            "cohort" | "" => Some(Basis::Cohort),
            "period" => Some(Basis::Period),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Basis::Cohort => "cohort",
            Basis::Period => "period",
        }
    }
}

/// Counts for one dose label in one area.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct DoseCount {
    pub label: String,
    pub vaccinated: i64,
    pub by_12m: i64,
    pub by_24m: i64,
    pub timely: i64,
    /// vaccinated / denominator, in percent; none when there is no denominator.
    pub coverage: Option<f64>,
}

/// Coverage of one area.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AreaCoverage {
    pub area_code: String,
    /// Children of the cohort in the register (cohort basis).
    pub registered: i64,
    /// Of them, those at least 12 months old on the reference date.
    pub aged_12m: i64,
    /// Official target population (period basis), if entered.
    pub official: Option<i64>,
    /// The denominator used: `registered` or `official`.
    pub denominator: Option<i64>,
    pub doses: Vec<DoseCount>,
    /// Children aged 12 months or more with no valid DTP1 by their first birthday.
    pub zero_dose: Option<i64>,
    /// DTP1 by 12 months but no DTP3 by 12 months.
    pub under_immunized: Option<i64>,
    /// (DTP1 − DTP3) / DTP1, in percent.
    pub dropout_dtp1_dtp3: Option<f64>,
    /// (DTP1 − MCV1) / DTP1, in percent.
    pub dropout_dtp1_mcv1: Option<f64>,
}

impl AreaCoverage {
    pub fn dose(&self, label: &str) -> Option<&DoseCount> {
        self.doses.iter().find(|d| d.label == label)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub basis: Basis,
    pub year: i32,
    pub area: AreaCoverage,
    /// The area's children (regions of the republic, districts of a region …).
    pub children: Vec<AreaCoverage>,
}

fn pct(n: i64, d: Option<i64>) -> Option<f64> {
    d.filter(|d| *d > 0).map(|d| n as f64 * 100.0 / d as f64)
}

fn dropout(from: i64, to: i64) -> Option<f64> {
    (from > 0).then(|| (from - to) as f64 * 100.0 / from as f64)
}

type Counts = BTreeMap<String, BTreeMap<String, DoseCount>>;

/// Coverage for `area` and its child areas in `year` as of `on`.
///
/// Answers are kept per database and coverage version (ADR 0014): the version
/// moves, by triggers, with every change to the counters, official
/// populations, the register and the area tree, so a repeat costs one
/// one-row read while any change is seen at once.
pub async fn report(
    db: &Db,
    area: &str,
    year: i32,
    basis: Basis,
    on: Date,
) -> Result<Report, Error> {
    let v = version(db).await?;
    let key = (db.instance(), area.to_string(), year, basis, on);
    if let Some(hit) = answers::get(&key, v) {
        return Ok(hit);
    }
    let r = compute(db, area, year, basis, on).await?;
    answers::put(key, v, r.clone());
    Ok(r)
}

/// The coverage version: the counter plus the changes not yet folded into it,
/// read in one statement so both come from one snapshot.
async fn version(db: &Db) -> Result<i64, Error> {
    let row = bala_store::sqlx::query(
        "SELECT (SELECT n FROM data_versions WHERE name = 'coverage'), (SELECT COUNT(*) FROM data_changes)",
    )
    .fetch_one(db.reader())
    .await?;
    let (n, pending): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
    // PostgreSQL adds a row per writing transaction; fold them into the
    // counter before the count gets slow. (SQLite's triggers bump the counter.)
    if pending > 1_000 && db.backend() == bala_store::Backend::Postgres {
        let mut tx = db.begin().await?;
        bala_store::sqlx::query(
            "WITH d AS (DELETE FROM data_changes RETURNING 1)
             UPDATE data_versions SET n = n + (SELECT COUNT(*) FROM d) WHERE name = 'coverage'",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    Ok(n + pending)
}

/// The process's cache of coverage answers.
mod answers {
    use super::{Basis, Date, Report};
    use std::collections::HashMap;
    use std::sync::Mutex;

    pub type Key = (u64, String, i32, Basis, Date);

    /// A few hundred answers at most (areas × years × bases asked today);
    /// when full, it starts again rather than track recency.
    const MAX: usize = 512;

    static ANSWERS: Mutex<Option<HashMap<Key, (i64, Report)>>> = Mutex::new(None);

    pub fn get(key: &Key, version: i64) -> Option<Report> {
        let guard = ANSWERS.lock().unwrap_or_else(|p| p.into_inner());
        let (v, r) = guard.as_ref()?.get(key)?;
        (*v == version).then(|| r.clone())
    }

    pub fn put(key: Key, version: i64, r: Report) {
        let mut guard = ANSWERS.lock().unwrap_or_else(|p| p.into_inner());
        let map = guard.get_or_insert_with(HashMap::new);
        if map.len() >= MAX {
            map.clear();
        }
        map.insert(key, (version, r));
    }
}

/// Coverage computed afresh, bypassing the cache (for benchmarks and tests).
pub async fn compute(
    db: &Db,
    area: &str,
    year: i32,
    basis: Basis,
    on: Date,
) -> Result<Report, Error> {
    let mut codes = vec![area.to_string()];
    codes.extend(areas::children(db, area).await?.into_iter().map(|a| a.code));
    let (registered, doses, judged) = match basis {
        Basis::Cohort => {
            let doses = cohort_doses(db, &codes, year).await?;
            let judged = judged_at_one(db, &codes, year, on).await?;
            (cohort_sizes(db, &codes, year, on).await?, doses, judged)
        }
        Basis::Period => (
            BTreeMap::new(),
            period_doses(db, &codes, year).await?,
            BTreeMap::new(),
        ),
    };
    let officials = population::official_under(db, area, year).await?;
    let mut out = Vec::new();
    for code in &codes {
        let (reg, aged) = registered.get(code).copied().unwrap_or((0, 0));
        let official = officials.get(code).copied().flatten();
        let denominator = match basis {
            Basis::Cohort => Some(reg),
            Basis::Period => official,
        };
        let counts = doses.get(code).cloned().unwrap_or_default();
        let get = |l: &str| {
            counts.get(l).cloned().unwrap_or_else(|| DoseCount {
                label: l.to_string(),
                ..Default::default()
            })
        };
        let list: Vec<DoseCount> = LABELS
            .iter()
            .map(|l| {
                let mut d = get(l);
                d.coverage = pct(d.vaccinated, denominator);
                d
            })
            .collect();
        let (dtp1, mcv1) = (get("DTP1"), get("MCV1"));
        let dtp3 = get("DTP3");
        let (dtp1_judged, dtp3_judged) = judged.get(code).copied().unwrap_or((0, 0));
        let cohort = basis == Basis::Cohort;
        out.push(AreaCoverage {
            area_code: code.clone(),
            registered: reg,
            aged_12m: aged,
            official,
            denominator,
            doses: list,
            zero_dose: cohort.then(|| aged - dtp1_judged),
            under_immunized: cohort.then(|| dtp1_judged - dtp3_judged),
            dropout_dtp1_dtp3: dropout(dtp1.vaccinated, dtp3.vaccinated),
            dropout_dtp1_mcv1: dropout(dtp1.vaccinated, mcv1.vaccinated),
        });
    }
    let area_cov = out.remove(0);
    Ok(Report {
        basis,
        year,
        area: area_cov,
        children: out,
    })
}

/// The last birth date at which a child is `months` old on `on` (with the
/// calendar's own month arithmetic, so 29 February is judged like the engine does).
pub fn latest_birth_aged(on: Date, months: u16) -> Date {
    let mut d = on - time::Duration::days(i64::from(months) * 31 + 3);
    while Span::months(months).add_to(d.next_day().unwrap_or(d)) <= on && d < on {
        d = d.next_day().unwrap_or(d);
    }
    d
}

/// (children of the cohort, of them aged 12 months or more on `on`) per area:
/// summed per leaf area from the cohort-size counters (migration 3007, at
/// most 366 rows per area), then up the area tree here (cheaper than joining
/// every row to the tree).
async fn cohort_sizes(
    db: &Db,
    codes: &[String],
    year: i32,
    on: Date,
) -> Result<BTreeMap<String, (i64, i64)>, Error> {
    let cutoff = latest_birth_aged(on, 12);
    let mut sql = Sql::new(
        "SELECT s.area_code AS area, CAST(SUM(s.n) AS BIGINT) AS n, CAST(SUM(CASE WHEN s.birth_date <= ",
    );
    sql.push_arg(iso(cutoff))
        .push(" THEN s.n ELSE 0 END) AS BIGINT) AS aged FROM imm_cohort_sizes s WHERE s.birth_date >= ")
        .push_arg(format!("{year:04}-01-01"))
        .push(" AND s.birth_date < ")
        .push_arg(format!("{:04}-01-01", year + 1))
        .push(" GROUP BY s.area_code");
    let mut leaves: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for r in sql.query().fetch_all(db.reader()).await? {
        leaves.insert(
            r.try_get::<String, _>("area")?,
            (
                r.try_get::<Option<i64>, _>("n")?.unwrap_or(0),
                r.try_get::<Option<i64>, _>("aged")?.unwrap_or(0),
            ),
        );
    }
    roll_up(db, codes, &leaves).await
}

/// Pairs of counts per leaf area summed up to each of `codes` through the
/// area tree (cheaper than joining every counted row to the tree).
async fn roll_up(
    db: &Db,
    codes: &[String],
    leaves: &BTreeMap<String, (i64, i64)>,
) -> Result<BTreeMap<String, (i64, i64)>, Error> {
    let mut tree = Sql::new("SELECT ancestor, descendant FROM area_closure WHERE ancestor IN (");
    tree.push_list(codes.iter().map(|c| c.as_str())).push(")");
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for r in tree.query().fetch_all(db.reader()).await? {
        let descendant: String = r.try_get("descendant")?;
        if let Some((a, b)) = leaves.get(&descendant) {
            let e = out.entry(r.try_get("ancestor")?).or_insert((0, 0));
            e.0 += a;
            e.1 += b;
        }
    }
    Ok(out)
}

/// (DTP1 by 12 months, DTP3 by 12 months) per area, counted among the cohort's
/// children aged 12 months or more on `on` only. Zero-dose and under-immunized
/// children are judged at the first birthday, so an infant not yet one must
/// count on neither side: with all children, a cohort still being born gave
/// more DTP1 doses than children aged one, and a negative zero-dose count.
/// Summed per leaf area from the judged-at-one counters (migration 3010, at
/// most 366 rows per area), then up the area tree.
async fn judged_at_one(
    db: &Db,
    codes: &[String],
    year: i32,
    on: Date,
) -> Result<BTreeMap<String, (i64, i64)>, Error> {
    let mut sql = Sql::new(
        "SELECT area_code AS area, CAST(SUM(dtp1) AS BIGINT) AS dtp1, CAST(SUM(dtp3) AS BIGINT) AS dtp3 FROM imm_judged WHERE birth_date >= ",
    );
    sql.push_arg(format!("{year:04}-01-01"))
        .push(" AND birth_date < ")
        .push_arg(format!("{:04}-01-01", year + 1))
        .push(" AND birth_date <= ")
        .push_arg(iso(latest_birth_aged(on, 12)))
        .push(" GROUP BY area_code");
    let mut leaves: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for r in sql.query().fetch_all(db.reader()).await? {
        leaves.insert(
            r.try_get::<String, _>("area")?,
            (
                r.try_get::<Option<i64>, _>("dtp1")?.unwrap_or(0),
                r.try_get::<Option<i64>, _>("dtp3")?.unwrap_or(0),
            ),
        );
    }
    roll_up(db, codes, &leaves).await
}

/// Valid doses per area from the counters (a few thousand rows however many
/// children): leaf-area counts summed up to each requested area.
async fn counted(db: &Db, codes: &[String], kind: &str, year: i32) -> Result<Counts, Error> {
    let mut sql = Sql::new(
        "SELECT c.ancestor AS area, k.label AS label, CAST(SUM(k.n) AS BIGINT) AS n,
            CAST(SUM(k.by_12m) AS BIGINT) AS by_12m, CAST(SUM(k.by_24m) AS BIGINT) AS by_24m,
            CAST(SUM(k.timely) AS BIGINT) AS timely
         FROM imm_counts k JOIN area_closure c ON c.descendant = k.area_code AND c.ancestor IN (",
    );
    sql.push_list(codes.iter().map(|c| c.as_str()))
        .push(") WHERE k.kind = ")
        .push_arg(kind)
        .push(" AND k.year = ")
        .push_arg(year as i64)
        .push(" GROUP BY c.ancestor, k.label");
    collect(db, sql).await
}

async fn cohort_doses(db: &Db, codes: &[String], year: i32) -> Result<Counts, Error> {
    counted(db, codes, "cohort", year).await
}

async fn period_doses(db: &Db, codes: &[String], year: i32) -> Result<Counts, Error> {
    counted(db, codes, "period", year).await
}

async fn collect(db: &Db, sql: Sql) -> Result<Counts, Error> {
    let mut out: Counts = BTreeMap::new();
    for r in sql.query().fetch_all(db.reader()).await? {
        let label: String = r.try_get("label")?;
        let n =
            |c: &str| -> Result<i64, Error> { Ok(r.try_get::<Option<i64>, _>(c)?.unwrap_or(0)) };
        let d = DoseCount {
            label: label.clone(),
            vaccinated: n("n")?,
            by_12m: n("by_12m")?,
            by_24m: n("by_24m")?,
            timely: n("timely")?,
            coverage: None,
        };
        out.entry(r.try_get("area")?).or_default().insert(label, d);
    }
    Ok(out)
}

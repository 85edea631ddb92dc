//! A deterministic synthetic Kazakhstan for benchmarks and load tests: one
//! birth cohort spread over the leaf areas of the tree, with dose histories in
//! controlled fractions (on time, late, too early and therefore invalid,
//! dropping out, zero-dose, refusing), a share of duplicate records, then the
//! valid-dose facts and counters derived in bulk.
//!
//! Rows go in through bulk sessions (ADR 0013), one per phase, bypassing
//! the per-record API (and its audit entries): this is test data, never mixed
//! into a real register — `bala synth` refuses a database that has people.

use super::{calendars, facts, iso, Error};
use crate::span::Span;
use bala_core::{Date, Iin, Sex};
use bala_store::sqlx::{self, Row};
use bala_store::{time_fmt, Db, Sql, Value};
use std::collections::HashMap;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct Options {
    /// Children in the cohort.
    pub births: usize,
    pub year: i32,
    pub seed: u64,
    /// Write the doses to this CSV file (import format) instead of the database.
    pub doses_to: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub areas: usize,
    pub children: usize,
    pub doses: usize,
    pub people_seconds: f64,
    pub doses_seconds: f64,
    pub refresh_seconds: f64,
}

/// splitmix64: tiny, fast, and the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The profile a synthetic child follows.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Profile {
    OnTime,
    Late,
    /// One dose given too early: judged invalid and not counted.
    TooEarly,
    /// Starts, stops after DTP1.
    DropOut,
    ZeroDose,
}

fn profile(r: &mut Rng) -> Profile {
    match r.unit() {
        x if x < 0.78 => Profile::OnTime,
        x if x < 0.90 => Profile::Late,
        x if x < 0.93 => Profile::TooEarly,
        x if x < 0.97 => Profile::DropOut,
        _ => Profile::ZeroDose,
    }
}

/// (product, age in days) of the national schedule's first two years.
const SCHEDULE: [(&str, i64); 10] = [
    ("BCG", 1),
    ("HepB", 1),
    ("HEXA", 61),
    ("HEXA", 92),
    ("HEXA", 122),
    ("PCV13", 61),
    ("PCV13", 122),
    ("MMR", 366),
    ("PCV13", 366),
    ("PENTA", 550),
];

/// The doses of one synthetic child up to `today`.
fn doses_for(r: &mut Rng, birth: Date, today: Date) -> Vec<(Date, &'static str)> {
    let p = profile(r);
    let mut out = Vec::new();
    for (i, (product, age)) in SCHEDULE.iter().enumerate() {
        let delay = match p {
            Profile::ZeroDose => return out,
            Profile::DropOut if i > 2 && *product != "BCG" => break,
            Profile::OnTime => r.below(10) as i64,
            Profile::Late => 30 + r.below(120) as i64,
            Profile::TooEarly if *product == "HEXA" && i == 2 => -20,
            _ => r.below(10) as i64,
        };
        let d = birth + time::Duration::days(age + delay);
        if d <= today {
            out.push((d, product));
        }
    }
    out
}

/// Refuses to run on a database with people in it.
async fn check_empty(db: &Db) -> Result<(), Error> {
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM people")
        .fetch_one(db.reader())
        .await?
        .try_get(0)?;
    if n > 0 {
        return Err(Error::Store(bala_store::StoreError::Other(format!(
            "the database already holds {n} people; synthetic data goes into an empty database only"
        ))));
    }
    Ok(())
}

/// Leaf areas in force (districts where the tree has them, else regions).
async fn leaf_areas(db: &Db) -> Result<Vec<String>, Error> {
    let rows = sqlx::query(
        "SELECT a.code FROM areas a WHERE a.level >= 1 AND a.valid_to IS NULL
         AND NOT EXISTS (SELECT 1 FROM areas b WHERE b.parent_code = a.code AND b.valid_to IS NULL)
         ORDER BY a.code",
    )
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

const FAMILY: [&str; 8] = [
    "Ахметов",
    "Серіков",
    "Иванов",
    "Жұмабаев",
    "Ким",
    "Нұрланов",
    "Оспанов",
    "Смагулов",
];
const GIVEN: [&str; 8] = [
    "Әлихан",
    "Айару",
    "Нұрлан",
    "Аружан",
    "Данияр",
    "Томирис",
    "Ерлан",
    "Мадина",
];

/// Generates the cohort; `progress(done, total)` after each slice of children.
pub async fn generate(
    db: &Db,
    o: &Options,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<Report, Error> {
    check_empty(db).await?;
    let areas = leaf_areas(db).await?;
    let mut r = Rng(o.seed);
    let today = super::today();
    let start = Date::from_calendar_date(o.year, time::Month::January, 1).expect("valid year");
    let now = time_fmt::now();
    let mut report = Report {
        areas: areas.len(),
        ..Default::default()
    };
    // Children first, then their doses, then the facts: one bulk session each
    // (ADR 0013), so each phase is timed on its own.
    let t0 = Instant::now();
    let mut serials: HashMap<(Date, Sex), u16> = HashMap::new();
    let mut bulk = db.bulk().await?;
    for chunk_start in (0..o.births).step_by(SLICE) {
        let end = (chunk_start + SLICE).min(o.births);
        let mut rows = Vec::with_capacity(end - chunk_start);
        for _ in chunk_start..end {
            let birth = start + time::Duration::days(r.below(365) as i64);
            let sex = if r.below(2) == 0 {
                Sex::Male
            } else {
                Sex::Female
            };
            let area = &areas[r.below(areas.len() as u64) as usize];
            // Serials count per birth date and sex, as the IIN's do, so no two
            // children share one (a day's births stay far below 9 000 per sex).
            // `compose` skips serials without a valid check digit, so the next
            // serial follows the one it used.
            let serial = serials.entry((birth, sex)).or_insert(1000);
            // 2% have no IIN (newborns not yet issued one, migrants).
            let iin = (r.unit() >= 0.02)
                .then(|| Iin::compose(birth, sex, *serial).map(|i| i.as_str().to_string()))
                .flatten();
            if let Some(used) = iin.as_deref().and_then(|i| i[7..11].parse::<u16>().ok()) {
                *serial = used + 1;
            }
            rows.push(vec![
                Value::Text(iin),
                Value::from(FAMILY[r.below(8) as usize]),
                Value::from(GIVEN[r.below(8) as usize]),
                Value::from(iso(birth)),
                Value::from(sex.code()),
                Value::from(area.as_str()),
                Value::from(1i64),
                Value::from(now.as_str()),
                Value::from(now.as_str()),
            ]);
        }
        bulk.insert("people", &PEOPLE_COLS, rows).await?;
        progress(end, o.births);
    }
    let ids = bulk
        .fetch(&Sql::new(
            "SELECT id, birth_date, area_code FROM people ORDER BY id",
        ))
        .await?;
    bulk.commit().await?;
    report.people_seconds = t0.elapsed().as_secs_f64();
    report.children = ids.len();
    let t1 = Instant::now();
    let mut out = match &o.doses_to {
        Some(path) => {
            let mut w = csv::Writer::from_path(path).map_err(|e| {
                Error::Store(bala_store::StoreError::Other(format!(
                    "{}: {e}",
                    path.display()
                )))
            })?;
            w.write_record([
                "person_id",
                "product",
                "given_on",
                "lot",
                "lot_expiry",
                "external_id",
            ])
            .map_err(csv_err)?;
            Sink::Csv(Box::new(w))
        }
        None => Sink::Db(db.bulk().await?),
    };
    for slice in ids.chunks(SLICE) {
        let mut rows: Vec<Vec<Value>> = Vec::new();
        for row in slice {
            let (Some(id), Some(birth), Some(area)) = (row[0].int(), row[1].text(), row[2].text())
            else {
                continue;
            };
            let birth = bala_core::parse_date(birth).unwrap_or(start);
            for (d, product) in doses_for(&mut r, birth, today) {
                let lot = format!("L{}", r.below(900) + 100);
                rows.push(vec![
                    Value::from(id),
                    Value::from(iso(d)),
                    Value::from(product),
                    Value::from(lot),
                    Value::from(iso(Span::years(1).add_to(d))),
                    Value::from(""),
                    Value::from("synth"),
                    Value::from(now.as_str()),
                    Value::from("system:synth"),
                    Value::from(area),
                ]);
            }
        }
        report.doses += rows.len();
        match &mut out {
            Sink::Db(bulk) => {
                bulk.insert("imm_doses", &DOSE_COLS, rows).await?;
            }
            Sink::Csv(w) => {
                for (k, v) in rows.iter().enumerate() {
                    let t = |i: usize| v[i].text().unwrap_or_default().to_string();
                    let id = v[0].int().unwrap_or_default();
                    w.write_record([
                        id.to_string(),
                        t(2),
                        t(1),
                        t(3),
                        t(4),
                        format!("synth:{id}:{}:{k}", t(1)),
                    ])
                    .map_err(csv_err)?;
                }
            }
        }
    }
    match out {
        Sink::Db(bulk) => bulk.commit().await?,
        Sink::Csv(mut w) => {
            w.flush().map_err(|e| Error::Store(e.into()))?;
            report.doses_seconds = t1.elapsed().as_secs_f64();
            return Ok(report);
        }
    }
    report.doses_seconds = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    let cals = calendars::all(db).await?;
    let mut bulk = db.bulk().await?;
    facts::rebuild_bulk(&mut bulk, &cals, &mut |_, _| {}).await?;
    bulk.commit().await?;
    db.vacuum(&facts::BULK_TABLES).await?;
    report.refresh_seconds = t2.elapsed().as_secs_f64();
    Ok(report)
}

const SLICE: usize = 10_000;

/// Where synthetic doses go.
enum Sink {
    Db(bala_store::Bulk),
    Csv(Box<csv::Writer<std::fs::File>>),
}

fn csv_err(e: csv::Error) -> Error {
    Error::Store(bala_store::StoreError::Other(format!(
        "writing the doses CSV: {e}"
    )))
}

const PEOPLE_COLS: [&str; 9] = [
    "iin",
    "family_name",
    "given_name",
    "birth_date",
    "sex",
    "area_code",
    "version",
    "created_at",
    "updated_at",
];

const DOSE_COLS: [&str; 10] = [
    "person_id",
    "given_on",
    "product",
    "lot",
    "lot_expiry",
    "flags",
    "source",
    "created_at",
    "created_by",
    "area_code",
];

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_same_seed_gives_the_same_children() {
        let birth = date!(2024 - 03 - 01);
        let today = date!(2026 - 01 - 01);
        let a: Vec<_> = (0..50)
            .map(|_| 0)
            .scan(Rng(7), |r, _| Some(doses_for(r, birth, today)))
            .collect();
        let b: Vec<_> = (0..50)
            .map(|_| 0)
            .scan(Rng(7), |r, _| Some(doses_for(r, birth, today)))
            .collect();
        assert_eq!(a, b);
        assert!(a.iter().any(|d| d.is_empty()), "some zero-dose children");
        assert!(a.iter().any(|d| d.len() == SCHEDULE.len()), "some complete");
    }
}

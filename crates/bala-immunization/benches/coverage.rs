//! Coverage, due lists and recording a dose over a synthetic cohort, next to
//! the naive recount from raw dose rows. The cohort size comes from
//! `BALA_BENCH_BIRTHS` (default 20 000; the national cohort is ≈ 400 000), the
//! database from `BALA_BENCH_BACKEND` (`sqlite`, default, or `postgres`).
//!
//!     BALA_BENCH_BIRTHS=400000 cargo bench -p bala-immunization --bench coverage
//!
//! Figures and the commands behind them: docs/benchmarks.md.

use bala_core::{date::iso, AreaCode};
use bala_immunization::store::{coverage, doses, duelist, synth};
use bala_registry::people::Ctx;
use bala_store::audit::Actor;
use bala_store::testing::TestDb;
use bala_store::Backend;
use criterion::{criterion_group, criterion_main, Criterion};
use std::time::Duration;

/// The allocator the `bala` binary ships with (ADR 0015), so figures are the product's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The database under test: a fresh one generated here, or one given by URL.
enum Bench {
    Fresh(TestDb),
    Existing(bala_store::Db),
}

impl Bench {
    fn db(&self) -> bala_store::Db {
        match self {
            Bench::Fresh(t) => t.db.clone(),
            Bench::Existing(db) => db.clone(),
        }
    }
}

fn setup(rt: &tokio::runtime::Runtime) -> (Bench, i32) {
    let births: usize = std::env::var("BALA_BENCH_BIRTHS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let backend = match std::env::var("BALA_BENCH_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    // An existing synthetic database (e.g. a national cohort made once with
    // `bala synth --births 400000`), to measure without regenerating it.
    if let Ok(url) = std::env::var("BALA_BENCH_URL") {
        let year: i32 = std::env::var("BALA_BENCH_YEAR")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| time::OffsetDateTime::now_utc().year() - 2);
        let db = rt
            .block_on(bala_store::Db::connect(
                &url,
                &bala_store::DbOptions::default(),
            ))
            .unwrap();
        return (Bench::Existing(db), year);
    }
    rt.block_on(async {
        let t = TestDb::new(
            backend,
            &[
                bala_store::migrate::MIGRATIONS,
                bala_access::MIGRATIONS,
                bala_registry::MIGRATIONS,
                bala_immunization::MIGRATIONS,
            ],
        )
        .await;
        bala_registry::areas::seed_reference(&t.db).await.unwrap();
        let year = time::OffsetDateTime::now_utc().year() - 2;
        let r = synth::generate(&t.db, &synth::Options { births, year, seed: 2026, doses_to: None }, &mut |_, _| {})
            .await
            .unwrap();
        eprintln!(
            "{backend:?}: {} children, {} doses; people {:.0}/s, doses {:.0}/s, facts+counters {:.1} s",
            r.children,
            r.doses,
            r.children as f64 / r.people_seconds,
            r.doses as f64 / r.doses_seconds,
            r.refresh_seconds
        );
        (Bench::Fresh(t), year)
    })
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (t, year) = setup(&rt);
    let db = t.db();
    let today = time::OffsetDateTime::now_utc().date();
    let mut g = c.benchmark_group("immunization");
    g.sample_size(10).measurement_time(Duration::from_secs(5));

    // The cohort as it is today (entirely one year old), then as it was in
    // the year after its birth: in midsummer, when half of it is one and
    // zero-dose and under-immunized children are counted child by child
    // over that half (the worst case of the dashboard's default, last year's
    // cohort), and in early December, when all but the last weeks' births are.
    let next_year = |month, day| time::Date::from_calendar_date(year + 1, month, day).unwrap();
    for (name, on) in [
        (
            "coverage: republic, all labels, one cohort (counters, computed afresh)",
            today,
        ),
        (
            "coverage: republic, all labels, a cohort half of it one (2 July, computed afresh)",
            next_year(time::Month::July, 2),
        ),
        (
            "coverage: republic, all labels, a cohort all but December's births one (6 December, computed afresh)",
            next_year(time::Month::December, 6),
        ),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(coverage::compute(
                    &db,
                    "000000000",
                    year,
                    coverage::Basis::Cohort,
                    on,
                ))
                .unwrap()
            })
        });
    }
    g.bench_function(
        "coverage: the same, repeated (cached per coverage version)",
        |b| {
            b.iter(|| {
                rt.block_on(coverage::report(
                    &db,
                    "000000000",
                    year,
                    coverage::Basis::Cohort,
                    today,
                ))
                .unwrap()
            })
        },
    );
    g.bench_function("coverage: naive recount from raw dose rows", |b| {
        b.iter(|| {
            rt.block_on(async {
                bala_store::sqlx::query(
                    "SELECT p.area_code, d.product, COUNT(DISTINCT d.person_id) FROM people p
                     JOIN imm_doses d ON d.person_id = p.id
                     WHERE p.birth_date >= $1 AND p.birth_date < $2 AND d.status = 'recorded'
                     GROUP BY p.area_code, d.product",
                )
                .bind(format!("{year}-01-01"))
                .bind(format!("{}-01-01", year + 1))
                .fetch_all(db.reader())
                .await
                .unwrap()
            })
        })
    });
    let actor = Actor::system("bench");
    let scope = [AreaCode::republic()];
    // Almaly district: the defaulters today, and a week's plan (due, overdue
    // and becoming due within seven days).
    for (name, kind, until) in [
        (
            "due list: one district (Almaly, overdue today)",
            duelist::Kind::Overdue,
            None,
        ),
        (
            "due list: one district (Almaly, due within a week)",
            duelist::Kind::Due,
            Some(today + time::Duration::days(7)),
        ),
    ] {
        g.bench_function(name, |b| {
            let f = duelist::Filter {
                area: "751110000".into(),
                kind,
                on: today,
                until,
                min_days_overdue: 0,
            };
            b.iter(|| rt.block_on(duelist::list(&db, &actor, &scope, &f)).unwrap())
        });
    }
    let ctx = Ctx {
        actor: &actor,
        scope: &scope,
    };
    g.bench_function("record a dose, then read coverage", |b| {
        let mut person = 1i64;
        b.iter(|| {
            rt.block_on(async {
                let input = doses::DoseInput {
                    product: "MMR".into(),
                    given_on: iso(today),
                    historical: true,
                    ..Default::default()
                };
                person += 7;
                let _ =
                    doses::record(&db, ctx, person, &input, &doses::Provenance::of("bench")).await;
                coverage::report(&db, "000000000", year, coverage::Basis::Cohort, today)
                    .await
                    .unwrap()
            })
        })
    });
    g.finish();
}

criterion_group!(group, benches);
criterion_main!(group);

//! Demo surveillance data: reporting sites with a year of weekly reports (some
//! late, some missing), AFP and suspected measles cases with specimens, and
//! population denominators — so the WHO indicator dashboard shows computed
//! figures, some of them below target.

use bala_core::AreaCode;
use bala_registry::people::Ctx;
use bala_store::audit::Actor;
use bala_store::Db;
use bala_surveillance::reporting::Week;
use bala_surveillance::store::{
    self, AfpInput, AfpSpecimenInput, MeaslesInput, MeaslesSpecimenInput, PatientInput, WeekRow,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use time::{Date, Duration, OffsetDateTime};

/// Demo denominators, rounded from the statistics bureau's published 2024 estimates
/// (Almaty city ≈ 2.2 million, Kyzylorda region ≈ 0.83 million, Turkistan region ≈ 2.1 million);
/// labelled as demo figures in the source column.
const POPULATION: &[(&str, i64, i64)] = &[
    ("750000000", 590_000, 2_230_000),
    ("430000000", 290_000, 830_000),
    ("610000000", 830_000, 2_110_000),
];

const SITES: &[(&str, &str)] = &[
    ("751110000", "Городская поликлиника № 5"),
    ("751110000", "Детская городская клиническая больница № 2"),
    ("751210000", "Городская поликлиника № 11"),
    ("751310000", "Городская поликлиника № 1"),
    ("434600000", "Шиелийская центральная районная больница"),
    ("431010000", "Областная детская больница, Кызылорда"),
    ("611010000", "Туркестанская городская поликлиника"),
];

fn iso(d: Date) -> String {
    bala_core::date::iso(d)
}

pub async fn load(db: &Db) -> anyhow::Result<()> {
    let actor = Actor::system("demo");
    let republic = [AreaCode::republic()];
    let ctx = Ctx {
        actor: &actor,
        scope: &republic,
    };
    let today = OffsetDateTime::now_utc().date();
    let year = today.year();
    let mut rng = StdRng::seed_from_u64(612);
    for (area, u15, total) in POPULATION {
        for y in [year - 1, year] {
            store::set_population(
                db,
                ctx,
                area,
                &y.to_string(),
                &u15.to_string(),
                &total.to_string(),
                "demo: rounded BNS 2024 estimate",
            )
            .await?;
        }
    }
    let mut site_ids = Vec::new();
    for (area, name) in SITES {
        site_ids.push(store::add_site(db, ctx, area, name).await?);
    }
    // Weekly reports for last year and this year so far: most on time, some late, some missing.
    for y in [year - 1, year] {
        for week in Week::ended_in_year(y, today) {
            let sunday = week.sunday().expect("valid week");
            let mut rows = Vec::new();
            for id in &site_ids {
                if !rng.gen_bool(0.93) {
                    continue;
                }
                let delay = if rng.gen_bool(0.85) {
                    rng.gen_range(1..=2)
                } else {
                    rng.gen_range(3..=10)
                };
                if sunday + Duration::days(delay) > today {
                    continue; // not arrived yet
                }
                rows.push(WeekRow {
                    site_id: *id,
                    received: iso(sunday + Duration::days(delay)),
                    afp_cases: "0".into(),
                    measles_cases: "0".into(),
                });
            }
            store::save_week(db, ctx, week, &rows).await?;
        }
    }
    afp_cases(db, ctx, &mut rng, today).await?;
    measles_cases(db, ctx, &mut rng, today).await?;
    Ok(())
}

fn patient(
    epid: String,
    area: &str,
    birth: Date,
    notified: Date,
    investigated: Date,
    rng: &mut StdRng,
) -> PatientInput {
    PatientInput {
        epid,
        patient_name: String::new(),
        sex: if rng.gen_bool(0.5) { "M" } else { "F" }.into(),
        birth_date: iso(birth),
        area_code: area.into(),
        notified: iso(notified),
        investigated: iso(investigated),
        person_id: String::new(),
    }
}

async fn afp_cases(db: &Db, ctx: Ctx<'_>, rng: &mut StdRng, today: Date) -> anyhow::Result<()> {
    let areas = [
        "751110000",
        "751210000",
        "434600000",
        "431010000",
        "611010000",
        "613200000",
    ];
    for n in 1..=9 {
        let onset = today - Duration::days(rng.gen_range(20..330));
        let area = areas[rng.gen_range(0..areas.len())];
        let birth = onset - Duration::days(rng.gen_range(300..14 * 365));
        let notified = onset + Duration::days(rng.gen_range(1..5));
        let investigated = notified
            + Duration::days(if rng.gen_bool(0.8) {
                rng.gen_range(0..=2)
            } else {
                rng.gen_range(3..7)
            });
        let adequate = rng.gen_bool(0.75);
        let first = investigated + Duration::days(rng.gen_range(0..3));
        let second = if adequate {
            first + Duration::days(1)
        } else {
            first + Duration::days(rng.gen_range(12..16))
        };
        let spec = |d: Date, good: bool| AfpSpecimenInput {
            collected: iso(d),
            lab_arrival: iso(d + Duration::days(2)),
            condition: if good { "good" } else { "poor" }.into(),
            result: if d + Duration::days(20) < today {
                "negative"
            } else {
                "pending"
            }
            .into(),
        };
        let specimens = vec![
            spec(first, true),
            spec(second, adequate || rng.gen_bool(0.5)),
        ];
        let done = onset + Duration::days(60) < today;
        let region = if area.starts_with("75") {
            "ALA"
        } else if area.starts_with("43") {
            "KZY"
        } else {
            "TUR"
        };
        let input = AfpInput {
            patient: patient(
                format!("KAZ-{region}-{}-{n:03}", onset.year()),
                area,
                birth,
                notified,
                investigated,
                rng,
            ),
            onset: iso(onset),
            polio_doses: rng.gen_range(2..=5).to_string(),
            specimens,
            follow_up_date: if done {
                iso(onset + Duration::days(60))
            } else {
                String::new()
            },
            follow_up: if done { "no_residual" } else { "not_done" }.into(),
            classification: if done && adequate {
                "non_polio"
            } else {
                "pending"
            }
            .into(),
            ..Default::default()
        };
        store::create_afp(db, ctx, &input).await?;
    }
    Ok(())
}

async fn measles_cases(db: &Db, ctx: Ctx<'_>, rng: &mut StdRng, today: Date) -> anyhow::Result<()> {
    let areas = ["751110000", "751310000", "434600000", "611010000"];
    for n in 1..=14 {
        let rash = today - Duration::days(rng.gen_range(10..340));
        let area = areas[rng.gen_range(0..areas.len())];
        let notified = rash + Duration::days(rng.gen_range(0..4));
        let investigated = notified
            + Duration::days(if rng.gen_bool(0.85) {
                rng.gen_range(0..=2)
            } else {
                4
            });
        let collected = rash
            + Duration::days(if rng.gen_bool(0.9) {
                rng.gen_range(2..10)
            } else {
                30
            });
        let positive = n % 5 == 0;
        let result_known = collected + Duration::days(6) < today;
        let igm = |pos: bool| {
            if !result_known {
                "pending"
            } else if pos {
                "positive"
            } else {
                "negative"
            }
            .to_string()
        };
        let region = if area.starts_with("75") {
            "ALA"
        } else if area.starts_with("43") {
            "KZY"
        } else {
            "TUR"
        };
        let input = MeaslesInput {
            patient: patient(
                format!("KAZ-{region}-{}-{:03}", rash.year(), 100 + n),
                area,
                rash - Duration::days(rng.gen_range(200..6000)),
                notified,
                investigated,
                rng,
            ),
            rash_onset: iso(rash),
            mcv_doses: rng.gen_range(0..=2).to_string(),
            specimens: vec![MeaslesSpecimenInput {
                kind: "serum".into(),
                collected: iso(collected),
                lab_arrival: iso(collected + Duration::days(1)),
                result_date: if result_known {
                    iso(collected + Duration::days(rng.gen_range(2..7)))
                } else {
                    String::new()
                },
                measles_igm: igm(positive),
                rubella_igm: igm(false),
                proficient_lab: "yes".into(),
            }],
            classification: if !result_known {
                "pending"
            } else if positive {
                "lab_measles"
            } else {
                "discarded"
            }
            .into(),
            ..Default::default()
        };
        store::create_measles(db, ctx, &input).await?;
    }
    Ok(())
}

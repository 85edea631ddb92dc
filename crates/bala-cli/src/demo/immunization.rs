//! Demo data of the immunization pillar: a vaccination history for every demo
//! child, official target populations, and one measles catch-up campaign.
//!
//! Histories follow the 2020 national calendar. Each child gets a profile
//! from its position in the register (ordered by id), so the same register
//! always gets the same histories, with no random numbers: most children are
//! vaccinated on time, some late, some stop after the first visits (the
//! dropouts and under-immunized of the coverage pages), a few have no dose
//! (zero-dose), a few families refused, and one child has a contraindication.
//! Doses older than two months are entered as historical (from the paper
//! card, product and date only); recent ones carry lot, site and route as a
//! nurse records them at the table. Everything goes through the store, so
//! valid-dose facts and the audit trail are as in real use.

use anyhow::Context;
use bala_core::date::{age_months, iso};
use bala_core::AreaCode;
use bala_immunization::store::doses::{self, DoseInput, ExceptionInput};
use bala_immunization::store::{calendars, campaigns, population};
use bala_registry::people::Ctx;
use bala_store::audit::Actor;
use bala_store::sqlx::{self, Row};
use bala_store::Db;
use time::{Date, Duration, OffsetDateTime};

/// The routine schedule as (age in days, product): birth doses, the
/// hexavalent/pentavalent series at 2, 3 and 4 months with PCV, measles,
/// PCV and polio boosters at 12 months, DTP4 at 18 months, hepatitis A at 2
/// and 2½ years, DTP5 and MMR2 at 6 years.
const SCHEDULE: &[(i64, &str)] = &[
    (0, "BCG"),
    (0, "HepB"),
    (61, "HEXA"),
    (61, "PCV13"),
    (92, "PENTA"),
    (122, "HEXA"),
    (122, "PCV13"),
    (366, "MMR"),
    (366, "PCV13"),
    (366, "OPV"),
    (548, "PENTA"),
    (731, "HepA"),
    (913, "HepA"),
    (2192, "DTaP"),
    (2192, "MMR"),
];

/// HPV for girls at 11 years and six months later.
const HPV_GIRLS: &[(i64, &str)] = &[(4018, "HPV4"), (4200, "HPV4")];

/// Doses older than this are entered from the paper card.
const HISTORICAL_AFTER_DAYS: i64 = 60;

/// Surviving infants per area and year (illustrative, of the order of the
/// national statistics bureau's figures), the denominator of administrative
/// coverage. Regions have their own figure, since the demo covers only some
/// of their districts.
const POPULATIONS: &[(&str, i64)] = &[
    ("751110000", 3_300),
    ("751210000", 4_600),
    ("751310000", 5_100),
    ("750000000", 41_000),
    ("431010000", 6_200),
    ("434600000", 1_700),
    ("430000000", 17_500),
    ("611010000", 4_300),
    ("613200000", 1_300),
    ("610000000", 46_000),
];

/// The campaign district (Auezov, Almaty) and its age band in months.
const CAMPAIGN_DISTRICT: &str = "751210000";
const CAMPAIGN_AGES: (i32, i32) = (12, 60);

/// How a child's history is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Profile {
    OnTime,
    /// Every dose after the birth doses this many days late.
    Late(i64),
    /// Birth doses and the 2-month visit, then no more.
    DropOut,
    ZeroDose,
    /// The family refused every vaccine from birth.
    RefusedAll,
    /// On time, but the family refused measles vaccine at 12 months.
    RefusedMmr,
    /// On time, but live measles vaccine is contraindicated.
    Contraindicated,
}

/// The profile of the `i`th child (in id order): about 80 % on time, 10 %
/// late, 5 % dropouts, 5 % zero-dose, a few refusals and one contraindication.
fn profile(i: usize) -> Profile {
    if i == 2 {
        return Profile::Contraindicated;
    }
    match i % 40 {
        0 | 20 => Profile::ZeroDose,
        1 => Profile::RefusedAll,
        21 => Profile::RefusedMmr,
        3..=6 => Profile::Late(30 + (i as i64 * 37) % 90),
        7 | 27 => Profile::DropOut,
        _ => Profile::OnTime,
    }
}

fn site_route(product: &str, age_days: i64) -> (&'static str, &'static str) {
    match product {
        "BCG" => ("intradermal-left-arm", "ID"),
        "OPV" => ("oral", "PO"),
        "MMR" => ("right-arm", "SC"),
        "PCV13" if age_days < 366 => ("right-thigh", "IM"),
        "HepB" => ("right-thigh", "IM"),
        _ if age_days < 366 => ("left-thigh", "IM"),
        _ => ("left-arm", "IM"),
    }
}

/// A dose as the nurse enters it: from the card if old, with lot, expiry,
/// site and route if recent.
fn dose(product: &str, birth: Date, given: Date, today: Date, facility: &str) -> DoseInput {
    let historical = (today - given).whole_days() > HISTORICAL_AFTER_DAYS;
    let mut d = DoseInput {
        product: product.into(),
        given_on: iso(given),
        facility: facility.into(),
        historical,
        ..Default::default()
    };
    if !historical {
        let (site, route) = site_route(product, (given - birth).whole_days());
        d.lot = format!(
            "{product}-{}{:02}",
            given.year() % 100,
            u8::from(given.month())
        );
        d.lot_expiry = iso(given + Duration::days(400));
        d.site = site.into();
        d.route = route.into();
    }
    d
}

struct Child {
    id: i64,
    birth: Date,
    girl: bool,
    area: String,
}

async fn children(db: &Db, today: Date) -> anyhow::Result<Vec<Child>> {
    let rows = sqlx::query(
        "SELECT id, birth_date, sex, area_code FROM people
         WHERE merged_into IS NULL AND household_id IS NOT NULL AND birth_date > $1 ORDER BY id",
    )
    .bind(iso(today - Duration::days(16 * 365)))
    .fetch_all(db.reader())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let birth: String = r.try_get("birth_date")?;
        out.push(Child {
            id: r.try_get("id")?,
            birth: bala_core::parse_date(&birth).context("demo birth date")?,
            girl: r.try_get::<String, _>("sex")? == "F",
            area: r.try_get("area_code")?,
        });
    }
    Ok(out)
}

fn facility(area: &str) -> String {
    // Two polyclinics per district, numbered from the KATO code so they stay put.
    let n = area[2..4].parse::<u32>().unwrap_or(1);
    format!("Емхана №{n}")
}

/// Loads this pillar's demo data (called once, after the register's). Does
/// nothing if doses are already recorded, so it can never double a history.
pub async fn load(db: &Db) -> anyhow::Result<()> {
    let any: i64 = sqlx::query("SELECT COUNT(*) FROM imm_doses")
        .fetch_one(db.reader())
        .await?
        .try_get(0)?;
    if any > 0 {
        tracing::info!("demo immunization data already present");
        return Ok(());
    }
    let today = OffsetDateTime::now_utc().date();
    let actor = Actor::system("demo");
    let republic = [AreaCode::republic()];
    let ctx = Ctx {
        actor: &actor,
        scope: &republic,
    };

    for (area, base) in POPULATIONS {
        for (k, year) in ((today.year() - 3)..=today.year()).enumerate() {
            // Births fall by about 2 % a year, as in recent national figures.
            let n = base * (100 - 2 * k as i64) / 100;
            population::save(
                db,
                &actor,
                area,
                &year.to_string(),
                &n.to_string(),
                "Demo: illustrative estimate of surviving infants",
            )
            .await?;
        }
    }

    let cals = calendars::all(db).await?;
    let products: Vec<String> = calendars::in_force(&cals, today)
        .products
        .iter()
        .map(|p| p.code.clone())
        .collect();
    let (start, end) = (today - Duration::days(45), today - Duration::days(32));
    let campaign = campaigns::create(
        db,
        &actor,
        &campaigns::CampaignInput {
            name: "Қызылшаға қарсы қосымша вакцинация — Әуезов ауданы".into(),
            product: "MMR".into(),
            start_date: iso(start),
            end_date: iso(end),
            min_age_months: CAMPAIGN_AGES.0.to_string(),
            max_age_months: CAMPAIGN_AGES.1.to_string(),
            areas: format!("{CAMPAIGN_DISTRICT} 16500"),
        },
        &products,
    )
    .await?;

    let kids = children(db, today).await?;
    let (mut doses_n, mut campaign_n) = (0, 0);
    for (i, c) in kids.iter().enumerate() {
        let p = profile(i);
        let place = facility(&c.area);
        let mut list = Vec::new();
        let schedule = SCHEDULE.iter().chain(if c.girl { HPV_GIRLS } else { &[] });
        for (age, product) in schedule {
            let delay = match p {
                Profile::ZeroDose | Profile::RefusedAll => break,
                Profile::DropOut if *age > 61 => break,
                Profile::Late(d) if *age > 0 => d,
                // Small, fixed differences between children seen on time.
                _ if *age > 0 => (i % 7) as i64,
                _ => 0,
            };
            if *product == "MMR" && matches!(p, Profile::RefusedMmr | Profile::Contraindicated) {
                continue;
            }
            let given = c.birth + Duration::days(age + delay);
            if given > today {
                continue;
            }
            list.push(dose(product, c.birth, given, today, &place));
        }
        let at_campaign = start + Duration::days((i % 14) as i64);
        let months = age_months(c.birth, at_campaign);
        // Not for a child given measles vaccine in the four weeks before.
        let recent_mmr = list.iter().any(|d| {
            d.product == "MMR"
                && bala_core::parse_date(&d.given_on)
                    .is_ok_and(|g| (at_campaign - g).whole_days().abs() < 28)
        });
        if c.area == CAMPAIGN_DISTRICT
            && !recent_mmr
            && (CAMPAIGN_AGES.0..CAMPAIGN_AGES.1).contains(&months)
            && matches!(p, Profile::OnTime | Profile::Late(_) | Profile::DropOut)
        {
            let mut d = dose("MMR", c.birth, at_campaign, today, &place);
            d.campaign_id = campaign.to_string();
            list.push(d);
            campaign_n += 1;
        }
        if !list.is_empty() {
            doses_n += doses::record_many(db, ctx, c.id, &list, "demo")
                .await
                .with_context(|| format!("demo doses of person {}", c.id))?
                .len();
        }
        let exception =
            |kind: &str, antigen: &str, since: Date, until: &str, reason: &str| ExceptionInput {
                kind: kind.into(),
                antigen: antigen.into(),
                since: iso(since),
                until: until.into(),
                reason: reason.into(),
            };
        let mut exceptions = Vec::new();
        match p {
            Profile::RefusedAll => {
                for antigen in ["BCG", "HepB"] {
                    exceptions.push(exception(
                        "refusal",
                        antigen,
                        c.birth + Duration::days(1),
                        "",
                        "Ата-анасы бас тартты (сенімдеріне байланысты)",
                    ));
                }
            }
            Profile::RefusedMmr if (today - c.birth).whole_days() > 372 => {
                exceptions.push(exception(
                    "refusal",
                    "MMR",
                    c.birth + Duration::days(372),
                    "",
                    "Ата-анасы асқынудан қорқады",
                ));
            }
            Profile::Contraindicated if (today - c.birth).whole_days() > 300 => {
                exceptions.push(exception(
                    "contraindication",
                    "MMR",
                    c.birth + Duration::days(300),
                    "",
                    "Біріншілік иммунтапшылық: тірі вакциналарға болмайды",
                ));
            }
            _ => {}
        }
        for e in &exceptions {
            doses::record_exception(db, ctx, c.id, e)
                .await
                .with_context(|| format!("demo {} of person {}", e.kind, c.id))?;
        }
    }
    tracing::info!(
        children = kids.len(),
        doses = doses_n,
        campaign_doses = campaign_n,
        "demo immunization data loaded"
    );
    Ok(())
}

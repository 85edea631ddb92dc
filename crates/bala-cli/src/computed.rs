//! Series computed from Bala's own registers, published into the indicator
//! registry beside official figures. The indicators pillar owns the registry and
//! the publishing rules; each pillar owns its figures; this module wires them.

use anyhow::Context;
use bala_core::AreaCode;
use bala_immunization::store::coverage::{self, AreaCoverage, Basis};
use bala_indicators::model::{Dims, Period};
use bala_indicators::store::computed::{self, ComputedRow, Published};
use bala_indicators::store::registry;
use bala_store::Db;

pub const WELFARE_SOURCE: &str = "bala:welfare";
pub const IMMUNIZATION_SOURCE: &str = "bala:immunization";

/// DTP3 by 12 months among the birth cohort, in percent.
pub const IMM_DTP3: &str = "IMM_DTP3_COVERAGE";
/// MCV1 by 24 months among the birth cohort, in percent.
pub const IMM_MCV1: &str = "IMM_MCV1_COVERAGE";
/// Children of the cohort without DTP1 by 12 months.
pub const IMM_ZERO_DOSE: &str = "IMM_ZERO_DOSE";
/// (DTP1 − DTP3) / DTP1 by 12 months, in percent.
pub const IMM_DROPOUT: &str = "IMM_DROPOUT_DTP1_DTP3";

/// Publishes the welfare pillar's de-identified figures for the last `years`
/// years; suppressed cells (fewer than five children) are not published.
pub async fn publish_welfare(db: &Db, today: time::Date, years: i32) -> anyhow::Result<Published> {
    let mut rows = Vec::new();
    for year in (today.year() - years + 1)..=today.year() {
        for v in
            bala_welfare::store::stats::indicator_values(db, &[AreaCode::republic()], year).await?
        {
            let Some(value) = v.value else { continue };
            rows.push(ComputedRow {
                indicator: v.indicator.to_string(),
                area: AreaCode::parse(&v.area_code)?,
                period: Period::annual(year).map_err(|e| anyhow::anyhow!("{e}"))?,
                dims: Dims::new(),
                value,
                numerator: None,
                denominator: None,
            });
        }
    }
    computed::publish(db, WELFARE_SOURCE, &rows)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Whether every child born in `year` is at least `months` old on `today`.
///
/// A cohort figure is published only then: before, the youngest children
/// have not reached the age the dose is judged at, so a half-grown cohort
/// would show as low coverage, and each year's figure would keep changing
/// until its last child turned one (or two, for MCV1).
pub fn cohort_complete(year: i32, months: u16, today: time::Date) -> bool {
    time::Date::from_calendar_date(year, time::Month::December, 31)
        .is_ok_and(|last| coverage::latest_birth_aged(today, months) >= last)
}

fn percent(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| n as f64 * 100.0 / d as f64)
}

/// The immunization indicators of one area's cohort coverage (cohort basis,
/// [`coverage::report`]), for a cohort complete at 12 months (`mcv1` too when
/// complete at 24). Areas without registered children of the cohort get no
/// row: a zero would claim the register reaches them.
pub fn immunization_rows_of(
    a: &AreaCoverage,
    period: Period,
    mcv1: bool,
) -> anyhow::Result<Vec<ComputedRow>> {
    if a.registered == 0 {
        return Ok(Vec::new());
    }
    let area = AreaCode::parse(&a.area_code)?;
    let by12 = |label: &str| a.dose(label).map(|d| d.by_12m).unwrap_or(0);
    let row = |indicator: &str, value: f64, n: Option<i64>, d: Option<i64>| ComputedRow {
        indicator: indicator.to_string(),
        area: area.clone(),
        period,
        dims: Dims::new(),
        value,
        numerator: n.map(|n| n as f64),
        denominator: d.map(|d| d as f64),
    };
    let (dtp1, dtp3) = (by12("DTP1"), by12("DTP3"));
    let mut out = Vec::new();
    if let Some(v) = percent(dtp3, a.registered) {
        out.push(row(IMM_DTP3, v, Some(dtp3), Some(a.registered)));
    }
    let zero = a
        .zero_dose
        .context("the cohort report counts zero-dose children")?;
    out.push(row(IMM_ZERO_DOSE, zero as f64, None, None));
    if let Some(v) = percent(dtp1 - dtp3, dtp1) {
        out.push(row(IMM_DROPOUT, v, Some(dtp1 - dtp3), Some(dtp1)));
    }
    if mcv1 {
        let n = a.dose("MCV1").map(|d| d.by_24m).unwrap_or(0);
        if let Some(v) = percent(n, a.registered) {
            out.push(row(IMM_MCV1, v, Some(n), Some(a.registered)));
        }
    }
    Ok(out)
}

/// The immunization indicators for the birth cohorts of the last `years`
/// years that are complete at 12 months, for the republic, every region and
/// every district with registered children of the cohort.
pub async fn immunization_rows(
    db: &Db,
    today: time::Date,
    years: i32,
) -> anyhow::Result<Vec<ComputedRow>> {
    let republic = AreaCode::republic();
    let mut rows = Vec::new();
    for year in (today.year() - years + 1)..=today.year() {
        if !cohort_complete(year, 12, today) {
            continue;
        }
        let mcv1 = cohort_complete(year, 24, today);
        let period = Period::annual(year).map_err(|e| anyhow::anyhow!("{e}"))?;
        let top = coverage::report(db, republic.as_str(), year, Basis::Cohort, today).await?;
        rows.extend(immunization_rows_of(&top.area, period, mcv1)?);
        for region in top.children.iter().filter(|r| r.registered > 0) {
            let r = coverage::report(db, &region.area_code, year, Basis::Cohort, today).await?;
            rows.extend(immunization_rows_of(&r.area, period, mcv1)?);
            for district in &r.children {
                rows.extend(immunization_rows_of(district, period, mcv1)?);
            }
        }
    }
    Ok(rows)
}

/// Defines the immunization indicators in a registry seeded before they
/// were shipped (a new database gets them from the seed); existing
/// definitions are left as the administrators edited them.
async fn ensure_immunization_indicators(db: &Db) -> anyhow::Result<()> {
    let have = registry::all(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for def in bala_indicators::reference::seed()
        .indicators
        .iter()
        .filter(|d| d.computed.as_deref() == Some(IMMUNIZATION_SOURCE))
    {
        if !have.iter().any(|h| h.code == def.code) {
            registry::ensure_computed(db, def)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    Ok(())
}

/// Publishes the immunization indicators ([`immunization_rows`]).
pub async fn publish_immunization(
    db: &Db,
    today: time::Date,
    years: i32,
) -> anyhow::Result<Published> {
    ensure_immunization_indicators(db).await?;
    let rows = immunization_rows(db, today, years).await?;
    computed::publish(db, IMMUNIZATION_SOURCE, &rows)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Every computed series: the register's and the pillars'.
pub async fn refresh_all(
    db: &Db,
    today: time::Date,
    years: i32,
) -> anyhow::Result<Vec<(&'static str, Published)>> {
    let registry = computed::refresh_registry_series(db, today, years)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let welfare = publish_welfare(db, today, years).await?;
    let immunization = publish_immunization(db, today, years).await?;
    Ok(vec![
        ("registered children under 5", registry),
        ("child welfare", welfare),
        ("immunization", immunization),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use bala_immunization::store::doses::{self, DoseInput};
    use bala_registry::people::{self, CreateOutcome, Ctx};
    use bala_registry::person::PersonInput;
    use bala_store::audit::Actor;
    use bala_store::testing::TestDb;
    use bala_store::{Backend, Row};
    use time::Duration;

    async fn child(db: &Db, ctx: Ctx<'_>, area: &str, birth: time::Date, doses: &[(i64, &str)]) {
        let input = PersonInput {
            family_name: "Омаров".into(),
            given_name: "Арман".into(),
            birth_date: bala_core::date::iso(birth),
            sex: "M".into(),
            area_code: area.into(),
            ..Default::default()
        };
        let CreateOutcome::Created(id) = people::create(db, ctx, &input, true).await.unwrap()
        else {
            unreachable!("confirmed new")
        };
        let list: Vec<DoseInput> = doses
            .iter()
            .map(|(days, product)| DoseInput {
                product: product.to_string(),
                given_on: bala_core::date::iso(birth + Duration::days(*days)),
                historical: true,
                ..Default::default()
            })
            .collect();
        if !list.is_empty() {
            doses::record_many(db, ctx, id, &list, "test")
                .await
                .unwrap();
        }
    }

    fn value(rows: &[ComputedRow], indicator: &str, area: &str, year: i32) -> Option<f64> {
        rows.iter()
            .find(|r| {
                r.indicator == indicator && r.area.as_str() == area && r.period.year() == year
            })
            .map(|r| r.value)
    }

    /// The published figures are the cohort coverage report's, for complete
    /// cohorts only, in every area with children of the cohort and no other.
    async fn immunization_figures(backend: Backend) {
        let t = TestDb::new(backend, &bala_web::all_migrations()).await;
        let db = &t.db;
        bala_registry::areas::seed_reference(db).await.unwrap();
        bala_indicators::store::registry::seed_reference(db)
            .await
            .unwrap();
        let actor = Actor::system("test");
        let scope = [AreaCode::republic()];
        let ctx = Ctx {
            actor: &actor,
            scope: &scope,
        };
        let today = time::OffsetDateTime::now_utc().date();
        let year = today.year() - 3;
        let birth = time::Date::from_calendar_date(year, time::Month::June, 15).unwrap();
        let full: &[(i64, &str)] = &[
            (0, "BCG"),
            (0, "HepB"),
            (61, "HEXA"),
            (92, "PENTA"),
            (122, "HEXA"),
            (366, "MMR"),
        ];
        child(db, ctx, "751110000", birth, full).await;
        child(db, ctx, "751110000", birth, full).await;
        child(db, ctx, "751110000", birth, &[(0, "BCG"), (61, "HEXA")]).await;
        child(db, ctx, "751110000", birth, &[]).await;
        child(db, ctx, "434600000", birth, full).await;
        // This year's cohort is not complete: nothing is published for it.
        child(
            db,
            ctx,
            "751110000",
            today - Duration::days(100),
            &[(0, "BCG")],
        )
        .await;

        let rows = immunization_rows(db, today, 5).await.unwrap();
        assert!(
            rows.iter().all(|r| r.period.year() == year),
            "complete cohorts only"
        );
        let mut areas: Vec<&str> = rows.iter().map(|r| r.area.as_str()).collect();
        areas.sort();
        areas.dedup();
        assert_eq!(
            areas,
            [
                "000000000",
                "430000000",
                "434600000",
                "750000000",
                "751110000"
            ]
        );
        // By hand: 5 children, 4 with DTP1, 3 with DTP3 and MCV1, one zero-dose.
        assert_eq!(value(&rows, IMM_DTP3, "000000000", year), Some(60.0));
        assert_eq!(value(&rows, IMM_MCV1, "000000000", year), Some(60.0));
        assert_eq!(value(&rows, IMM_ZERO_DOSE, "000000000", year), Some(1.0));
        assert_eq!(value(&rows, IMM_DROPOUT, "000000000", year), Some(25.0));
        assert_eq!(value(&rows, IMM_DTP3, "751110000", year), Some(50.0));
        assert_eq!(value(&rows, IMM_ZERO_DOSE, "434600000", year), Some(0.0));
        assert_eq!(value(&rows, IMM_DROPOUT, "434600000", year), Some(0.0));
        // And each equals the coverage report's own counts.
        for area in ["000000000", "750000000", "751110000"] {
            let r = coverage::report(db, area, year, Basis::Cohort, today)
                .await
                .unwrap()
                .area;
            let d = |l: &str| r.dose(l).unwrap().clone();
            let reg = r.registered as f64;
            assert_eq!(
                value(&rows, IMM_DTP3, area, year),
                Some(d("DTP3").by_12m as f64 * 100.0 / reg)
            );
            assert_eq!(
                value(&rows, IMM_MCV1, area, year),
                Some(d("MCV1").by_24m as f64 * 100.0 / reg)
            );
            assert_eq!(
                value(&rows, IMM_ZERO_DOSE, area, year),
                r.zero_dose.map(|z| z as f64)
            );
            let (one, three) = (d("DTP1").by_12m as f64, d("DTP3").by_12m as f64);
            assert_eq!(
                value(&rows, IMM_DROPOUT, area, year),
                Some((one - three) * 100.0 / one)
            );
        }

        let p = publish_immunization(db, today, 5).await.unwrap();
        assert_eq!((p.added, p.unchanged), (rows.len(), 0));
        let again = publish_immunization(db, today, 5).await.unwrap();
        assert_eq!((again.added, again.unchanged), (0, rows.len()));
        let stored: f64 = bala_store::sqlx::query(
            "SELECT value FROM ind_values WHERE indicator_code = $1 AND area_code = $2 AND source = $3",
        )
        .bind(IMM_DTP3)
        .bind("751110000")
        .bind(IMMUNIZATION_SOURCE)
        .fetch_one(db.reader())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
        assert_eq!(stored, 50.0);
    }

    #[tokio::test]
    async fn immunization_figures_sqlite() {
        immunization_figures(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn immunization_figures_postgres() {
        immunization_figures(Backend::Postgres).await;
    }

    #[test]
    fn cohorts_are_complete_once_the_youngest_is_old_enough() {
        use time::Month::{December, June};
        let d = |y, m, day| time::Date::from_calendar_date(y, m, day).unwrap();
        assert!(!cohort_complete(2024, 12, d(2025, December, 30)));
        assert!(cohort_complete(2024, 12, d(2025, December, 31)));
        assert!(!cohort_complete(2024, 24, d(2026, June, 1)));
        assert!(cohort_complete(2024, 24, d(2026, December, 31)));
    }
}

//! Series computed from Bala's own registers, published into the indicator
//! registry beside official figures. The indicators pillar owns the registry and
//! the publishing rules; each pillar owns its figures; this module wires them.

use bala_core::AreaCode;
use bala_indicators::model::{Dims, Period};
use bala_indicators::store::computed::{self, ComputedRow, Published};
use bala_store::Db;

pub const WELFARE_SOURCE: &str = "bala:welfare";

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
    Ok(vec![
        ("registered children under 5", registry),
        ("child welfare", welfare),
    ])
}

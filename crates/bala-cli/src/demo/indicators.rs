//! Demo data of the indicators pillar: the real series, not invented numbers.
//!
//! - every kazstat SDG file Bala ships (national and by region, 2010–2023),
//!   through the same importer users run, so rows the statistics bureau published
//!   inconsistently are rejected and reported exactly as they would be;
//! - UNICEF's data warehouse file of UN IGME under-five mortality estimates for
//!   2020, of which Kazakhstan's rows map through the `unicef` code list (the other
//!   countries are not Bala areas and are left out);
//! - the registered-children series computed from the demo register.
//!
//! Sources and licences: `crates/bala-indicators/data/README.md`.

use bala_indicators::reference;
use bala_indicators::store::import::{import, Format, Request};
use bala_indicators::store::{computed, registry, Channel};
use bala_store::audit::Actor;
use bala_store::Db;

/// Loads this pillar's demo data (called once, after the register's).
pub async fn load(db: &Db) -> anyhow::Result<()> {
    registry::seed_reference(db).await?;
    let actor = Actor::system("demo");
    let mut loaded = 0;
    let mut rejected = 0;
    for (file, bytes) in reference::KAZSTAT_DATA {
        let r = import(
            db,
            &actor,
            &Channel::System,
            &Request {
                format: Format::Csv,
                bytes,
                file_name: Some(file.to_string()),
                indicator: None,
                source: Some("kazstat".into()),
                codelist: None,
                dry_run: false,
            },
            &mut |_, _| {},
        )
        .await?;
        loaded += r.added + r.updated;
        rejected += r.rejected;
    }
    let unicef = import(
        db,
        &actor,
        &Channel::System,
        &Request {
            format: Format::SdmxCsv,
            bytes: reference::UNICEF_U5MR_2020,
            file_name: Some("CME_MRY0T4_all_2020.csv".into()),
            indicator: None,
            source: None,
            codelist: Some("unicef".into()),
            dry_run: false,
        },
        &mut |_, _| {},
    )
    .await?;
    let today = time::OffsetDateTime::now_utc().date();
    let registry_series = computed::refresh_registry_series(db, today, 5).await?;
    tracing::info!(
        kazstat_values = loaded,
        kazstat_rejected = rejected,
        unicef_values = unicef.added,
        registry_values = registry_series.added,
        "demo indicators loaded"
    );
    Ok(())
}

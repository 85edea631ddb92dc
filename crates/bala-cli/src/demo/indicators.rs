//! Demo data of the indicators pillar.

use bala_store::Db;

/// Loads this pillar's demo data (called once, after the register's).
pub async fn load(_db: &Db) -> anyhow::Result<()> {
    Ok(())
}

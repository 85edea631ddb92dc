//! Turning the area codes files use into KATO codes of Bala's area table.

use super::IndError;
use crate::model::{AreaRef, Period};
use bala_store::sqlx::{self, Row};
use bala_store::Db;

#[derive(Debug, Clone)]
struct AreaEntry {
    code: String,
    stat_code: Option<String>,
    iso_code: Option<String>,
    map_code: Option<String>,
    valid_from: Option<String>,
    valid_to: Option<String>,
}

/// The area table, loaded once per import.
#[derive(Debug, Clone, Default)]
pub struct AreaResolver {
    areas: Vec<AreaEntry>,
}

impl AreaResolver {
    pub async fn load(db: &Db) -> Result<AreaResolver, IndError> {
        let rows = sqlx::query(
            "SELECT code, stat_code, iso_code, map_code, valid_from, valid_to FROM areas ORDER BY code",
        )
        .fetch_all(db.reader())
        .await?;
        let areas = rows
            .iter()
            .map(|r| {
                Ok(AreaEntry {
                    code: r.try_get("code")?,
                    stat_code: r.try_get("stat_code")?,
                    iso_code: r.try_get("iso_code")?,
                    map_code: r.try_get("map_code")?,
                    valid_from: r.try_get("valid_from")?,
                    valid_to: r.try_get("valid_to")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok(AreaResolver { areas })
    }

    pub fn exists(&self, kato: &str) -> bool {
        self.areas.iter().any(|a| a.code == kato)
    }

    /// The KATO code for a reference: national → the republic; a KATO code that
    /// exists; or a statistics, ISO or map code, preferring the area that existed
    /// during `period` (kazstat's `KZONT` is South Kazakhstan until 2018).
    pub fn resolve(&self, area: &AreaRef, period: Period) -> Result<String, String> {
        match area {
            AreaRef::National => Ok(bala_core::kato::REPUBLIC.to_string()),
            AreaRef::Kato(c) if self.exists(c.as_str()) => Ok(c.as_str().to_string()),
            AreaRef::Kato(c) => Err(format!("no area has KATO code {c}")),
            AreaRef::Code(code) => {
                let matches: Vec<&AreaEntry> = self
                    .areas
                    .iter()
                    .filter(|a| {
                        [&a.stat_code, &a.iso_code, &a.map_code]
                            .iter()
                            .any(|c| c.as_deref() == Some(code.as_str()))
                    })
                    .collect();
                let start = period.start_date().to_string();
                let end = period.end_date().to_string();
                matches
                    .iter()
                    .find(|a| {
                        a.valid_from.as_deref().is_none_or(|f| f <= end.as_str())
                            && a.valid_to.as_deref().is_none_or(|t| t >= start.as_str())
                    })
                    .or(matches.first())
                    .map(|a| a.code.clone())
                    .ok_or_else(|| {
                        format!(
                            "'{code}' is not an area Bala knows (no KATO, statistics, ISO or map code matches); map it in the code list"
                        )
                    })
            }
        }
    }
}

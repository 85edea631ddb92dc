//! Exporting published values in any exchange format.

use super::import::Format;
use super::values::{self, Filter};
use super::IndError;
use crate::exchange::{adx, dhis2, sdmx_csv, sdmx_json, tidy_csv, xlsx, WriteError};
use crate::model::{AreaRef, Observation};
use bala_store::Db;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Write(#[from] WriteError),
    #[error("{0}")]
    Choice(String),
    #[error(transparent)]
    Ind(#[from] IndError),
}

/// The observations of a filter, as exchange formats take them. DHIS2 and ADX
/// address every area by code (the republic too, `000000000`), the others write
/// the republic as the national total (empty area).
pub async fn observations(
    db: &Db,
    filter: &Filter,
    kato_national: bool,
) -> Result<Vec<Observation>, IndError> {
    Ok(values::published(db, filter)
        .await?
        .iter()
        .map(|v| {
            let mut o = v.observation();
            if kato_national && o.area == AreaRef::National {
                o.area = AreaRef::parse(bala_core::kato::REPUBLIC);
            }
            o
        })
        .collect())
}

/// Writes the values of `filter` in `format`; DHIS2 and ADX map codes back
/// through `codelist` (default: the format's).
pub async fn export(
    db: &Db,
    format: Format,
    filter: &Filter,
    codelist: Option<&str>,
) -> Result<Vec<u8>, ExportError> {
    let dhis = matches!(format, Format::Dhis2Json | Format::Adx);
    let obs = observations(db, filter, dhis).await?;
    let system = codelist.unwrap_or(format.default_codelist());
    let bytes = match format {
        Format::Csv => {
            let mut codes: Vec<&str> = obs.iter().map(|o| o.indicator.as_str()).collect();
            codes.dedup();
            if codes.len() > 1 || (obs.is_empty() && filter.indicators.len() != 1) {
                return Err(ExportError::Choice(
                    "kazstat's tidy CSV holds one indicator per file: choose one indicator".into(),
                ));
            }
            tidy_csv::write(&obs)?.into_bytes()
        }
        Format::SdmxCsv => sdmx_csv::write(&obs, "BALA:INDICATORS(1.0)")?.into_bytes(),
        Format::SdmxJson => sdmx_json::write(&obs, "BALA-EXPORT")?.into_bytes(),
        Format::Dhis2Json => {
            let map = super::codelists::code_map(db, system).await?;
            dhis2::write(&obs, &map, None)?.into_bytes()
        }
        Format::Adx => {
            let map = super::codelists::code_map(db, system).await?;
            adx::write(&obs, &map, "BALA")?.into_bytes()
        }
        Format::Xlsx => xlsx::write(&obs, None)?,
    };
    Ok(bytes)
}

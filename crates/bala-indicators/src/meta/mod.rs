//! Indicator names, units and definitions from kazstat's Open SDG files.
//!
//! Open SDG keeps all text in translation files, one per group and language
//! (`translations/ru/SEX.yml`: `F: женщины`), and refers to it from the indicator
//! files as `GROUP.KEY` (`indicator_name: global_indicators.3-2-1-title`,
//! `computation_units: UNIT_MEASURE.PT`). Bala reads both into a [`Terminology`] — a
//! real Kazakh/Russian/English term base for its codes — and resolves the references
//! into [`IndicatorInfo`]. [`parse_regions`] reads the reference list of regions
//! with their codes and reform dates, to resolve `REF_AREA` codes to KATO.
//! Reading the files from disk is the caller's job.

mod indicator;
mod regions;
mod terminology;

pub use indicator::{
    describe, parse_indicator_config, parse_indicator_meta, IndicatorConfig, IndicatorInfo,
    IndicatorMeta,
};
pub use regions::{parse_regions, resolve_area, Region};
pub use terminology::{parse_translations, Label, Terminology};

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use bala_core::Lang;

/// A text in each language, where known.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Names {
    pub kk: Option<String>,
    pub ru: Option<String>,
    pub en: Option<String>,
}

impl Names {
    pub fn get(&self, lang: Lang) -> Option<&str> {
        match lang {
            Lang::Kk => self.kk.as_deref(),
            Lang::Ru => self.ru.as_deref(),
            Lang::En => self.en.as_deref(),
        }
    }

    pub fn set(&mut self, lang: Lang, text: String) {
        let slot = match lang {
            Lang::Kk => &mut self.kk,
            Lang::Ru => &mut self.ru,
            Lang::En => &mut self.en,
        };
        *slot = Some(text);
    }

    pub fn is_empty(&self) -> bool {
        self.kk.is_none() && self.ru.is_none() && self.en.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MetaError {
    #[error("not YAML: {0}")]
    Yaml(String),
    #[error("the file is not a YAML mapping of keys to texts")]
    NotAMapping,
    #[error("the value of '{0}' is a list or mapping, not a text")]
    Nested(String),
    #[error("the file has no {0}")]
    Missing(&'static str),
}

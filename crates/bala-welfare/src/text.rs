//! Trilingual text. Kazakh is the state language and Russian is used officially
//! alongside it (Constitution Art. 7); English serves partners and the code base.
//! Every user-facing string in an instrument or rule set carries all three, and
//! validation refuses a missing one, so no screen ever falls back silently.

use bala_core::ValidationErrors;
use serde::{Deserialize, Serialize};

pub use bala_core::Lang;

/// One string in Kazakh, Russian and English.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Text {
    #[serde(default)]
    pub kk: String,
    #[serde(default)]
    pub ru: String,
    #[serde(default)]
    pub en: String,
}

impl Text {
    pub fn new(kk: impl Into<String>, ru: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            kk: kk.into(),
            ru: ru.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Kk => &self.kk,
            Lang::Ru => &self.ru,
            Lang::En => &self.en,
        }
    }

    /// Reports each blank translation as `<field>.<lang>`.
    pub fn check(&self, field: &str, errors: &mut ValidationErrors) {
        for lang in Lang::ALL {
            if self.get(lang).trim().is_empty() {
                errors.push(
                    format!("{field}.{lang}"),
                    "err-translation-missing",
                    format!("the {lang} text is missing"),
                );
            }
        }
    }
}

/// Checks a machine code: 1–64 characters of `a-z`, `0-9`, `_` and `-`,
/// starting with a letter. Codes are stored with answers and alerts for years,
/// so they must survive any database, URL and spreadsheet unchanged.
pub fn check_code(code: &str, field: &str, errors: &mut ValidationErrors) {
    let ok_chars = code
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    let starts = code.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    if code.is_empty() || code.len() > 64 || !ok_chars || !starts {
        errors.push(
            field,
            "err-code-format",
            format!("'{code}' is not a valid code (a–z, 0–9, '_' or '-', starting with a letter, at most 64)"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_translations_name_the_language() {
        let mut e = ValidationErrors::new();
        Text::new("бала", " ", "").check("title", &mut e);
        assert!(e.for_field("title.kk").is_none());
        assert!(e.for_field("title.ru").is_some());
        assert!(e.for_field("title.en").is_some());
    }

    #[test]
    fn codes() {
        let mut e = ValidationErrors::new();
        check_code("safety_1", "a", &mut e);
        check_code("x-y", "b", &mut e);
        assert!(e.is_empty());
        for bad in ["", "1abc", "Abc", "a b", "қ", &"a".repeat(65)] {
            let mut e = ValidationErrors::new();
            check_code(bad, "f", &mut e);
            assert_eq!(e.0.len(), 1, "{bad}");
        }
    }

    #[test]
    fn lang_parses() {
        assert_eq!("KZ".parse::<Lang>(), Ok(Lang::Kk));
        assert_eq!("ru".parse::<Lang>(), Ok(Lang::Ru));
        assert!("de".parse::<Lang>().is_err());
    }
}

//! The three languages Bala speaks: Kazakh (the state language), Russian and English.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Kk,
    Ru,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Kk, Lang::Ru, Lang::En];

    /// ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Kk => "kk",
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    /// Exactly `kk`, `ru` or `en`.
    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == code.trim())
    }

    /// A language tag as browsers and users write it: `kk-KZ`, `RU`, `kz` (an old
    /// spelling of Kazakh), `en-GB`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().get(..2)? {
            "kk" | "kz" => Some(Lang::Kk),
            "ru" => Some(Lang::Ru),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The name of the language in itself, for the switcher.
    pub fn endonym(self) -> &'static str {
        match self {
            Lang::Kk => "Қазақша",
            Lang::Ru => "Русский",
            Lang::En => "English",
        }
    }

    /// Picks the best language from an `Accept-Language` header (by q-value).
    pub fn negotiate(accept: &str) -> Option<Lang> {
        let mut prefs: Vec<(f32, Lang)> = accept
            .split(',')
            .filter_map(|part| {
                let mut it = part.split(';');
                let tag = it.next()?.trim();
                let q = it
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                Lang::parse(tag).map(|l| (q, l))
            })
            .collect();
        prefs.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
        prefs.first().map(|p| p.1)
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for Lang {
    type Err = ();
    /// ISO 639-1 or 639-2 codes (`kk`, `kaz`, `ru`, `rus`, `en`, `eng`) and tags like `kk-KZ`.
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.trim().to_ascii_lowercase().as_str() {
            "kaz" => Ok(Lang::Kk),
            "rus" => Ok(Lang::Ru),
            "eng" => Ok(Lang::En),
            other => Lang::parse(other).ok_or(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_negotiation() {
        for l in Lang::ALL {
            assert_eq!(Lang::from_code(l.code()), Some(l));
            assert_eq!(Lang::parse(&l.code().to_uppercase()), Some(l));
        }
        assert_eq!(Lang::parse("kz"), Some(Lang::Kk));
        assert_eq!(Lang::from_code("kz"), None);
        assert_eq!(Lang::negotiate("ru-RU,ru;q=0.9,en;q=0.8"), Some(Lang::Ru));
        assert_eq!(Lang::negotiate("en-US,en;q=0.9"), Some(Lang::En));
        assert_eq!(Lang::negotiate("de;q=1,kk;q=0.5"), Some(Lang::Kk));
        assert_eq!(Lang::negotiate("de"), None);
        assert_eq!("kaz".parse::<Lang>(), Ok(Lang::Kk));
        assert_eq!(Lang::Ru.to_string(), "ru");
    }
}

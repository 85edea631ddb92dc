//! Three languages through Fluent.
//!
//! Every visible string is a Fluent message in `locales/{kk,ru,en}/main.ftl`,
//! compiled into the binary. `tests::every_key_in_every_language` fails when a
//! message exists in one language but not another, and
//! `tests::every_used_key_exists` when a template or handler uses a message that
//! no language defines.
//!
//! Dates and numbers follow each locale's conventions (CLDR): Kazakh and Russian
//! write `29.11.2026` and `1 234,5`; English `29 Nov 2026` and `1,234.5`.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::OnceLock;

pub use bala_core::Lang;

/// The Fluent files of one language (each language has the same files).
macro_rules! ftl {
    ($lang:literal) => {
        concat!(
            include_str!(concat!("../locales/", $lang, "/main.ftl")),
            "\n",
            include_str!(concat!("../locales/", $lang, "/errors.ftl")),
            "\n",
            include_str!(concat!("../locales/", $lang, "/pillars.ftl")),
            "\n",
            include_str!(concat!("../locales/", $lang, "/immunization.ftl")),
            "\n",
            include_str!(concat!("../locales/", $lang, "/welfare.ftl")),
            "\n",
            include_str!(concat!("../locales/", $lang, "/indicators.ftl")),
            "\n",
            include_str!(concat!("../locales/", $lang, "/surveillance.ftl")),
        )
    };
}

pub const SOURCES: [(Lang, &str); 3] = [
    (Lang::Kk, ftl!("kk")),
    (Lang::Ru, ftl!("ru")),
    (Lang::En, ftl!("en")),
];

struct Bundles {
    kk: FluentBundle<FluentResource>,
    ru: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

fn bundle(lang: Lang, src: &str) -> FluentBundle<FluentResource> {
    let id: unic_langid::LanguageIdentifier = lang.code().parse().expect("valid language id");
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // Isolation marks would surround every placeable with invisible characters.
    b.set_use_isolating(false);
    let res = FluentResource::try_new(src.to_string())
        .unwrap_or_else(|(_, errs)| panic!("{}: invalid Fluent file: {errs:?}", lang.code()));
    b.add_resource(res)
        .unwrap_or_else(|errs| panic!("{}: duplicate messages: {errs:?}", lang.code()));
    b
}

fn bundles() -> &'static Bundles {
    static B: OnceLock<Bundles> = OnceLock::new();
    B.get_or_init(|| Bundles {
        kk: bundle(Lang::Kk, SOURCES[0].1),
        ru: bundle(Lang::Ru, SOURCES[1].1),
        en: bundle(Lang::En, SOURCES[2].1),
    })
}

/// Translates a message; `args` fill its placeables. A missing message shows
/// its id (and the completeness tests keep that from reaching users).
pub fn translate(lang: Lang, key: &str, args: Option<&FluentArgs>) -> String {
    let b = bundles();
    let bundle = match lang {
        Lang::Kk => &b.kk,
        Lang::Ru => &b.ru,
        Lang::En => &b.en,
    };
    let Some(msg) = bundle.get_message(key).and_then(|m| m.value()) else {
        tracing::warn!(key, lang = lang.code(), "missing translation");
        return key.to_string();
    };
    let mut errors = vec![];
    bundle.format_pattern(msg, args, &mut errors).into_owned()
}

/// A translator bound to one language, as templates use it.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    pub fn t(&self, key: &str) -> String {
        translate(self.0, key, None)
    }

    pub fn t1(&self, key: &str, name: &str, value: impl Into<FluentArg>) -> String {
        let mut args = FluentArgs::new();
        args.set(name.to_string(), value.into().0);
        translate(self.0, key, Some(&args))
    }

    pub fn t2(
        &self,
        key: &str,
        n1: &str,
        v1: impl Into<FluentArg>,
        n2: &str,
        v2: impl Into<FluentArg>,
    ) -> String {
        let mut args = FluentArgs::new();
        args.set(n1.to_string(), v1.into().0);
        args.set(n2.to_string(), v2.into().0);
        translate(self.0, key, Some(&args))
    }

    /// `YYYY-MM-DD…` shown in the locale's format; anything else as is.
    pub fn date(&self, iso: &str) -> String {
        format_date(self.0, iso)
    }

    /// A timestamp (`YYYY-MM-DDTHH:MM…`) as date and minutes, UTC.
    pub fn stamp(&self, ts: &str) -> String {
        if ts.len() >= 16 {
            format!("{} {} UTC", format_date(self.0, &ts[..10]), &ts[11..16])
        } else {
            ts.to_string()
        }
    }

    pub fn num(&self, n: i64) -> String {
        format_int(self.0, n)
    }

    pub fn dec(&self, x: f64, digits: usize) -> String {
        format_decimal(self.0, x, digits)
    }
}

/// A value for a Fluent placeable.
pub struct FluentArg(FluentValue<'static>);

impl From<&str> for FluentArg {
    fn from(s: &str) -> Self {
        FluentArg(FluentValue::from(s.to_string()))
    }
}
impl From<String> for FluentArg {
    fn from(s: String) -> Self {
        FluentArg(FluentValue::from(s))
    }
}
impl From<&String> for FluentArg {
    fn from(s: &String) -> Self {
        FluentArg(FluentValue::from(s.clone()))
    }
}
impl From<i64> for FluentArg {
    fn from(n: i64) -> Self {
        FluentArg(FluentValue::from(n))
    }
}
impl From<&&String> for FluentArg {
    fn from(s: &&String) -> Self {
        FluentArg(FluentValue::from((*s).clone()))
    }
}
impl From<&&str> for FluentArg {
    fn from(s: &&str) -> Self {
        FluentArg(FluentValue::from(s.to_string()))
    }
}
impl From<&i64> for FluentArg {
    fn from(n: &i64) -> Self {
        FluentArg(FluentValue::from(*n))
    }
}
impl From<&usize> for FluentArg {
    fn from(n: &usize) -> Self {
        FluentArg(FluentValue::from(*n as i64))
    }
}
impl From<&&usize> for FluentArg {
    fn from(n: &&usize) -> Self {
        FluentArg(FluentValue::from(**n as i64))
    }
}
impl From<&&i64> for FluentArg {
    fn from(n: &&i64) -> Self {
        FluentArg(FluentValue::from(**n))
    }
}
impl From<usize> for FluentArg {
    fn from(n: usize) -> Self {
        FluentArg(FluentValue::from(n as i64))
    }
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

pub fn format_date(lang: Lang, iso: &str) -> String {
    let Ok(d) = bala_core::parse_date(iso.get(..10).unwrap_or(iso)) else {
        return iso.to_string();
    };
    match lang {
        Lang::Kk | Lang::Ru => format!("{:02}.{:02}.{}", d.day(), d.month() as u8, d.year()),
        Lang::En => format!(
            "{} {} {}",
            d.day(),
            MONTHS_EN[d.month() as usize - 1],
            d.year()
        ),
    }
}

fn group(digits: &str, sep: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(c);
    }
    out
}

fn separators(lang: Lang) -> (&'static str, &'static str) {
    match lang {
        // CLDR: a no-break space groups thousands in Kazakh and Russian, comma for decimals.
        Lang::Kk | Lang::Ru => ("\u{a0}", ","),
        Lang::En => (",", "."),
    }
}

pub fn format_int(lang: Lang, n: i64) -> String {
    let (g, _) = separators(lang);
    let s = group(&n.unsigned_abs().to_string(), g);
    if n < 0 {
        format!("−{s}")
    } else {
        s
    }
}

pub fn format_decimal(lang: Lang, x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    let (g, d) = separators(lang);
    let s = format!("{:.*}", digits, x.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let mut out = group(int, g);
    if !frac.is_empty() {
        out.push_str(d);
        out.push_str(frac);
    }
    if x < 0.0 && out.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.insert(0, '−');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(src: &str) -> BTreeSet<String> {
        src.lines()
            .filter(|l| !l.starts_with([' ', '#', '.', '*', '[']) && l.contains(" ="))
            .filter_map(|l| l.split(" =").next())
            .map(|k| k.trim().to_string())
            .collect()
    }

    #[test]
    fn every_key_in_every_language() {
        let sets: Vec<(Lang, BTreeSet<String>)> =
            SOURCES.iter().map(|(l, s)| (*l, keys(s))).collect();
        let all: BTreeSet<String> = sets.iter().flat_map(|(_, k)| k.iter().cloned()).collect();
        let mut missing = Vec::new();
        for (lang, set) in &sets {
            for k in all.difference(set) {
                missing.push(format!("{}: {k}", lang.code()));
            }
        }
        assert!(missing.is_empty(), "messages missing: {missing:#?}");
        // And every message parses and formats in its bundle.
        for lang in Lang::ALL {
            for k in &all {
                assert_ne!(translate(lang, k, None), "", "{k} empty in {}", lang.code());
            }
        }
    }

    /// Scans templates and sources for message ids in use and checks each exists.
    #[test]
    fn every_used_key_exists() {
        let defined = keys(SOURCES[2].1);
        let mut used = BTreeSet::new();
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let mut stack = vec![std::path::PathBuf::from(root)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    if !p.ends_with("target") {
                        stack.push(p);
                    }
                    continue;
                }
                let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
                if !["rs", "html"].contains(&ext) {
                    continue;
                }
                let text = std::fs::read_to_string(&p).unwrap();
                for pat in [".t(\"", ".t1(\"", ".t2(\""] {
                    for part in text.split(pat).skip(1) {
                        if let Some(k) = part.split('"').next() {
                            if !k.is_empty()
                                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                            {
                                used.insert(k.to_string());
                            }
                        }
                    }
                }
                // Error codes given to FieldError / ValidationErrors.
                for part in text.split("\"err-").skip(1) {
                    if let Some(k) = part.split('"').next() {
                        if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                        {
                            used.insert(format!("err-{k}"));
                        }
                    }
                }
            }
        }
        let missing: Vec<_> = used.difference(&defined).collect();
        assert!(missing.is_empty(), "used but not defined: {missing:#?}");
    }

    #[test]
    fn locale_formats() {
        assert_eq!(format_date(Lang::Ru, "2026-11-29"), "29.11.2026");
        assert_eq!(format_date(Lang::En, "2026-11-29"), "29 Nov 2026");
        assert_eq!(format_int(Lang::Kk, 1234567), "1\u{a0}234\u{a0}567");
        assert_eq!(format_int(Lang::En, 1234567), "1,234,567");
        assert_eq!(format_decimal(Lang::Ru, 1234.5, 1), "1\u{a0}234,5");
        assert_eq!(format_decimal(Lang::En, -0.04, 1), "0.0");
        assert_eq!(format_decimal(Lang::En, 98.76, 1), "98.8");
    }
}

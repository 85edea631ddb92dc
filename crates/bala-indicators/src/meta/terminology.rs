//! Translation files (`CODE: name` per line, in YAML) and the term base built from them.

use super::{Lang, MetaError, Names};
use serde::Serialize;
use serde_yaml_ng::Value;
use std::collections::BTreeMap;

/// Parses one translation file into code → text. Empty texts are kept out (kazstat
/// has many placeholders like `3-2-1: ''`), so "no text" is always `None` later.
///
/// A YAML parser rather than splitting lines: the files fold long names over
/// several lines, quote names that contain `:` and start with a byte-order mark.
pub fn parse_translations(input: &str) -> Result<BTreeMap<String, String>, MetaError> {
    let mut out = BTreeMap::new();
    for (key, value) in mapping(input)? {
        match value {
            Value::Sequence(_) | Value::Mapping(_) | Value::Tagged(_) => {
                return Err(MetaError::Nested(key))
            }
            other => {
                if let Some(text) = scalar_text(&other).filter(|t| !t.is_empty()) {
                    out.insert(key, text);
                }
            }
        }
    }
    Ok(out)
}

/// A YAML file's top-level mapping with keys as text. An empty file is an empty
/// mapping.
pub(crate) fn mapping(input: &str) -> Result<Vec<(String, Value)>, MetaError> {
    let text = input.trim_start_matches('\u{feff}');
    let doc: Value = serde_yaml_ng::from_str(text).map_err(|e| MetaError::Yaml(e.to_string()))?;
    match doc {
        Value::Null => Ok(Vec::new()),
        Value::Mapping(m) => m
            .into_iter()
            .map(|(k, v)| {
                scalar_text(&k)
                    .map(|k| (k, v))
                    .ok_or(MetaError::NotAMapping)
            })
            .collect(),
        _ => Err(MetaError::NotAMapping),
    }
}

/// A scalar as text, whitespace runs collapsed (folded YAML and quoted `\n` are
/// layout, not meaning); `None` for null and non-scalars.
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    let raw = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    Some(raw.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Group (file stem: `SEX`, `REF_AREA`, `global_indicators`, …) → code → names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Terminology {
    groups: BTreeMap<String, BTreeMap<String, Names>>,
}

/// A resolved Open SDG text reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Label {
    /// `GROUP.KEY` found in the translations.
    Translated {
        group: String,
        key: String,
        names: Names,
    },
    /// Not a reference to a known text: the text itself, in whatever language it
    /// was written. kazstat writes some units as `data.на 1000 родившихся`, a
    /// reference to a `data` group that does not exist; Open SDG would show the raw
    /// string, Bala shows the text after `data.`.
    Literal(String),
}

impl Label {
    /// The text in `lang`, or the literal.
    pub fn text(&self, lang: Lang) -> Option<&str> {
        match self {
            Label::Translated { names, .. } => names.get(lang),
            Label::Literal(t) => Some(t),
        }
    }
}

impl Terminology {
    pub fn new() -> Terminology {
        Terminology::default()
    }

    /// Adds one language's file of a group.
    pub fn add(&mut self, lang: Lang, group: &str, entries: BTreeMap<String, String>) {
        let g = self.groups.entry(group.to_string()).or_default();
        for (code, text) in entries {
            g.entry(code).or_default().set(lang, text);
        }
    }

    pub fn names(&self, group: &str, code: &str) -> Option<&Names> {
        self.groups.get(group)?.get(code)
    }

    pub fn name(&self, lang: Lang, group: &str, code: &str) -> Option<&str> {
        self.names(group, code)?.get(lang)
    }

    /// Every code of a group with its names (e.g. all `REF_AREA` codes).
    pub fn group(&self, group: &str) -> Option<&BTreeMap<String, Names>> {
        self.groups.get(group)
    }

    pub fn group_names(&self) -> impl Iterator<Item = &str> {
        self.groups.keys().map(String::as_str)
    }

    /// Resolves `GROUP.KEY`; anything else is a [`Label::Literal`].
    pub fn resolve(&self, reference: &str) -> Label {
        let r = reference.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some((group, key)) = r.split_once('.') {
            if let Some(names) = self.names(group, key).filter(|n| !n.is_empty()) {
                return Label::Translated {
                    group: group.to_string(),
                    key: key.to_string(),
                    names: names.clone(),
                };
            }
            if group == "data" {
                return Label::Literal(key.to_string());
            }
        }
        Label::Literal(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_folded_quoted_and_empty_entries() {
        let text = "\u{feff}3-3-1-title: Number of new HIV infections per 1,000 uninfected population, by sex,\n  age and key populations\nY10T14: 'age: 10-14 years old'\n3-2-1: ''\n1: one\n";
        let m = parse_translations(text).unwrap();
        assert_eq!(m["3-3-1-title"], "Number of new HIV infections per 1,000 uninfected population, by sex, age and key populations");
        assert_eq!(m["Y10T14"], "age: 10-14 years old");
        assert!(!m.contains_key("3-2-1"));
        assert_eq!(m["1"], "one");
        assert!(parse_translations("").unwrap().is_empty());
        assert_eq!(
            parse_translations("- a\n- b\n"),
            Err(MetaError::NotAMapping)
        );
        assert_eq!(
            parse_translations("a:\n  b: c\n"),
            Err(MetaError::Nested("a".into()))
        );
        assert!(matches!(
            parse_translations("a: [\n"),
            Err(MetaError::Yaml(_))
        ));
    }

    #[test]
    fn resolves_references() {
        let mut t = Terminology::new();
        t.add(
            Lang::En,
            "UNIT_MEASURE",
            [("PT".to_string(), "percent".to_string())].into(),
        );
        t.add(
            Lang::Kk,
            "UNIT_MEASURE",
            [("PT".to_string(), "пайыз".to_string())].into(),
        );
        match t.resolve("UNIT_MEASURE.PT") {
            Label::Translated { names, .. } => {
                assert_eq!(names.en.as_deref(), Some("percent"));
                assert_eq!(names.kk.as_deref(), Some("пайыз"));
                assert_eq!(names.ru, None);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            t.resolve("data.на 1 000 женщин\n в данной возрастной группе"),
            Label::Literal("на 1 000 женщин в данной возрастной группе".into())
        );
        assert_eq!(
            t.resolve("UNIT_MEASURE.XX"),
            Label::Literal("UNIT_MEASURE.XX".into())
        );
        assert_eq!(t.name(Lang::En, "UNIT_MEASURE", "PT"), Some("percent"));
    }
}

//! Explanation templates: text with `{fact_name}` placeholders, filled with the
//! snapshot's values in the reader's language. `{{` and `}}` stand for braces.

use super::facts::{FactName, FactValue, Facts};
use crate::text::Lang;

/// A piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Literal(&'a str),
    Brace(char),
    Fact(&'a str),
}

/// Splits a template into pieces, or says what is wrong with it.
pub fn parse(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        if i > 0 {
            pieces.push(Piece::Literal(&rest[..i]));
        }
        let c = rest.as_bytes()[i] as char;
        let after = &rest[i + 1..];
        if after.starts_with(c) {
            pieces.push(Piece::Brace(c));
            rest = &after[1..];
        } else if c == '}' {
            return Err("a '}' without its '{' (write '}}' for a brace)".into());
        } else {
            let end = after.find('}').ok_or("a '{' is never closed")?;
            pieces.push(Piece::Fact(&after[..end]));
            rest = &after[end + 1..];
        }
    }
    if !rest.is_empty() {
        pieces.push(Piece::Literal(rest));
    }
    Ok(pieces)
}

/// Fills a template. Unknown placeholders (which validation forbids) are kept as written.
pub fn render(template: &str, facts: &Facts, lang: Lang) -> String {
    let Ok(pieces) = parse(template) else {
        return template.to_string();
    };
    let mut out = String::with_capacity(template.len() + 16);
    for p in pieces {
        match p {
            Piece::Literal(s) => out.push_str(s),
            Piece::Brace(c) => out.push(c),
            Piece::Fact(name) => match name.parse::<FactName>() {
                Ok(f) => out.push_str(&show(facts.get(f), lang)),
                Err(()) => {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
            },
        }
    }
    out
}

/// A fact's value as a reader sees it.
pub fn show(value: Option<FactValue>, lang: Lang) -> String {
    let word = |kk: &str, ru: &str, en: &str| match lang {
        Lang::Kk => kk.to_string(),
        Lang::Ru => ru.to_string(),
        Lang::En => en.to_string(),
    };
    match value {
        None => word("белгісіз", "неизвестно", "unknown"),
        Some(FactValue::Bool(true)) => word("иә", "да", "yes"),
        Some(FactValue::Bool(false)) => word("жоқ", "нет", "no"),
        Some(FactValue::Number(n)) => n.to_string(),
        Some(FactValue::Level(l)) => l.label(lang),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instrument::RiskLevel;

    #[test]
    fn fills_values_per_language() {
        let f = Facts {
            open_case: Some(false),
            household_risk: Some(RiskLevel::High),
            ..Facts::default()
        };
        let t = "risk {household_risk}, case {open_case}, age {age_days} {{x}}";
        assert_eq!(
            render(t, &f, Lang::En),
            "risk high, case no, age unknown {x}"
        );
        assert_eq!(
            render(t, &f, Lang::Ru),
            "risk высокий, case нет, age неизвестно {x}"
        );
        assert_eq!(
            render(t, &f, Lang::Kk),
            "risk жоғары, case жоқ, age белгісіз {x}"
        );
    }

    #[test]
    fn reports_malformed_templates() {
        assert!(parse("a {b").is_err());
        assert!(parse("a } b").is_err());
        assert_eq!(
            parse("{x}y").unwrap(),
            vec![Piece::Fact("x"), Piece::Literal("y")]
        );
        assert_eq!(render("{nope}", &Facts::default(), Lang::En), "{nope}");
    }
}

//! Pure rules for person records: validation and duplicate matching.

use bala_core::{fold_key, parse_date, AreaCode, Date, Iin, Sex, ValidationErrors};
use serde::{Deserialize, Serialize};

/// A person as submitted by a form, the API or an importer: all text, unchecked.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct PersonInput {
    #[serde(default)]
    pub iin: Option<String>,
    #[serde(default)]
    pub family_name: String,
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub patronymic: Option<String>,
    #[serde(default)]
    pub family_name_lat: Option<String>,
    #[serde(default)]
    pub given_name_lat: Option<String>,
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub area_code: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// A person record that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidPerson {
    pub iin: Option<Iin>,
    pub family_name: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub family_name_lat: Option<String>,
    pub given_name_lat: Option<String>,
    pub birth_date: Date,
    pub sex: Sex,
    pub area: AreaCode,
    pub address: Option<String>,
    pub phone: Option<String>,
}

fn trimmed(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn is_name_char(c: char) -> bool {
    c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '’' | '.')
}

fn check_name(
    errors: &mut ValidationErrors,
    field: &str,
    value: &str,
    required: bool,
    latin_only: bool,
) {
    let v = value.trim();
    if v.is_empty() {
        if required {
            errors.push(field, "err-required", "this name is required");
        }
        return;
    }
    if v.chars().count() > 100 {
        errors.push(field, "err-too-long", "at most 100 characters");
    } else if !v.chars().all(is_name_char) {
        errors.push(
            field,
            "err-name-chars",
            "letters, spaces, hyphens and apostrophes only",
        );
    } else if latin_only && v.chars().any(|c| c.is_alphabetic() && !is_latin(c)) {
        errors.push(field, "err-name-latin", "Latin letters only in this field");
    }
}

fn is_latin(c: char) -> bool {
    c.is_ascii_alphabetic() || ('\u{00C0}'..='\u{024F}').contains(&c)
}

/// Normalises a Kazakhstan phone number to `+7XXXXXXXXXX`.
/// Accepts `+7 701 123 45 67`, `8 (701) 123-45-67`, `87011234567`.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
    let has_plus = raw.trim_start().starts_with('+');
    let national = match (digits.len(), digits.chars().next()) {
        (11, Some('7')) if has_plus || !raw.trim_start().starts_with('8') => &digits[1..],
        (11, Some('8')) if !has_plus => &digits[1..],
        (10, _) if !has_plus => &digits[..],
        _ => return None,
    };
    raw.chars()
        .all(|c| c.is_ascii_digit() || " +-()".contains(c))
        .then(|| format!("+7{national}"))
}

/// Validates a submitted person. `today` bounds the birth date.
pub fn validate(input: &PersonInput, today: Date) -> Result<ValidPerson, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    check_name(&mut errors, "family_name", &input.family_name, true, false);
    check_name(&mut errors, "given_name", &input.given_name, true, false);
    check_name(
        &mut errors,
        "patronymic",
        input.patronymic.as_deref().unwrap_or(""),
        false,
        false,
    );
    check_name(
        &mut errors,
        "family_name_lat",
        input.family_name_lat.as_deref().unwrap_or(""),
        false,
        true,
    );
    check_name(
        &mut errors,
        "given_name_lat",
        input.given_name_lat.as_deref().unwrap_or(""),
        false,
        true,
    );

    let birth = match parse_date(&input.birth_date) {
        Ok(d) if d > today => {
            errors.push(
                "birth_date",
                "err-date-future",
                "the birth date is in the future",
            );
            None
        }
        Ok(d) if d.year() < 1900 => {
            errors.push(
                "birth_date",
                "err-date-old",
                "the birth date is before 1900",
            );
            None
        }
        Ok(d) => Some(d),
        Err(_) if input.birth_date.trim().is_empty() => {
            errors.push("birth_date", "err-required", "the birth date is required");
            None
        }
        Err(_) => {
            errors.push(
                "birth_date",
                "err-date",
                "not a date in the form YYYY-MM-DD",
            );
            None
        }
    };
    let sex: Option<Sex> = input.sex.parse().ok();
    if sex.is_none() {
        errors.push("sex", "err-sex", "choose M or F");
    }
    let area = AreaCode::parse(&input.area_code).ok();
    if area.is_none() {
        errors.push(
            "area_code",
            "err-kato",
            "choose an area (a 9-digit KATO code)",
        );
    }
    let iin = match trimmed(&input.iin) {
        None => None,
        Some(raw) => match Iin::parse(&raw) {
            Err(e) => {
                errors.push("iin", e.code(), e.to_string());
                None
            }
            Ok(iin) => {
                if birth.is_some_and(|b| b != iin.birth_date()) {
                    errors.push(
                        "iin",
                        "err-iin-birth-mismatch",
                        format!(
                            "the IIN encodes birth date {}, not {}",
                            bala_core::date::iso(iin.birth_date()),
                            input.birth_date.trim()
                        ),
                    );
                }
                if sex.is_some_and(|s| s != iin.sex()) {
                    errors.push(
                        "iin",
                        "err-iin-sex-mismatch",
                        format!("the IIN encodes sex {}", iin.sex()),
                    );
                }
                Some(iin)
            }
        },
    };
    let phone = match trimmed(&input.phone) {
        None => None,
        Some(p) => {
            let n = normalize_phone(&p);
            if n.is_none() {
                errors.push(
                    "phone",
                    "err-phone",
                    "a Kazakhstan number: +7 and 10 digits",
                );
            }
            n
        }
    };
    let address = trimmed(&input.address);
    if address.as_ref().is_some_and(|a| a.chars().count() > 300) {
        errors.push("address", "err-too-long", "at most 300 characters");
    }
    errors.into_result()?;
    Ok(ValidPerson {
        iin,
        family_name: input.family_name.trim().to_string(),
        given_name: input.given_name.trim().to_string(),
        patronymic: trimmed(&input.patronymic),
        family_name_lat: trimmed(&input.family_name_lat),
        given_name_lat: trimmed(&input.given_name_lat),
        birth_date: birth.expect("checked"),
        sex: sex.expect("checked"),
        area: area.expect("checked"),
        address,
        phone,
    })
}

/// The folded spellings of a person's family and given names (every script given).
#[derive(Debug, Clone, PartialEq)]
pub struct NameKeys {
    pub family: Vec<String>,
    pub given: Vec<String>,
}

impl NameKeys {
    pub fn of(
        family: &str,
        given: &str,
        family_lat: Option<&str>,
        given_lat: Option<&str>,
    ) -> NameKeys {
        let keys = |a: &str, b: Option<&str>| {
            let mut v: Vec<String> = std::iter::once(a)
                .chain(b)
                .map(fold_key)
                .filter(|k| !k.is_empty())
                .collect();
            v.dedup();
            v
        };
        NameKeys {
            family: keys(family, family_lat),
            given: keys(given, given_lat),
        }
    }
}

fn overlap(a: &[String], b: &[String]) -> bool {
    a.iter().any(|x| b.contains(x))
}

/// Whether two records with the same birth date and area name the same person:
/// family and given names equal after folding (in any script given), or the two
/// swapped — a common slip on forms.
pub fn likely_same(a: &NameKeys, b: &NameKeys) -> bool {
    (overlap(&a.family, &b.family) && overlap(&a.given, &b.given))
        || (overlap(&a.family, &b.given) && overlap(&a.given, &b.family))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn input() -> PersonInput {
        PersonInput {
            iin: Some("900101300126".into()),
            family_name: "Нұрланов".into(),
            given_name: "Ерлан".into(),
            birth_date: "1990-01-01".into(),
            sex: "M".into(),
            area_code: "751110000".into(),
            phone: Some("8 (701) 123-45-67".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_good_record_passes_and_is_normalised() {
        let p = validate(&input(), date!(2026 - 01 - 01)).unwrap();
        assert_eq!(p.phone.as_deref(), Some("+77011234567"));
        assert_eq!(p.sex, Sex::Male);
    }

    #[test]
    fn iin_must_agree_with_birth_date_and_sex() {
        let mut i = input();
        i.birth_date = "1990-01-02".into();
        i.sex = "F".into();
        let e = validate(&i, date!(2026 - 01 - 01)).unwrap_err();
        let codes: Vec<_> =
            e.0.iter()
                .filter(|f| f.field == "iin")
                .map(|f| f.code)
                .collect();
        assert_eq!(
            codes,
            vec!["err-iin-birth-mismatch", "err-iin-sex-mismatch"]
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let i = PersonInput {
            iin: Some("123".into()),
            family_name: "".into(),
            given_name: "X1".into(),
            family_name_lat: Some("Нурлан".into()),
            birth_date: "2030-01-01".into(),
            sex: "?".into(),
            area_code: "7511".into(),
            phone: Some("12345".into()),
            ..Default::default()
        };
        let e = validate(&i, date!(2026 - 01 - 01)).unwrap_err();
        for f in [
            "iin",
            "family_name",
            "given_name",
            "family_name_lat",
            "birth_date",
            "sex",
            "area_code",
            "phone",
        ] {
            assert!(e.for_field(f).is_some(), "{f} not reported: {e}");
        }
    }

    #[test]
    fn iin_is_optional() {
        let mut i = input();
        i.iin = Some("  ".into());
        assert!(validate(&i, date!(2026 - 01 - 01)).unwrap().iin.is_none());
    }

    #[test]
    fn phones() {
        assert_eq!(
            normalize_phone("+7 701 123 45 67").as_deref(),
            Some("+77011234567")
        );
        assert_eq!(
            normalize_phone("87011234567").as_deref(),
            Some("+77011234567")
        );
        assert_eq!(
            normalize_phone("7011234567").as_deref(),
            Some("+77011234567")
        );
        assert_eq!(normalize_phone("+1 701 123 45 67"), None);
        assert_eq!(normalize_phone("701-12"), None);
    }

    #[test]
    fn duplicates_across_scripts_and_swaps() {
        let a = NameKeys::of("Нұрланова", "Айгерім", None, None);
        let b = NameKeys::of("Nurlanova", "Aigerim", None, None);
        let c = NameKeys::of("Айгерим", "Нурланова", None, None);
        let d = NameKeys::of("Нұрланова", "Әсел", None, None);
        assert!(likely_same(&a, &b));
        assert!(likely_same(&a, &c));
        assert!(!likely_same(&a, &d));
    }
}

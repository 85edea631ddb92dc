//! FHIR R4 JSON → plain records, with a problem report naming each resource and
//! field that could not be used. Never panics on any input.

use crate::codes::CodeTable;
use crate::*;
use serde_json::Value;

/// A resource that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Where: `line 3`, `entry[2]`, `resource` — and the field, e.g. `entry[2].vaccineCode`.
    pub location: String,
    pub message: String,
}

/// Everything found in one input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub patients: Vec<(String, PatientRecord)>,
    pub doses: Vec<(String, DoseRecord)>,
    /// `not-done` Immunizations because the caregiver objected.
    pub refusals: Vec<(String, RefusalImport)>,
    pub problems: Vec<Problem>,
    /// Resources read and deliberately not imported (ImmunizationRecommendation:
    /// Bala computes its own forecast from the doses), so that importing Bala's
    /// own export reports them as left alone rather than as errors.
    pub ignored: Vec<Problem>,
}

/// Reads a single resource, a Bundle, or NDJSON.
pub fn parse(input: &str, table: &CodeTable) -> Parsed {
    let mut out = Parsed::default();
    let trimmed = input.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        out.problems.push(Problem {
            location: "input".into(),
            message: "the input is empty".into(),
        });
        return out;
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(v) => resource_or_bundle(&v, "resource", table, &mut out),
        Err(whole_err) => {
            // Not one JSON document: NDJSON, one resource per line.
            let lines: Vec<&str> = trimmed.lines().collect();
            if lines.len() < 2 {
                out.problems.push(Problem {
                    location: "input".into(),
                    message: format!("not valid JSON: {whole_err}"),
                });
                return out;
            }
            for (i, line) in lines.iter().enumerate() {
                let loc = format!("line {}", i + 1);
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Value>(line) {
                    Ok(v) => resource_or_bundle(&v, &loc, table, &mut out),
                    Err(e) => out.problems.push(Problem {
                        location: loc,
                        message: format!("not valid JSON: {e}"),
                    }),
                }
            }
        }
    }
    out
}

fn resource_or_bundle(v: &Value, loc: &str, table: &CodeTable, out: &mut Parsed) {
    match v.get("resourceType").and_then(Value::as_str) {
        Some("Bundle") => {
            let Some(entries) = v.get("entry").and_then(Value::as_array) else {
                out.problems.push(Problem {
                    location: format!("{loc}.entry"),
                    message: "a Bundle without entries".into(),
                });
                return;
            };
            for (i, e) in entries.iter().enumerate() {
                let eloc = format!("{loc}.entry[{i}]");
                match e.get("resource") {
                    Some(r) if r.get("resourceType").and_then(Value::as_str) == Some("Bundle") => {
                        out.problems.push(Problem {
                            location: eloc,
                            message: "nested Bundles are not read".into(),
                        })
                    }
                    Some(r) => one(r, &format!("{eloc}.resource"), table, out),
                    None => out.problems.push(Problem {
                        location: eloc,
                        message: "an entry without a resource".into(),
                    }),
                }
            }
        }
        _ => one(v, loc, table, out),
    }
}

fn one(v: &Value, loc: &str, table: &CodeTable, out: &mut Parsed) {
    match v.get("resourceType").and_then(Value::as_str) {
        Some("Patient") => match read_patient(v, loc) {
            Ok(p) => out.patients.push((loc.to_string(), p)),
            Err(e) => out.problems.extend(e),
        },
        Some("Immunization") if str_at(v, "status") == Some("not-done") => {
            match read_refusal(v, loc, table) {
                Ok(r) => out.refusals.push((loc.to_string(), r)),
                Err(e) => out.problems.extend(e),
            }
        }
        Some("Immunization") => match read_immunization(v, loc, table) {
            Ok(d) => out.doses.push((loc.to_string(), d)),
            Err(e) => out.problems.extend(e),
        },
        Some("ImmunizationRecommendation") => out.ignored.push(Problem {
            location: loc.to_string(),
            message: "ImmunizationRecommendation is not imported: Bala forecasts from the doses"
                .into(),
        }),
        Some(other) => out.problems.push(Problem {
            location: loc.to_string(),
            message: format!(
                "{other} resources are not imported (Bala imports Patient and Immunization)"
            ),
        }),
        None => out.problems.push(Problem {
            location: format!("{loc}.resourceType"),
            message: "not a FHIR resource: resourceType is missing".into(),
        }),
    }
}

struct Errs {
    loc: String,
    list: Vec<Problem>,
}

impl Errs {
    fn new(loc: &str) -> Errs {
        Errs {
            loc: loc.to_string(),
            list: Vec::new(),
        }
    }
    fn push(&mut self, field: &str, message: impl Into<String>) {
        self.list.push(Problem {
            location: format!("{}.{field}", self.loc),
            message: message.into(),
        });
    }
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A FHIR `date` or `dateTime`: the calendar date part.
fn date_at(v: &Value, key: &str, e: &mut Errs, required: bool) -> Option<Date> {
    match str_at(v, key) {
        None => {
            if required {
                e.push(key, "is required");
            }
            None
        }
        Some(s) => match s.get(..10).map(bala_core::parse_date) {
            Some(Ok(d)) if s.len() == 10 || s.as_bytes().get(10) == Some(&b'T') => Some(d),
            _ => {
                e.push(key, format!("'{s}' is not a FHIR date (YYYY-MM-DD)"));
                None
            }
        },
    }
}

fn read_patient(v: &Value, loc: &str) -> Result<PatientRecord, Vec<Problem>> {
    let mut e = Errs::new(loc);
    let id = str_at(v, "id").unwrap_or_default().to_string();
    if id.is_empty() {
        e.push(
            "id",
            "a Patient needs an id so that Immunizations can refer to it",
        );
    }
    let identifiers = v
        .get("identifier")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let iin = identifiers
        .iter()
        .find(|i| is_iin_identifier(i))
        .and_then(|i| str_at(i, "value"))
        .map(str::to_string);
    if let Some(raw) = &iin {
        if let Err(err) = bala_core::Iin::parse(raw) {
            e.push("identifier", format!("IIN {raw}: {err}"));
        }
    }
    let names = v
        .get("name")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let latin_ext = |n: &Value| {
        n.get("extension")
            .and_then(Value::as_array)
            .is_some_and(|xs| xs.iter().any(|x| str_at(x, "valueCode") == Some("ABC")))
    };
    let main = names.iter().find(|n| !latin_ext(n)).or(names.first());
    let latin = names.iter().find(|n| latin_ext(n));
    let family = main.and_then(|n| str_at(n, "family")).map(str::to_string);
    let givens: Vec<String> = main
        .and_then(|n| n.get("given").and_then(Value::as_array))
        .map(|g| {
            g.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if family.is_none() {
        e.push("name.family", "the family name is required");
    }
    if givens.is_empty() {
        e.push("name.given", "a given name is required");
    }
    let sex = match str_at(v, "gender") {
        Some("male") => Some(Sex::Male),
        Some("female") => Some(Sex::Female),
        Some(g) => {
            e.push("gender", format!("'{g}': Bala records male or female"));
            None
        }
        None => {
            e.push("gender", "is required");
            None
        }
    };
    let birth = date_at(v, "birthDate", &mut e, true);
    let phone = v
        .get("telecom")
        .and_then(Value::as_array)
        .and_then(|t| t.iter().find(|x| str_at(x, "system") == Some("phone")))
        .and_then(|x| str_at(x, "value"))
        .map(str::to_string);
    let address = v
        .get("address")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .cloned();
    let area_code = address
        .as_ref()
        .and_then(|a| a.get("extension").and_then(Value::as_array).cloned())
        .and_then(|xs| {
            xs.iter()
                .find(|x| str_at(x, "url") == Some(KATO_EXTENSION))
                .and_then(|x| str_at(x, "valueCode"))
                .map(str::to_string)
        });
    if let Some(k) = &area_code {
        if bala_core::AreaCode::parse(k).is_err() {
            e.push(
                "address.extension",
                format!("KATO code '{k}' is not 9 digits"),
            );
        }
    }
    if !e.list.is_empty() {
        return Err(e.list);
    }
    Ok(PatientRecord {
        id,
        iin,
        family_name: family.expect("checked"),
        given_name: givens[0].clone(),
        patronymic: givens.get(1).cloned(),
        family_name_lat: latin.and_then(|n| str_at(n, "family")).map(str::to_string),
        given_name_lat: latin
            .and_then(|n| n.get("given").and_then(Value::as_array))
            .and_then(|g| g.first())
            .and_then(Value::as_str)
            .map(str::to_string),
        birth_date: birth.expect("checked"),
        sex: sex.expect("checked"),
        phone,
        area_code,
        address: address
            .as_ref()
            .and_then(|a| str_at(a, "text"))
            .map(str::to_string),
    })
}

fn is_iin_identifier(i: &Value) -> bool {
    let typed = i
        .get("type")
        .and_then(|t| t.get("coding"))
        .and_then(Value::as_array)
        .is_some_and(|cs| cs.iter().any(|c| str_at(c, "code") == Some("NNKAZ")));
    typed || str_at(i, "system").is_some_and(|s| s.to_ascii_lowercase().contains("iin"))
}

fn first_code(v: &Value, key: &str) -> Option<String> {
    v.get(key)?
        .get("coding")?
        .as_array()?
        .iter()
        .find_map(|c| str_at(c, "code"))
        .map(str::to_string)
}

/// The resource id, which makes re-imports idempotent.
fn immunization_id(v: &Value, e: &mut Errs) -> String {
    let id = str_at(v, "id").unwrap_or_default().to_string();
    if id.is_empty() {
        e.push(
            "id",
            "an Immunization needs an id (it makes re-imports idempotent)",
        );
    }
    id
}

/// `(system, code)` of each coding of `vaccineCode`.
fn vaccine_codings(v: &Value) -> Vec<(&str, &str)> {
    v.get("vaccineCode")
        .and_then(|c| c.get("coding"))
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| Some((str_at(c, "system")?, str_at(c, "code")?)))
                .collect()
        })
        .unwrap_or_default()
}

/// Reports a missing vaccine code, or — when codes were given but none could
/// be used — `unresolved` of the codes listed as `system|code, …`.
fn check_vaccine(
    e: &mut Errs,
    codings: &[(&str, &str)],
    resolved: bool,
    unresolved: impl FnOnce(String) -> String,
) {
    if codings.is_empty() {
        e.push(
            "vaccineCode",
            "a vaccine code (system and code) is required",
        );
    } else if !resolved {
        let list: Vec<String> = codings.iter().map(|(s, c)| format!("{s}|{c}")).collect();
        e.push("vaccineCode", unresolved(list.join(", ")));
    }
}

/// The id of the Patient an Immunization refers to (`Patient/<id>`).
fn patient_of(v: &Value, e: &mut Errs) -> Option<String> {
    let id = v
        .get("patient")
        .and_then(|p| str_at(p, "reference"))
        .map(|r| r.rsplit('/').next().unwrap_or(r).to_string());
    if id.is_none() {
        e.push("patient.reference", "the patient reference is required");
    }
    id
}

/// A caregiver's refusal read from a `not-done` Immunization: what it names
/// is resolved to the calendar's antigens when it is recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct RefusalImport {
    pub id: String,
    pub patient_id: String,
    /// The antigen, when the vaccine code is in Bala's antigen system (as Bala
    /// exports refusals); otherwise `product` names a mapped vaccine and the
    /// refusal covers each of its antigens.
    pub antigen: Option<String>,
    pub product: Option<String>,
    pub date: Date,
    pub reason: String,
}

/// Only refusals are imported among `not-done` Immunizations: the other
/// reasons (immunity, a medical precaution, no vaccine in stock) are not a
/// caregiver's decision, and a contraindication needs the clinician's terms
/// (temporary or permanent), which FHIR's Immunization does not carry.
fn read_refusal(v: &Value, loc: &str, table: &CodeTable) -> Result<RefusalImport, Vec<Problem>> {
    let mut e = Errs::new(loc);
    let id = immunization_id(v, &mut e);
    let reason = v.get("statusReason");
    let code = reason.and_then(|r| {
        r.get("coding")?
            .as_array()?
            .iter()
            .find(|c| str_at(c, "system") == Some(REASON_SYSTEM))
            .and_then(|c| str_at(c, "code"))
    });
    match code {
        Some("PATOBJ") => {}
        Some(other) => e.push(
            "statusReason",
            format!(
                "not-done for reason {other}: only refusals (PATOBJ, patient objection) are imported; record contraindications on the child's card"
            ),
        ),
        None => e.push(
            "statusReason",
            format!("a not-done Immunization is imported as a refusal only with statusReason {REASON_SYSTEM}|PATOBJ"),
        ),
    }
    let codings = vaccine_codings(v);
    let antigen = codings
        .iter()
        .find(|(s, _)| *s == ANTIGEN_SYSTEM)
        .map(|(_, c)| c.to_string());
    let product = codings
        .iter()
        .find_map(|(s, c)| table.product(s, c))
        .map(str::to_string);
    check_vaccine(
        &mut e,
        &codings,
        antigen.is_some() || product.is_some(),
        |list| {
            format!("vaccine code {list} names neither an antigen ({ANTIGEN_SYSTEM}) nor a mapped product; add it to the code table")
        },
    );
    let patient_id = patient_of(v, &mut e);
    let date = date_at(v, "occurrenceDateTime", &mut e, true);
    if !e.list.is_empty() {
        return Err(e.list);
    }
    let text = reason
        .and_then(|r| str_at(r, "text"))
        .filter(|t| !t.trim().is_empty())
        .unwrap_or("patient objection");
    Ok(RefusalImport {
        id,
        patient_id: patient_id.expect("checked"),
        antigen,
        product,
        date: date.expect("checked"),
        reason: text.to_string(),
    })
}

fn read_immunization(v: &Value, loc: &str, table: &CodeTable) -> Result<DoseRecord, Vec<Problem>> {
    let mut e = Errs::new(loc);
    let id = immunization_id(v, &mut e);
    let status = match str_at(v, "status") {
        Some("completed") => Some(DoseStatus::Completed),
        Some("entered-in-error") => Some(DoseStatus::EnteredInError),
        Some(s) => {
            e.push("status", format!("'{s}' is not an Immunization status"));
            None
        }
        None => {
            e.push("status", "is required");
            None
        }
    };
    let codings = vaccine_codings(v);
    let product = codings
        .iter()
        .find_map(|(s, c)| table.product(s, c))
        .map(str::to_string);
    check_vaccine(&mut e, &codings, product.is_some(), |list| {
        format!("vaccine code {list} is not mapped to a product; add it to the code table")
    });
    let patient_id = patient_of(v, &mut e);
    let date = date_at(v, "occurrenceDateTime", &mut e, true);
    let lot_expiry = date_at(v, "expirationDate", &mut e, false);
    let dose_number = v
        .get("protocolApplied")
        .and_then(Value::as_array)
        .and_then(|p| p.first())
        .and_then(|p| p.get("doseNumberPositiveInt"))
        .and_then(Value::as_u64)
        .map(|n| n as u32);
    if !e.list.is_empty() {
        return Err(e.list);
    }
    Ok(DoseRecord {
        id,
        patient_id: patient_id.expect("checked"),
        status: status.expect("checked"),
        product: product.expect("checked"),
        date: date.expect("checked"),
        lot: str_at(v, "lotNumber").map(str::to_string),
        lot_expiry,
        site: first_code(v, "site"),
        route: first_code(v, "route"),
        facility: v
            .get("location")
            .and_then(|l| str_at(l, "display"))
            .map(str::to_string),
        primary_source: v
            .get("primarySource")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        dose_number,
        series: v
            .get("protocolApplied")
            .and_then(Value::as_array)
            .and_then(|p| p.first())
            .and_then(|p| str_at(p, "series"))
            .map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn child() -> PatientRecord {
        PatientRecord {
            id: "17".into(),
            iin: bala_core::Iin::compose(date!(2024 - 05 - 01), Sex::Male, 12)
                .map(|i| i.to_string()),
            family_name: "Сейітқали".into(),
            given_name: "Нұрлан".into(),
            patronymic: Some("Ерланұлы".into()),
            family_name_lat: Some("Seitkali".into()),
            given_name_lat: Some("Nurlan".into()),
            birth_date: date!(2024 - 05 - 01),
            sex: Sex::Male,
            phone: Some("+77011234567".into()),
            area_code: Some("751110000".into()),
            address: Some("Абай даңғылы, 10".into()),
        }
    }

    fn dose() -> DoseRecord {
        DoseRecord {
            id: "501".into(),
            patient_id: "17".into(),
            status: DoseStatus::Completed,
            product: "HEXA".into(),
            date: date!(2024 - 07 - 01),
            lot: Some("A123".into()),
            lot_expiry: Some(date!(2025 - 12 - 31)),
            site: Some("LT".into()),
            route: Some("IM".into()),
            facility: Some("Polyclinic No. 5".into()),
            primary_source: true,
            dose_number: Some(1),
            series: Some("DTP".into()),
        }
    }

    #[test]
    fn bundle_round_trip() {
        let t = CodeTable::defaults();
        let b = bundle(vec![patient(&child()), immunization(&dose(), &t)]);
        let parsed = parse(&b.to_string(), &t);
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        assert_eq!(parsed.patients[0].1, child());
        assert_eq!(parsed.doses[0].1, dose());
    }

    #[test]
    fn ndjson_round_trip() {
        let t = CodeTable::defaults();
        let text = ndjson(&[patient(&child()), immunization(&dose(), &t)]);
        let parsed = parse(&text, &t);
        assert_eq!(parsed.patients.len(), 1);
        assert_eq!(parsed.doses.len(), 1);
        assert_eq!(parsed.doses[0].0, "line 2");
    }

    /// The HL7 specification's example uses a local Australian code (FLUVAX): it is
    /// rejected with a clear message naming the field and the code, and imports
    /// once the code is mapped.
    #[test]
    fn hl7_example() {
        let text = include_str!("../data/immunization-example.r4.json");
        let t = CodeTable::defaults();
        let parsed = parse(text, &t);
        assert!(parsed.doses.is_empty());
        assert_eq!(parsed.problems.len(), 1);
        assert_eq!(parsed.problems[0].location, "resource.vaccineCode");
        assert!(parsed.problems[0]
            .message
            .contains("urn:oid:1.2.36.1.2001.1005.17|FLUVAX is not mapped"));
        let mapped = t.with("urn:oid:1.2.36.1.2001.1005.17", "FLUVAX", "FLU");
        let parsed = parse(text, &mapped);
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        let d = &parsed.doses[0].1;
        assert_eq!(
            (d.product.as_str(), d.patient_id.as_str(), d.date),
            ("FLU", "example", date!(2013 - 01 - 10))
        );
        assert_eq!(
            (
                d.lot.as_deref(),
                d.lot_expiry,
                d.site.as_deref(),
                d.route.as_deref()
            ),
            (
                Some("AAJN11K"),
                Some(date!(2015 - 02 - 15)),
                Some("LA"),
                Some("IM")
            )
        );
    }

    #[test]
    fn problems_name_the_field() {
        let t = CodeTable::defaults();
        let p = parse(
            r#"{"resourceType":"Patient","id":"1","gender":"unknown","birthDate":"2024-13-01","identifier":[{"system":"urn:x:iin","value":"123"}]}"#,
            &t,
        );
        let locs: Vec<&str> = p.problems.iter().map(|x| x.location.as_str()).collect();
        for f in [
            "resource.identifier",
            "resource.name.family",
            "resource.name.given",
            "resource.gender",
            "resource.birthDate",
        ] {
            assert!(locs.contains(&f), "{f} in {locs:?}");
        }
        let o = parse(r#"{"resourceType":"Observation","id":"1"}"#, &t);
        assert!(o.problems[0]
            .message
            .contains("Observation resources are not imported"));
        assert_eq!(parse("", &t).problems[0].location, "input");
        assert!(parse("{not json", &t).problems[0]
            .message
            .starts_with("not valid JSON"));
    }

    #[test]
    fn recommendations_are_ignored_not_rejected() {
        let t = CodeTable::defaults();
        let f = Forecast {
            patient_id: "17".into(),
            date: date!(2024 - 09 - 01),
            items: vec![],
        };
        let p = parse(
            &bundle(vec![patient(&child()), recommendation(&f)]).to_string(),
            &t,
        );
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.ignored.len(), 1);
        assert_eq!(p.ignored[0].location, "resource.entry[1].resource");
    }

    #[test]
    fn refusals_export_as_not_done_and_read_back_as_refusals() {
        let t = CodeTable::defaults();
        let r = crate::refusal(&crate::RefusalRecord {
            patient_id: "17".into(),
            antigen: "MMR".into(),
            date: date!(2024 - 09 - 01),
            reason: "religious beliefs".into(),
        });
        assert_eq!(r["id"], "refusal-17-MMR-2024-09-01");
        assert_eq!(r["status"], "not-done");
        assert_eq!(r["statusReason"]["coding"][0]["code"], "PATOBJ");
        assert_eq!(r["statusReason"]["text"], "religious beliefs");
        assert_eq!(
            r["vaccineCode"]["coding"][0]["system"],
            crate::ANTIGEN_SYSTEM
        );
        assert_eq!(r["occurrenceDateTime"], "2024-09-01");
        let p = parse(&bundle(vec![patient(&child()), r.clone()]).to_string(), &t);
        assert!(
            p.doses.is_empty() && p.problems.is_empty(),
            "{:?}",
            p.problems
        );
        assert_eq!(
            p.refusals,
            vec![(
                "resource.entry[1].resource".to_string(),
                RefusalImport {
                    id: "refusal-17-MMR-2024-09-01".into(),
                    patient_id: "17".into(),
                    antigen: Some("MMR".into()),
                    product: None,
                    date: date!(2024 - 09 - 01),
                    reason: "religious beliefs".into(),
                }
            )]
        );
        // Another reason than the caregiver's objection is refused, by field.
        let mut precaution = r;
        precaution["statusReason"]["coding"][0]["code"] = "MEDPREC".into();
        let p = parse(&bundle(vec![patient(&child()), precaution]).to_string(), &t);
        assert!(p.refusals.is_empty());
        assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
        assert_eq!(
            p.problems[0].location,
            "resource.entry[1].resource.statusReason"
        );
        assert!(p.problems[0].message.contains("MEDPREC"));
    }

    #[test]
    fn recommendation_carries_loinc_date_criteria() {
        let f = Forecast {
            patient_id: "17".into(),
            date: date!(2024 - 09 - 01),
            items: vec![ForecastItem {
                antigen: "DTP".into(),
                status: "overdue".into(),
                dose_number: Some(2),
                series: Some("DTP".into()),
                earliest: Some(date!(2024 - 07 - 29)),
                recommended: Some(date!(2024 - 08 - 01)),
                overdue_from: Some(date!(2024 - 08 - 29)),
                explanation: Some("minimum interval 4 weeks after DTP1".into()),
                contraindication: None,
            }],
        };
        let r = recommendation(&f);
        assert_eq!(
            r["recommendation"][0]["dateCriterion"][1]["code"]["coding"][0]["code"],
            "30980-7"
        );
        assert!(r["recommendation"][0].get("forecastReason").is_none());
        let mut c = f.clone();
        c.items[0].status = "contraindicated".into();
        c.items[0].contraindication = Some("anaphylaxis (permanent)".into());
        let r = recommendation(&c);
        assert_eq!(
            r["recommendation"][0]["forecastReason"][0]["text"],
            "anaphylaxis (permanent)"
        );
        assert_eq!(
            r["recommendation"][0]["contraindicatedVaccineCode"][0]["coding"][0]["code"],
            "DTP"
        );
        assert_eq!(
            r["recommendation"][0]["forecastStatus"]["coding"][0]["code"],
            "contraindicated"
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,300}") {
            let _ = parse(&s, &CodeTable::defaults());
        }

        #[test]
        fn structured_garbage_never_panics(v in proptest::collection::vec(("[a-zA-Z]{1,12}", "\\PC{0,20}"), 0..8)) {
            let mut o = serde_json::Map::new();
            o.insert("resourceType".into(), Value::String(["Patient", "Immunization", "Bundle"][v.len() % 3].into()));
            for (k, val) in v {
                o.insert(k, Value::String(val));
            }
            let _ = parse(&Value::Object(o).to_string(), &CodeTable::defaults());
        }

        #[test]
        fn doses_round_trip(day in 0i64..3000, lot in proptest::option::of("[A-Z0-9]{1,8}"), n in proptest::option::of(1u32..6)) {
            let t = CodeTable::defaults();
            let mut d = dose();
            d.date = date!(2018 - 01 - 01) + time::Duration::days(day);
            d.lot = lot;
            d.dose_number = n;
            let parsed = parse(&immunization(&d, &t).to_string(), &t);
            prop_assert_eq!(&parsed.doses[0].1, &d);
        }
    }
}

//! Plain records → FHIR R4 JSON.

use crate::codes::CodeTable;
use crate::*;
use serde_json::{json, Value};

fn iso(d: Date) -> String {
    bala_core::date::iso(d)
}

fn gender(s: Sex) -> &'static str {
    match s {
        Sex::Male => "male",
        Sex::Female => "female",
    }
}

/// A `Patient` resource.
pub fn patient(p: &PatientRecord) -> Value {
    let mut identifier = vec![json!({"system": RECORD_SYSTEM, "value": p.id})];
    if let Some(iin) = &p.iin {
        identifier.push(json!({
            "type": {"coding": [{"system": IDENTIFIER_TYPE_SYSTEM, "code": "NNKAZ"}], "text": "IIN"},
            "system": IIN_SYSTEM,
            "value": iin
        }));
    }
    let mut given = vec![p.given_name.clone()];
    given.extend(p.patronymic.clone());
    let mut names = vec![json!({"use": "official", "family": p.family_name, "given": given})];
    if p.family_name_lat.is_some() || p.given_name_lat.is_some() {
        names.push(json!({
            "use": "official",
            "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation", "valueCode": "ABC"}],
            "family": p.family_name_lat.clone().unwrap_or_else(|| bala_core::to_latin(&p.family_name)),
            "given": [p.given_name_lat.clone().unwrap_or_else(|| bala_core::to_latin(&p.given_name))]
        }));
    }
    let mut r = json!({
        "resourceType": "Patient",
        "id": p.id,
        "identifier": identifier,
        "name": names,
        "gender": gender(p.sex),
        "birthDate": iso(p.birth_date),
    });
    if let Some(phone) = &p.phone {
        r["telecom"] = json!([{"system": "phone", "value": phone}]);
    }
    if p.area_code.is_some() || p.address.is_some() {
        let mut a = json!({"use": "home", "country": "KZ"});
        if let Some(t) = &p.address {
            a["text"] = json!(t);
        }
        if let Some(k) = &p.area_code {
            a["extension"] = json!([{"url": KATO_EXTENSION, "valueCode": k}]);
        }
        r["address"] = json!([a]);
    }
    r
}

fn codeable(codings: Vec<Value>, text: Option<&str>) -> Value {
    let mut c = json!({"coding": codings});
    if let Some(t) = text {
        c["text"] = json!(t);
    }
    c
}

/// An `Immunization` resource.
pub fn immunization(d: &DoseRecord, table: &CodeTable) -> Value {
    let codings: Vec<Value> = table
        .codings(&d.product)
        .into_iter()
        .map(|c| json!({"system": c.system, "code": c.code}))
        .collect();
    let status = match d.status {
        DoseStatus::Completed => "completed",
        DoseStatus::EnteredInError => "entered-in-error",
    };
    let mut r = json!({
        "resourceType": "Immunization",
        "id": d.id,
        "identifier": [{"system": DOSE_SYSTEM, "value": d.id}],
        "status": status,
        "vaccineCode": codeable(codings, Some(&d.product)),
        "patient": {"reference": format!("Patient/{}", d.patient_id)},
        "occurrenceDateTime": iso(d.date),
        "primarySource": d.primary_source,
    });
    if let Some(l) = &d.lot {
        r["lotNumber"] = json!(l);
    }
    if let Some(e) = d.lot_expiry {
        r["expirationDate"] = json!(iso(e));
    }
    if let Some(s) = &d.site {
        r["site"] = codeable(vec![json!({"system": SITE_SYSTEM, "code": s})], None);
    }
    if let Some(s) = &d.route {
        r["route"] = codeable(vec![json!({"system": ROUTE_SYSTEM, "code": s})], None);
    }
    if let Some(f) = &d.facility {
        r["location"] = json!({"display": f});
    }
    if d.dose_number.is_some() || d.series.is_some() {
        let mut p = json!({});
        if let Some(n) = d.dose_number {
            p["doseNumberPositiveInt"] = json!(n);
        }
        if let Some(s) = &d.series {
            p["series"] = json!(s);
        }
        r["protocolApplied"] = json!([p]);
    }
    r
}

/// A refusal as an `Immunization` that was not done because the caregiver
/// objected (v3-ActReason PATOBJ), so a receiving register sees why the child
/// is unvaccinated. The vaccine is named by antigen: no product was chosen.
pub fn refusal(r: &RefusalRecord) -> Value {
    // FHIR ids allow letters, digits, '-' and '.', at most 64 characters.
    let id: String = format!("refusal-{}-{}-{}", r.patient_id, r.antigen, iso(r.date))
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    let mut reason = json!({"coding": [{"system": REASON_SYSTEM, "code": "PATOBJ", "display": "patient objection"}]});
    if !r.reason.is_empty() {
        reason["text"] = json!(r.reason);
    }
    json!({
        "resourceType": "Immunization",
        "id": id,
        "status": "not-done",
        "statusReason": reason,
        "vaccineCode": codeable(vec![json!({"system": ANTIGEN_SYSTEM, "code": r.antigen})], Some(&r.antigen)),
        "patient": {"reference": format!("Patient/{}", r.patient_id)},
        "occurrenceDateTime": iso(r.date),
        "primarySource": true,
    })
}

/// An `ImmunizationRecommendation` from Bala's forecast, with LOINC date criteria
/// (30981-5 earliest date to give, 30980-7 date vaccine due, 59778-1 date overdue).
pub fn recommendation(f: &Forecast) -> Value {
    let items: Vec<Value> = f
        .items
        .iter()
        .map(|i| {
            let mut criteria = Vec::new();
            for (code, display, date) in [
                ("30981-5", "Earliest date to give", i.earliest),
                ("30980-7", "Date vaccine due", i.recommended),
                ("59778-1", "Date when overdue for immunization", i.overdue_from),
            ] {
                if let Some(d) = date {
                    criteria.push(json!({"code": {"coding": [{"system": LOINC, "code": code, "display": display}]}, "value": iso(d)}));
                }
            }
            let mut r = json!({
                "targetDisease": {"coding": [{"system": ANTIGEN_SYSTEM, "code": i.antigen}], "text": i.antigen},
                "forecastStatus": {"coding": [{"system": RECOMMENDATION_STATUS_SYSTEM, "code": i.status}]},
            });
            if !criteria.is_empty() {
                r["dateCriterion"] = json!(criteria);
            }
            if let Some(n) = i.dose_number {
                r["doseNumberPositiveInt"] = json!(n);
            }
            if let Some(s) = &i.series {
                r["series"] = json!(s);
            }
            if let Some(e) = &i.explanation {
                r["description"] = json!(e);
            }
            if let Some(c) = &i.contraindication {
                r["contraindicatedVaccineCode"] = json!([{"coding": [{"system": ANTIGEN_SYSTEM, "code": i.antigen}], "text": i.antigen}]);
                r["forecastReason"] = json!([{"text": c}]);
            }
            r
        })
        .collect();
    json!({
        "resourceType": "ImmunizationRecommendation",
        "id": format!("{}-{}", f.patient_id, iso(f.date)),
        "patient": {"reference": format!("Patient/{}", f.patient_id)},
        "date": iso(f.date),
        "recommendation": items,
    })
}

/// A `collection` Bundle of resources (full URLs relative to the base).
pub fn bundle(resources: Vec<Value>) -> Value {
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|r| {
            let url = format!(
                "{}/{}",
                r["resourceType"].as_str().unwrap_or(""),
                r["id"].as_str().unwrap_or("")
            );
            json!({"fullUrl": url, "resource": r})
        })
        .collect();
    json!({"resourceType": "Bundle", "type": "collection", "total": entries.len(), "entry": entries})
}

/// NDJSON: one resource per line, as FHIR Bulk Data files are written.
pub fn ndjson(resources: &[Value]) -> String {
    let mut out = String::new();
    for r in resources {
        out.push_str(&serde_json::to_string(r).expect("JSON values serialise"));
        out.push('\n');
    }
    out
}

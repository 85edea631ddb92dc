//! FHIR over Bala's database (feature `store`): export one child or an area,
//! import Patients and Immunizations (given doses, and refusals: `not-done`
//! for the caregiver's objection), and the stored vaccine code table.
//!
//! Scope and audit follow the rest of Bala: a child outside the caller's areas
//! is [`Error::NotFound`]; a child's export is one audited read, an area's
//! export one audit entry for the whole batch; every imported dose or created
//! person is audited in the transaction that writes it. Re-importing the same
//! resources changes nothing: an Immunization is stored with
//! `external_id = "fhir:<resource id>"` (unique), a Patient is matched by IIN.

use crate::codes::{CodeTable, Mapping};
use crate::import::{Problem, RefusalImport};
use crate::{DoseRecord, DoseStatus, Forecast, ForecastItem, PatientRecord, RefusalRecord};
use bala_core::{parse_date, AreaCode, Date, Sex, ValidationErrors};
use bala_immunization::forecast::SeriesStatus;
use bala_immunization::store::{calendars, card, doses, facts};
use bala_registry::people::{self, fetch_in_scope, CreateOutcome, Ctx, Person};
use bala_registry::person::PersonInput;
use bala_store::audit::{self, Actor, NewEntry};
use bala_store::sqlx::{self, Row};
use bala_store::{time_fmt, Db, Sql};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

pub use bala_registry::RegistryError as Error;

/// The `source` of doses imported from FHIR, and the prefix of their external ids.
pub const SOURCE: &str = "fhir";

fn other(msg: String) -> Error {
    Error::Store(bala_store::StoreError::Other(msg))
}

fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

// ---------------------------------------------------------------- code table

/// The stored code table (seeding the bundled defaults into an empty table).
pub async fn code_table(db: &Db) -> Result<CodeTable, Error> {
    let mut rows = load_codes(db).await?;
    if rows.is_empty() {
        let now = time_fmt::now();
        let mut tx = db.begin().await?;
        for m in CodeTable::defaults().rows {
            sqlx::query(
                "INSERT INTO imm_code_map (system, code, product, updated_at, updated_by)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (system, code) DO NOTHING",
            )
            .bind(&m.system)
            .bind(&m.code)
            .bind(&m.product)
            .bind(&now)
            .bind("system:defaults")
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        rows = load_codes(db).await?;
    }
    Ok(CodeTable { rows })
}

async fn load_codes(db: &Db) -> Result<Vec<Mapping>, Error> {
    let rows = sqlx::query(
        "SELECT system, code, product FROM imm_code_map ORDER BY product, system, code",
    )
    .fetch_all(db.reader())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        out.push(Mapping {
            system: r.try_get("system")?,
            code: r.try_get("code")?,
            product: r.try_get("product")?,
        });
    }
    Ok(out)
}

/// Adds or changes one mapping. The system must be a URI, the code non-empty,
/// and the product one of a stored calendar's products.
pub async fn set_code(
    db: &Db,
    actor: &Actor,
    system: &str,
    code: &str,
    product: &str,
) -> Result<(), Error> {
    code_table(db).await?;
    let (system, code, product) = (system.trim(), code.trim(), product.trim());
    let mut e = ValidationErrors::new();
    if system.is_empty() {
        e.push("system", "err-required", "the code system is required");
    } else if !system.contains(':') || system.contains(char::is_whitespace) || system.len() > 200 {
        e.push(
            "system",
            "err-fhir-system",
            "the code system must be a URI such as http://hl7.org/fhir/sid/cvx",
        );
    }
    if code.is_empty() {
        e.push("code", "err-required", "the code is required");
    } else if code.len() > 100 {
        e.push("code", "err-too-long", "at most 100 characters");
    }
    if system == crate::PRODUCT_SYSTEM {
        e.push(
            "system",
            "err-fhir-system",
            "Bala's own product codes are not remapped",
        );
    }
    let cals = calendars::all(db).await?;
    if product.is_empty() {
        e.push("product", "err-required", "choose the product");
    } else if !cals.iter().any(|c| c.product(product).is_some()) {
        e.push(
            "product",
            "err-imm-product",
            format!("'{product}' is not a product of any calendar"),
        );
    }
    e.into_result()?;
    let now = time_fmt::now();
    let mut tx = db.begin().await?;
    let updated = sqlx::query(
        "UPDATE imm_code_map SET product = $1, updated_at = $2, updated_by = $3 WHERE system = $4 AND code = $5",
    )
    .bind(product)
    .bind(&now)
    .bind(&actor.name)
    .bind(system)
    .bind(code)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        sqlx::query(
            "INSERT INTO imm_code_map (system, code, product, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(system)
        .bind(code)
        .bind(product)
        .bind(&now)
        .bind(&actor.name)
        .execute(&mut *tx)
        .await?;
    }
    audit::append(
        &mut tx,
        &NewEntry::by(
            actor,
            "immunization.fhir_code.set",
            "fhir_code",
            format!("{system}|{code}"),
        )
        .with_details(serde_json::json!({ "product": product })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes one mapping.
pub async fn delete_code(db: &Db, actor: &Actor, system: &str, code: &str) -> Result<(), Error> {
    let mut tx = db.begin().await?;
    let r = sqlx::query("DELETE FROM imm_code_map WHERE system = $1 AND code = $2")
        .bind(system)
        .bind(code)
        .execute(&mut *tx)
        .await?;
    if r.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    audit::append(
        &mut tx,
        &NewEntry::by(
            actor,
            "immunization.fhir_code.delete",
            "fhir_code",
            format!("{system}|{code}"),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- export

/// Bala's dose sites ↔ HL7 v3 ActSite codes (oral has no site in FHIR: its route says it).
const SITES: [(&str, &str); 5] = [
    ("left-thigh", "LT"),
    ("right-thigh", "RT"),
    ("left-arm", "LA"),
    ("right-arm", "RA"),
    ("intradermal-left-arm", "LA"),
];
/// Bala's routes ↔ HL7 v3 RouteOfAdministration codes.
const ROUTES: [(&str, &str); 4] = [("IM", "IM"), ("SC", "SC"), ("ID", "IDINJ"), ("PO", "PO")];

fn patient_record(p: &Person) -> PatientRecord {
    PatientRecord {
        id: p.id.to_string(),
        iin: p.iin.clone(),
        family_name: p.family_name.clone(),
        given_name: p.given_name.clone(),
        patronymic: p.patronymic.clone(),
        family_name_lat: p.family_name_lat.clone(),
        given_name_lat: p.given_name_lat.clone(),
        birth_date: parse_date(&p.birth_date).unwrap_or(Date::MIN),
        sex: p.sex.parse().unwrap_or(Sex::Female),
        phone: p.phone.clone(),
        area_code: Some(p.area_code.clone()),
        address: p.address.clone(),
    }
}

fn dose_record(person: i64, d: &card::DoseRow) -> Option<DoseRecord> {
    let date = parse_date(&d.given_on).ok()?;
    Some(DoseRecord {
        id: d.id.to_string(),
        patient_id: person.to_string(),
        status: if d.status == "entered-in-error" {
            DoseStatus::EnteredInError
        } else {
            DoseStatus::Completed
        },
        product: d.product.clone(),
        date,
        lot: d.lot.clone(),
        lot_expiry: d.lot_expiry.as_deref().and_then(|s| parse_date(s).ok()),
        site: d
            .site
            .as_deref()
            .and_then(|s| SITES.iter().find(|(b, _)| *b == s))
            .map(|(_, f)| f.to_string()),
        route: d
            .route
            .as_deref()
            .and_then(|s| ROUTES.iter().find(|(b, _)| *b == s))
            .map(|(_, f)| f.to_string()),
        facility: d.facility.clone(),
        primary_source: !d.historical && !d.flags.split(',').any(|f| f.trim() == "reported"),
        dose_number: None,
        series: None,
    })
}

fn forecast_record(c: &card::Card) -> Forecast {
    let items = c
        .forecast
        .series
        .iter()
        .filter_map(|s| {
            let status = match s.status {
                SeriesStatus::Complete => "complete",
                SeriesStatus::Due | SeriesStatus::NotYetDue | SeriesStatus::Refused => "due",
                SeriesStatus::Overdue => "overdue",
                SeriesStatus::Contraindicated => "contraindicated",
                SeriesStatus::AgedOut | SeriesStatus::NotApplicable => return None,
            };
            Some(ForecastItem {
                antigen: s.antigen.clone(),
                status: status.into(),
                dose_number: s.next.as_ref().map(|n| n.number),
                series: Some(s.antigen.clone()),
                earliest: s.next.as_ref().map(|n| n.earliest),
                recommended: s.next.as_ref().map(|n| n.recommended),
                overdue_from: s.next.as_ref().map(|n| n.overdue_from),
                explanation: Some(s.explanation.clone()).filter(|e| !e.is_empty()),
                contraindication: (s.status == SeriesStatus::Contraindicated)
                    .then(|| contraindication_text(c, &s.antigen))
                    .flatten(),
            })
        })
        .collect();
    Forecast {
        patient_id: c.person.id.to_string(),
        date: c.forecast.on,
        items,
    }
}

/// Why a series is contraindicated on the card's date: the reasons of the
/// contraindications active then, each with how long it holds.
fn contraindication_text(c: &card::Card, antigen: &str) -> Option<String> {
    let on = c.forecast.on;
    let reasons: Vec<String> = c
        .record
        .contraindications
        .iter()
        .filter(|x| x.antigen == antigen && x.active_on(on))
        .map(|x| match x.until {
            Some(u) => format!("{} (until {})", x.reason, bala_core::date::iso(u)),
            None => format!("{} (permanent)", x.reason),
        })
        .collect();
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

fn refusal_records(c: &card::Card) -> impl Iterator<Item = RefusalRecord> + '_ {
    c.record.refusals.iter().map(|r| RefusalRecord {
        patient_id: c.person.id.to_string(),
        antigen: r.antigen.clone(),
        date: r.date,
        reason: r.reason.clone(),
    })
}

/// The child's resources: Patient, one Immunization per stored dose (entered-in-error
/// ones with that status) and per refusal (`not-done`), and the
/// ImmunizationRecommendation of `on` (contraindications give their reasons there).
/// Unaudited.
async fn resources(
    db: &Db,
    person: Person,
    on: Date,
    table: &CodeTable,
) -> Result<(Value, Vec<Value>, Value), Error> {
    let c = card::unaudited(db, person, on).await?;
    let patient = crate::patient(&patient_record(&c.person));
    let imms = c
        .doses
        .iter()
        .filter_map(|d| dose_record(c.person.id, d))
        .map(|d| crate::immunization(&d, table))
        .chain(refusal_records(&c).map(|r| crate::refusal(&r)))
        .collect();
    let rec = crate::recommendation(&forecast_record(&c));
    Ok((patient, imms, rec))
}

/// One child as a `collection` Bundle, audited as a read.
pub async fn export_child(db: &Db, ctx: Ctx<'_>, person_id: i64, on: Date) -> Result<Value, Error> {
    let person = fetch_in_scope(db, ctx.scope, person_id).await?;
    let table = code_table(db).await?;
    let (p, imms, rec) = resources(db, person, on, &table).await?;
    audit::record(
        db,
        &[NewEntry::by(
            ctx.actor,
            "immunization.fhir.export",
            "person",
            person_id,
        )],
    )
    .await?;
    let mut all = vec![p];
    all.extend(imms);
    all.push(rec);
    Ok(crate::bundle(all))
}

/// What a bulk export wrote.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ExportSummary {
    pub patients: usize,
    pub immunizations: usize,
    pub recommendations: usize,
    /// The files written, in `dir`.
    pub files: Vec<String>,
}

/// Writes `Patient.ndjson`, `Immunization.ndjson` and `ImmunizationRecommendation.ndjson`
/// into `dir` for every child (under 18) registered in `area` within the caller's
/// scope. An area outside the scope is [`Error::NotFound`]. One audit entry for the batch.
pub async fn export_area(
    db: &Db,
    ctx: Ctx<'_>,
    area: &AreaCode,
    dir: &Path,
    on: Date,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<ExportSummary, Error> {
    if !bala_registry::areas::is_within(db, area.as_str(), ctx.scope).await? {
        return Err(Error::NotFound);
    }
    let cutoff = on.replace_year(on.year() - 18).unwrap_or(on);
    let mut sql = Sql::new("SELECT id FROM people WHERE merged_into IS NULL AND birth_date > ");
    sql.push_arg(bala_core::date::iso(cutoff)).push(" AND ");
    bala_registry::scope::push_area_within(&mut sql, "area_code", std::slice::from_ref(area));
    sql.push(" AND ");
    bala_registry::scope::push_area_within(&mut sql, "area_code", ctx.scope);
    sql.push(" ORDER BY id");
    let ids: Vec<i64> = sql
        .query()
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let table = code_table(db).await?;
    let (mut pats, mut imms, mut recs) = (String::new(), String::new(), String::new());
    let mut summary = ExportSummary::default();
    for (i, id) in ids.iter().enumerate() {
        let person = fetch_in_scope(db, ctx.scope, *id).await?;
        let (p, is, r) = resources(db, person, on, &table).await?;
        pats.push_str(&crate::ndjson(&[p]));
        summary.immunizations += is.len();
        imms.push_str(&crate::ndjson(&is));
        recs.push_str(&crate::ndjson(&[r]));
        summary.patients += 1;
        summary.recommendations += 1;
        progress(i + 1, ids.len());
    }
    if ids.is_empty() {
        progress(0, 0);
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| other(format!("cannot create {}: {e}", dir.display())))?;
    for (name, text) in [
        ("Patient.ndjson", pats),
        ("Immunization.ndjson", imms),
        ("ImmunizationRecommendation.ndjson", recs),
    ] {
        let path = dir.join(name);
        // Written beside and renamed, so a reader never sees half a file.
        let tmp = dir.join(format!(".{name}.part"));
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| other(format!("cannot write {}: {e}", path.display())))?;
        summary.files.push(name.to_string());
    }
    audit::record(
        db,
        &[NewEntry::by(
            ctx.actor,
            "immunization.fhir.bulk_export",
            "area",
            area.as_str(),
        )
        .with_details(serde_json::json!({
            "patients": summary.patients,
            "immunizations": summary.immunizations,
        }))],
    )
    .await?;
    Ok(summary)
}

// ---------------------------------------------------------------- import

/// What became of one resource (the shape of the CSV import's row outcome, with
/// the resource's place in the input instead of a line number).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ResourceOutcome {
    /// Where in the input: `resource`, `resource.entry[2].resource`, `line 3`.
    pub location: String,
    /// `Patient/<id>` or `Immunization/<id>`, when the resource could be read that far.
    pub resource: String,
    /// `imported`, `unchanged` or `rejected`.
    pub outcome: String,
    /// The FHIR field at fault (for `rejected`), e.g. `vaccineCode`.
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub dry_run: bool,
    pub resources: usize,
    pub imported: usize,
    pub unchanged: usize,
    pub rejected: usize,
    pub outcomes: Vec<ResourceOutcome>,
}

impl Report {
    fn push(
        &mut self,
        location: &str,
        resource: &str,
        outcome: &str,
        field: &str,
        message: impl Into<String>,
    ) {
        match outcome {
            "imported" => self.imported += 1,
            "unchanged" => self.unchanged += 1,
            _ => self.rejected += 1,
        }
        self.outcomes.push(ResourceOutcome {
            location: location.into(),
            resource: resource.into(),
            outcome: outcome.into(),
            field: field.into(),
            message: message.into(),
        });
    }

    fn reject_all(
        &mut self,
        location: &str,
        resource: &str,
        e: &ValidationErrors,
        names: fn(&str) -> &str,
    ) {
        for f in &e.0 {
            self.push(
                location,
                resource,
                "rejected",
                names(&f.field),
                f.detail.clone(),
            );
        }
    }

    /// One line: `12 resources: 10 imported, 1 unchanged, 1 rejected`.
    pub fn summary(&self) -> String {
        format!(
            "{} resources: {} {}, {} unchanged, {} rejected",
            self.resources,
            self.imported,
            if self.dry_run {
                "would be imported"
            } else {
                "imported"
            },
            self.unchanged,
            self.rejected
        )
    }
}

/// Splits a parser location `resource.entry[2].resource.vaccineCode` into the
/// resource's place and the field.
fn split_location(loc: &str) -> (String, String) {
    if let Some(i) = loc.rfind(".resource.") {
        return (loc[..i + 9].to_string(), loc[i + 10..].to_string());
    }
    if let Some(rest) = loc.strip_prefix("resource.") {
        if !rest.starts_with("entry") {
            return ("resource".into(), rest.to_string());
        }
    }
    if loc.starts_with("line ") {
        if let Some((l, f)) = loc.split_once('.') {
            return (l.to_string(), f.to_string());
        }
    }
    (loc.to_string(), String::new())
}

/// Bala's field names in validation errors → the FHIR elements they came from.
fn person_field(f: &str) -> &str {
    match f {
        "iin" => "identifier",
        "family_name" | "family_name_lat" => "name.family",
        "given_name" | "given_name_lat" | "patronymic" => "name.given",
        "birth_date" => "birthDate",
        "sex" => "gender",
        "area_code" => "address.extension",
        "address" => "address.text",
        "phone" => "telecom",
        other => other,
    }
}

fn dose_field(f: &str) -> &str {
    match f {
        "product" => "vaccineCode",
        "given_on" => "occurrenceDateTime",
        "lot" => "lotNumber",
        "lot_expiry" => "expirationDate",
        "facility" => "location.display",
        "external_id" => "id",
        other => other,
    }
}

/// Who a Patient of the input turned out to be.
enum Target {
    Existing(Box<Person>),
    /// Would be created (dry run): only the birth date is known.
    WouldCreate(Date),
    /// The Patient was rejected; its Immunizations are too.
    Failed,
}

async fn person_by_iin(db: &Db, iin: &str) -> Result<Option<i64>, Error> {
    Ok(
        sqlx::query("SELECT id FROM people WHERE iin = $1 AND merged_into IS NULL")
            .bind(iin)
            .fetch_optional(db.reader())
            .await?
            .map(|r| r.try_get::<i64, _>(0))
            .transpose()?,
    )
}

fn person_input(p: &PatientRecord) -> PersonInput {
    PersonInput {
        iin: p.iin.clone(),
        family_name: p.family_name.clone(),
        given_name: p.given_name.clone(),
        patronymic: p.patronymic.clone(),
        family_name_lat: p.family_name_lat.clone(),
        given_name_lat: p.given_name_lat.clone(),
        birth_date: bala_core::date::iso(p.birth_date),
        sex: p.sex.code().into(),
        area_code: p.area_code.clone().unwrap_or_default(),
        address: p.address.clone(),
        phone: p.phone.clone(),
    }
}

async fn import_patient(
    db: &Db,
    ctx: Ctx<'_>,
    loc: &str,
    p: &PatientRecord,
    dry_run: bool,
    report: &mut Report,
) -> Result<Target, Error> {
    let name = format!("Patient/{}", p.id);
    // As stored: the parser accepted it, so it parses (spaces and such removed).
    let iin = p
        .iin
        .as_deref()
        .map(|raw| bala_core::Iin::parse(raw).map_or(raw.to_string(), |i| i.as_str().to_string()));
    if let Some(iin) = &iin {
        if let Some(id) = person_by_iin(db, iin).await? {
            return match fetch_in_scope(db, ctx.scope, id).await {
                Ok(found) => {
                    report.push(
                        loc,
                        &name,
                        "unchanged",
                        "identifier",
                        format!("matched by IIN to person {id}"),
                    );
                    Ok(Target::Existing(Box::new(found)))
                }
                Err(Error::NotFound) => {
                    report.push(
                        loc,
                        &name,
                        "rejected",
                        "identifier",
                        format!("no child with IIN {iin} in your areas"),
                    );
                    Ok(Target::Failed)
                }
                Err(e) => Err(e),
            };
        }
    }
    if p.area_code.is_none() {
        report.push(
            loc,
            &name,
            "rejected",
            "address.extension",
            format!(
                "not registered yet and no KATO code of the area ({}) to register it in",
                crate::KATO_EXTENSION
            ),
        );
        return Ok(Target::Failed);
    }
    let input = person_input(p);
    let valid = match bala_registry::person::validate(&input, today()) {
        Ok(v) => v,
        Err(e) => {
            report.reject_all(loc, &name, &e, person_field);
            return Ok(Target::Failed);
        }
    };
    if let Some(d) = people::find_likely_duplicates(db, &valid, None)
        .await?
        .first()
    {
        report.push(
            loc,
            &name,
            "rejected",
            "name",
            format!("likely the registered person {}; not created — add the IIN to the resource or merge by hand", d.id),
        );
        return Ok(Target::Failed);
    }
    if dry_run {
        if !bala_registry::areas::is_within(db, valid.area.as_str(), ctx.scope).await? {
            report.push(
                loc,
                &name,
                "rejected",
                "address.extension",
                "this area is outside the areas you work in",
            );
            return Ok(Target::Failed);
        }
        report.push(loc, &name, "imported", "", "would register");
        return Ok(Target::WouldCreate(valid.birth_date));
    }
    match people::create(db, ctx, &input, false).await {
        Ok(CreateOutcome::Created(id)) => {
            report.push(loc, &name, "imported", "", format!("person {id}"));
            Ok(Target::Existing(Box::new(
                fetch_in_scope(db, ctx.scope, id).await?,
            )))
        }
        Ok(CreateOutcome::PossibleDuplicates(d)) => {
            report.push(
                loc,
                &name,
                "rejected",
                "name",
                format!(
                    "likely the registered person {}; not created",
                    d.first().map(|p| p.id).unwrap_or_default()
                ),
            );
            Ok(Target::Failed)
        }
        Err(Error::Validation(e)) => {
            report.reject_all(loc, &name, &e, person_field);
            Ok(Target::Failed)
        }
        Err(e) => Err(e),
    }
}

fn dose_input(d: &DoseRecord) -> doses::DoseInput {
    let iso = |x: Option<Date>| x.map(bala_core::date::iso).unwrap_or_default();
    doses::DoseInput {
        product: d.product.clone(),
        given_on: bala_core::date::iso(d.date),
        facility: d.facility.clone().unwrap_or_default(),
        lot: d.lot.clone().unwrap_or_default(),
        lot_expiry: iso(d.lot_expiry),
        site: d
            .site
            .as_deref()
            .and_then(|s| SITES.iter().find(|(_, f)| *f == s))
            .map(|(b, _)| b.to_string())
            .unwrap_or_default(),
        route: d
            .route
            .as_deref()
            .and_then(|s| ROUTES.iter().find(|(_, f)| *f == s))
            .map(|(b, _)| b.to_string())
            .unwrap_or_default(),
        // Doses from another register are history here, whoever gave them.
        historical: true,
        flags: if d.primary_source {
            vec![]
        } else {
            vec!["reported".into()]
        },
        campaign_id: String::new(),
    }
}

/// What every resource of one import shares.
struct Run<'a> {
    db: &'a Db,
    ctx: Ctx<'a>,
    cals: &'a [bala_immunization::Calendar],
    dry_run: bool,
}

/// The child an Immunization is recorded for, once its Patient resolved.
enum Patient<'t> {
    Existing(&'t Person),
    /// Would be created (dry run): only the birth date is known.
    WouldCreate(Date),
}

/// The Patient an Immunization of the input refers to, or `None` after
/// reporting why it cannot be recorded (not in the input, or rejected).
fn resolved<'t>(
    target: Option<&'t Target>,
    loc: &str,
    name: &str,
    patient_id: &str,
    report: &mut Report,
) -> Option<Patient<'t>> {
    let why = match target {
        None => format!("Patient/{patient_id} is not in this input; send the Patient resource with its Immunizations"),
        Some(Target::Failed) => format!("Patient/{patient_id} was rejected"),
        Some(Target::Existing(p)) => return Some(Patient::Existing(p)),
        Some(Target::WouldCreate(birth)) => return Some(Patient::WouldCreate(*birth)),
    };
    report.push(loc, name, "rejected", "patient.reference", why);
    None
}

async fn import_dose(
    run: &Run<'_>,
    loc: &str,
    d: &DoseRecord,
    target: Option<&Target>,
    report: &mut Report,
) -> Result<(), Error> {
    let (db, ctx, cals, dry_run) = (run.db, run.ctx, run.cals, run.dry_run);
    let name = format!("Immunization/{}", d.id);
    let Some(target) = resolved(target, loc, &name, &d.patient_id, report) else {
        return Ok(());
    };
    let person = match target {
        Patient::WouldCreate(birth) => {
            let cal = calendars::in_force(cals, today());
            match doses::check(cal, birth, &dose_input(d)) {
                Ok(v) => report.push(
                    loc,
                    &name,
                    "imported",
                    "",
                    format!(
                        "would record {} on {}",
                        v.product,
                        bala_core::date::iso(v.given_on)
                    ),
                ),
                Err(e) => report.reject_all(loc, &name, &e, dose_field),
            }
            return Ok(());
        }
        Patient::Existing(p) => p,
    };
    let ext = format!("{SOURCE}:{}", d.id);
    let in_error = d.status == DoseStatus::EnteredInError;
    if let Some(r) =
        sqlx::query("SELECT id, person_id, status FROM imm_doses WHERE external_id = $1")
            .bind(&ext)
            .fetch_optional(db.reader())
            .await?
    {
        let (id, owner, status): (i64, i64, String) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        if owner != person.id {
            report.push(
                loc,
                &name,
                "rejected",
                "id",
                format!("dose {ext} was imported for another child"),
            );
        } else if in_error && status == "recorded" {
            if dry_run {
                report.push(
                    loc,
                    &name,
                    "imported",
                    "status",
                    format!("would mark dose {id} entered in error"),
                );
            } else {
                let mut tx = db.begin().await?;
                sqlx::query("UPDATE imm_doses SET status = 'entered-in-error' WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                facts::refresh_child(&mut tx, cals, person.id).await?;
                audit::append(
                    &mut tx,
                    &NewEntry::by(ctx.actor, "immunization.dose.in_error", "person", person.id)
                        .with_details(
                            serde_json::json!({ "dose": id, "source": SOURCE, "external_id": ext }),
                        ),
                )
                .await?;
                tx.commit().await?;
                report.push(
                    loc,
                    &name,
                    "imported",
                    "status",
                    format!("dose {id} marked entered in error"),
                );
            }
        } else {
            report.push(
                loc,
                &name,
                "unchanged",
                "id",
                format!("dose {ext} is already recorded as dose {id}"),
            );
        }
        return Ok(());
    }
    // The same vaccine on the same day is the same dose, whatever its id says:
    // so Bala's own export read back (ids are Bala's dose numbers) changes nothing.
    if let Some(r) = sqlx::query(
        "SELECT id FROM imm_doses WHERE area_code = $1 AND person_id = $2 AND product = $3 AND given_on = $4
         ORDER BY id",
    )
    .bind(&person.area_code)
    .bind(person.id)
    .bind(&d.product)
    .bind(bala_core::date::iso(d.date))
    .fetch_optional(db.reader())
    .await?
    {
        let id: i64 = r.try_get(0)?;
        report.push(
            loc,
            &name,
            "unchanged",
            "occurrenceDateTime",
            format!(
                "{} on {} is already recorded as dose {id}",
                d.product,
                bala_core::date::iso(d.date)
            ),
        );
        return Ok(());
    }
    let birth = doses::birth_of(person)?;
    let cal = calendars::in_force(cals, today());
    let valid = match doses::check(cal, birth, &dose_input(d)) {
        Ok(v) => v,
        Err(e) => {
            report.reject_all(loc, &name, &e, dose_field);
            return Ok(());
        }
    };
    if dry_run {
        report.push(
            loc,
            &name,
            "imported",
            "",
            format!(
                "would record {} on {} for person {}",
                valid.product,
                bala_core::date::iso(valid.given_on),
                person.id
            ),
        );
        return Ok(());
    }
    let from = doses::Provenance {
        source: SOURCE.into(),
        external_id: Some(ext),
    };
    let mut tx = db.begin().await?;
    match doses::insert(&mut tx, ctx, person, &valid, &from).await {
        Ok(doses::Recorded::New(id)) => {
            if in_error {
                sqlx::query("UPDATE imm_doses SET status = 'entered-in-error' WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            facts::refresh_child(&mut tx, cals, person.id).await?;
            audit::append(
                &mut tx,
                &NewEntry::by(ctx.actor, "immunization.dose.import", "person", person.id)
                    .with_details(
                        serde_json::json!({ "dose": id, "source": SOURCE, "resource": name }),
                    ),
            )
            .await?;
            tx.commit().await?;
            report.push(loc, &name, "imported", "", format!("dose {id}"));
        }
        Ok(doses::Recorded::AlreadyPresent(id)) => report.push(
            loc,
            &name,
            "unchanged",
            "id",
            format!("already recorded as dose {id}"),
        ),
        Err(Error::Validation(e)) => report.reject_all(loc, &name, &e, dose_field),
        Err(e) => return Err(e),
    }
    Ok(())
}

fn refusal_field(f: &str) -> &str {
    match f {
        "antigen" => "vaccineCode",
        "since" => "occurrenceDateTime",
        "reason" => "statusReason.text",
        other => other,
    }
}

/// The antigens a refusal covers: the one it names, or each of the named
/// product's; `Err` says why the calendar in force knows none of them.
fn refused_antigens(
    cal: &bala_immunization::Calendar,
    r: &RefusalImport,
) -> Result<Vec<String>, String> {
    match (&r.antigen, &r.product) {
        (Some(a), _) if cal.antigen(a).is_some() => Ok(vec![a.clone()]),
        (Some(a), _) => Err(format!("antigen {a} is not in calendar {}", cal.id)),
        (None, Some(p)) => cal
            .product(p)
            .map(|p| p.antigens.clone())
            .ok_or_else(|| format!("product {p} is not in calendar {}", cal.id)),
        (None, None) => Err("no antigen or product".into()),
    }
}

/// A caregiver's refusal, recorded for each antigen it covers unless the child
/// already has a refusal of that antigen on that day (so re-importing, or
/// reading back Bala's own export, changes nothing).
async fn import_refusal(
    run: &Run<'_>,
    loc: &str,
    r: &RefusalImport,
    target: Option<&Target>,
    report: &mut Report,
) -> Result<(), Error> {
    let name = format!("Immunization/{}", r.id);
    let day = bala_core::date::iso(r.date);
    let Some(target) = resolved(target, loc, &name, &r.patient_id, report) else {
        return Ok(());
    };
    let person = match target {
        Patient::Existing(p) => Some(p),
        Patient::WouldCreate(_) => None,
    };
    let cal = calendars::in_force(run.cals, today());
    let antigens = match refused_antigens(cal, r) {
        Ok(a) => a,
        Err(why) => {
            report.push(loc, &name, "rejected", "vaccineCode", why);
            return Ok(());
        }
    };
    let mut new = Vec::new();
    if let Some(p) = person {
        for a in &antigens {
            let known = sqlx::query(
                "SELECT 1 FROM imm_refusals WHERE person_id = $1 AND antigen = $2 AND refused_on = $3",
            )
            .bind(p.id)
            .bind(a)
            .bind(&day)
            .fetch_optional(run.db.reader())
            .await?;
            if known.is_none() {
                new.push(a.clone());
            }
        }
    } else {
        new = antigens;
    }
    if new.is_empty() {
        report.push(
            loc,
            &name,
            "unchanged",
            "",
            format!("the refusal on {day} is already recorded"),
        );
        return Ok(());
    }
    let what = format!("refusal of {} on {day}", new.join(", "));
    match person {
        Some(p) if !run.dry_run => {
            for a in &new {
                let input = doses::ExceptionInput {
                    kind: "refusal".into(),
                    antigen: a.clone(),
                    since: day.clone(),
                    until: String::new(),
                    reason: r.reason.clone(),
                };
                match doses::record_exception(run.db, run.ctx, p.id, &input).await {
                    Ok(()) => {}
                    Err(Error::Validation(e)) => {
                        report.reject_all(loc, &name, &e, refusal_field);
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                }
            }
            report.push(loc, &name, "imported", "", what);
        }
        _ => report.push(
            loc,
            &name,
            "imported",
            "",
            format!("would record the {what}"),
        ),
    }
    Ok(())
}

/// Imports a single resource, a Bundle or NDJSON with the stored code table.
/// Patients are matched by IIN or registered (never when they look like a
/// registered person); Immunizations are recorded for their Patient of the same
/// input. `dry_run` writes nothing. `progress(done, total)` after each resource.
pub async fn import(
    db: &Db,
    ctx: Ctx<'_>,
    input: &str,
    dry_run: bool,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<Report, Error> {
    let table = code_table(db).await?;
    let parsed = crate::parse(input, &table);
    let cals = calendars::all(db).await?;
    let total = parsed.patients.len()
        + parsed.doses.len()
        + parsed.refusals.len()
        + parsed.problems.len()
        + parsed.ignored.len();
    let mut report = Report {
        dry_run,
        resources: total,
        ..Default::default()
    };
    let mut done = 0;
    for Problem { location, message } in &parsed.problems {
        let (loc, field) = split_location(location);
        report.push(&loc, "", "rejected", &field, message.clone());
        done += 1;
        progress(done, total);
    }
    for Problem { location, message } in &parsed.ignored {
        report.push(location, "", "unchanged", "resourceType", message.clone());
        done += 1;
        progress(done, total);
    }
    let mut targets: HashMap<String, Target> = HashMap::new();
    for (loc, p) in &parsed.patients {
        if targets.contains_key(&p.id) {
            report.push(
                loc,
                &format!("Patient/{}", p.id),
                "rejected",
                "id",
                "a second Patient with this id in the same input",
            );
        } else {
            let t = import_patient(db, ctx, loc, p, dry_run, &mut report).await?;
            targets.insert(p.id.clone(), t);
        }
        done += 1;
        progress(done, total);
    }
    let run = Run {
        db,
        ctx,
        cals: &cals,
        dry_run,
    };
    for (loc, d) in &parsed.doses {
        import_dose(&run, loc, d, targets.get(&d.patient_id), &mut report).await?;
        done += 1;
        progress(done, total);
    }
    for (loc, r) in &parsed.refusals {
        import_refusal(&run, loc, r, targets.get(&r.patient_id), &mut report).await?;
        done += 1;
        progress(done, total);
    }
    if total == 0 {
        progress(0, 0);
    }
    if !dry_run {
        // One entry for the batch (each person and dose has its own as well).
        audit::record(
            db,
            &[
                NewEntry::by(ctx.actor, "immunization.fhir.import", "batch", SOURCE).with_details(
                    serde_json::json!({
                        "resources": report.resources,
                        "imported": report.imported,
                        "unchanged": report.unchanged,
                        "rejected": report.rejected,
                    }),
                ),
            ],
        )
        .await?;
    }
    Ok(report)
}

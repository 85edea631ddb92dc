//! Storage of surveillance records: cases scoped by area and audited,
//! population denominators, reporting sites and weekly reports, and the
//! indicator computation over them.

use crate::afp::{self, AfpCase, AfpClass, FollowUp, StoolResult, StoolSpecimen};
use crate::measles::{Igm, MeaslesCase, MeaslesClass, Specimen, SpecimenKind};
use crate::performance::{self, Indicator, Population};
use crate::reporting::{self, Report, Week};
use bala_core::{parse_date, AreaCode, Date, FieldError, ValidationErrors};
use bala_registry::people::{fetch_in_scope, Ctx};
use bala_registry::{areas, scope, RegistryError};
use bala_store::audit::{self, NewEntry};
use bala_store::sqlx::{self, any::AnyRow, AnyConnection, Row};
use bala_store::{is_unique_violation, time_fmt, Db, Sql};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub type Error = RegistryError;

fn iso(d: Date) -> String {
    bala_core::date::iso(d)
}

fn opt_iso(d: Option<Date>) -> Option<String> {
    d.map(iso)
}

fn parse_opt_date(s: Option<String>) -> Option<Date> {
    s.and_then(|s| parse_date(&s).ok())
}

/// Reads a date field: required or optional, naming the field when malformed.
fn date_in(e: &mut ValidationErrors, field: &str, raw: &str, required: bool) -> Option<Date> {
    let t = raw.trim();
    if t.is_empty() {
        if required {
            e.push(field, "err-required", "this date is required");
        }
        return None;
    }
    match parse_date(t) {
        Ok(d) if d > time::OffsetDateTime::now_utc().date() => {
            e.push(field, "err-date-future", "the date is in the future");
            None
        }
        Ok(d) => Some(d),
        Err(_) => {
            e.push(field, "err-date", "not a date in the form YYYY-MM-DD");
            None
        }
    }
}

fn int_in(e: &mut ValidationErrors, field: &str, raw: &str, max: i64) -> Option<i64> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    match t.parse::<i64>() {
        Ok(n) if (0..=max).contains(&n) => Some(n),
        _ => {
            e.push(
                field,
                "err-number-range",
                format!("a whole number from 0 to {max}"),
            );
            None
        }
    }
}

fn text_in(raw: &str) -> Option<String> {
    let t = raw.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Fields shared by both kinds of case, as submitted.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct PatientInput {
    pub epid: String,
    /// Record number in the register, when the patient is registered.
    pub person_id: String,
    pub patient_name: String,
    pub sex: String,
    pub birth_date: String,
    pub area_code: String,
    pub notified: String,
    pub investigated: String,
}

struct Patient {
    person_id: Option<i64>,
    patient_name: Option<String>,
    sex: Option<String>,
    birth_date: Option<Date>,
    area_code: String,
}

/// Checks the patient part against the register and the caller's scope.
async fn patient(
    db: &Db,
    ctx: Ctx<'_>,
    p: &PatientInput,
    e: &mut ValidationErrors,
) -> Result<Patient, Error> {
    let mut out = Patient {
        person_id: None,
        patient_name: text_in(&p.patient_name),
        sex: text_in(&p.sex).map(|s| s.to_uppercase()),
        birth_date: date_in(e, "birth_date", &p.birth_date, false),
        area_code: p.area_code.trim().to_string(),
    };
    if let Some(raw) = text_in(&p.person_id) {
        match raw.parse::<i64>() {
            Ok(id) => match fetch_in_scope(db, ctx.scope, id).await {
                Ok(person) => {
                    out.person_id = Some(id);
                    out.birth_date = out
                        .birth_date
                        .or_else(|| parse_date(&person.birth_date).ok());
                    out.sex = out.sex.or(Some(person.sex.clone()));
                    if out.area_code.is_empty() {
                        out.area_code = person.area_code.clone();
                    }
                }
                Err(RegistryError::NotFound) => e.push(
                    "person_id",
                    "err-person-unknown",
                    "no such person in your areas",
                ),
                Err(other) => return Err(other),
            },
            Err(_) => e.push("person_id", "err-person-unknown", "a record number"),
        }
    }
    if out
        .sex
        .as_deref()
        .is_some_and(|s| s.parse::<bala_core::Sex>().is_err())
    {
        e.push("sex", "err-sex", "M or F");
    }
    if AreaCode::parse(&out.area_code).is_err() || areas::get(db, &out.area_code).await?.is_none() {
        e.push("area_code", "err-area-unknown", "choose an existing area");
    } else if !areas::is_within(db, &out.area_code, ctx.scope).await? {
        e.push(
            "area_code",
            "err-area-scope",
            "this area is outside the areas you work in",
        );
    }
    Ok(out)
}

// ---- AFP ------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct AfpSpecimenInput {
    pub collected: String,
    pub lab_arrival: String,
    /// `good`, `poor` or empty (not known yet).
    pub condition: String,
    pub result: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct AfpInput {
    #[serde(flatten)]
    pub patient: PatientInput,
    pub age_months: String,
    pub onset: String,
    pub polio_doses: String,
    pub specimens: Vec<AfpSpecimenInput>,
    pub follow_up_date: String,
    pub follow_up: String,
    pub classification: String,
}

/// A stored AFP case.
#[derive(Debug, Clone, Serialize)]
pub struct AfpRecord {
    pub id: i64,
    pub person_id: Option<i64>,
    pub patient_name: Option<String>,
    pub sex: Option<String>,
    pub version: i64,
    pub case: AfpCase,
}

async fn parse_afp(db: &Db, ctx: Ctx<'_>, input: &AfpInput) -> Result<(Patient, AfpCase), Error> {
    let mut e = ValidationErrors::new();
    let p = patient(db, ctx, &input.patient, &mut e).await?;
    let onset = date_in(&mut e, "onset", &input.onset, true);
    let notified = date_in(&mut e, "notified", &input.patient.notified, true);
    let investigated = date_in(&mut e, "investigated", &input.patient.investigated, false);
    let age_months = int_in(&mut e, "age_months", &input.age_months, 15 * 12 + 11);
    let polio_doses = int_in(&mut e, "polio_doses", &input.polio_doses, 10);
    let mut specimens = Vec::new();
    for (n, s) in input.specimens.iter().enumerate() {
        let f = |name: &str| format!("specimens[{}].{name}", n + 1);
        // An unused slot of the form: no dates (its selects still carry their defaults).
        if s.collected.trim().is_empty() && s.lab_arrival.trim().is_empty() {
            continue;
        }
        let collected = date_in(&mut e, &f("collected"), &s.collected, true);
        let lab_arrival = date_in(&mut e, &f("lab_arrival"), &s.lab_arrival, false);
        let good_condition = match s.condition.trim() {
            "good" => Some(true),
            "poor" => Some(false),
            "" => None,
            _ => {
                e.push(f("condition"), "err-choice", "good, poor or not known");
                None
            }
        };
        let result = match s.result.trim() {
            "" => Some(StoolResult::Pending),
            r => StoolResult::parse(r).or_else(|| {
                e.push(
                    f("result"),
                    "err-choice",
                    "a laboratory result from the list",
                );
                None
            }),
        };
        if let (Some(collected), Some(result)) = (collected, result) {
            specimens.push(StoolSpecimen {
                collected,
                lab_arrival,
                good_condition,
                result,
            });
        }
    }
    let follow_up = match input.follow_up.trim() {
        "" => FollowUp::NotDone,
        s => FollowUp::parse(s).unwrap_or_else(|| {
            e.push(
                "follow_up",
                "err-choice",
                "a follow-up outcome from the list",
            );
            FollowUp::NotDone
        }),
    };
    let classification = match input.classification.trim() {
        "" => AfpClass::Pending,
        s => AfpClass::parse(s).unwrap_or_else(|| {
            e.push(
                "classification",
                "err-choice",
                "a classification from the list",
            );
            AfpClass::Pending
        }),
    };
    let follow_up_date = date_in(&mut e, "follow_up_date", &input.follow_up_date, false);
    let (Some(onset), Some(notified)) = (onset, notified) else {
        return Err(e.into());
    };
    let case = AfpCase {
        epid: input.patient.epid.trim().to_uppercase(),
        area_code: p.area_code.clone(),
        birth_date: p.birth_date,
        age_months,
        onset,
        notified,
        investigated,
        polio_doses,
        specimens,
        follow_up_date,
        follow_up,
        classification,
    };
    if let Err(v) = case.validate() {
        e.0.extend(v.0);
    }
    if let Some(conflict) = afp::check_class_against_facts(&case) {
        e.0.push(conflict);
    }
    e.into_result()?;
    Ok((p, case))
}

fn epid_taken() -> Error {
    ValidationErrors::single(FieldError::new(
        "epid",
        "err-epid-taken",
        "this EPID number is already used",
    ))
    .into()
}

async fn write_afp_specimens(
    conn: &mut AnyConnection,
    id: i64,
    specimens: &[StoolSpecimen],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM afp_specimens WHERE case_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for (n, s) in specimens.iter().enumerate() {
        sqlx::query(
            "INSERT INTO afp_specimens (case_id, seq, collected, lab_arrival, good_condition, result) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(n as i64 + 1)
        .bind(iso(s.collected))
        .bind(opt_iso(s.lab_arrival))
        .bind(s.good_condition.map(|g| g as i64))
        .bind(s.result.code())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn create_afp(db: &Db, ctx: Ctx<'_>, input: &AfpInput) -> Result<i64, Error> {
    let (p, c) = parse_afp(db, ctx, input).await?;
    let now = time_fmt::now();
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "INSERT INTO afp_cases (epid, person_id, patient_name, sex, birth_date, age_months, area_code, onset, onset_year,
            notified, investigated, polio_doses, follow_up_date, follow_up, classification, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16) RETURNING id",
    )
    .bind(&c.epid)
    .bind(p.person_id)
    .bind(&p.patient_name)
    .bind(&p.sex)
    .bind(opt_iso(c.birth_date))
    .bind(c.age_months)
    .bind(&c.area_code)
    .bind(iso(c.onset))
    .bind(c.onset.year() as i64)
    .bind(iso(c.notified))
    .bind(opt_iso(c.investigated))
    .bind(c.polio_doses)
    .bind(opt_iso(c.follow_up_date))
    .bind(c.follow_up.code())
    .bind(c.classification.code())
    .bind(&now)
    .fetch_one(&mut *tx)
    .await;
    let id: i64 = match r {
        Ok(r) => r.try_get(0)?,
        Err(e) if is_unique_violation(&e) => return Err(epid_taken()),
        Err(e) => return Err(e.into()),
    };
    write_afp_specimens(&mut tx, id, &c.specimens).await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "afp.create", "afp_case", id),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update_afp(
    db: &Db,
    ctx: Ctx<'_>,
    id: i64,
    version: i64,
    input: &AfpInput,
) -> Result<(), Error> {
    get_afp_unaudited(db, ctx, id).await?;
    let (p, c) = parse_afp(db, ctx, input).await?;
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "UPDATE afp_cases SET epid = $1, person_id = $2, patient_name = $3, sex = $4, birth_date = $5, age_months = $6,
            area_code = $7, onset = $8, onset_year = $9, notified = $10, investigated = $11, polio_doses = $12,
            follow_up_date = $13, follow_up = $14, classification = $15, version = version + 1, updated_at = $16
         WHERE id = $17 AND version = $18",
    )
    .bind(&c.epid)
    .bind(p.person_id)
    .bind(&p.patient_name)
    .bind(&p.sex)
    .bind(opt_iso(c.birth_date))
    .bind(c.age_months)
    .bind(&c.area_code)
    .bind(iso(c.onset))
    .bind(c.onset.year() as i64)
    .bind(iso(c.notified))
    .bind(opt_iso(c.investigated))
    .bind(c.polio_doses)
    .bind(opt_iso(c.follow_up_date))
    .bind(c.follow_up.code())
    .bind(c.classification.code())
    .bind(time_fmt::now())
    .bind(id)
    .bind(version)
    .execute(&mut *tx)
    .await;
    match r {
        Ok(r) if r.rows_affected() == 0 => return Err(RegistryError::Conflict),
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Err(epid_taken()),
        Err(e) => return Err(e.into()),
    }
    write_afp_specimens(&mut tx, id, &c.specimens).await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "afp.update", "afp_case", id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn afp_from_row(db: &Db, r: &AnyRow) -> Result<AfpRecord, Error> {
    let id: i64 = r.try_get("id")?;
    let specimens = sqlx::query("SELECT * FROM afp_specimens WHERE case_id = $1 ORDER BY seq")
        .bind(id)
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(|s| {
            Ok(StoolSpecimen {
                collected: parse_date(&s.try_get::<String, _>("collected")?).unwrap_or(Date::MIN),
                lab_arrival: parse_opt_date(s.try_get("lab_arrival")?),
                good_condition: s
                    .try_get::<Option<i64>, _>("good_condition")?
                    .map(|g| g != 0),
                result: StoolResult::parse(&s.try_get::<String, _>("result")?)
                    .unwrap_or(StoolResult::Pending),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(AfpRecord {
        id,
        person_id: r.try_get("person_id")?,
        patient_name: r.try_get("patient_name")?,
        sex: r.try_get("sex")?,
        version: r.try_get("version")?,
        case: AfpCase {
            epid: r.try_get("epid")?,
            area_code: r.try_get("area_code")?,
            birth_date: parse_opt_date(r.try_get("birth_date")?),
            age_months: r.try_get("age_months")?,
            onset: parse_date(&r.try_get::<String, _>("onset")?).unwrap_or(Date::MIN),
            notified: parse_date(&r.try_get::<String, _>("notified")?).unwrap_or(Date::MIN),
            investigated: parse_opt_date(r.try_get("investigated")?),
            polio_doses: r.try_get("polio_doses")?,
            specimens,
            follow_up_date: parse_opt_date(r.try_get("follow_up_date")?),
            follow_up: FollowUp::parse(&r.try_get::<String, _>("follow_up")?)
                .unwrap_or(FollowUp::NotDone),
            classification: AfpClass::parse(&r.try_get::<String, _>("classification")?)
                .unwrap_or(AfpClass::Pending),
        },
    })
}

async fn get_afp_unaudited(db: &Db, ctx: Ctx<'_>, id: i64) -> Result<AfpRecord, Error> {
    let mut sql = Sql::new("SELECT * FROM afp_cases WHERE id = ");
    sql.push_arg(id).push(" AND ");
    scope::push_area_within(&mut sql, "area_code", ctx.scope);
    let r = sql
        .query()
        .fetch_optional(db.reader())
        .await?
        .ok_or(RegistryError::NotFound)?;
    afp_from_row(db, &r).await
}

/// One AFP case (audited read).
pub async fn get_afp(db: &Db, ctx: Ctx<'_>, id: i64) -> Result<AfpRecord, Error> {
    let rec = get_afp_unaudited(db, ctx, id).await?;
    audit::record(db, &[NewEntry::by(ctx.actor, "afp.read", "afp_case", id)]).await?;
    Ok(rec)
}

/// Cases with onset in `year` inside `area` (and the caller's scope). Audited when listed
/// for people to see (`audit_as` names the action); not when used for aggregates.
async fn afp_cases_in(
    db: &Db,
    scope_areas: &[AreaCode],
    area: &str,
    year: i32,
) -> Result<Vec<AfpRecord>, Error> {
    let mut sql = Sql::new("SELECT * FROM afp_cases WHERE onset_year = ");
    sql.push_arg(year as i64)
        .push(" AND area_code IN (SELECT descendant FROM area_closure WHERE ancestor = ")
        .push_arg(area)
        .push(") AND ");
    scope::push_area_within(&mut sql, "area_code", scope_areas);
    sql.push(" ORDER BY onset, id");
    let rows = sql.query().fetch_all(db.reader()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(afp_from_row(db, r).await?);
    }
    Ok(out)
}

pub async fn list_afp(
    db: &Db,
    ctx: Ctx<'_>,
    area: &str,
    year: i32,
) -> Result<Vec<AfpRecord>, Error> {
    let list = afp_cases_in(db, ctx.scope, area, year).await?;
    if !list.is_empty() {
        let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
        audit::record(
            db,
            &[NewEntry::by(ctx.actor, "afp.list", "afp_case", "*")
                .with_details(serde_json::json!({"shown": ids}))],
        )
        .await?;
    }
    Ok(list)
}

// ---- measles ----------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct MeaslesSpecimenInput {
    pub kind: String,
    pub collected: String,
    pub lab_arrival: String,
    pub result_date: String,
    pub measles_igm: String,
    pub rubella_igm: String,
    /// `yes` when tested in a WHO-proficient laboratory.
    pub proficient_lab: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct MeaslesInput {
    #[serde(flatten)]
    pub patient: PatientInput,
    pub rash_onset: String,
    pub mcv_doses: String,
    pub specimens: Vec<MeaslesSpecimenInput>,
    pub linked_to: String,
    pub classification: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeaslesRecord {
    pub id: i64,
    pub person_id: Option<i64>,
    pub patient_name: Option<String>,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub version: i64,
    pub case: MeaslesCase,
}

async fn parse_measles(
    db: &Db,
    ctx: Ctx<'_>,
    input: &MeaslesInput,
) -> Result<(Patient, MeaslesCase), Error> {
    let mut e = ValidationErrors::new();
    let p = patient(db, ctx, &input.patient, &mut e).await?;
    let rash_onset = date_in(&mut e, "rash_onset", &input.rash_onset, true);
    let notified = date_in(&mut e, "notified", &input.patient.notified, true);
    let investigated = date_in(&mut e, "investigated", &input.patient.investigated, false);
    let mcv_doses = int_in(&mut e, "mcv_doses", &input.mcv_doses, 5);
    let mut specimens = Vec::new();
    for (n, s) in input.specimens.iter().enumerate() {
        let f = |name: &str| format!("specimens[{}].{name}", n + 1);
        if s.collected.trim().is_empty() && s.kind.trim().is_empty() {
            continue;
        }
        let kind = SpecimenKind::parse(s.kind.trim()).or_else(|| {
            e.push(f("kind"), "err-choice", "a specimen type from the list");
            None
        });
        let collected = date_in(&mut e, &f("collected"), &s.collected, true);
        let lab_arrival = date_in(&mut e, &f("lab_arrival"), &s.lab_arrival, false);
        let result_date = date_in(&mut e, &f("result_date"), &s.result_date, false);
        let igm = |e: &mut ValidationErrors, name: &str, raw: &str| match raw.trim() {
            "" => Some(Igm::Pending),
            r => Igm::parse(r).or_else(|| {
                e.push(f(name), "err-choice", "a result from the list");
                None
            }),
        };
        let measles_igm = igm(&mut e, "measles_igm", &s.measles_igm);
        let rubella_igm = igm(&mut e, "rubella_igm", &s.rubella_igm);
        if let (Some(kind), Some(collected), Some(measles_igm), Some(rubella_igm)) =
            (kind, collected, measles_igm, rubella_igm)
        {
            specimens.push(Specimen {
                kind,
                collected,
                lab_arrival,
                result_date,
                measles_igm,
                rubella_igm,
                proficient_lab: matches!(s.proficient_lab.trim(), "yes" | "on" | "true"),
            });
        }
    }
    let classification = match input.classification.trim() {
        "" => MeaslesClass::Pending,
        s => MeaslesClass::parse(s).unwrap_or_else(|| {
            e.push(
                "classification",
                "err-choice",
                "a classification from the list",
            );
            MeaslesClass::Pending
        }),
    };
    let linked_to = text_in(&input.linked_to).map(|l| l.to_uppercase());
    let linked_class = match &linked_to {
        Some(l) => sqlx::query("SELECT classification FROM measles_cases WHERE epid = $1")
            .bind(l)
            .fetch_optional(db.reader())
            .await?
            .and_then(|r| r.try_get::<String, _>(0).ok())
            .and_then(|c| MeaslesClass::parse(&c)),
        None => None,
    };
    let (Some(rash_onset), Some(notified)) = (rash_onset, notified) else {
        return Err(e.into());
    };
    let case = MeaslesCase {
        epid: input.patient.epid.trim().to_uppercase(),
        area_code: p.area_code.clone(),
        rash_onset,
        notified,
        investigated,
        mcv_doses,
        specimens,
        linked_to,
        linked_class,
        classification,
    };
    if let Err(v) = case.validate() {
        e.0.extend(v.0);
    }
    e.into_result()?;
    Ok((p, case))
}

async fn write_measles_specimens(
    conn: &mut AnyConnection,
    id: i64,
    specimens: &[Specimen],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM measles_specimens WHERE case_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for (n, s) in specimens.iter().enumerate() {
        sqlx::query(
            "INSERT INTO measles_specimens (case_id, seq, kind, collected, lab_arrival, result_date, measles_igm, rubella_igm, proficient_lab)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id)
        .bind(n as i64 + 1)
        .bind(s.kind.code())
        .bind(iso(s.collected))
        .bind(opt_iso(s.lab_arrival))
        .bind(opt_iso(s.result_date))
        .bind(s.measles_igm.code())
        .bind(s.rubella_igm.code())
        .bind(s.proficient_lab as i64)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn create_measles(db: &Db, ctx: Ctx<'_>, input: &MeaslesInput) -> Result<i64, Error> {
    let (p, c) = parse_measles(db, ctx, input).await?;
    let now = time_fmt::now();
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "INSERT INTO measles_cases (epid, person_id, patient_name, sex, birth_date, area_code, rash_onset, onset_year,
            notified, investigated, mcv_doses, linked_to, classification, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id",
    )
    .bind(&c.epid)
    .bind(p.person_id)
    .bind(&p.patient_name)
    .bind(&p.sex)
    .bind(opt_iso(p.birth_date))
    .bind(&c.area_code)
    .bind(iso(c.rash_onset))
    .bind(c.rash_onset.year() as i64)
    .bind(iso(c.notified))
    .bind(opt_iso(c.investigated))
    .bind(c.mcv_doses)
    .bind(&c.linked_to)
    .bind(c.classification.code())
    .bind(&now)
    .fetch_one(&mut *tx)
    .await;
    let id: i64 = match r {
        Ok(r) => r.try_get(0)?,
        Err(e) if is_unique_violation(&e) => return Err(epid_taken()),
        Err(e) => return Err(e.into()),
    };
    write_measles_specimens(&mut tx, id, &c.specimens).await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "measles.create", "measles_case", id),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update_measles(
    db: &Db,
    ctx: Ctx<'_>,
    id: i64,
    version: i64,
    input: &MeaslesInput,
) -> Result<(), Error> {
    get_measles_unaudited(db, ctx, id).await?;
    let (p, c) = parse_measles(db, ctx, input).await?;
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "UPDATE measles_cases SET epid = $1, person_id = $2, patient_name = $3, sex = $4, birth_date = $5, area_code = $6,
            rash_onset = $7, onset_year = $8, notified = $9, investigated = $10, mcv_doses = $11, linked_to = $12,
            classification = $13, version = version + 1, updated_at = $14
         WHERE id = $15 AND version = $16",
    )
    .bind(&c.epid)
    .bind(p.person_id)
    .bind(&p.patient_name)
    .bind(&p.sex)
    .bind(opt_iso(p.birth_date))
    .bind(&c.area_code)
    .bind(iso(c.rash_onset))
    .bind(c.rash_onset.year() as i64)
    .bind(iso(c.notified))
    .bind(opt_iso(c.investigated))
    .bind(c.mcv_doses)
    .bind(&c.linked_to)
    .bind(c.classification.code())
    .bind(time_fmt::now())
    .bind(id)
    .bind(version)
    .execute(&mut *tx)
    .await;
    match r {
        Ok(r) if r.rows_affected() == 0 => return Err(RegistryError::Conflict),
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Err(epid_taken()),
        Err(e) => return Err(e.into()),
    }
    write_measles_specimens(&mut tx, id, &c.specimens).await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "measles.update", "measles_case", id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn measles_from_row(
    db: &Db,
    r: &AnyRow,
    classes: &HashMap<String, MeaslesClass>,
) -> Result<MeaslesRecord, Error> {
    let id: i64 = r.try_get("id")?;
    let specimens = sqlx::query("SELECT * FROM measles_specimens WHERE case_id = $1 ORDER BY seq")
        .bind(id)
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(|s| {
            Ok(Specimen {
                kind: SpecimenKind::parse(&s.try_get::<String, _>("kind")?)
                    .unwrap_or(SpecimenKind::Serum),
                collected: parse_date(&s.try_get::<String, _>("collected")?).unwrap_or(Date::MIN),
                lab_arrival: parse_opt_date(s.try_get("lab_arrival")?),
                result_date: parse_opt_date(s.try_get("result_date")?),
                measles_igm: Igm::parse(&s.try_get::<String, _>("measles_igm")?)
                    .unwrap_or(Igm::Pending),
                rubella_igm: Igm::parse(&s.try_get::<String, _>("rubella_igm")?)
                    .unwrap_or(Igm::Pending),
                proficient_lab: s.try_get::<i64, _>("proficient_lab")? != 0,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let linked_to: Option<String> = r.try_get("linked_to")?;
    Ok(MeaslesRecord {
        id,
        person_id: r.try_get("person_id")?,
        patient_name: r.try_get("patient_name")?,
        sex: r.try_get("sex")?,
        birth_date: r.try_get("birth_date")?,
        version: r.try_get("version")?,
        case: MeaslesCase {
            epid: r.try_get("epid")?,
            area_code: r.try_get("area_code")?,
            rash_onset: parse_date(&r.try_get::<String, _>("rash_onset")?).unwrap_or(Date::MIN),
            notified: parse_date(&r.try_get::<String, _>("notified")?).unwrap_or(Date::MIN),
            investigated: parse_opt_date(r.try_get("investigated")?),
            mcv_doses: r.try_get("mcv_doses")?,
            specimens,
            linked_class: linked_to.as_ref().and_then(|l| classes.get(l).copied()),
            linked_to,
            classification: MeaslesClass::parse(&r.try_get::<String, _>("classification")?)
                .unwrap_or(MeaslesClass::Pending),
        },
    })
}

async fn linked_classes(
    db: &Db,
    epids: Vec<String>,
) -> Result<HashMap<String, MeaslesClass>, Error> {
    if epids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sql = Sql::new("SELECT epid, classification FROM measles_cases WHERE epid IN (");
    sql.push_list(epids).push(")");
    Ok(sql
        .query()
        .fetch_all(db.reader())
        .await?
        .iter()
        .filter_map(|r| {
            Some((
                r.try_get(0).ok()?,
                MeaslesClass::parse(&r.try_get::<String, _>(1).ok()?)?,
            ))
        })
        .collect())
}

async fn get_measles_unaudited(db: &Db, ctx: Ctx<'_>, id: i64) -> Result<MeaslesRecord, Error> {
    let mut sql = Sql::new("SELECT * FROM measles_cases WHERE id = ");
    sql.push_arg(id).push(" AND ");
    scope::push_area_within(&mut sql, "area_code", ctx.scope);
    let r = sql
        .query()
        .fetch_optional(db.reader())
        .await?
        .ok_or(RegistryError::NotFound)?;
    let linked: Vec<String> = r
        .try_get::<Option<String>, _>("linked_to")?
        .into_iter()
        .collect();
    let classes = linked_classes(db, linked).await?;
    measles_from_row(db, &r, &classes).await
}

pub async fn get_measles(db: &Db, ctx: Ctx<'_>, id: i64) -> Result<MeaslesRecord, Error> {
    let rec = get_measles_unaudited(db, ctx, id).await?;
    audit::record(
        db,
        &[NewEntry::by(ctx.actor, "measles.read", "measles_case", id)],
    )
    .await?;
    Ok(rec)
}

async fn measles_cases_in(
    db: &Db,
    scope_areas: &[AreaCode],
    area: &str,
    year: i32,
) -> Result<Vec<MeaslesRecord>, Error> {
    let mut sql = Sql::new("SELECT * FROM measles_cases WHERE onset_year = ");
    sql.push_arg(year as i64)
        .push(" AND area_code IN (SELECT descendant FROM area_closure WHERE ancestor = ")
        .push_arg(area)
        .push(") AND ");
    scope::push_area_within(&mut sql, "area_code", scope_areas);
    sql.push(" ORDER BY rash_onset, id");
    let rows = sql.query().fetch_all(db.reader()).await?;
    let linked: Vec<String> = rows
        .iter()
        .filter_map(|r| r.try_get::<Option<String>, _>("linked_to").ok().flatten())
        .collect();
    let classes = linked_classes(db, linked).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(measles_from_row(db, r, &classes).await?);
    }
    Ok(out)
}

pub async fn list_measles(
    db: &Db,
    ctx: Ctx<'_>,
    area: &str,
    year: i32,
) -> Result<Vec<MeaslesRecord>, Error> {
    let list = measles_cases_in(db, ctx.scope, area, year).await?;
    if !list.is_empty() {
        let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
        audit::record(
            db,
            &[NewEntry::by(ctx.actor, "measles.list", "measles_case", "*")
                .with_details(serde_json::json!({"shown": ids}))],
        )
        .await?;
    }
    Ok(list)
}

// ---- population -------------------------------------------------------------------

pub async fn set_population(
    db: &Db,
    ctx: Ctx<'_>,
    area: &str,
    year: &str,
    under_15: &str,
    total: &str,
    source: &str,
) -> Result<(), Error> {
    let mut e = ValidationErrors::new();
    if areas::get(db, area).await?.is_none() {
        e.push("area_code", "err-area-unknown", "choose an existing area");
    } else if !areas::is_within(db, area, ctx.scope).await? {
        e.push(
            "area_code",
            "err-area-scope",
            "this area is outside the areas you work in",
        );
    }
    let year = match year.trim().parse::<i64>() {
        Ok(y) if (1990..=2100).contains(&y) => Some(y),
        _ => {
            e.push("year", "err-year", "a year from 1990 to 2100");
            None
        }
    };
    let u15 = int_in(&mut e, "under_15", under_15, 50_000_000);
    let tot = int_in(&mut e, "total", total, 100_000_000);
    if u15.is_none() && tot.is_none() {
        e.push(
            "under_15",
            "err-required",
            "give at least one population figure",
        );
    }
    if let (Some(u), Some(t)) = (u15, tot) {
        if u > t {
            e.push(
                "under_15",
                "err-population-order",
                "children under 15 cannot outnumber the total population",
            );
        }
    }
    if source.trim().is_empty() {
        e.push("source", "err-required", "cite the source of the estimate");
    }
    e.into_result()?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO surveillance_population (area_code, year, under_15, total, source, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (area_code, year) DO UPDATE SET under_15 = $3, total = $4, source = $5, updated_at = $6",
    )
    .bind(area)
    .bind(year)
    .bind(u15)
    .bind(tot)
    .bind(source.trim())
    .bind(time_fmt::now())
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "population.set", "area", area)
            .with_details(serde_json::json!({"year": year})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct PopulationRow {
    pub area_code: String,
    pub year: i64,
    pub under_15: Option<i64>,
    pub total: Option<i64>,
    pub source: String,
}

pub async fn populations(db: &Db, year: i32) -> Result<Vec<PopulationRow>, Error> {
    let rows =
        sqlx::query("SELECT * FROM surveillance_population WHERE year = $1 ORDER BY area_code")
            .bind(year as i64)
            .fetch_all(db.reader())
            .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok(PopulationRow {
                area_code: r.try_get("area_code")?,
                year: r.try_get("year")?,
                under_15: r.try_get("under_15")?,
                total: r.try_get("total")?,
                source: r.try_get("source")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?)
}

// ---- reporting ----------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct Site {
    pub id: i64,
    pub area_code: String,
    pub name: String,
}

pub async fn add_site(db: &Db, ctx: Ctx<'_>, area: &str, name: &str) -> Result<i64, Error> {
    let mut e = ValidationErrors::new();
    if name.trim().is_empty() {
        e.push("name", "err-required", "the site needs a name");
    }
    if areas::get(db, area).await?.is_none() {
        e.push("area_code", "err-area-unknown", "choose an existing area");
    } else if !areas::is_within(db, area, ctx.scope).await? {
        e.push(
            "area_code",
            "err-area-scope",
            "this area is outside the areas you work in",
        );
    }
    e.into_result()?;
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query("INSERT INTO reporting_sites (area_code, name, active, created_at) VALUES ($1, $2, 1, $3) RETURNING id")
        .bind(area)
        .bind(name.trim())
        .bind(time_fmt::now())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "site.create", "reporting_site", id),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Active sites inside `area` and the scope.
pub async fn sites(db: &Db, scope_areas: &[AreaCode], area: &str) -> Result<Vec<Site>, Error> {
    let mut sql = Sql::new("SELECT id, area_code, name FROM reporting_sites WHERE active = 1 AND area_code IN (SELECT descendant FROM area_closure WHERE ancestor = ");
    sql.push_arg(area).push(") AND ");
    scope::push_area_within(&mut sql, "area_code", scope_areas);
    sql.push(" ORDER BY name, id");
    Ok(sql
        .query()
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(|r| {
            Ok(Site {
                id: r.try_get(0)?,
                area_code: r.try_get(1)?,
                name: r.try_get(2)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?)
}

/// One site's report for a week as submitted.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WeekRow {
    pub site_id: i64,
    pub received: String,
    pub afp_cases: String,
    pub measles_cases: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoredReport {
    pub site_id: i64,
    pub week: Week,
    pub received: String,
    pub afp_cases: i64,
    pub measles_cases: i64,
}

/// Saves a week's reports for the sites given (rows with no received date are
/// left as "no report"); all or nothing.
pub async fn save_week(
    db: &Db,
    ctx: Ctx<'_>,
    week: Week,
    rows: &[WeekRow],
) -> Result<usize, Error> {
    let mut e = ValidationErrors::new();
    let mut ok = Vec::new();
    let site_ids: Vec<i64> = rows.iter().map(|r| r.site_id).collect();
    let known: Vec<i64> = if site_ids.is_empty() {
        vec![]
    } else {
        let mut sql = Sql::new("SELECT id FROM reporting_sites WHERE id IN (");
        sql.push_list(site_ids.iter().copied()).push(") AND ");
        scope::push_area_within(&mut sql, "area_code", ctx.scope);
        sql.query()
            .fetch_all(db.reader())
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?
    };
    let monday = week.monday().ok_or_else(|| {
        ValidationErrors::single(FieldError::new(
            "week",
            "err-week",
            "an ISO week like 2026-W09",
        ))
    })?;
    for (n, r) in rows.iter().enumerate() {
        let f = |name: &str| format!("rows[{}].{name}", n + 1);
        if !known.contains(&r.site_id) {
            e.push(
                f("site_id"),
                "err-site-unknown",
                "no such reporting site in your areas",
            );
            continue;
        }
        if r.received.trim().is_empty() {
            continue;
        }
        let received = date_in(&mut e, &f("received"), &r.received, true);
        if received.is_some_and(|d| d < monday) {
            e.push(
                f("received"),
                "err-received-before-week",
                "a report cannot arrive before its week starts",
            );
        }
        let afp = int_in(
            &mut e,
            &f("afp_cases"),
            if r.afp_cases.trim().is_empty() {
                "0"
            } else {
                &r.afp_cases
            },
            1000,
        );
        let measles = int_in(
            &mut e,
            &f("measles_cases"),
            if r.measles_cases.trim().is_empty() {
                "0"
            } else {
                &r.measles_cases
            },
            10_000,
        );
        if let (Some(d), Some(a), Some(m)) = (received, afp, measles) {
            ok.push((r.site_id, d, a, m));
        }
    }
    e.into_result()?;
    let mut tx = db.begin().await?;
    for (site, received, afp, measles) in &ok {
        sqlx::query(
            "INSERT INTO weekly_reports (site_id, iso_year, iso_week, received, afp_cases, measles_cases, recorded_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (site_id, iso_year, iso_week) DO UPDATE SET received = $4, afp_cases = $5, measles_cases = $6, recorded_by = $7",
        )
        .bind(site)
        .bind(week.year as i64)
        .bind(week.week as i64)
        .bind(iso(*received))
        .bind(afp)
        .bind(measles)
        .bind(&ctx.actor.name)
        .execute(&mut *tx)
        .await?;
    }
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "reports.save", "weekly_report", week.label())
            .with_details(serde_json::json!({"rows": ok.len()})),
    )
    .await?;
    tx.commit().await?;
    Ok(ok.len())
}

/// Reports of the sites inside `area` for a year.
pub async fn reports(
    db: &Db,
    scope_areas: &[AreaCode],
    area: &str,
    year: i32,
) -> Result<Vec<StoredReport>, Error> {
    let mut sql = Sql::new(
        "SELECT w.* FROM weekly_reports w JOIN reporting_sites s ON s.id = w.site_id WHERE w.iso_year = ",
    );
    sql.push_arg(year as i64)
        .push(" AND s.area_code IN (SELECT descendant FROM area_closure WHERE ancestor = ")
        .push_arg(area)
        .push(") AND ");
    scope::push_area_within(&mut sql, "s.area_code", scope_areas);
    Ok(sql
        .query()
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(|r| {
            Ok(StoredReport {
                site_id: r.try_get("site_id")?,
                week: Week {
                    year: r.try_get::<i64, _>("iso_year")? as i32,
                    week: r.try_get::<i64, _>("iso_week")? as u8,
                },
                received: r.try_get("received")?,
                afp_cases: r.try_get("afp_cases")?,
                measles_cases: r.try_get("measles_cases")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?)
}

// ---- performance ----------------------------------------------------------------------

/// Indicators for one area.
#[derive(Debug, Clone, Serialize)]
pub struct AreaIndicators {
    pub area_code: String,
    pub afp_cases: i64,
    pub measles_cases: i64,
    pub indicators: Vec<Indicator>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Performance {
    pub area: AreaIndicators,
    pub children: Vec<AreaIndicators>,
    /// Share of sub-areas meeting the discarded NMNR rate (WHO: ≥ 80 %).
    pub nmnr_units_meeting: Option<f64>,
    pub annualised: bool,
}

async fn indicators_for(
    db: &Db,
    scope_areas: &[AreaCode],
    area: &str,
    year: i32,
    as_of: Date,
    pops: &HashMap<String, Population>,
) -> Result<AreaIndicators, Error> {
    let afp_cases: Vec<AfpCase> = afp_cases_in(db, scope_areas, area, year)
        .await?
        .into_iter()
        .map(|r| r.case)
        .collect();
    let measles_cases: Vec<MeaslesCase> = measles_cases_in(db, scope_areas, area, year)
        .await?
        .into_iter()
        .map(|r| r.case)
        .collect();
    let all_areas = areas::all(db).await?;
    let children = |a: &str| {
        all_areas
            .iter()
            .filter(|x| x.parent_code.as_deref() == Some(a))
            .map(|x| x.code.clone())
            .collect()
    };
    let pop = performance::rolled_up(area, pops, &children);
    let site_count = sites(db, scope_areas, area).await?.len() as i64;
    let weeks = Week::ended_in_year(year, as_of);
    let stored = reports(db, scope_areas, area, year).await?;
    let reps: Vec<Report> = stored
        .iter()
        .filter_map(|r| {
            parse_date(&r.received).ok().map(|received| Report {
                week: r.week,
                received,
            })
        })
        .collect();
    let factor = performance::annualise(year, as_of);
    let mut indicators = performance::afp(&afp_cases, pop, factor);
    indicators.extend(performance::measles(&measles_cases, pop, factor));
    indicators.extend(performance::reporting(reporting::summarise(
        site_count, &weeks, &reps,
    )));
    Ok(AreaIndicators {
        area_code: area.to_string(),
        afp_cases: afp_cases.len() as i64,
        measles_cases: measles_cases.len() as i64,
        indicators,
    })
}

/// The WHO indicators for `area` and each area directly inside it, for `year`
/// as seen on `as_of`. Aggregates only: no personal data leaves this function.
pub async fn performance(
    db: &Db,
    scope_areas: &[AreaCode],
    area: &str,
    year: i32,
    as_of: Date,
) -> Result<Performance, Error> {
    if !areas::is_within(db, area, scope_areas).await? {
        return Err(RegistryError::NotFound);
    }
    let pops: HashMap<String, Population> = populations(db, year)
        .await?
        .into_iter()
        .map(|p| {
            (
                p.area_code,
                Population {
                    under_15: p.under_15,
                    total: p.total,
                },
            )
        })
        .collect();
    let top = indicators_for(db, scope_areas, area, year, as_of, &pops).await?;
    let mut children = Vec::new();
    for ch in areas::children(db, area).await? {
        let on = format!("{year}-07-01");
        if ch.is_valid_on(&on) {
            children.push(indicators_for(db, scope_areas, &ch.code, year, as_of, &pops).await?);
        }
    }
    let nmnr: Vec<Option<f64>> = children
        .iter()
        .map(|c| {
            c.indicators
                .iter()
                .find(|i| i.code == "nmnr-rate")
                .and_then(|i| i.value)
        })
        .collect();
    Ok(Performance {
        area: top,
        nmnr_units_meeting: performance::share_of_units_meeting(&nmnr, 2.0),
        children,
        annualised: performance::annualise(year, as_of) > 1.0,
    })
}

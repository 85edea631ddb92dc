//! Recording what happened at the vaccination table: doses (today's, with lot
//! and site; historical ones with less), refusals and contraindications, and
//! marking a dose entered in error. Each write re-derives the child's valid
//! doses and appends to the audit trail in one transaction.

use super::{calendars, date_field, facts, iso, opt_iso, text_field, Error};
use crate::calendar::Calendar;
use crate::forecast::AdminFlag;
use bala_core::{parse_date, Date, FieldError, ValidationErrors};
use bala_registry::people::{fetch_in_scope, Ctx, Person};
use bala_store::audit::{self, NewEntry};
use bala_store::sqlx::{self, AnyConnection, Row};
use bala_store::{is_unique_violation, time_fmt, Db};
use serde::{Deserialize, Serialize};

/// A dose as typed into the form or the API (all text, so errors name fields).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct DoseInput {
    pub product: String,
    pub given_on: String,
    pub facility: String,
    pub lot: String,
    pub lot_expiry: String,
    pub site: String,
    pub route: String,
    /// Entered from a paper card or another register, not given here today.
    pub historical: bool,
    /// Kebab-case flag codes: partial-dose, cold-chain-breach, recalled-lot, reported.
    pub flags: Vec<String>,
    /// Campaign the dose was given in, by id.
    pub campaign_id: String,
}

/// Sites and routes offered by the form; free text is refused so reports agree.
pub const SITES: [&str; 6] = [
    "left-thigh",
    "right-thigh",
    "left-arm",
    "right-arm",
    "oral",
    "intradermal-left-arm",
];
pub const ROUTES: [&str; 4] = ["IM", "SC", "ID", "PO"];

/// A dose checked against the calendar and the child.
#[derive(Debug, Clone)]
pub struct ValidInput {
    pub product: String,
    pub given_on: Date,
    pub facility: Option<String>,
    pub lot: Option<String>,
    pub lot_expiry: Option<Date>,
    pub site: Option<String>,
    pub route: Option<String>,
    pub historical: bool,
    pub flags: Vec<AdminFlag>,
    pub campaign_id: Option<i64>,
}

/// Checks a dose for a child born on `birth`. Today's doses need the lot, its
/// expiry, site and route; historical ones only product and date.
pub fn check(
    calendar: &Calendar,
    birth: Date,
    input: &DoseInput,
) -> Result<ValidInput, ValidationErrors> {
    let mut e = ValidationErrors::new();
    let product = input.product.trim().to_string();
    if product.is_empty() {
        e.push("product", "err-required", "choose the vaccine product");
    } else if calendar.product(&product).is_none() {
        e.push(
            "product",
            "err-imm-product",
            format!(
                "'{product}' is not a product of the calendar {}",
                calendar.id
            ),
        );
    }
    let given_on = date_field(&mut e, "given_on", &input.given_on, true, true);
    if given_on.is_some_and(|d| d < birth) {
        e.push(
            "given_on",
            "err-imm-before-birth",
            "the date is before the child's birth",
        );
    }
    let lot_expiry = date_field(
        &mut e,
        "lot_expiry",
        &input.lot_expiry,
        !input.historical,
        false,
    );
    let lot = text_field(&mut e, "lot", &input.lot);
    if lot.is_none() && !input.historical {
        e.push(
            "lot",
            "err-required",
            "the lot number is required for a dose given today",
        );
    }
    let site = pick(&mut e, "site", &input.site, &SITES, !input.historical);
    let route = pick(&mut e, "route", &input.route, &ROUTES, !input.historical);
    let mut flags = Vec::new();
    for f in input.flags.iter().filter(|f| !f.trim().is_empty()) {
        match facts::parse_flag(f.trim()) {
            Some(flag) => flags.push(flag),
            None => e.push("flags", "err-choice", format!("unknown flag '{f}'")),
        }
    }
    let campaign_id = match input.campaign_id.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                e.push(
                    "campaign_id",
                    "err-choice",
                    "choose a campaign from the list",
                );
                None
            }
        },
    };
    let facility = text_field(&mut e, "facility", &input.facility);
    e.into_result()?;
    Ok(ValidInput {
        product,
        given_on: given_on.expect("checked"),
        facility,
        lot,
        lot_expiry,
        site,
        route,
        historical: input.historical,
        flags,
        campaign_id,
    })
}

fn pick(
    e: &mut ValidationErrors,
    field: &str,
    raw: &str,
    allowed: &[&str],
    required: bool,
) -> Option<String> {
    match raw.trim() {
        "" if required => {
            e.push(field, "err-required", "choose one");
            None
        }
        "" => None,
        v if allowed.contains(&v) => Some(v.to_string()),
        v => {
            e.push(
                field,
                "err-choice",
                format!("'{v}' is not one of {}", allowed.join(", ")),
            );
            None
        }
    }
}

/// Where a dose came from, stored with it.
#[derive(Debug, Clone)]
pub struct Provenance {
    /// `ui`, `api`, `csv`, `fhir` …
    pub source: String,
    /// Identifier in the source system; a second import of it changes nothing.
    pub external_id: Option<String>,
}

impl Provenance {
    pub fn of(source: &str) -> Provenance {
        Provenance {
            source: source.into(),
            external_id: None,
        }
    }
}

/// What recording a dose did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New(i64),
    /// The external id was imported before; nothing changed.
    AlreadyPresent(i64),
}

/// Records a dose for a child in the caller's scope.
pub async fn record(
    db: &Db,
    ctx: Ctx<'_>,
    person_id: i64,
    input: &DoseInput,
    from: &Provenance,
) -> Result<Recorded, Error> {
    let person = fetch_in_scope(db, ctx.scope, person_id).await?;
    let cals = calendars::all(db).await?;
    let birth = birth_of(&person)?;
    let cal = calendars::in_force(&cals, super::today());
    let valid = check(cal, birth, input)?;
    if let Some(c) = valid.campaign_id {
        super::campaigns::check_dose(db, c, &valid, birth).await?;
    }
    let mut tx = db.begin().await?;
    let r = insert(&mut tx, ctx, &person, &valid, from).await?;
    if let Recorded::New(id) = r {
        facts::refresh_child(&mut tx, &cals, person_id).await?;
        audit::append(
            &mut tx,
            &NewEntry::by(ctx.actor, "immunization.dose.record", "person", person_id).with_details(
                serde_json::json!({ "dose": id, "product": valid.product, "source": from.source }),
            ),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(r)
}

/// Records several doses of one child in one transaction: a whole paper card
/// entered at once, or a generated history. Every dose is checked first and
/// nothing is written if any is wrong (fields named `doses[N].field`, N from
/// 1). The valid-dose facts are re-derived and the audit entry written once,
/// not once per dose, which keeps a long history cheap to enter.
pub async fn record_many(
    db: &Db,
    ctx: Ctx<'_>,
    person_id: i64,
    inputs: &[DoseInput],
    source: &str,
) -> Result<Vec<i64>, Error> {
    let person = fetch_in_scope(db, ctx.scope, person_id).await?;
    let cals = calendars::all(db).await?;
    let birth = birth_of(&person)?;
    let cal = calendars::in_force(&cals, super::today());
    let mut errors = ValidationErrors::new();
    let mut valid = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        match check(cal, birth, input) {
            Ok(v) => {
                if let Some(c) = v.campaign_id {
                    match super::campaigns::check_dose(db, c, &v, birth).await {
                        Ok(()) => {}
                        Err(Error::Validation(e)) => {
                            for f in e.0 {
                                errors.push(
                                    format!("doses[{}].{}", i + 1, f.field),
                                    f.code,
                                    f.detail,
                                );
                            }
                        }
                        Err(e) => return Err(e),
                    }
                }
                valid.push(v);
            }
            Err(e) => {
                for f in e.0 {
                    errors.push(format!("doses[{}].{}", i + 1, f.field), f.code, f.detail);
                }
            }
        }
    }
    errors.into_result()?;
    let from = Provenance::of(source);
    let mut tx = db.begin().await?;
    let mut ids = Vec::with_capacity(valid.len());
    for v in &valid {
        if let Recorded::New(id) = insert(&mut tx, ctx, &person, v, &from).await? {
            ids.push(id);
        }
    }
    facts::refresh_child(&mut tx, &cals, person_id).await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "immunization.dose.record", "person", person_id)
            .with_details(serde_json::json!({ "doses": ids, "source": source })),
    )
    .await?;
    tx.commit().await?;
    Ok(ids)
}

pub fn birth_of(p: &Person) -> Result<Date, Error> {
    parse_date(&p.birth_date).map_err(|_| {
        ValidationErrors::single(FieldError::new(
            "birth_date",
            "err-date",
            "the child's birth date in the register is not a date",
        ))
        .into()
    })
}

/// Inserts one checked dose (no refresh, no audit: the caller does both, once
/// per child, so a bulk import of one child's history stays cheap). The FHIR
/// importer (bala-fhir) calls it inside its own transaction.
pub async fn insert(
    conn: &mut AnyConnection,
    ctx: Ctx<'_>,
    person: &Person,
    v: &ValidInput,
    from: &Provenance,
) -> Result<Recorded, Error> {
    if let Some(ext) = &from.external_id {
        if let Some(r) = sqlx::query("SELECT id, person_id FROM imm_doses WHERE external_id = $1")
            .bind(ext)
            .fetch_optional(&mut *conn)
            .await?
        {
            let owner: i64 = r.try_get("person_id")?;
            if owner != person.id {
                return Err(ValidationErrors::single(FieldError::new(
                    "external_id",
                    "err-imm-external-id",
                    format!("dose '{ext}' was imported for another child"),
                ))
                .into());
            }
            return Ok(Recorded::AlreadyPresent(r.try_get("id")?));
        }
    }
    let r = sqlx::query(
        "INSERT INTO imm_doses (person_id, given_on, product, facility, lot, lot_expiry, site, route, flags,
            historical, campaign_id, area_code, source, external_id, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
    )
    .bind(person.id)
    .bind(iso(v.given_on))
    .bind(&v.product)
    .bind(&v.facility)
    .bind(&v.lot)
    .bind(opt_iso(v.lot_expiry))
    .bind(&v.site)
    .bind(&v.route)
    .bind(facts::flags_to_text(&v.flags))
    .bind(v.historical as i64)
    .bind(v.campaign_id)
    .bind(&person.area_code)
    .bind(&from.source)
    .bind(&from.external_id)
    .bind(time_fmt::now())
    .bind(&ctx.actor.name)
    .fetch_one(&mut *conn)
    .await;
    match r {
        Ok(r) => Ok(Recorded::New(r.try_get(0)?)),
        Err(e) if is_unique_violation(&e) => Err(ValidationErrors::single(FieldError::new(
            "external_id",
            "err-imm-external-id",
            "this dose was imported at the same moment by someone else",
        ))
        .into()),
        Err(e) => Err(e.into()),
    }
}

/// Marks a dose entered in error (it stays on the card, struck out, and stops counting).
pub async fn mark_in_error(
    db: &Db,
    ctx: Ctx<'_>,
    person_id: i64,
    dose_id: i64,
    reason: &str,
) -> Result<(), Error> {
    fetch_in_scope(db, ctx.scope, person_id).await?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ValidationErrors::single(FieldError::new(
            "reason",
            "err-required",
            "say why the entry is wrong",
        ))
        .into());
    }
    let cals = calendars::all(db).await?;
    let mut tx = db.begin().await?;
    let r = sqlx::query(
        "UPDATE imm_doses SET status = 'entered-in-error' WHERE id = $1 AND person_id = $2 AND status = 'recorded'",
    )
    .bind(dose_id)
    .bind(person_id)
    .execute(&mut *tx)
    .await?;
    if r.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    facts::refresh_child(&mut tx, &cals, person_id).await?;
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, "immunization.dose.in_error", "person", person_id)
            .with_details(serde_json::json!({ "dose": dose_id, "reason": reason })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A refusal or a contraindication as typed.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ExceptionInput {
    /// `refusal` or `contraindication`.
    pub kind: String,
    pub antigen: String,
    /// Refusal date, or start of a contraindication.
    pub since: String,
    /// End of a temporary contraindication; empty = permanent.
    pub until: String,
    pub reason: String,
}

/// Records a refusal or contraindication for one antigen.
pub async fn record_exception(
    db: &Db,
    ctx: Ctx<'_>,
    person_id: i64,
    input: &ExceptionInput,
) -> Result<(), Error> {
    fetch_in_scope(db, ctx.scope, person_id).await?;
    let cals = calendars::all(db).await?;
    let cal = calendars::in_force(&cals, super::today());
    let mut e = ValidationErrors::new();
    let antigen = input.antigen.trim();
    if cal.antigen(antigen).is_none() {
        e.push("antigen", "err-choice", "choose an antigen of the calendar");
    }
    let refusal = match input.kind.as_str() {
        "refusal" => true,
        "contraindication" => false,
        _ => {
            e.push("kind", "err-choice", "refusal or contraindication");
            true
        }
    };
    let since = date_field(&mut e, "since", &input.since, refusal, true);
    let until = if refusal {
        None
    } else {
        date_field(&mut e, "until", &input.until, false, false)
    };
    if let (Some(s), Some(u)) = (since, until) {
        if u < s {
            e.push("until", "err-date-order", "the end is before the start");
        }
    }
    let reason = text_field(&mut e, "reason", &input.reason);
    if reason.is_none() {
        e.push("reason", "err-required", "give the reason");
    }
    e.into_result()?;
    let now = time_fmt::now();
    let mut tx = db.begin().await?;
    if refusal {
        sqlx::query(
            "INSERT INTO imm_refusals (person_id, antigen, refused_on, reason, created_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(person_id)
        .bind(antigen)
        .bind(opt_iso(since))
        .bind(&reason)
        .bind(&now)
        .bind(&ctx.actor.name)
        .execute(&mut *tx)
        .await?;
    } else {
        sqlx::query(
            "INSERT INTO imm_contraindications (person_id, antigen, since, until, reason, created_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(person_id)
        .bind(antigen)
        .bind(opt_iso(since))
        .bind(opt_iso(until))
        .bind(&reason)
        .bind(&now)
        .bind(&ctx.actor.name)
        .execute(&mut *tx)
        .await?;
    }
    facts::refresh_child(&mut tx, &cals, person_id).await?;
    let action = if refusal {
        "immunization.refusal.record"
    } else {
        "immunization.contraindication.record"
    };
    audit::append(
        &mut tx,
        &NewEntry::by(ctx.actor, action, "person", person_id)
            .with_details(serde_json::json!({ "antigen": antigen })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Re-derives one person's facts, e.g. after a merge moved doses onto them.
pub async fn refresh_person(db: &Db, person_id: i64) -> Result<(), Error> {
    let cals = calendars::all(db).await?;
    let mut tx = db.begin().await?;
    facts::refresh_child(&mut tx, &cals, person_id).await?;
    tx.commit().await?;
    Ok(())
}

//! Bulk import of historical registers (doses and people) from CSV or Excel,
//! with a dry run that names every rejected row and field.
//!
//! Re-importing a file changes nothing: a dose row's identity is its
//! `external_id` column, or else `csv:<child>:<product>:<date>`, stored unique;
//! a person row whose IIN is already registered, or who is a likely duplicate
//! of a registered person, is reported unchanged.

use super::{calendars, doses, facts, Error};
use crate::table::{self, Table};
use bala_core::{FieldError, ValidationErrors};
use bala_registry::people::{self, fetch_in_scope, CreateOutcome, Ctx};
use bala_registry::person::PersonInput;
use bala_store::audit::{self, NewEntry};
use bala_store::sqlx::{self, Row};
use bala_store::{Db, Sql};
use serde::Serialize;

/// What became of one row.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RowOutcome {
    /// 1-based line in the file, the header being line 1.
    pub row: usize,
    /// `imported`, `unchanged` or `rejected`.
    pub outcome: String,
    /// The field at fault (for `rejected`), or the record concerned.
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub dry_run: bool,
    pub rows: usize,
    pub imported: usize,
    pub unchanged: usize,
    pub rejected: usize,
    pub outcomes: Vec<RowOutcome>,
}

impl Report {
    fn push(&mut self, row: usize, outcome: &str, field: &str, message: impl Into<String>) {
        match outcome {
            "imported" => self.imported += 1,
            "unchanged" => self.unchanged += 1,
            _ => self.rejected += 1,
        }
        self.outcomes.push(RowOutcome {
            row,
            outcome: outcome.into(),
            field: field.into(),
            message: message.into(),
        });
    }

    fn reject_all(&mut self, row: usize, e: &ValidationErrors) {
        for f in &e.0 {
            self.push(row, "rejected", &f.field, f.detail.clone());
        }
    }
}

/// Columns of a dose file. `iin` or `person_id` identifies the child.
pub const DOSE_COLUMNS: [&str; 9] = [
    "iin",
    "person_id",
    "product",
    "given_on",
    "lot",
    "lot_expiry",
    "facility",
    "flags",
    "external_id",
];

/// Columns of a people file.
pub const PEOPLE_COLUMNS: [&str; 11] = [
    "iin",
    "family_name",
    "given_name",
    "patronymic",
    "family_name_lat",
    "given_name_lat",
    "birth_date",
    "sex",
    "area_code",
    "address",
    "phone",
];

/// Reads a CSV or Excel file (by its first bytes) into a table with known columns.
pub fn read(bytes: &[u8], columns: &[&str]) -> Result<Table, ValidationErrors> {
    let t = if bytes.starts_with(b"PK") {
        table::from_xlsx(bytes)?
    } else {
        let text = std::str::from_utf8(bytes).map_err(|_| {
            ValidationErrors::single(FieldError::new(
                "file",
                "err-import-encoding",
                "the file is neither UTF-8 CSV nor an Excel workbook",
            ))
        })?;
        table::from_csv(text)?
    };
    let unknown: Vec<&String> = t
        .headers
        .iter()
        .filter(|h| !columns.contains(&h.as_str()))
        .collect();
    if !unknown.is_empty() {
        return Err(ValidationErrors::single(FieldError::new(
            "header",
            "err-import-columns",
            format!(
                "unknown column(s) {}; the columns are: {}",
                unknown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                columns.join(", ")
            ),
        )));
    }
    Ok(t)
}

async fn person_for(
    db: &Db,
    ctx: Ctx<'_>,
    iin: &str,
    id: &str,
) -> Result<Result<people::Person, FieldError>, Error> {
    let id = if !iin.is_empty() {
        match sqlx::query("SELECT id FROM people WHERE iin = $1 AND merged_into IS NULL")
            .bind(iin)
            .fetch_optional(db.reader())
            .await?
        {
            Some(r) => r.try_get::<i64, _>(0)?,
            None => {
                return Ok(Err(FieldError::new(
                    "iin",
                    "err-person-unknown",
                    format!("no child with IIN {iin} in your areas"),
                )))
            }
        }
    } else {
        match id.parse::<i64>() {
            Ok(n) => n,
            Err(_) => {
                return Ok(Err(FieldError::new(
                    "iin",
                    "err-required",
                    "give the child's iin or person_id",
                )))
            }
        }
    };
    match fetch_in_scope(db, ctx.scope, id).await {
        Ok(p) => Ok(Ok(p)),
        Err(Error::NotFound) => Ok(Err(FieldError::new(
            "person_id",
            "err-person-unknown",
            "no such child in your areas",
        ))),
        Err(e) => Err(e),
    }
}

/// Imports doses; `progress(done, total)` is called after each row.
pub async fn doses(
    db: &Db,
    ctx: Ctx<'_>,
    file: &Table,
    source: &str,
    dry_run: bool,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<Report, Error> {
    let cals = calendars::all(db).await?;
    let cal = calendars::in_force(&cals, super::today());
    let mut report = Report {
        dry_run,
        rows: file.rows.len(),
        ..Default::default()
    };
    for (i, row) in file.rows.iter().enumerate() {
        let line = i + 2;
        let get = |c: &str| file.get(row, c).trim().to_string();
        progress(i + 1, file.rows.len());
        let person = match person_for(db, ctx, &get("iin"), &get("person_id")).await? {
            Ok(p) => p,
            Err(f) => {
                report.push(line, "rejected", &f.field, f.detail);
                continue;
            }
        };
        let input = doses::DoseInput {
            product: get("product"),
            given_on: get("given_on"),
            facility: get("facility"),
            lot: get("lot"),
            lot_expiry: get("lot_expiry"),
            historical: true,
            flags: get("flags")
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            ..Default::default()
        };
        let birth = doses::birth_of(&person)?;
        let valid = match doses::check(cal, birth, &input) {
            Ok(v) => v,
            Err(e) => {
                report.reject_all(line, &e);
                continue;
            }
        };
        let ext = match get("external_id") {
            s if s.is_empty() => format!(
                "{source}:{}:{}:{}",
                person.id,
                valid.product,
                super::iso(valid.given_on)
            ),
            s => s,
        };
        let exists = sqlx::query("SELECT person_id FROM imm_doses WHERE external_id = $1")
            .bind(&ext)
            .fetch_optional(db.reader())
            .await?;
        match exists {
            Some(r) if r.try_get::<i64, _>(0)? == person.id => {
                report.push(
                    line,
                    "unchanged",
                    "external_id",
                    format!("dose {ext} is already recorded"),
                );
                continue;
            }
            Some(_) => {
                report.push(
                    line,
                    "rejected",
                    "external_id",
                    format!("dose {ext} was imported for another child"),
                );
                continue;
            }
            None => {}
        }
        if dry_run {
            report.push(
                line,
                "imported",
                "",
                format!(
                    "would record {} on {} for person {}",
                    valid.product,
                    super::iso(valid.given_on),
                    person.id
                ),
            );
            continue;
        }
        let from = doses::Provenance {
            source: source.into(),
            external_id: Some(ext),
        };
        let mut tx = db.begin().await?;
        match doses::insert(&mut tx, ctx, &person, &valid, &from).await {
            Ok(doses::Recorded::New(id)) => {
                facts::refresh_child(&mut tx, &cals, person.id).await?;
                audit::append(
                    &mut tx,
                    &NewEntry::by(ctx.actor, "immunization.dose.import", "person", person.id)
                        .with_details(
                            serde_json::json!({ "dose": id, "source": source, "row": line }),
                        ),
                )
                .await?;
                tx.commit().await?;
                report.push(line, "imported", "", format!("dose {id}"));
            }
            Ok(doses::Recorded::AlreadyPresent(_)) => {
                report.push(line, "unchanged", "external_id", "already recorded")
            }
            Err(Error::Validation(e)) => report.reject_all(line, &e),
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

/// Imports people (children and caregivers).
pub async fn people(
    db: &Db,
    ctx: Ctx<'_>,
    file: &Table,
    dry_run: bool,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<Report, Error> {
    let mut report = Report {
        dry_run,
        rows: file.rows.len(),
        ..Default::default()
    };
    for (i, row) in file.rows.iter().enumerate() {
        let line = i + 2;
        progress(i + 1, file.rows.len());
        let get = |c: &str| file.get(row, c).trim().to_string();
        let opt = |c: &str| Some(get(c)).filter(|s| !s.is_empty());
        let input = PersonInput {
            iin: opt("iin"),
            family_name: get("family_name"),
            given_name: get("given_name"),
            patronymic: opt("patronymic"),
            family_name_lat: opt("family_name_lat"),
            given_name_lat: opt("given_name_lat"),
            birth_date: get("birth_date"),
            sex: get("sex"),
            area_code: get("area_code"),
            address: opt("address"),
            phone: opt("phone"),
        };
        if let Some(iin) = &input.iin {
            let mut sql = Sql::new("SELECT id FROM people WHERE iin = ");
            sql.push_arg(iin.as_str());
            if let Some(r) = sql.query().fetch_optional(db.reader()).await? {
                let id: i64 = r.try_get(0)?;
                report.push(
                    line,
                    "unchanged",
                    "iin",
                    format!("already registered as person {id}"),
                );
                continue;
            }
        }
        let valid = match bala_registry::person::validate(&input, super::today()) {
            Ok(v) => v,
            Err(e) => {
                report.reject_all(line, &e);
                continue;
            }
        };
        let dups = people::find_likely_duplicates(db, &valid, None).await?;
        if let Some(d) = dups.first() {
            report.push(
                line,
                "unchanged",
                "",
                format!("matches registered person {}", d.id),
            );
            continue;
        }
        if dry_run {
            if !bala_registry::areas::is_within(db, valid.area.as_str(), ctx.scope).await? {
                report.push(
                    line,
                    "rejected",
                    "area_code",
                    "this area is outside the areas you work in",
                );
            } else {
                report.push(line, "imported", "", "would register");
            }
            continue;
        }
        match people::create(db, ctx, &input, false).await {
            Ok(CreateOutcome::Created(id)) => {
                report.push(line, "imported", "", format!("person {id}"))
            }
            Ok(CreateOutcome::PossibleDuplicates(d)) => report.push(
                line,
                "unchanged",
                "",
                format!(
                    "matches registered person {}",
                    d.first().map(|p| p.id).unwrap_or_default()
                ),
            ),
            Err(Error::Validation(e)) => report.reject_all(line, &e),
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

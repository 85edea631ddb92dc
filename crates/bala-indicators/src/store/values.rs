//! Values: published ones (what every view reads), submissions waiting for
//! approval, and the history of every change.
//!
//! A value is identified by indicator × area × period × disaggregation × source.
//! Writing the same content again changes nothing (no new version, no history),
//! which makes re-imports idempotent. A changed value gets a new version and the
//! history keeps every earlier one.
//!
//! The statements that bind nullable numbers are not cached (`persistent(false)`)
//! and cast them (`CAST($n AS DOUBLE PRECISION)`): through sqlx's `Any` driver a
//! NULL is declared to PostgreSQL as text, and a cached statement first prepared
//! with a NULL would then refuse the numbers bound later ("incorrect binary data
//! format").

use super::{Channel, IndError, Route};
use crate::model::{format_dims, parse_dims, AreaRef, Dims, ObsStatus, Observation, Period};
use bala_core::AreaCode;
use bala_store::audit::{self, Actor, NewEntry};
use bala_store::sqlx::{self, any::AnyRow, AnyConnection, Row};
use bala_store::{time_fmt, Db, Sql};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What identifies a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ValueKey {
    pub indicator: String,
    /// KATO code (`000000000` for the republic).
    pub area: String,
    pub period: Period,
    pub dims: Dims,
    pub source: String,
}

impl std::fmt::Display for ValueKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {} / {}", self.indicator, self.area, self.period)?;
        if !self.dims.is_empty() {
            write!(f, " / {}", format_dims(&self.dims))?;
        }
        write!(f, " / {}", self.source)
    }
}

/// What a value says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Fields {
    pub value: f64,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    /// SDMX observation status code (`A` final, `P` provisional, `E` estimated …).
    pub status: Option<String>,
    pub footnote: Option<String>,
    pub attributes: Dims,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
}

/// A published value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredValue {
    pub id: i64,
    pub key: ValueKey,
    pub fields: Fields,
    pub version: i64,
    pub entered_by: String,
    pub entered_at: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
    pub batch_id: Option<i64>,
}

impl StoredValue {
    /// As an exchange observation: the republic is written as national (empty
    /// area), other areas by KATO code.
    pub fn observation(&self) -> Observation {
        let area = if self.key.area == bala_core::kato::REPUBLIC {
            AreaRef::National
        } else {
            AreaRef::parse(&self.key.area)
        };
        Observation {
            indicator: self.key.indicator.clone(),
            area,
            period: self.key.period,
            dims: self.key.dims.clone(),
            value: self.fields.value,
            lower: self.fields.lower,
            upper: self.fields.upper,
            status: self.fields.status.as_deref().map(ObsStatus::from_code),
            source: Some(self.key.source.clone()),
            footnote: self.fields.footnote.clone(),
            attributes: self.fields.attributes.clone(),
        }
    }
}

/// A value waiting for approval, or rejected.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Submission {
    pub id: i64,
    pub key: ValueKey,
    pub fields: Fields,
    /// Why the value was flagged against the area's history, if it was.
    pub outlier: Option<String>,
    /// `pending` or `rejected`.
    pub state: String,
    pub submitted_by: String,
    pub submitted_by_id: Option<i64>,
    pub submitted_at: String,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<String>,
    pub review_note: Option<String>,
    /// The value currently published for the same key, if any.
    pub published: Option<f64>,
}

/// What writing one value did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Added,
    Updated,
    Unchanged,
    Submitted,
}

fn decode_err(what: &str, e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("{what}: {e}").into())
}

fn key_of(r: &AnyRow) -> Result<ValueKey, sqlx::Error> {
    let period: String = r.try_get("period")?;
    let dims: String = r.try_get("dims")?;
    Ok(ValueKey {
        indicator: r.try_get("indicator_code")?,
        area: r.try_get("area_code")?,
        period: Period::parse(&period).map_err(|e| decode_err("period", e))?,
        dims: parse_dims(&dims).map_err(|e| decode_err("dims", e))?,
        source: r.try_get("source")?,
    })
}

fn fields_of(r: &AnyRow) -> Result<Fields, sqlx::Error> {
    let attributes: String = r.try_get("attributes")?;
    Ok(Fields {
        value: r.try_get("value")?,
        lower: r.try_get("lower_bound")?,
        upper: r.try_get("upper_bound")?,
        status: r.try_get("obs_status")?,
        footnote: r.try_get("footnote")?,
        attributes: serde_json::from_str(&attributes).map_err(|e| decode_err("attributes", e))?,
        numerator: r.try_get("numerator")?,
        denominator: r.try_get("denominator")?,
    })
}

fn stored_of(r: &AnyRow) -> Result<StoredValue, sqlx::Error> {
    Ok(StoredValue {
        id: r.try_get("id")?,
        key: key_of(r)?,
        fields: fields_of(r)?,
        version: r.try_get("version")?,
        entered_by: r.try_get("entered_by")?,
        entered_at: r.try_get("entered_at")?,
        approved_by: r.try_get("approved_by")?,
        approved_at: r.try_get("approved_at")?,
        batch_id: r.try_get("batch_id")?,
    })
}

fn submission_of(r: &AnyRow) -> Result<Submission, sqlx::Error> {
    Ok(Submission {
        id: r.try_get("id")?,
        key: key_of(r)?,
        fields: fields_of(r)?,
        outlier: r.try_get("outlier")?,
        state: r.try_get("state")?,
        submitted_by: r.try_get("submitted_by")?,
        submitted_by_id: r.try_get("submitted_by_id")?,
        submitted_at: r.try_get("submitted_at")?,
        reviewed_by: r.try_get("reviewed_by")?,
        reviewed_at: r.try_get("reviewed_at")?,
        review_note: r.try_get("review_note")?,
        published: r.try_get("published_value")?,
    })
}

fn attributes_json(a: &Dims) -> String {
    serde_json::to_string(a).unwrap_or_else(|_| "{}".into())
}

/// A batch of writes (an import, a form, a computation), recorded with its summary.
pub async fn new_batch(
    conn: &mut AnyConnection,
    kind: &str,
    format: Option<&str>,
    file_name: Option<&str>,
    codelist: Option<&str>,
    actor: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO ind_batches (kind, format, file_name, codelist, actor, at, summary)
         VALUES ($1, $2, $3, $4, $5, $6, '{}') RETURNING id",
    )
    .bind(kind)
    .bind(format)
    .bind(file_name)
    .bind(codelist)
    .bind(actor)
    .bind(time_fmt::now())
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)
}

pub async fn finish_batch(
    conn: &mut AnyConnection,
    id: i64,
    summary: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE ind_batches SET summary = $1 WHERE id = $2")
        .bind(summary.to_string())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The stored state of the keys a write touches, loaded in one go.
#[derive(Debug, Default)]
pub struct Existing {
    published: HashMap<ValueKey, (i64, i64, Fields)>,
    open: HashMap<ValueKey, (i64, String, Fields)>,
}

impl Existing {
    /// Loads everything stored for these indicators.
    pub async fn load(
        conn: &mut AnyConnection,
        indicators: &[String],
    ) -> Result<Existing, sqlx::Error> {
        let mut e = Existing::default();
        if indicators.is_empty() {
            return Ok(e);
        }
        let mut sql = Sql::new("SELECT * FROM ind_values WHERE indicator_code IN (");
        sql.push_list(indicators.iter().map(String::as_str))
            .push(")");
        for r in sql.query().fetch_all(&mut *conn).await? {
            e.published.insert(
                key_of(&r)?,
                (r.try_get("id")?, r.try_get("version")?, fields_of(&r)?),
            );
        }
        let mut sql = Sql::new("SELECT * FROM ind_submissions WHERE indicator_code IN (");
        sql.push_list(indicators.iter().map(String::as_str))
            .push(")");
        for r in sql.query().fetch_all(&mut *conn).await? {
            e.open.insert(
                key_of(&r)?,
                (r.try_get("id")?, r.try_get("state")?, fields_of(&r)?),
            );
        }
        Ok(e)
    }

    /// What writing `fields` at `key` by `route` would do.
    pub fn decide(&self, key: &ValueKey, fields: &Fields, route: Route) -> Outcome {
        let published = self.published.get(key);
        match route {
            Route::Publish => match published {
                Some((_, _, f)) if f == fields => Outcome::Unchanged,
                Some(_) => Outcome::Updated,
                None => Outcome::Added,
            },
            Route::Submit => {
                if published.is_some_and(|(_, _, f)| f == fields) {
                    return Outcome::Unchanged;
                }
                match self.open.get(key) {
                    Some((_, state, f)) if state == "pending" && f == fields => Outcome::Unchanged,
                    _ => Outcome::Submitted,
                }
            }
        }
    }

    pub fn published_fields(&self, key: &ValueKey) -> Option<&Fields> {
        self.published.get(key).map(|(_, _, f)| f)
    }
}

/// Who writes, for the columns and history rows.
#[derive(Debug, Clone)]
pub struct Writer<'a> {
    pub actor: &'a str,
    pub user_id: Option<i64>,
    pub batch: Option<i64>,
    /// Set when a regional manager's approval publishes the value.
    pub approved_by: Option<&'a str>,
}

async fn history(
    conn: &mut AnyConnection,
    key: &ValueKey,
    version: Option<i64>,
    event: &str,
    fields: &Fields,
    w: &Writer<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ind_value_history (indicator_code, area_code, period, dims, source, version, event, data, batch_id, actor, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&key.indicator)
    .bind(&key.area)
    .bind(key.period.to_string())
    .bind(format_dims(&key.dims))
    .bind(&key.source)
    .bind(version)
    .bind(event)
    .bind(serde_json::to_string(fields).unwrap_or_default())
    .bind(w.batch)
    .bind(w.actor)
    .bind(time_fmt::now())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Writes one value by `route`, keeping `existing` up to date.
pub async fn write(
    conn: &mut AnyConnection,
    existing: &mut Existing,
    key: &ValueKey,
    fields: &Fields,
    route: Route,
    outlier: Option<&str>,
    w: &Writer<'_>,
) -> Result<Outcome, sqlx::Error> {
    let outcome = existing.decide(key, fields, route);
    let now = time_fmt::now();
    match outcome {
        Outcome::Unchanged => {}
        Outcome::Added | Outcome::Updated => {
            let version = existing.published.get(key).map(|p| p.1 + 1).unwrap_or(1);
            let id: i64 = sqlx::query(
                "INSERT INTO ind_values (indicator_code, area_code, period, period_start, dims, source, value, lower_bound,
                    upper_bound, obs_status, footnote, attributes, numerator, denominator, version, batch_id, entered_by,
                    entered_at, approved_by, approved_at)
                 VALUES ($1, $2, $3, $4, $5, $6, CAST($7 AS DOUBLE PRECISION), CAST($8 AS DOUBLE PRECISION),
                    CAST($9 AS DOUBLE PRECISION), $10, $11, $12, CAST($13 AS DOUBLE PRECISION),
                    CAST($14 AS DOUBLE PRECISION), $15, $16, $17, $18, $19, $20)
                 ON CONFLICT (indicator_code, area_code, period, dims, source) DO UPDATE SET value = CAST($7 AS DOUBLE PRECISION),
                    lower_bound = CAST($8 AS DOUBLE PRECISION), upper_bound = CAST($9 AS DOUBLE PRECISION), obs_status = $10,
                    footnote = $11, attributes = $12, numerator = CAST($13 AS DOUBLE PRECISION),
                    denominator = CAST($14 AS DOUBLE PRECISION), version = $15, batch_id = $16, entered_by = $17,
                    entered_at = $18, approved_by = $19, approved_at = $20
                 RETURNING id",
            )
            .persistent(false)
            .bind(&key.indicator)
            .bind(&key.area)
            .bind(key.period.to_string())
            .bind(key.period.start_date().to_string())
            .bind(format_dims(&key.dims))
            .bind(&key.source)
            .bind(fields.value)
            .bind(fields.lower)
            .bind(fields.upper)
            .bind(&fields.status)
            .bind(&fields.footnote)
            .bind(attributes_json(&fields.attributes))
            .bind(fields.numerator)
            .bind(fields.denominator)
            .bind(version)
            .bind(w.batch)
            .bind(w.actor)
            .bind(&now)
            .bind(w.approved_by)
            .bind(w.approved_by.map(|_| now.clone()))
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
            let event = if w.approved_by.is_some() {
                "approved"
            } else if outcome == Outcome::Added {
                "published"
            } else {
                "replaced"
            };
            history(conn, key, Some(version), event, fields, w).await?;
            existing
                .published
                .insert(key.clone(), (id, version, fields.clone()));
        }
        Outcome::Submitted => {
            let id: i64 = sqlx::query(
                "INSERT INTO ind_submissions (indicator_code, area_code, period, period_start, dims, source, value,
                    lower_bound, upper_bound, obs_status, footnote, attributes, numerator, denominator, outlier, state,
                    batch_id, submitted_by, submitted_by_id, submitted_at)
                 VALUES ($1, $2, $3, $4, $5, $6, CAST($7 AS DOUBLE PRECISION), CAST($8 AS DOUBLE PRECISION),
                    CAST($9 AS DOUBLE PRECISION), $10, $11, $12, CAST($13 AS DOUBLE PRECISION),
                    CAST($14 AS DOUBLE PRECISION), $15, 'pending', $16, $17, $18, $19)
                 ON CONFLICT (indicator_code, area_code, period, dims, source) DO UPDATE SET value = CAST($7 AS DOUBLE PRECISION),
                    lower_bound = CAST($8 AS DOUBLE PRECISION), upper_bound = CAST($9 AS DOUBLE PRECISION), obs_status = $10,
                    footnote = $11, attributes = $12, numerator = CAST($13 AS DOUBLE PRECISION),
                    denominator = CAST($14 AS DOUBLE PRECISION), outlier = $15, state = 'pending', batch_id = $16,
                    submitted_by = $17, submitted_by_id = $18, submitted_at = $19, reviewed_by = NULL,
                    reviewed_at = NULL, review_note = NULL
                 RETURNING id",
            )
            .persistent(false)
            .bind(&key.indicator)
            .bind(&key.area)
            .bind(key.period.to_string())
            .bind(key.period.start_date().to_string())
            .bind(format_dims(&key.dims))
            .bind(&key.source)
            .bind(fields.value)
            .bind(fields.lower)
            .bind(fields.upper)
            .bind(&fields.status)
            .bind(&fields.footnote)
            .bind(attributes_json(&fields.attributes))
            .bind(fields.numerator)
            .bind(fields.denominator)
            .bind(outlier)
            .bind(w.batch)
            .bind(w.actor)
            .bind(w.user_id)
            .bind(&now)
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
            history(conn, key, None, "submitted", fields, w).await?;
            existing
                .open
                .insert(key.clone(), (id, "pending".into(), fields.clone()));
        }
    }
    Ok(outcome)
}

/// Filters for reading published values.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub indicators: Vec<String>,
    /// KATO codes; empty: every area.
    pub areas: Vec<String>,
    pub from: Option<Period>,
    pub to: Option<Period>,
    /// Exactly these breakdowns.
    pub dims: Option<Dims>,
    pub source: Option<String>,
}

/// Published values matching the filter, ordered by indicator, area, breakdown,
/// source and period.
pub async fn published(db: &Db, f: &Filter) -> Result<Vec<StoredValue>, IndError> {
    let mut sql = Sql::new("SELECT * FROM ind_values WHERE 1 = 1");
    if !f.indicators.is_empty() {
        sql.push(" AND indicator_code IN (")
            .push_list(f.indicators.iter().map(String::as_str))
            .push(")");
    }
    if !f.areas.is_empty() {
        sql.push(" AND area_code IN (")
            .push_list(f.areas.iter().map(String::as_str))
            .push(")");
    }
    if let Some(p) = f.from {
        sql.push(" AND period_start >= ")
            .push_arg(p.start_date().to_string());
    }
    if let Some(p) = f.to {
        sql.push(" AND period_start <= ")
            .push_arg(p.end_date().to_string());
    }
    if let Some(d) = &f.dims {
        sql.push(" AND dims = ").push_arg(format_dims(d));
    }
    if let Some(s) = &f.source {
        sql.push(" AND source = ").push_arg(s.as_str());
    }
    sql.push(" ORDER BY indicator_code, area_code, dims, source, period_start, period");
    let rows = sql.query().fetch_all(db.reader()).await?;
    let mut out: Vec<StoredValue> = rows.iter().map(stored_of).collect::<Result<_, _>>()?;
    // period_start ties (2020 vs 2020-Q1): Period's own order.
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

/// One series: an indicator in an area for one breakdown and source, by period.
pub async fn series(
    db: &Db,
    indicator: &str,
    area: &str,
    dims: &Dims,
    source: &str,
) -> Result<Vec<StoredValue>, IndError> {
    published(
        db,
        &Filter {
            indicators: vec![indicator.into()],
            areas: vec![area.into()],
            dims: Some(dims.clone()),
            source: Some(source.into()),
            ..Filter::default()
        },
    )
    .await
}

/// The series an indicator has in an area: (breakdown, source, number of values,
/// latest period).
pub async fn series_list(
    db: &Db,
    indicator: &str,
    area: &str,
) -> Result<Vec<(Dims, String, i64, Period)>, IndError> {
    let rows = sqlx::query(
        "SELECT dims, source, COUNT(*) AS n, MAX(period_start) AS last FROM ind_values
         WHERE indicator_code = $1 AND area_code = $2 GROUP BY dims, source ORDER BY dims, source",
    )
    .bind(indicator)
    .bind(area)
    .fetch_all(db.reader())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let dims: String = r.try_get("dims")?;
        let last: String = r.try_get("last")?;
        let period = Period::parse(&last[..4])
            .map_err(|e| IndError::Store(bala_store::StoreError::Other(e.to_string())))?;
        out.push((
            parse_dims(&dims).map_err(|e| IndError::Store(bala_store::StoreError::Other(e)))?,
            r.try_get("source")?,
            r.try_get("n")?,
            period,
        ));
    }
    Ok(out)
}

/// Counts of published values per indicator (for the list page).
pub async fn counts(db: &Db) -> Result<HashMap<String, (i64, Option<String>)>, IndError> {
    let rows = sqlx::query(
        "SELECT indicator_code, COUNT(*) AS n, MAX(period) AS last FROM ind_values GROUP BY indicator_code",
    )
    .fetch_all(db.reader())
    .await?;
    let mut out = HashMap::new();
    for r in rows {
        out.insert(
            r.try_get("indicator_code")?,
            (r.try_get("n")?, r.try_get("last")?),
        );
    }
    Ok(out)
}

/// Every change of one key, oldest first: (event, version, value fields, actor, at).
pub async fn history_of(
    db: &Db,
    key: &ValueKey,
) -> Result<Vec<(String, Option<i64>, Fields, String, String)>, IndError> {
    let rows = sqlx::query(
        "SELECT event, version, data, actor, at FROM ind_value_history
         WHERE indicator_code = $1 AND area_code = $2 AND period = $3 AND dims = $4 AND source = $5 ORDER BY id",
    )
    .bind(&key.indicator)
    .bind(&key.area)
    .bind(key.period.to_string())
    .bind(format_dims(&key.dims))
    .bind(&key.source)
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let data: String = r.try_get("data")?;
            Ok((
                r.try_get("event")?,
                r.try_get("version")?,
                serde_json::from_str(&data).map_err(|e| decode_err("data", e))?,
                r.try_get("actor")?,
                r.try_get("at")?,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

const SUBMISSION_SELECT: &str = "SELECT s.*, v.value AS published_value FROM ind_submissions s
    LEFT JOIN ind_values v ON v.indicator_code = s.indicator_code AND v.area_code = s.area_code
        AND v.period = s.period AND v.dims = s.dims AND v.source = s.source";

/// Submissions waiting for approval in the areas of `scope`.
pub async fn pending(db: &Db, scope: &[AreaCode]) -> Result<Vec<Submission>, IndError> {
    let mut sql = Sql::new(SUBMISSION_SELECT);
    sql.push(" WHERE s.state = 'pending' AND ");
    bala_registry::scope::push_area_within(&mut sql, "s.area_code", scope);
    sql.push(" ORDER BY s.submitted_at, s.id");
    Ok(sql
        .query()
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(submission_of)
        .collect::<Result<_, _>>()?)
}

/// A user's own submissions (pending and rejected), newest first.
pub async fn submitted_by(db: &Db, user_id: i64) -> Result<Vec<Submission>, IndError> {
    let mut sql = Sql::new(SUBMISSION_SELECT);
    sql.push(" WHERE s.submitted_by_id = ").push_arg(user_id);
    sql.push(" ORDER BY s.submitted_at DESC, s.id DESC");
    Ok(sql
        .query()
        .fetch_all(db.reader())
        .await?
        .iter()
        .map(submission_of)
        .collect::<Result<_, _>>()?)
}

/// A decision on submissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Approve,
    Reject,
}

/// Approves or rejects submissions in the reviewer's areas. Every id must be a
/// pending submission within `scope`, else nothing is done and `NotFound` is
/// returned. A rejection needs a note. Approval publishes the value (a new
/// version if one was published), removes the submission and records both.
pub async fn review(
    db: &Db,
    actor: &Actor,
    scope: &[AreaCode],
    ids: &[i64],
    decision: Decision,
    note: Option<&str>,
) -> Result<usize, IndError> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if ids.is_empty() {
        return Err(
            bala_core::ValidationErrors::single(bala_core::FieldError::new(
                "ids",
                crate::exchange::codes::MISSING,
                "choose at least one value",
            ))
            .into(),
        );
    }
    if decision == Decision::Reject && note.is_none() {
        return Err(
            bala_core::ValidationErrors::single(bala_core::FieldError::new(
                "note",
                crate::exchange::codes::MISSING,
                "say why the values are rejected",
            ))
            .into(),
        );
    }
    let mut tx = db.begin().await?;
    let mut sql = Sql::new(SUBMISSION_SELECT);
    sql.push(" WHERE s.state = 'pending' AND s.id IN (")
        .push_list(ids.iter().copied())
        .push(") AND ");
    bala_registry::scope::push_area_within(&mut sql, "s.area_code", scope);
    let subs: Vec<Submission> = sql
        .query()
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(submission_of)
        .collect::<Result<_, _>>()?;
    let mut unique = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    if subs.len() != unique.len() {
        return Err(IndError::NotFound);
    }
    let indicators: Vec<String> = {
        let mut v: Vec<String> = subs.iter().map(|s| s.key.indicator.clone()).collect();
        v.sort();
        v.dedup();
        v
    };
    let mut existing = Existing::load(&mut tx, &indicators).await?;
    let w = Writer {
        actor: &actor.name,
        user_id: actor.id,
        batch: None,
        approved_by: Some(&actor.name),
    };
    let now = time_fmt::now();
    for s in &subs {
        match decision {
            Decision::Approve => {
                write(
                    &mut tx,
                    &mut existing,
                    &s.key,
                    &s.fields,
                    Route::Publish,
                    None,
                    &w,
                )
                .await?;
                sqlx::query("DELETE FROM ind_submissions WHERE id = $1")
                    .bind(s.id)
                    .execute(&mut *tx)
                    .await?;
            }
            Decision::Reject => {
                sqlx::query(
                    "UPDATE ind_submissions SET state = 'rejected', reviewed_by = $1, reviewed_at = $2, review_note = $3 WHERE id = $4",
                )
                .bind(&actor.name)
                .bind(&now)
                .bind(note)
                .bind(s.id)
                .execute(&mut *tx)
                .await?;
                history(&mut tx, &s.key, None, "rejected", &s.fields, &w).await?;
            }
        }
    }
    let action = match decision {
        Decision::Approve => "indicators.values.approve",
        Decision::Reject => "indicators.values.reject",
    };
    audit::append(
        &mut tx,
        &NewEntry::by(actor, action, "ind_submission", subs.len()).with_details(
            serde_json::json!({
                "ids": subs.iter().map(|s| s.id).collect::<Vec<_>>(),
                "indicators": indicators,
                "note": note.is_some(),
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(subs.len())
}

/// Whether a channel may write values for an area: the area must be inside one
/// of the user's areas.
pub async fn may_write(db: &Db, channel: &Channel, area: &str) -> Result<bool, IndError> {
    match channel {
        Channel::System => Ok(true),
        Channel::User { scope, .. } => Ok(bala_registry::areas::is_within(db, area, scope).await?),
    }
}

//! Dashboards users compose from indicator panels and share.
//!
//! A dashboard has an owner. The owner edits it; it can be shared with everyone
//! who sees aggregates, or with named users, who may view it. A dashboard not
//! shared with a user is, for that user, not found.

use super::IndError;
use crate::model::{format_dims, parse_dims, Dims};
use bala_core::{FieldError, ValidationErrors};
use bala_store::audit::{self, Actor, NewEntry};
use bala_store::sqlx::{self, any::AnyRow, Row};
use bala_store::{time_fmt, Db};
use serde::{Deserialize, Serialize};

/// What a panel shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PanelKind {
    /// Time series with target and projection.
    Series,
    /// Choropleth map of regions, latest period.
    Map,
    /// Regions ranked, latest period.
    Ranking,
    /// Progress to targets (AARR, status).
    Progress,
}

impl PanelKind {
    pub const ALL: [PanelKind; 4] = [
        PanelKind::Series,
        PanelKind::Map,
        PanelKind::Ranking,
        PanelKind::Progress,
    ];
    pub fn code(self) -> &'static str {
        match self {
            PanelKind::Series => "series",
            PanelKind::Map => "map",
            PanelKind::Ranking => "ranking",
            PanelKind::Progress => "progress",
        }
    }
    pub fn parse(s: &str) -> Option<PanelKind> {
        PanelKind::ALL.into_iter().find(|k| k.code() == s.trim())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Panel {
    pub id: i64,
    pub position: i64,
    pub kind: PanelKind,
    pub indicator: String,
    pub area: String,
    pub dims: Dims,
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dashboard {
    pub id: i64,
    pub owner_id: i64,
    pub owner: String,
    pub title: String,
    pub shared_all: bool,
    /// Usernames it is shared with.
    pub shared_with: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    pub panels: Vec<Panel>,
}

fn dash_row(r: &AnyRow) -> Result<Dashboard, sqlx::Error> {
    Ok(Dashboard {
        id: r.try_get("id")?,
        owner_id: r.try_get("owner_id")?,
        owner: r.try_get("owner")?,
        title: r.try_get("title")?,
        shared_all: r.try_get::<i64, _>("shared_all")? != 0,
        shared_with: vec![],
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        panels: vec![],
    })
}

const SELECT: &str =
    "SELECT d.*, u.display_name AS owner FROM ind_dashboards d JOIN users u ON u.id = d.owner_id";

fn check_title(title: &str) -> Result<String, ValidationErrors> {
    let t = title.trim();
    if t.is_empty() || t.chars().count() > 120 {
        Err(ValidationErrors::single(FieldError::new(
            "title",
            crate::exchange::codes::MISSING,
            "a title of 1 to 120 characters",
        )))
    } else {
        Ok(t.to_string())
    }
}

/// The dashboards a user owns or that are shared with them, newest first.
pub async fn visible_to(db: &Db, user_id: i64) -> Result<Vec<Dashboard>, IndError> {
    let rows = sqlx::query(&format!(
        "{SELECT} WHERE d.owner_id = $1 OR d.shared_all = 1
           OR d.id IN (SELECT dashboard_id FROM ind_dashboard_shares WHERE user_id = $1)
         ORDER BY d.updated_at DESC, d.id DESC"
    ))
    .bind(user_id)
    .fetch_all(db.reader())
    .await?;
    Ok(rows.iter().map(dash_row).collect::<Result<_, _>>()?)
}

/// One dashboard with its panels, if the user may see it.
pub async fn get(db: &Db, user_id: i64, id: i64) -> Result<Dashboard, IndError> {
    let mut d = visible_to(db, user_id)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or(IndError::NotFound)?;
    d.panels = sqlx::query(
        "SELECT * FROM ind_dashboard_items WHERE dashboard_id = $1 ORDER BY position, id",
    )
    .bind(id)
    .fetch_all(db.reader())
    .await?
    .iter()
    .map(|r| {
        let kind: String = r.try_get("kind")?;
        let dims: String = r.try_get("dims")?;
        Ok(Panel {
            id: r.try_get("id")?,
            position: r.try_get("position")?,
            kind: PanelKind::parse(&kind)
                .ok_or_else(|| sqlx::Error::Decode(format!("panel kind {kind}").into()))?,
            indicator: r.try_get("indicator_code")?,
            area: r.try_get("area_code")?,
            dims: parse_dims(&dims).map_err(|e| sqlx::Error::Decode(e.into()))?,
            source: r.try_get("source")?,
        })
    })
    .collect::<Result<_, sqlx::Error>>()?;
    d.shared_with = sqlx::query(
        "SELECT u.username FROM ind_dashboard_shares s JOIN users u ON u.id = s.user_id WHERE s.dashboard_id = $1 ORDER BY u.username",
    )
    .bind(id)
    .fetch_all(db.reader())
    .await?
    .iter()
    .map(|r| r.try_get(0))
    .collect::<Result<_, _>>()?;
    Ok(d)
}

/// The dashboard, if `user_id` owns it (only owners change dashboards).
async fn owned(db: &Db, user_id: i64, id: i64) -> Result<Dashboard, IndError> {
    let d = get(db, user_id, id).await?;
    if d.owner_id != user_id {
        return Err(IndError::NotFound);
    }
    Ok(d)
}

pub async fn create(db: &Db, actor: &Actor, owner_id: i64, title: &str) -> Result<i64, IndError> {
    let title = check_title(title)?;
    let now = time_fmt::now();
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO ind_dashboards (owner_id, title, shared_all, created_at, updated_at) VALUES ($1, $2, 0, $3, $3) RETURNING id",
    )
    .bind(owner_id)
    .bind(&title)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    audit::append(
        &mut tx,
        &NewEntry::by(actor, "indicators.dashboard.create", "ind_dashboard", id),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// What a new panel shows.
#[derive(Debug, Clone)]
pub struct NewPanel<'a> {
    pub kind: PanelKind,
    pub indicator: &'a str,
    pub area: &'a str,
    pub dims: &'a Dims,
    pub source: Option<&'a str>,
}

/// A new panel at the end; the indicator and area must exist.
pub async fn add_panel(
    db: &Db,
    actor: &Actor,
    user_id: i64,
    id: i64,
    p: &NewPanel<'_>,
) -> Result<(), IndError> {
    let (kind, indicator, area, dims, source) = (p.kind, p.indicator, p.area, p.dims, p.source);
    let d = owned(db, user_id, id).await?;
    let mut errors = ValidationErrors::new();
    if super::registry::get(db, indicator).await.is_err() {
        errors.push(
            "indicator",
            crate::exchange::codes::UNMAPPED,
            format!("no indicator {indicator}"),
        );
    }
    if bala_registry::areas::get(db, area)
        .await
        .map_err(|e| IndError::Store(bala_store::StoreError::Other(e.to_string())))?
        .is_none()
    {
        errors.push("area", "err-area-unknown", format!("no area {area}"));
    }
    errors.into_result()?;
    let position = d.panels.iter().map(|p| p.position).max().unwrap_or(0) + 1;
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO ind_dashboard_items (dashboard_id, position, kind, indicator_code, area_code, dims, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(position)
    .bind(kind.code())
    .bind(indicator)
    .bind(area)
    .bind(format_dims(dims))
    .bind(source)
    .execute(&mut *tx)
    .await?;
    touch(&mut tx, id).await?;
    audit::append(
        &mut tx,
        &NewEntry::by(actor, "indicators.dashboard.panel.add", "ind_dashboard", id).with_details(
            serde_json::json!({"kind": kind.code(), "indicator": indicator, "area": area}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn touch(conn: &mut bala_store::sqlx::AnyConnection, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE ind_dashboards SET updated_at = $1 WHERE id = $2")
        .bind(time_fmt::now())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn remove_panel(
    db: &Db,
    actor: &Actor,
    user_id: i64,
    id: i64,
    panel: i64,
) -> Result<(), IndError> {
    owned(db, user_id, id).await?;
    let mut tx = db.begin().await?;
    let n = sqlx::query("DELETE FROM ind_dashboard_items WHERE id = $1 AND dashboard_id = $2")
        .bind(panel)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(IndError::NotFound);
    }
    touch(&mut tx, id).await?;
    audit::append(
        &mut tx,
        &NewEntry::by(
            actor,
            "indicators.dashboard.panel.remove",
            "ind_dashboard",
            id,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Shares with everyone (`all`) and/or the named users (replacing earlier names).
/// Unknown usernames are an error naming them.
pub async fn share(
    db: &Db,
    actor: &Actor,
    user_id: i64,
    id: i64,
    all: bool,
    usernames: &[String],
) -> Result<(), IndError> {
    owned(db, user_id, id).await?;
    let mut ids = Vec::new();
    let mut errors = ValidationErrors::new();
    for name in usernames.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
        match bala_access::users::find_by_username(db, name).await {
            Ok(Some((u, _))) if u.id != user_id => ids.push(u.id),
            Ok(Some(_)) => {}
            _ => errors.push(
                "users",
                "indicators-unknown-user",
                format!("no user named '{name}'"),
            ),
        }
    }
    errors.into_result()?;
    ids.sort_unstable();
    ids.dedup();
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE ind_dashboards SET shared_all = $1 WHERE id = $2")
        .bind(all as i64)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM ind_dashboard_shares WHERE dashboard_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    for uid in &ids {
        sqlx::query("INSERT INTO ind_dashboard_shares (dashboard_id, user_id) VALUES ($1, $2)")
            .bind(id)
            .bind(uid)
            .execute(&mut *tx)
            .await?;
    }
    touch(&mut tx, id).await?;
    audit::append(
        &mut tx,
        &NewEntry::by(actor, "indicators.dashboard.share", "ind_dashboard", id)
            .with_details(serde_json::json!({"all": all, "users": ids.len()})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete(db: &Db, actor: &Actor, user_id: i64, id: i64) -> Result<(), IndError> {
    owned(db, user_id, id).await?;
    let mut tx = db.begin().await?;
    for sql in [
        "DELETE FROM ind_dashboard_items WHERE dashboard_id = $1",
        "DELETE FROM ind_dashboard_shares WHERE dashboard_id = $1",
        "DELETE FROM ind_dashboards WHERE id = $1",
    ] {
        sqlx::query(sql).bind(id).execute(&mut *tx).await?;
    }
    audit::append(
        &mut tx,
        &NewEntry::by(actor, "indicators.dashboard.delete", "ind_dashboard", id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

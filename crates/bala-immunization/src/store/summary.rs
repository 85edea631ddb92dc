//! One child's immunization situation in three facts, for other pillars (the
//! welfare pillar's cross-pillar alerts read it through its
//! `ImmunizationSource` trait, wired in the web layer).
//!
//! The facts come from the same engine as the card, so an alert never says
//! "overdue" about a dose the card shows as given.

use super::{calendars, facts, Error};
use crate::forecast::{self, SeriesStatus, DTP};
use bala_core::date::age_months;
use bala_core::Date;
use bala_store::sqlx::{self, Row};
use bala_store::Db;
use serde::Serialize;

/// Level of a district in the area tree (republic 0, region 1, district 2).
const DISTRICT_LEVEL: i64 = 2;

/// What the immunization register knows about one child on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChildSummary {
    /// Registered for immunization: the polyclinic has started the child's
    /// card, i.e. at least one dose (not entered in error), refusal or
    /// contraindication is recorded. A refusal or contraindication counts
    /// because it shows a nurse has seen the family and is following the
    /// child; a child with none of the three has never reached the
    /// immunization service, which is what the newborn rule looks for.
    pub registered: bool,
    /// Zero-dose (Gavi, IA2030: no valid DTP1 by 12 months of age, judged from
    /// the first birthday on) *and still without any valid DTP dose* on the
    /// day: the outreach question is "who is still unreached", so a child given
    /// DTP1 late no longer counts here; their remaining doses show in
    /// `max_days_overdue` instead. Like the zero-dose list, only children aged
    /// 12–59 months are judged: an older child's empty card more often means
    /// a paper history never entered than a child never reached.
    pub zero_dose: bool,
    /// Days overdue of the most overdue next dose over every series (0 when
    /// none is). Refused, contraindicated and aged-out series are not overdue,
    /// exactly as on the card and the due lists.
    pub max_days_overdue: u32,
}

/// Whether the district of `area_code` records doses in Bala at all: at least
/// one dose of a child living anywhere in the district. Where it does not,
/// an empty card means "not entered here", not "not vaccinated", so
/// [`child`] reports nothing rather than a false zero-dose child.
///
/// Cost: one probe of the index `imm_doses_area` per area of the district.
pub async fn district_records_doses(db: &Db, area_code: &str) -> Result<bool, Error> {
    let district: Option<String> = sqlx::query(
        "SELECT a.code FROM area_closure c JOIN areas a ON a.code = c.ancestor
         WHERE c.descendant = $1 AND a.level <= $2 ORDER BY a.level DESC LIMIT 1",
    )
    .bind(area_code)
    .bind(DISTRICT_LEVEL)
    .fetch_optional(db.reader())
    .await?
    .map(|r| r.try_get(0))
    .transpose()?;
    let Some(district) = district else {
        return Ok(false);
    };
    let any = sqlx::query(
        // CROSS JOIN: SQLite must start from the district's areas, not from the doses.
        "SELECT d.id FROM area_closure c CROSS JOIN imm_doses d
         WHERE c.ancestor = $1 AND d.area_code = c.descendant LIMIT 1",
    )
    .bind(&district)
    .fetch_optional(db.reader())
    .await?;
    Ok(any.is_some())
}

/// The child's summary on `on`, or `None` when it cannot be known: no such
/// (unmerged) person, an unreadable birth date, or a district that does not
/// record doses in Bala (see [`district_records_doses`]). Not audited: it is
/// read by the system for rules, not shown to a user.
pub async fn child(db: &Db, person_id: i64, on: Date) -> Result<Option<ChildSummary>, Error> {
    let Some(p) = sqlx::query("SELECT area_code FROM people WHERE id = $1 AND merged_into IS NULL")
        .bind(person_id)
        .fetch_optional(db.reader())
        .await?
    else {
        return Ok(None);
    };
    let area: String = p.try_get(0)?;
    if !district_records_doses(db, &area).await? {
        return Ok(None);
    }
    let cals = calendars::all(db).await?;
    let cal = calendars::in_force(&cals, on);
    let mut conn = db.reader().acquire().await?;
    let Some(record) = facts::child_record(&mut conn, person_id).await? else {
        return Ok(None);
    };
    drop(conn);
    let fc = forecast::forecast(cal, &record, on);
    let registered = !record.administrations.is_empty()
        || !record.refusals.is_empty()
        || !record.contraindications.is_empty();
    let zero_dose = (12..60).contains(&age_months(record.birth, on))
        && forecast::is_zero_dose(record.birth, &fc.evaluations, on)
        && forecast::valid_dose_count(&fc.evaluations, DTP) == 0;
    let max_days_overdue = fc
        .series
        .iter()
        .filter(|s| s.status == SeriesStatus::Overdue)
        .filter_map(|s| s.next.as_ref().and_then(|n| n.days_overdue))
        .max()
        .unwrap_or(0);
    Ok(Some(ChildSummary {
        registered,
        zero_dose,
        max_days_overdue: u32::try_from(max_days_overdue.max(0)).unwrap_or(u32::MAX),
    }))
}

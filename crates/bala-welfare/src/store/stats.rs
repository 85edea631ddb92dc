//! Figures computed from the pillar's own data: the supervisor's dashboard
//! (identified, within the supervisor's areas) and de-identified statistics and
//! indicator values (counts only, small cells suppressed by
//! [`crate::suppression`]).

use super::{now, Result};
use crate::suppression::{suppress_1d, Cell, Policy};
use bala_core::AreaCode;
use bala_registry::scope::push_area_within;
use bala_store::{Db, Row, Sql};
use serde::Serialize;

/// One worker's load, as their supervisor sees it.
#[derive(Debug, Clone, Serialize)]
pub struct WorkerLoad {
    pub user_id: i64,
    pub name: String,
    pub open_cases: i64,
    pub immediate_danger: i64,
    pub overdue_tasks: i64,
    /// Cases with a deadline that got a first response.
    pub responded: i64,
    pub responded_late: i64,
    /// Median hours from registration to first response, over responded cases.
    pub median_response_hours: Option<f64>,
}

/// A case past its first-response deadline (or close to it).
#[derive(Debug, Clone, Serialize)]
pub struct Escalation {
    pub case_id: i64,
    pub risk: String,
    pub area_code: String,
    pub worker: String,
    pub registered_at: String,
    pub due_at: String,
    pub overdue: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub workers: Vec<WorkerLoad>,
    /// Immediate-danger (and other) cases without a first response past the deadline, then those due soon.
    pub escalations: Vec<Escalation>,
    pub pending_referrals: i64,
    pub overdue_case_referrals: i64,
    pub open_alerts: i64,
}

fn median(mut xs: Vec<f64>) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let n = xs.len();
    Some(if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    })
}

fn hours_between(a: &str, b: &str) -> Option<f64> {
    let a = bala_store::time_fmt::parse(a)?;
    let b = bala_store::time_fmt::parse(b)?;
    Some((b - a).whole_minutes() as f64 / 60.0)
}

/// The supervisor's dashboard over the cases of `scope`.
pub async fn dashboard(db: &Db, scope: &[AreaCode]) -> Result<Dashboard> {
    let (at, _) = now();
    let today = bala_core::date::iso(super::today());
    let mut sql = Sql::new(
        "SELECT c.id, c.assigned_to, u.display_name, c.state, c.risk, c.area_code, c.registered_at, c.response_due_at,
                c.first_response_at, c.response_escalate_at,
                (SELECT COUNT(*) FROM welfare_visits v WHERE v.case_id = c.id AND v.status = 'planned' AND v.due_on < ",
    );
    sql.push_arg(today.clone()).push(
        ") + (SELECT COUNT(*) FROM welfare_plan_items i WHERE i.case_id = c.id AND i.status IN ('planned', 'in_progress') AND i.due_on < ",
    );
    sql.push_arg(today)
        .push(") FROM welfare_cases c JOIN users u ON u.id = c.assigned_to WHERE ");
    push_area_within(&mut sql, "c.area_code", scope);
    sql.push(" ORDER BY u.display_name, c.id");
    let rows = sql.query().fetch_all(db.reader()).await?;
    let mut workers: Vec<(WorkerLoad, Vec<f64>)> = Vec::new();
    let mut escalations = Vec::new();
    for r in &rows {
        let id: i64 = r.try_get(0)?;
        let user_id: i64 = r.try_get(1)?;
        let name: String = r.try_get(2)?;
        let state: String = r.try_get(3)?;
        let risk: String = r.try_get(4)?;
        let area: String = r.try_get(5)?;
        let registered: String = r.try_get(6)?;
        let due: Option<String> = r.try_get(7)?;
        let responded: Option<String> = r.try_get(8)?;
        let escalate: Option<String> = r.try_get(9)?;
        let overdue_tasks: i64 = r.try_get(10)?;
        let idx = match workers.iter().position(|w| w.0.user_id == user_id) {
            Some(i) => i,
            None => {
                workers.push((
                    WorkerLoad {
                        user_id,
                        name: name.clone(),
                        open_cases: 0,
                        immediate_danger: 0,
                        overdue_tasks: 0,
                        responded: 0,
                        responded_late: 0,
                        median_response_hours: None,
                    },
                    Vec::new(),
                ));
                workers.len() - 1
            }
        };
        let (w, hours) = &mut workers[idx];
        let open = state != "closed";
        if open {
            w.open_cases += 1;
            w.overdue_tasks += overdue_tasks;
            if risk == "immediate_danger" {
                w.immediate_danger += 1;
            }
        }
        if let (Some(d), Some(resp)) = (&due, &responded) {
            w.responded += 1;
            if resp > d {
                w.responded_late += 1;
            }
            if let Some(h) = hours_between(&registered, resp) {
                hours.push(h);
            }
        }
        if let (true, None, Some(d), Some(e)) = (open, &responded, &due, &escalate) {
            if e.as_str() <= at.as_str() {
                escalations.push(Escalation {
                    case_id: id,
                    risk,
                    area_code: area,
                    worker: name,
                    registered_at: registered,
                    due_at: d.clone(),
                    overdue: d.as_str() < at.as_str(),
                });
            }
        }
    }
    escalations.sort_by(|a, b| {
        b.overdue
            .cmp(&a.overdue)
            .then((b.risk == "immediate_danger").cmp(&(a.risk == "immediate_danger")))
            .then(a.due_at.cmp(&b.due_at))
    });
    let workers = workers
        .into_iter()
        .map(|(mut w, hours)| {
            w.median_response_hours = median(hours);
            w
        })
        .collect();

    let count = |mut sql: Sql| async move {
        let r = sql.push("").query().fetch_one(db.reader()).await?;
        Ok::<i64, super::WelfareError>(r.try_get(0)?)
    };
    let mut pending = Sql::new(
        "SELECT COUNT(*) FROM welfare_referrals r WHERE r.to_agency = 'social_services' AND r.case_id IS NULL AND r.state = 'sent' AND ",
    );
    push_area_within(&mut pending, "r.area_code", scope);
    let respond_by = bala_store::time_fmt::format(
        time::OffsetDateTime::now_utc()
            - time::Duration::days(
                crate::case::ReferralPolicy::default()
                    .respond_within_days
                    .into(),
            ),
    );
    let complete_by = bala_store::time_fmt::format(
        time::OffsetDateTime::now_utc()
            - time::Duration::days(
                crate::case::ReferralPolicy::default()
                    .complete_within_days
                    .into(),
            ),
    );
    let mut overdue = Sql::new("SELECT COUNT(*) FROM welfare_referrals r WHERE r.case_id IS NOT NULL AND ((r.state = 'sent' AND r.sent_at < ");
    overdue
        .push_arg(respond_by)
        .push(") OR (r.state = 'accepted' AND r.accepted_at < ")
        .push_arg(complete_by)
        .push(")) AND ");
    push_area_within(&mut overdue, "r.area_code", scope);
    let mut alerts = Sql::new(
        "SELECT COUNT(*) FROM welfare_alerts a WHERE a.status IN ('open', 'acknowledged') AND ",
    );
    push_area_within(&mut alerts, "a.area_code", scope);
    Ok(Dashboard {
        workers,
        escalations,
        pending_referrals: count(pending).await?,
        overdue_case_referrals: count(overdue).await?,
        open_alerts: count(alerts).await?,
    })
}

/// One de-identified table: labelled categories and the total, suppressed.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// What is counted (a Fluent message id on the page).
    pub title: &'static str,
    /// Category codes (levels, concern codes, area codes, …).
    pub labels: Vec<String>,
    pub cells: Vec<Cell>,
    pub total: Cell,
}

fn table(title: &'static str, counts: Vec<(String, u64)>, policy: &Policy) -> Table {
    let values: Vec<u64> = counts.iter().map(|c| c.1).collect();
    let t = suppress_1d(&values, policy);
    Table {
        title,
        labels: counts.into_iter().map(|c| c.0).collect(),
        cells: t.cells,
        total: t.total,
    }
}

async fn grouped(db: &Db, mut sql: Sql) -> Result<Vec<(String, u64)>> {
    let rows = sql.push("").query().fetch_all(db.reader()).await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>(0)?,
                r.try_get::<i64, _>(1)?.max(0) as u64,
            ))
        })
        .collect()
}

/// Orders counts by a fixed list of codes (missing ones as 0), then any others.
fn in_order(found: Vec<(String, u64)>, order: &[&str]) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = order
        .iter()
        .map(|c| {
            let n = found.iter().find(|f| f.0 == *c).map_or(0, |f| f.1);
            (c.to_string(), n)
        })
        .collect();
    out.extend(found.into_iter().filter(|f| !order.contains(&f.0.as_str())));
    out
}

/// The period a statistic covers: a calendar year, or everything.
fn push_period(sql: &mut Sql, column: &str, year: Option<i32>) {
    if let Some(y) = year {
        sql.push(" AND ")
            .push(column)
            .push(" >= ")
            .push_arg(format!("{y:04}-01-01"));
        sql.push(" AND ")
            .push(column)
            .push(" < ")
            .push_arg(format!("{:04}-01-01", y + 1));
    }
}

/// De-identified statistics over `scope` (and a year, if given).
pub async fn statistics(db: &Db, scope: &[AreaCode], year: Option<i32>) -> Result<Vec<Table>> {
    let policy = Policy::default();
    let levels = ["low", "medium", "high", "immediate_danger"];

    let mut s = Sql::new("SELECT s.level, COUNT(*) FROM welfare_screenings s WHERE ");
    push_area_within(&mut s, "s.area_code", scope);
    push_period(&mut s, "s.screened_at", year);
    s.push(" GROUP BY s.level");
    let screenings = in_order(grouped(db, s).await?, &levels);

    let cases_where = |select: &str, group: &str, period_col: &str| {
        let mut q = Sql::new(select);
        push_area_within(&mut q, "c.area_code", scope);
        push_period(&mut q, period_col, year);
        q.push(group);
        q
    };
    let by_risk = grouped(
        db,
        cases_where(
            "SELECT c.risk, COUNT(*) FROM welfare_cases c WHERE ",
            " GROUP BY c.risk",
            "c.registered_at",
        ),
    )
    .await?;
    let all_cases = grouped(
        db,
        cases_where(
            "SELECT c.concerns, COUNT(*) FROM welfare_cases c WHERE ",
            " GROUP BY c.concerns",
            "c.registered_at",
        ),
    )
    .await?;
    // A case counts under its first (main) concern, so the table adds up to the cases.
    let mut by_concern: Vec<(String, u64)> = Vec::new();
    for (concerns, n) in all_cases {
        let main = concerns.split(',').next().unwrap_or("other").to_string();
        match by_concern.iter_mut().find(|c| c.0 == main) {
            Some(c) => c.1 += n,
            None => by_concern.push((main, n)),
        }
    }
    let by_concern = in_order(by_concern, crate::vocab::CONCERNS);
    let by_area = grouped(
        db,
        cases_where(
            "SELECT c.area_code, COUNT(*) FROM welfare_cases c WHERE ",
            " GROUP BY c.area_code ORDER BY c.area_code",
            "c.registered_at",
        ),
    )
    .await?;
    let outcomes = grouped(
        db,
        cases_where(
            "SELECT c.closure_reason, COUNT(*) FROM welfare_cases c WHERE c.state = 'closed' AND ",
            " GROUP BY c.closure_reason",
            "c.closed_at",
        ),
    )
    .await?;
    let reasons: Vec<String> = crate::case::ClosureReason::ALL
        .iter()
        .map(super::code_of)
        .collect();
    let reasons: Vec<&str> = reasons.iter().map(String::as_str).collect();
    let outcomes = in_order(outcomes, &reasons);

    // Time to first response, in bands, over cases with a deadline.
    let mut q = Sql::new(
        "SELECT c.registered_at, c.first_response_at FROM welfare_cases c WHERE c.response_due_at IS NOT NULL AND ",
    );
    push_area_within(&mut q, "c.area_code", scope);
    push_period(&mut q, "c.registered_at", year);
    let mut bands = vec![
        ("within_24h".to_string(), 0u64),
        ("within_72h".to_string(), 0),
        ("within_7d".to_string(), 0),
        ("later".to_string(), 0),
        ("none_yet".to_string(), 0),
    ];
    for r in q.query().fetch_all(db.reader()).await? {
        let reg: String = r.try_get(0)?;
        let resp: Option<String> = r.try_get(1)?;
        let i = match resp.as_deref().and_then(|x| hours_between(&reg, x)) {
            None => 4,
            Some(h) if h <= 24.0 => 0,
            Some(h) if h <= 72.0 => 1,
            Some(h) if h <= 168.0 => 2,
            Some(_) => 3,
        };
        bands[i].1 += 1;
    }

    Ok(vec![
        table("welfare-stat-screenings-by-level", screenings, &policy),
        table(
            "welfare-stat-cases-by-risk",
            in_order(by_risk, &levels),
            &policy,
        ),
        table("welfare-stat-cases-by-concern", by_concern, &policy),
        table("welfare-stat-cases-by-area", by_area, &policy),
        table("welfare-stat-cases-by-outcome", outcomes, &policy),
        table("welfare-stat-first-response", bands, &policy),
    ])
}

/// An indicator value computed from Bala's own data, for the indicator registry.
#[derive(Debug, Clone, Serialize)]
pub struct IndicatorValue {
    /// Indicator code (see [`INDICATORS`]).
    pub indicator: &'static str,
    /// KATO code of the area the value describes.
    pub area_code: String,
    /// Calendar year.
    pub period: String,
    /// The value, absent when suppressed.
    pub value: Option<f64>,
    pub unit: &'static str,
    /// `ok`, or `suppressed` (fewer than five children behind it).
    pub status: &'static str,
}

/// The indicators this pillar publishes: (code, unit, definition).
pub const INDICATORS: &[(&str, &str, &str)] = &[
    (
        "WELFARE_SCREENINGS",
        "count",
        "Screenings of children for a difficult life situation",
    ),
    (
        "WELFARE_SCREENED_HIGH_RISK",
        "count",
        "Screenings with a high risk or immediate danger result",
    ),
    (
        "WELFARE_CASES_OPENED",
        "count",
        "Child-protection cases opened",
    ),
    (
        "WELFARE_CASES_CLOSED_GOALS",
        "count",
        "Cases closed with the plan's goals achieved",
    ),
    (
        "WELFARE_IMMEDIATE_RESPONSE_24H",
        "percent",
        "Share of immediate-danger cases with a first response within 24 hours",
    ),
];

/// Indicator values per area (as recorded: districts) for one year, with small
/// counts suppressed; the percentage is suppressed when fewer than five cases
/// are behind it.
pub async fn indicator_values(
    db: &Db,
    scope: &[AreaCode],
    year: i32,
) -> Result<Vec<IndicatorValue>> {
    let policy = Policy::default();
    let period = format!("{year:04}");
    let mut out = Vec::new();
    let count_by_area = |select: &str, col: &str, extra: &str| {
        let mut q = Sql::new(select);
        q.push(extra);
        push_area_within(&mut q, col, scope);
        q
    };
    let specs: [(&'static str, Sql, &str); 4] = [
        (
            "WELFARE_SCREENINGS",
            count_by_area(
                "SELECT s.area_code, COUNT(*) FROM welfare_screenings s WHERE ",
                "s.area_code",
                "",
            ),
            "s.screened_at",
        ),
        (
            "WELFARE_SCREENED_HIGH_RISK",
            count_by_area(
                "SELECT s.area_code, COUNT(*) FROM welfare_screenings s WHERE ",
                "s.area_code",
                "s.level IN ('high', 'immediate_danger') AND ",
            ),
            "s.screened_at",
        ),
        (
            "WELFARE_CASES_OPENED",
            count_by_area(
                "SELECT c.area_code, COUNT(*) FROM welfare_cases c WHERE ",
                "c.area_code",
                "",
            ),
            "c.registered_at",
        ),
        (
            "WELFARE_CASES_CLOSED_GOALS",
            count_by_area(
                "SELECT c.area_code, COUNT(*) FROM welfare_cases c WHERE ",
                "c.area_code",
                "c.closure_reason = 'goals_achieved' AND ",
            ),
            "c.closed_at",
        ),
    ];
    for (code, mut sql, col) in specs {
        push_period(&mut sql, col, Some(year));
        let prefix = col.split('.').next().unwrap_or("c");
        sql.push(&format!(
            " GROUP BY {prefix}.area_code ORDER BY {prefix}.area_code"
        ));
        let counts = grouped(db, sql).await?;
        let t = suppress_1d(&counts.iter().map(|c| c.1).collect::<Vec<_>>(), &policy);
        for ((area, _), cell) in counts.iter().zip(t.cells) {
            out.push(IndicatorValue {
                indicator: code,
                area_code: area.clone(),
                period: period.clone(),
                value: cell.value().map(|v| v as f64),
                unit: "count",
                status: if cell.is_suppressed() {
                    "suppressed"
                } else {
                    "ok"
                },
            });
        }
    }
    let mut q = Sql::new(
        "SELECT c.area_code, c.response_due_at, c.first_response_at FROM welfare_cases c WHERE c.risk = 'immediate_danger' AND ",
    );
    push_area_within(&mut q, "c.area_code", scope);
    push_period(&mut q, "c.registered_at", Some(year));
    q.push(" ORDER BY c.area_code");
    let mut per_area: Vec<(String, u64, u64)> = Vec::new();
    for r in q.query().fetch_all(db.reader()).await? {
        let area: String = r.try_get(0)?;
        let due: Option<String> = r.try_get(1)?;
        let resp: Option<String> = r.try_get(2)?;
        let on_time = matches!((&due, &resp), (Some(d), Some(x)) if x <= d);
        match per_area.iter_mut().find(|a| a.0 == area) {
            Some(a) => {
                a.1 += 1;
                a.2 += u64::from(on_time);
            }
            None => per_area.push((area, 1, u64::from(on_time))),
        }
    }
    for (area, total, on_time) in per_area {
        let shown = total >= policy.threshold;
        out.push(IndicatorValue {
            indicator: "WELFARE_IMMEDIATE_RESPONSE_24H",
            area_code: area,
            period: period.clone(),
            value: shown.then(|| (on_time as f64 * 1000.0 / total as f64).round() / 10.0),
            unit: "percent",
            status: if shown { "ok" } else { "suppressed" },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5.0]), Some(5.0));
        assert_eq!(median(vec![9.0, 1.0, 5.0]), Some(5.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }

    #[test]
    fn ordering_fills_missing_codes() {
        let got = in_order(vec![("high".into(), 3), ("x".into(), 1)], &["low", "high"]);
        assert_eq!(
            got,
            vec![("low".into(), 0), ("high".into(), 3), ("x".into(), 1)]
        );
    }

    #[test]
    fn hours() {
        assert_eq!(
            hours_between("2026-01-01T00:00:00.000Z", "2026-01-02T06:30:00.000Z"),
            Some(30.5)
        );
    }
}

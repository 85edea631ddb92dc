//! The state of one series on the evaluation date, and the next dose's dates.
//!
//! Precedence, first match wins: complete → not applicable (sex, not yet
//! introduced) → aged out → contraindicated → refused → not yet due / due /
//! overdue (see the module docs of [`crate::forecast`] for the windows).

use super::explain::{DateRule, Ruled};
use super::{ChildRecord, Contraindication, Detail, DoseEvaluation};
use crate::calendar::{Calendar, DoseRule, Series};
use serde::{Deserialize, Serialize};
use time::{Date, Duration};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SeriesStatus {
    /// Every dose of the series has a valid dose.
    Complete,
    /// The next dose is in its due window.
    Due,
    /// The due window has passed.
    Overdue,
    /// The recommended date is still ahead.
    NotYetDue,
    /// A permanent or current temporary contraindication is recorded.
    Contraindicated,
    /// The caregiver refused after the last dose.
    Refused,
    /// The child is past the age at which the next dose is given.
    AgedOut,
    /// The series is not for this child (other sex) or not yet introduced.
    NotApplicable,
}

/// The next dose a series needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextDose {
    pub number: u32,
    pub label: String,
    /// First date the dose may be given (never before the minimum age).
    #[serde(with = "crate::serde_date")]
    pub earliest: Date,
    pub earliest_rule: DateRule,
    /// Date it is expected; never before `earliest`.
    #[serde(with = "crate::serde_date")]
    pub recommended: Date,
    pub recommended_rule: DateRule,
    /// First day the dose counts as overdue: `recommended + overdue_after`.
    #[serde(with = "crate::serde_date")]
    pub overdue_from: Date,
    /// Last day it may still be given (the day before the maximum age), if any.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::serde_date::option"
    )]
    pub latest: Option<Date>,
    /// Days overdue on the evaluation date, counting `overdue_from` as day 1;
    /// only when the status is overdue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_overdue: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesForecast {
    pub antigen: String,
    pub status: SeriesStatus,
    pub valid_doses: u32,
    pub total_doses: u32,
    /// The next dose, unless the series is complete, aged out or not applicable.
    pub next: Option<NextDose>,
    /// English sentence(s) giving the status and the rule behind every date.
    pub explanation: String,
}

/// Everything the status of one series depends on.
struct Ctx<'a> {
    calendar: &'a Calendar,
    series: &'a Series,
    child: &'a ChildRecord,
    evals: Vec<&'a DoseEvaluation>,
    on: Date,
    detail: Detail,
}

/// Forecasts one series from the evaluations [`super::evaluate`] produced.
pub fn series_forecast(
    calendar: &Calendar,
    series: &Series,
    child: &ChildRecord,
    evals: &[DoseEvaluation],
    on: Date,
) -> SeriesForecast {
    series_forecast_with(calendar, series, child, evals, on, Detail::Full)
}

/// [`series_forecast`], writing the explanation only at `detail`.
pub fn series_forecast_with(
    calendar: &Calendar,
    series: &Series,
    child: &ChildRecord,
    evals: &[DoseEvaluation],
    on: Date,
    detail: Detail,
) -> SeriesForecast {
    let evals = evals.iter().filter(|e| e.is_for(&series.antigen)).collect();
    let ctx = Ctx {
        calendar,
        series,
        child,
        evals,
        on,
        detail,
    };
    let valid: Vec<&DoseEvaluation> = ctx.evals.iter().copied().filter(|e| e.is_valid()).collect();
    let mut out = SeriesForecast {
        antigen: series.antigen.clone(),
        status: SeriesStatus::Complete,
        valid_doses: u32::try_from(valid.len()).unwrap_or(u32::MAX),
        total_doses: u32::try_from(series.doses.len()).unwrap_or(u32::MAX),
        next: None,
        explanation: String::new(),
    };
    let Some(rule) = series.doses.get(valid.len()) else {
        out.explanation = detail.text(|| complete_text(series, &valid));
        return out;
    };
    if let Some(why) = not_applicable(&ctx) {
        out.status = SeriesStatus::NotApplicable;
        out.explanation = why;
        return out;
    }
    let next = next_dose(&ctx, rule, valid.last().copied());
    let (status, why) = classify(&ctx, rule, &next);
    out.status = status;
    out.explanation = why;
    if status != SeriesStatus::AgedOut {
        out.next = Some(next);
    }
    out
}

fn complete_text(series: &Series, valid: &[&DoseEvaluation]) -> String {
    let last = valid
        .last()
        .map(|e| format!(", the last on {}", e.administration.date))
        .unwrap_or_default();
    format!(
        "complete: all {} doses of the {} series are valid{last}",
        series.doses.len(),
        series.antigen
    )
}

fn not_applicable(ctx: &Ctx) -> Option<String> {
    if !ctx.series.applies_to(ctx.child.sex) {
        let sex = ctx
            .series
            .sex
            .map_or("", |s| if s.code() == "F" { "girls" } else { "boys" });
        return Some(ctx.detail.text(|| {
            format!(
                "not applicable: the {} series is for {sex} only",
                ctx.series.antigen
            )
        }));
    }
    let introduced = ctx.series.introduced.filter(|d| ctx.on < *d)?;
    Some(ctx.detail.text(|| {
        format!(
            "not applicable: the {} series is offered from {introduced}",
            ctx.series.antigen
        )
    }))
}

/// Temporary contraindications active on the evaluation date that push the earliest date.
fn contraindication_end(ctx: &Ctx) -> Option<Ruled> {
    ctx.child
        .contraindications
        .iter()
        .filter(|c| c.antigen == ctx.series.antigen && c.active_on(ctx.on))
        .filter_map(|c| c.until)
        .max()
        .map(|until| {
            Ruled::new(
                until + Duration::days(1),
                DateRule::ContraindicationEnds { until },
            )
        })
}

fn next_dose(ctx: &Ctx, rule: &DoseRule, previous: Option<&DoseEvaluation>) -> NextDose {
    let birth = ctx.child.birth;
    let by_age = Ruled::new(
        rule.min_age.add_to(birth),
        DateRule::MinimumAge { age: rule.min_age },
    );
    let by_interval = previous.zip(rule.min_interval).map(|(prev, interval)| {
        let after = prev.label.clone().unwrap_or_default();
        let date = prev.administration.date;
        Ruled::new(
            interval.add_to(date),
            DateRule::MinimumInterval {
                interval,
                after,
                previous: date,
            },
        )
    });
    let earliest = by_age.later(by_interval).later(contraindication_end(ctx));
    let recommended = recommended_date(ctx, rule, &earliest);
    let overdue_from = ctx.calendar.overdue_after.add_to(recommended.date);
    let days_overdue = (ctx.on >= overdue_from).then(|| (ctx.on - overdue_from).whole_days() + 1);
    NextDose {
        number: rule.number,
        label: rule.label.clone(),
        earliest: earliest.date,
        earliest_rule: earliest.rule,
        recommended: recommended.date,
        recommended_rule: recommended.rule,
        overdue_from,
        latest: rule.max_age.map(|m| m.add_to(birth) - Duration::days(1)),
        days_overdue,
    }
}

/// Birth + recommended age, moved later to the earliest allowed date (catch-up)
/// and to the series' introduction date, so a newly introduced vaccine does not
/// make every older child overdue on its first day.
fn recommended_date(ctx: &Ctx, rule: &DoseRule, earliest: &Ruled) -> Ruled {
    let scheduled = rule.recommended_age.add_to(ctx.child.birth);
    let on_time = Ruled::new(
        scheduled,
        DateRule::RecommendedAge {
            age: rule.recommended_age,
        },
    );
    let catch_up = Ruled::new(
        earliest.date,
        DateRule::CatchUp {
            age: rule.recommended_age,
            scheduled,
        },
    );
    let introduced = ctx
        .series
        .introduced
        .map(|on| Ruled::new(on, DateRule::Introduced { on }));
    on_time.later(Some(catch_up)).later(introduced)
}

fn classify(ctx: &Ctx, rule: &DoseRule, next: &NextDose) -> (SeriesStatus, String) {
    if let Some(why) = aged_out(rule, next, ctx.on) {
        return (SeriesStatus::AgedOut, ctx.detail.text(why));
    }
    let dates = || dates_text(ctx, next);
    if let Some(why) = contraindicated(ctx) {
        return (
            SeriesStatus::Contraindicated,
            ctx.detail
                .text(|| format!("{} is not to be given: {}; {}", next.label, why(), dates())),
        );
    }
    if let Some(date) = refused(ctx) {
        return (
            SeriesStatus::Refused,
            ctx.detail
                .text(|| format!("{} was refused on {date}; {}", next.label, dates())),
        );
    }
    let status = if ctx.on < next.recommended {
        SeriesStatus::NotYetDue
    } else if ctx.on < next.overdue_from {
        SeriesStatus::Due
    } else {
        SeriesStatus::Overdue
    };
    let phrase = || match status {
        SeriesStatus::NotYetDue => "is not yet due".to_owned(),
        SeriesStatus::Due => "is due".to_owned(),
        _ => {
            let days = next.days_overdue.unwrap_or_default();
            format!(
                "is overdue by {days} day{}",
                if days == 1 { "" } else { "s" }
            )
        }
    };
    let why = ctx
        .detail
        .text(|| format!("{} {}: {}", next.label, phrase(), dates()));
    (status, why)
}

fn dates_text(ctx: &Ctx, next: &NextDose) -> String {
    let threshold = DateRule::OverdueThreshold {
        after: ctx.calendar.overdue_after,
    };
    format!(
        "earliest {} ({}); recommended {} ({}); overdue from {} ({threshold})",
        next.earliest,
        next.earliest_rule,
        next.recommended,
        next.recommended_rule,
        next.overdue_from
    )
}

/// Whether the child is past the dose; the explanation is written only on demand.
fn aged_out<'a>(
    rule: &'a DoseRule,
    next: &'a NextDose,
    on: Date,
) -> Option<impl FnOnce() -> String + 'a> {
    let latest = next.latest?;
    let past = on > latest;
    (past || next.earliest > latest).then_some(move || {
            let max = rule.max_age.map(|m| m.describe()).unwrap_or_default();
            if past {
                format!(
                    "aged out: {} is not given from the age of {max} (last possible day {latest})",
                    rule.label
                )
            } else {
                format!(
                    "aged out: {} cannot be given before the age of {max}; the earliest date {} ({}) is after the last possible day {latest}",
                    rule.label, next.earliest, next.earliest_rule
                )
            }
    })
}

/// The contraindication in force, as a writer of its description.
fn contraindicated<'a>(ctx: &Ctx<'a>) -> Option<impl Fn() -> String + 'a> {
    let active: Vec<&'a Contraindication> = ctx
        .child
        .contraindications
        .iter()
        .filter(|c| c.antigen == ctx.series.antigen && c.active_on(ctx.on))
        .collect();
    let permanent = active.iter().copied().find(|c| c.is_permanent());
    let current = permanent.or_else(|| active.iter().copied().max_by_key(|c| c.until))?;
    Some(move || {
        let kind = match current.until {
            None => "permanent contraindication".to_owned(),
            Some(until) => format!("temporary contraindication until {until}"),
        };
        if current.reason.is_empty() {
            kind
        } else {
            format!("{kind} ({})", current.reason)
        }
    })
}

/// The refusal in force: recorded on or before the evaluation date and after
/// the last dose of the antigen (a dose given later means the family changed
/// its mind). A dose on the same day as a refusal wins.
fn refused(ctx: &Ctx) -> Option<Date> {
    let last_dose = ctx
        .evals
        .iter()
        .map(|e| e.administration.date)
        .filter(|d| *d <= ctx.on)
        .max();
    ctx.child
        .refusals
        .iter()
        .filter(|r| r.antigen == ctx.series.antigen && r.date <= ctx.on)
        .map(|r| r.date)
        .filter(|d| last_dose.is_none_or(|last| *d > last))
        .max()
}

/// The first date on which any series can be on an outreach list for this
/// child: the earliest recommended date of the next dose of every series that
/// applies to the child's sex, from verdicts `evals` that consider every
/// recorded dose (evaluated on or after the last of them). `None` when every
/// such series is complete.
///
/// A lower bound, whatever the list's date `on` (from the last dose on): the
/// verdicts are the same on every such date, a contraindication only moves a
/// next dose later and a refusal or an age limit only takes it off the list,
/// and a series is listed only once `on` (or the list's horizon) reaches its
/// recommended date. Due lists use it to skip, without reading their
/// records, the children nothing can be due for (migration 3008).
pub fn first_due(
    calendar: &Calendar,
    child: &ChildRecord,
    evals: &[DoseEvaluation],
) -> Option<Date> {
    // Nothing the bound ignores is consulted: no contraindications, a date
    // past every verdict.
    let bare = ChildRecord::new(child.birth, child.sex);
    calendar
        .series
        .iter()
        .filter(|s| s.applies_to(child.sex))
        .filter_map(|series| {
            let counted: Vec<&DoseEvaluation> = evals
                .iter()
                .filter(|e| e.is_for(&series.antigen) && e.is_valid())
                .collect();
            let rule = series.doses.get(counted.len())?;
            let ctx = Ctx {
                calendar,
                series,
                child: &bare,
                evals: Vec::new(),
                on: Date::MAX,
                detail: Detail::Lean,
            };
            Some(next_dose(&ctx, rule, counted.last().copied()).recommended)
        })
        .min()
}

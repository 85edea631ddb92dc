//! The facts other pillars know about a child and household, as one plain snapshot.
//!
//! Every fact is optional: a pillar that has not reported (no immunization
//! record yet, no screening yet) leaves it `None`, and rules treat a missing fact
//! as *unknown*, never as "no" — an alert must not fire, or stay silent, because
//! data are missing.

use crate::instrument::RiskLevel;
use crate::text::Text;
use bala_core::date::age_months;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use time::Date;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    /// Age in days (newborn rules are counted in days).
    #[serde(default)]
    pub age_days: Option<u32>,
    #[serde(default)]
    pub age_months: Option<u32>,
    /// No DTP-containing dose by 12 months of age (Gavi / IA2030 definition).
    #[serde(default)]
    pub zero_dose: Option<bool>,
    /// Days overdue of the most overdue vaccine dose (0 when none is overdue).
    #[serde(default)]
    pub max_days_overdue: Option<u32>,
    #[serde(default)]
    pub registered_for_immunization: Option<bool>,
    /// Risk level from the household's latest screening.
    #[serde(default)]
    pub household_risk: Option<RiskLevel>,
    #[serde(default)]
    pub days_since_screening: Option<u32>,
    /// Injury-related health visits in the last 12 months.
    #[serde(default)]
    pub injury_visits_12m: Option<u32>,
    #[serde(default)]
    pub open_case: Option<bool>,
}

impl Facts {
    /// Facts with the child's age on `on` filled in; other pillars add the rest.
    pub fn for_child(birth: Date, on: Date) -> Facts {
        let days = (on - birth).whole_days();
        Facts {
            age_days: u32::try_from(days).ok(),
            age_months: u32::try_from(age_months(birth, on)).ok(),
            ..Facts::default()
        }
    }

    /// The value of a named fact, if known.
    pub fn get(&self, name: FactName) -> Option<FactValue> {
        use FactName::*;
        let n = |v: Option<u32>| v.map(|x| FactValue::Number(i64::from(x)));
        let b = |v: Option<bool>| v.map(FactValue::Bool);
        match name {
            AgeDays => n(self.age_days),
            AgeMonths => n(self.age_months),
            ZeroDose => b(self.zero_dose),
            MaxDaysOverdue => n(self.max_days_overdue),
            RegisteredForImmunization => b(self.registered_for_immunization),
            HouseholdRisk => self.household_risk.map(FactValue::Level),
            DaysSinceScreening => n(self.days_since_screening),
            InjuryVisits12m => n(self.injury_visits_12m),
            OpenCase => b(self.open_case),
        }
    }
}

/// The names rules may refer to. Adding a fact means adding a field above and a
/// name here; the compiler then points at every match to extend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactName {
    AgeDays,
    AgeMonths,
    ZeroDose,
    MaxDaysOverdue,
    RegisteredForImmunization,
    HouseholdRisk,
    DaysSinceScreening,
    #[serde(rename = "injury_visits_12m")]
    InjuryVisits12m,
    OpenCase,
}

/// The type of a fact, which decides the comparisons and literals allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactKind {
    Number,
    Bool,
    Level,
}

impl FactName {
    pub const ALL: [FactName; 9] = [
        FactName::AgeDays,
        FactName::AgeMonths,
        FactName::ZeroDose,
        FactName::MaxDaysOverdue,
        FactName::RegisteredForImmunization,
        FactName::HouseholdRisk,
        FactName::DaysSinceScreening,
        FactName::InjuryVisits12m,
        FactName::OpenCase,
    ];

    pub fn code(self) -> &'static str {
        use FactName::*;
        match self {
            AgeDays => "age_days",
            AgeMonths => "age_months",
            ZeroDose => "zero_dose",
            MaxDaysOverdue => "max_days_overdue",
            RegisteredForImmunization => "registered_for_immunization",
            HouseholdRisk => "household_risk",
            DaysSinceScreening => "days_since_screening",
            InjuryVisits12m => "injury_visits_12m",
            OpenCase => "open_case",
        }
    }

    pub fn kind(self) -> FactKind {
        use FactName::*;
        match self {
            ZeroDose | RegisteredForImmunization | OpenCase => FactKind::Bool,
            HouseholdRisk => FactKind::Level,
            AgeDays | AgeMonths | MaxDaysOverdue | DaysSinceScreening | InjuryVisits12m => {
                FactKind::Number
            }
        }
    }

    /// A short name for rule editors and hit-rate reports.
    pub fn name(self) -> Text {
        use FactName::*;
        match self {
            AgeDays => Text::new("жасы (күн)", "возраст (дней)", "age (days)"),
            AgeMonths => Text::new("жасы (ай)", "возраст (месяцев)", "age (months)"),
            ZeroDose => Text::new(
                "АКДС-1 алмаған (нөлдік доза)",
                "не получил АКДС-1 (нулевая доза)",
                "zero-dose (no DTP1)",
            ),
            MaxDaysOverdue => Text::new(
                "екпенің ең ұзақ кешігуі (күн)",
                "наибольшая просрочка прививки (дней)",
                "most overdue dose (days)",
            ),
            RegisteredForImmunization => Text::new(
                "екпе есебіне алынған",
                "поставлен на учёт для вакцинации",
                "registered for immunization",
            ),
            HouseholdRisk => Text::new(
                "отбасының қауіп деңгейі",
                "уровень риска семьи",
                "household risk level",
            ),
            DaysSinceScreening => Text::new(
                "соңғы скринингтен бергі күндер",
                "дней с последнего скрининга",
                "days since the latest screening",
            ),
            InjuryVisits12m => Text::new(
                "12 айдағы жарақатпен қаралулар",
                "обращений с травмами за 12 месяцев",
                "injury visits in 12 months",
            ),
            OpenCase => Text::new("ашық іс бар", "есть открытый случай", "open case exists"),
        }
    }
}

impl fmt::Display for FactName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for FactName {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        FactName::ALL.into_iter().find(|n| n.code() == s).ok_or(())
    }
}

/// A known fact's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FactValue {
    Bool(bool),
    Number(i64),
    Level(RiskLevel),
}

//! Why a screening reached its level, in words a worker and a family can follow.
//!
//! Reasons are stored as data (codes and numbers) and rendered on demand in the
//! reader's language, so a stored result can be shown in Kazakh to one reader
//! and in Russian to another.

use super::ScreeningResult;
use crate::instrument::{Instrument, RiskLevel};
use crate::text::Lang;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// A red flag answer lifted the level to at least `level`.
    RedFlag { question: String, level: RiskLevel },
    /// Several domains together lifted the level.
    Combination { code: String, level: RiskLevel },
    /// The total crossed a threshold.
    Total {
        total: u32,
        threshold: u32,
        level: RiskLevel,
    },
    /// The total stayed below the medium threshold and nothing overrode it.
    BelowThresholds { total: u32, medium: u32 },
    /// A domain that added to the total.
    Domain {
        domain: String,
        score: u32,
        cap: u32,
    },
}

/// Drivers of the final level first (everything that alone yields it), then the
/// contributing domains by score, largest first, ties in instrument order.
pub(super) fn explain(inst: &Instrument, r: &ScreeningResult) -> Vec<Reason> {
    let mut out: Vec<Reason> = r
        .red_flags
        .iter()
        .filter(|f| f.level == r.level)
        .map(|f| Reason::RedFlag {
            question: f.question.clone(),
            level: f.level,
        })
        .collect();
    out.extend(
        r.combinations
            .iter()
            .filter(|c| c.level == r.level)
            .map(|c| Reason::Combination {
                code: c.code.clone(),
                level: c.level,
            }),
    );
    if r.threshold_level == r.level {
        out.push(match inst.thresholds.level_for(r.total) {
            (level, Some(threshold)) => Reason::Total {
                total: r.total,
                threshold,
                level,
            },
            (_, None) => Reason::BelowThresholds {
                total: r.total,
                medium: inst.thresholds.medium,
            },
        });
    }
    let mut domains: Vec<_> = r.domains.iter().filter(|d| d.score > 0).collect();
    domains.sort_by_key(|d| std::cmp::Reverse(d.score)); // stable: ties keep instrument order
    out.extend(domains.into_iter().map(|d| Reason::Domain {
        domain: d.domain.clone(),
        score: d.score,
        cap: d.cap,
    }));
    out
}

impl Reason {
    /// One sentence in `lang`, naming questions and domains as the instrument does.
    pub fn describe(&self, inst: &Instrument, lang: Lang) -> String {
        match self {
            Reason::RedFlag { question, level } => {
                let q = inst.question(question).map_or(question.as_str(), |(_, q)| q.text.get(lang));
                let l = level.label(lang);
                match lang {
                    Lang::Kk => format!("Қауіп белгісі: «{q}» сұрағына берілген жауап деңгейді кемінде «{l}» деңгейіне көтереді."),
                    Lang::Ru => format!("Тревожный признак: ответ на вопрос «{q}» повышает уровень как минимум до «{l}»."),
                    Lang::En => format!("Red flag: the answer to “{q}” raises the level to at least {l}."),
                }
            }
            Reason::Combination { code, level } => {
                let name = inst
                    .combinations
                    .iter()
                    .find(|c| &c.code == code)
                    .map_or(code.as_str(), |c| c.name.get(lang));
                let l = level.label(lang);
                match lang {
                    Lang::Kk => format!("{name}: деңгей «{l}» деңгейіне көтерілді."),
                    Lang::Ru => format!("{name}: уровень повышен до «{l}»."),
                    Lang::En => format!("{name}: the level is raised to {l}."),
                }
            }
            Reason::Total { total, threshold, level } => {
                let l = level.label(lang);
                match lang {
                    Lang::Kk => format!("Жалпы балл {total} «{l}» деңгейінің шегіне ({threshold}) жетеді."),
                    Lang::Ru => format!("Общий балл {total} достигает порога уровня «{l}» ({threshold})."),
                    Lang::En => format!("The total score {total} reaches the {l} threshold ({threshold})."),
                }
            }
            Reason::BelowThresholds { total, medium } => match lang {
                Lang::Kk => format!("Жалпы балл {total} орташа деңгей шегінен ({medium}) төмен, қауіп белгілері жоқ."),
                Lang::Ru => format!("Общий балл {total} ниже порога среднего уровня ({medium}), тревожных признаков нет."),
                Lang::En => format!("The total score {total} is below the medium threshold ({medium}) and no red flag was raised."),
            },
            Reason::Domain { domain, score, cap } => {
                let name = inst.domain(domain).map_or(domain.as_str(), |d| d.name.get(lang));
                format!("{name}: {score}/{cap}")
            }
        }
    }
}

impl ScreeningResult {
    /// The explanation rendered in `lang`, one sentence per reason.
    pub fn explain(&self, inst: &Instrument, lang: Lang) -> Vec<String> {
        self.explanation
            .iter()
            .map(|r| r.describe(inst, lang))
            .collect()
    }
}

//! Gathers a reader's rows into an [`Import`], settling duplicate keys.
//!
//! Two rows with the same indicator, area, period and disaggregation are the same
//! cell. If they agree, the first is kept and the repeat reported. If they disagree
//! the file is ambiguous — kazstat's 4.1.1 has such pairs, where a breakdown column
//! was lost upstream — and guessing would put a wrong number in front of users, so
//! neither is imported and both are reported with each other's row.

use super::{codes, Import, Rejection};
use crate::model::{ObsKey, Observation};
use bala_core::ValidationErrors;
use std::collections::HashMap;

#[derive(Default)]
pub(crate) struct Collector {
    accepted: Vec<(usize, String, Observation)>,
    rejected: Vec<Rejection>,
}

impl Collector {
    pub fn accept(&mut self, row: usize, location: String, observation: Observation) {
        self.accepted.push((row, location, observation));
    }

    pub fn reject(&mut self, row: usize, location: String, errors: ValidationErrors) {
        self.rejected.push(Rejection {
            row,
            location,
            errors,
        });
    }

    /// Adds one row's outcome.
    pub fn push(
        &mut self,
        row: usize,
        location: String,
        outcome: Result<Observation, ValidationErrors>,
    ) {
        match outcome {
            Ok(o) => self.accept(row, location, o),
            Err(e) => self.reject(row, location, e),
        }
    }

    pub fn finish(self) -> Import {
        let mut groups: HashMap<ObsKey, Vec<usize>> = HashMap::new();
        for (i, (_, _, o)) in self.accepted.iter().enumerate() {
            groups.entry(o.key()).or_default().push(i);
        }
        let mut drop = vec![None; self.accepted.len()];
        for members in groups.values().filter(|m| m.len() > 1) {
            settle(&self.accepted, members, &mut drop);
        }
        let mut rejected = self.rejected;
        let mut observations = Vec::with_capacity(self.accepted.len());
        let mut positions = Vec::with_capacity(self.accepted.len());
        for ((row, location, o), why) in self.accepted.into_iter().zip(drop) {
            match why {
                None => {
                    observations.push(o);
                    positions.push((row, location));
                }
                Some(errors) => rejected.push(Rejection {
                    row,
                    location,
                    errors,
                }),
            }
        }
        rejected.sort_by_key(|r| r.row);
        Import {
            observations,
            rejected,
            positions,
        }
    }
}

fn settle(
    accepted: &[(usize, String, Observation)],
    members: &[usize],
    drop: &mut [Option<ValidationErrors>],
) {
    let first = &accepted[members[0]];
    let all_agree = members.iter().all(|&i| accepted[i].2 == first.2);
    if all_agree {
        for &i in &members[1..] {
            let msg = format!("repeats row {} ({}) exactly", first.0, accepted[i].2.key());
            drop[i] = Some(ValidationErrors::single(bala_core::FieldError::new(
                "key",
                codes::DUPLICATE,
                msg,
            )));
        }
        return;
    }
    let rows: Vec<String> = members
        .iter()
        .map(|&i| format!("row {} = {}", accepted[i].0, accepted[i].2.value))
        .collect();
    let msg = format!(
        "rows with the same indicator, area, period and disaggregation ({}) disagree ({}); none of them is imported",
        first.2.key(),
        rows.join(", ")
    );
    for &i in members {
        drop[i] = Some(ValidationErrors::single(bala_core::FieldError::new(
            "key",
            codes::CONFLICT,
            msg.clone(),
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AreaRef, Period};

    fn o(v: f64) -> Observation {
        Observation::new("X", AreaRef::National, Period::annual(2020).unwrap(), v)
    }

    #[test]
    fn exact_repeat_keeps_the_first() {
        let mut c = Collector::default();
        c.accept(2, "line 2".into(), o(1.0));
        c.accept(3, "line 3".into(), o(1.0));
        let i = c.finish();
        assert_eq!(i.observations.len(), 1);
        assert_eq!(i.rejected[0].row, 3);
        assert!(i.rejected[0].to_string().contains("repeats row 2"));
    }

    #[test]
    fn conflicting_rows_are_all_rejected() {
        let mut c = Collector::default();
        c.accept(2, "line 2".into(), o(1.0));
        c.accept(5, "line 5".into(), o(2.0));
        c.reject(4, "line 4".into(), ValidationErrors::new());
        let i = c.finish();
        assert!(i.observations.is_empty());
        let rows: Vec<usize> = i.rejected.iter().map(|r| r.row).collect();
        assert_eq!(rows, [2, 4, 5]);
        assert!(i.rejected[0].to_string().contains("row 5 = 2"));
    }
}

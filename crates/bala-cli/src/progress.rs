//! Progress of long jobs on standard error. On a terminal the count is
//! rewritten in place, at most ten times a second; written to a file (a CI
//! log, cron mail, `2> log`) it is one line per tenth of the job, since a
//! carriage return per row there makes one line of a million counts.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// When to write the count, apart from where it goes.
struct Pace {
    terminal: bool,
    /// Terminal: when the count was last written.
    last_at: Option<Instant>,
    /// File: the tenth of the job last written, and of what total (a job
    /// with phases starts counting again towards another total).
    last_tenth: Option<(usize, usize)>,
}

impl Pace {
    /// Whether `done` of `total` is worth a line now.
    fn due(&mut self, done: usize, total: usize, now: Instant) -> bool {
        if self.terminal {
            let wait = Duration::from_millis(100);
            let due = done >= total || self.last_at.is_none_or(|t| now - t >= wait);
            if due {
                self.last_at = Some(now);
            }
            due
        } else {
            let tenth = ((done * 10).checked_div(total).unwrap_or(10), total);
            let due = self.last_tenth != Some(tenth);
            self.last_tenth = Some(tenth);
            due
        }
    }
}

/// A progress callback for the store's long jobs: `done/total what`.
pub fn reporter(what: impl Into<String>) -> impl FnMut(usize, usize) + Send {
    let what = what.into();
    let mut pace = Pace {
        terminal: std::io::stderr().is_terminal(),
        last_at: None,
        last_tenth: None,
    };
    move |done, total| {
        if !pace.due(done, total, Instant::now()) {
            return;
        }
        if pace.terminal {
            eprint!("\r{done}/{total} {what}");
            if done >= total {
                eprintln!();
            }
        } else {
            eprintln!("{done}/{total} {what}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pace(terminal: bool) -> Pace {
        Pace {
            terminal,
            last_at: None,
            last_tenth: None,
        }
    }

    #[test]
    fn a_file_gets_a_line_per_tenth() {
        let mut p = pace(false);
        let now = Instant::now();
        let lines = (0..=1000).filter(|&d| p.due(d, 1000, now)).count();
        assert_eq!(lines, 11, "0 %, 10 %, …, 100 %");
        let mut empty = pace(false);
        assert!(empty.due(0, 0, now), "an empty job still says so once");
        assert!(!empty.due(0, 0, now));
        // A second phase counts towards another total from its start.
        assert!(p.due(0, 500, now) && !p.due(10, 500, now) && p.due(50, 500, now));
    }

    #[test]
    fn a_terminal_is_rewritten_at_most_ten_times_a_second_and_at_the_end() {
        let mut p = pace(true);
        let t0 = Instant::now();
        assert!(p.due(0, 1000, t0));
        assert!(!p.due(1, 1000, t0 + Duration::from_millis(50)));
        assert!(p.due(2, 1000, t0 + Duration::from_millis(120)));
        assert!(
            p.due(1000, 1000, t0 + Duration::from_millis(130)),
            "the last count is always written"
        );
    }
}

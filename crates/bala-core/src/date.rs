//! Calendar dates as Bala stores and exchanges them: ISO 8601 `YYYY-MM-DD`.
//!
//! Both databases keep dates as ISO text so that one query serves both and text
//! order is date order (see `docs/adr/0002-storage.md`).

pub use time::Date;
use time::{format_description::FormatItem, macros::format_description};

const ISO: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// Parses `YYYY-MM-DD`, rejecting anything else (no times, no other orders).
pub fn parse_date(s: &str) -> Result<Date, time::error::Parse> {
    Date::parse(s.trim(), ISO)
}

/// Formats a date as `YYYY-MM-DD`.
pub fn iso(d: Date) -> String {
    d.format(ISO)
        .expect("ISO date format is infallible for valid dates")
}

/// Whole years between `birth` and `on` (age as people count it).
pub fn age_years(birth: Date, on: Date) -> i32 {
    let mut years = on.year() - birth.year();
    if (on.month() as u8, on.day()) < (birth.month() as u8, birth.day()) {
        years -= 1;
    }
    years
}

/// Whole months between `birth` and `on`.
pub fn age_months(birth: Date, on: Date) -> i32 {
    let mut months = (on.year() - birth.year()) * 12 + (on.month() as i32 - birth.month() as i32);
    if on.day() < birth.day() {
        months -= 1;
    }
    months
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn parses_iso_only() {
        assert_eq!(parse_date("2020-02-29").unwrap(), date!(2020 - 02 - 29));
        assert!(parse_date("2021-02-29").is_err());
        assert!(parse_date("29.02.2020").is_err());
        assert_eq!(iso(date!(2001 - 01 - 09)), "2001-01-09");
    }

    #[test]
    fn ages() {
        assert_eq!(age_years(date!(2020 - 03 - 15), date!(2021 - 03 - 14)), 0);
        assert_eq!(age_years(date!(2020 - 03 - 15), date!(2021 - 03 - 15)), 1);
        assert_eq!(age_months(date!(2020 - 01 - 31), date!(2020 - 02 - 29)), 0);
        assert_eq!(age_months(date!(2020 - 01 - 15), date!(2020 - 03 - 15)), 2);
    }
}

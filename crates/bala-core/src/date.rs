//! Calendar dates as Bala stores and exchanges them: ISO 8601 `YYYY-MM-DD`.
//!
//! Both databases keep dates as ISO text so that one query serves both and text
//! order is date order (see `docs/adr/0002-storage.md`).

pub use time::Date;
use time::{format_description::FormatItem, macros::format_description};

const ISO: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// Parses `YYYY-MM-DD`, rejecting anything else (no times, no other orders).
pub fn parse_date(s: &str) -> Result<Date, time::error::Parse> {
    let s = s.trim();
    // Stored dates are always plain `YYYY-MM-DD`; reading them straight from
    // the digits is several times faster than the general parser, which a
    // due list or an import calls hundreds of thousands of times. Anything
    // else (and any invalid day) goes to the parser for its error.
    if let Some(d) = plain_iso(s.as_bytes()) {
        return Ok(d);
    }
    Date::parse(s, ISO)
}

fn plain_iso(b: &[u8]) -> Option<Date> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0i32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + i32::from(c - b'0'))
        })
    };
    let month = time::Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
    let day = u8::try_from(num(8..10)?).ok()?;
    Date::from_calendar_date(num(0..4)?, month, day).ok()
}

/// Formats a date as `YYYY-MM-DD`.
pub fn iso(d: Date) -> String {
    // Written from the digits for years 0–9999 (every date Bala meets): the
    // general formatter costs several times more, and an import formats a
    // few dates for each of a million rows.
    let year = d.year();
    if !(0..=9999).contains(&year) {
        return d
            .format(ISO)
            .expect("ISO date format is infallible for valid dates");
    }
    let digits = |n: u32, width: usize, out: &mut [u8]| {
        let mut n = n;
        for slot in out[..width].iter_mut().rev() {
            *slot = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    let mut b = [b'-'; 10];
    digits(year as u32, 4, &mut b[0..4]);
    digits(u32::from(u8::from(d.month())), 2, &mut b[5..7]);
    digits(u32::from(d.day()), 2, &mut b[8..10]);
    std::str::from_utf8(&b)
        .expect("digits and dashes are ASCII")
        .to_string()
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
    fn the_fast_path_agrees_with_the_parser() {
        for s in [
            "2024-02-29",
            "2023-02-29",
            "0001-01-01",
            "9999-12-31",
            "2024-13-01",
            "2024-00-10",
            "2024-01-00",
            "2024-1-01",
            "2024/01/01",
            "20a4-01-01",
            "+024-01-01",
            "2024-01-32",
        ] {
            let parsed = Date::parse(s, ISO).ok();
            assert_eq!(plain_iso(s.as_bytes()).or(parsed), parsed, "{s}");
            assert_eq!(parse_date(s).ok(), parsed, "{s}");
        }
    }

    #[test]
    fn the_fast_format_agrees_with_the_formatter() {
        let mut day = Some(date!(-0002 - 12 - 25));
        let mut checked = 0;
        while let Some(d) = day {
            assert_eq!(iso(d), d.format(ISO).unwrap(), "{d}");
            checked += 1;
            day = d.checked_add(time::Duration::days(97));
        }
        assert!(checked > 37_000);
        for d in [
            date!(2024 - 02 - 29),
            date!(9999 - 12 - 31),
            date!(0001 - 01 - 01),
        ] {
            assert_eq!(iso(d), d.format(ISO).unwrap());
        }
    }

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

//! Timestamps as stored: fixed-width UTC text `YYYY-MM-DDTHH:MM:SS.mmmZ`.
//!
//! Fixed width makes text order equal time order in both databases.

use time::{format_description::FormatItem, macros::format_description, OffsetDateTime};

const STAMP: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

pub fn format(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(STAMP)
        .expect("valid timestamp")
}

pub fn now() -> String {
    format(OffsetDateTime::now_utc())
}

pub fn parse(s: &str) -> Option<OffsetDateTime> {
    time::PrimitiveDateTime::parse(s, STAMP)
        .ok()
        .map(|p| p.assume_utc())
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        let s = super::now();
        assert_eq!(s.len(), 24);
        assert_eq!(super::format(super::parse(&s).unwrap()), s);
    }
}

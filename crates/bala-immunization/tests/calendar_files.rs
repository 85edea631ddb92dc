//! The shipped calendar files: they load, validate, say how sure each row is,
//! and survive a TOML round trip.

use bala_immunization::calendar::{bundled, KZ_2009_TOML, KZ_2020_TOML};
use bala_immunization::{Calendar, Certainty, Span};

#[test]
fn shipped_calendars_load_and_validate() {
    for text in [KZ_2009_TOML, KZ_2020_TOML] {
        let cal = Calendar::from_toml_str(text).unwrap_or_else(|e| panic!("{e}"));
        assert!(cal.validate().is_empty());
    }
}

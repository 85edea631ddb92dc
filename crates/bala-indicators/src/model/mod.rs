//! What an indicator value is, independent of the file it came from.
//!
//! One [`Observation`] is one number: an indicator, for an area, in a period, for
//! a group of people (the disaggregation), with its uncertainty and provenance. The
//! shape follows SDMX because every source Bala reads (kazstat's Open SDG files,
//! UNICEF's data warehouse) already uses SDMX concepts and codes, so nothing is lost
//! or renamed on the way in and the same codes go back out.

pub mod dims;
pub mod observation;
pub mod period;

pub use dims::{format_dims, is_code, is_component_id, parse_dims, Dims, TOTAL};
pub use observation::{AreaRef, Direction, ObsKey, ObsStatus, Observation};
pub use period::{Granularity, Period, PeriodError};

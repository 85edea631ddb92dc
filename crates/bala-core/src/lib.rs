//! Bala's shared vocabulary.
//!
//! Values here are parsed once at the boundary (form, API, CLI, importer) and are
//! valid by construction afterwards: an [`Iin`] always has a correct check digit,
//! an [`AreaCode`] is always nine digits. Nothing in this crate does I/O, so every
//! rule can be tested directly and by property.

pub mod date;
pub mod iin;
pub mod kato;
pub mod lang;
pub mod name;
pub mod sex;
pub mod validation;

pub use date::{parse_date, Date};
pub use iin::{Iin, IinError};
pub use kato::{AreaCode, AreaCodeError};
pub use lang::Lang;
pub use name::{fold_key, name_keys, to_latin};
pub use sex::Sex;
pub use validation::{FieldError, ValidationErrors};

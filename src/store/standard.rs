//! Moved to [`crate::standards::queries`] and [`crate::standards::compliance`];
//! re-exported here for the code not yet converted.

pub use crate::standards::{compliance::*, queries::*};

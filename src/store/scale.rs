//! Moved to [`crate::scales::queries`]; re-exported here for the code not yet
//! converted.

pub use crate::scales::{
    queries::*,
    rules::{LevelRecord, ScaleRecord, scale_name},
};

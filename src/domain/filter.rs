//! The locality filter's conditions and orders moved to [`crate::localities::rules`]
//! (their grammar is `edge::filter`'s); re-exported here for the code not yet converted.

pub use crate::localities::rules::{Condition, LocalityOrder};

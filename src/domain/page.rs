//! Paging moved to [`crate::edge::page`]; kept here until every feature imports it from there.

pub use crate::edge::page::*;

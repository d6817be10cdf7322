//! Conversions between the wire types and the domain types. No rule lives here
//! beyond what a type itself requires.

use chrono::NaiveDate;

use super::pb;
use crate::{
    domain::date::{from_ymd, to_ymd},
    edge::enums::Table as _,
    localities::rules::{Code, Tier},
};

/// A required date.
pub fn date(value: Option<&pb::Date>) -> Result<NaiveDate, String> {
    match value {
        None => Err("is required".to_owned()),
        Some(d) => from_ymd(d.year, d.month, d.day)
            .ok_or_else(|| format!("{:04}-{:02}-{:02} is not a calendar date", d.year, d.month, d.day)),
    }
}

/// An optional date: absent is `None`.
pub fn optional_date(value: Option<&pb::Date>) -> Result<Option<NaiveDate>, String> {
    value.map(|d| date(Some(d))).transpose()
}

/// The wire form of a date.
pub fn to_date(value: NaiveDate) -> pb::Date {
    let (year, month, day) = to_ymd(value);
    pb::Date { year, month, day }
}

/// A required tier.
pub fn tier(value: i32) -> Result<Tier, String> {
    Tier::required(value)
}

/// The wire form of a tier.
pub fn tier_to_pb(value: Tier) -> pb::LocalityTier {
    value.to_wire()
}

/// An optional locality name: empty is `None`.
pub fn optional_locality(name: &str) -> Result<Option<Code>, String> {
    crate::localities::wire::optional_locality(name)
}

//! Conversions between the wire types and the domain types. No rule lives here
//! beyond what a type itself requires.

use chrono::NaiveDate;
use prost_types::Timestamp;

use super::pb;
use crate::{
    domain::{
        date::{from_ymd, to_ymd},
        locality::{Code, Kind, SuccessionKind, Tier, Version},
        text::normalize_name,
    },
    store::{
        locality::{Link, LocalityRecord},
        locality_write::etag,
    },
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

fn timestamp(value: chrono::DateTime<chrono::Utc>) -> Timestamp {
    Timestamp { seconds: value.timestamp(), nanos: i32::try_from(value.timestamp_subsec_nanos()).unwrap_or_default() }
}

/// A required tier.
pub fn tier(value: i32) -> Result<Tier, String> {
    match pb::LocalityTier::try_from(value) {
        Ok(pb::LocalityTier::Province) => Ok(Tier::Province),
        Ok(pb::LocalityTier::District) => Ok(Tier::District),
        Ok(pb::LocalityTier::Commune) => Ok(Tier::Commune),
        Ok(pb::LocalityTier::Unspecified) => Err("is required".to_owned()),
        Err(_) => Err(format!("{value} is not a LocalityTier")),
    }
}

pub fn tier_to_pb(value: Tier) -> pb::LocalityTier {
    match value {
        Tier::Province => pb::LocalityTier::Province,
        Tier::District => pb::LocalityTier::District,
        Tier::Commune => pb::LocalityTier::Commune,
    }
}

/// An optional kind: UNSPECIFIED is `None`.
pub fn optional_kind(value: i32) -> Result<Option<Kind>, String> {
    use pb::LocalityKind as K;
    Ok(Some(match K::try_from(value).map_err(|_| format!("{value} is not a LocalityKind"))? {
        K::Unspecified => return Ok(None),
        K::Province => Kind::Province,
        K::CentralCity => Kind::CentralCity,
        K::RuralDistrict => Kind::RuralDistrict,
        K::UrbanDistrict => Kind::UrbanDistrict,
        K::Town => Kind::Town,
        K::ProvincialCity => Kind::ProvincialCity,
        K::Commune => Kind::Commune,
        K::Ward => Kind::Ward,
        K::Township => Kind::Township,
        K::SpecialZone => Kind::SpecialZone,
    }))
}

/// A required kind.
pub fn kind(value: i32) -> Result<Kind, String> {
    optional_kind(value)?.ok_or_else(|| "is required".to_owned())
}

fn kind_to_pb(value: Kind) -> pb::LocalityKind {
    use pb::LocalityKind as K;
    match value {
        Kind::Province => K::Province,
        Kind::CentralCity => K::CentralCity,
        Kind::RuralDistrict => K::RuralDistrict,
        Kind::UrbanDistrict => K::UrbanDistrict,
        Kind::Town => K::Town,
        Kind::ProvincialCity => K::ProvincialCity,
        Kind::Commune => K::Commune,
        Kind::Ward => K::Ward,
        Kind::Township => K::Township,
        Kind::SpecialZone => K::SpecialZone,
    }
}

/// A required succession kind.
pub fn succession_kind(value: i32) -> Result<SuccessionKind, String> {
    match pb::SuccessionKind::try_from(value) {
        Ok(pb::SuccessionKind::Merge) => Ok(SuccessionKind::Merge),
        Ok(pb::SuccessionKind::Split) => Ok(SuccessionKind::Split),
        Ok(pb::SuccessionKind::Rename) => Ok(SuccessionKind::Rename),
        Ok(pb::SuccessionKind::Unspecified) => Err("is required".to_owned()),
        Err(_) => Err(format!("{value} is not a SuccessionKind")),
    }
}

fn succession_kind_to_pb(value: SuccessionKind) -> pb::SuccessionKind {
    match value {
        SuccessionKind::Merge => pb::SuccessionKind::Merge,
        SuccessionKind::Split => pb::SuccessionKind::Split,
        SuccessionKind::Rename => pb::SuccessionKind::Rename,
    }
}

/// An optional locality name: empty is `None`.
pub fn optional_locality(name: &str) -> Result<Option<Code>, String> {
    if name.is_empty() { Ok(None) } else { Code::from_name(name).map(Some) }
}

/// A required display name, stored in NFC.
pub fn display_name(value: &str) -> Result<String, String> {
    let name = normalize_name(value);
    if name.is_empty() { Err("is required".to_owned()) } else { Ok(name) }
}

/// A version from the wire, field by field; `None` when a field is bad (the errors are
/// returned with their field paths under `path`).
pub fn version(value: &pb::LocalityVersion, path: &str) -> (Option<Version>, Vec<(String, String)>) {
    let mut errors = Vec::new();
    fn keep<T>(errors: &mut Vec<(String, String)>, field: String, result: Result<T, String>) -> Option<T> {
        result.map_err(|e| errors.push((field, e))).ok()
    }
    let at = |field: &str| format!("{path}.{field}");
    let valid_from = keep(&mut errors, at("valid_from"), date(value.valid_from.as_ref()));
    let valid_until = keep(&mut errors, at("valid_until"), optional_date(value.valid_until.as_ref()));
    let name = keep(&mut errors, at("display_name"), display_name(&value.display_name));
    let kind = keep(&mut errors, at("kind"), kind(value.kind));
    let parent = keep(&mut errors, at("parent"), optional_locality(&value.parent));
    let version = match (valid_from, valid_until, name, kind, parent) {
        (Some(valid_from), Some(valid_until), Some(display_name), Some(kind), Some(parent)) => {
            Some(Version { valid_from, valid_until, display_name, kind, parent })
        }
        _ => None,
    };
    (version, errors)
}

fn version_to_pb(value: &Version) -> pb::LocalityVersion {
    pb::LocalityVersion {
        valid_from: Some(to_date(value.valid_from)),
        valid_until: value.valid_until.map(to_date),
        display_name: value.display_name.clone(),
        kind: kind_to_pb(value.kind).into(),
        parent: value.parent.as_ref().map(Code::name).unwrap_or_default(),
    }
}

fn link_to_pb(value: &Link) -> pb::LocalityLink {
    pb::LocalityLink {
        locality: value.other.name(),
        kind: succession_kind_to_pb(value.kind).into(),
        effective_date: Some(to_date(value.effective_date)),
        display_name: value.other_name.clone().unwrap_or_default(),
    }
}

/// The wire form of a locality as of `as_of`.
pub fn locality_to_pb(record: &LocalityRecord, as_of: NaiveDate) -> pb::Locality {
    let in_force = record.versions.iter().find(|v| v.contains(as_of));
    let (state, shown) = match in_force {
        Some(v) => (pb::LocalityState::Active, Some(v)),
        None => match record.versions.iter().find(|v| v.valid_from > as_of) {
            Some(next) => (pb::LocalityState::NotYetEstablished, Some(next)),
            None => (pb::LocalityState::Ended, record.versions.last()),
        },
    };
    pb::Locality {
        name: record.code.name(),
        code: record.code.as_str().to_owned(),
        tier: tier_to_pb(record.tier).into(),
        display_name: shown.map(|v| v.display_name.clone()).unwrap_or_default(),
        kind: shown.map_or(pb::LocalityKind::Unspecified, |v| kind_to_pb(v.kind)).into(),
        parent: shown.and_then(|v| v.parent.as_ref()).map(Code::name).unwrap_or_default(),
        tags: record.tags.clone(),
        versions: record.versions.iter().map(version_to_pb).collect(),
        state: state.into(),
        as_of: Some(to_date(as_of)),
        successors: record.successors.iter().map(link_to_pb).collect(),
        predecessors: record.predecessors.iter().map(link_to_pb).collect(),
        etag: etag(record.revision),
        create_time: Some(timestamp(record.create_time)),
        update_time: Some(timestamp(record.update_time)),
    }
}

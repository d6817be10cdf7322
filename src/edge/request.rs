//! The parts of requests every resource shares: request identifiers (AIP-155), update
//! masks (AIP-134), dates and timestamps.

use chrono::NaiveDate;
use prost_types::Timestamp;
use sha2::{Digest, Sha256};

use super::Violations;
use crate::{
    domain::date::{from_ymd, to_ymd},
    grpc::pb,
    uow::RequestKey,
};

/// Checks a request identifier: optional, at most 128 printable ASCII characters.
pub fn request_id(value: &str) -> Result<Option<String>, String> {
    if value.is_empty() {
        Ok(None)
    } else if value.len() > 128 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        Err("must be at most 128 printable ASCII characters (a UUID is recommended)".to_owned())
    } else {
        Ok(Some(value.to_owned()))
    }
}

/// Digest of a request's body, to recognise a retried request.
pub fn fingerprint<M: prost::Message>(message: &M) -> String {
    Sha256::digest(message.encode_to_vec()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The idempotency key of a create request: its `request_id` (checked, recorded as a
/// violation of `request_id`) with the digest of the body without it (`clear` empties
/// the identifier in a copy of the request).
pub fn request_key<M: prost::Message + Clone>(
    v: &mut Violations,
    request_id: &str,
    request: &M,
    clear: impl FnOnce(&mut M),
) -> Option<RequestKey> {
    let request_id = v.check("request_id", self::request_id(request_id)).flatten()?;
    let mut body = request.clone();
    clear(&mut body);
    Some(RequestKey { request_id, fingerprint: fingerprint(&body) })
}

/// The paths of a required update mask, each checked against `allowed`; `*` alone
/// stands for every allowed path. Violations are recorded on `update_mask`.
pub fn update_paths(v: &mut Violations, mask: Option<&prost_types::FieldMask>, allowed: &[&str]) -> Vec<String> {
    let mut paths = Vec::new();
    match mask {
        None => v.add("update_mask", format!("is required: name the fields to update ({})", allowed.join(", "))),
        Some(mask) if mask.paths.is_empty() => {
            v.add("update_mask", format!("names no field; updatable fields are {}", allowed.join(", ")));
        }
        Some(mask) => {
            for path in &mask.paths {
                match path.as_str() {
                    "*" if mask.paths.len() == 1 => paths.extend(allowed.iter().map(|p| (*p).to_owned())),
                    "*" => v.add("update_mask", "`*` cannot be combined with other paths"),
                    p if allowed.contains(&p) => {
                        if !paths.iter().any(|seen| seen == p) {
                            paths.push(p.to_owned());
                        }
                    }
                    other => v.add(
                        "update_mask",
                        format!(
                            "{} cannot be updated; updatable fields are {}",
                            crate::error::quote(other),
                            allowed.join(", ")
                        ),
                    ),
                }
            }
        }
    }
    paths
}

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

/// The wire form of an instant.
pub fn timestamp(value: chrono::DateTime<chrono::Utc>) -> Timestamp {
    Timestamp { seconds: value.timestamp(), nanos: i32::try_from(value.timestamp_subsec_nanos()).unwrap_or_default() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn update_masks_accept_known_paths_and_a_lone_wildcard() {
        let mut v = Violations::new();
        let mask = prost_types::FieldMask { paths: vec!["b".into(), "a".into()] };
        assert_eq!(update_paths(&mut v, Some(&mask), &["a", "b"]), ["b", "a"]);
        let all = prost_types::FieldMask { paths: vec!["*".into()] };
        assert_eq!(update_paths(&mut v, Some(&all), &["a", "b"]), ["a", "b"]);
        assert!(v.finish().is_ok());
        let mut v = Violations::new();
        let mixed = prost_types::FieldMask { paths: vec!["*".into(), "c".into()] };
        update_paths(&mut v, Some(&mixed), &["a", "b"]);
        update_paths(&mut v, None, &["a"]);
        assert!(matches!(v.finish(), Err(Error::InvalidArgument(violations)) if violations.len() == 3));
    }

    #[test]
    fn a_request_key_digests_the_body_without_its_identifier() {
        let request = pb::GetUnitRequest { name: "units/1".into() };
        let mut v = Violations::new();
        let key = request_key(&mut v, "r-1", &request, |r| r.name.clear());
        let other = request_key(&mut v, "r-2", &pb::GetUnitRequest { name: "units/2".into() }, |r| r.name.clear());
        assert_eq!(key.as_ref().map(|k| &k.fingerprint), other.as_ref().map(|k| &k.fingerprint));
        assert!(request_key(&mut v, "", &request, |_| {}).is_none());
        assert!(v.is_empty());
        assert!(request_key(&mut v, "bad id", &request, |_| {}).is_none());
        assert!(!v.is_empty());
    }
}

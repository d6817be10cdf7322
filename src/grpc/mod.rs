//! The gRPC surface: generated types, and one module per service whose handlers
//! validate, convert, call the store and convert back.

pub mod convert;
pub mod person;
pub mod training_plan;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result, Violation};

/// Types and services generated from `proto/hrplan/v1`.
#[allow(clippy::all, clippy::pedantic, missing_docs, missing_debug_implementations)]
pub mod pb {
    tonic::include_proto!("hrplan.v1");
}

/// The encoded descriptor set of `proto/hrplan/v1`, served by reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/hrplan_descriptor.bin"));

/// Collects the field violations of a request so that one answer names them all.
#[derive(Debug, Default)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value of `result`, or records its error as a violation of `field`.
    pub fn check<T>(&mut self, field: impl Into<String>, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(description) => {
                self.0.push(Violation::new(field, description));
                None
            }
        }
    }

    /// Records a violation.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(Violation::new(field, description));
    }

    /// Records several violations.
    pub fn extend(&mut self, violations: impl IntoIterator<Item = Violation>) {
        self.0.extend(violations);
    }

    /// INVALID_ARGUMENT with every violation, if there is any.
    ///
    /// (See also `From<Vec<Violation>>`.)
    pub fn finish(self) -> Result<()> {
        if self.0.is_empty() { Ok(()) } else { Err(Error::InvalidArgument(self.0)) }
    }
}

impl From<Vec<Violation>> for Violations {
    fn from(violations: Vec<Violation>) -> Self {
        Self(violations)
    }
}

/// Checks an AIP-155 request identifier: optional, at most 128 printable ASCII characters.
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

/// Parses a resource name `{collection}/{id}` whose id is a positive integer, such as
/// `units/42` for the collection `units`.
pub fn parse_id(name: &str, collection: &str) -> Result<i64, String> {
    if name.is_empty() {
        return Err("is required".to_owned());
    }
    name.strip_prefix(collection)
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|id| id.bytes().all(|b| b.is_ascii_digit()) && !id.starts_with('0'))
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or_else(|| format!("`{name}` is not a name of the form `{collection}/{{id}}` with a positive integer id"))
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
                        format!("`{other}` cannot be updated; updatable fields are {}", allowed.join(", ")),
                    ),
                }
            }
        }
    }
    paths
}

pub use crate::domain::etag;

/// An optional etag from a request: empty is `None`.
pub fn given_etag(value: &str) -> Option<&str> {
    Some(value).filter(|e| !e.is_empty())
}

/// A required field of a request.
pub fn required<T>(value: Option<T>, field: &str) -> Result<T> {
    value.ok_or_else(|| Error::invalid(field, "is required"))
}

/// ABORTED when the caller sent an etag that is not the record's current one.
pub fn check_etag(given: &str, revision: i64, name: &str) -> Result<()> {
    match given_etag(given) {
        Some(e) if e != etag(revision) => {
            Err(Error::Aborted(format!("{name} changed since it was read (etag {e}, now {})", etag(revision))))
        }
        _ => Ok(()),
    }
}

/// The request identifier and body digest of a create request (AIP-155); `clear`
/// removes the identifier from the body before it is digested.
pub fn idempotency<M: prost::Message + Clone>(
    request_id: Option<String>,
    request: &M,
    clear: impl FnOnce(&mut M),
) -> Option<(String, String)> {
    let mut body = request.clone();
    clear(&mut body);
    request_id.map(|r| (r, fingerprint(&body)))
}

/// The resource an earlier request with the same identifier created, if any; a reuse of
/// the identifier for another request is INVALID_ARGUMENT.
pub async fn replayed(
    db: &sea_orm::DatabaseConnection,
    method: &str,
    idem: Option<&(String, String)>,
) -> Result<Option<String>> {
    match idem {
        Some((request_id, fingerprint)) => {
            crate::store::audit::replayed(db, method, Some(request_id.as_str()), fingerprint).await
        }
        None => Ok(None),
    }
}

/// Remembers a create request's identifier with the resource it made, in the writer's
/// transaction.
pub async fn remember(
    txn: &sea_orm::DatabaseTransaction,
    method: &str,
    idem: Option<&(String, String)>,
    resource: &str,
) -> Result<()> {
    match idem {
        Some((request_id, fingerprint)) => {
            crate::store::audit::remember_request(txn, method, request_id, fingerprint, resource).await
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_integers_under_their_collection() {
        assert_eq!(parse_id("units/42", "units"), Ok(42));
        assert!(parse_id("units/0", "units").is_err());
        assert!(parse_id("units/-1", "units").is_err());
        assert!(parse_id("units/x", "units").is_err());
        assert!(parse_id("people/42", "units").is_err());
        assert!(parse_id("units42", "units").is_err());
        assert!(parse_id("units/+5", "units").is_err());
        assert!(parse_id("units/007", "units").is_err());
        assert!(parse_id("", "units").is_err());
    }

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
}

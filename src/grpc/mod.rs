//! The gRPC surface: generated types, and one module per service whose handlers
//! validate, convert, call the store and convert back.

pub mod convert;
pub mod locality;

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
    pub fn finish(self) -> Result<()> {
        if self.0.is_empty() { Ok(()) } else { Err(Error::InvalidArgument(self.0)) }
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

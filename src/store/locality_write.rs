//! The locality writes moved to [`crate::localities`], which take per-caller request
//! keys through the unit of work; what is left here serves the writes not yet
//! converted.

pub use crate::domain::etag;

/// Idempotency of a create-like request (AIP-155), for the writes not yet converted to
/// the unit of work.
#[derive(Debug, Clone)]
pub struct Idempotency {
    /// The caller's request identifier, if it gave one.
    pub request_id: Option<String>,
    /// Digest of the request body without its identifier.
    pub fingerprint: String,
}

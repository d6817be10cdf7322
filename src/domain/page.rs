//! Paging (AIP-158): page sizes and opaque page tokens that resume after a key.
//!
//! A token records the sort key of the last item returned and a fingerprint of the
//! request's other parameters. Resuming after a key (rather than at an offset) keeps
//! pages stable while rows are inserted; the fingerprint rejects a token replayed with
//! another filter, order or date.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Page size when the request gives none.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
/// Largest page; larger requests are lowered to it.
pub const MAX_PAGE_SIZE: u64 = 1000;

/// The page size to use for a requested `page_size`.
pub fn page_size(requested: i32) -> Result<u64, String> {
    match requested {
        n if n < 0 => Err("must not be negative".to_owned()),
        0 => Ok(DEFAULT_PAGE_SIZE),
        n => Ok(u64::try_from(n).unwrap_or(MAX_PAGE_SIZE).min(MAX_PAGE_SIZE)),
    }
}

/// A short, stable digest of the parameters a token is valid for.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hasher.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect()
}

#[derive(Serialize, Deserialize)]
struct Token {
    f: String,
    k: Vec<String>,
}

/// Encodes a token that resumes after the sort key `after`.
pub fn encode(fingerprint: &str, after: Vec<String>) -> String {
    let token = Token { f: fingerprint.to_owned(), k: after };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).unwrap_or_default())
}

/// Decodes a token, checking it was issued for the same parameters. An empty token
/// starts at the beginning (`None`).
pub fn decode(token: &str, fingerprint: &str) -> Result<Option<Vec<String>>, String> {
    if token.is_empty() {
        return Ok(None);
    }
    let token: Token = URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| "is not a page token issued by this service".to_owned())?;
    if token.f != fingerprint {
        return Err("was issued for a request with other parameters (filter, order_by, date or parent)".to_owned());
    }
    Ok(Some(token.k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_default_and_cap() {
        assert_eq!(page_size(0), Ok(DEFAULT_PAGE_SIZE));
        assert_eq!(page_size(7), Ok(7));
        assert_eq!(page_size(5000), Ok(MAX_PAGE_SIZE));
        assert!(page_size(-1).is_err());
    }

    #[test]
    fn tokens_round_trip_for_the_same_parameters_only() {
        let f = fingerprint(&["parent", "tier = COMMUNE"]);
        let token = encode(&f, vec!["00004".to_owned()]);
        assert_eq!(decode(&token, &f), Ok(Some(vec!["00004".to_owned()])));
        assert!(decode(&token, &fingerprint(&["parent", "tier = DISTRICT"])).is_err());
        assert!(decode("not a token", &f).is_err());
        assert_eq!(decode("", &f), Ok(None));
    }
}

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

/// The page a list request asks for: its size, where it resumes, and the parameters
/// its tokens are bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Most items on the page.
    pub limit: u64,
    /// The sort key of the last item of the previous page, if the request resumes.
    pub after: Option<Vec<String>>,
    fingerprint: String,
}

impl Page {
    /// Reads a request's `page_size` and `page_token`; `params` are the request's other
    /// parameters (parent, filter, order, date), which a token is bound to. Violations
    /// are recorded under `page_size` and `page_token`.
    pub fn parse(v: &mut super::Violations, page_size: i32, page_token: &str, params: &[&str]) -> Option<Self> {
        let limit = v.check("page_size", self::page_size(page_size));
        let fingerprint = self::fingerprint(params);
        let after = v.check("page_token", decode(page_token, &fingerprint));
        Some(Self { limit: limit?, after: after?, fingerprint })
    }

    /// The last page's single integer key (an id), if the request resumes.
    pub fn after_id(&self) -> Result<Option<i64>, String> {
        match self.after.as_deref() {
            None => Ok(None),
            Some([id]) => id.parse().map(Some).map_err(|_| "is not a page token of this list".to_owned()),
            Some(_) => Err("is not a page token of this list".to_owned()),
        }
    }

    /// How many rows to fetch: one more than the page, to know whether another follows.
    pub fn fetch(&self) -> u64 {
        self.limit.saturating_add(1)
    }

    /// Cuts `rows` (fetched in key order, at most [`Self::fetch`]) to the page, with the
    /// token of the next page (empty on the last page); `key` is an item's sort key.
    pub fn cut<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> Vec<String>) -> (Vec<T>, String) {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        if rows.len() <= limit {
            return (rows, String::new());
        }
        rows.truncate(limit);
        let next = rows.last().map(|last| encode(&self.fingerprint, key(last))).unwrap_or_default();
        (rows, next)
    }
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
    fn a_page_cuts_its_rows_and_resumes_after_the_last_key() {
        let mut v = super::super::Violations::new();
        let page = Page::parse(&mut v, 2, "", &["units", "sector = HEALTH"]);
        assert!(v.is_empty());
        let page = page.expect("a page");
        assert_eq!((page.limit, page.fetch(), page.after_id()), (2, 3, Ok(None)));
        let (rows, next) = page.cut(vec![1, 2, 3], |r| vec![r.to_string()]);
        assert_eq!(rows, [1, 2]);
        let mut v = super::super::Violations::new();
        let resumed = Page::parse(&mut v, 2, &next, &["units", "sector = HEALTH"]).expect("resumed");
        assert_eq!(resumed.after_id(), Ok(Some(2)));
        let (rows, last) = resumed.cut(vec![3], |r| vec![r.to_string()]);
        assert_eq!((rows, last), (vec![3], String::new()));
        let mut v = super::super::Violations::new();
        assert!(Page::parse(&mut v, 2, &next, &["units", "sector = SCHOOL"]).is_none());
        assert!(Page::parse(&mut v, -1, "", &["units"]).is_none());
        assert!(v.finish().is_err());
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

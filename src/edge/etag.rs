//! Etags (AIP-154): a record's revision, quoted; an update or delete that sends a stale
//! one is ABORTED.

use crate::error::{Error, Result};

/// The etag of a record's revision.
pub fn etag(revision: i64) -> String {
    format!("\"{revision}\"")
}

/// ABORTED when the caller sent an etag (non-empty) that is not the record's current
/// one; `name` is the record's resource name.
pub fn check(given: &str, revision: i64, name: &str) -> Result<()> {
    if given.is_empty() || given == etag(revision) {
        Ok(())
    } else {
        Err(Error::Aborted(format!(
            "{name} changed since it was read (etag {given}, now {}); read it again",
            etag(revision)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_etag_aborts_and_an_absent_one_passes() {
        assert_eq!(etag(3), "\"3\"");
        assert!(check("", 3, "units/1").is_ok());
        assert!(check("\"3\"", 3, "units/1").is_ok());
        assert!(matches!(check("\"2\"", 3, "units/1"), Err(Error::Aborted(m)) if m.contains("units/1")));
    }
}

//! Field violations: a request's checks collect every bad field, then answer once.

use crate::error::{Error, Result, Violation};

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

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// INVALID_ARGUMENT with every violation, if there is any.
    pub fn finish(self) -> Result<()> {
        if self.0.is_empty() { Ok(()) } else { Err(Error::InvalidArgument(self.0)) }
    }

    /// INVALID_ARGUMENT with every violation recorded (for a request that cannot be
    /// checked further).
    pub fn into_error(self) -> Error {
        Error::InvalidArgument(self.0)
    }

    /// `value` when nothing was recorded, else INVALID_ARGUMENT with every violation.
    ///
    /// The usual end of a conversion: each field was checked with [`Self::check`] into
    /// an `Option`, and `build` assembles them once every check passed (so its
    /// `Option`s are all `Some`; a `None` there is a bug, answered INTERNAL).
    pub fn into_result<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T> {
        self.finish()?;
        build().ok_or_else(|| Error::internal("a checked request lacks a field that passed its checks"))
    }
}

impl From<Vec<Violation>> for Violations {
    fn from(violations: Vec<Violation>) -> Self {
        Self(violations)
    }
}

/// A required field of a request.
pub fn required<T>(value: Option<T>, field: &str) -> Result<T> {
    value.ok_or_else(|| Error::invalid(field, "is required"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_violation_is_answered_at_once_and_a_clean_request_builds() {
        let mut v = Violations::new();
        let a = v.check("a", Ok::<_, String>(1));
        let b: Option<i32> = v.check("b", Err("bad b".to_owned()));
        v.add("c", "bad c");
        match v.into_result(|| Some((a?, b?))) {
            Err(Error::InvalidArgument(violations)) => {
                assert_eq!(violations.iter().map(|v| v.field.as_str()).collect::<Vec<_>>(), ["b", "c"]);
            }
            other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
        }
        let mut v = Violations::new();
        let a = v.check("a", Ok::<_, String>(1));
        assert_eq!(v.into_result(|| Some(a? + 1)).ok(), Some(2));
    }
}

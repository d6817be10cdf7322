//! Shim: the training rules moved to [`crate::training::rules`]; this keeps the
//! reports' imports (and their `as_str`/`from_db` calls) compiling until they move too.

use crate::edge::enums::Table as _;
pub use crate::training::rules::{EnrollmentStatus, PlanStatus, ProgrammeKind, in_period, percent_of_plan};

impl EnrollmentStatus {
    /// The stored name (shim for `stored`).
    pub fn as_str(self) -> &'static str {
        self.stored()
    }

    /// The status stored under `name` (shim for `from_stored`).
    pub fn from_db(name: &str) -> Option<Self> {
        Self::from_stored(name)
    }
}

impl ProgrammeKind {
    /// The stored name (shim for `stored`).
    pub fn as_str(self) -> &'static str {
        self.stored()
    }

    /// The kind stored under `name` (shim for `from_stored`).
    pub fn from_db(name: &str) -> Option<Self> {
        Self::from_stored(name)
    }
}

//! The messages of an ImportPeople stream in, and its answer out.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{IdentifiedRecord, record_in};
use crate::{
    edge::{Violations, names::PersonName},
    error::{Error, Violation},
    grpc::pb,
};

/// Most records one ImportPeople stream may carry.
pub const MAX_IMPORT_RECORDS: usize = 250_000;

/// How records of people already recorded are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every record creates a person.
    Create,
    /// A record whose personal_id is recorded updates that person.
    Upsert,
}

impl Mode {
    /// The mode a message sets; UNSPECIFIED is CREATE.
    pub fn parse(value: i32) -> Result<Self, String> {
        match pb::ImportMode::try_from(value).map_err(|_| format!("{value} is not an ImportMode"))? {
            pb::ImportMode::Unspecified | pb::ImportMode::Create => Ok(Self::Create),
            pb::ImportMode::Upsert => Ok(Self::Upsert),
        }
    }

    /// The proto name of the mode.
    pub fn name(self) -> &'static str {
        match self {
            Self::Create => "IMPORT_MODE_CREATE",
            Self::Upsert => "IMPORT_MODE_UPSERT",
        }
    }
}

/// One message of the stream, read.
#[derive(Debug)]
pub struct ImportMessage {
    /// The mode it sets (`None`: unspecified).
    pub mode: Option<Mode>,
    /// Whether it asks for a check only.
    pub validate_only: bool,
    /// Its record, checked without the database; `None` where it could not be read.
    pub record: Option<IdentifiedRecord>,
    /// What is wrong with the record.
    pub violations: Vec<Violation>,
}

impl ImportMessage {
    /// Reads a message; INVALID_ARGUMENT only for a mode that is not one.
    pub fn read(message: pb::ImportPeopleRequest, today: NaiveDate) -> Result<Self, Error> {
        let pb::ImportPeopleRequest { record, mode, validate_only } = message;
        let mode = match Mode::parse(mode).map_err(|e| Error::invalid("mode", e))? {
            _ if mode == pb::ImportMode::Unspecified as i32 => None,
            mode => Some(mode),
        };
        let mut v = Violations::new();
        let record = match record {
            Some(r) => record_in(&mut v, r, "record", today),
            None => {
                v.add("record", "is required");
                None
            }
        };
        let violations = match v.finish() {
            Err(Error::InvalidArgument(violations)) => violations,
            _ => Vec::new(),
        };
        Ok(Self { mode, validate_only, record, violations })
    }
}

/// What an import did, or would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportAnswer {
    /// Records received.
    pub received: usize,
    /// The person of each record, in stream order (empty unless written).
    pub people: Vec<i64>,
    /// Why records were rejected, by stream index (then nothing was written).
    pub rejected: BTreeMap<usize, Vec<Violation>>,
    /// People created.
    pub created: usize,
    /// People updated.
    pub updated: usize,
    /// People matched and unchanged.
    pub unchanged: usize,
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl From<ImportAnswer> for pb::ImportPeopleResponse {
    fn from(answer: ImportAnswer) -> Self {
        let ImportAnswer { received, people, rejected, created, updated, unchanged } = answer;
        pb::ImportPeopleResponse {
            received_count: count(received),
            imported_count: count(people.len()),
            rejected: rejected
                .into_iter()
                .map(|(index, violations)| pb::RejectedRecord {
                    index: count(index),
                    violations: violations
                        .into_iter()
                        .map(|v| pb::RecordViolation {
                            field: v.field.strip_prefix("record.").unwrap_or(&v.field).to_owned(),
                            description: v.description,
                        })
                        .collect(),
                })
                .collect(),
            people: people.into_iter().map(|id| PersonName(id).to_string()).collect(),
            created_count: count(created),
            updated_count: count(updated),
            unchanged_count: count(unchanged),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_with_create_as_the_default() {
        assert_eq!(Mode::parse(0), Ok(Mode::Create));
        assert_eq!(Mode::parse(1), Ok(Mode::Create));
        assert_eq!(Mode::parse(2), Ok(Mode::Upsert));
        assert!(Mode::parse(9).is_err());
    }
}

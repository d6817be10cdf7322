//! The one error type of the service and its one mapping to `tonic::Status`.

use std::ops::Deref;

use sea_orm::{DbErr, RuntimeErr, SqlErr};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, PreconditionViolation, StatusExt};

mod quote;

use quote::cap;
pub use quote::{Quoted, quote};

/// A bad field in a request: its path (`locality.versions[0].valid_from`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Path of the field in the request, in proto field names.
    pub field: String,
    /// What is wrong with it, for a person to read.
    pub description: String,
}

impl Violation {
    /// A violation of `field`.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self { field: field.into(), description: description.into() }
    }
}

/// A rule of the records that a request would break: the subject it is about and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleViolation {
    /// Resource the rule is about, such as `localities/001`.
    pub subject: String,
    /// What the rule requires, for a person to read.
    pub description: String,
}

/// Everything that can go wrong in a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request has bad fields; nothing was changed.
    #[error("invalid argument: {}", summarize(.0.iter().map(|v| format!("{}: {}", v.field, v.description))))]
    InvalidArgument(Vec<Violation>),
    /// The named resource does not exist (or not on the date asked).
    #[error("{0} not found")]
    NotFound(String),
    /// A resource with that name exists already.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The request is well formed but breaks a rule of the records as they are.
    #[error("{}", summarize(.0.iter().map(|v| format!("{}: {}", v.subject, v.description))))]
    FailedPrecondition(Vec<RuleViolation>),
    /// A concurrent change got there first (a stale etag); reading again may help.
    #[error("{0}")]
    Aborted(String),
    /// A concurrent transaction conflicted with this one (PostgreSQL serialization
    /// failure or deadlock, or the same request identifier in flight): the unit of
    /// work runs the request again, and answers ABORTED if it keeps conflicting.
    #[error("{0}")]
    Conflict(String),
    /// The caller lacks the role or the locality scope for this request.
    #[error("{0}")]
    PermissionDenied(String),
    /// The caller did not present a valid token.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller's deadline passed before the work could be committed.
    #[error("deadline exceeded before the request could complete")]
    DeadlineExceeded,
    /// The server or the caller's quota is out of room for now; retrying later may help.
    #[error("{0}")]
    ResourceExhausted(String),
    /// The database cannot be reached or is overloaded; retrying may help.
    #[error("database unavailable")]
    Unavailable(#[source] DbErr),
    /// Anything else: logged in full once, answered opaquely.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// The result type of the service.
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn summarize(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join("; ")
}

impl Error {
    /// One violation of one field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::InvalidArgument(vec![Violation::new(field, description)])
    }

    /// One broken rule about one subject.
    pub fn precondition(subject: impl Into<String>, description: impl Into<String>) -> Self {
        Self::FailedPrecondition(vec![RuleViolation { subject: subject.into(), description: description.into() }])
    }

    /// An internal error with a message for the log (never for the caller).
    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self::Internal(anyhow::anyhow!("{message}"))
    }
}

/// Unique indexes whose violation says what is taken instead of "a record with the same
/// key", matched in the database's message (SQLite names the column, PostgreSQL the
/// index). Neither says who holds the value.
const UNIQUE_KEYS: &[(&str, &str)] =
    &[("personal_id", "a person with this personal_id"), ("staff_code_key", "a person with this staff_code")];

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(message)) => {
                let taken = UNIQUE_KEYS.iter().find(|(index, _)| message.contains(index));
                return Self::AlreadyExists(taken.map_or("a record with the same key", |(_, what)| what).to_owned());
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                return Self::precondition(
                    "reference",
                    "the record is referenced by, or refers to, a record that does not allow it",
                );
            }
            _ => {}
        }
        match &err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => Self::Unavailable(err),
            DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
                match e.deref() {
                    sea_orm::sqlx::Error::Io(_)
                    | sea_orm::sqlx::Error::PoolTimedOut
                    | sea_orm::sqlx::Error::PoolClosed
                    | sea_orm::sqlx::Error::WorkerCrashed => Self::Unavailable(err),
                    sea_orm::sqlx::Error::Database(db) => match db.code().as_deref() {
                        // PostgreSQL: serialization failure, deadlock; an exclusion
                        // constraint checked at commit (`placements_no_overlap`), which
                        // only a concurrent writer can break past the in-transaction
                        // checks: run again, when the checks see the other write.
                        Some("40001") | Some("40P01") | Some("23P01") => {
                            Self::Conflict("a concurrent change conflicted with this one; retry".to_owned())
                        }
                        // SQLite: SQLITE_BUSY, SQLITE_LOCKED and their extended codes
                        // (SQLSTATEs always have five characters, SQLite codes fewer).
                        Some(code) if code.len() < 5 && is_sqlite_busy(code) => Self::Unavailable(err),
                        // PostgreSQL: connection exceptions, shutting down, too many connections.
                        Some(code) if code.starts_with("08") || code.starts_with("57P") || code == "53300" => {
                            Self::Unavailable(err)
                        }
                        _ => Self::Internal(err.into()),
                    },
                    _ => Self::Internal(err.into()),
                }
            }
            _ => Self::Internal(err.into()),
        }
    }
}

fn is_sqlite_busy(code: &str) -> bool {
    code.parse::<u32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6))
}

/// The most bytes of `grpc-message` an answer carries: the last guard against echoing a
/// caller's megabyte back as trailers (values are quoted short at the source, with
/// `error::quote`).
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// The most bytes of each field violation's field and description.
pub const MAX_DETAIL_BYTES: usize = 256;

impl From<Error> for Status {
    fn from(err: Error) -> Self {
        let message = cap(err.to_string(), MAX_MESSAGE_BYTES);
        match err {
            Error::InvalidArgument(violations) => {
                let mut details = ErrorDetails::new();
                details.set_bad_request(
                    violations
                        .into_iter()
                        .map(|v| {
                            FieldViolation::new(cap(v.field, MAX_DETAIL_BYTES), cap(v.description, MAX_DETAIL_BYTES))
                        })
                        .collect::<Vec<_>>(),
                );
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            Error::NotFound(_) => Status::not_found(message),
            Error::AlreadyExists(_) => Status::already_exists(message),
            Error::FailedPrecondition(violations) => {
                let mut details = ErrorDetails::new();
                details.set_precondition_failure(
                    violations
                        .into_iter()
                        .map(|v| {
                            PreconditionViolation::new(
                                "RULE",
                                cap(v.subject, MAX_DETAIL_BYTES),
                                cap(v.description, MAX_DETAIL_BYTES),
                            )
                        })
                        .collect::<Vec<_>>(),
                );
                Status::with_error_details(Code::FailedPrecondition, message, details)
            }
            Error::Aborted(_) | Error::Conflict(_) => Status::aborted(message),
            Error::PermissionDenied(_) => Status::permission_denied(message),
            Error::Unauthenticated(_) => Status::unauthenticated(message),
            Error::DeadlineExceeded => Status::deadline_exceeded(message),
            Error::ResourceExhausted(_) => Status::resource_exhausted(message),
            Error::Unavailable(source) => {
                tracing::warn!(error = %source, "database unavailable");
                Status::unavailable(message)
            }
            Error::Internal(source) => {
                tracing::error!(error = ?source, "internal error");
                Status::internal(message)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_carries_every_field_violation() {
        let status =
            Status::from(Error::InvalidArgument(vec![Violation::new("a", "bad a"), Violation::new("b.c", "bad c")]));
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let fields: Vec<_> = details
            .bad_request()
            .map(|br| br.field_violations.iter().map(|v| v.field.clone()).collect())
            .unwrap_or_default();
        assert_eq!(fields, vec!["a".to_owned(), "b.c".to_owned()]);
        assert!(status.message().contains("b.c: bad c"));
    }

    #[test]
    fn a_huge_message_or_description_is_cut_short() {
        let huge = "ắ".repeat(1_000_000);
        let status = Status::from(Error::invalid("q", huge.clone()));
        assert!(status.message().len() <= MAX_MESSAGE_BYTES, "{} bytes", status.message().len());
        let details = status.get_error_details();
        let described = details.bad_request().map(|br| br.field_violations[0].description.len());
        assert!(described.is_some_and(|n| n <= MAX_DETAIL_BYTES), "{described:?}");
        let status = Status::from(Error::NotFound(huge));
        assert!(status.message().len() <= MAX_MESSAGE_BYTES);
    }

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let status = Status::from(Error::internal("SELECT secret FROM t"));
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("SELECT"));
    }

    #[test]
    fn lost_connections_map_to_unavailable() {
        let err = Error::from(DbErr::Conn(RuntimeErr::Internal("refused".into())));
        assert_eq!(Status::from(err).code(), Code::Unavailable);
    }
}

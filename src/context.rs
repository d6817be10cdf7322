//! Who is calling and until when: the caller's identity, roles and locality scope
//! ([`Principal`]), and the [`RequestContext`] that authentication records for every
//! request. Plain data: the checks made with it are in [`crate::policy`].

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::{
    domain::locality::Code,
    error::{Error, Result},
};

/// What a caller may do, granted by the roles in its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads aggregate reports and the locality tree.
    AggregateReader,
    /// Reads person-level (personal) data.
    PersonalDataReader,
    /// Creates and changes records.
    Editor,
    /// Everything an editor and a personal-data reader may do, and administration.
    Admin,
}

/// The localities whose subtrees a caller may act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole country (token claim `localities: ["*"]`).
    National,
    /// The subtrees of these localities.
    Localities(BTreeSet<Code>),
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Who the caller is (the token's `sub`), recorded in the audit log.
    pub subject: String,
    /// Where the caller may act.
    pub scope: Scope,
    /// What the caller may do.
    pub roles: BTreeSet<Role>,
}

impl Principal {
    /// The caller of a server in development mode: national scope, every role.
    pub fn development() -> Self {
        Self { subject: "development".to_owned(), scope: Scope::National, roles: [Role::Admin].into_iter().collect() }
    }

    /// Whether the caller holds `role` (admins hold every role).
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role) || self.roles.contains(&Role::Admin)
    }
}

/// The kind of access a request needs to a locality's subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reading the locality tree or aggregates: any role.
    Read,
    /// Changing records: `editor` or `admin`.
    Write,
}

/// What the interceptor learns about a request before its handler runs.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The caller.
    pub principal: Principal,
    /// When the caller stops waiting (`grpc-timeout`), if it said.
    pub deadline: Option<Instant>,
    /// The caller's network address as the audit log records it (the socket's peer,
    /// or what a trusted TLS-terminating proxy says); `None` outside the network.
    pub peer: Option<String>,
    /// Where reads of personal data are audited when not in the database served (a
    /// read-only replica audits to its primary); `None`: the database served.
    pub audit: Option<sea_orm::DatabaseConnection>,
}

impl RequestContext {
    /// Fails with DEADLINE_EXCEEDED once the caller's deadline has passed; called before
    /// any write is committed, so that a caller that gave up never finds a change it
    /// was told failed.
    pub fn check_deadline(&self) -> Result<()> {
        match self.deadline {
            Some(deadline) if Instant::now() >= deadline => Err(Error::DeadlineExceeded),
            _ => Ok(()),
        }
    }

    /// The context the interceptor stored in a request.
    pub fn of<T>(request: &tonic::Request<T>) -> Result<Self> {
        request
            .extensions()
            .get::<Self>()
            .cloned()
            .ok_or_else(|| Error::internal("request reached a handler without passing the context interceptor"))
    }
}

/// What a request does with a person's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonAccess {
    /// Reading person-level data: `personal_data_reader` (or `admin`).
    ReadPersonal,
    /// Changing a person's records: `editor` (or `admin`).
    Write,
}

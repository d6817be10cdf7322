//! Localities: the dated tree of administrative units (`localities/{code}`): provinces,
//! districts and communes, each with versions over time (name, kind, parent), tags,
//! and succession links from reorganisations; and the caller scopes drawn on it.
//!
//! - [`api`]: LocalityService, thin handlers;
//! - [`wire`]: requests in (taken apart field by field) and localities out;
//! - [`usecases`]: create, get, list, ancestors, update, delete, through the unit of work;
//! - [`reorganize`]: a reorganisation on one date, through the unit of work;
//! - [`rules`]: codes, tiers, kinds, versions and the rules they obey (pure);
//! - [`queries`]: the tree's SQL, typed;
//! - [`scope`]: which localities lie within a caller's scope, in SQL;
//! - [`official_tree`]: the official tree of the whole country, read from its files,
//!   reconciled with the stored tree and written in bulk (`hrplan localities
//!   import-official`).

pub mod api;
pub mod official_tree;
pub mod queries;
pub mod reorganize;
pub mod rules;

pub mod usecases;
pub mod wire;

pub use api::LocalityApi;
pub use rules::{Code, Kind, LocalityRecord, SuccessionKind, Tier, Version};

//! hrplan: the records of Vietnamese public-sector cadre planning, and the aggregate
//! reports computed from them, served over gRPC.
//!
//! Layers: `grpc` (handlers: validate, convert, call, convert back), `domain` (rules,
//! no I/O), `store` (queries), `auth` (authentication and locality scope), `error`
//! (the one error type and its mapping to gRPC status), `exchange` (spreadsheets in
//! and out), `cli` (the subcommands beyond `serve`).

pub mod auth;
pub mod cli;
pub mod config;
pub mod context;
pub mod demo;
pub mod domain;
pub mod edge;
pub mod error;
pub mod exchange;
pub mod facts;
pub mod grpc;
pub mod localities;
pub mod movements;
pub mod people;
pub mod policy;
pub mod reports;
pub mod scales;
pub mod scope;
pub mod sql;
pub mod staffing;
pub mod standards;
pub mod startup;
pub mod store;
pub mod succession;
pub mod telemetry;
pub mod training;
pub mod units;
pub mod uow;

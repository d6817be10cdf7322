//! hrplan: the records of Vietnamese public-sector cadre planning, and the aggregate
//! reports computed from them, served over gRPC.
//!
//! Features, one folder each (`units` is the smallest; read it first): `localities`,
//! `units`, `scales`, `standards`, `staffing`, `people`, `training`, `movements`,
//! `succession`, `reports`. In each, `api` (the tonic service: convert, call one use
//! case, convert back), `wire` (requests destructured field by field, so a new proto
//! field does not compile until handled), `usecases` (every write through [`uow`]),
//! `rules` (pure, unit-tested in place) and `queries` (typed SQL). Features import
//! each other's rules and queries one way (people → units → localities, never back).
//!
//! Cross-cutting, imported by the features and importing none of them: [`uow`] (the
//! unit of work), [`context`] and [`policy`] (who calls and what they may do), [`auth`]
//! (tokens), [`scope`] (locality subtrees in SQL), [`error`] (the one error enum and
//! its one mapping to a gRPC status), [`edge`] (names, enum tables, filters, pages,
//! etags, request ids), [`sql`] (typed queries), [`facts`] (the person facts reports
//! count), [`domain`] (shared value types), [`grpc`] (the generated types), [`store`]
//! (connections and migrations). Around them: [`startup`] (the server, assembled from
//! one list of services), [`transport`] (TLS, connections, limits), [`config`],
//! [`telemetry`], [`cli`], [`exchange`]
//! (spreadsheets in), [`demo`].

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
#[doc(hidden)]
pub mod fuzzing;
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
pub mod transport;
pub mod units;
pub mod uow;

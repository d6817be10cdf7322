//! Reports (ReportService): the aggregate figures of a report scope — a locality's
//! subtree on a date, filtered, optionally broken down by child locality — computed
//! in the database, and the same reports as workbook or CSV files.
//!
//! - [`api`]: ReportService, thin handlers;
//! - [`wire`]: requests in (taken apart field by field, `ReportScope` included) and
//!   cells out;
//! - [`usecases`]: one function per report, each reading ONE read-only snapshot from
//!   the caller's authorisation to its last figure (read RPCs never write);
//! - [`rules`]: cells, percentages, suppression, compliance, activity figures (pure);
//! - [`queries`]: the scope's tree and population and their aggregates, typed SQL;
//! - [`engine`]: the same aggregates from the person facts held in memory as columns,
//!   kept in step with every committed write (the SQL stays as its oracle);
//! - [`files`]: a report as a table, written as XLSX or CSV.

pub mod api;
pub mod engine;
pub mod files;
pub mod queries;
pub mod rules;
pub mod usecases;
pub mod wire;

pub use api::ReportApi;

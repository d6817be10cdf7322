//! The subcommands of the `hrplan` binary beyond `serve`, `migrate` and `token`:
//! maintenance commands that work on the configured database (`localities
//! import-official`) and client commands that talk to a running server over gRPC
//! (`import`, `template`, `report`).

pub mod client;
pub mod import;
pub mod official;
pub mod progress;
pub mod reference;
pub mod report;
pub mod template;

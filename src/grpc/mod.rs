//! The wire: the types and services generated from `proto/hrplan/v1`, and the
//! descriptor set that reflection serves. Each feature converts its own messages
//! (`<feature>/wire.rs`); the pieces they share are in `crate::edge`.

/// Types and services generated from `proto/hrplan/v1`.
#[allow(clippy::all, clippy::pedantic, missing_docs, missing_debug_implementations)]
pub mod pb {
    tonic::include_proto!("hrplan.v1");
}

/// The encoded descriptor set of `proto/hrplan/v1`, served by reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/hrplan_descriptor.bin"));

pub mod codec;
pub mod inspect;

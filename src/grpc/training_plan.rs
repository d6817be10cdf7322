//! Shim: TrainingPlanService moved to [`crate::training`]; this keeps the reports'
//! imports compiling until they move too.

pub use crate::training::TrainingPlanApi;
use crate::{edge::enums::Table as _, grpc::pb};

/// The wire form of a programme kind.
pub(super) fn programme_kind_to_pb(value: crate::training::ProgrammeKind) -> pb::ProgrammeKind {
    value.to_wire()
}

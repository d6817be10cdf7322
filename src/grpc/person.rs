//! PersonService moved to [`crate::people`]; these paths stay for the services that
//! still import them (the lead removes them once they have moved).

pub use crate::people::{
    api::PersonApi,
    wire::{import::MAX_IMPORT_RECORDS, parse_level},
};
use crate::{domain::person::Category, edge::enums::Table as _, grpc::pb};

/// A required category.
pub fn category(value: i32) -> Result<Category, String> {
    Category::required(value)
}

/// The wire form of a category.
pub fn category_to_pb(value: Category) -> pb::PersonCategory {
    value.to_wire()
}

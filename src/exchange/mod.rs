//! Spreadsheets in: the personnel lists offices keep (the report workbooks boards send
//! up are written by `reports::files`).

pub mod error_book;
pub mod people_sheet;
pub mod sheet;
pub mod template;

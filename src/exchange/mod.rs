//! Spreadsheets in and out: the personnel lists offices keep and the report
//! workbooks boards send up.

pub mod error_book;
pub mod people_sheet;
pub mod sheet;
pub mod template;

//! Spreadsheets in and out: the personnel lists offices keep and the report
//! workbooks boards send up.

pub mod csv;
pub mod error_book;
pub mod people_sheet;
pub mod report_file;
pub mod report_sheets;
pub mod sheet;
pub mod template;
pub mod workbook;

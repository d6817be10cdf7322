//! Spreadsheets in and out: the personnel lists offices keep and the report
//! workbooks boards send up.

pub mod csv;
pub mod report_file;
pub mod report_sheets;
pub mod workbook;

//! Spreadsheets in and out: the personnel lists offices keep and the report
//! workbooks boards send up.

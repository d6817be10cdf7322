//! A report as a file to download: the table of [`sheets`] written as a workbook
//! ([`workbook`]) or CSV ([`csv`]), with its suggested name and media type.

pub mod csv;
pub mod sheets;
pub mod workbook;

use sheets::{Labels, Report, table};

/// The formats a report can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// An Office Open XML workbook.
    Xlsx,
    /// A CSV table (UTF-8 with BOM, `;`, decimal comma).
    Csv,
}

impl FileFormat {
    /// The file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Xlsx => "xlsx",
            Self::Csv => "csv",
        }
    }

    /// The media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// A report written as a file.
#[derive(Debug, Clone)]
pub struct ReportFile {
    /// The suggested file name, in ASCII. Example: `hoso-nhan-luc-11-2024-12-31.xlsx`.
    pub file_name: String,
    /// The media type.
    pub content_type: &'static str,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// Why a report could not be written (a bug, never the caller's mistake).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The workbook writer refused the table.
    #[error("writing the workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// The CSV writer failed.
    #[error("writing the CSV: {0}")]
    Csv(#[from] ::csv::Error),
}

/// Writes `report` in `format`.
pub fn render(report: &Report, labels: &Labels, format: FileFormat) -> Result<ReportFile, RenderError> {
    let table = table(report, labels);
    let bytes = match format {
        FileFormat::Xlsx => workbook::write(&table)?,
        FileFormat::Csv => csv::write(&table)?,
    };
    Ok(ReportFile {
        file_name: format!("{}.{}", table.file_stem, format.extension()),
        content_type: format.content_type(),
        bytes,
    })
}

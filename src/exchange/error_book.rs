//! The error workbook of a failed import: a copy of the imported sheet, every cell
//! as read, with a column "Lỗi" beside the data that says what is wrong with each
//! bad row, the bad cells filled red, the header frozen and filtered so that the bad
//! rows can be picked out.
//!
//! Written in rust_xlsxwriter's constant-memory mode: rows stream to a temporary
//! file as they are written, so the copy of a 100,000-row sheet costs no more memory
//! than one row. That mode needs rows written in order, which a copy does anyway.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use anyhow::Context as _;
use chrono::Datelike as _;
use rust_xlsxwriter::{Color, ExcelDateTime, Format, FormatBorder, Workbook};

use super::{
    people_sheet::{Layout, Problem, column_letter},
    sheet::{Cell, Grid},
};

/// The header of the error column.
pub const ERROR_HEADER: &str = "Lỗi";

/// Where the error workbook of `input` goes by default: beside it, `ds.xlsx` →
/// `ds.loi.xlsx` (also for a CSV input: the copy is always a workbook).
pub fn default_path(input: &Path) -> PathBuf {
    let stem = input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "import".to_owned());
    input.with_file_name(format!("{stem}.loi.xlsx"))
}

/// Excel's limits on a sheet name: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(name: &str) -> String {
    let cleaned: String =
        name.chars().map(|c| if "[]:*?/\\".contains(c) { '_' } else { c }).take(31).collect::<String>();
    let trimmed = cleaned.trim_matches('\'').trim();
    if trimmed.is_empty() { "Sheet1".to_owned() } else { trimmed.to_owned() }
}

/// Writes the copy of `grid` with the problems beside the data; the error column
/// is the first one right of every row's data.
pub fn write(path: &Path, grid: &Grid, layout: &Layout, problems: &[Problem]) -> anyhow::Result<()> {
    let mut by_row: BTreeMap<usize, Vec<&Problem>> = BTreeMap::new();
    for problem in problems {
        by_row.entry(problem.row).or_default().push(problem);
    }
    let bad_cells: BTreeSet<(usize, usize)> = problems.iter().filter_map(|p| p.column.map(|c| (p.row, c))).collect();
    let error_column = u16::try_from(grid.width()).context("the sheet is too wide for an error column")?;
    let last_row = u32::try_from(grid.rows.len().max(layout.header_row + 1)).context("the sheet has too many rows")?;

    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    sheet.set_name(sheet_name(&grid.sheet))?;
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let bad = Format::new().set_background_color(Color::RGB(0xFF_C7_CE)).set_font_color(Color::RGB(0x9C_00_06));
    let bad_date = bad.clone().set_num_format("dd/mm/yyyy");
    let header = Format::new().set_bold().set_text_wrap().set_border(FormatBorder::Thin);
    let error_header = header.clone().set_font_color(Color::RGB(0x9C_00_06));
    let error = Format::new().set_font_color(Color::RGB(0x9C_00_06)).set_text_wrap();
    // Text cells stay text: a personal identification number keeps its leading zeros.
    let text = Format::new().set_num_format("@");
    let bad_text = bad.clone().set_num_format("@");

    let header_row = u32::try_from(layout.header_row)?;
    sheet.set_column_width(error_column, 80)?;
    for column in 0..error_column {
        let width = if layout.column_at(usize::from(column)) { 18 } else { 10 };
        sheet.set_column_width(column, width)?;
    }
    for (r, cells) in grid.rows.iter().enumerate() {
        let row = u32::try_from(r)?;
        for (c, cell) in cells.iter().enumerate() {
            let column = u16::try_from(c)?;
            let is_bad = bad_cells.contains(&(r, c));
            let is_header = r == layout.header_row;
            match cell {
                Cell::Empty if is_bad => {
                    sheet.write_blank(row, column, &bad)?;
                }
                Cell::Empty => {}
                Cell::Text(t) if is_header => {
                    sheet.write_string_with_format(row, column, t, &header)?;
                }
                Cell::Text(t) => {
                    sheet.write_string_with_format(row, column, t, if is_bad { &bad_text } else { &text })?;
                }
                Cell::Number(n) => {
                    if is_bad {
                        sheet.write_number_with_format(row, column, *n, &bad)?;
                    } else {
                        sheet.write_number(row, column, *n)?;
                    }
                }
                Cell::Date(d) => {
                    let value = u16::try_from(d.year())
                        .ok()
                        .and_then(|y| ExcelDateTime::from_ymd(y, d.month() as u8, d.day() as u8).ok());
                    let format = if is_bad { &bad_date } else { &date };
                    match value {
                        Some(value) => sheet.write_datetime_with_format(row, column, &value, format)?,
                        None => sheet.write_string_with_format(row, column, cell.to_string(), format)?,
                    };
                }
                Cell::Bool(b) => {
                    sheet.write_boolean(row, column, *b)?;
                }
                Cell::Error(e) => {
                    sheet.write_string_with_format(row, column, e, if is_bad { &bad } else { &text })?;
                }
            }
        }
        if r == layout.header_row {
            sheet.write_string_with_format(row, error_column, ERROR_HEADER, &error_header)?;
        } else if let Some(problems) = by_row.get(&r) {
            let message = problems
                .iter()
                .map(|p| match p.column {
                    Some(c) => format!("{} ({}): {}", p.header, column_letter(c), p.message),
                    None => p.message.clone(),
                })
                .collect::<Vec<_>>()
                .join("\n");
            sheet.write_string_with_format(row, error_column, message, &error)?;
        }
    }
    sheet.set_freeze_panes(header_row + 1, 0)?;
    sheet.autofilter(header_row, 0, last_row.saturating_sub(1).max(header_row), error_column)?;
    workbook.save(path).with_context(|| format!("writing the error workbook {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_copy_goes_beside_the_input() {
        assert_eq!(default_path(Path::new("/tmp/ds.xlsx")), PathBuf::from("/tmp/ds.loi.xlsx"));
        assert_eq!(default_path(Path::new("ds.csv")), PathBuf::from("ds.loi.xlsx"));
    }

    #[test]
    fn sheet_names_keep_to_excel_limits() {
        assert_eq!(sheet_name("Danh sách [2024]"), "Danh sách _2024_");
        assert_eq!(sheet_name(&"x".repeat(40)).len(), 31);
        assert_eq!(sheet_name(""), "Sheet1");
    }
}
